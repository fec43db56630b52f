use std::collections::HashMap;

use goose::goose::GooseMethod;
use goose::metrics::{GooseMetrics, GooseRequestMetricAggregate, GooseRequestMetricTimingData};
use goose::threshold::{Threshold, ThresholdResult};

use super::*;
use crate::slo::shipped;

/// Request metrics with `ok` successes and `failed` failures, answered in the
/// given milliseconds (one request per entry, cycling).
fn aggregate(path: &str, ok: usize, failed: usize, millis: &[u64]) -> GooseRequestMetricAggregate {
    let mut data = GooseRequestMetricTimingData::default();
    let total = ok + failed;
    for i in 0..total {
        let us = millis[i % millis.len()] * 1000;
        let before = data.times_us.get(&us).copied().unwrap_or(0);
        data.times_us.insert(us, before + 1);
        if data.counter == 0 || us < data.minimum_time_us {
            data.minimum_time_us = us;
        }
        data.maximum_time_us = data.maximum_time_us.max(us);
        data.total_time_us += us;
        data.counter += 1;
    }
    GooseRequestMetricAggregate {
        path: path.into(),
        method: GooseMethod::Get,
        raw_data: data,
        coordinated_omission_data: None,
        status_code_counts: HashMap::new(),
        status_code_timings: HashMap::new(),
        success_count: ok,
        fail_count: failed,
        load_test_hash: 0,
        custom_method: String::new(),
    }
}

fn metrics(requests: Vec<(&str, GooseRequestMetricAggregate)>) -> GooseMetrics {
    let mut metrics = GooseMetrics::default();
    for (key, aggregate) in requests {
        metrics.requests.insert(key.to_string(), aggregate);
    }
    metrics
}

fn requests() -> Vec<String> {
    [
        "GET /",
        "GET /cart",
        "POST /checkout",
        "GET /api/v1/products",
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn objectives_become_goose_thresholds_that_goose_accepts() {
    let gate = Gate::new(shipped(), &requests());
    let rules: Vec<&str> = gate.rules().iter().map(|r| r.text.as_str()).collect();
    assert_eq!(
        rules,
        [
            "error-rate<0.1%",
            "p99<250ms for GET /",
            "p99<250ms for GET /cart",
            "p99<250ms for POST /checkout",
            "error-rate<0.1% for POST /checkout",
        ]
    );
    for rule in rules {
        assert!(rule.parse::<Threshold>().is_ok(), "Goose refuses {rule}");
    }
}

#[test]
fn a_healthy_run_holds_every_objective() {
    let gate = Gate::new(shipped(), &requests());
    let run = metrics(vec![
        ("GET /", aggregate("/", 1000, 0, &[5, 10, 20])),
        ("GET /cart", aggregate("/cart", 500, 0, &[8])),
        ("POST /checkout", aggregate("/checkout", 100, 0, &[30])),
    ]);
    let verdicts = gate.evaluate(&run, false);
    assert!(verdicts.iter().all(|v| v.held), "{verdicts:#?}");
    assert_eq!(verdicts[0].total, 1600);
    assert_eq!(verdicts[0].measured_percent, Some(100.0));
}

#[test]
fn failed_requests_breach_availability_and_say_by_how_much() {
    let gate = Gate::new(shipped(), &requests());
    let run = metrics(vec![
        ("GET /", aggregate("/", 990, 10, &[5])),
        ("POST /checkout", aggregate("/checkout", 100, 0, &[30])),
    ]);
    let verdicts = gate.evaluate(&run, false);
    let availability = &verdicts[0];
    assert!(!availability.held);
    assert_eq!(availability.good, 1090);
    assert_eq!(availability.total, 1100);
    let burn = availability.budget_burn().unwrap();
    assert!((burn - 9.09).abs() < 0.01, "{burn}");
    let text = availability.explain();
    assert!(text.starts_with("SLO availability breached: 99.09 % good of 1100 events, objective 99.9 % (0.81 points short"), "{text}");
    assert!(
        text.contains("error-rate<0.1% failed: 0.91 % failed, limit 0.1 % (9.09× the limit)"),
        "{text}"
    );
    assert!(
        verdicts[2].held,
        "checkout had no failure: {:#?}",
        verdicts[2]
    );
}

#[test]
fn one_slow_page_breaches_latency_even_when_the_rest_are_fast() {
    let gate = Gate::new(shipped(), &requests());
    let mut slow = vec![10; 95];
    slow.extend([400; 5]);
    let run = metrics(vec![
        ("GET /", aggregate("/", 1000, 0, &[5])),
        ("GET /cart", aggregate("/cart", 100, 0, &slow)),
        ("POST /checkout", aggregate("/checkout", 10, 0, &[30])),
        (
            "GET /api/v1/products",
            aggregate("/api/v1/products", 10, 0, &[900]),
        ),
    ]);
    let verdicts = gate.evaluate(&run, false);
    let latency = &verdicts[1];
    assert!(!latency.held);
    assert!(latency.rules[0].passed, "GET / is fast");
    assert!(!latency.rules[1].passed, "GET /cart is slow");
    // 1105 of 1110 page requests were under 250 ms; the slow API is no page.
    assert_eq!((latency.good, latency.total), (1105, 1110));
    assert!(
        latency.explain().starts_with(
            "SLO page-latency breached: overall 99.55 % good of 1110 events (objective 99 %), \
             but p99<250ms for GET /cart failed: p99 399"
        ),
        "{}",
        latency.explain()
    );
    assert!(verdicts[0].held && verdicts[2].held);
}

#[test]
fn a_route_that_was_never_requested_fails_its_rule() {
    let gate = Gate::new(shipped(), &requests());
    let run = metrics(vec![("GET /", aggregate("/", 10, 0, &[5]))]);
    let checkout = &gate.evaluate(&run, false)[2];
    assert!(!checkout.held);
    assert_eq!(checkout.rules[0].detail, "no samples");
    assert_eq!(checkout.measured_percent, None);
}

#[test]
fn goose_results_decide_the_verdict() {
    let gate = Gate::new(shipped(), &requests());
    let run = metrics(vec![("GET /", aggregate("/", 10, 0, &[5]))]);
    let results: Vec<ThresholdResult> = gate
        .rules()
        .iter()
        .map(|rule| ThresholdResult {
            rule: rule.text.clone(),
            observed: "x".into(),
            value: Some(if rule.text == "p99<250ms for GET /cart" {
                300.0
            } else {
                0.0
            }),
            passed: rule.text != "p99<250ms for GET /cart",
            aborted: false,
        })
        .collect();
    let verdicts = gate.judge(&results, &run);
    let held: Vec<bool> = verdicts.iter().map(|v| v.held).collect();
    assert_eq!(held, [true, false, true]);
    assert_eq!(verdicts[1].rules[1].detail, "p99 300 ms, 50 ms over 250 ms");
}

#[test]
fn a_rule_only_covers_requests_the_run_makes() {
    let only_api = ["GET /api/v1/products".to_string()];
    let gate = Gate::new(shipped(), &only_api);
    let rules: Vec<&str> = gate.rules().iter().map(|r| r.text.as_str()).collect();
    assert_eq!(rules, ["error-rate<0.1%"]);
}
