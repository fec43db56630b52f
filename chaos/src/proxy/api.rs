//! The HTTP API, route for route Toxiproxy's: `GET/POST /proxies`,
//! `POST /populate`, `GET/POST/PATCH/DELETE /proxies/{proxy}`,
//! `GET/POST /proxies/{proxy}/toxics`,
//! `GET/POST/PATCH/DELETE /proxies/{proxy}/toxics/{toxic}`, `POST /reset`,
//! `GET /version`, `GET /metrics`.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{Path, Request, State as Axum},
    http::{header, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::state::{ProxyUpdate, State, ToxicUpdate};
use crate::toxiproxy::{ApiError, NewProxy, Toxic};

type Shared = Axum<Arc<State>>;

pub(super) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/reset", post(reset))
        .route("/proxies", get(list).post(create))
        .route("/populate", post(populate))
        .route(
            "/proxies/{proxy}",
            get(show).post(update).patch(update).delete(delete),
        )
        .route("/proxies/{proxy}/toxics", get(toxics).post(add_toxic))
        .route(
            "/proxies/{proxy}/toxics/{toxic}",
            get(show_toxic)
                .post(update_toxic)
                .patch(update_toxic)
                .delete(delete_toxic),
        )
        .route("/version", get(version))
        .route("/metrics", get(metrics))
        .layer(middleware::from_fn(stop_browsers))
        .with_state(state)
}

/// As Toxiproxy does: a web page must not be able to take a link down by
/// posting to the API from a browser.
async fn stop_browsers(request: Request, next: Next) -> Response {
    let from_browser = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|ua| ua.to_str().ok())
        .is_some_and(|ua| ua.starts_with("Mozilla/"));
    if from_browser {
        return (StatusCode::FORBIDDEN, "User agent not allowed\n").into_response();
    }
    next.run(request).await
}

struct Failure(ApiError);

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Failure(error)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.0)).into_response()
    }
}

type Answer<T> = Result<T, Failure>;

fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, Failure> {
    serde_json::from_slice(bytes).map_err(|e| {
        Failure(ApiError {
            error: format!("bad request body: {e}"),
            status: 400,
        })
    })
}

async fn list(state: Shared) -> impl IntoResponse {
    Json(state.list())
}

async fn create(state: Shared, bytes: Bytes) -> Answer<impl IntoResponse> {
    let new: NewProxy = body(&bytes)?;
    Ok((StatusCode::CREATED, Json(state.create(new)?)))
}

/// Creates the proxies that do not exist and re-creates those whose listen
/// or upstream address changed.
async fn populate(state: Shared, bytes: Bytes) -> Answer<impl IntoResponse> {
    let wanted: Vec<NewProxy> = body(&bytes)?;
    let mut made = Vec::new();
    for new in wanted {
        match state.get(&new.name) {
            Ok(existing)
                if existing.upstream == new.upstream
                    && (new.listen.is_empty() || existing.listen == new.listen) =>
            {
                made.push(existing);
                continue;
            }
            Ok(_) => state.delete(&new.name)?,
            Err(_) => {}
        }
        made.push(state.create(new)?);
    }
    Ok((StatusCode::CREATED, Json(json!({ "proxies": made }))))
}

async fn show(state: Shared, Path(proxy): Path<String>) -> Answer<impl IntoResponse> {
    Ok(Json(state.get(&proxy)?))
}

async fn update(
    state: Shared,
    Path(proxy): Path<String>,
    bytes: Bytes,
) -> Answer<impl IntoResponse> {
    let update: ProxyUpdate = body(&bytes)?;
    Ok(Json(state.update(&proxy, update)?))
}

async fn delete(state: Shared, Path(proxy): Path<String>) -> Answer<StatusCode> {
    state.delete(&proxy)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn toxics(state: Shared, Path(proxy): Path<String>) -> Answer<impl IntoResponse> {
    Ok(Json(state.toxics(&proxy)?))
}

async fn add_toxic(
    state: Shared,
    Path(proxy): Path<String>,
    bytes: Bytes,
) -> Answer<impl IntoResponse> {
    // The proxy is looked up first, as Toxiproxy does: an unknown proxy is a
    // 404 whatever the body says.
    state.get(&proxy)?;
    let toxic: Toxic = body(&bytes)?;
    Ok(Json(state.add_toxic(&proxy, toxic)?))
}

async fn show_toxic(
    state: Shared,
    Path((proxy, toxic)): Path<(String, String)>,
) -> Answer<impl IntoResponse> {
    Ok(Json(state.toxic(&proxy, &toxic)?))
}

async fn update_toxic(
    state: Shared,
    Path((proxy, toxic)): Path<(String, String)>,
    bytes: Bytes,
) -> Answer<impl IntoResponse> {
    let update: ToxicUpdate = body(&bytes)?;
    Ok(Json(state.update_toxic(&proxy, &toxic, update)?))
}

async fn delete_toxic(
    state: Shared,
    Path((proxy, toxic)): Path<(String, String)>,
) -> Answer<StatusCode> {
    state.remove_toxic(&proxy, &toxic)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn reset(state: Shared) -> Answer<StatusCode> {
    state.reset()?;
    Ok(StatusCode::NO_CONTENT)
}

async fn version() -> impl IntoResponse {
    Json(json!({ "version": env!("CARGO_PKG_VERSION") }))
}

async fn metrics(state: Shared) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.render_metrics(),
    )
}
