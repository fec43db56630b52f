//! The shapes of Prometheus' HTTP API answers.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// One series' value at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub metric: BTreeMap<String, String>,
    /// May be NaN or infinite, as Prometheus computed it.
    pub value: f64,
    /// Seconds since the Unix epoch.
    pub timestamp: f64,
}

impl Sample {
    /// A label's value, `""` when absent (as in PromQL).
    pub fn label(&self, name: &str) -> &str {
        self.metric.get(name).map_or("", String::as_str)
    }
}

/// One series over a range: `(timestamp, value)` pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub metric: BTreeMap<String, String>,
    pub values: Vec<(f64, f64)>,
}

/// A pending or firing alert.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Alert {
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// `pending` or `firing`.
    pub state: String,
    #[serde(rename = "activeAt", default)]
    pub active_at: Option<String>,
    /// The expression's value when the alert was last evaluated.
    #[serde(default)]
    pub value: String,
}

impl Alert {
    /// The `alertname` label.
    pub fn name(&self) -> &str {
        self.labels.get("alertname").map_or("", String::as_str)
    }

    /// A label's value, `""` when absent.
    pub fn label(&self, name: &str) -> &str {
        self.labels.get(name).map_or("", String::as_str)
    }

    pub fn is_firing(&self) -> bool {
        self.state == "firing"
    }
}

/// One loaded rule and how its last evaluation went.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleStatus {
    pub group: String,
    /// The alert or record name.
    pub name: String,
    /// `alerting` or `recording`.
    pub kind: String,
    /// `ok`, `err` or `unknown` (not evaluated yet).
    pub health: String,
    pub last_error: Option<String>,
}

/// One scrape target.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Target {
    pub labels: BTreeMap<String, String>,
    #[serde(rename = "scrapeUrl")]
    pub scrape_url: String,
    /// `up`, `down` or `unknown`.
    pub health: String,
    #[serde(rename = "lastError", default)]
    pub last_error: String,
}

fn value(pair: &Value) -> Result<(f64, f64), String> {
    let timestamp = pair[0].as_f64().ok_or("a sample without a timestamp")?;
    let text = pair[1].as_str().ok_or("a sample without a value")?;
    let value = text
        .parse::<f64>()
        .map_err(|_| format!("a sample value that is not a number: {text:?}"))?;
    Ok((timestamp, value))
}

fn labels(metric: &Value) -> BTreeMap<String, String> {
    metric
        .as_object()
        .map(|labels| {
            labels
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn instant_result(data: Value) -> Result<Vec<Sample>, String> {
    match data["resultType"].as_str() {
        Some("vector") => data["result"]
            .as_array()
            .ok_or("a vector without a result")?
            .iter()
            .map(|series| {
                let (timestamp, value) = value(&series["value"])?;
                Ok(Sample {
                    metric: labels(&series["metric"]),
                    value,
                    timestamp,
                })
            })
            .collect(),
        Some("scalar") => {
            let (timestamp, value) = value(&data["result"])?;
            Ok(vec![Sample {
                metric: BTreeMap::new(),
                value,
                timestamp,
            }])
        }
        other => Err(format!("unexpected result type {other:?}")),
    }
}

pub(super) fn range_result(data: Value) -> Result<Vec<Series>, String> {
    data["result"]
        .as_array()
        .ok_or("a range query without a result")?
        .iter()
        .map(|series| {
            Ok(Series {
                metric: labels(&series["metric"]),
                values: series["values"]
                    .as_array()
                    .ok_or("a series without values")?
                    .iter()
                    .map(value)
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

pub(super) fn rules(data: Value) -> Result<Vec<RuleStatus>, String> {
    let mut found = Vec::new();
    for group in data["groups"].as_array().ok_or("no rule groups")? {
        let group_name = group["name"].as_str().unwrap_or_default();
        for rule in group["rules"].as_array().ok_or("a group without rules")? {
            found.push(RuleStatus {
                group: group_name.to_owned(),
                name: rule["name"].as_str().unwrap_or_default().to_owned(),
                kind: rule["type"].as_str().unwrap_or_default().to_owned(),
                health: rule["health"].as_str().unwrap_or_default().to_owned(),
                last_error: rule["lastError"]
                    .as_str()
                    .filter(|e| !e.is_empty())
                    .map(str::to_owned),
            });
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn vectors_and_scalars_parse_including_nan() {
        let vector = json!({"resultType": "vector", "result": [
            {"metric": {"job": "shop"}, "value": [1700000000.5, "NaN"]},
            {"metric": {}, "value": [1700000000.5, "+Inf"]},
        ]});
        let samples = instant_result(vector).unwrap();
        assert_eq!(samples[0].label("job"), "shop");
        assert!(samples[0].value.is_nan());
        assert_eq!(samples[1].value, f64::INFINITY);
        let scalar = json!({"resultType": "scalar", "result": [1.0, "42"]});
        assert_eq!(instant_result(scalar).unwrap()[0].value, 42.0);
    }

    #[test]
    fn a_malformed_value_is_an_error() {
        let vector =
            json!({"resultType": "vector", "result": [{"metric": {}, "value": [1.0, "x"]}]});
        assert!(instant_result(vector).is_err());
    }
}
