//! The fault API: bearer `SHOP_ADMIN_TOKEN`; 403 when no token is
//! configured, 401 when the request's token is missing or wrong.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::{
    contract::faults::{FaultCreated, FaultSpec},
    faults::validate,
    routes::same_secret,
    state::AppState,
    storage::StorageError,
};

/// The refusal for a request without the right token, if it lacks one.
fn refusal(state: &AppState, req: &HttpRequest) -> Option<HttpResponse> {
    let Some(expected) = state.admin_token.as_deref() else {
        return Some(HttpResponse::Forbidden().json(
            json!({ "error": "the fault API is disabled: set SHOP_ADMIN_TOKEN to enable it" }),
        ));
    };
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match presented {
        Some(token) if same_secret(token, expected) => None,
        _ => Some(
            HttpResponse::Unauthorized()
                .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
                .json(json!({ "error": "a valid bearer token is required" })),
        ),
    }
}

/// On PostgreSQL the faults are kept in the database, for every replica:
/// without it they can be neither read nor changed.
fn unavailable(error: &StorageError) -> HttpResponse {
    tracing::warn!(error = %error, "the fault API could not reach the database");
    HttpResponse::ServiceUnavailable().json(json!({
        "error": format!("the faults are kept in the database, which is unavailable: {error}")
    }))
}

fn bad_request(message: String) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({ "error": message }))
}

pub(super) async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    if let Some(denied) = refusal(&state, &req) {
        return denied;
    }
    let spec: FaultSpec =
        match serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(&body)) {
            Ok(spec) => spec,
            Err(error) => {
                let path = error.path().to_string();
                let inner = error.into_inner();
                return bad_request(if path == "." {
                    format!("invalid fault: {inner}")
                } else {
                    format!("invalid fault: {path}: {inner}")
                });
            }
        };
    if let Err(invalid) = validate(&spec) {
        return bad_request(format!("invalid fault: {invalid}"));
    }
    tracing::warn!(kind = spec.kind.as_str(), route = %spec.route, probability = spec.probability,
        duration_seconds = spec.duration_seconds, "fault injected");
    match state.db.add_fault(spec).await {
        Ok(id) => HttpResponse::Created().json(FaultCreated { id }),
        Err(error) => unavailable(&error),
    }
}

pub(super) async fn list(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if let Some(denied) = refusal(&state, &req) {
        return denied;
    }
    match state.db.active_faults().await {
        Ok(faults) => HttpResponse::Ok().json(faults),
        Err(error) => unavailable(&error),
    }
}

pub(super) async fn remove(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    if let Some(denied) = refusal(&state, &req) {
        return denied;
    }
    match state.db.remove_fault(&id).await {
        Ok(true) => {
            tracing::info!(id = %id, "fault cleared");
            HttpResponse::NoContent().finish()
        }
        Ok(false) => {
            HttpResponse::NotFound().json(json!({ "error": format!("no active fault `{id}`") }))
        }
        Err(error) => unavailable(&error),
    }
}

pub(super) async fn clear(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if let Some(denied) = refusal(&state, &req) {
        return denied;
    }
    match state.db.clear_faults().await {
        Ok(()) => {
            tracing::info!("all faults cleared");
            HttpResponse::NoContent().finish()
        }
        Err(error) => unavailable(&error),
    }
}
