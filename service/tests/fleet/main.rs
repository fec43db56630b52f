//! Two or three real shop processes on one PostgreSQL database, behind
//! HAProxy: what must hold across replicas (stock, idempotency, cache
//! invalidation, faults, sessions), shown rather than argued.

mod helpers;

use std::time::Duration;

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use helpers::{eventually, hidden_input, shopper, spawn_fleet, KNIFE_ID, KNIFE_SLUG};

/// Long enough for a replica to hear an announcement on a busy CI machine;
/// how fast it really is goes in the benchmarks.
const ANNOUNCED: Duration = Duration::from_secs(10);

#[tokio::test]
async fn racing_checkouts_split_across_replicas_never_oversell_and_every_replica_shows_the_final_stock(
) {
    let app = spawn_fleet(3).await;
    // Every replica caches the product before the race.
    for replica in 0..3 {
        app.stock_on(replica, KNIFE_ID).await;
    }
    app.set_stock(KNIFE_ID, 10).await;
    let mut carts = Vec::new();
    for i in 0..60 {
        let cart = app.create_cart(i % 3).await;
        app.add_item(i % 3, &cart, KNIFE_ID, 1).await;
        carts.push(cart);
    }

    let responses = join_all(
        carts
            .iter()
            .enumerate()
            .map(|(i, cart)| app.place_order((i + 1) % 3, cart, None)),
    )
    .await;

    let mut placed = 0;
    for response in responses {
        match response.status() {
            StatusCode::CREATED => placed += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}: {}", response.text().await.unwrap()),
        }
    }
    assert_eq!(placed, 10);
    assert_eq!(app.order_count().await, 10);
    for replica in 0..3 {
        assert!(
            eventually(ANNOUNCED, || async {
                app.stock_on(replica, KNIFE_ID).await == 0
            })
            .await,
            "replica {replica} still shows stock {}",
            app.stock_on(replica, KNIFE_ID).await
        );
    }
}

#[tokio::test]
async fn an_idempotent_retry_sent_to_another_replica_returns_the_first_order() {
    let app = spawn_fleet(2).await;
    let cart = app.create_cart(0).await;
    app.add_item(0, &cart, KNIFE_ID, 1).await;
    let key = "retry-across-replicas-1";

    let first = app.place_order(0, &cart, Some(key)).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let retry = app.place_order(1, &cart, Some(key)).await;
    assert_eq!(retry.status(), StatusCode::OK);
    let retry: Value = retry.json().await.unwrap();

    assert_eq!(retry["id"], first["id"]);
    assert_eq!(app.order_count().await, 1);
}

#[tokio::test]
async fn a_product_changed_through_one_replica_reaches_the_cached_page_of_another() {
    let app = spawn_fleet(2).await;
    app.set_stock(KNIFE_ID, 11).await;
    let page = format!("{}/product/{KNIFE_SLUG}", app.replica(1));
    let product_page = || async {
        app.client
            .get(&page)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    // Twice: the second view is the cached page.
    product_page().await;
    assert!(product_page().await.contains("In stock"));

    let cart = app.create_cart(0).await;
    app.add_item(0, &cart, KNIFE_ID, 2).await;
    assert_eq!(
        app.place_order(0, &cart, None).await.status(),
        StatusCode::CREATED
    );

    assert!(
        eventually(ANNOUNCED, || async {
            product_page().await.contains("Only 9 left")
        })
        .await,
        "replica 1 still serves the product page from before the order"
    );
}

#[tokio::test]
async fn a_fault_posted_on_one_replica_is_applied_by_the_others_and_cleared_by_any() {
    let app = spawn_fleet(3).await;
    let fault = json!({ "kind": "error", "route": "/", "status": 503, "probability": 1.0, "duration_seconds": 60 });
    let created = app
        .admin(0, Method::POST, "/admin/faults")
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    for replica in 0..3 {
        assert!(
            eventually(ANNOUNCED, || async {
                app.status_of(replica, "/").await == StatusCode::SERVICE_UNAVAILABLE
            })
            .await,
            "replica {replica} does not apply the fault"
        );
        let metrics = app.metrics_of(replica).await;
        assert!(
            metrics.contains(
                r#"shop_fault_active{db_operation_name="",http_route="/",kind="error"} 1"#
            ),
            "replica {replica} does not show the fault in shop_fault_active"
        );
        let listed: Value = app
            .admin(replica, Method::GET, "/admin/faults")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            listed[0]["id"],
            id.as_str(),
            "replica {replica} lists {listed}"
        );
    }
    // Other routes are untouched.
    assert_eq!(
        app.status_of(1, &format!("/product/{KNIFE_SLUG}")).await,
        StatusCode::OK
    );

    let cleared = app
        .admin(2, Method::DELETE, &format!("/admin/faults/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    for replica in 0..3 {
        assert!(
            eventually(ANNOUNCED, || async {
                app.status_of(replica, "/").await == StatusCode::OK
            })
            .await,
            "replica {replica} still applies the cleared fault"
        );
    }
    let again = app
        .admin(0, Method::DELETE, &format!("/admin/faults/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_fault_expires_on_every_replica_and_clearing_all_anywhere_clears_it_everywhere() {
    let app = spawn_fleet(2).await;
    let short = json!({ "kind": "error", "route": "/", "probability": 1.0, "duration_seconds": 2 });
    let long =
        json!({ "kind": "error", "route": "/search", "probability": 1.0, "duration_seconds": 60 });
    for fault in [short, long] {
        let created = app
            .admin(0, Method::POST, "/admin/faults")
            .json(&fault)
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    assert!(
        eventually(ANNOUNCED, || async {
            app.status_of(1, "/").await.is_server_error()
        })
        .await
    );

    // The short fault expires by itself on the replica it was not posted to.
    assert!(
        eventually(ANNOUNCED, || async {
            app.status_of(1, "/").await == StatusCode::OK
        })
        .await,
        "the expired fault is still applied by replica 1"
    );
    assert!(app.status_of(1, "/search?q=knife").await.is_server_error());

    let cleared = app
        .admin(1, Method::DELETE, "/admin/faults")
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    assert!(
        eventually(ANNOUNCED, || async {
            app.status_of(0, "/search?q=knife").await == StatusCode::OK
        })
        .await,
        "replica 0 still applies a fault cleared on replica 1"
    );
    let listed: Value = app
        .admin(0, Method::GET, "/admin/faults")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]));
}

#[tokio::test]
async fn a_shoppers_cart_survives_being_routed_to_another_replica() {
    let app = spawn_fleet(2).await;
    let service = app.fleet.url();
    let browser = shopper();
    let page = browser
        .get(format!("{service}/product/{KNIFE_SLUG}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let added = browser
        .post(format!("{service}/cart/items"))
        .form(&[
            ("csrf_token", hidden_input(&page, "csrf_token")),
            ("product_id", KNIFE_ID.to_string()),
            ("quantity", "2".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::SEE_OTHER);

    // Round robin sends these views to both replicas in turn.
    for _ in 0..4 {
        let cart = browser
            .get(format!("{service}/cart"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            cart.contains("Chef&#x27;s Knife") || cart.contains("Chef's Knife"),
            "{cart}"
        );
        assert!(!cart.contains("Your cart is empty"));
    }
    for replica in 0..2 {
        assert!(
            app.requests_on(replica, "/cart").await >= 1,
            "replica {replica} served none of the cart views"
        );
    }
}

#[tokio::test]
async fn haproxy_routes_around_a_killed_replica_and_back_to_it_once_restarted() {
    let mut app = spawn_fleet(3).await;
    app.fleet
        .wait_for_servers_up(&["shop-0", "shop-1", "shop-2"], ANNOUNCED)
        .await
        .unwrap();

    app.fleet.kill(1).await;
    app.fleet
        .wait_for_servers_up(&["shop-0", "shop-2"], ANNOUNCED)
        .await
        .unwrap();
    let service = app.fleet.url();
    for _ in 0..12 {
        let status = app
            .client
            .get(format!("{service}/"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::OK);
    }

    app.fleet.restart(1).await.unwrap();
    app.fleet
        .wait_for_servers_up(&["shop-0", "shop-1", "shop-2"], ANNOUNCED)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_fault_posted_through_the_admin_service_reaches_every_replica() {
    let app = spawn_fleet(2).await;
    let admin_service = app.fleet.admin_url();
    let fault =
        json!({ "kind": "error", "route": "/", "probability": 1.0, "duration_seconds": 60 });
    let created = app
        .client
        .post(format!("{admin_service}/admin/faults"))
        .bearer_auth(app.fleet.admin_token())
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    for replica in 0..2 {
        assert!(
            eventually(ANNOUNCED, || async {
                app.status_of(replica, "/").await.is_server_error()
            })
            .await,
            "replica {replica} does not apply a fault posted through the admin Service"
        );
    }
}
