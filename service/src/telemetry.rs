//! The tracing stack: JSON (default) or pretty log lines filtered by
//! `RUST_LOG` (default `info`), and OpenTelemetry traces exported over OTLP
//! when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//!
//! Every log line emitted inside a request carries that request's `trace_id`
//! and `span_id`, with or without trace export: the ids come from the
//! incoming W3C `traceparent` when there is one, so a load generator's trace
//! continues into the shop's logs. Without export, JSON logs make no spans
//! at all: the ids are kept per request, not in a span.

mod access;
mod json;
mod request;
mod stdout;
mod traces;

use tracing::{span, subscriber::Interest, Level, Metadata, Subscriber};
use tracing_subscriber::{
    filter::LevelFilter,
    fmt::MakeWriter,
    layer::{Context, Filter, SubscriberExt},
    registry::LookupSpan,
    EnvFilter, Layer, Registry,
};

pub(crate) use access::access_log;
pub use json::JsonLayer;
pub(crate) use request::{record_response, request_trace, RequestTrace};
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
    match traces {
        // One filter for the whole subscriber: what it turns away is never
        // made, and no layer keeps books of which filter let what through
        // (that bookkeeping was 500 instructions of every request).
        None => Box::new(
            Registry::default()
                .with(LogFilter {
                    env: env_filter,
                    spans: format == LogFormat::Pretty,
                })
                .with(log_layer(format, sink, true)),
        ),
        // Export and logs see different spans and events: a filter each.
        Some(traces) => Box::new(
            Registry::default()
                .with(traces.layer().with_filter(ByCallsite(exported)))
                .with(log_layer(format, sink, false).with_filter(env_filter)),
        ),
    }
}

/// The layer that writes log lines, in `format`, to `sink`; with
/// `direct_access` (only where no filter of its own stands in front of it)
/// the access log writes its lines to it directly.
fn log_layer<S, Sink>(
    format: LogFormat,
    sink: Sink,
    direct_access: bool,
) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    Sink: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    match format {
        LogFormat::Json if direct_access => Box::new(JsonLayer::new(sink).with_direct_access()),
        LogFormat::Json => Box::new(JsonLayer::new(sink)),
        LogFormat::Pretty => Box::new(tracing_subscriber::fmt::layer().with_writer(sink)),
    }
}

/// `RUST_LOG`'s filter for the whole subscriber, which turns every span away
/// when the logs would not show it: JSON lines carry the request's ids, not
/// its span, so without trace export a span would be made and kept for
/// nothing.
struct LogFilter {
    env: EnvFilter,
    /// Whether spans are made at all (pretty logs print them).
    spans: bool,
}

impl<S> Layer<S> for LogFilter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        let interest = Layer::<S>::register_callsite(&self.env, metadata);
        if metadata.is_span() && !self.spans {
            Interest::never()
        } else {
            interest
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, cx: Context<'_, S>) -> bool {
        (self.spans || !metadata.is_span()) && Layer::enabled(&self.env, metadata, cx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Layer::<S>::max_level_hint(&self.env)
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, cx: Context<'_, S>) {
        Layer::on_new_span(&self.env, attrs, id, cx);
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, cx: Context<'_, S>) {
        Layer::on_record(&self.env, id, values, cx);
    }

    fn on_enter(&self, id: &span::Id, cx: Context<'_, S>) {
        Layer::on_enter(&self.env, id, cx);
    }

    fn on_exit(&self, id: &span::Id, cx: Context<'_, S>) {
        Layer::on_exit(&self.env, id, cx);
    }

    fn on_close(&self, id: span::Id, cx: Context<'_, S>) {
        Layer::on_close(&self.env, id, cx);
    }
}

/// Installs the subscriber for the whole process. Call once.
pub fn init_subscriber(subscriber: BoxSubscriber) -> anyhow::Result<()> {
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|e| anyhow::anyhow!("installing the log subscriber: {e}"))
}

/// A filter that decides by callsite alone, and says so once per callsite.
///
/// `filter_fn` cannot tell tracing that its answer never changes, so every
/// callsite of every level was asked again each time it was reached: a
/// dozen events per request from the libraries below the shop, all below
/// `info`, were dispatched only to be turned away.
struct ByCallsite(fn(&Metadata<'_>) -> bool);

impl<S> Filter<S> for ByCallsite {
    fn enabled(&self, metadata: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        (self.0)(metadata)
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        if (self.0)(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    /// Both filters pass nothing below `info`.
    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::INFO)
    }
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
pub(crate) mod test_support {
    use std::{
        io::Write,
        sync::{Arc, Mutex},
    };

    use serde_json::Value;

    use super::BoxSubscriber;

    /// Log lines written to memory.
    #[derive(Clone, Default)]
    pub(crate) struct Lines(Arc<Mutex<Vec<u8>>>);

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
    pub(crate) fn capture(
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
