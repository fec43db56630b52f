//! Malformed input to every route is answered 4xx, never 5xx.

use reqwest::{Method, StatusCode};

use crate::helpers::{spawn_app, Backend, KNIFE_ID};

crate::on_both_backends!(no_bad_input_gets_a_server_error);

async fn no_bad_input_gets_a_server_error(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.csrf_token().await;
    let cart = app.api_create_cart().await;
    let huge = "x".repeat(200 * 1024);
    let form = |extra: &str| format!("csrf_token={token}&{extra}");
    let json = "application/json";
    let urlencoded = "application/x-www-form-urlencoded";

    let cases: Vec<(Method, String, &str, String)> = vec![
        (
            Method::GET,
            "/category/kitchen?page=0".into(),
            "",
            String::new(),
        ),
        (
            Method::GET,
            "/category/kitchen?page=-1".into(),
            "",
            String::new(),
        ),
        (
            Method::GET,
            "/category/kitchen?page=99999999999".into(),
            "",
            String::new(),
        ),
        (
            Method::GET,
            format!("/search?q={}", "a".repeat(500)),
            "",
            String::new(),
        ),
        (Method::GET, "/search?page=abc".into(), "", String::new()),
        (
            Method::GET,
            "/product/%2e%2e%2f%2e%2e%2fetc%2fpasswd".into(),
            "",
            String::new(),
        ),
        (
            Method::GET,
            "/images/products/..%2F..%2Fetc".into(),
            "",
            String::new(),
        ),
        (
            Method::GET,
            "/orders/'%20OR%201=1--".into(),
            "",
            String::new(),
        ),
        (Method::GET, "/orders/%00".into(), "", String::new()),
        (Method::GET, "/product/%00".into(), "", String::new()),
        (Method::GET, "/api/v1/carts/%00".into(), "", String::new()),
        (Method::GET, "/api/v1/orders/%00".into(), "", String::new()),
        (
            Method::POST,
            "/api/v1/orders".into(),
            json,
            r#"{"cart_id":"\u0000","name":"Ada","email":"ada@example.com","address":"12 Row"}"#
                .into(),
        ),
        (
            Method::POST,
            "/cart/items".into(),
            urlencoded,
            form("product_id=1&quantity=-3"),
        ),
        (
            Method::POST,
            "/cart/items".into(),
            urlencoded,
            form("product_id=1&quantity=0"),
        ),
        (
            Method::POST,
            "/cart/items".into(),
            urlencoded,
            form("product_id=1&quantity=abc"),
        ),
        (
            Method::POST,
            "/cart/items".into(),
            urlencoded,
            form("product_id=999999&quantity=1"),
        ),
        (
            Method::POST,
            "/cart/items".into(),
            urlencoded,
            form("product_id=1"),
        ),
        (
            Method::POST,
            "/cart/items".into(),
            urlencoded,
            form(&format!("product_id=1&quantity=1&pad={huge}")),
        ),
        (
            Method::POST,
            "/cart/items".into(),
            json,
            r#"{"product_id":1}"#.into(),
        ),
        (
            Method::POST,
            "/cart/items/abc".into(),
            urlencoded,
            form("quantity=1"),
        ),
        (
            Method::POST,
            "/cart/items/1".into(),
            urlencoded,
            form("quantity=1000"),
        ),
        (
            Method::POST,
            "/cart/items/999999".into(),
            urlencoded,
            form("quantity=2"),
        ),
        (
            Method::POST,
            "/cart/items/1/remove".into(),
            urlencoded,
            "junk=%%%".into(),
        ),
        (
            Method::POST,
            "/checkout".into(),
            urlencoded,
            form("idempotency_key=short&name=a&email=b&address=c"),
        ),
        (Method::POST, "/checkout".into(), urlencoded, form("")),
        (
            Method::POST,
            "/checkout".into(),
            urlencoded,
            form(&format!("idempotency_key=abcdefgh12&name={huge}")),
        ),
        (
            Method::POST,
            "/account/register".into(),
            urlencoded,
            form("email=x&password=y"),
        ),
        (
            Method::POST,
            "/account/login".into(),
            urlencoded,
            form("email=%FF&password="),
        ),
        (
            Method::POST,
            "/account/logout".into(),
            urlencoded,
            String::new(),
        ),
        (
            Method::GET,
            "/api/v1/products?page=0".into(),
            "",
            String::new(),
        ),
        (
            Method::GET,
            "/api/v1/products?per_page=1000".into(),
            "",
            String::new(),
        ),
        (
            Method::GET,
            "/api/v1/products?page=x".into(),
            "",
            String::new(),
        ),
        (
            Method::GET,
            "/api/v1/products/abc".into(),
            "",
            String::new(),
        ),
        (Method::GET, "/api/v1/products/-1".into(), "", String::new()),
        (
            Method::GET,
            "/api/v1/products/99999999999999999999".into(),
            "",
            String::new(),
        ),
        (Method::GET, "/api/v1/carts/nope".into(), "", String::new()),
        (
            Method::POST,
            format!("/api/v1/carts/{cart}/items"),
            json,
            "{not json".into(),
        ),
        (
            Method::POST,
            format!("/api/v1/carts/{cart}/items"),
            json,
            r#"{"product_id":1,"quantity":-1}"#.into(),
        ),
        (
            Method::POST,
            format!("/api/v1/carts/{cart}/items"),
            json,
            r#"{"product_id":"one","quantity":1}"#.into(),
        ),
        (
            Method::POST,
            format!("/api/v1/carts/{cart}/items"),
            json,
            r#"{"product_id":999999,"quantity":1}"#.into(),
        ),
        (
            Method::POST,
            format!("/api/v1/carts/{cart}/items"),
            json,
            r#"{"product_id":1,"quantity":1,"extra":true}"#.into(),
        ),
        (
            Method::POST,
            format!("/api/v1/carts/{cart}/items"),
            "text/plain",
            r#"{"product_id":1,"quantity":1}"#.into(),
        ),
        (
            Method::POST,
            format!("/api/v1/carts/{cart}/items"),
            json,
            format!(r#"{{"product_id":1,"quantity":1,"x":"{huge}"}}"#),
        ),
        (
            Method::POST,
            "/api/v1/carts/nope/items".into(),
            json,
            r#"{"product_id":1,"quantity":1}"#.into(),
        ),
        (
            Method::PUT,
            format!("/api/v1/carts/{cart}/items/{KNIFE_ID}"),
            json,
            r#"{"quantity":100}"#.into(),
        ),
        (
            Method::PUT,
            format!("/api/v1/carts/{cart}/items/999999"),
            json,
            r#"{"quantity":1}"#.into(),
        ),
        (
            Method::DELETE,
            format!("/api/v1/carts/{cart}/items/abc"),
            "",
            String::new(),
        ),
        (Method::POST, "/api/v1/orders".into(), json, "[]".into()),
        (
            Method::POST,
            "/api/v1/orders".into(),
            json,
            r#"{"cart_id":"nope","name":"a","email":"a@example.com","address":"12345"}"#.into(),
        ),
        (
            Method::POST,
            "/api/v1/orders".into(),
            json,
            format!(r#"{{"cart_id":"{cart}","name":"","email":"x","address":""}}"#),
        ),
        (
            Method::POST,
            "/api/v1/orders".into(),
            json,
            format!(
                r#"{{"cart_id":"{cart}","name":"Ada","email":"ada@example.com","address":"12 Row"}}"#
            ),
        ),
        (Method::GET, "/api/v1/orders/nope".into(), "", String::new()),
        (Method::PATCH, "/api/v1/products".into(), json, "{}".into()),
        (
            Method::from_bytes(b"BREW").unwrap(),
            "/".into(),
            "",
            String::new(),
        ),
    ];

    for (method, path, content_type, body) in cases {
        let mut request = app.client.request(method.clone(), app.url(&path));
        if !content_type.is_empty() {
            request = request.header("content-type", content_type);
        }
        let response = request
            .body(body.clone())
            .send()
            .await
            .expect("the shop answered");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(
            status.is_client_error(),
            "{method} {path} ({}) answered {status}: {}",
            body.chars().take(80).collect::<String>(),
            text.chars().take(300).collect::<String>()
        );
        assert!(
            !text.is_empty() || method == Method::HEAD,
            "{method} {path}: an empty error says nothing"
        );
    }

    // Junk that is still a valid question gets an answer, not an error.
    for junk in ["/search?q=%00%FF%FE", "/api/v1/products?q=%00"] {
        assert_eq!(app.get(junk).await.status(), StatusCode::OK, "{junk}");
    }

    let idempotency = app
        .client
        .post(app.url("/api/v1/orders"))
        .header("Idempotency-Key", "short")
        .json(&serde_json::json!({"cart_id": cart, "name": "Ada", "email": "ada@example.com", "address": "12 Analytical Row"}))
        .send()
        .await
        .unwrap();
    assert_eq!(idempotency.status(), StatusCode::BAD_REQUEST);
}
