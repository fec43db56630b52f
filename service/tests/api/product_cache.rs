//! The product cache and the rendered product pages: repeated product views
//! cost no database round trip and no rendering, and a page never shows
//! stock that has changed.

use std::time::Duration;

use reqwest::StatusCode;
use sqlx::Connection;

use crate::helpers::{
    client, fresh_postgres_database, hidden_input, spawn_app, spawn_app_with, Backend, TestApp,
    KNIFE_ID, KNIFE_SLUG,
};

crate::on_both_backends!(
    a_product_page_shows_stock_the_moment_an_order_takes_it,
    each_anonymous_shopper_gets_the_same_page_with_their_own_token,
);

fn product_page() -> String {
    format!("/product/{KNIFE_SLUG}")
}

impl TestApp {
    /// `shop_product_cache_lookups_total{result="hit"}`.
    async fn cache_hits(&self) -> u64 {
        let metrics = self.metrics().await;
        let line = metrics
            .lines()
            .find(|l| l.starts_with(r#"shop_product_cache_lookups_total{result="hit"}"#))
            .expect("the product cache counter is exported");
        line.rsplit(' ').next().unwrap().parse().unwrap()
    }

    /// Views the product page until a view is served from the cache (on
    /// PostgreSQL the cache serves once its change listener has connected).
    async fn view_product_from_cache(&self) -> String {
        for _ in 0..50 {
            let hits = self.cache_hits().await;
            let html = self.get_html(&product_page()).await;
            if self.cache_hits().await > hits {
                return html;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the product page was never served from the cache");
    }
}

async fn a_product_page_shows_stock_the_moment_an_order_takes_it(backend: Backend) {
    let app = spawn_app(backend).await;
    app.db.set_stock(KNIFE_ID, 2).await.unwrap();
    let cached = app.view_product_from_cache().await;
    assert!(cached.contains("Only 2 left"), "{cached}");

    app.add_to_cart(KNIFE_ID, 2).await;
    let placed = app
        .checkout("Grace Hopper", "grace@example.com", "1 Navy Yard")
        .await;
    assert_eq!(placed.status(), StatusCode::SEE_OTHER);

    let after = app.get_html(&product_page()).await;
    assert!(after.contains("Sold out"), "the page shows stale stock");
}

async fn each_anonymous_shopper_gets_the_same_page_with_their_own_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.view_product_from_cache().await;
    let first_token = hidden_input(&first, "csrf_token");

    // Another shopper, with a session of their own.
    let other = client();
    let view = || async {
        let response = other.get(app.url(&product_page())).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.unwrap()
    };
    let second = view().await;
    let second_token = hidden_input(&second, "csrf_token");
    assert_ne!(first_token, second_token);
    assert_eq!(
        second.replace(&second_token, "TOKEN"),
        first.replace(&first_token, "TOKEN")
    );
    // The token is that shopper's: their add-to-cart form is accepted.
    let added = other
        .post(app.url("/cart/items"))
        .form(&[
            ("csrf_token", second_token.as_str()),
            ("product_id", &KNIFE_ID.to_string()),
            ("quantity", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let with_cart = view().await;
    assert!(with_cart.contains(r#"id="cart-count">1<"#), "{with_cart}");
}

/// Another replica, or an operator with psql, changes a product: the shop
/// hears of it through the trigger's NOTIFY, well before an entry's
/// `MAX_AGE` (5 s) would have expired it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_outside_the_shop_reaches_its_cached_page_through_postgres() {
    let database = fresh_postgres_database().await;
    let database_url = database.url().to_owned();
    let app = spawn_app_with(Backend::Postgres, |settings| {
        settings.database_url = database_url.clone();
    })
    .await;
    let cached = app.view_product_from_cache().await;
    assert!(cached.contains("In stock"), "{cached}");

    let mut operator = sqlx::PgConnection::connect(&database_url).await.unwrap();
    sqlx::query("UPDATE products SET stock = 0 WHERE id = $1")
        .bind(KNIFE_ID)
        .execute(&mut operator)
        .await
        .unwrap();

    let mut seen = false;
    for _ in 0..20 {
        if app.get_html(&product_page()).await.contains("Sold out") {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen, "the cached page never heard of the change");
}
