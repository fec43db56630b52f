//! Probes: they observe and return a JSON output for the tolerance to judge.
//! Every output is an object whose `value` is what a plain tolerance
//! compares (an HTTP status, a query's first sample, a burn rate).

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::{header, Method};
use serde_json::{json, Map, Value};
use tokio::sync::Semaphore;

use crate::{
    experiment::{targets, HttpLoad, HttpRequest, PrometheusQuery, SloBurnRate},
    runner::Context,
    Error, Result,
};

/// Bodies are cut to this many bytes in the output (and the journal).
const MAX_BODY: usize = 64 * 1024;

/// One request: `{value: status, status, headers, latency_ms, body}`; the
/// body is parsed when it is JSON. A request that gets no answer is an error,
/// and so is a status other than `expected_status` when one is given; any
/// other answer, 5xx included, is an output for the tolerance to judge.
pub async fn http(ctx: &Context, probe: &HttpRequest) -> Result<Value> {
    let method = Method::from_bytes(probe.method.to_uppercase().as_bytes())
        .map_err(|_| Error::Api(format!("bad method {}", probe.method)))?;
    let (connect, total) = probe.timeouts();
    let client = if probe.verify_tls && connect.is_none() {
        ctx.http().clone()
    } else {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .danger_accept_invalid_certs(!probe.verify_tls);
        if let Some(connect) = connect {
            builder = builder.connect_timeout(Duration::from_secs_f64(connect));
        }
        builder.build()?
    };
    let mut request = client
        .request(method.clone(), &probe.url)
        .timeout(Duration::from_secs_f64(total));
    let mut json_body = false;
    for (name, value) in &probe.headers {
        json_body |= name.eq_ignore_ascii_case("content-type") && value == "application/json";
        request = request.header(name, value);
    }
    if let Some(body) = &probe.body {
        request = request.body(body.clone());
    }
    if let Some(json) = &probe.json {
        request = request.json(json);
    }
    if let Some(arguments) = &probe.arguments {
        request = with_arguments(request, &method, json_body, arguments)?;
    }
    let started = Instant::now();
    let mut retries = probe.max_retries;
    let response = loop {
        let attempt = request
            .try_clone()
            .ok_or_else(|| Error::Api("the request cannot be repeated".into()))?;
        match attempt.send().await {
            Err(e) if e.is_connect() && retries > 0 => retries -= 1,
            other => break other?,
        }
    };
    let status = response.status().as_u16();
    let headers: Map<String, Value> = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or_default())))
        .collect();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let bytes = response.bytes().await?;
    let latency = started.elapsed();
    if let Some(expected) = probe.expected_status.filter(|e| *e != status) {
        return Err(Error::Api(format!(
            "answered {status}, expected_status is {expected}"
        )));
    }
    let body = match serde_json::from_slice::<Value>(&bytes) {
        Ok(json) if is_json || bytes.first().is_some_and(|b| *b == b'{' || *b == b'[') => json,
        _ => {
            let cut = &bytes[..bytes.len().min(MAX_BODY)];
            Value::String(String::from_utf8_lossy(cut).into_owned())
        }
    };
    Ok(json!({
        "value": status,
        "status": status,
        "headers": headers,
        "latency_ms": millis(latency),
        "body": body,
    }))
}

/// The Chaos Toolkit's `arguments`: query parameters of a GET, else a JSON
/// body when `Content-Type: application/json` is set, else a form.
fn with_arguments(
    request: reqwest::RequestBuilder,
    method: &Method,
    json_body: bool,
    arguments: &Value,
) -> Result<reqwest::RequestBuilder> {
    if json_body && method != Method::GET {
        return Ok(request.json(arguments));
    }
    let Value::Object(map) = arguments else {
        return Err(Error::Api(
            "`arguments` of a GET or a form is a mapping of names to values".into(),
        ));
    };
    let pairs: Vec<(String, String)> = map
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect();
    Ok(if method == Method::GET {
        request.query(&pairs)
    } else {
        request.form(&pairs)
    })
}

/// A bounded burst: `requests` requests, `concurrency` at a time.
/// `{value: failed, sent, succeeded, failed, statuses, errors, latency_ms}`;
/// a request fails when it gets no answer or a 5xx.
pub async fn http_load(ctx: &Context, load: &HttpLoad) -> Result<Value> {
    let method = Method::from_bytes(load.method.as_bytes())
        .map_err(|_| Error::Api(format!("bad method {}", load.method)))?;
    let permits = Semaphore::new(load.concurrency.max(1) as usize);
    let timeout = Duration::from_secs_f64(load.timeout_seconds.unwrap_or(10.0));
    let one = |_| {
        let mut request = ctx
            .http()
            .request(method.clone(), &load.url)
            .timeout(timeout);
        for (name, value) in &load.headers {
            request = request.header(name, value);
        }
        let permits = &permits;
        async move {
            let _permit = permits
                .acquire()
                .await
                .expect("the semaphore is never closed");
            let started = Instant::now();
            let outcome = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    // Read the body: a response cut short is a failure too.
                    match response.bytes().await {
                        Ok(_) => Ok(status.as_u16()),
                        Err(e) => Err(kind_of(&e)),
                    }
                }
                Err(e) => Err(kind_of(&e)),
            };
            (outcome, started.elapsed())
        }
    };
    let spacing = load.rate.map(|r| Duration::from_secs_f64(1.0 / r));
    let started = tokio::time::Instant::now();
    let results = join_all((0..load.requests).map(|i| {
        let request = one(i);
        async move {
            if let Some(spacing) = spacing {
                tokio::time::sleep_until(started + spacing * i).await;
            }
            request.await
        }
    }))
    .await;
    let mut statuses = Map::new();
    let mut errors = Map::new();
    let mut latencies: Vec<f64> = Vec::new();
    let mut failed = 0u64;
    for (outcome, latency) in &results {
        latencies.push(millis(*latency));
        match outcome {
            Ok(status) => {
                let count = statuses.entry(status.to_string()).or_insert(json!(0));
                *count = json!(count.as_u64().unwrap_or(0) + 1);
                if *status >= 500 {
                    failed += 1;
                }
            }
            Err(kind) => {
                failed += 1;
                let count = errors.entry(*kind).or_insert(json!(0));
                *count = json!(count.as_u64().unwrap_or(0) + 1);
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    let quantile = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    Ok(json!({
        "value": failed,
        "sent": results.len(),
        "succeeded": results.len() as u64 - failed,
        "failed": failed,
        "statuses": statuses,
        "errors": errors,
        "latency_ms": {"p50": quantile(0.5), "p95": quantile(0.95), "max": quantile(1.0)},
    }))
}

fn kind_of(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else {
        "broken"
    }
}

/// An instant query: `{value: first sample or null, samples, query}`.
pub async fn prometheus(ctx: &Context, probe: &PrometheusQuery) -> Result<Value> {
    let url = ctx.target(probe.url.as_deref(), targets::PROMETHEUS_URL)?;
    instant_query(ctx, &url, &probe.query).await
}

/// Sloth's burn rate of one SLO, from the `alerts` recording rules:
/// `slo:current_burn_rate:ratio`, or the SLI of a window over the error
/// budget. 1 spends the budget in exactly the SLO period; 14.4 pages.
pub async fn slo_burn_rate(ctx: &Context, probe: &SloBurnRate) -> Result<Value> {
    let url = ctx.target(probe.url.as_deref(), targets::PROMETHEUS_URL)?;
    let query = burn_rate_query(&probe.slo, probe.window.as_deref());
    let mut output = instant_query(ctx, &url, &query).await?;
    output["slo"] = json!(probe.slo);
    output["window"] = json!(probe.window.as_deref().unwrap_or("5m"));
    Ok(output)
}

/// The PromQL of an SLO's burn rate, reading the `alerts` recording rules.
pub fn burn_rate_query(slo: &str, window: Option<&str>) -> String {
    use alerts::sloth::{labels, records, sli_error_record};
    let service = alerts::spec::SloSpec::shipped().service;
    let selector = format!(
        "{{{}=\"{service}\",{}=\"{slo}\"}}",
        labels::SLOTH_SERVICE,
        labels::SLOTH_SLO
    );
    match window {
        None => format!("{}{selector}", records::CURRENT_BURN_RATE),
        Some(window) => format!(
            "{}{selector} / on({}, {}, {}) group_left {}{selector}",
            sli_error_record(window),
            labels::SLOTH_ID,
            labels::SLOTH_SLO,
            labels::SLOTH_SERVICE,
            records::ERROR_BUDGET
        ),
    }
}

async fn instant_query(ctx: &Context, base: &str, query: &str) -> Result<Value> {
    let url = format!("{}/api/v1/query", base.trim_end_matches('/'));
    let response: Value = ctx
        .http()
        .get(&url)
        .query(&[("query", query)])
        .timeout(Duration::from_secs(10))
        .send()
        .await?
        .json()
        .await?;
    if response["status"] != "success" {
        return Err(Error::Api(format!(
            "prometheus refused `{query}`: {}",
            response["error"].as_str().unwrap_or("no reason given")
        )));
    }
    let data = &response["data"];
    let sample = |pair: &Value| -> Value {
        pair.get(1)
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|v| v.is_finite())
            .map_or(Value::Null, |v| json!(v))
    };
    let samples: Vec<Value> = match data["resultType"].as_str() {
        Some("vector") => data["result"]
            .as_array()
            .map(|r| {
                r.iter()
                    .map(|s| json!({"metric": s["metric"], "value": sample(&s["value"])}))
                    .collect()
            })
            .unwrap_or_default(),
        Some("scalar") => vec![json!({"metric": {}, "value": sample(&data["result"])})],
        other => {
            return Err(Error::Api(format!(
                "`{query}` gave a {} result; a probe needs an instant vector or scalar",
                other.unwrap_or("missing")
            )))
        }
    };
    let value = samples.first().map_or(Value::Null, |s| s["value"].clone());
    Ok(json!({"value": value, "samples": samples, "query": query}))
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burn_rate_queries_read_the_sloth_recording_rules() {
        assert_eq!(
            burn_rate_query("availability", None),
            r#"slo:current_burn_rate:ratio{sloth_service="shop",sloth_slo="availability"}"#
        );
        assert_eq!(
            burn_rate_query("checkout", Some("1h")),
            r#"slo:sli_error:ratio_rate1h{sloth_service="shop",sloth_slo="checkout"} / on(sloth_id, sloth_slo, sloth_service) group_left slo:error_budget:ratio{sloth_service="shop",sloth_slo="checkout"}"#
        );
    }
}
