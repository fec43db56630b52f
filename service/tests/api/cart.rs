use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{hidden_input, spawn_app, Backend, KNIFE_ID};

crate::on_both_backends!(
    adding_to_the_cart_shows_it_in_the_cart_and_header,
    quantities_can_be_changed_and_lines_removed,
    the_api_cart_adds_sets_and_removes_items,
);

async fn adding_to_the_cart_shows_it_in_the_cart_and_header(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app.add_to_cart(KNIFE_ID, 2).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/cart");
    app.add_to_cart(KNIFE_ID, 1).await;

    let html = app.get_html("/cart").await;
    assert!(html.contains(r#"id="page-cart""#));
    assert!(
        html.contains(r#"name="quantity" type="number" min="0" max="99" value="3""#),
        "{html}"
    );
    assert!(html.contains(r#"<span class="badge" id="cart-count">3</span>"#));
    assert!(app
        .metrics()
        .await
        .contains("shop_cart_items_added_total 3"));
}

async fn quantities_can_be_changed_and_lines_removed(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_to_cart(KNIFE_ID, 1).await;
    app.add_to_cart(2, 1).await;
    let token = hidden_input(&app.get_html("/cart").await, "csrf_token");

    let set = app
        .post_form(
            &format!("/cart/items/{KNIFE_ID}"),
            &[("csrf_token", &token), ("quantity", "5")],
        )
        .await;
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
    let removed = app
        .post_form("/cart/items/2/remove", &[("csrf_token", &token)])
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);

    let html = app.get_html("/cart").await;
    assert!(html.contains(r#"id="cart-count">5<"#), "{html}");
    assert!(
        !html.contains("Cast Iron Skillet"),
        "the removed line is still there"
    );
    let zero = app
        .post_form(
            &format!("/cart/items/{KNIFE_ID}"),
            &[("csrf_token", &token), ("quantity", "0")],
        )
        .await;
    assert_eq!(zero.status(), StatusCode::SEE_OTHER);
    assert!(app.get_html("/cart").await.contains("Your cart is empty"));
}

async fn the_api_cart_adds_sets_and_removes_items(backend: Backend) {
    let app = spawn_app(backend).await;
    let cart = app.api_create_cart().await;
    let added: Value = app
        .api_add_item(&cart, KNIFE_ID, 2)
        .await
        .json()
        .await
        .unwrap();
    let price = added["items"][0]["unit_price_cents"].as_i64().unwrap();
    assert_eq!(added["total_cents"].as_i64().unwrap(), 2 * price);
    assert_eq!(
        added["items"][0]["line_total_cents"].as_i64().unwrap(),
        2 * price
    );

    let set: Value = app
        .client
        .put(app.url(&format!("/api/v1/carts/{cart}/items/{KNIFE_ID}")))
        .json(&json!({ "quantity": 7 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(set["items"][0]["quantity"], 7);

    let removed: Value = app
        .client
        .delete(app.url(&format!("/api/v1/carts/{cart}/items/{KNIFE_ID}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(removed["items"], json!([]));
    assert_eq!(removed["total_cents"], 0);

    let capped: Value = app
        .api_add_item(&cart, KNIFE_ID, 99)
        .await
        .json()
        .await
        .unwrap();
    let capped_again: Value = app
        .api_add_item(&cart, KNIFE_ID, 5)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(capped["items"][0]["quantity"], 99);
    assert_eq!(
        capped_again["items"][0]["quantity"], 99,
        "quantity exceeded the cap"
    );
}
