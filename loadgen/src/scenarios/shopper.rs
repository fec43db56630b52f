//! The shopper: puts two products in the cart through the HTML forms, changes
//! a quantity, removes one, checks out with the form's CSRF token and
//! idempotency key, and reads the order page.
//!
//! The transactions run in the order they are registered, one purchase per
//! iteration; each reads what the previous one left in the session data.

use goose::prelude::*;

use super::common::{self, Body};
use crate::routes;

#[derive(Debug, Clone, Default)]
pub(crate) struct Shopper {
    products: Vec<String>,
    /// The CSRF token of the last form seen: the session's token.
    csrf_token: Option<String>,
    /// The product id of the last product page seen.
    viewed: Option<String>,
    /// Product ids put in the cart this iteration, in order.
    in_cart: Vec<String>,
    idempotency_key: Option<String>,
    order: Option<String>,
}

pub(crate) async fn on_start(user: &mut GooseUser) -> TransactionResult {
    common::start_user(user).await?;
    user.set_session_data(Shopper::default());
    Ok(())
}

fn state(user: &mut GooseUser) -> &mut Shopper {
    if user.get_session_data::<Shopper>().is_none() {
        user.set_session_data(Shopper::default());
    }
    user.get_session_data_unchecked_mut::<Shopper>()
}

fn remember_token(user: &mut GooseUser, html: &str) {
    if let Some(token) = common::form_value(html, "csrf_token") {
        state(user).csrf_token = Some(token);
    }
}

fn token(user: &mut GooseUser) -> Result<String, Box<TransactionError>> {
    state(user)
        .csrf_token
        .clone()
        .ok_or_else(|| "no CSRF token seen yet".into())
}

/// `GET /`: where the shopper finds products.
pub(crate) async fn home(user: &mut GooseUser) -> TransactionResult {
    let goose = common::send(user, &routes::HOME, "/", Body::Empty, 200, &[]).await?;
    let html = common::page(user, goose, "page-home").await?;
    let products = common::links(&html, "/product/");
    state(user).products = products;
    Ok(())
}

/// `GET /product/{slug}`: reads the add-to-cart form.
pub(crate) async fn view_product(user: &mut GooseUser) -> TransactionResult {
    if state(user).products.is_empty() {
        home(user).await?;
    }
    let slug = common::pick(&state(user).products).ok_or("the home page lists no product")?;
    let path = format!("/product/{slug}");
    let goose = common::send(user, &routes::PRODUCT, &path, Body::Empty, 200, &[]).await?;
    let html = common::page(user, goose, "page-product").await?;
    remember_token(user, &html);
    let product_id = common::form_value(&html, "product_id")
        .ok_or("the product page has no add-to-cart form")?;
    state(user).viewed = Some(product_id);
    Ok(())
}

/// `POST /cart/items` with the product just viewed: 303 to `/cart`.
pub(crate) async fn add_to_cart(user: &mut GooseUser) -> TransactionResult {
    let product_id = state(user)
        .viewed
        .take()
        .ok_or("no product viewed before adding to the cart")?;
    let csrf = token(user)?;
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("product_id", product_id.as_str()),
        ("quantity", "1"),
    ];
    let path = routes::CART_ADD.pattern;
    let goose = common::send(user, &routes::CART_ADD, path, Body::Form(&fields), 303, &[]).await?;
    common::redirect(user, goose, "/cart").await?;
    let cart = &mut state(user).in_cart;
    if !cart.contains(&product_id) {
        cart.push(product_id);
    }
    Ok(())
}

/// `GET /cart`.
pub(crate) async fn view_cart(user: &mut GooseUser) -> TransactionResult {
    let goose = common::send(user, &routes::CART, "/cart", Body::Empty, 200, &[]).await?;
    let html = common::page(user, goose, "page-cart").await?;
    remember_token(user, &html);
    Ok(())
}

/// `POST /cart/items/{product_id}`: the first item's quantity to 2.
pub(crate) async fn change_quantity(user: &mut GooseUser) -> TransactionResult {
    let Some(product_id) = state(user).in_cart.first().cloned() else {
        return Err("the cart is empty".into());
    };
    let csrf = token(user)?;
    let fields = [("csrf_token", csrf.as_str()), ("quantity", "2")];
    let path = format!("/cart/items/{product_id}");
    let route = &routes::CART_UPDATE;
    let goose = common::send(user, route, &path, Body::Form(&fields), 303, &[]).await?;
    common::redirect(user, goose, "/cart").await?;
    Ok(())
}

/// `POST /cart/items/{product_id}/remove`: the last item, when there are two.
pub(crate) async fn remove_item(user: &mut GooseUser) -> TransactionResult {
    let cart = state(user).in_cart.clone();
    let [_, .., last] = cart.as_slice() else {
        // One item only: keep it for the checkout.
        return Ok(());
    };
    let csrf = token(user)?;
    let fields = [("csrf_token", csrf.as_str())];
    let path = format!("/cart/items/{last}/remove");
    let route = &routes::CART_REMOVE;
    let goose = common::send(user, route, &path, Body::Form(&fields), 303, &[]).await?;
    common::redirect(user, goose, "/cart").await?;
    state(user).in_cart.pop();
    Ok(())
}

/// `GET /checkout`: reads the form's CSRF token and idempotency key.
pub(crate) async fn checkout_page(user: &mut GooseUser) -> TransactionResult {
    let path = routes::CHECKOUT_PAGE.pattern;
    let goose = common::send(user, &routes::CHECKOUT_PAGE, path, Body::Empty, 200, &[]).await?;
    let html = common::page(user, goose, "page-checkout").await?;
    remember_token(user, &html);
    let key = common::form_value(&html, "idempotency_key")
        .ok_or("the checkout form has no idempotency key")?;
    state(user).idempotency_key = Some(key);
    Ok(())
}

/// `POST /checkout`: 303 to `/orders/{id}`.
pub(crate) async fn place_order(user: &mut GooseUser) -> TransactionResult {
    let key = state(user)
        .idempotency_key
        .take()
        .ok_or("the checkout form was not read")?;
    if state(user).in_cart.is_empty() {
        return Err("nothing in the cart to check out".into());
    }
    let csrf = token(user)?;
    let email = format!("shopper{}@example.com", user.weighted_users_index);
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("idempotency_key", key.as_str()),
        ("name", "Load Test Shopper"),
        ("email", email.as_str()),
        ("address", "1 Loopback Lane, Localhost 127"),
    ];
    let path = routes::CHECKOUT.pattern;
    let goose = common::send(user, &routes::CHECKOUT, path, Body::Form(&fields), 303, &[]).await?;
    let order = common::redirect(user, goose, "/orders/").await?;
    let shopper = state(user);
    shopper.in_cart.clear();
    shopper.order = Some(order);
    Ok(())
}

/// `GET /orders/{id}`: the confirmation.
pub(crate) async fn view_order(user: &mut GooseUser) -> TransactionResult {
    let order = state(user).order.take().ok_or("no order placed")?;
    let goose = common::send(user, &routes::ORDER_PAGE, &order, Body::Empty, 200, &[]).await?;
    common::page(user, goose, "page-order").await?;
    Ok(())
}
