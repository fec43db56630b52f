//! A real shop for the live test, and bounded loopback traffic against it.

use std::{
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use serde_json::{json, Value};
use shop::{configuration::Settings, startup::Application, storage::Database};
use shop_contract::faults::{FaultCreated, FaultKind, FaultSpec, ANY_ROUTE};

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate sits in the workspace")
        .to_owned()
}

/// Every committed dashboard's JSON, by file name.
pub(crate) fn committed_dashboards() -> Vec<(String, Value)> {
    let dir = root().join(dashboards::generate::GENERATED_DIR);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let json = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                json,
            )
        })
        .collect()
}

/// The committed rule files of the `alerts` crate.
pub(crate) fn alert_rule_files() -> Vec<PathBuf> {
    let dir = root().join(alerts::generate::GENERATED_DIR);
    [
        alerts::generate::SLO_RULES_FILE,
        alerts::generate::SYMPTOM_RULES_FILE,
    ]
    .iter()
    .map(|name| dir.join(name))
    .collect()
}

const ADMIN_TOKEN: &str = "test-token";
/// The product whose stock the traffic sets to zero, for `out_of_stock` failures.
const SOLD_OUT_PRODUCT: i64 = 60;

/// A shop on free loopback ports with its own SQLite database.
pub(crate) struct TestShop {
    pub(crate) base: String,
    pub(crate) admin: String,
    pub(crate) admin_port: u16,
    /// `(id, slug, category slug)` of every product but the sold-out one.
    catalogue: Vec<(i64, String, String)>,
    db: Database,
    stop: shop::startup::Stopper,
    _dir: tempfile::TempDir,
}

impl TestShop {
    pub(crate) async fn spawn() -> TestShop {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::ephemeral(&format!("sqlite://{}/shop.db", dir.path().display()));
        let app = Application::build(settings).await.expect("the shop starts");
        let base = format!("http://127.0.0.1:{}", app.port());
        let admin_port = app.admin_port();
        let db = app.database();
        let stop = app.stopper();
        tokio::spawn(app.run_until_stopped());
        // Read before any fault is injected: a faulted answer is no catalogue.
        let products: Value = reqwest::Client::new()
            .get(format!("{base}/api/v1/products?per_page=50"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let slugs: Vec<(i64, String, String)> = products["items"]
            .as_array()
            .expect("a page of products")
            .iter()
            .map(|p| {
                (
                    p["id"].as_i64().unwrap(),
                    p["slug"].as_str().unwrap().to_owned(),
                    p["category"].as_str().unwrap().to_owned(),
                )
            })
            .filter(|(id, _, _)| *id != SOLD_OUT_PRODUCT)
            .collect();
        assert!(!slugs.is_empty(), "the catalogue is seeded");
        TestShop {
            base,
            admin: format!("http://127.0.0.1:{admin_port}"),
            admin_port,
            catalogue: slugs,
            db,
            stop,
            _dir: dir,
        }
    }

    /// Injects a fault through the fault API.
    pub(crate) async fn inject(&self, spec: &FaultSpec) -> String {
        let response = reqwest::Client::new()
            .post(format!("{}/admin/faults", self.admin))
            .bearer_auth(ADMIN_TOKEN)
            .json(spec)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "the fault API refused {spec:?}");
        response.json::<FaultCreated>().await.unwrap().id
    }

    /// 30 % of requests on every route answered 500, for `seconds`.
    pub(crate) fn error_fault(seconds: u64) -> FaultSpec {
        FaultSpec {
            kind: FaultKind::Error,
            target: Default::default(),
            route: ANY_ROUTE.into(),
            probability: 0.3,
            latency_ms: None,
            status: Some(500),
            duration_seconds: seconds,
        }
    }

    pub(crate) async fn clear_faults(&self) {
        reqwest::Client::new()
            .delete(format!("{}/admin/faults", self.admin))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
    }

    /// Shoppers and API clients for `duration` (bounded: a few workers, a
    /// pause between rounds, a cap on rounds): page views, cart additions,
    /// orders, and checkouts that fail for a sold-out product or a bad email.
    pub(crate) async fn drive(&self, duration: Duration) -> Traffic {
        self.db.set_stock(SOLD_OUT_PRODUCT, 0).await.unwrap();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let slugs = self.catalogue.clone();
        let traffic = Arc::new(Traffic::default());
        let deadline = Instant::now() + duration;
        let workers: Vec<_> = (0..3)
            .map(|worker| {
                let (client, base, slugs, traffic) = (
                    client.clone(),
                    self.base.clone(),
                    slugs.clone(),
                    traffic.clone(),
                );
                tokio::spawn(async move {
                    for round in 0..MAX_ROUNDS {
                        if Instant::now() >= deadline {
                            break;
                        }
                        let (id, slug, category) = &slugs[(round * 3 + worker) % slugs.len()];
                        shop_round(&client, &base, round, *id, slug, category, &traffic).await;
                        tokio::time::sleep(Duration::from_millis(40)).await;
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.await.unwrap();
        }
        Arc::into_inner(traffic).expect("the workers are done")
    }
}

impl Drop for TestShop {
    fn drop(&mut self) {
        self.stop.stop();
    }
}

const MAX_ROUNDS: usize = 2_000;

/// What the traffic did.
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    pub(crate) requests: AtomicU64,
    pub(crate) server_errors: AtomicU64,
    pub(crate) orders: AtomicU64,
}

impl Traffic {
    fn count(&self, response: &Result<reqwest::Response, reqwest::Error>) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if response
            .as_ref()
            .map_or(true, |r| r.status().is_server_error())
        {
            self.server_errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn shop_round(
    client: &reqwest::Client,
    base: &str,
    round: usize,
    product_id: i64,
    slug: &str,
    category: &str,
    traffic: &Traffic,
) {
    for path in [
        "/".to_owned(),
        format!("/category/{category}"),
        format!("/search?q={}", slug.split('-').next().unwrap_or(slug)),
        format!("/product/{slug}"),
        "/cart".to_owned(),
        "/api/v1/products".to_owned(),
    ] {
        let response = client.get(format!("{base}{path}")).send().await;
        traffic.count(&response);
    }
    let cart_for = |product: i64| async move {
        let response = client.post(format!("{base}/api/v1/carts")).send().await;
        traffic.count(&response);
        let cart: Value = response.ok()?.json().await.ok()?;
        let id = cart["id"].as_str()?.to_owned();
        let added = client
            .post(format!("{base}/api/v1/carts/{id}/items"))
            .json(&json!({"product_id": product, "quantity": 1}))
            .send()
            .await;
        traffic.count(&added);
        added.ok()?.status().is_success().then_some(id)
    };
    let order = |cart_id: String, email: &'static str| async move {
        let response = client
            .post(format!("{base}/api/v1/orders"))
            .json(&json!({
                "cart_id": cart_id,
                "name": "Dana Dashboard",
                "email": email,
                "address": "1 Grafana Way, 12345 Promtown",
            }))
            .send()
            .await;
        traffic.count(&response);
        response.is_ok_and(|r| r.status().is_success())
    };
    if let Some(cart) = cart_for(product_id).await {
        if round % 2 == 0 && order(cart, "dana@example.com").await {
            traffic.orders.fetch_add(1, Ordering::Relaxed);
        }
    }
    match round % 5 {
        // A sold-out product: `out_of_stock`.
        1 => {
            if let Some(cart) = cart_for(SOLD_OUT_PRODUCT).await {
                order(cart, "dana@example.com").await;
            }
        }
        // A bad email: `invalid_input`.
        3 => {
            if let Some(cart) = cart_for(product_id).await {
                order(cart, "not-an-email").await;
            }
        }
        _ => {}
    }
}
