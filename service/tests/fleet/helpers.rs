//! A fleet of real shop processes (this crate's own binary) on one fresh
//! PostgreSQL database, behind HAProxy, and the requests the tests make.

use std::time::{Duration, Instant};

use fleet::{postgres::TestDatabase, Fleet, Spec};
use reqwest::{redirect, Client, StatusCode};
use serde_json::{json, Value};

/// A product of the seed catalogue: id 1, "Chef's Knife".
pub(crate) const KNIFE_ID: i64 = 1;
pub(crate) const KNIFE_SLUG: &str = "chefs-knife";

/// A fleet and its database, dropped (replicas first) when the test ends.
pub(crate) struct TestFleet {
    pub(crate) fleet: Fleet,
    pub(crate) client: Client,
    pub(crate) db: sqlx::PgPool,
    /// Dropped last, even when the test fails.
    _database: TestDatabase,
}

pub(crate) async fn spawn_fleet(replicas: usize) -> TestFleet {
    let database = TestDatabase::create("fleet_test").await;
    let url = database.url().to_owned();
    let mut spec = Spec::new(replicas, env!("CARGO_BIN_EXE_shop").into(), url.clone());
    // Two workers each are plenty on a 2-core machine running three shops.
    spec.env.push(("SHOP_WORKERS".into(), "2".into()));
    let fleet = Fleet::start(spec).await.expect("starting the fleet");
    let db = sqlx::PgPool::connect(&url)
        .await
        .expect("connecting to the fleet's database");
    TestFleet {
        fleet,
        client: client(),
        db,
        _database: database,
    }
}

/// A client without cookies, as a program calling the API.
pub(crate) fn client() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a reqwest client")
}

/// A browser-like client that keeps its cookies.
pub(crate) fn shopper() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a reqwest client")
}

impl TestFleet {
    /// The public URL of replica `i`.
    pub(crate) fn replica(&self, i: usize) -> String {
        self.fleet.replica(i).url()
    }

    pub(crate) async fn create_cart(&self, replica: usize) -> String {
        let response = self
            .client
            .post(format!("{}/api/v1/carts", self.replica(replica)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let cart: Value = response.json().await.unwrap();
        cart["id"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn add_item(&self, replica: usize, cart: &str, product: i64, quantity: i64) {
        let response = self
            .client
            .post(format!(
                "{}/api/v1/carts/{cart}/items",
                self.replica(replica)
            ))
            .json(&json!({ "product_id": product, "quantity": quantity }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "adding to cart {cart}");
    }

    pub(crate) async fn place_order(
        &self,
        replica: usize,
        cart: &str,
        key: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}/api/v1/orders", self.replica(replica)))
            .json(&json!({
                "cart_id": cart,
                "name": "Ada Lovelace",
                "email": "ada@example.com",
                "address": "12 Analytical Row, London",
            }));
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await.unwrap()
    }

    /// The stock replica `i` shows through the API.
    pub(crate) async fn stock_on(&self, replica: usize, product: i64) -> i64 {
        let response = self
            .client
            .get(format!(
                "{}/api/v1/products/{product}",
                self.replica(replica)
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let product: Value = response.json().await.unwrap();
        product["stock"].as_i64().expect("a stock")
    }

    pub(crate) async fn set_stock(&self, product: i64, stock: i64) {
        sqlx::query("UPDATE products SET stock = $1 WHERE id = $2")
            .bind(stock)
            .bind(product)
            .execute(&self.db)
            .await
            .unwrap();
    }

    pub(crate) async fn order_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM orders")
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// A call to replica `i`'s fault API.
    pub(crate) fn admin(
        &self,
        replica: usize,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(
                method,
                format!("{}{path}", self.fleet.replica(replica).admin_url()),
            )
            .bearer_auth(self.fleet.admin_token())
    }

    pub(crate) async fn status_of(&self, replica: usize, path: &str) -> StatusCode {
        self.client
            .get(format!("{}{path}", self.replica(replica)))
            .send()
            .await
            .unwrap()
            .status()
    }

    pub(crate) async fn metrics_of(&self, replica: usize) -> String {
        self.client
            .get(format!(
                "{}/metrics",
                self.fleet.replica(replica).admin_url()
            ))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// How many requests replica `i` has answered on `route`, by its own
    /// metrics.
    pub(crate) async fn requests_on(&self, replica: usize, route: &str) -> u64 {
        let needle = format!("http_route=\"{route}\"");
        self.metrics_of(replica)
            .await
            .lines()
            .filter(|l| {
                l.starts_with("http_server_request_duration_seconds_count") && l.contains(&needle)
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }
}

/// Polls `check` until it holds or `timeout` passes; returns whether it held.
pub(crate) async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return true;
        }
        if started.elapsed() > timeout {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The value of the first hidden input named `name` in a page.
pub(crate) fn hidden_input(html: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no hidden input {name} in the page"))
        + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}
