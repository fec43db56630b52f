//! Checkout and the order page.

use actix_session::Session;
use actix_web::{http::StatusCode, web, HttpResponse};
use minijinja::context;
use serde::Deserialize;

use super::{cart::cart_page, render, render_with, see_other, Layout, PageError, ShopSession};
use crate::{
    checkout,
    contract::metrics::CheckoutFailure,
    domain::{ContactForm, ValidationErrors},
    startup::AppState,
    storage::{CartLine, PlaceOrder},
};

#[derive(Deserialize)]
pub(super) struct CheckoutForm {
    csrf_token: String,
    idempotency_key: String,
    #[serde(flatten)]
    contact: ContactForm,
}

#[derive(Deserialize)]
pub(super) struct OrderQuery {
    placed: Option<u8>,
}

/// A valid idempotency key: what a browser or client would generate.
pub(crate) fn valid_idempotency_key(key: &str) -> bool {
    (8..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

async fn lines(state: &AppState, session: &ShopSession) -> Result<Vec<CartLine>, PageError> {
    Ok(match session.cart_id()? {
        Some(cart) => state.db.cart_lines(&cart).await?,
        None => Vec::new(),
    })
}

#[allow(clippy::too_many_arguments)]
async fn checkout_page(
    state: &AppState,
    session: &ShopSession,
    status: StatusCode,
    lines: Vec<CartLine>,
    form: ContactForm,
    errors: ValidationErrors,
    error: Option<&str>,
    idempotency_key: &str,
) -> Result<HttpResponse, PageError> {
    let total_cents: i64 = lines.iter().map(|l| l.line_total_cents).sum();
    let layout = Layout::new(state, session).await?;
    render_with(
        status,
        "checkout.jinja",
        context! { layout, lines, total_cents, form, errors, error, idempotency_key },
    )
}

pub(super) async fn form(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    let session = ShopSession::from(session);
    let lines = lines(&state, &session).await?;
    if lines.is_empty() {
        return Ok(see_other("/cart"));
    }
    let mut form = ContactForm::default();
    if let Some(id) = session.customer_id()? {
        if let Some(customer) = state.db.customer_by_id(id).await? {
            form.name = customer.name;
            form.email = customer.email;
        }
    }
    // A fresh key per rendered form: a double-clicked or retried submit of
    // this form carries the same key and places one order.
    let key = uuid::Uuid::new_v4().to_string();
    checkout_page(
        &state,
        &session,
        StatusCode::OK,
        lines,
        form,
        ValidationErrors::new(),
        None,
        &key,
    )
    .await
}

pub(super) async fn place(
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<CheckoutForm>,
) -> Result<HttpResponse, PageError> {
    let session = ShopSession::from(session);
    session.verify_csrf(&form.csrf_token)?;
    let form = form.into_inner();
    let business = &state.metrics.business;
    if !valid_idempotency_key(&form.idempotency_key) {
        business.checkout_failed(CheckoutFailure::InvalidInput);
        return Err(PageError::BadRequest(
            "The form's order key is malformed; reload the checkout page.".into(),
        ));
    }
    let contact = match form.contact.validate() {
        Ok(contact) => contact,
        Err(errors) => {
            business.checkout_failed(CheckoutFailure::InvalidInput);
            let lines = lines(&state, &session).await?;
            return checkout_page(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                lines,
                form.contact,
                errors,
                Some("Please correct the highlighted fields."),
                &form.idempotency_key,
            )
            .await;
        }
    };
    let Some(cart) = session.cart_id()? else {
        business.checkout_failed(CheckoutFailure::EmptyCart);
        return cart_page(&state, &session, Some("Your cart is empty.".into())).await;
    };
    let customer = session.customer_id()?;
    let outcome =
        checkout::place_order(&state, &cart, customer, &contact, &form.idempotency_key).await?;
    match outcome {
        PlaceOrder::Placed(order) | PlaceOrder::Replayed(order) => {
            Ok(see_other(&format!("/orders/{}?placed=1", order.id)))
        }
        PlaceOrder::KeyReused => Err(PageError::BadRequest(
            "This order form was already used for another cart; reload the checkout page.".into(),
        )),
        PlaceOrder::EmptyCart => {
            cart_page(&state, &session, Some("Your cart is empty.".into())).await
        }
        PlaceOrder::OutOfStock { product } => {
            cart_page(
                &state,
                &session,
                Some(format!(
                    "Sorry, we do not have enough “{product}” in stock. Please lower the quantity."
                )),
            )
            .await
        }
    }
}

pub(super) async fn order(
    state: web::Data<AppState>,
    session: Session,
    id: web::Path<String>,
    query: web::Query<OrderQuery>,
) -> Result<HttpResponse, PageError> {
    let session = ShopSession::from(session);
    let order = state
        .db
        .order(&id)
        .await?
        .ok_or_else(|| PageError::NotFound("We have no order with this number.".into()))?;
    let layout = Layout::new(&state, &session).await?;
    render(
        "order.jinja",
        context! { layout, order, placed => query.placed == Some(1) },
    )
}
