//! The prometheus-adapter rule of k8s/components/prometheus-adapter, rendered
//! as the adapter renders it and evaluated against a real Prometheus that
//! scrapes two real shops (each on a fresh PostgreSQL database) labelled as
//! pods `a` and `b` of namespace `shop`, as the Prometheus operator labels a
//! ServiceMonitor's targets.

use std::collections::BTreeMap;
use std::time::Duration;

use fleet::prometheus::{Config, Prometheus};
use serde::Deserialize;
use shop::configuration::Settings;
use shop::startup::Application;

use crate::helpers::{exclusive, request_counts};
use crate::workspace;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AdapterConfig {
    rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    series_query: String,
    resources: Resources,
    name: Naming,
    metrics_query: String,
}

#[derive(Debug, Deserialize)]
struct Resources {
    overrides: BTreeMap<String, Override>,
}

#[derive(Debug, Deserialize)]
struct Override {
    resource: String,
}

#[derive(Debug, Deserialize)]
struct Naming {
    matches: String,
    #[serde(rename = "as")]
    served_as: String,
}

fn rule() -> Rule {
    let path = workspace().join("k8s/components/prometheus-adapter/config.yaml");
    let text = std::fs::read_to_string(&path).expect("the adapter's config");
    let mut config: AdapterConfig = serde_yaml::from_str(&text).expect("adapter config YAML");
    assert_eq!(config.rules.len(), 1);
    config.rules.remove(0)
}

/// The label of the rule's `resources.overrides` that names `resource`.
fn label_for(rule: &Rule, resource: &str) -> String {
    rule.resources
        .overrides
        .iter()
        .find(|(_, o)| o.resource == resource)
        .map(|(label, _)| label.clone())
        .unwrap_or_else(|| panic!("no label maps to {resource}"))
}

/// `metricsQuery` as prometheus-adapter renders it for a Pods metric of
/// `pods` in `namespace` (its metricsQuery builder): `.Series` is the series
/// name; `.LabelMatchers` is `namespace="ns"` then `pod="name"` for one pod,
/// `pod=~"a|b"` for several, joined by commas; `.GroupBy` is the pod label.
fn render(rule: &Rule, series: &str, namespace: &str, pods: &[&str]) -> String {
    let namespace_label = label_for(rule, "namespace");
    let pod_label = label_for(rule, "pod");
    let pod_matcher = match pods {
        [one] => format!("{pod_label}={one:?}"),
        many => format!("{pod_label}=~{:?}", many.join("|")),
    };
    let matchers = format!("{namespace_label}={namespace:?},{pod_matcher}");
    let rendered = rule
        .metrics_query
        .replace("<<.Series>>", series)
        .replace("<<.LabelMatchers>>", &matchers)
        .replace("<<.GroupBy>>", &pod_label);
    assert!(
        !rendered.contains("<<"),
        "a template field the test does not render: {rendered}"
    );
    rendered
}

/// Paced GETs against `base`: `per_second` for `seconds`.
async fn load(client: reqwest::Client, base: String, per_second: u32, seconds: u32) {
    let mut tick = tokio::time::interval(Duration::from_secs(1) / per_second);
    for _ in 0..per_second * seconds {
        tick.tick().await;
        let response = client
            .get(format!("{base}/api/v1/products?per_page=5"))
            .send()
            .await
            .expect("the shop answers");
        assert!(response.status().is_success(), "{}", response.status());
    }
}

struct Replica {
    base: String,
    admin: String,
    database: String,
}

async fn replica() -> Replica {
    let database = fleet::postgres::fresh_database("loadgen_adapter").await;
    let app = Application::build(Settings::ephemeral(&database))
        .await
        .expect("the shop starts on PostgreSQL");
    let replica = Replica {
        base: format!("http://127.0.0.1:{}", app.port()),
        admin: format!("127.0.0.1:{}", app.admin_port()),
        database,
    };
    tokio::spawn(app.run_until_stopped());
    replica
}

async fn own_count(client: &reqwest::Client, replica: &Replica) -> f64 {
    let text = client
        .get(format!("http://{}/metrics", replica.admin))
        .send()
        .await
        .expect("the admin port answers")
        .text()
        .await
        .unwrap();
    request_counts(&text).values().sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adapter_rule_serves_each_pods_own_request_rate() {
    let _machine = exclusive().await;
    let rule = rule();
    let started = std::time::Instant::now();
    let replicas = [replica().await, replica().await];
    let client = reqwest::Client::new();
    // One request each before the first scrape, so that the series exist
    // from Prometheus' first sample on.
    for r in &replicas {
        load(client.clone(), r.base.clone(), 1, 1).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let targets = dir.path().join("targets.json");
    let groups: Vec<serde_json::Value> = replicas
        .iter()
        .zip(["a", "b"])
        .map(|(r, pod)| serde_json::json!({"targets": [r.admin], "labels": {"pod": pod, "namespace": "shop"}}))
        .collect();
    std::fs::write(&targets, serde_json::to_string(&groups).unwrap()).unwrap();
    let prometheus =
        Prometheus::start(Config::scraping(Vec::<String>::new()).discovering(&targets))
            .await
            .expect("prometheus starts");
    // The series the adapter discovers, named as the rule says.
    let discovered = prometheus
        .wait_until(
            &rule.series_query,
            |s| s.len() >= 2,
            Duration::from_secs(30),
        )
        .await
        .expect("both pods' series");
    let series = discovered[0].metric["__name__"].clone();
    let matches = regex::Regex::new(&rule.name.matches).expect("name.matches is a regex");
    assert!(matches.is_match(&series), "{series}");
    assert_eq!(rule.name.served_as, loadgen::hpa::REQUEST_RATE_METRIC);

    // Pod a twice as busy as pod b.
    let busy = tokio::spawn(load(client.clone(), replicas[0].base.clone(), 40, 12));
    let quiet = tokio::spawn(load(client.clone(), replicas[1].base.clone(), 20, 12));
    busy.await.unwrap();
    quiet.await.unwrap();
    let own = [
        own_count(&client, &replicas[0]).await,
        own_count(&client, &replicas[1]).await,
    ];
    let scraped = format!("sum by (pod) ({series})");
    prometheus
        .wait_until(
            &scraped,
            |s| {
                s.len() == 2
                    && s.iter()
                        .all(|x| x.value == own[usize::from(x.metric["pod"] == "b")])
            },
            Duration::from_secs(30),
        )
        .await
        .expect("Prometheus has scraped every request");

    let query = render(&rule, &series, "shop", &["a", "b"]);
    let values = prometheus
        .query(&query)
        .await
        .expect("the rendered query runs");
    let by_pod: BTreeMap<String, f64> = values
        .iter()
        .map(|s| {
            assert_eq!(s.metric.keys().collect::<Vec<_>>(), ["pod"], "{query}");
            (s.metric["pod"].clone(), s.value)
        })
        .collect();
    assert_eq!(by_pod.keys().collect::<Vec<_>>(), ["a", "b"], "{query}");
    // Both shops are younger than the rule's rate window: its rate is each
    // shop's own request count over the whole window.
    let window = rate_window_seconds(&query);
    assert!(
        started.elapsed().as_secs_f64() < window,
        "the test outlived the {window} s window"
    );
    for ((pod, value), own) in by_pod.iter().zip(own) {
        let expected = own / window;
        assert!(
            (value - expected).abs() <= expected * 0.1,
            "pod {pod}: the adapter would serve {value} req/s, the shop counted {own} requests ({expected} req/s over {window} s); query {query}"
        );
    }
    assert!(by_pod["a"] > by_pod["b"] * 1.5, "{by_pod:?}");
    // One pod asked for alone gets its own value only.
    let alone = prometheus
        .query(&render(&rule, &series, "shop", &["b"]))
        .await
        .unwrap();
    assert_eq!(alone.len(), 1);
    assert_eq!(alone[0].metric["pod"], "b");

    drop(prometheus);
    for r in &replicas {
        drop_database(&r.database).await;
    }
}

/// The range of the query's one range selector, in seconds: `[2m]` is 120.
fn rate_window_seconds(query: &str) -> f64 {
    let range = regex::Regex::new(r"\[(\d+)([sm])\]").unwrap();
    let captures: Vec<_> = range.captures_iter(query).collect();
    assert_eq!(captures.len(), 1, "one range selector in {query}");
    let amount: f64 = captures[0][1].parse().unwrap();
    if &captures[0][2] == "m" {
        amount * 60.0
    } else {
        amount
    }
}

/// Drop the database at `url` from the server's `postgres` database, ending
/// its sessions (the shops' pools) first.
async fn drop_database(url: &str) {
    use sqlx::{Connection, Executor};
    let (server, name) = url.rsplit_once('/').expect("a database URL");
    let mut connection = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("connecting to PostgreSQL");
    connection
        .execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str())
        .await
        .expect("dropping the test database");
}
