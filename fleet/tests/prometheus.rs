//! The fleet's Prometheus, scraping a tiny exporter that this test serves.

use std::time::{Duration, SystemTime};

use fleet::prometheus::{Config, Error, Prometheus};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

const METRICS: &str = "# TYPE demo_requests_total counter\ndemo_requests_total{route=\"/\"} 42\n";

/// Serves `METRICS` to every request; returns `host:port`.
async fn serve_metrics() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{METRICS}",
                    METRICS.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    address
}

const RULES: &str = r#"
groups:
  - name: demo
    rules:
      - record: demo:requests:sum
        expr: sum(demo_requests_total)
      - alert: DemoRequestsSeen
        expr: demo_requests_total > 0
        labels:
          severity: ticket
"#;

#[tokio::test]
async fn prometheus_scrapes_the_targets_evaluates_the_rules_and_answers_queries() {
    let target = serve_metrics().await;
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yaml");
    std::fs::write(&rules, RULES).unwrap();
    let started = SystemTime::now();
    let prometheus = Prometheus::start(Config::scraping([target.clone()]).rule_file(&rules))
        .await
        .unwrap();

    let up = prometheus
        .wait_until(
            "up",
            |s| s.iter().any(|s| s.value == 1.0),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(up[0].label("job"), "shop");
    assert_eq!(up[0].label("instance"), target);

    let recorded = prometheus
        .wait_until(
            "demo:requests:sum",
            |s| !s.is_empty(),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    assert_eq!(recorded[0].value, 42.0);

    let scalar = prometheus
        .query("scalar(demo:requests:sum) * 2")
        .await
        .unwrap();
    assert_eq!(scalar[0].value, 84.0);

    prometheus
        .wait_until(
            "count_over_time(demo_requests_total[1m]) >= 3",
            |s| !s.is_empty(),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
    let series = prometheus
        .query_range(
            "demo_requests_total",
            started,
            SystemTime::now(),
            Duration::from_secs(1),
        )
        .await
        .unwrap();
    assert_eq!(series.len(), 1);
    assert!(series[0].values.len() >= 2, "{series:?}");
    assert!(series[0].values.iter().all(|&(_, v)| v == 42.0));

    // No `for:`, so the alert fires at its first evaluation.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let alert = loop {
        let alerts = prometheus.alerts().await.unwrap();
        if let Some(alert) = alerts.into_iter().find(|a| a.name() == "DemoRequestsSeen") {
            break alert;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the alert never became active"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(alert.is_firing(), "{alert:?}");
    assert_eq!(alert.label("severity"), "ticket");
    assert_eq!(alert.label("route"), "/");

    let rules = prometheus.rules().await.unwrap();
    assert_eq!(rules.len(), 2);
    assert!(rules.iter().all(|r| r.health == "ok"), "{rules:?}");

    let targets = prometheus.targets().await.unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].health, "up");
    assert!(targets[0].scrape_url.ends_with("/metrics"));
}

#[tokio::test]
async fn refused_queries_and_unmet_waits_are_errors_that_say_why() {
    let prometheus = Prometheus::start(Config::scraping(Vec::<String>::new()))
        .await
        .unwrap();
    let error = prometheus.query("sum(").await.unwrap_err();
    assert!(matches!(error, Error::Api { .. }), "{error}");
    assert!(error.to_string().contains("sum("), "{error}");

    let error = prometheus
        .wait_until("vector(1)", |s| s.is_empty(), Duration::from_millis(500))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error}");
    assert!(error.to_string().contains("vector(1)"), "{error}");
}

#[tokio::test]
async fn dropping_the_server_stops_it() {
    let prometheus = Prometheus::start(Config::scraping(Vec::<String>::new()))
        .await
        .unwrap();
    let url = prometheus.url().to_owned();
    drop(prometheus);
    let answer = reqwest::get(format!("{url}/-/ready")).await;
    assert!(answer.is_err(), "prometheus still answers after drop");
}
