use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{errors::ErrorBody, ApiError};
use crate::{contract::metrics::CURRENCY, domain::Quantity, state::AppState, storage::CartLine};

/// A cart and its lines at today's prices.
#[derive(Serialize, ToSchema)]
pub(super) struct Cart {
    id: String,
    items: Vec<CartLine>,
    total_cents: i64,
    currency: &'static str,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AddItem {
    product_id: i64,
    /// Units to add, 1 to 99.
    #[schema(minimum = 1, maximum = 99)]
    quantity: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SetQuantity {
    /// New quantity, 0 to 99; 0 removes the product.
    #[schema(minimum = 0, maximum = 99)]
    quantity: i64,
}

async fn cart(state: &AppState, id: String) -> Result<Cart, ApiError> {
    let items = state.db.cart_lines(&id).await?;
    let total_cents = items.iter().map(|l| l.line_total_cents).sum();
    Ok(Cart {
        id,
        items,
        total_cents,
        currency: CURRENCY,
    })
}

async fn existing_cart(state: &AppState, id: &str) -> Result<(), ApiError> {
    if state.db.cart_exists(id).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!("no cart `{id}`")))
    }
}

async fn existing_product(state: &AppState, id: i64) -> Result<(), ApiError> {
    match state.db.product_by_id(id).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::NotFound(format!("no product {id}"))),
    }
}

/// Creates an empty cart.
#[utoipa::path(post, path = "/api/v1/carts", tag = "carts",
    responses(
        (status = 201, description = "The new, empty cart", body = Cart),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    ))]
pub(super) async fn create_cart(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let id = state.db.create_cart().await?;
    Ok(HttpResponse::Created().json(cart(&state, id).await?))
}

/// A cart.
#[utoipa::path(get, path = "/api/v1/carts/{cart_id}", tag = "carts",
    params(("cart_id" = String, Path, description = "Cart id")),
    responses(
        (status = 200, description = "The cart", body = Cart),
        (status = 404, description = "No such cart", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    ))]
pub(super) async fn get_cart(
    state: web::Data<AppState>,
    cart_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    existing_cart(&state, &cart_id).await?;
    Ok(HttpResponse::Ok().json(cart(&state, cart_id.into_inner()).await?))
}

/// Adds units of a product (at most 99 of one product in all).
#[utoipa::path(post, path = "/api/v1/carts/{cart_id}/items", tag = "carts",
    params(("cart_id" = String, Path, description = "Cart id")),
    request_body = AddItem,
    responses(
        (status = 200, description = "The updated cart", body = Cart),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 404, description = "No such cart or product", body = ErrorBody),
        (status = 422, description = "Quantity out of range", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "Body not sent as application/json", body = ErrorBody),
    ))]
pub(super) async fn add_item(
    state: web::Data<AppState>,
    cart_id: web::Path<String>,
    body: web::Json<AddItem>,
) -> Result<HttpResponse, ApiError> {
    let quantity = Quantity::to_add(body.quantity).map_err(invalid_quantity)?;
    existing_cart(&state, &cart_id).await?;
    existing_product(&state, body.product_id).await?;
    state
        .db
        .add_to_cart(&cart_id, body.product_id, quantity)
        .await?;
    state.metrics.business.cart_items_added(quantity.get());
    Ok(HttpResponse::Ok().json(cart(&state, cart_id.into_inner()).await?))
}

/// Sets the quantity of a product; 0 removes it.
#[utoipa::path(put, path = "/api/v1/carts/{cart_id}/items/{product_id}", tag = "carts",
    params(("cart_id" = String, Path, description = "Cart id"), ("product_id" = i64, Path, description = "Product id")),
    request_body = SetQuantity,
    responses(
        (status = 200, description = "The updated cart", body = Cart),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 404, description = "No such cart or product", body = ErrorBody),
        (status = 422, description = "Quantity out of range", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "Body not sent as application/json", body = ErrorBody),
    ))]
pub(super) async fn set_item(
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
    body: web::Json<SetQuantity>,
) -> Result<HttpResponse, ApiError> {
    let (cart_id, product_id) = path.into_inner();
    let quantity = Quantity::to_set(body.quantity).map_err(invalid_quantity)?;
    existing_cart(&state, &cart_id).await?;
    existing_product(&state, product_id).await?;
    state
        .db
        .set_cart_quantity(&cart_id, product_id, quantity)
        .await?;
    Ok(HttpResponse::Ok().json(cart(&state, cart_id).await?))
}

/// Removes a product from the cart.
#[utoipa::path(delete, path = "/api/v1/carts/{cart_id}/items/{product_id}", tag = "carts",
    params(("cart_id" = String, Path, description = "Cart id"), ("product_id" = i64, Path, description = "Product id")),
    responses(
        (status = 200, description = "The updated cart", body = Cart),
        (status = 404, description = "No such cart", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    ))]
pub(super) async fn remove_item(
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (cart_id, product_id) = path.into_inner();
    existing_cart(&state, &cart_id).await?;
    state.db.remove_from_cart(&cart_id, product_id).await?;
    Ok(HttpResponse::Ok().json(cart(&state, cart_id).await?))
}

fn invalid_quantity(message: String) -> ApiError {
    ApiError::Invalid([("quantity".to_owned(), message)].into())
}
