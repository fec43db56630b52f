//! Placing an order, with its business metrics recorded in one place for
//! both the checkout page and the API.

use crate::{
    contract::metrics::CheckoutFailure,
    startup::AppState,
    storage::{Contact, PlaceOrder, StorageError},
};

/// Places the order for everything in the cart and counts the outcome in
/// `shop_orders_placed_total`, `shop_order_revenue_total` or
/// `shop_checkout_failures_total`. A replay of an earlier order counts
/// nothing: it is the same order.
pub async fn place_order(
    state: &AppState,
    cart_id: &str,
    customer_id: Option<i64>,
    contact: &Contact,
    idempotency_key: &str,
) -> Result<PlaceOrder, StorageError> {
    let business = &state.metrics.business;
    let outcome = state
        .db
        .place_order(cart_id, customer_id, contact, idempotency_key)
        .await;
    let failure = match &outcome {
        Ok(PlaceOrder::Placed(order)) => {
            business.order_placed(order.total_cents, &order.currency);
            tracing::info!(order.id = %order.id, order.total_cents = order.total_cents, "order placed");
            None
        }
        Ok(PlaceOrder::Replayed(_)) => None,
        Ok(PlaceOrder::KeyReused) => Some(CheckoutFailure::InvalidInput),
        Ok(PlaceOrder::EmptyCart) => Some(CheckoutFailure::EmptyCart),
        Ok(PlaceOrder::OutOfStock { .. }) => Some(CheckoutFailure::OutOfStock),
        Err(e) => Some(failure_of(e)),
    };
    if let Some(reason) = failure {
        business.checkout_failed(reason);
    }
    outcome
}

/// The `reason` a database error gives a failed checkout.
pub fn failure_of(error: &StorageError) -> CheckoutFailure {
    if error.is_unavailable() {
        CheckoutFailure::DatabaseUnavailable
    } else {
        CheckoutFailure::Internal
    }
}
