//! The API client: browses the JSON catalogue, builds a cart, places an order
//! with an `Idempotency-Key` (and replays it, which must not order twice), and
//! reads the order back.

use goose::prelude::*;
use serde_json::{json, Value};

use super::common::{self, Body};
use crate::routes;

#[derive(Debug, Clone, Default)]
pub(crate) struct ApiClient {
    category: Option<String>,
    /// Ids of in-stock products of the current category.
    products: Vec<String>,
    cart: Option<String>,
    /// Product ids in the cart, in the order they were added.
    in_cart: Vec<String>,
    order: Option<String>,
}

pub(crate) async fn on_start(user: &mut GooseUser) -> TransactionResult {
    common::start_user(user).await?;
    user.set_session_data(ApiClient::default());
    Ok(())
}

fn state(user: &mut GooseUser) -> &mut ApiClient {
    if user.get_session_data::<ApiClient>().is_none() {
        user.set_session_data(ApiClient::default());
    }
    user.get_session_data_unchecked_mut::<ApiClient>()
}

/// `GET /api/v1/categories`: picks a category with products.
pub(crate) async fn categories(user: &mut GooseUser) -> TransactionResult {
    let path = routes::API_CATEGORIES.pattern;
    let goose = common::send(user, &routes::API_CATEGORIES, path, Body::Empty, 200, &[]).await?;
    let body = common::json(user, goose).await?;
    let slugs: Vec<String> = body
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["product_count"].as_u64().unwrap_or(1) > 0)
        .filter_map(|c| c["slug"].as_str().map(str::to_string))
        .collect();
    state(user).category = Some(common::pick(&slugs).ok_or("no category listed")?);
    Ok(())
}

/// `GET /api/v1/products?category=…&page=1&per_page=12`.
pub(crate) async fn products(user: &mut GooseUser) -> TransactionResult {
    let category = state(user).category.clone().ok_or("no category picked")?;
    let path = format!("/api/v1/products?category={category}&page=1&per_page=12");
    let goose = common::send(user, &routes::API_PRODUCTS, &path, Body::Empty, 200, &[]).await?;
    let body = common::json(user, goose).await?;
    let ids: Vec<String> = body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["stock"].as_u64().unwrap_or(0) >= 2)
        .filter_map(|p| common::id_of(&p["id"]))
        .collect();
    if ids.is_empty() {
        return Err(format!("category {category} lists no product in stock").into());
    }
    state(user).products = ids;
    Ok(())
}

/// `GET /api/v1/products/{id}`.
pub(crate) async fn product(user: &mut GooseUser) -> TransactionResult {
    let id = common::pick(&state(user).products).ok_or("no product listed")?;
    let path = format!("/api/v1/products/{id}");
    let goose = common::send(user, &routes::API_PRODUCT, &path, Body::Empty, 200, &[]).await?;
    let body = common::json(user, goose).await?;
    if common::id_of(&body["id"]).as_deref() != Some(id.as_str()) {
        return Err(format!("asked for product {id}, got {}", body["id"]).into());
    }
    Ok(())
}

/// `POST /api/v1/carts`: 201 with a new, empty cart.
pub(crate) async fn create_cart(user: &mut GooseUser) -> TransactionResult {
    let path = routes::API_CART_CREATE.pattern;
    let route = &routes::API_CART_CREATE;
    let goose = common::send(user, route, path, Body::Empty, 201, &[]).await?;
    let body = common::json(user, goose).await?;
    let cart = common::id_of(&body["id"]).ok_or("the new cart has no id")?;
    let api = state(user);
    api.cart = Some(cart);
    api.in_cart.clear();
    Ok(())
}

/// `POST /api/v1/carts/{cart_id}/items`, twice: two different products.
pub(crate) async fn add_items(user: &mut GooseUser) -> TransactionResult {
    let cart = state(user).cart.clone().ok_or("no cart")?;
    let mut products = state(user).products.clone();
    products.truncate(2);
    for product in products {
        let path = format!("/api/v1/carts/{cart}/items");
        let item = json!({ "product_id": number_or_string(&product), "quantity": 1 });
        let route = &routes::API_CART_ADD;
        let goose = common::send(user, route, &path, Body::Json(item), 200, &[]).await?;
        let body = common::json(user, goose).await?;
        expect_item(&body, &product)?;
        state(user).in_cart.push(product);
    }
    Ok(())
}

/// `PUT /api/v1/carts/{cart_id}/items/{product_id}`: the first item to 2.
pub(crate) async fn change_quantity(user: &mut GooseUser) -> TransactionResult {
    let cart = state(user).cart.clone().ok_or("no cart")?;
    let product = state(user)
        .in_cart
        .first()
        .cloned()
        .ok_or("the cart is empty")?;
    let path = format!("/api/v1/carts/{cart}/items/{product}");
    let route = &routes::API_CART_ITEM_UPDATE;
    let body = Body::Json(json!({ "quantity": 2 }));
    let goose = common::send(user, route, &path, body, 200, &[]).await?;
    let body = common::json(user, goose).await?;
    let item = expect_item(&body, &product)?;
    if item["quantity"].as_u64() != Some(2) {
        return Err(format!(
            "quantity of {product} is {} after setting 2",
            item["quantity"]
        )
        .into());
    }
    Ok(())
}

/// `DELETE /api/v1/carts/{cart_id}/items/{product_id}`: the second item.
pub(crate) async fn remove_item(user: &mut GooseUser) -> TransactionResult {
    let cart = state(user).cart.clone().ok_or("no cart")?;
    let in_cart = state(user).in_cart.clone();
    let [_, .., last] = in_cart.as_slice() else {
        return Ok(());
    };
    let path = format!("/api/v1/carts/{cart}/items/{last}");
    let route = &routes::API_CART_ITEM_DELETE;
    let goose = common::send(user, route, &path, Body::Empty, 200, &[]).await?;
    let body = common::json(user, goose).await?;
    if find_item(&body, last).is_some() {
        return Err(format!("product {last} still in the cart after DELETE").into());
    }
    state(user).in_cart.pop();
    Ok(())
}

/// `GET /api/v1/carts/{cart_id}`.
pub(crate) async fn view_cart(user: &mut GooseUser) -> TransactionResult {
    let cart = state(user).cart.clone().ok_or("no cart")?;
    let path = format!("/api/v1/carts/{cart}");
    let goose = common::send(user, &routes::API_CART, &path, Body::Empty, 200, &[]).await?;
    let body = common::json(user, goose).await?;
    for product in state(user).in_cart.clone() {
        expect_item(&body, &product)?;
    }
    Ok(())
}

/// `POST /api/v1/orders` with an `Idempotency-Key`: 201; the same request
/// again answers 200 with the same order.
pub(crate) async fn place_order(user: &mut GooseUser) -> TransactionResult {
    let cart = state(user).cart.take().ok_or("no cart")?;
    let key = uuid_like();
    let email = format!("api{}@example.com", user.weighted_users_index);
    let order = json!({
        "cart_id": cart,
        "name": "Load Test Client",
        "email": email,
        "address": "1 Loopback Lane, Localhost 127",
    });
    let headers = [("Idempotency-Key", key.as_str())];
    let path = routes::API_ORDER_CREATE.pattern;
    let route = &routes::API_ORDER_CREATE;
    let goose = common::send(user, route, path, Body::Json(order.clone()), 201, &headers).await?;
    let placed = common::json(user, goose).await?;
    let id = common::id_of(&placed["id"]).ok_or("the new order has no id")?;

    let goose = common::send(user, route, path, Body::Json(order), 200, &headers).await?;
    let replayed = common::json(user, goose).await?;
    if common::id_of(&replayed["id"]).as_deref() != Some(id.as_str()) {
        return Err(format!("replaying order {id} gave order {}", replayed["id"]).into());
    }
    let api = state(user);
    api.order = Some(id);
    api.in_cart.clear();
    Ok(())
}

/// `GET /api/v1/orders/{id}`.
pub(crate) async fn view_order(user: &mut GooseUser) -> TransactionResult {
    let id = state(user).order.take().ok_or("no order placed")?;
    let path = format!("/api/v1/orders/{id}");
    let goose = common::send(user, &routes::API_ORDER, &path, Body::Empty, 200, &[]).await?;
    let body = common::json(user, goose).await?;
    if common::id_of(&body["id"]).as_deref() != Some(id.as_str()) {
        return Err(format!("asked for order {id}, got {}", body["id"]).into());
    }
    Ok(())
}

fn find_item<'a>(cart: &'a Value, product: &str) -> Option<&'a Value> {
    cart["items"]
        .as_array()?
        .iter()
        .find(|item| common::id_of(&item["product_id"]).as_deref() == Some(product))
}

fn expect_item<'a>(cart: &'a Value, product: &str) -> Result<&'a Value, Box<TransactionError>> {
    find_item(cart, product)
        .ok_or_else(|| format!("product {product} missing from the cart").into())
}

/// An id as the API takes it back: a number when it is one.
fn number_or_string(id: &str) -> Value {
    id.parse::<u64>().map_or_else(|_| json!(id), |n| json!(n))
}

/// A random idempotency key.
fn uuid_like() -> String {
    format!("loadgen-{:032x}", rand::random::<u128>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_go_back_as_numbers_when_they_are_numbers() {
        assert_eq!(number_or_string("12"), json!(12));
        assert_eq!(number_or_string("c0ffee-1"), json!("c0ffee-1"));
    }

    #[test]
    fn cart_items_are_found_by_product_id() {
        let cart = json!({ "items": [{ "product_id": 3, "quantity": 2 }] });
        assert_eq!(find_item(&cart, "3").unwrap()["quantity"], 2);
        assert!(find_item(&cart, "4").is_none());
        assert!(expect_item(&cart, "4").is_err());
    }
}
