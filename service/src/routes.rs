//! HTTP routes: pages for shoppers, the JSON API and the admin port.

mod admin;
mod api;
mod extractors;
mod pages;

use actix_web::web;

use crate::cors::CorsOrigins;

pub use api::ApiDoc;

/// The public port: pages, static assets and `/api/v1` (cross-origin
/// access to the API as `cors` allows).
pub fn public(cfg: &mut web::ServiceConfig, cors: &CorsOrigins) {
    extractors::configure(cfg);
    pages::configure(cfg);
    api::configure(cfg, cors);
    cfg.default_service(web::to(extractors::not_found));
}

/// The admin port: health, readiness, metrics and the fault API.
pub fn admin(cfg: &mut web::ServiceConfig) {
    admin::configure(cfg);
}

/// Compares two secrets in time that depends only on their lengths.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
