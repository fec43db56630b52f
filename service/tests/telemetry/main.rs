//! Traces and correlated logs, end to end: a request carrying a W3C
//! `traceparent` goes through a real shop whose spans are exported over
//! OTLP/gRPC to an in-process receiver and whose JSON log lines go to a
//! buffer. A test binary of its own because it installs the process's global
//! subscriber, which can happen once per process.

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;
mod otlp;

use std::{
    io::Write,
    sync::{Arc, LazyLock, Mutex},
    time::{Duration, Instant},
};

use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, status::StatusCode, Span};
use reqwest::StatusCode as HttpStatus;
use serde_json::{json, Value};
use shop::{configuration::LogFormat, telemetry};

use crate::{
    helpers::{spawn_app, Backend, TestApp, KNIFE_SLUG},
    otlp::{int_attribute, string_attribute, Receiver},
};

/// The receiver, the exporter and the captured log lines, shared by every
/// test of this binary.
struct Harness {
    receiver: Receiver,
    traces: telemetry::TraceExport,
    logs: Logs,
}

static HARNESS: LazyLock<Harness> = LazyLock::new(|| {
    // The receiver and the exporter's gRPC channel live on a runtime of
    // their own that outlives every test's runtime.
    let (sender, ready) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (receiver, endpoint) = Receiver::start().await;
            let traces = telemetry::TraceExport::otlp_grpc(&endpoint).unwrap();
            sender.send((receiver, traces)).unwrap();
            std::future::pending::<()>().await
        })
    });
    let (receiver, traces) = ready.recv().expect("the OTLP receiver starts");
    let logs = Logs::default();
    let sink = logs.clone();
    let subscriber = telemetry::get_subscriber_with_traces(
        "info",
        LogFormat::Json,
        move || sink.clone(),
        Some(&traces),
    );
    telemetry::init_subscriber(subscriber).expect("the first subscriber of this process");
    Harness {
        receiver,
        traces,
        logs,
    }
});

/// Log lines written to memory.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Every line so far, each of which must be a JSON object.
    fn lines(&self) -> Vec<Value> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .expect("UTF-8 logs")
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }
}

async fn spawn_traced_app(backend: Backend) -> (TestApp, &'static Harness) {
    let harness = LazyLock::force(&HARNESS);
    (spawn_app(backend).await, harness)
}

/// Flushes the exporter until the trace has a span that `done` accepts.
async fn wait_for_trace(
    harness: &'static Harness,
    trace_id: &[u8],
    done: impl Fn(&[(String, Span)]) -> bool,
) -> Vec<(String, Span)> {
    let started = Instant::now();
    loop {
        tokio::task::spawn_blocking(|| harness.traces.force_flush())
            .await
            .unwrap()
            .expect("flushing spans");
        let spans = harness.receiver.trace(trace_id);
        if done(&spans) {
            return spans;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the trace never arrived; received {spans:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn has_server_span(spans: &[(String, Span)]) -> bool {
    spans.iter().any(|(_, s)| s.kind == SpanKind::Server as i32)
}

fn server_span(spans: &[(String, Span)]) -> &Span {
    &spans
        .iter()
        .find(|(_, s)| s.kind == SpanKind::Server as i32)
        .expect("a server span")
        .1
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn random_hex(len: usize) -> String {
    let mut hex = String::new();
    while hex.len() < len {
        hex.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    hex.truncate(len);
    hex
}

fn from_hex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

crate::on_both_backends!(
    a_traceparent_continues_into_a_server_span_with_database_children_and_the_logs,
);

async fn a_traceparent_continues_into_a_server_span_with_database_children_and_the_logs(
    backend: Backend,
) {
    let (app, harness) = spawn_traced_app(backend).await;
    let (trace_id, caller_span_id) = (random_hex(32), random_hex(16));
    let path = format!("/product/{KNIFE_SLUG}");
    let response = app
        .client
        .get(app.url(&path))
        .header("traceparent", format!("00-{trace_id}-{caller_span_id}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), HttpStatus::OK);

    let is_server = |span: &Span| span.kind == SpanKind::Server as i32;
    let spans = wait_for_trace(harness, &from_hex(&trace_id), |spans| {
        let server = spans.iter().find(|(_, s)| is_server(s));
        server.is_some_and(|(_, server)| {
            spans.iter().any(|(_, s)| {
                s.parent_span_id == server.span_id && s.kind == SpanKind::Client as i32
            })
        })
    })
    .await;

    let (service, server) = spans.iter().find(|(_, s)| is_server(s)).unwrap();
    assert_eq!(service, telemetry::SERVICE_NAME);
    assert_eq!(server.name, "GET /product/{slug}");
    assert_eq!(
        hex(&server.parent_span_id),
        caller_span_id,
        "the caller's span is the parent"
    );
    let attributes = &server.attributes;
    assert_eq!(
        string_attribute(attributes, "http.request.method"),
        Some("GET")
    );
    assert_eq!(
        string_attribute(attributes, "http.route"),
        Some("/product/{slug}")
    );
    assert_eq!(
        string_attribute(attributes, "url.path"),
        Some(path.as_str())
    );
    assert_eq!(string_attribute(attributes, "url.scheme"), Some("http"));
    assert_eq!(
        int_attribute(attributes, "http.response.status_code"),
        Some(200)
    );
    assert_ne!(
        server.status.as_ref().map(|s| s.code),
        Some(StatusCode::Error as i32)
    );

    let system = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgresql",
    };
    let queries: Vec<&Span> = spans
        .iter()
        .map(|(_, s)| s)
        .filter(|s| s.parent_span_id == server.span_id && s.kind == SpanKind::Client as i32)
        .collect();
    let product = queries
        .iter()
        .find(|s| string_attribute(&s.attributes, "db.operation.name") == Some("get_product"))
        .unwrap_or_else(|| panic!("no get_product span in {queries:#?}"));
    assert_eq!(product.name, "get_product");
    assert_eq!(
        string_attribute(&product.attributes, "db.system.name"),
        Some(system)
    );
    assert!(product.start_time_unix_nano >= server.start_time_unix_nano);
    assert!(product.end_time_unix_nano <= server.end_time_unix_nano);

    // The access-log line of that request carries the same trace and the
    // server span's id.
    let lines = harness.logs.lines();
    let access = lines
        .iter()
        .find(|l| l["target"] == "shop::access" && l["trace_id"] == trace_id.as_str())
        .unwrap_or_else(|| panic!("no access log line with trace {trace_id}"));
    assert_eq!(access["span_id"], hex(&server.span_id));
    assert_eq!(access["route"], "/product/{slug}");
    assert_eq!(access["status"], 200);
    assert_eq!(access["level"], "INFO");
    assert_eq!(access["message"], "request");
    assert!(access["duration_ms"].as_f64().is_some());
    assert!(access["timestamp"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_traceparent_starts_its_own_trace_and_a_5xx_marks_it_failed() {
    let (app, harness) = spawn_traced_app(Backend::Sqlite).await;
    let fault = app
        .add_fault(
            json!({"kind": "error", "route": "/search", "status": 503, "duration_seconds": 60}),
        )
        .await;
    assert_eq!(fault.status(), HttpStatus::CREATED);
    let response = app.get("/search?q=knife").await;
    assert_eq!(response.status(), HttpStatus::SERVICE_UNAVAILABLE);

    // The trace id is the shop's own: the log line names it.
    let access = harness
        .logs
        .lines()
        .into_iter()
        .find(|l| l["target"] == "shop::access" && l["route"] == "/search" && l["status"] == 503)
        .expect("an access-log line for the failed search");
    let trace_id = access["trace_id"].as_str().expect("a trace id").to_owned();
    assert_eq!(trace_id.len(), 32);
    let spans = wait_for_trace(harness, &from_hex(&trace_id), has_server_span).await;
    let server = server_span(&spans);
    assert_eq!(server.name, "GET /search");
    assert!(server.parent_span_id.is_empty(), "a root span");
    assert_eq!(hex(&server.span_id), access["span_id"]);
    assert_eq!(
        server.status.as_ref().map(|s| s.code),
        Some(StatusCode::Error as i32)
    );
    assert_eq!(
        string_attribute(&server.attributes, "error.type"),
        Some("503")
    );
    assert_eq!(
        int_attribute(&server.attributes, "http.response.status_code"),
        Some(503)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmatched_path_is_named_by_its_method_alone() {
    let (app, harness) = spawn_traced_app(Backend::Sqlite).await;
    let trace_id = random_hex(32);
    let response = app
        .client
        .get(app.url("/no/such/page"))
        .header(
            "traceparent",
            format!("00-{trace_id}-{}-01", random_hex(16)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), HttpStatus::NOT_FOUND);
    let spans = wait_for_trace(harness, &from_hex(&trace_id), has_server_span).await;
    let server = server_span(&spans);
    assert_eq!(server.name, "GET");
    assert_eq!(string_attribute(&server.attributes, "http.route"), None);
    assert_eq!(
        string_attribute(&server.attributes, "url.path"),
        Some("/no/such/page")
    );
}
