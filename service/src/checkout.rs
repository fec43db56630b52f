//! Checkout: the rules of placing an order and the counting of every
//! outcome, in one place for the checkout page and the API.

use crate::{
    contract::metrics::CheckoutFailure,
    domain::{ContactForm, IdempotencyKey, ValidationErrors},
    state::AppState,
    storage::{Order, PlaceOrder, StorageError},
};

/// One attempt to place an order, as submitted.
pub struct Attempt<'a> {
    /// The cart to order; `None` when the shopper has none yet.
    pub cart_id: Option<&'a str>,
    pub customer_id: Option<i64>,
    pub contact: &'a ContactForm,
    /// As submitted; `None` gets a fresh key, so such an attempt cannot be
    /// retried safely.
    pub idempotency_key: Option<&'a str>,
}

/// A placed order: new, or the one an earlier attempt with the same key
/// placed.
pub enum Placed {
    New(Order),
    Replayed(Order),
}

/// Why an attempt placed no order.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("the idempotency key {0}")]
    MalformedKey(String),
    #[error("the contact details are invalid")]
    Invalid(ValidationErrors),
    #[error("no such cart")]
    NoSuchCart,
    #[error("the cart is empty")]
    EmptyCart,
    #[error("not enough stock of `{product}`")]
    OutOfStock { product: String },
    #[error("the idempotency key was already used for another cart")]
    KeyReused,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Checks the attempt, places the order for everything in the cart in one
/// transaction, and counts the outcome in `shop_orders_placed_total`,
/// `shop_order_revenue_total` or `shop_checkout_failures_total`. A replay of
/// an earlier order counts nothing: it is the same order. A checkout that
/// fails on the database before the order transaction still counts against
/// the checkout SLO.
pub async fn place_order(state: &AppState, attempt: Attempt<'_>) -> Result<Placed, CheckoutError> {
    let business = &state.metrics.business;
    let outcome = checked_and_placed(state, attempt).await;
    match &outcome {
        Ok(Placed::New(order)) => {
            business.order_placed(order.total_cents, &order.currency);
            tracing::info!(order.id = %order.id, order.total_cents = order.total_cents, "order placed");
        }
        Ok(Placed::Replayed(_)) => {}
        Err(error) => business.checkout_failed(failure_of(error)),
    }
    outcome
}

async fn checked_and_placed(
    state: &AppState,
    attempt: Attempt<'_>,
) -> Result<Placed, CheckoutError> {
    let key = match attempt.idempotency_key {
        Some(key) => IdempotencyKey::parse(key).map_err(Refused::MalformedKey)?,
        None => IdempotencyKey::generate(),
    };
    let contact = attempt.contact.validate().map_err(Refused::Invalid)?;
    let cart_id = attempt.cart_id.ok_or(Refused::NoSuchCart)?;
    if !state.db.cart_exists(cart_id).await? {
        return Err(Refused::NoSuchCart.into());
    }
    match state
        .db
        .place_order(cart_id, attempt.customer_id, &contact, &key)
        .await?
    {
        PlaceOrder::Placed(order) => Ok(Placed::New(order)),
        PlaceOrder::Replayed(order) => Ok(Placed::Replayed(order)),
        PlaceOrder::KeyReused => Err(Refused::KeyReused.into()),
        PlaceOrder::EmptyCart => Err(Refused::EmptyCart.into()),
        PlaceOrder::OutOfStock { product } => Err(Refused::OutOfStock { product }.into()),
    }
}

/// The `reason` label of a failed checkout.
fn failure_of(error: &CheckoutError) -> CheckoutFailure {
    match error {
        CheckoutError::Refused(
            Refused::MalformedKey(_) | Refused::Invalid(_) | Refused::KeyReused,
        ) => CheckoutFailure::InvalidInput,
        CheckoutError::Refused(Refused::NoSuchCart | Refused::EmptyCart) => {
            CheckoutFailure::EmptyCart
        }
        CheckoutError::Refused(Refused::OutOfStock { .. }) => CheckoutFailure::OutOfStock,
        CheckoutError::Storage(e) if e.is_unavailable() => CheckoutFailure::DatabaseUnavailable,
        CheckoutError::Storage(_) => CheckoutFailure::Internal,
    }
}
