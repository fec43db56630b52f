//! The catalogue's local experiments against a real shop. On PostgreSQL the
//! shop's database link goes through the fault proxy; on SQLite there is no
//! network link to break, so only the error storm and the shutdown drill
//! run there.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use chaos::{journal::Status, runner::RunOptions};
use fleet::prometheus::{Config, Prometheus};
use serde_json::{json, Value};

use crate::helpers::{method_run, run_file, shipped, spawn_shop, value, Backend, Shop};

/// A Prometheus scraping the shop as job `shop`, with the SLO rules.
async fn prometheus_for(shop: &Shop) -> Prometheus {
    let rules = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../alerts/generated/slo-rules.yaml"
    );
    let prometheus = Prometheus::start(
        Config::scraping([format!("127.0.0.1:{}", shop.admin_port())]).rule_file(rules),
    )
    .await
    .expect("prometheus starts (Debian package prometheus)");
    prometheus
        .wait_until(
            "up{job=\"shop\"}",
            |up| up.iter().any(|s| s.value == 1.0),
            Duration::from_secs(30),
        )
        .await
        .expect("prometheus scrapes the shop");
    prometheus
}

async fn error_storm(backend: Backend) {
    let shop = spawn_shop(backend).await;
    let prometheus = prometheus_for(&shop).await;
    let vars = shop.vars().with("PROMETHEUS_URL", prometheus.url());
    let journal = run_file(&shipped("error-storm"), &vars, RunOptions::default()).await;

    assert_eq!(journal.status, Status::Deviated, "{}", journal.timeline());
    assert_eq!(journal.status.exit_code(), 1);
    assert!(
        journal
            .steady_states
            .before
            .as_ref()
            .unwrap()
            .steady_state_met
    );
    let after = journal.steady_states.after.as_ref().unwrap();
    assert!(
        !after.steady_state_met,
        "the storm did not break the hypothesis"
    );
    assert_eq!(value(&after.probes[0], "status"), json!(500));
    for probe in [
        "storm-reaches-shoppers",
        "availability-burns-faster-than-the-page-threshold",
        "availability-page-fires",
    ] {
        assert!(
            method_run(&journal, probe).ok(),
            "{probe}:\n{}",
            journal.timeline()
        );
    }
    let burn = method_run(
        &journal,
        "availability-burns-faster-than-the-page-threshold",
    );
    println!(
        "availability burn rate during the storm: {} (after {} tries); the page fired after {} tries",
        value(burn, "value"),
        burn.attempts.unwrap_or(1),
        method_run(&journal, "availability-page-fires").attempts.unwrap_or(1)
    );
    assert_eq!(journal.safeguards.breaches.len(), 0);
    assert!(
        journal.safeguards.checks > 0,
        "the safeguard was never polled"
    );

    assert!(journal.rollbacks[0].ok(), "{}", journal.timeline());
    assert_eq!(
        shop.active_faults().await,
        Vec::<Value>::new(),
        "the rollback left the fault"
    );
    assert_eq!(shop.status("/").await, 200, "the shop did not come back");
}

crate::on_both_backends!(error_storm);

/// Shoppers placing orders through the JSON API until stopped; keeps the
/// ids of the orders answered 2xx.
struct Shoppers {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<(Vec<String>, usize)>>,
}

impl Shoppers {
    fn start(shop: &Shop, shoppers: usize) -> Shoppers {
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = (0..shoppers)
            .map(|_| {
                let (url, http, stop) = (shop.url.clone(), shop.http.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut placed = Vec::new();
                    let mut attempts = 0;
                    while !stop.load(Ordering::Acquire) {
                        attempts += 1;
                        if let Some(id) = place_order(&http, &url).await {
                            placed.push(id);
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    (placed, attempts)
                })
            })
            .collect();
        Shoppers { stop, tasks }
    }

    async fn stop(self) -> (Vec<String>, usize) {
        self.stop.store(true, Ordering::Release);
        let mut placed = Vec::new();
        let mut attempts = 0;
        for task in self.tasks {
            let (ids, tries) = task.await.unwrap();
            placed.extend(ids);
            attempts += tries;
        }
        (placed, attempts)
    }
}

async fn place_order(http: &reqwest::Client, url: &str) -> Option<String> {
    let cart: Value = http
        .post(format!("{url}/api/v1/carts"))
        .send()
        .await
        .ok()
        .filter(|r| r.status().is_success())?
        .json()
        .await
        .ok()?;
    let cart = cart["id"].as_str()?.to_owned();
    http.post(format!("{url}/api/v1/carts/{cart}/items"))
        .json(&json!({"product_id": 1, "quantity": 1}))
        .send()
        .await
        .ok()
        .filter(|r| r.status().is_success())?;
    let response = http
        .post(format!("{url}/api/v1/orders"))
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .json(&json!({
            "cart_id": cart,
            "name": "Grace Hopper",
            "email": "grace@example.com",
            "address": "1 Compiler Lane, Arlington",
        }))
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let order: Value = response.json().await.ok()?;
    order["id"].as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_gives_fast_503s_and_the_shop_recovers_losing_no_order() {
    let shop = spawn_shop(Backend::Postgres).await;
    let shoppers = Shoppers::start(&shop, 3);
    tokio::time::sleep(Duration::from_secs(1)).await;

    let journal = run_file(
        &shipped("database-outage"),
        &shop.vars(),
        RunOptions::default(),
    )
    .await;
    let restored_at = Instant::now();

    assert_eq!(journal.status, Status::Completed, "{}", journal.timeline());
    assert!(
        journal
            .steady_states
            .after
            .as_ref()
            .unwrap()
            .steady_state_met
    );
    let failing = method_run(&journal, "pages-fail-fast-with-503");
    assert!(failing.ok(), "{}", journal.timeline());
    assert!(
        method_run(&journal, "readiness-fails").ok(),
        "{}",
        journal.timeline()
    );
    let during = &journal.steady_states.after.as_ref().unwrap().probes[1];
    println!(
        "during the outage: a page answered {} in {} ms (hypothesis probe: {} in {} ms)",
        value(failing, "status"),
        value(failing, "latency_ms"),
        value(during, "status"),
        value(during, "latency_ms"),
    );
    assert!(journal.rollbacks[0].ok(), "{}", journal.timeline());

    // The shop recovers by itself: no restart (same process, alive all along).
    let mut ready = false;
    for _ in 0..120 {
        if shop.admin_status("/readyz").await == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        ready,
        "the shop did not become ready again after the rollback"
    );
    println!(
        "ready again {:?} after the link came back",
        restored_at.elapsed()
    );
    assert_eq!(shop.status("/product/chefs-knife").await, 200);
    tokio::time::sleep(Duration::from_secs(1)).await;

    let (placed, attempts) = shoppers.stop().await;
    println!(
        "{} of {attempts} order attempts were answered 2xx",
        placed.len()
    );
    assert!(!placed.is_empty(), "no order was placed at all");
    for id in &placed {
        let stored = shop.db.order(id).await.expect("the database answers");
        assert!(
            stored.is_some(),
            "order {id} was answered 2xx but is not in the database"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_database_breaks_the_latency_hypothesis_and_the_rollback_removes_the_toxic() {
    let shop = spawn_shop(Backend::Postgres).await;
    // Warm the page up: the first render is not what is measured.
    assert_eq!(shop.status("/category/kitchen").await, 200);
    let journal = run_file(
        &shipped("slow-database"),
        &shop.vars(),
        RunOptions::default(),
    )
    .await;

    assert_eq!(journal.status, Status::Deviated, "{}", journal.timeline());
    let slowed = method_run(&journal, "the-latency-reaches-shoppers");
    assert!(slowed.ok(), "{}", journal.timeline());
    let before = &journal.steady_states.before.as_ref().unwrap().probes[0];
    println!(
        "category page: {} ms before, {} ms with 300 ms on the database link",
        value(before, "latency_ms"),
        value(slowed, "latency_ms")
    );
    assert!(journal.rollbacks[0].ok(), "{}", journal.timeline());
    let proxy = shop.proxy.as_ref().unwrap().client();
    assert!(
        proxy
            .toxics(crate::helpers::DB_PROXY)
            .await
            .unwrap()
            .is_empty(),
        "the toxic is still there"
    );
    assert_eq!(shop.status("/product/chefs-knife").await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_resets_fail_fast_and_the_pool_recovers() {
    let shop = spawn_shop(Backend::Postgres).await;
    let journal = run_file(
        &shipped("connection-resets"),
        &shop.vars(),
        RunOptions::default(),
    )
    .await;

    assert_eq!(journal.status, Status::Completed, "{}", journal.timeline());
    let during = method_run(&journal, "pages-fail-fast-during-the-resets");
    assert!(during.ok(), "{}", journal.timeline());
    let recovered = &journal.steady_states.after.as_ref().unwrap().probes[0];
    println!(
        "resets: pages answered {} in {} ms; after healing, served again on try {}",
        value(during, "status"),
        value(during, "latency_ms"),
        recovered.attempts.unwrap_or(1)
    );
    let proxy = shop.proxy.as_ref().unwrap().client();
    assert!(proxy
        .toxics(crate::helpers::DB_PROXY)
        .await
        .unwrap()
        .is_empty());
}
