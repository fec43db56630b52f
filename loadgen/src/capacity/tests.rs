use std::time::{Duration, Instant};

use alerts::spec::SloSpec;

use super::exposition;
use super::pod::Scrape;
use super::stepping::judge;
use super::*;

/// A scrape of made-up `/metrics` text: page routes `/` and `/products/{id}`
/// with their `le="0.25"` bucket and count, an API route, and checkouts.
fn scrape(at: Instant, cpu_seconds: f64, series: &[(&str, f64)]) -> Scrape {
    let text: String = series.iter().map(|(s, v)| format!("{s} {v}\n")).collect();
    Scrape {
        at,
        samples: exposition::parse(&text, "shop").unwrap(),
        cpu_seconds,
    }
}

fn page(route: &str, status: &str, le_025: f64, count: f64) -> [(String, f64); 2] {
    let labels = format!(
        "http_request_method=\"GET\",http_route=\"{route}\",http_response_status_code=\"{status}\""
    );
    [
        (
            format!("http_server_request_duration_seconds_bucket{{{labels},le=\"0.25\"}}"),
            le_025,
        ),
        (
            format!("http_server_request_duration_seconds_count{{{labels}}}"),
            count,
        ),
    ]
}

fn metrics(
    pages: &[[(String, f64); 2]],
    orders: f64,
    internal_failures: f64,
) -> Vec<(String, f64)> {
    let mut all: Vec<(String, f64)> = pages.iter().flat_map(|p| p.clone()).collect();
    all.push(("shop_orders_placed_total".into(), orders));
    all.push((
        "shop_checkout_failures_total{reason=\"internal\"}".into(),
        internal_failures,
    ));
    all.push((
        "shop_checkout_failures_total{reason=\"out_of_stock\"}".into(),
        internal_failures * 10.0,
    ));
    all
}

fn refs(v: &[(String, f64)]) -> Vec<(&str, f64)> {
    v.iter().map(|(s, x)| (s.as_str(), *x)).collect()
}

fn step_of(before: &[(String, f64)], after: &[(String, f64)]) -> Step {
    let t0 = Instant::now();
    let before = scrape(t0, 10.0, &refs(before));
    let after = scrape(t0 + Duration::from_secs(10), 15.0, &refs(after));
    judge(&SloSpec::shipped(), 100, &before, &after, 1.0).unwrap()
}

#[test]
fn a_step_holds_when_the_slo_ratio_holds_though_one_routes_p99_is_slow() {
    // 1,000 requests in 10 s; 6 of the 600 product pages (1 %) and 2 of the
    // 400 home pages were over 250 ms: the product page's own p99 is past
    // the threshold, but 8 of 1,000 page requests is 0.8 %, within the 1 %
    // budget of page-latency, and that is what the recording rule computes.
    let before = metrics(
        &[
            page("/", "200", 0.0, 0.0),
            page("/products/{id}", "200", 0.0, 0.0),
        ],
        0.0,
        0.0,
    );
    let after = metrics(
        &[
            page("/", "200", 398.0, 400.0),
            page("/products/{id}", "200", 594.0, 600.0),
        ],
        50.0,
        0.0,
    );
    let step = step_of(&before, &after);
    let latency = step.slis.iter().find(|v| v.slo == "page-latency").unwrap();
    assert_eq!((latency.bad_events, latency.events), (8.0, 1000.0));
    assert!(step.held, "{:?}", step.breaches);
    assert_eq!(step.requests, 1000);
    assert_eq!(step.requests_per_second, 100.0);
    assert_eq!(step.cpu_cores, 0.5);
    assert_eq!(step.cpu_percent_of_limit, 50.0);
}

#[test]
fn a_step_breaks_when_bad_events_exceed_an_objectives_budget() {
    let before = metrics(
        &[page("/", "200", 0.0, 0.0), page("/", "503", 0.0, 0.0)],
        0.0,
        0.0,
    );
    // 2 server errors in 1,000 requests: 0.2 % against availability's 0.1 %;
    // and 1 internal checkout failure beside 50 orders: 1.96 % against 0.1 %.
    let after = metrics(
        &[page("/", "200", 998.0, 998.0), page("/", "503", 2.0, 2.0)],
        50.0,
        1.0,
    );
    let step = step_of(&before, &after);
    assert!(!step.held);
    let broke: Vec<&str> = step
        .slis
        .iter()
        .filter(|v| !v.held)
        .map(|v| v.slo.as_str())
        .collect();
    assert_eq!(broke, ["availability", "checkout"]);
    assert!(
        step.breaches[0].starts_with("availability: 0.200 % bad events"),
        "{:?}",
        step.breaches
    );
}

#[test]
fn a_step_with_no_checkouts_holds_checkout_and_stepping_stops_when_the_rate_stops_growing() {
    let before = metrics(&[page("/", "200", 0.0, 0.0)], 0.0, 0.0);
    let after = metrics(&[page("/", "200", 900.0, 900.0)], 0.0, 0.0);
    let step = step_of(&before, &after);
    let checkout = step.slis.iter().find(|v| v.slo == "checkout").unwrap();
    assert!(
        checkout.held && checkout.bad_ratio.is_none(),
        "no checkouts, nothing bad"
    );
    assert!(step.held);
    let mut faster = step.clone();
    faster.requests_per_second = 100.0;
    assert!(
        !super::stepping::saturated(&step, &faster),
        "90 to 100 req/s grew"
    );
    faster.requests_per_second = 91.0;
    assert!(
        super::stepping::saturated(&step, &faster),
        "90 to 91 req/s did not"
    );
}

#[test]
fn counters_that_reset_count_from_zero() {
    let before = exposition::parse("a_total 50\nb_total 5\n", "shop").unwrap();
    let after = exposition::parse("a_total 20\nb_total 7\nc_total 3\n", "shop").unwrap();
    let grew: Vec<f64> = sli::increase(&before, &after)
        .iter()
        .map(|s| s.value)
        .collect();
    assert_eq!(grew, [20.0, 2.0, 3.0]);
}

#[test]
fn an_sli_query_of_another_shape_is_refused_with_its_text() {
    let error = sli::evaluate("histogram_quantile(0.99, x)", &[]).unwrap_err();
    assert!(error.contains("expected `sum(`"), "{error}");
}

fn sample_file() -> CapacityFile {
    let t0 = Instant::now();
    let before = scrape(t0, 0.0, &[]);
    let after = scrape(
        t0 + Duration::from_secs(10),
        4.0,
        &[(
            "http_server_request_duration_seconds_count{http_route=\"/\"}",
            1000.0,
        )],
    );
    let step = judge(&SloSpec::shipped(), 100, &before, &after, 0.5).unwrap();
    CapacityFile {
        format: FORMAT.into(),
        tool: "loadgen 0.1.0".into(),
        measured_at: "2026-12-03T07:00:00Z".into(),
        build: Build {
            profile: "release".into(),
            binary: "target/release/shop".into(),
            version: "0.1.0".into(),
        },
        backend: "postgresql".into(),
        cpu: CpuSettings {
            limit_cores: 0.5,
            request_cores: 0.25,
            source: "k8s/base/shop/deployment.yaml".into(),
        },
        load: LoadSettings {
            model: "open".into(),
            replicas: 1,
            users: 32,
            step_seconds: 10.0,
        },
        machine: Machine {
            cpus: 2,
            load_average_before: 0.5,
        },
        slo_source: "alerts/slo.yaml".into(),
        objectives: vec![ObjectiveRecord {
            name: "availability".into(),
            objective_percent: 99.9,
        }],
        capacity: best(std::slice::from_ref(&step)),
        steps: vec![step],
        stopped_because: "reached --max-rps 100".into(),
    }
}

#[test]
fn a_capacity_file_reads_back_as_it_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("capacity.json");
    let file = sample_file();
    assert_eq!(file.capacity.as_ref().unwrap().cpu_cores, 0.4);
    write_file(&path, &file).unwrap();
    assert_eq!(read_file(&path).unwrap(), file);
}

#[test]
fn a_capacity_file_of_another_format_or_with_missing_fields_is_refused() {
    let path = std::path::Path::new("capacity.json");
    let mut json = serde_json::to_value(sample_file()).unwrap();
    let error = |text: &str| crate::attack::cause_chain(&parse(path, text).unwrap_err());

    json["format"] = "loadgen-capacity/v1".into();
    assert!(error(&json.to_string()).contains("its format is loadgen-capacity/v1"));
    json.as_object_mut().unwrap().remove("format");
    assert!(error(&json.to_string()).contains("it has no `format` field"));

    json["format"] = FORMAT.into();
    json.as_object_mut().unwrap().remove("cpu");
    let missing = error(&json.to_string());
    assert!(
        missing.contains("capacity.json is not a valid capacity file: missing field `cpu`"),
        "{missing}"
    );
    assert!(error("{").contains("not a valid capacity file: EOF"));
}

#[test]
fn capacity_is_the_fastest_step_before_the_first_that_broke() {
    let mut steps = vec![sample_file().steps[0].clone(); 4];
    for (i, rps) in [100.0, 180.0, 170.0, 300.0].into_iter().enumerate() {
        steps[i].requests_per_second = rps;
        steps[i].target_rps = rps;
    }
    steps[3].held = false;
    assert_eq!(best(&steps).unwrap().requests_per_second, 180.0);
    steps[0].held = false;
    assert_eq!(best(&steps), None);
}
