use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::{state::AppState, storage::StorageError};

/// Liveness: the process answers.
pub(super) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Readiness: not draining, and the database answers.
pub(super) async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match check(&state).await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Err(NotReady::Draining) => {
            HttpResponse::ServiceUnavailable().json(json!({ "status": "draining" }))
        }
        Err(NotReady::Database(error)) => HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "database unavailable", "error": error.to_string() })),
    }
}

/// Why the shop should get no traffic.
pub(super) enum NotReady {
    Draining,
    Database(StorageError),
}

/// The readiness check behind `/readyz` and the `shop_ready` gauge.
pub(super) async fn check(state: &AppState) -> Result<(), NotReady> {
    if state.readiness.is_draining() {
        return Err(NotReady::Draining);
    }
    state.db.ping().await.map_err(NotReady::Database)
}
