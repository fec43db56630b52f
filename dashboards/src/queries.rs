//! Every query in a dashboard's JSON, read back the way Grafana would run
//! it: panel targets, annotation queries and variable queries, with template
//! variables substituted.

use std::{collections::BTreeMap, sync::LazyLock};

use regex::{Captures, Regex};
use serde_json::Value;

use crate::{Error, Result};

/// One target of one panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelQuery {
    pub dashboard: String,
    pub panel_id: u64,
    pub panel: String,
    /// `timeseries`, `stat`, ...
    pub panel_type: String,
    pub ref_id: String,
    pub expr: String,
    pub legend: String,
    /// An instant query (at the end of the range) rather than a range query.
    pub instant: bool,
}

/// An annotation's query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotationQuery {
    pub name: String,
    pub expr: String,
}

/// A query template variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableQuery {
    pub name: String,
    /// `label_values(<selector>, <label>)`.
    pub definition: String,
    /// What "All" stands for, when it can be picked.
    pub all_value: Option<String>,
}

/// Every panel (rows' nested panels included) of a dashboard.
pub fn panels(dashboard: &Value) -> Vec<&Value> {
    fn walk<'a>(panels: &'a Value, out: &mut Vec<&'a Value>) {
        for panel in panels.as_array().into_iter().flatten() {
            out.push(panel);
            walk(&panel["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    out
}

/// Every target of every panel.
pub fn panel_queries(dashboard: &Value) -> Vec<PanelQuery> {
    let uid = text(&dashboard["uid"]);
    panels(dashboard)
        .into_iter()
        .flat_map(|panel| {
            let uid = uid.clone();
            panel["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |target| PanelQuery {
                    dashboard: uid.clone(),
                    panel_id: panel["id"].as_u64().unwrap_or_default(),
                    panel: text(&panel["title"]),
                    panel_type: text(&panel["type"]),
                    ref_id: text(&target["refId"]),
                    expr: text(&target["expr"]),
                    legend: text(&target["legendFormat"]),
                    instant: target["instant"].as_bool().unwrap_or(false)
                        && !target["range"].as_bool().unwrap_or(false),
                })
        })
        .collect()
}

/// Every annotation that runs a query.
pub fn annotation_queries(dashboard: &Value) -> Vec<AnnotationQuery> {
    dashboard["annotations"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| {
            let expr = a["expr"]
                .as_str()
                .or_else(|| a["target"]["expr"].as_str())?;
            Some(AnnotationQuery {
                name: text(&a["name"]),
                expr: expr.to_owned(),
            })
        })
        .collect()
}

/// Every query variable.
pub fn variable_queries(dashboard: &Value) -> Vec<VariableQuery> {
    dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["type"] == "query")
        .map(|v| VariableQuery {
            name: text(&v["name"]),
            definition: v["query"]
                .as_str()
                .or_else(|| v["query"]["query"].as_str())
                .unwrap_or_default()
                .to_owned(),
            all_value: v["includeAll"]
                .as_bool()
                .unwrap_or(false)
                .then(|| v["allValue"].as_str().unwrap_or(".*").to_owned()),
        })
        .collect()
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

static VARIABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$(\w+)|\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]").expect("valid regex")
});

/// Replaces `$name`, `${name}`, `${name:format}` and `[[name]]` with
/// `values[name]`, as Grafana does before it sends a query. Built-in
/// variables (`__rate_interval`, `__range`...) must be in `values` too.
/// `$1`-style references (a `label_replace` replacement) are left alone; any
/// other name without a value is an error, as it would reach Prometheus
/// verbatim and fail there.
pub fn substitute(expr: &str, values: &BTreeMap<String, String>) -> Result<String> {
    let mut unknown = None;
    let replaced = VARIABLE.replace_all(expr, |caps: &Captures<'_>| {
        let name = caps
            .get(1)
            .or_else(|| caps.get(2))
            .or_else(|| caps.get(3))
            .expect("one group matches")
            .as_str();
        if name.starts_with(|c: char| c.is_ascii_digit()) {
            return caps[0].to_owned();
        }
        match values.get(name) {
            Some(value) => value.clone(),
            None => {
                unknown.get_or_insert_with(|| name.to_owned());
                caps[0].to_owned()
            }
        }
    });
    match unknown {
        Some(variable) => Err(Error::UnknownVariable {
            query: expr.to_owned(),
            variable,
        }),
        None => Ok(replaced.into_owned()),
    }
}

static LABEL_VALUES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)\s*$").expect("valid regex")
});

/// A `label_values(selector, label)` variable query as the PromQL whose
/// result's `label` values are the variable's options: `count by (label)
/// (selector)`. None for other shapes.
pub fn label_values_promql(definition: &str) -> Option<(String, String)> {
    let caps = LABEL_VALUES.captures(definition)?;
    let (selector, label) = (&caps[1], &caps[2]);
    Some((format!("count by ({label}) ({selector})"), label.to_owned()))
}

/// Every metric name a query reads: the names of its series selectors, and
/// `__name__` matchers. Function and aggregation names, label names,
/// strings and durations are not names.
pub fn metric_names(expr: &str) -> Result<Vec<String>> {
    let selectors = alerts::promql::selectors(expr)
        .map_err(|message| Error::Invalid(format!("`{expr}`: {message}")))?;
    let mut names = Vec::new();
    for selector in selectors {
        if !selector.metric.is_empty() {
            names.push(selector.metric.clone());
        }
        names.extend(selector.matchers_on("__name__").map(|m| m.value.clone()));
    }
    Ok(names)
}

/// Grafana's built-in variables for a time range of `range_seconds` drawn at
/// `step_seconds` per point, with Prometheus scraping every
/// `scrape_seconds`: `$__rate_interval` is at least four scrapes, and at
/// least a step plus a scrape.
pub fn builtins(
    range_seconds: u64,
    step_seconds: u64,
    scrape_seconds: u64,
) -> BTreeMap<String, String> {
    let rate_interval = (4 * scrape_seconds).max(step_seconds + scrape_seconds);
    [
        ("__rate_interval", format!("{rate_interval}s")),
        ("__interval", format!("{step_seconds}s")),
        ("__interval_ms", (step_seconds * 1000).to_string()),
        ("__range", format!("{range_seconds}s")),
        ("__range_s", range_seconds.to_string()),
        ("__range_ms", (range_seconds * 1000).to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn every_variable_syntax_is_substituted() {
        let vars = values(&[("instance", "a:1"), ("__rate_interval", "1m")]);
        assert_eq!(
            substitute(
                r#"rate(x{i=~"$instance", j="${instance}", k="${instance:regex}", l="[[instance]]"}[$__rate_interval])"#,
                &vars
            )
            .unwrap(),
            r#"rate(x{i=~"a:1", j="a:1", k="a:1", l="a:1"}[1m])"#
        );
    }

    #[test]
    fn an_undefined_variable_is_an_error_but_a_regex_backreference_is_not() {
        let error = substitute("x{a=~\"$instnace\"}", &values(&[("instance", "a")])).unwrap_err();
        assert!(error.to_string().contains("$instnace"), "{error}");
        assert_eq!(
            substitute(r#"label_replace(x, "c", "$1", "a", "(.)")"#, &values(&[])).unwrap(),
            r#"label_replace(x, "c", "$1", "a", "(.)")"#
        );
    }

    #[test]
    fn label_values_become_a_count_by_the_label() {
        assert_eq!(
            label_values_promql(r#"label_values(up{job="shop"}, instance)"#),
            Some((
                r#"count by (instance) (up{job="shop"})"#.into(),
                "instance".into()
            ))
        );
        assert_eq!(label_values_promql("query_result(up)"), None);
    }

    #[test]
    fn metric_names_skip_functions_labels_and_keywords() {
        let names = metric_names(
            r#"histogram_quantile(0.99, sum by (le) (rate(a_bucket{job="shop"}[5m]))) / on(x) group_left b or vector(0) + {__name__="c"}"#,
        )
        .unwrap();
        assert_eq!(names, ["a_bucket", "b", "c"]);
    }

    #[test]
    fn rate_interval_covers_four_scrapes_and_a_step() {
        assert_eq!(builtins(3600, 15, 15)["__rate_interval"], "60s");
        assert_eq!(builtins(3600, 120, 15)["__rate_interval"], "135s");
        assert_eq!(builtins(3600, 15, 15)["__range"], "3600s");
    }

    #[test]
    fn panels_nested_in_rows_are_found_and_instant_targets_told_apart() {
        let dashboard = serde_json::json!({
            "uid": "u",
            "panels": [
                {"type": "row", "id": 1, "panels": [
                    {"type": "stat", "id": 2, "title": "s", "targets": [{"refId": "A", "expr": "up", "instant": true, "range": false}]}
                ]},
                {"type": "timeseries", "id": 3, "title": "t", "targets": [{"refId": "A", "expr": "up", "range": true}]}
            ]
        });
        let queries = panel_queries(&dashboard);
        assert_eq!(queries.len(), 2);
        assert!(queries[0].instant);
        assert!(!queries[1].instant);
        assert_eq!(queries[0].panel_id, 2);
    }
}
