//! Carts expire: carts idle longer than SHOP_CART_TTL_HOURS are deleted in
//! bounded batches on both backends, and creating carts is rate limited.

use std::{
    num::NonZeroU32,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use reqwest::StatusCode;
use shop::{
    cart_expiry::sweep,
    configuration::{CartTtl, RateLimit},
};

use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp, KNIFE_ID};

crate::on_both_backends!(
    carts_idle_longer_than_the_ttl_are_deleted_in_bounded_batches,
    a_change_to_a_cart_keeps_it_from_expiring,
);

const HOUR: i64 = 3600;

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn cart_status(app: &TestApp, cart: &str) -> StatusCode {
    app.get(&format!("/api/v1/carts/{cart}")).await.status()
}

async fn carts_idle_longer_than_the_ttl_are_deleted_in_bounded_batches(backend: Backend) {
    let app = spawn_app(backend).await;
    let ttl = CartTtl::from_hours(72);
    let mut carts = Vec::new();
    for _ in 0..5 {
        let cart = app.api_create_cart().await;
        assert!(app
            .api_add_item(&cart, KNIFE_ID, 2)
            .await
            .status()
            .is_success());
        carts.push(cart);
    }
    let start = unix_now();

    assert_eq!(sweep(&app.db, ttl, start + 71 * HOUR, 2).await.unwrap(), 0);
    for cart in &carts {
        assert_eq!(cart_status(&app, cart).await, StatusCode::OK);
    }

    // Five carts in batches of two: the sweep goes on until none is left.
    let deleted = sweep(&app.db, ttl, start + 73 * HOUR, 2).await.unwrap();
    assert_eq!(deleted, 5);
    for cart in &carts {
        assert_eq!(cart_status(&app, cart).await, StatusCode::NOT_FOUND);
    }
    assert_eq!(sweep(&app.db, ttl, start + 73 * HOUR, 2).await.unwrap(), 0);
}

async fn a_change_to_a_cart_keeps_it_from_expiring(backend: Backend) {
    let app = spawn_app(backend).await;
    let ttl = CartTtl::from_hours(1);
    let idle = app.api_create_cart().await;
    let changed = app.api_create_cart().await;
    let created = unix_now();
    // Times are kept in whole seconds: let two of them pass.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(app
        .api_add_item(&changed, KNIFE_ID, 1)
        .await
        .status()
        .is_success());

    // An hour after the change, less a second: only the idle cart is too old.
    let deleted = sweep(&app.db, ttl, created + 2 + HOUR - 1, 100)
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(cart_status(&app, &idle).await, StatusCode::NOT_FOUND);
    assert_eq!(cart_status(&app, &changed).await, StatusCode::OK);
}

#[tokio::test]
async fn creating_carts_through_the_api_counts_against_the_per_client_limit() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.rate_limit = RateLimit::PerSecond(NonZeroU32::new(1).unwrap());
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let response = app
            .client
            .post(app.url("/api/v1/carts"))
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
    }
    assert_eq!(statuses[0], StatusCode::CREATED);
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

#[test]
fn a_malformed_cart_ttl_stops_the_shop_at_start_naming_the_setting() {
    for bad in ["soon", "0", "-3", "1.5"] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_shop"))
            .env("SHOP_CART_TTL_HOURS", bad)
            .env("DATABASE_URL", "sqlite::memory:")
            .output()
            .expect("the shop binary runs");
        assert!(!output.status.success(), "{bad} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("SHOP_CART_TTL_HOURS"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
