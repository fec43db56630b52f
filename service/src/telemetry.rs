//! The tracing stack: JSON (default) or pretty log lines filtered by
//! `RUST_LOG` (default `info`), and OpenTelemetry traces exported over OTLP
//! when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//!
//! Every log line emitted inside a request carries that request's `trace_id`
//! and `span_id`, with or without trace export: the ids come from the
//! incoming W3C `traceparent` when there is one, so a load generator's trace
//! continues into the shop's logs.

mod json;
mod request;
mod stdout;
mod traces;

use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::{
    filter::{filter_fn, FilterExt},
    fmt::MakeWriter,
    layer::SubscriberExt,
    EnvFilter, Layer, Registry,
};

pub use json::JsonLayer;
pub(crate) use request::{record_response, request_span};
pub use stdout::Stdout;
pub use traces::{TraceExport, SERVICE_NAME};

use crate::configuration::LogFormat;

/// A tracing subscriber ready for [`init_subscriber`] (or for
/// `tracing::subscriber::with_default` in tests and benchmarks).
pub type BoxSubscriber = Box<dyn Subscriber + Send + Sync>;

/// Builds the subscriber without trace export; `sink` is where lines go
/// (stdout in the binary, a buffer or `std::io::sink` in tests).
pub fn get_subscriber<Sink>(default_filter: &str, format: LogFormat, sink: Sink) -> BoxSubscriber
where
    Sink: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    get_subscriber_with_traces(default_filter, format, sink, None)
}

/// Builds the subscriber; with `traces`, spans are also exported through it.
pub fn get_subscriber_with_traces<Sink>(
    default_filter: &str,
    format: LogFormat,
    sink: Sink,
    traces: Option<&TraceExport>,
) -> BoxSubscriber
where
    Sink: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let env_filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    // The request span carries the trace ids of every line inside a request,
    // so it must exist whatever RUST_LOG says.
    let log_filter = env_filter.or(filter_fn(is_request_span));
    let otel = traces.map(|traces| traces.layer().with_filter(filter_fn(exported)));
    let registry = Registry::default().with(otel);
    match format {
        LogFormat::Json => Box::new(registry.with(JsonLayer::new(sink).with_filter(log_filter))),
        LogFormat::Pretty => Box::new(
            registry.with(
                tracing_subscriber::fmt::layer()
                    .with_writer(sink)
                    .with_filter(log_filter),
            ),
        ),
    }
}

/// Installs the subscriber for the whole process. Call once.
pub fn init_subscriber(subscriber: BoxSubscriber) -> anyhow::Result<()> {
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|e| anyhow::anyhow!("installing the log subscriber: {e}"))
}

fn is_request_span(metadata: &Metadata<'_>) -> bool {
    metadata.is_span() && metadata.name() == request::SPAN_NAME
}

/// What becomes part of a trace: the shop's own spans (not those of its
/// dependencies, such as the exporter's HTTP client), and warnings and errors
/// as span events.
fn exported(metadata: &Metadata<'_>) -> bool {
    let level = if metadata.is_span() {
        Level::INFO
    } else {
        Level::WARN
    };
    metadata.target().starts_with("shop") && *metadata.level() <= level
}

#[cfg(test)]
mod test_support {
    use std::{
        io::Write,
        sync::{Arc, Mutex},
    };

    use serde_json::Value;

    use super::BoxSubscriber;

    /// Log lines written to memory.
    #[derive(Clone, Default)]
    pub(super) struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Runs `emit` under the subscriber `make` builds around a buffer, and
    /// returns the lines written, each parsed as JSON.
    pub(super) fn capture(
        make: impl FnOnce(Lines) -> BoxSubscriber,
        emit: impl FnOnce(),
    ) -> Vec<Value> {
        let lines = Lines::default();
        tracing::subscriber::with_default(make(lines.clone()), emit);
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }
}
