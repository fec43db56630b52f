//! The cart page and its forms.

use actix_session::Session;
use actix_web::{web, HttpResponse};
use minijinja::context;
use serde::Deserialize;

use super::{see_other, Layout, PageError, ShopSession};
use crate::{domain::Quantity, state::AppState};

#[derive(Deserialize)]
pub(super) struct AddForm {
    csrf_token: String,
    product_id: i64,
    quantity: i64,
}

#[derive(Deserialize)]
pub(super) struct QuantityForm {
    csrf_token: String,
    quantity: i64,
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    csrf_token: String,
}

pub(super) async fn view(
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, PageError> {
    let session = ShopSession::from(session);
    cart_page(&state, &session, None).await
}

/// The cart page, with an optional error (e.g. from a failed checkout).
pub(super) async fn cart_page(
    state: &AppState,
    session: &ShopSession,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let lines = match session.cart_id()? {
        Some(cart) => state.db.cart_lines(&cart).await?,
        None => Vec::new(),
    };
    let total_cents: i64 = lines.iter().map(|l| l.line_total_cents).sum();
    let layout = Layout::new(state, session).await?;
    let status = if error.is_some() {
        actix_web::http::StatusCode::CONFLICT
    } else {
        actix_web::http::StatusCode::OK
    };
    super::render_with(
        status,
        "cart.jinja",
        context! { layout, lines, total_cents, error },
    )
}

/// The session's cart, made on first use (or again if it vanished).
async fn ensure_cart(state: &AppState, session: &ShopSession) -> Result<String, PageError> {
    if let Some(cart) = session.cart_id()? {
        if state.db.cart_exists(&cart).await? {
            return Ok(cart);
        }
    }
    let cart = state.db.create_cart().await?;
    session.set_cart_id(&cart)?;
    Ok(cart)
}

pub(super) async fn add(
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<AddForm>,
) -> Result<HttpResponse, PageError> {
    let session = ShopSession::from(session);
    session.verify_csrf(&form.csrf_token)?;
    let quantity = Quantity::to_add(form.quantity).map_err(PageError::BadRequest)?;
    if state.db.product_by_id(form.product_id).await?.is_none() {
        return Err(PageError::NotFound(format!(
            "There is no product number {}.",
            form.product_id
        )));
    }
    let cart = ensure_cart(&state, &session).await?;
    state
        .db
        .add_to_cart(&cart, form.product_id, quantity)
        .await?;
    state.metrics.business.cart_items_added(quantity.get());
    Ok(see_other("/cart"))
}

pub(super) async fn update(
    state: web::Data<AppState>,
    session: Session,
    product_id: web::Path<i64>,
    form: web::Form<QuantityForm>,
) -> Result<HttpResponse, PageError> {
    let session = ShopSession::from(session);
    session.verify_csrf(&form.csrf_token)?;
    let quantity = Quantity::to_set(form.quantity).map_err(PageError::BadRequest)?;
    if quantity.get() == 0 {
        if let Some(cart) = session.cart_id()? {
            state.db.remove_from_cart(&cart, *product_id).await?;
        }
        return Ok(see_other("/cart"));
    }
    if state.db.product_by_id(*product_id).await?.is_none() {
        return Err(PageError::NotFound(format!(
            "There is no product number {product_id}."
        )));
    }
    let cart = ensure_cart(&state, &session).await?;
    state
        .db
        .set_cart_quantity(&cart, *product_id, quantity)
        .await?;
    Ok(see_other("/cart"))
}

pub(super) async fn remove(
    state: web::Data<AppState>,
    session: Session,
    product_id: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    let session = ShopSession::from(session);
    session.verify_csrf(&form.csrf_token)?;
    if let Some(cart) = session.cart_id()? {
        state.db.remove_from_cart(&cart, *product_id).await?;
    }
    Ok(see_other("/cart"))
}
