use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::startup::AppState;

/// Liveness: the process answers.
pub(super) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Readiness: not draining, and the database answers.
pub(super) async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.readiness.is_draining() {
        return HttpResponse::ServiceUnavailable().json(json!({ "status": "draining" }));
    }
    match state.db.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Err(error) => HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "database unavailable", "error": error.to_string() })),
    }
}
