//! Checkout and the order page.

use actix_session::Session;
use actix_web::{http::StatusCode, web, HttpResponse};
use minijinja::context;
use serde::Deserialize;

use super::{cart::cart_page, render, render_with, see_other, Layout, PageError, ShopSession};
use crate::{
    checkout::{self, Attempt, CheckoutError, Placed, Refused},
    domain::{ContactForm, IdempotencyKey, ValidationErrors},
    state::AppState,
    storage::CartLine,
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
    let key = IdempotencyKey::generate();
    checkout_page(
        &state,
        &session,
        StatusCode::OK,
        lines,
        form,
        ValidationErrors::new(),
        None,
        key.as_str(),
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
    let cart = session.cart_id()?;
    let attempt = Attempt {
        cart_id: cart.as_deref(),
        customer_id: session.customer_id()?,
        contact: &form.contact,
        idempotency_key: Some(&form.idempotency_key),
    };
    let refused = match checkout::place_order(&state, attempt).await {
        Ok(Placed::New(order) | Placed::Replayed(order)) => {
            return Ok(see_other(&format!("/orders/{}?placed=1", order.id)))
        }
        Err(CheckoutError::Storage(error)) => return Err(error.into()),
        Err(CheckoutError::Refused(refused)) => refused,
    };
    match refused {
        Refused::MalformedKey(_) => Err(PageError::BadRequest(
            "The form's order key is malformed; reload the checkout page.".into(),
        )),
        Refused::Invalid(errors) => {
            let lines = lines(&state, &session).await?;
            checkout_page(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                lines,
                form.contact,
                errors,
                Some("Please correct the highlighted fields."),
                &form.idempotency_key,
            )
            .await
        }
        Refused::NoSuchCart | Refused::EmptyCart => {
            cart_page(&state, &session, Some("Your cart is empty.".into())).await
        }
        Refused::KeyReused => Err(PageError::BadRequest(
            "This order form was already used for another cart; reload the checkout page.".into(),
        )),
        Refused::OutOfStock { product } => {
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
