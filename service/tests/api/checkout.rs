use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{hidden_input, spawn_app, Backend, KNIFE_ID};

crate::on_both_backends!(
    a_shopper_checks_out_and_sees_the_confirmation,
    checkout_never_sells_more_than_the_stock,
    a_retried_checkout_places_one_order,
    a_retried_api_order_places_one_order_even_when_concurrent,
    an_idempotency_key_cannot_be_reused_for_another_cart,
    invalid_contact_details_are_shown_on_the_form_and_place_nothing,
    an_order_for_more_than_the_stock_is_refused_and_changes_nothing,
);

async fn a_shopper_checks_out_and_sees_the_confirmation(backend: Backend) {
    let app = spawn_app(backend).await;
    let stock_before = app.db.stock_of(KNIFE_ID).await.unwrap().unwrap();
    app.add_to_cart(KNIFE_ID, 2).await;
    let response = app
        .checkout(
            "Grace Hopper",
            "grace@example.com",
            "1 Navy Yard\nArlington",
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/orders/"), "{location}");

    let html = app.get_html(&location).await;
    assert!(html.contains(r#"id="page-order""#));
    assert!(html.contains("Thank you! Your order is confirmed."));
    assert!(html.contains("Grace Hopper"));
    assert_eq!(
        app.db.stock_of(KNIFE_ID).await.unwrap().unwrap(),
        stock_before - 2
    );
    assert!(app.get_html("/cart").await.contains("Your cart is empty"));
    assert!(app.metrics().await.contains("shop_orders_placed_total 1"));
}

async fn checkout_never_sells_more_than_the_stock(backend: Backend) {
    let app = spawn_app(backend).await;
    app.db.set_stock(KNIFE_ID, 10).await.unwrap();
    let mut carts = Vec::new();
    for _ in 0..200 {
        let cart = app.api_create_cart().await;
        assert_eq!(
            app.api_add_item(&cart, KNIFE_ID, 1).await.status(),
            StatusCode::OK
        );
        carts.push(cart);
    }

    let responses = join_all(carts.iter().map(|cart| app.api_place_order(cart, None))).await;

    let mut placed = 0;
    for response in responses {
        match response.status() {
            StatusCode::CREATED => placed += 1,
            StatusCode::CONFLICT => {
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["error"], "not enough stock of `Chef's Knife`");
            }
            other => panic!("unexpected {other}: {}", response.text().await.unwrap()),
        }
    }
    assert_eq!(placed, 10);
    assert_eq!(app.db.stock_of(KNIFE_ID).await.unwrap(), Some(0));
    assert_eq!(app.db.order_count().await.unwrap(), 10);
}

async fn a_retried_checkout_places_one_order(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_to_cart(KNIFE_ID, 1).await;
    let page = app.get_html("/checkout").await;
    let form = [
        ("csrf_token", hidden_input(&page, "csrf_token")),
        ("idempotency_key", hidden_input(&page, "idempotency_key")),
        ("name", "Ada".to_owned()),
        ("email", "ada@example.com".to_owned()),
        ("address", "12 Analytical Row".to_owned()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let first = app.post_form("/checkout", &form).await;
    let second = app.post_form("/checkout", &form).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(second.status(), StatusCode::SEE_OTHER);
    assert_eq!(first.headers()["location"], second.headers()["location"]);
    assert_eq!(app.db.order_count().await.unwrap(), 1);
}

async fn a_retried_api_order_places_one_order_even_when_concurrent(backend: Backend) {
    let app = spawn_app(backend).await;
    let cart = app.api_create_cart().await;
    app.api_add_item(&cart, KNIFE_ID, 1).await;
    let key = "retry-me-0123456789";
    let responses = join_all((0..10).map(|_| app.api_place_order(&cart, Some(key)))).await;
    let mut ids = Vec::new();
    let mut created = 0;
    for response in responses {
        match response.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::OK => {}
            other => panic!("unexpected {other}: {}", response.text().await.unwrap()),
        }
        let order: Value = response.json().await.unwrap();
        ids.push(order["id"].as_str().unwrap().to_owned());
    }
    ids.dedup();
    assert_eq!(created, 1);
    assert_eq!(ids.len(), 1, "retries returned different orders");
    assert_eq!(app.db.order_count().await.unwrap(), 1);
}

async fn an_idempotency_key_cannot_be_reused_for_another_cart(backend: Backend) {
    let app = spawn_app(backend).await;
    let (first, second) = (app.api_create_cart().await, app.api_create_cart().await);
    app.api_add_item(&first, KNIFE_ID, 1).await;
    app.api_add_item(&second, KNIFE_ID, 1).await;
    assert_eq!(
        app.api_place_order(&first, Some("shared-key-1"))
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        app.api_place_order(&second, Some("shared-key-1"))
            .await
            .status(),
        StatusCode::CONFLICT
    );
}

async fn invalid_contact_details_are_shown_on_the_form_and_place_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_to_cart(KNIFE_ID, 1).await;
    let response = app.checkout("", "not-an-email", "x").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"id="name-error""#));
    assert!(html.contains(r#"id="email-error""#));
    assert!(html.contains(r#"id="address-error""#));
    assert!(
        html.contains(r#"value="not-an-email""#),
        "the form lost what was typed"
    );
    assert_eq!(app.db.order_count().await.unwrap(), 0);
    assert!(app
        .metrics()
        .await
        .contains(r#"shop_checkout_failures_total{reason="invalid_input"} 1"#));
}

async fn an_order_for_more_than_the_stock_is_refused_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.db.set_stock(2, 1).await.unwrap();
    app.add_to_cart(KNIFE_ID, 1).await;
    app.add_to_cart(2, 3).await;
    let knife_stock = app.db.stock_of(KNIFE_ID).await.unwrap().unwrap();
    let response = app
        .checkout("Ada", "ada@example.com", "12 Analytical Row")
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("Cast Iron Skillet"),
        "the page does not say which product"
    );
    // The whole transaction rolled back: the knife's stock is untouched.
    assert_eq!(
        app.db.stock_of(KNIFE_ID).await.unwrap().unwrap(),
        knife_stock
    );
    assert_eq!(app.db.stock_of(2).await.unwrap(), Some(1));
    assert_eq!(app.db.order_count().await.unwrap(), 0);
}
