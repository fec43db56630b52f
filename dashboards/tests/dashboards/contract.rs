//! Every query names only metrics of the shop's contract or recording rules
//! of the `alerts` crate, and only variables the dashboard defines.

use std::collections::BTreeSet;

use dashboards::{promql::PROMETHEUS_SERIES, queries};
use shop_contract::metrics::{names, MetricKind, CONTRACT};

use crate::helpers::{alert_rule_files, committed_dashboards};

/// The names a query may read: the contract's (a histogram as its `_bucket`,
/// `_count` and `_sum` series), the process collector's named in the
/// contract, the committed recording rules, and Prometheus' own series.
fn known_names() -> BTreeSet<String> {
    let mut known = BTreeSet::new();
    for metric in CONTRACT {
        match metric.kind {
            MetricKind::Histogram => {
                for suffix in ["_bucket", "_count", "_sum"] {
                    known.insert(format!("{}{suffix}", metric.name));
                }
            }
            _ => {
                known.insert(metric.name.to_owned());
            }
        }
    }
    for process in [
        names::PROCESS_CPU_SECONDS,
        names::PROCESS_RESIDENT_MEMORY,
        names::PROCESS_OPEN_FDS,
        names::PROCESS_MAX_FDS,
    ] {
        known.insert(process.to_owned());
    }
    for path in alert_rule_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let rules = alerts::rules::RuleFile::from_yaml(&text).unwrap();
        known.extend(rules.recordings().filter_map(|r| r.record.clone()));
    }
    known.extend(PROMETHEUS_SERIES.iter().map(|s| (*s).to_owned()));
    known
}

/// The metric names of a query that are not known, or why it cannot be read.
fn unknown_names(expr: &str, known: &BTreeSet<String>) -> Result<Vec<String>, String> {
    let names = queries::metric_names(expr).map_err(|e| e.to_string())?;
    if names.is_empty() {
        return Err(format!("no metric name in `{expr}`"));
    }
    Ok(names.into_iter().filter(|n| !known.contains(n)).collect())
}

/// Every query of a dashboard: panel targets, annotations, and the selector
/// inside each `label_values(...)` variable.
fn all_queries(dashboard: &serde_json::Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = queries::panel_queries(dashboard)
        .into_iter()
        .map(|q| (format!("panel `{}` {}", q.panel, q.ref_id), q.expr))
        .collect();
    out.extend(
        queries::annotation_queries(dashboard)
            .into_iter()
            .map(|a| (format!("annotation `{}`", a.name), a.expr)),
    );
    for variable in queries::variable_queries(dashboard) {
        let (promql, _) = queries::label_values_promql(&variable.definition)
            .unwrap_or_else(|| panic!("variable {} is not label_values(...)", variable.name));
        out.push((format!("variable {}", variable.name), promql));
    }
    out
}

#[test]
fn every_query_names_only_contract_metrics_or_alerts_recording_rules() {
    let known = known_names();
    let mut problems = Vec::new();
    let mut checked = 0;
    let mut recording_rules_used = BTreeSet::new();
    for (file, dashboard) in committed_dashboards() {
        for (what, expr) in all_queries(&dashboard) {
            checked += 1;
            match unknown_names(&expr, &known) {
                Ok(unknown) if unknown.is_empty() => {}
                Ok(unknown) => {
                    problems.push(format!("{file} {what}: unknown {unknown:?} in `{expr}`"))
                }
                Err(error) => problems.push(format!("{file} {what}: {error}")),
            }
            for name in queries::metric_names(&expr).unwrap_or_default() {
                if name.contains(':') {
                    recording_rules_used.insert(name);
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(checked > 80, "only {checked} queries checked");
    assert!(
        recording_rules_used.len() >= 5,
        "the SLO dashboards read few recording rules: {recording_rules_used:?}"
    );
}

#[test]
fn the_name_check_rejects_a_metric_outside_the_contract() {
    let known = known_names();
    assert_eq!(
        unknown_names(r#"sum(rate(http_requests_total{job="shop"}[5m]))"#, &known).unwrap(),
        ["http_requests_total"]
    );
    // A histogram's base name is not a series of its own.
    assert_eq!(
        unknown_names(
            &format!("{}{{}}", names::HTTP_SERVER_REQUEST_DURATION),
            &known
        )
        .unwrap(),
        [names::HTTP_SERVER_REQUEST_DURATION]
    );
    assert!(unknown_names("slo:sli_error:ratio_rate5m", &known)
        .unwrap()
        .is_empty());
    assert!(unknown_names("vector(1)", &known).is_err());
}

#[test]
fn every_variable_a_query_uses_is_defined_by_its_dashboard() {
    for (file, dashboard) in committed_dashboards() {
        let mut values = queries::builtins(3600, 15, 15);
        for variable in queries::variable_queries(&dashboard) {
            values.insert(variable.name, "x".into());
        }
        for (what, expr) in all_queries(&dashboard) {
            if let Err(error) = queries::substitute(&expr, &values) {
                panic!("{file} {what}: {error}");
            }
        }
    }
}
