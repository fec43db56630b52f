//! What a probe's output must be.
//!
//! | written as | met when |
//! | --- | --- |
//! | `200`, `"ok"`, `true` | the value equals it |
//! | `[200, 204]` | the value is one of them |
//! | `{type: range, range: [0, 0.25]}` | the value is a number within (a `null` bound is open) |
//! | `{type: regex, pattern: "..."}` | the text matches |
//! | `{type: jsonpath, path: "$.a[*].b", expect: 1}` | the path selects exactly one node and it equals `expect` (a list `expect`: the nodes are that list); `count: n`: it selects n nodes; with none of these, it selects something |
//! | `{type: jsonpath, path: ..., range: [...]}` or `pattern: ...` | (extension) every node it selects is within the range or matches |
//! | `{type: probe, name: ..., provider: {...}}` | that probe, given the output as `value` in its `arguments`, succeeds: a process exits 0, an HTTP call answers below 400 (the Chaos Toolkit's Python probes return a boolean instead) |
//! | `{type: all, of: [...]}` | (extension) every tolerance in the list is met |
//!
//! These are the Chaos Toolkit's tolerances; a range may also leave a bound
//! open with `null`.
//!
//! The value is the output's `value` (an HTTP probe's status, a query's
//! first sample...); `regex` and `jsonpath` look at `body` when the output
//! has one. `target: KEY` picks another key of the output instead.

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::Activity;
use serde_json::Value;
use serde_json_path::JsonPath;

mod parse;

#[derive(Debug, Clone, PartialEq)]
pub enum Tolerance {
    Exact(Value),
    OneOf(Vec<Value>),
    Range {
        min: Option<f64>,
        max: Option<f64>,
        target: Option<String>,
    },
    Regex {
        pattern: String,
        target: Option<String>,
    },
    JsonPath {
        path: String,
        expect: Option<Value>,
        count: Option<u64>,
        range: Option<(Option<f64>, Option<f64>)>,
        pattern: Option<String>,
        target: Option<String>,
    },
    /// Judged by the runner, which runs the probe.
    Probe(Box<Activity>),
    All(Vec<Tolerance>),
}

/// The verdict of a tolerance on one output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToleranceCheck {
    pub met: bool,
    /// What was compared with what, for the journal and the timeline.
    pub detail: String,
}

impl Tolerance {
    /// Checks a probe's output.
    pub fn check(&self, output: &Value) -> ToleranceCheck {
        let verdict = |met: bool, detail: String| ToleranceCheck { met, detail };
        match self {
            Tolerance::Exact(expected) => {
                let value = scalar_target(output, None);
                verdict(
                    same(value, expected),
                    format!("{} == {expected}", show(value)),
                )
            }
            Tolerance::OneOf(options) => {
                let value = scalar_target(output, None);
                verdict(
                    options.iter().any(|o| same(value, o)),
                    format!("{} in {}", show(value), Value::from(options.clone())),
                )
            }
            Tolerance::Range { min, max, target } => {
                let value = scalar_target(output, target.as_deref());
                verdict(
                    in_range(value, *min, *max),
                    format!("{} in {}", show(value), range_text(*min, *max)),
                )
            }
            Tolerance::Regex { pattern, target } => {
                let text = text_of(document_target(output, target.as_deref()));
                let met = Regex::new(pattern).is_ok_and(|re| re.is_match(&text));
                verdict(met, format!("{} =~ /{pattern}/", abbreviate(&text)))
            }
            Tolerance::JsonPath {
                path,
                expect,
                count,
                range,
                pattern,
                target,
            } => {
                let document = document_target(output, target.as_deref());
                let Ok(compiled) = JsonPath::parse(path) else {
                    return verdict(false, format!("{path} is not a JSONPath"));
                };
                let nodes: Vec<&Value> = compiled.query(document).all();
                let found = Value::from(nodes.iter().map(|v| (*v).clone()).collect::<Vec<_>>());
                let (met, wanted) = if let Some(expect) = expect {
                    let expected: Vec<&Value> = match expect {
                        Value::Array(items) => items.iter().collect(),
                        one => vec![one],
                    };
                    (
                        nodes.len() == expected.len()
                            && nodes.iter().zip(&expected).all(|(n, e)| same(n, e)),
                        format!(
                            "== {}",
                            Value::from(expected.into_iter().cloned().collect::<Vec<_>>())
                        ),
                    )
                } else if let Some(count) = count {
                    (
                        nodes.len() as u64 == *count,
                        format!("selects {count} node{}", if *count == 1 { "" } else { "s" }),
                    )
                } else if let Some((min, max)) = range {
                    (
                        !nodes.is_empty() && nodes.iter().all(|n| in_range(n, *min, *max)),
                        format!("in {}", range_text(*min, *max)),
                    )
                } else if let Some(pattern) = pattern {
                    let re = Regex::new(pattern).ok();
                    (
                        !nodes.is_empty()
                            && nodes
                                .iter()
                                .all(|n| re.as_ref().is_some_and(|re| re.is_match(&text_of(n)))),
                        format!("=~ /{pattern}/"),
                    )
                } else {
                    (!nodes.is_empty(), "selects something".to_owned())
                };
                verdict(
                    met,
                    format!("{path} → {} {wanted}", abbreviate(&found.to_string())),
                )
            }
            Tolerance::Probe(probe) => verdict(
                false,
                format!("probe `{}` is run by the runner", probe.name),
            ),
            Tolerance::All(all) => {
                let checks: Vec<_> = all.iter().map(|t| t.check(output)).collect();
                verdict(
                    checks.iter().all(|c| c.met),
                    checks
                        .iter()
                        .map(|c| format!("{}{}", if c.met { "" } else { "NOT " }, c.detail))
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            }
        }
    }
}

fn scalar_target<'a>(output: &'a Value, target: Option<&str>) -> &'a Value {
    match output {
        Value::Object(map) => map.get(target.unwrap_or("value")).unwrap_or(&Value::Null),
        other => other,
    }
}

fn document_target<'a>(output: &'a Value, target: Option<&str>) -> &'a Value {
    match (output, target) {
        (Value::Object(map), Some(target)) => map.get(target).unwrap_or(&Value::Null),
        (Value::Object(map), None) => map.get("body").unwrap_or(output),
        (other, _) => other,
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn in_range(value: &Value, min: Option<f64>, max: Option<f64>) -> bool {
    value
        .as_f64()
        .is_some_and(|v| min.is_none_or(|lo| v >= lo) && max.is_none_or(|hi| v <= hi))
}

fn range_text(min: Option<f64>, max: Option<f64>) -> String {
    let show = |b: Option<f64>, open: &str| b.map_or(open.to_owned(), |b| b.to_string());
    format!("[{}, {}]", show(min, "-inf"), show(max, "+inf"))
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn show(value: &Value) -> String {
    abbreviate(&value.to_string())
}

fn abbreviate(text: &str) -> String {
    const MAX: usize = 120;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tolerance(yaml: &str) -> Tolerance {
        Tolerance::from_value(&serde_yaml::from_str(yaml).unwrap()).unwrap()
    }

    #[test]
    fn exact_and_one_of_compare_the_value() {
        let output = json!({"value": 200, "status": 200, "body": "hello"});
        assert!(tolerance("200").check(&output).met);
        assert!(!tolerance("503").check(&output).met);
        assert!(tolerance("[200, 204]").check(&output).met);
        assert!(!tolerance("[500, 503]").check(&output).met);
    }

    #[test]
    fn ranges_are_inclusive_and_may_be_open() {
        let at = |v: f64| json!({ "value": v });
        let t = tolerance("{type: range, range: [0, 0.25]}");
        assert!(t.check(&at(0.25)).met);
        assert!(!t.check(&at(0.26)).met);
        let below = tolerance("{type: range, range: [null, 14.4]}");
        assert!(below.check(&at(-3.0)).met);
        assert!(!below.check(&at(15.0)).met);
        assert!(
            !t.check(&json!({"value": null})).met,
            "no value is out of range"
        );
    }

    #[test]
    fn regex_and_jsonpath_look_at_the_body() {
        let output = json!({"value": 200, "body": {"faults": [{"kind": "error"}, {"kind": "error"}], "n": 2}});
        assert!(
            !tolerance("{type: jsonpath, path: '$.faults[*].kind', expect: error}")
                .check(&output)
                .met,
            "two nodes are not one"
        );
        assert!(
            tolerance("{type: jsonpath, path: '$.faults[*].kind', expect: [error, error]}")
                .check(&output)
                .met
        );
        assert!(
            tolerance("{type: jsonpath, path: '$.faults[*].kind', count: 2}")
                .check(&output)
                .met
        );
        assert!(
            !tolerance("{type: jsonpath, path: '$.faults[*].kind', count: 1}")
                .check(&output)
                .met
        );
        assert!(
            !tolerance("{type: jsonpath, path: '$.faults[*].kind', expect: latency}")
                .check(&output)
                .met
        );
        assert!(
            tolerance("{type: jsonpath, path: '$.n', range: [1, 3]}")
                .check(&output)
                .met
        );
        assert!(
            !tolerance("{type: jsonpath, path: '$.missing'}")
                .check(&output)
                .met
        );
        assert!(
            tolerance("{type: regex, pattern: 'kind.:.error'}")
                .check(&output)
                .met
        );
        let text = json!({"value": 200, "body": "<h1 id=\"page-home\">"});
        assert!(
            tolerance("{type: regex, pattern: 'page-home'}")
                .check(&text)
                .met
        );
    }

    #[test]
    fn all_needs_every_tolerance() {
        let output = json!({"value": 503, "latency_ms": 12.0});
        let t = tolerance(
            "{type: all, of: [503, {type: range, range: [0, 2000], target: latency_ms}]}",
        );
        assert!(t.check(&output).met);
        let slow = json!({"value": 503, "latency_ms": 2500.0});
        assert!(!t.check(&slow).met);
    }

    #[test]
    fn bad_tolerances_say_what_is_wrong() {
        let err =
            |yaml: &str| Tolerance::from_value(&serde_yaml::from_str(yaml).unwrap()).unwrap_err();
        assert!(err("{type: ranged}").contains("unknown tolerance type `ranged`"));
        assert!(err("{type: range, range: [5, 1]}").contains("empty"));
        assert!(err("{type: regex, pattern: '('}").contains("not a valid regex"));
        assert!(err("{type: jsonpath, path: 'foo'}").contains("not a valid JSONPath"));
        assert!(err("{type: range, range: [0, 1], tagret: x}").contains("unknown field `tagret`"));
    }

    #[test]
    fn the_written_form_round_trips() {
        for yaml in [
            "200",
            "[200, 204]",
            "{type: range, range: [null, 1.5], target: latency_ms}",
            "{type: jsonpath, path: '$.a', expect: 1}",
            "{type: jsonpath, path: '$.a', count: 2}",
            "{type: probe, name: p, provider: {type: process, path: 'true'}}",
            "{type: all, of: [1, {type: regex, pattern: x}]}",
        ] {
            let t = tolerance(yaml);
            assert_eq!(Tolerance::from_value(&t.to_value()).unwrap(), t, "{yaml}");
        }
    }
}
