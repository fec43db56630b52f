//! A real shop under bounded load with an injected fault, scraped by a real
//! Prometheus that evaluates the `alerts` rules; every query of every
//! dashboard must parse and return data.

use std::{
    collections::BTreeMap,
    sync::atomic::Ordering,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use alerts::{
    sloth::records,
    spec::{Indicator, SloSpec},
};
use dashboards::{
    queries,
    render::{self, ImageFormat, Window},
};
use fleet::prometheus::{Config, Prometheus};
use serde_json::Value;

use crate::helpers::{alert_rule_files, committed_dashboards, TestShop};

/// Seconds of each traffic phase (before, during and after the fault).
/// `DASHBOARDS_LIVE_PHASE_SECONDS` lengthens them, for a README picture.
fn phase() -> Duration {
    let seconds = std::env::var("DASHBOARDS_LIVE_PHASE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    Duration::from_secs(seconds)
}

/// How Prometheus scrapes in this test; `$__rate_interval` follows from it.
const SCRAPE: Duration = Duration::from_secs(1);
const STEP_SECONDS: u64 = 1;

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_panel_query_returns_data_from_a_real_shop_under_load_with_a_fault() {
    let shop = TestShop::spawn().await;
    let mut config = Config::scraping([format!("127.0.0.1:{}", shop.admin_port)])
        .scrape_interval(SCRAPE)
        .evaluation_interval(SCRAPE);
    for rules in alert_rule_files() {
        config = config.rule_file(rules);
    }
    let prometheus = Prometheus::start(config).await.expect("prometheus starts");
    prometheus
        .wait_until(
            r#"up{job="shop"}"#,
            |up| up.iter().any(|s| s.value == 1.0),
            Duration::from_secs(30),
        )
        .await
        .expect("prometheus scrapes the shop");

    // Traffic before, during and after a fault that answers 30 % of
    // requests with a 500, as in a chaos experiment: the fault is cleared
    // through the API when its phase ends.
    let start = unix_now();
    let before = shop.drive(phase()).await;
    let fault = shop.inject(&TestShop::error_fault(300)).await;
    let during = shop.drive(phase()).await;
    shop.clear_faults().await;
    let after = shop.drive(phase()).await;
    assert!(!fault.is_empty());
    assert!(
        during.server_errors.load(Ordering::Relaxed) > 0,
        "the fault answered no request with a 500"
    );
    let orders = [&before, &during, &after]
        .iter()
        .map(|t| t.orders.load(Ordering::Relaxed))
        .sum::<u64>();
    assert!(orders > 0, "no order was placed");

    // The rules have seen the traffic: every SLO has a budget, and the
    // availability SLO's page alert fires.
    let spec = SloSpec::shipped();
    prometheus
        .wait_until(
            records::PERIOD_ERROR_BUDGET_REMAINING,
            |s| s.len() == spec.slos.len() && s.iter().all(|s| s.value.is_finite()),
            Duration::from_secs(30),
        )
        .await
        .expect("every SLO's error budget is recorded");
    let availability = spec
        .slos
        .iter()
        .find(|s| matches!(s.indicator(), Indicator::Availability { .. }))
        .expect("the spec has an availability SLO");
    prometheus
        .wait_until(
            &format!(
                r#"ALERTS{{alertstate="firing", sloth_id="{}"}}"#,
                availability.id(&spec.service)
            ),
            |s| !s.is_empty(),
            Duration::from_secs(30),
        )
        .await
        .expect("the availability SLO pages under a 30 % error fault");
    // One more scrape and evaluation after the last request.
    tokio::time::sleep(SCRAPE * 3).await;
    let end = unix_now();

    let window = Window {
        start,
        end,
        step: STEP_SECONDS as f64,
    };
    let builtins = queries::builtins((end - start).ceil() as u64, STEP_SECONDS, SCRAPE.as_secs());
    let dashboards = committed_dashboards();
    let mut failures = Vec::new();
    let mut evaluated = 0;
    let mut panels = 0;
    for (file, dashboard) in &dashboards {
        panels += queries::panels(dashboard)
            .iter()
            .filter(|p| p["type"] != "row")
            .count();
        // As the dashboard opens (every "All"), then with one instance and
        // one route picked, each value found by the variable's own query.
        for values in variable_choices(&prometheus, dashboard, &builtins, &mut failures).await {
            for query in queries::panel_queries(dashboard) {
                let what = format!(
                    "{file} `{}` {} [{}]",
                    query.panel,
                    query.ref_id,
                    describe(&values)
                );
                evaluated += 1;
                let expr = match queries::substitute(&query.expr, &values) {
                    Ok(expr) => expr,
                    Err(error) => {
                        failures.push(format!("{what}: {error}"));
                        continue;
                    }
                };
                if let Err(problem) = evaluate(&prometheus, &expr, query.instant, &window).await {
                    failures.push(format!("{what}: {problem}\n    {expr}"));
                }
            }
            for annotation in queries::annotation_queries(dashboard) {
                evaluated += 1;
                let expr = queries::substitute(&annotation.expr, &values).unwrap();
                if let Err(problem) = evaluate(&prometheus, &expr, false, &window).await {
                    failures.push(format!(
                        "{file} annotation `{}`: {problem}",
                        annotation.name
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {evaluated} queries failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(dashboards.len(), dashboards::boards::uid::ALL.len());
    let requests: u64 = [&before, &during, &after]
        .iter()
        .map(|t| t.requests.load(Ordering::Relaxed))
        .sum();
    eprintln!(
        "{requests} requests, {orders} orders; {} dashboards, {panels} panels, {evaluated} query \
         evaluations: every one parsed and returned data",
        dashboards.len()
    );

    render_every_time_series(&prometheus, &dashboards, window).await;
}

/// The variable values to evaluate a dashboard with: first every "All",
/// then, if it has variables, the first value each variable's query finds.
async fn variable_choices(
    prometheus: &Prometheus,
    dashboard: &Value,
    builtins: &BTreeMap<String, String>,
    failures: &mut Vec<String>,
) -> Vec<BTreeMap<String, String>> {
    let variables = queries::variable_queries(dashboard);
    let mut all = builtins.clone();
    let mut picked = builtins.clone();
    for variable in &variables {
        all.insert(
            variable.name.clone(),
            variable.all_value.clone().unwrap_or_default(),
        );
        let (promql, label) = queries::label_values_promql(&variable.definition)
            .expect("every variable is label_values(...)");
        let promql = queries::substitute(&promql, &picked).unwrap();
        let mut options: Vec<String> = match prometheus.query(&promql).await {
            Ok(samples) => samples.iter().map(|s| s.label(&label).to_owned()).collect(),
            Err(error) => {
                failures.push(format!("variable {}: {error}", variable.name));
                Vec::new()
            }
        };
        options.sort();
        match options.first() {
            Some(first) => {
                picked.insert(variable.name.clone(), regex_escape(first));
            }
            None => failures.push(format!(
                "variable {} has no values: `{promql}`",
                variable.name
            )),
        }
    }
    if variables.is_empty() {
        vec![all]
    } else {
        vec![all, picked]
    }
}

/// A picked value inside `=~"..."`, as Grafana escapes it.
fn regex_escape(value: &str) -> String {
    regex::escape(value).replace('\\', "\\\\")
}

fn describe(values: &BTreeMap<String, String>) -> String {
    let picked: Vec<String> = values
        .iter()
        .filter(|(k, _)| !k.starts_with("__"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    picked.join(" ")
}

/// Runs a query as the panel would; an error unless some series has a
/// finite value (an all-NaN answer shows nothing either).
async fn evaluate(
    prometheus: &Prometheus,
    expr: &str,
    instant: bool,
    window: &Window,
) -> Result<(), String> {
    let finite = if instant {
        let samples = prometheus.query(expr).await.map_err(|e| e.to_string())?;
        if samples.is_empty() {
            return Err("empty".into());
        }
        samples.iter().any(|s| s.value.is_finite())
    } else {
        let series = prometheus
            .query_range(
                expr,
                UNIX_EPOCH + Duration::from_secs_f64(window.start),
                UNIX_EPOCH + Duration::from_secs_f64(window.end),
                Duration::from_secs_f64(window.step),
            )
            .await
            .map_err(|e| e.to_string())?;
        if series.is_empty() {
            return Err("empty".into());
        }
        series
            .iter()
            .flat_map(|s| &s.values)
            .any(|(_, v)| v.is_finite())
    };
    if finite {
        Ok(())
    } else {
        Err("every value is NaN or infinite".into())
    }
}

/// Every time series panel renders to a PNG with the fault shaded. With
/// `DASHBOARDS_RENDER_DIR=<dir>` the charts are kept there; with
/// `DASHBOARDS_README_IMAGE=<path>`, the service overview's request rate
/// chart is also written there (docs/images/dashboard-request-rate.png).
async fn render_every_time_series(
    prometheus: &Prometheus,
    dashboards: &[(String, Value)],
    window: Window,
) {
    let temporary = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("DASHBOARDS_RENDER_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| temporary.path().to_owned());
    let client = render::Prometheus::new(prometheus.url()).unwrap();
    let json: Vec<Value> = dashboards.iter().map(|(_, d)| d.clone()).collect();
    let options = render::Options {
        window,
        scrape_interval_seconds: SCRAPE.as_secs(),
        format: ImageFormat::Png,
        size: (1000, 420),
    };
    let written = render::render_dashboards(&client, &json, &options, &dir)
        .await
        .expect("every time series panel renders");
    let time_series = json
        .iter()
        .flat_map(queries::panels)
        .filter(|p| p["type"] == "timeseries")
        .count();
    assert_eq!(written.len(), time_series);
    for path in &written {
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    }
    // The fault annotation shades the chart: its interval covers the fault.
    let overview = &json[json
        .iter()
        .position(|d| d["uid"] == dashboards::boards::uid::OVERVIEW)
        .unwrap()];
    let values = render::variable_values(&client, overview, &window, SCRAPE.as_secs())
        .await
        .unwrap();
    let shaded = render::annotation_intervals(&client, overview, &values, &window)
        .await
        .unwrap();
    // The shading covers the fault's phase, and ends when the fault was
    // cleared: not shorter than half the phase (a failed scrape can cut a
    // second or two out of it), not longer than the phase and a few scrapes.
    let covered: f64 = shaded.iter().map(|i| i.end - i.start).sum();
    let phase_seconds = phase().as_secs_f64();
    assert!(
        covered >= phase_seconds / 2.0 && covered <= phase_seconds + 5.0 * SCRAPE.as_secs_f64(),
        "the fault is shaded for {covered} s in a {phase_seconds} s fault phase: {shaded:?}"
    );
    if let Ok(target) = std::env::var("DASHBOARDS_README_IMAGE") {
        let source = written
            .iter()
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n == "shop-overview-request-rate-by-route.png")
            })
            .expect("the overview's request rate chart");
        std::fs::copy(source, &target).unwrap();
        eprintln!("wrote {target}");
    }
}
