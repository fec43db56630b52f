//! Every request the scenarios make, named by the shop's route pattern.
//!
//! A request's name in Goose's metrics is `"<METHOD> <pattern>"`, for example
//! `GET /product/{slug}`: the same pair the shop labels its request histogram
//! with (`http_request_method`, `http_route`), so a report row and a dashboard
//! series can be put side by side.

use goose::goose::GooseMethod;

/// What kind of request a route serves; the SLO gate picks requests by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    /// A server-rendered HTML page: the latency objective applies.
    Page,
    /// A form post answered with a redirect.
    Action,
    /// A JSON API call.
    Api,
    /// A stylesheet or image.
    Static,
}

/// One route of the shop, as the load generator requests it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    /// The route pattern, exactly as the shop's `http_route` label has it.
    pub pattern: &'static str,
    pub kind: RouteKind,
    /// Whether this request places an order (the checkout objective applies).
    pub checkout: bool,
}

/// The HTTP methods the scenarios use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    /// The method as the shop's `http_request_method` label and Goose's
    /// request names spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    pub(crate) fn http(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        }
    }

    pub(crate) fn goose(self) -> GooseMethod {
        match self {
            Method::Get => GooseMethod::Get,
            Method::Post => GooseMethod::Post,
            Method::Put => GooseMethod::Put,
            Method::Delete => GooseMethod::Delete,
        }
    }
}

impl Route {
    const fn new(method: Method, pattern: &'static str, kind: RouteKind) -> Self {
        Route {
            method,
            pattern,
            kind,
            checkout: false,
        }
    }

    const fn placing_orders(mut self) -> Self {
        self.checkout = true;
        self
    }

    /// The request's name in Goose's metrics and reports, and the transaction's
    /// name: `GET /product/{slug}`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method.as_str(), self.pattern)
    }
}

use Method::{Delete, Get, Post, Put};
use RouteKind::{Action, Api, Page, Static};

pub const HOME: Route = Route::new(Get, "/", Page);
pub const CATEGORY: Route = Route::new(Get, "/category/{slug}", Page);
pub const SEARCH: Route = Route::new(Get, "/search", Page);
pub const PRODUCT: Route = Route::new(Get, "/product/{slug}", Page);
pub const CART: Route = Route::new(Get, "/cart", Page);
pub const CART_ADD: Route = Route::new(Post, "/cart/items", Action);
pub const CART_UPDATE: Route = Route::new(Post, "/cart/items/{product_id}", Action);
pub const CART_REMOVE: Route = Route::new(Post, "/cart/items/{product_id}/remove", Action);
pub const CHECKOUT_PAGE: Route = Route::new(Get, "/checkout", Page);
pub const CHECKOUT: Route = Route::new(Post, "/checkout", Action).placing_orders();
pub const ORDER_PAGE: Route = Route::new(Get, "/orders/{id}", Page);
pub const STYLESHEET: Route = Route::new(Get, "/static/shop.css", Static);
pub const PRODUCT_IMAGE: Route = Route::new(Get, "/images/products/{slug}", Static);

pub const API_CATEGORIES: Route = Route::new(Get, "/api/v1/categories", Api);
pub const API_PRODUCTS: Route = Route::new(Get, "/api/v1/products", Api);
pub const API_PRODUCT: Route = Route::new(Get, "/api/v1/products/{id}", Api);
pub const API_CART_CREATE: Route = Route::new(Post, "/api/v1/carts", Api);
pub const API_CART: Route = Route::new(Get, "/api/v1/carts/{cart_id}", Api);
pub const API_CART_ADD: Route = Route::new(Post, "/api/v1/carts/{cart_id}/items", Api);
pub const API_CART_ITEM_UPDATE: Route =
    Route::new(Put, "/api/v1/carts/{cart_id}/items/{product_id}", Api);
pub const API_CART_ITEM_DELETE: Route =
    Route::new(Delete, "/api/v1/carts/{cart_id}/items/{product_id}", Api);
pub const API_ORDER_CREATE: Route = Route::new(Post, "/api/v1/orders", Api).placing_orders();
pub const API_ORDER: Route = Route::new(Get, "/api/v1/orders/{order_id}", Api);

/// Every route the scenarios request, in the order a report lists them.
pub const ALL: &[Route] = &[
    HOME,
    CATEGORY,
    SEARCH,
    PRODUCT,
    STYLESHEET,
    PRODUCT_IMAGE,
    CART_ADD,
    CART,
    CART_UPDATE,
    CART_REMOVE,
    CHECKOUT_PAGE,
    CHECKOUT,
    ORDER_PAGE,
    API_CATEGORIES,
    API_PRODUCTS,
    API_PRODUCT,
    API_CART_CREATE,
    API_CART_ADD,
    API_CART_ITEM_UPDATE,
    API_CART_ITEM_DELETE,
    API_CART,
    API_ORDER_CREATE,
    API_ORDER,
];

/// The route whose Goose request name (`GET /cart`) is `key`.
pub fn by_key(key: &str) -> Option<&'static Route> {
    ALL.iter().find(|route| route.key() == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys_are_unique() {
        let mut keys: Vec<_> = ALL.iter().map(Route::key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), ALL.len());
    }

    #[test]
    fn orders_are_placed_only_by_the_two_checkout_routes() {
        let placing: Vec<_> = ALL.iter().filter(|r| r.checkout).map(Route::key).collect();
        assert_eq!(placing, ["POST /checkout", "POST /api/v1/orders"]);
    }

    #[test]
    fn pages_are_gets_and_never_api_routes() {
        for route in ALL.iter().filter(|r| r.kind == RouteKind::Page) {
            assert_eq!(route.method, Method::Get, "{}", route.key());
            assert!(!route.pattern.starts_with("/api/"), "{}", route.key());
        }
    }

    #[test]
    fn a_key_finds_its_route() {
        assert_eq!(by_key("GET /product/{slug}"), Some(&PRODUCT));
        assert_eq!(by_key("GET /product/blue-mug"), None);
    }
}
