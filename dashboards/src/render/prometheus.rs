//! A small client for Prometheus' query API, for drawing charts from any
//! Prometheus server (tests start theirs with `fleet`).

use std::{collections::BTreeMap, time::Duration};

use serde_json::Value;

use crate::{Error, Result};

/// The time range and resolution of a range query, in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub start: f64,
    pub end: f64,
    pub step: f64,
}

impl Window {
    /// A window of `start..end` with about `points` points (one a second at least).
    pub fn with_points(start: f64, end: f64, points: u32) -> Window {
        let step = ((end - start) / f64::from(points.max(1))).ceil().max(1.0);
        Window { start, end, step }
    }

    pub fn seconds(&self) -> f64 {
        self.end - self.start
    }
}

/// One series of a query's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    /// `(Unix seconds, value)`; values may be NaN or infinite.
    pub points: Vec<(f64, f64)>,
}

/// A Prometheus server's HTTP API.
#[derive(Debug, Clone)]
pub struct Prometheus {
    url: String,
    http: reqwest::Client,
}

impl Prometheus {
    /// `url` such as `http://127.0.0.1:9090`.
    pub fn new(url: &str) -> Result<Prometheus> {
        Ok(Prometheus {
            url: url.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?,
        })
    }

    /// A range query.
    pub async fn query_range(&self, expr: &str, window: &Window) -> Result<Vec<Series>> {
        let params = [
            ("query", expr.to_owned()),
            ("start", window.start.to_string()),
            ("end", window.end.to_string()),
            ("step", window.step.to_string()),
        ];
        self.get("/api/v1/query_range", &params, expr).await
    }

    /// An instant query at `time` (Unix seconds); each series has one point.
    pub async fn query(&self, expr: &str, time: f64) -> Result<Vec<Series>> {
        let params = [("query", expr.to_owned()), ("time", time.to_string())];
        self.get("/api/v1/query", &params, expr).await
    }

    async fn get(&self, path: &str, params: &[(&str, String)], expr: &str) -> Result<Vec<Series>> {
        let refused = |message: String| Error::Prometheus {
            query: expr.to_owned(),
            message,
        };
        // POST, as Grafana sends queries: long expressions do not fit a URL.
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .form(params)
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        let body: Value =
            serde_json::from_str(&text).map_err(|_| refused(format!("HTTP {status}: {text}")))?;
        if body["status"] != "success" {
            return Err(refused(format!(
                "{}: {}",
                body["errorType"].as_str().unwrap_or("error"),
                body["error"].as_str().unwrap_or_default()
            )));
        }
        parse(&body["data"]).map_err(refused)
    }
}

/// `data` of a query answer: a matrix, a vector or a scalar.
fn parse(data: &Value) -> Result<Vec<Series>, String> {
    let point = |pair: &Value| -> Result<(f64, f64), String> {
        let t = pair[0].as_f64().ok_or("a point without a timestamp")?;
        let v = pair[1].as_str().ok_or("a point without a value")?;
        Ok((t, parse_value(v)?))
    };
    let labels = |series: &Value| -> BTreeMap<String, String> {
        series["metric"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect()
    };
    let result = &data["result"];
    match data["resultType"].as_str() {
        Some("matrix") => result
            .as_array()
            .into_iter()
            .flatten()
            .map(|series| {
                Ok(Series {
                    labels: labels(series),
                    points: series["values"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(point)
                        .collect::<Result<_, _>>()?,
                })
            })
            .collect(),
        Some("vector") => result
            .as_array()
            .into_iter()
            .flatten()
            .map(|series| {
                Ok(Series {
                    labels: labels(series),
                    points: vec![point(&series["value"])?],
                })
            })
            .collect(),
        Some("scalar") => Ok(vec![Series {
            labels: BTreeMap::new(),
            points: vec![point(result)?],
        }]),
        other => Err(format!("unexpected result type {other:?}")),
    }
}

/// A sample value as Prometheus writes it: a number, `NaN`, `+Inf` or `-Inf`.
fn parse_value(text: &str) -> Result<f64, String> {
    match text {
        "NaN" => Ok(f64::NAN),
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => text.parse().map_err(|_| format!("not a number: {text}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrices_vectors_and_scalars_parse_with_nan_and_infinities() {
        let matrix = serde_json::json!({"resultType": "matrix", "result": [
            {"metric": {"a": "b"}, "values": [[1.5, "1"], [2.5, "NaN"], [3.5, "+Inf"]]}
        ]});
        let series = parse(&matrix).unwrap();
        assert_eq!(series[0].labels["a"], "b");
        assert_eq!(series[0].points[0], (1.5, 1.0));
        assert!(series[0].points[1].1.is_nan());
        assert_eq!(series[0].points[2].1, f64::INFINITY);

        let vector = serde_json::json!({"resultType": "vector", "result": [{"metric": {}, "value": [1.0, "-Inf"]}]});
        assert_eq!(
            parse(&vector).unwrap()[0].points,
            [(1.0, f64::NEG_INFINITY)]
        );
        let scalar = serde_json::json!({"resultType": "scalar", "result": [1.0, "2"]});
        assert_eq!(parse(&scalar).unwrap()[0].points, [(1.0, 2.0)]);
    }

    #[test]
    fn windows_have_at_least_a_second_per_point() {
        assert_eq!(Window::with_points(0.0, 3600.0, 240).step, 15.0);
        assert_eq!(Window::with_points(0.0, 60.0, 240).step, 1.0);
    }
}
