//! The JSON API under `/api/v1`, described by the OpenAPI document at
//! `/api/v1/openapi.json`, which is generated from these handlers.

mod carts;
mod catalogue;
mod errors;
mod orders;

use actix_web::{web, HttpResponse};
use utoipa::OpenApi;

use crate::cors::CorsOrigins;

pub(crate) use errors::ApiError;

/// The OpenAPI document of `/api/v1`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Reliable Goods shop API",
        description = "Catalogue, carts and orders of the observability-first shop."
    ),
    paths(
        catalogue::list_categories,
        catalogue::list_products,
        catalogue::get_product,
        carts::create_cart,
        carts::get_cart,
        carts::add_item,
        carts::set_item,
        carts::remove_item,
        orders::place_order,
        orders::get_order,
    ),
    components(schemas(errors::ErrorBody))
)]
pub struct ApiDoc;

pub(super) fn configure(cfg: &mut web::ServiceConfig, cors: &CorsOrigins) {
    cfg.service(
        web::scope("/api/v1")
            .wrap(cors.middleware())
            .route("/openapi.json", web::get().to(openapi))
            .route("/categories", web::get().to(catalogue::list_categories))
            .route("/products", web::get().to(catalogue::list_products))
            .route("/products/{id}", web::get().to(catalogue::get_product))
            .route("/carts", web::post().to(carts::create_cart))
            .route("/carts/{cart_id}", web::get().to(carts::get_cart))
            .route("/carts/{cart_id}/items", web::post().to(carts::add_item))
            .route(
                "/carts/{cart_id}/items/{product_id}",
                web::put().to(carts::set_item),
            )
            .route(
                "/carts/{cart_id}/items/{product_id}",
                web::delete().to(carts::remove_item),
            )
            .route("/orders", web::post().to(orders::place_order))
            .route("/orders/{order_id}", web::get().to(orders::get_order)),
    );
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
