use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{errors::ErrorBody, ApiError};
use crate::{
    checkout::{self, Attempt, CheckoutError, Placed, Refused},
    domain::ContactForm,
    state::AppState,
    storage::Order,
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
    let body = body.into_inner();
    // A header that is not text is as malformed as a short one.
    let key = req
        .headers()
        .get(IDEMPOTENCY_KEY)
        .map(|value| value.to_str().unwrap_or_default());
    let contact = ContactForm {
        name: body.name,
        email: body.email,
        address: body.address,
    };
    let attempt = Attempt {
        cart_id: Some(&body.cart_id),
        customer_id: None,
        contact: &contact,
        idempotency_key: key,
    };
    match checkout::place_order(&state, attempt).await {
        Ok(Placed::New(order)) => Ok(HttpResponse::Created().json(order)),
        Ok(Placed::Replayed(order)) => Ok(HttpResponse::Ok().json(order)),
        Err(CheckoutError::Storage(error)) => Err(error.into()),
        Err(CheckoutError::Refused(refused)) => Err(match refused {
            Refused::MalformedKey(why) => ApiError::BadRequest(format!("{IDEMPOTENCY_KEY} {why}")),
            Refused::Invalid(errors) => {
                ApiError::Invalid(errors.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }
            Refused::NoSuchCart => ApiError::NotFound(format!("no cart `{}`", body.cart_id)),
            Refused::EmptyCart => ApiError::Conflict("the cart is empty".into()),
            Refused::OutOfStock { product } => {
                ApiError::Conflict(format!("not enough stock of `{product}`"))
            }
            Refused::KeyReused => ApiError::Conflict(format!(
                "this {IDEMPOTENCY_KEY} was already used for another cart"
            )),
        }),
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
