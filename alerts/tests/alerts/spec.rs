//! The spec: the shipped one, and what `alerts check` says about bad ones.

use alerts::{
    spec::{Indicator, SloSpec},
    Error,
};
use shop_contract::metrics::{names, CheckoutFailure, LATENCY_BUCKETS};

use crate::helpers::shipped_spec;

#[test]
fn the_shipped_spec_has_the_three_objectives_of_the_design() {
    let spec = shipped_spec();
    assert_eq!(spec.service, "shop");
    let objectives: Vec<_> = spec
        .slos
        .iter()
        .map(|s| (s.name.as_str(), s.objective))
        .collect();
    assert_eq!(
        objectives,
        [
            ("availability", 99.9),
            ("page-latency", 99.0),
            ("checkout", 99.9)
        ]
    );
    assert_eq!(SloSpec::shipped(), spec, "the compiled-in copy is the file");
}

#[test]
fn the_shipped_queries_read_only_contract_metrics() {
    let histogram = |suffix: &str| format!("{}{suffix}", names::HTTP_SERVER_REQUEST_DURATION);
    let allowed = [
        histogram("_count"),
        histogram("_bucket"),
        names::SHOP_ORDERS_PLACED.to_owned(),
        names::SHOP_CHECKOUT_FAILURES.to_owned(),
    ];
    for slo in &shipped_spec().slos {
        let events = slo.sli.events.as_ref().expect("events SLIs");
        for query in [events.error_query("5m"), events.total_query("5m")] {
            for selector in alerts::promql::selectors(&query).unwrap() {
                assert!(
                    allowed.contains(&selector.metric),
                    "{}: {}",
                    slo.name,
                    selector.metric
                );
                assert!(
                    selector
                        .matchers
                        .iter()
                        .any(|m| m.label == "job" && m.value == alerts::SHOP_JOB),
                    "{}: {query} selects job=\"shop\"",
                    slo.name
                );
            }
        }
    }
}

#[test]
fn the_latency_slo_counts_page_requests_over_a_histogram_bucket() {
    let spec = shipped_spec();
    let Indicator::Latency {
        threshold_seconds,
        routes,
    } = spec.slo("page-latency").unwrap().indicator()
    else {
        panic!("page-latency is a latency SLO");
    };
    assert_eq!(threshold_seconds, 0.25);
    assert!(LATENCY_BUCKETS.contains(&threshold_seconds));
    for page in [
        "/",
        "/product/{slug}",
        "/category/{slug}",
        "/search",
        "/cart",
        "/checkout",
        "/orders/{id}",
    ] {
        assert!(routes.matches(page), "{page} is a page");
    }
    for other in [
        "/api/v1/products",
        "/api/v1/orders",
        "/static/{filename}",
        "/images/{slug}.svg",
    ] {
        assert!(!routes.matches(other), "{other} is not a page");
    }
}

#[test]
fn the_availability_slo_counts_every_route_and_only_server_errors() {
    let Indicator::Availability { routes, status } =
        shipped_spec().slo("availability").unwrap().indicator()
    else {
        panic!("availability is an availability SLO");
    };
    assert!(routes.matches("/api/v1/orders") && routes.matches("/"));
    assert!(status.matches("500") && status.matches("503"));
    assert!(!status.matches("404") && !status.matches("429") && !status.matches("200"));
}

#[test]
fn the_checkout_slo_counts_exactly_the_server_side_failures() {
    let Indicator::Checkout { reasons } = shipped_spec().slo("checkout").unwrap().indicator()
    else {
        panic!("checkout is a checkout SLO");
    };
    let server_side: Vec<_> = CheckoutFailure::ALL
        .into_iter()
        .filter(|r| r.is_server_side())
        .collect();
    assert_eq!(reasons, server_side);
}

#[test]
fn queries_render_for_any_window() {
    let slo = shipped_spec();
    let slo = slo.slo("availability").unwrap();
    let query = slo.error_ratio_query("10m");
    assert!(query.contains("[10m]") && !query.contains("{{"), "{query}");
    assert!((slo.objective_ratio() - 0.999).abs() < 1e-12);
    assert!((slo.error_budget_ratio() - 0.001).abs() < 1e-12);
}

const GOOD: &str = r#"
version: prometheus/v1
service: shop
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_server_request_duration_seconds_count{http_response_status_code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_server_request_duration_seconds_count[{{.window}}]))
    alerting:
      name: ShopAvailability
"#;

fn problems(yaml: &str) -> String {
    match SloSpec::parse(yaml, "test.yaml") {
        Ok(_) => panic!("the spec should be refused:\n{yaml}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn the_good_example_is_accepted() {
    SloSpec::parse(GOOD, "test.yaml").unwrap();
}

#[test]
fn an_unknown_field_is_named_with_its_line() {
    let message = problems(&GOOD.replace("error_query", "eror_query"));
    assert!(message.contains("unknown field `eror_query`"), "{message}");
    assert!(message.contains("at line 9 column 9"), "{message}");
    assert!(message.starts_with("test.yaml: "), "{message}");
}

#[test]
fn an_objective_out_of_range_is_refused() {
    for bad in ["100", "100.5", "0", "-1", ".nan"] {
        let message = problems(&GOOD.replace("objective: 99.9", &format!("objective: {bad}")));
        assert!(message.contains("slos[0].objective"), "{message}");
        assert!(message.contains("out of range"), "{message}");
    }
}

#[test]
fn a_query_without_the_window_template_is_refused() {
    let message = problems(&GOOD.replace(
        "_count[{{.window}}]))\n    alerting",
        "_count[5m]))\n    alerting",
    ));
    assert!(
        message.contains("slos[0].sli.events.total_query"),
        "{message}"
    );
    assert!(message.contains("does not use {{.window}}"), "{message}");
}

#[test]
fn a_metric_outside_the_contract_is_refused() {
    let message = problems(&GOOD.replace(
        "sum(rate(http_server_request_duration_seconds_count[",
        "sum(rate(http_requests_total[",
    ));
    assert!(
        message.contains("unknown metric `http_requests_total`"),
        "{message}"
    );
}

#[test]
fn a_latency_threshold_that_is_not_a_bucket_bound_is_refused() {
    let latency = GOOD.replace(
        r#"sum(rate(http_server_request_duration_seconds_count{http_response_status_code=~"5.."}[{{.window}}]))"#,
        r#"sum(rate(http_server_request_duration_seconds_count[{{.window}}])) - sum(rate(http_server_request_duration_seconds_bucket{le="0.3"}[{{.window}}]))"#,
    );
    let message = problems(&latency);
    assert!(
        message.contains(r#"le="0.3" is not one of the histogram's bucket bounds"#),
        "{message}"
    );
    SloSpec::parse(&latency.replace("0.3", "0.25"), "test.yaml").unwrap();
}

#[test]
fn every_problem_is_reported_at_once() {
    let bad = GOOD
        .replace("prometheus/v1", "prometheus/v2")
        .replace("objective: 99.9", "objective: 120")
        .replace("name: ShopAvailability", "name: Shop Availability");
    let Err(Error::Invalid { problems, .. }) = SloSpec::parse(&bad, "test.yaml") else {
        panic!("invalid");
    };
    let at: Vec<_> = problems.iter().map(|p| p.at.as_str()).collect();
    assert_eq!(
        at,
        ["version", "slos[0].objective", "slos[0].alerting.name"]
    );
}

#[test]
fn labels_the_generator_owns_and_sli_plugins_are_refused() {
    let message = problems(&GOOD.replace("slos:\n", "labels:\n  tier: gold\nslos:\n"));
    assert!(
        message.contains("labels.tier") && message.contains("set by the generator"),
        "{message}"
    );
    let plugin = GOOD.replace(
        "      events:",
        "      plugin:\n        id: sloth-common/kubernetes/apiserver/availability\n      events:",
    );
    let message = problems(&plugin);
    assert!(message.contains("plugins are not supported"), "{message}");
}

#[test]
fn duplicate_slo_names_are_refused() {
    let twice = format!("{GOOD}{}", &GOOD[GOOD.find("  - name").unwrap()..]);
    let message = problems(&twice);
    assert!(
        message.contains("slos[1].name") && message.contains("unique"),
        "{message}"
    );
}
