//! Everything `alerts check` says about a spec that parsed.

use std::{collections::BTreeMap, sync::LazyLock};

use regex::Regex;
use shop_contract::metrics::{names, MetricKind, CONTRACT, LATENCY_BUCKETS};

use super::{uses_window, Slo, SloSpec, VERSION};
use crate::{promql, Problem};

/// Labels the generator sets itself; a spec setting them would be overwritten.
const RESERVED_LABELS: &[&str] = &["tier", "sloth_severity"];
const RESERVED_PREFIX: &str = "sloth_";

static LABEL_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^[a-zA-Z_][a-zA-Z0-9_]*$").expect("valid regex"));
static SLO_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^[a-zA-Z0-9][a-zA-Z0-9_-]*$").expect("valid regex"));
static TEMPLATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{\{[^}]*\}\}").expect("valid regex"));

pub(super) fn problems(spec: &SloSpec) -> Vec<Problem> {
    let mut found = Vec::new();
    if spec.version != VERSION {
        found.push(Problem::new(
            "version",
            format!("{:?} is not supported: expected {VERSION:?}", spec.version),
        ));
    }
    if spec.service.trim().is_empty() {
        found.push(Problem::new("service", "must name the service"));
    }
    check_labels("labels", &spec.labels, &mut found);
    if spec.slos.is_empty() {
        found.push(Problem::new("slos", "the spec has no SLO"));
    }
    for (i, slo) in spec.slos.iter().enumerate() {
        let at = format!("slos[{i}]");
        if spec.slos[..i].iter().any(|other| other.name == slo.name) {
            found.push(Problem::new(
                format!("{at}.name"),
                format!(
                    "{:?} is used by an earlier SLO; names must be unique",
                    slo.name
                ),
            ));
        }
        check_slo(&at, slo, &mut found);
    }
    found
}

fn check_slo(at: &str, slo: &Slo, found: &mut Vec<Problem>) {
    if !SLO_NAME.is_match(&slo.name) {
        found.push(Problem::new(
            format!("{at}.name"),
            format!(
                "{:?} is not a valid SLO name: use letters, digits, `-` and `_`",
                slo.name
            ),
        ));
    }
    // NaN fails both comparisons.
    if !(slo.objective > 0.0 && slo.objective < 100.0) {
        found.push(Problem::new(
            format!("{at}.objective"),
            format!(
                "{} is out of range: the objective is a percentage above 0 and below 100, \
                 such as 99.9 (100 would leave no error budget to burn)",
                slo.objective
            ),
        ));
    }
    check_labels(&format!("{at}.labels"), &slo.labels, found);

    let sli = &slo.sli;
    if sli.plugin.is_some() {
        found.push(Problem::new(
            format!("{at}.sli.plugin"),
            "Sloth SLI plugins are not supported: write the queries under sli.events or sli.raw",
        ));
    }
    match (&sli.events, &sli.raw) {
        (Some(_), Some(_)) => found.push(Problem::new(
            format!("{at}.sli"),
            "has both `events` and `raw`: choose one",
        )),
        (None, None) if sli.plugin.is_none() => found.push(Problem::new(
            format!("{at}.sli"),
            "has no indicator: give `events` (error_query and total_query) or `raw` (error_ratio_query)",
        )),
        _ => {}
    }
    if let Some(events) = &sli.events {
        check_query(
            &format!("{at}.sli.events.error_query"),
            &events.error_query,
            found,
        );
        check_query(
            &format!("{at}.sli.events.total_query"),
            &events.total_query,
            found,
        );
    }
    if let Some(raw) = &sli.raw {
        check_query(
            &format!("{at}.sli.raw.error_ratio_query"),
            &raw.error_ratio_query,
            found,
        );
    }

    let alerting = &slo.alerting;
    let enabled = !alerting.page_alert.disable || !alerting.ticket_alert.disable;
    if enabled && !LABEL_NAME.is_match(&alerting.name) {
        found.push(Problem::new(
            format!("{at}.alerting.name"),
            if alerting.name.is_empty() {
                "is required while the page or the ticket alert is enabled".to_owned()
            } else {
                format!(
                    "{:?} is not a valid alert name: use letters, digits and `_`, such as ShopHighErrorRate",
                    alerting.name
                )
            },
        ));
    }
    check_labels(&format!("{at}.alerting.labels"), &alerting.labels, found);
    check_annotations(
        &format!("{at}.alerting.annotations"),
        &alerting.annotations,
        found,
    );
    for (which, alert) in [
        ("page_alert", &alerting.page_alert),
        ("ticket_alert", &alerting.ticket_alert),
    ] {
        check_labels(
            &format!("{at}.alerting.{which}.labels"),
            &alert.labels,
            found,
        );
        check_annotations(
            &format!("{at}.alerting.{which}.annotations"),
            &alert.annotations,
            found,
        );
    }
}

fn check_labels(at: &str, map: &BTreeMap<String, String>, found: &mut Vec<Problem>) {
    for (name, value) in map {
        if !LABEL_NAME.is_match(name) || name.starts_with("__") {
            found.push(Problem::new(
                format!("{at}.{name}"),
                "is not a valid Prometheus label name",
            ));
        } else if RESERVED_LABELS.contains(&name.as_str()) || name.starts_with(RESERVED_PREFIX) {
            found.push(Problem::new(
                format!("{at}.{name}"),
                "is set by the generator (`tier` names the alert window pair, `sloth_*` identify the SLO): choose another name",
            ));
        }
        if value.is_empty() {
            found.push(Problem::new(format!("{at}.{name}"), "has an empty value"));
        }
    }
}

fn check_annotations(at: &str, map: &BTreeMap<String, String>, found: &mut Vec<Problem>) {
    for name in map.keys() {
        if !LABEL_NAME.is_match(name) {
            found.push(Problem::new(
                format!("{at}.{name}"),
                "is not a valid annotation name",
            ));
        }
    }
}

fn check_query(at: &str, query: &str, found: &mut Vec<Problem>) {
    if query.trim().is_empty() {
        found.push(Problem::new(at, "is empty"));
        return;
    }
    if !uses_window(query) {
        found.push(Problem::new(
            at,
            "does not use {{.window}}: every SLI query must take its range from the template, \
             such as rate(x[{{.window}}])",
        ));
    }
    let rendered = super::render_window(query, "5m");
    if let Some(other) = TEMPLATE.find(&rendered) {
        found.push(Problem::new(
            at,
            format!(
                "uses the template {}: only {{{{.window}}}} is supported",
                other.as_str()
            ),
        ));
        return;
    }
    let selectors = match promql::selectors(&rendered) {
        Ok(selectors) => selectors,
        Err(message) => {
            found.push(Problem::new(at, format!("is not valid PromQL: {message}")));
            return;
        }
    };
    for selector in &selectors {
        check_selector(at, selector, found);
    }
}

fn check_selector(at: &str, selector: &promql::Selector, found: &mut Vec<Problem>) {
    for matcher in &selector.matchers {
        if matches!(
            matcher.op,
            promql::MatchOp::RegexMatch | promql::MatchOp::RegexNoMatch
        ) {
            if let Err(e) = matcher.regex() {
                found.push(Problem::new(
                    at,
                    format!("{matcher}: invalid regular expression: {e}"),
                ));
            }
        }
    }
    let metric = selector.metric.as_str();
    // Recording rules (with a colon) are not the contract's business.
    if metric.is_empty() || metric.contains(':') || metric == "up" {
        return;
    }
    let Some(histogram) = contract_metric(metric) else {
        found.push(Problem::new(
            at,
            format!(
                "unknown metric `{metric}`: not in the shop's metric contract \
                 (shop_contract::metrics::CONTRACT)"
            ),
        ));
        return;
    };
    // Histogram buckets: a threshold that is not a bucket bound cannot be measured.
    if histogram && metric.ends_with("_bucket") {
        for le in selector.matchers_on("le") {
            let bound: Option<f64> = le.value.parse().ok();
            let known = bound.is_some_and(|b| LATENCY_BUCKETS.contains(&b));
            if le.op != promql::MatchOp::Equal || !known {
                found.push(Problem::new(
                    at,
                    format!(
                        "{le} is not one of the histogram's bucket bounds {LATENCY_BUCKETS:?} \
                         (shop_contract::metrics::LATENCY_BUCKETS): that threshold cannot be measured"
                    ),
                ));
            }
        }
    }
}

/// Whether `metric` is exported by the shop; `Some(true)` for a histogram series.
fn contract_metric(metric: &str) -> Option<bool> {
    let process = [
        names::PROCESS_RESIDENT_MEMORY,
        names::PROCESS_CPU_SECONDS,
        names::PROCESS_OPEN_FDS,
        names::PROCESS_MAX_FDS,
    ];
    if process.contains(&metric) {
        return Some(false);
    }
    CONTRACT.iter().find_map(|spec| {
        if spec.kind == MetricKind::Histogram {
            ["_bucket", "_count", "_sum"]
                .iter()
                .any(|suffix| metric.strip_suffix(suffix) == Some(spec.name))
                .then_some(true)
        } else {
            (metric == spec.name).then_some(false)
        }
    })
}
