//! The admin port: never exposed to shoppers.

mod faults;
mod health;

use actix_web::{web, HttpResponse};

use crate::state::AppState;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(metrics))
        .route("/admin/faults", web::post().to(faults::create))
        .route("/admin/faults", web::get().to(faults::list))
        .route("/admin/faults", web::delete().to(faults::clear))
        .route("/admin/faults/{id}", web::delete().to(faults::remove));
}

/// How long a scrape waits for the readiness check behind `shop_ready`.
const READINESS_AT_SCRAPE: std::time::Duration = std::time::Duration::from_millis(500);

/// The Prometheus exposition; gauges that mirror state are set here, at
/// scrape time, rather than on every request.
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    state.metrics.pool.set(state.db.pool_state());
    state.faults.export(&state.metrics.faults);
    // Bounded well below a scrape timeout: a database that does not answer
    // must read as not ready, never as a failed scrape (ShopDown).
    let ready = tokio::time::timeout(READINESS_AT_SCRAPE, health::check(&state))
        .await
        .is_ok_and(|check| check.is_ok());
    state.metrics.ready.set(i64::from(ready));
    match state.metrics.render() {
        Ok(text) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(text),
        Err(error) => {
            tracing::error!(%error, "encoding metrics failed");
            HttpResponse::InternalServerError().body("encoding metrics failed\n")
        }
    }
}
