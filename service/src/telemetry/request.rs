//! The trace of one request: the ids its log lines carry, and its server
//! span when one is wanted.

use std::{
    cell::{Cell, RefCell},
    fmt,
};

use actix_web::{
    dev::ServiceRequest,
    http::{
        header::{self, HeaderMap, HeaderName},
        StatusCode, Version,
    },
};
use opentelemetry::{
    propagation::{Extractor, TextMapPropagator},
    trace::TraceContextExt,
};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use rand::{rngs::SmallRng, Rng, SeedableRng};
use tracing::{field::Empty, Span};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::contract::metrics::UNMATCHED_ROUTE;

/// The tracing name of the request span; exporters see `otel.name`
/// (`GET /product/{slug}`).
pub(super) const SPAN_NAME: &str = "http.server.request";

/// The ids a request's log lines carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TraceIds {
    pub(crate) trace_id: u128,
    pub(crate) span_id: u64,
}

thread_local! {
    /// The ids of the request this thread is polling, if any.
    static CURRENT: Cell<Option<TraceIds>> = const { Cell::new(None) };

    /// Where new ids come from, as in the OpenTelemetry SDK: a fast
    /// generator per thread, seeded from the operating system. Ids must be
    /// unique, not secret.
    static ID_SOURCE: RefCell<SmallRng> = RefCell::new(SmallRng::from_entropy());
}

/// The ids of the request being served on this thread: what a log line
/// written now carries.
pub(crate) fn current_ids() -> Option<TraceIds> {
    CURRENT.with(Cell::get)
}

/// The trace of one request: its ids, and its server span when a layer
/// wants spans (trace export, or pretty logs).
pub(crate) struct RequestTrace {
    span: Span,
    ids: TraceIds,
}

/// Opens the trace of a request, continuing the caller's when the request
/// carries a W3C `traceparent`. The server span is named by route pattern
/// and has the OpenTelemetry HTTP attributes.
///
/// Without trace export the JSON logs turn spans away, so the span costs
/// nothing and the ids are the shop's own; a tracing span was half of
/// what telemetry added to a cached page, only to hold two numbers.
pub(crate) fn request_trace(
    req: &ServiceRequest,
    method: &'static str,
    route: &str,
) -> RequestTrace {
    let headers = req.headers();
    let span = tracing::info_span!(
        target: "shop::http",
        SPAN_NAME,
        otel.name = %SpanName(method, route),
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = method,
        http.route = (route != UNMATCHED_ROUTE).then_some(route),
        http.response.status_code = Empty,
        url.path = req.path(),
        url.scheme = if req.app_config().secure() { "https" } else { "http" },
        server.address = header(headers, &header::HOST).map(without_port),
        client.address = req.peer_addr().map(|a| tracing::field::display(a.ip())),
        network.protocol.version = protocol_version(req.version()),
        user_agent.original = header(headers, &header::USER_AGENT),
        error.type = Empty,
    );
    let parent = incoming_context(headers);
    let parent_trace_id = parent
        .as_ref()
        .map(|cx| u128::from_be_bytes(cx.span().span_context().trace_id().to_bytes()));
    let exported = if span.is_disabled() {
        None
    } else {
        if let Some(parent) = parent {
            // Fails only without the OpenTelemetry layer, when ids are our own.
            let _ = span.set_parent(parent);
        }
        let context = span.context();
        let exported = context.span().span_context().clone();
        exported.is_valid().then(|| TraceIds {
            trace_id: u128::from_be_bytes(exported.trace_id().to_bytes()),
            span_id: u64::from_be_bytes(exported.span_id().to_bytes()),
        })
    };
    let ids = exported.unwrap_or_else(|| {
        let [high, low, span_id]: [u64; 3] = ID_SOURCE.with(|source| source.borrow_mut().gen());
        TraceIds {
            trace_id: parent_trace_id
                .filter(|&id| id != 0)
                .unwrap_or((u128::from(high) << 64 | u128::from(low)).max(1)),
            span_id: span_id.max(1),
        }
    });
    RequestTrace { span, ids }
}

impl RequestTrace {
    /// Makes this the request the thread is serving until the guard drops:
    /// log lines written meanwhile carry its ids, and its span (if any) is
    /// entered, so that the request's database spans are its children.
    /// A request's future is polled inside it, every time.
    pub(crate) fn enter(&self) -> Entered<'_> {
        Entered {
            _current: Current::set(self.ids),
            _span: self.span.enter(),
        }
    }
}

/// The guard of [`RequestTrace::enter`]; the previous ids are back, and the
/// span exited, when it drops.
pub(crate) struct Entered<'a> {
    _current: Current,
    _span: tracing::span::Entered<'a>,
}

/// This thread's current ids while it lives; the previous ones after.
struct Current(Option<TraceIds>);

impl Current {
    fn set(ids: TraceIds) -> Self {
        Current(CURRENT.with(|current| current.replace(Some(ids))))
    }
}

impl Drop for Current {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.0));
    }
}

/// Records the answer on the request span; a 5xx marks it failed.
pub(crate) fn record_response(trace: &RequestTrace, status: StatusCode) {
    let span = &trace.span;
    if span.is_disabled() {
        // Else each field would still be looked up by name.
        return;
    }
    // As i64: the OpenTelemetry layer would turn a u64 into a string.
    span.record("http.response.status_code", i64::from(status.as_u16()));
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
        span.record("error.type", status.as_str());
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `shop.example:8080` → `shop.example`; `[::1]:8080` → `[::1]`.
fn without_port(host: &str) -> &str {
    match host.bytes().rposition(|b| b == b':') {
        Some(colon)
            if colon + 1 < host.len()
                && host.as_bytes()[colon + 1..].iter().all(u8::is_ascii_digit) =>
        {
            &host[..colon]
        }
        _ => host,
    }
}

/// `network.protocol.version`: `1.1`, `2`, ...
fn protocol_version(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => "1.1",
    }
}

/// The caller's trace context, when the request carries a `traceparent`.
fn incoming_context(headers: &HeaderMap) -> Option<opentelemetry::Context> {
    // A `&str` key would be parsed into a header name on every request.
    const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
    // Most requests carry none, and going through their dozen headers or
    // fewer costs less than hashing the name (SipHash) to look it up.
    if !headers.keys().any(|name| *name == TRACEPARENT) {
        return None;
    }
    let context = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    context.span().span_context().is_valid().then_some(context)
}

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// `GET /product/{slug}`, or just `GET` when no route matched (the
/// OpenTelemetry convention); formatted only if an exporter asks.
struct SpanName<'a>(&'static str, &'a str);

impl fmt::Display for SpanName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.1 == UNMATCHED_ROUTE {
            f.write_str(self.0)
        } else {
            write!(f, "{} {}", self.0, self.1)
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use serde_json::Value;

    use super::*;
    use crate::{configuration::LogFormat, telemetry::test_support};

    /// Runs `emit` under the JSON logs the shop runs with when no trace is
    /// exported, and returns the lines written.
    fn json_lines(emit: impl FnOnce()) -> Vec<Value> {
        test_support::capture(
            |lines| {
                crate::telemetry::get_subscriber("info", LogFormat::Json, move || lines.clone())
            },
            emit,
        )
    }

    fn serve<T>(trace: &RequestTrace, inside: impl FnOnce() -> T) -> T {
        let _entered = trace.enter();
        inside()
    }

    /// A line logged inside the trace of `request`.
    fn line_inside(request: TestRequest) -> Value {
        let request = request.uri("/product/chefs-knife").to_srv_request();
        let lines = json_lines(|| {
            let trace = request_trace(&request, "GET", "/product/{slug}");
            serve(&trace, || tracing::error!("inside"));
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        lines.into_iter().next().unwrap()
    }

    #[test]
    fn without_export_json_logs_make_no_request_span() {
        let request = TestRequest::default().to_srv_request();
        json_lines(|| {
            let trace = request_trace(&request, "GET", "/");
            assert!(trace.span.is_disabled());
        });
    }

    #[test]
    fn pretty_logs_still_get_the_request_span() {
        let request = TestRequest::default().to_srv_request();
        let subscriber = crate::telemetry::get_subscriber("info", LogFormat::Pretty, std::io::sink);
        tracing::subscriber::with_default(subscriber, || {
            let trace = request_trace(&request, "GET", "/");
            assert!(!trace.span.is_disabled());
        });
    }

    #[test]
    fn lines_in_child_spans_carry_the_request_ids_and_lines_after_it_none() {
        let request = TestRequest::default().to_srv_request();
        let lines = json_lines(|| {
            let trace = request_trace(&request, "GET", "/");
            serve(&trace, || {
                let _query = tracing::info_span!("db.query").entered();
                tracing::info!("in a query");
            });
            tracing::info!("after");
        });
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0]["trace_id"].as_str().unwrap().len(), 32);
        assert!(lines[1].get("trace_id").is_none(), "{}", lines[1]);
    }

    #[test]
    fn without_export_the_logs_continue_the_callers_trace() {
        let line = line_inside(TestRequest::default().insert_header((
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )));
        assert_eq!(line["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
        let span_id = line["span_id"].as_str().unwrap();
        assert_eq!(span_id.len(), 16);
        assert_ne!(span_id, "00f067aa0ba902b7", "the shop's span is a new one");
    }

    #[test]
    fn without_export_or_traceparent_each_request_gets_its_own_trace() {
        let a = line_inside(TestRequest::default());
        let b = line_inside(TestRequest::default());
        for line in [&a, &b] {
            assert_eq!(line["trace_id"].as_str().unwrap().len(), 32);
            assert_ne!(line["trace_id"], "00000000000000000000000000000000");
        }
        assert_ne!(a["trace_id"], b["trace_id"]);
    }

    #[test]
    fn hosts_lose_their_port_but_keep_ipv6_brackets() {
        assert_eq!(without_port("shop.example:8080"), "shop.example");
        assert_eq!(without_port("shop.example"), "shop.example");
        assert_eq!(without_port("[::1]:8080"), "[::1]");
        assert_eq!(without_port("[::1]"), "[::1]");
    }

    #[test]
    fn a_valid_traceparent_is_honoured_and_junk_is_ignored() {
        let request = TestRequest::default()
            .insert_header((
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ))
            .to_http_request();
        let context = incoming_context(request.headers()).expect("a parent");
        assert_eq!(
            context.span().span_context().trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        for junk in [
            "",
            "00-zz-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        ] {
            let request = TestRequest::default()
                .insert_header(("traceparent", junk))
                .to_http_request();
            assert!(incoming_context(request.headers()).is_none(), "{junk}");
        }
    }
}
