use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{errors::ErrorBody, ApiError};
use crate::{
    checkout,
    contract::metrics::CheckoutFailure,
    domain::ContactForm,
    routes::pages::valid_idempotency_key,
    startup::AppState,
    storage::{Order, PlaceOrder},
};

/// Header that makes a retried order request place one order.
const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewOrder {
    cart_id: String,
    /// 1 to 100 characters.
    name: String,
    email: String,
    /// 5 to 300 characters.
    address: String,
}

/// Places an order for everything in a cart, in one transaction.
///
/// With an `Idempotency-Key` header, a retry with the same key and cart
/// returns the first order (200) instead of placing another.
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders",
    params(("Idempotency-Key" = Option<String>, Header, description = "8 to 255 printable characters, unique per order attempt")),
    request_body = NewOrder,
    responses(
        (status = 201, description = "The order was placed", body = Order),
        (status = 200, description = "A retry: the order placed earlier with this key", body = Order),
        (status = 400, description = "Malformed body or key", body = ErrorBody),
        (status = 404, description = "No such cart", body = ErrorBody),
        (status = 409, description = "Empty cart, not enough stock, or the key was used for another cart", body = ErrorBody),
        (status = 422, description = "Invalid name, email or address", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "Body not sent as application/json", body = ErrorBody),
    ))]
pub(super) async fn place_order(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<NewOrder>,
) -> Result<HttpResponse, ApiError> {
    let business = &state.metrics.business;
    let body = body.into_inner();
    let key = match req.headers().get(IDEMPOTENCY_KEY) {
        Some(value) => match value.to_str() {
            Ok(key) if valid_idempotency_key(key) => key.to_owned(),
            _ => {
                business.checkout_failed(CheckoutFailure::InvalidInput);
                return Err(ApiError::BadRequest(format!(
                    "{IDEMPOTENCY_KEY} must be 8 to 255 printable ASCII characters"
                )));
            }
        },
        None => uuid::Uuid::new_v4().to_string(),
    };
    let form = ContactForm {
        name: body.name,
        email: body.email,
        address: body.address,
    };
    let contact = form.validate().map_err(|errors| {
        business.checkout_failed(CheckoutFailure::InvalidInput);
        ApiError::Invalid(errors.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    })?;
    // A checkout that fails on the database before the order transaction
    // still counts against the checkout SLO.
    let exists = state
        .db
        .cart_exists(&body.cart_id)
        .await
        .inspect_err(|e| business.checkout_failed(checkout::failure_of(e)))?;
    if !exists {
        business.checkout_failed(CheckoutFailure::EmptyCart);
        return Err(ApiError::NotFound(format!("no cart `{}`", body.cart_id)));
    }
    let outcome = checkout::place_order(&state, &body.cart_id, None, &contact, &key).await?;
    match outcome {
        PlaceOrder::Placed(order) => Ok(HttpResponse::Created().json(order)),
        PlaceOrder::Replayed(order) => Ok(HttpResponse::Ok().json(order)),
        PlaceOrder::KeyReused => Err(ApiError::Conflict(format!(
            "this {IDEMPOTENCY_KEY} was already used for another cart"
        ))),
        PlaceOrder::EmptyCart => Err(ApiError::Conflict("the cart is empty".into())),
        PlaceOrder::OutOfStock { product } => Err(ApiError::Conflict(format!(
            "not enough stock of `{product}`"
        ))),
    }
}

/// An order.
#[utoipa::path(get, path = "/api/v1/orders/{order_id}", tag = "orders",
    params(("order_id" = String, Path, description = "Order id")),
    responses(
        (status = 200, description = "The order", body = Order),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    ))]
pub(super) async fn get_order(
    state: web::Data<AppState>,
    order_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let order = state
        .db
        .order(&order_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no order `{order_id}`")))?;
    Ok(HttpResponse::Ok().json(order))
}
