//! The metric contract as scraped: every metric, type, label and bucket that
//! `shop::contract::metrics` promises, read by a test parser and by a real
//! Prometheus. (Traces and log correlation are in `tests/telemetry`, which
//! owns its process's global subscriber.)

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use fleet::prometheus::{Config, Prometheus};
use reqwest::StatusCode;
use serde_json::{json, Value};
use shop::contract::metrics::{
    connection_state, labels, names, outcome, CheckoutFailure, MetricKind, CONTRACT, CURRENCY,
    LATENCY_BUCKETS, UNMATCHED_ROUTE,
};

use crate::helpers::{spawn_app, Backend, TestApp, KNIFE_ID};

mod exposition;
use exposition::{Exposition, Sample};

crate::on_both_backends!(every_contract_metric_is_exported_with_its_type_labels_and_buckets);

async fn every_contract_metric_is_exported_with_its_type_labels_and_buckets(backend: Backend) {
    let app = spawn_app(backend).await;
    let slugs = shop_traffic(&app).await;
    let exposition = Exposition::parse(&app.metrics().await);

    for spec in CONTRACT {
        assert_eq!(
            exposition.types.get(spec.name).map(String::as_str),
            Some(spec.kind.as_str()),
            "# TYPE of {}",
            spec.name
        );
        let samples = exposition.family(spec);
        assert!(!samples.is_empty(), "no sample of {}", spec.name);
        let mut expected: BTreeSet<&str> = spec.labels.iter().copied().collect();
        for sample in &samples {
            if sample.name.ends_with("_bucket") {
                expected.insert("le");
            }
            let keys: BTreeSet<&str> = sample.labels.keys().map(String::as_str).collect();
            assert_eq!(keys, expected, "labels of {sample:?}");
            expected.remove("le");
        }
    }
    for name in [
        names::PROCESS_CPU_SECONDS,
        names::PROCESS_RESIDENT_MEMORY,
        names::PROCESS_OPEN_FDS,
        names::PROCESS_MAX_FDS,
    ] {
        assert!(exposition.value(name, &[]).is_some(), "{name} is missing");
    }

    // Every latency histogram has exactly the contract's buckets.
    for name in [
        names::HTTP_SERVER_REQUEST_DURATION,
        names::DB_CLIENT_OPERATION_DURATION,
    ] {
        let bucket = format!("{name}_bucket");
        let first = exposition
            .samples
            .iter()
            .find(|s| s.name == bucket)
            .unwrap();
        let bounds: Vec<String> = exposition
            .samples
            .iter()
            .filter(|s| s.name == bucket && same_series(s, first))
            .map(|s| s.labels["le"].clone())
            .collect();
        let mut expected: Vec<String> = LATENCY_BUCKETS.iter().map(|b| b.to_string()).collect();
        expected.push("+Inf".into());
        assert_eq!(bounds, expected, "buckets of {name}");
    }

    // Label values come from the contract's small fixed sets.
    let system = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgresql",
    };
    assert_eq!(
        exposition.label_values(names::DB_CLIENT_OPERATION_DURATION, labels::DB_SYSTEM_NAME),
        BTreeSet::from([system.to_owned()])
    );
    assert!(exposition
        .label_values(names::DB_CLIENT_OPERATION_DURATION, labels::OUTCOME)
        .is_subset(&BTreeSet::from([
            outcome::OK.to_owned(),
            outcome::ERROR.to_owned()
        ])));
    assert_eq!(
        exposition.label_values(names::DB_CLIENT_CONNECTION_COUNT, labels::STATE),
        BTreeSet::from([
            connection_state::IDLE.to_owned(),
            connection_state::USED.to_owned()
        ])
    );
    assert_eq!(
        exposition.label_values(names::SHOP_CHECKOUT_FAILURES, labels::REASON),
        CheckoutFailure::ALL
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect()
    );
    assert_eq!(
        exposition.label_values(names::SHOP_ORDER_REVENUE, labels::CURRENCY),
        BTreeSet::from([CURRENCY.to_owned()])
    );
    assert_eq!(
        exposition.value(
            names::SHOP_BUILD_INFO,
            &[(labels::VERSION, env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );

    // The traffic shows in the business counters and the operation names.
    assert_eq!(exposition.value(names::SHOP_ORDERS_PLACED, &[]), Some(1.0));
    assert_eq!(
        exposition.value(names::SHOP_CART_ITEMS_ADDED, &[]),
        Some(2.0)
    );
    assert!(
        exposition.value(names::SHOP_ORDER_REVENUE, &[(labels::CURRENCY, CURRENCY)]) > Some(0.0)
    );
    assert!(exposition
        .label_values(
            names::DB_CLIENT_OPERATION_DURATION,
            labels::DB_OPERATION_NAME
        )
        .contains("place_order"));

    // Route labels are patterns: twenty products are one series per route,
    // and no raw path reaches a label.
    let routes = exposition.label_values(names::HTTP_SERVER_ACTIVE_REQUESTS, labels::HTTP_ROUTE);
    let durations =
        exposition.label_values(names::HTTP_SERVER_REQUEST_DURATION, labels::HTTP_ROUTE);
    assert_eq!(routes, durations);
    for route in [
        "/",
        "/product/{slug}",
        "/api/v1/products",
        "/api/v1/products/{id}",
        "/checkout",
        UNMATCHED_ROUTE,
    ] {
        assert!(
            durations.contains(route),
            "{route} missing from {durations:?}"
        );
    }
    for route in &durations {
        assert!(
            route == UNMATCHED_ROUTE || route.starts_with('/'),
            "{route}"
        );
        assert!(
            !route.contains("no-such-page") && !slugs.iter().any(|slug| route.contains(slug)),
            "a raw path became a label: {route}"
        );
    }
    let product_series = exposition
        .samples
        .iter()
        .filter(|s| {
            s.name == format!("{}_count", names::HTTP_SERVER_REQUEST_DURATION)
                && s.labels[labels::HTTP_ROUTE] == "/api/v1/products/{id}"
        })
        .collect::<Vec<_>>();
    assert_eq!(product_series.len(), 1, "{product_series:?}");
    assert_eq!(product_series[0].value, 20.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_the_shop_and_computes_a_latency_quantile() {
    let app = spawn_app(Backend::Sqlite).await;
    shop_traffic(&app).await;
    let admin = app.admin_address.trim_start_matches("http://").to_owned();
    let prometheus = Prometheus::start(Config::scraping([admin]))
        .await
        .expect("prometheus starts");

    // rate() needs requests between two scrapes, so traffic goes on while
    // Prometheus scrapes; it stops with the test, after at most 90 s.
    let stop = Arc::new(AtomicBool::new(false));
    let traffic = tokio::spawn({
        let (client, url, stop) = (app.client.clone(), app.url("/"), stop.clone());
        async move {
            for _ in 0..900 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let _ = client.get(&url).send().await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });

    let up = prometheus
        .wait_until(
            "up",
            |up| up.iter().any(|s| s.value == 1.0),
            Duration::from_secs(30),
        )
        .await
        .expect("the shop is scraped");
    assert_eq!(up.len(), 1);
    let p99 = prometheus
        .wait_until(
            "histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket[1m])))",
            |samples| samples.len() == 1 && samples[0].value.is_finite(),
            Duration::from_secs(60),
        )
        .await
        .expect("a p99 from two scrapes");
    let p99 = p99[0].value;
    assert!(
        p99 > 0.0 && p99 <= *LATENCY_BUCKETS.last().unwrap(),
        "p99 = {p99}"
    );
    stop.store(true, Ordering::Relaxed);
    traffic.await.unwrap();

    // Prometheus' own parser took every contract metric.
    let target = &prometheus.targets().await.unwrap()[0];
    assert_eq!(target.health, "up", "{}", target.last_error);
    let scraped: BTreeSet<String> = prometheus
        .query(r#"group by (__name__) ({job="shop"})"#)
        .await
        .unwrap()
        .iter()
        .map(|s| s.label("__name__").to_owned())
        .collect();
    for spec in CONTRACT {
        let name = match spec.kind {
            MetricKind::Histogram => format!("{}_bucket", spec.name),
            _ => spec.name.to_owned(),
        };
        assert!(scraped.contains(&name), "{name} not in {scraped:?}");
    }
}

/// Pages, twenty products through the API, a checkout, an unknown path and
/// an active fault: enough for every contract metric to have a sample.
/// Returns the product slugs requested.
async fn shop_traffic(app: &TestApp) -> Vec<String> {
    let products: Value = app
        .get("/api/v1/products?per_page=20")
        .await
        .json()
        .await
        .unwrap();
    let products = products["items"].as_array().unwrap();
    assert_eq!(products.len(), 20);
    let mut slugs = Vec::new();
    for product in products {
        let id = product["id"].as_i64().unwrap();
        assert_eq!(
            app.get(&format!("/api/v1/products/{id}")).await.status(),
            StatusCode::OK
        );
        slugs.push(product["slug"].as_str().unwrap().to_owned());
    }
    for slug in slugs.iter().take(3) {
        app.get_html(&format!("/product/{slug}")).await;
    }
    app.get_html("/").await;
    assert_eq!(
        app.get("/no-such-page/42").await.status(),
        StatusCode::NOT_FOUND
    );
    app.add_to_cart(KNIFE_ID, 2).await;
    let placed = app
        .checkout("Ada Lovelace", "ada@example.com", "12 Analytical Row")
        .await;
    assert_eq!(placed.status(), StatusCode::SEE_OTHER);
    // A fault on a route the traffic does not use, so that it shows in
    // shop_fault_active without failing anything.
    let fault = app
        .add_fault(json!({"kind": "error", "route": "/account/orders", "status": 503, "duration_seconds": 300}))
        .await;
    assert_eq!(fault.status(), StatusCode::CREATED);
    slugs
}

fn same_series(a: &Sample, b: &Sample) -> bool {
    let without_le = |s: &Sample| {
        s.labels
            .iter()
            .filter(|(k, _)| *k != "le")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<BTreeMap<_, _>>()
    };
    without_le(a) == without_le(b)
}

const CONTRACT_START: &str = "<!-- metric-contract:start -->";
const CONTRACT_END: &str = "<!-- metric-contract:end -->";

/// `docs/metrics.md`, and the README once it has the markers too, show the
/// table generated from the contract, between the markers.
#[test]
fn the_documented_metric_contract_is_the_generated_one() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let generated = format!("\n{}", shop::metrics::contract_markdown());
    for (file, required) in [("docs/metrics.md", true), ("README.md", false)] {
        let path = root.join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let Some((before, rest)) = text.split_once(CONTRACT_START) else {
            assert!(!required, "{file} has no {CONTRACT_START} marker");
            continue;
        };
        let (shown, after) = rest
            .split_once(CONTRACT_END)
            .unwrap_or_else(|| panic!("{file} has no {CONTRACT_END} marker"));
        if shown == generated {
            continue;
        }
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            let updated = format!("{before}{CONTRACT_START}{generated}{CONTRACT_END}{after}");
            std::fs::write(&path, updated).unwrap();
        } else {
            panic!(
                "the metric table in {file} is not the contract's; check the change, then \
                 UPDATE_GOLDEN=1 cargo test -p shop --test api documented_metric_contract\n\
                 expected:{generated}"
            );
        }
    }
}
