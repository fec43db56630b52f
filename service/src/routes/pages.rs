//! Server-rendered pages for shoppers; usable without JavaScript.

mod account;
mod assets;
mod cart;
mod catalogue;
mod checkout;
mod errors;
mod session;

use actix_web::{web, HttpResponse};
use anyhow::Context;
use serde::Serialize;

pub(crate) use errors::PageError;
pub(crate) use session::ShopSession;

use crate::{state::AppState, storage::Category, templates};

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(catalogue::home))
        .route("/category/{slug}", web::get().to(catalogue::category))
        .route("/search", web::get().to(catalogue::search))
        .route("/product/{slug}", web::get().to(catalogue::product))
        .route("/cart", web::get().to(cart::view))
        .route("/cart/items", web::post().to(cart::add))
        .route("/cart/items/{product_id}", web::post().to(cart::update))
        .route(
            "/cart/items/{product_id}/remove",
            web::post().to(cart::remove),
        )
        .route("/checkout", web::get().to(checkout::form))
        .route("/checkout", web::post().to(checkout::place))
        .route("/orders/{id}", web::get().to(checkout::order))
        .route("/account/register", web::get().to(account::register_form))
        .route("/account/register", web::post().to(account::register))
        .route("/account/login", web::get().to(account::login_form))
        .route("/account/login", web::post().to(account::login))
        .route("/account/logout", web::post().to(account::logout))
        .route("/account/orders", web::get().to(account::orders))
        .route("/static/shop.css", web::get().to(assets::stylesheet))
        .route(
            "/images/products/{slug}",
            web::get().to(assets::product_image),
        );
}

/// What every page shows around its content: categories, cart size, who is
/// logged in, and the CSRF token for the header's forms.
#[derive(Serialize)]
pub(crate) struct Layout<'a> {
    categories: &'a [Category],
    cart_count: i64,
    customer: Option<String>,
    csrf_token: String,
}

impl<'a> Layout<'a> {
    /// Whether the page looks the same for every shopper but for its CSRF
    /// token: nobody logged in, nothing in the cart.
    fn is_anonymous_and_empty(&self) -> bool {
        self.customer.is_none() && self.cart_count == 0
    }

    pub(crate) async fn new(state: &'a AppState, session: &ShopSession) -> Result<Self, PageError> {
        let cart_count = match session.cart_id()? {
            Some(cart) => state.db.cart_item_count(&cart).await?,
            None => 0,
        };
        Ok(Layout {
            categories: &state.categories,
            cart_count,
            customer: session.customer_name()?,
            csrf_token: session.csrf_token()?,
        })
    }
}

/// A 200 page.
pub(crate) fn render(template: &str, context: impl Serialize) -> Result<HttpResponse, PageError> {
    render_with(actix_web::http::StatusCode::OK, template, context)
}

/// A page with another status, e.g. a form re-rendered with its errors.
pub(crate) fn render_with(
    status: actix_web::http::StatusCode,
    template: &str,
    context: impl Serialize,
) -> Result<HttpResponse, PageError> {
    let html =
        templates::render(template, context).with_context(|| format!("rendering {template}"))?;
    Ok(html_response(status, html))
}

fn html_response(status: actix_web::http::StatusCode, html: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(html)
}

/// 303 See Other: the answer to a successful form post.
pub(crate) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location))
        .finish()
}
