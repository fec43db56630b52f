//! The tracing stack: JSON (default) or pretty log lines filtered by
//! `RUST_LOG` (default `info`), and OpenTelemetry traces exported over OTLP
//! when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//!
//! Every log line emitted inside a request carries that request's `trace_id`
//! and `span_id`, with or without trace export: the ids come from the
//! incoming W3C `traceparent` when there is one, so a load generator's trace
//! continues into the shop's logs. Without export, JSON logs make no spans
//! at all: the ids are kept per request, not in a span.

mod json;
mod request;
mod traces;

use std::{fs::File, io, io::BufWriter, os::fd::AsFd, time::Duration};

use actix_web::http::StatusCode;

use tracing::{span, subscriber::Interest, Level, Metadata, Subscriber};
use tracing_subscriber::{
    filter::LevelFilter,
    fmt::MakeWriter,
    layer::{Context, Filter, SubscriberExt},
    registry::LookupSpan,
    EnvFilter, Layer, Registry,
};

pub use json::JsonLayer;
pub(crate) use request::{record_response, request_trace, RequestTrace};
pub use traces::{TraceExport, SERVICE_NAME};
pub use tracing_appender::non_blocking::{NonBlocking, WorkerGuard};

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
                .with(log_layer(format, sink)),
        ),
        // Export and logs see different spans and events: a filter each.
        Some(traces) => Box::new(
            Registry::default()
                .with(traces.layer().with_filter(ByCallsite(exported)))
                .with(log_layer(format, sink).with_filter(env_filter)),
        ),
    }
}

/// The layer that writes log lines, in `format`, to `sink`.
fn log_layer<S, Sink>(format: LogFormat, sink: Sink) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    Sink: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    match format {
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

/// The process's standard output for log lines, written by a thread of
/// its own (`tracing-appender`): a request hands its line over and goes on,
/// and the thread writes whatever lines have arrived in one `write(2)` of up
/// to [`STDOUT_BUFFER`] bytes.
///
/// Not lossy: when the thread falls behind by
/// [`tracing_appender::non_blocking::DEFAULT_BUFFERED_LINES_LIMIT`] lines,
/// logging waits for it, as a direct write would, rather than drop access
/// lines unnoticed. Keep the guard for the life of the process; dropping it
/// writes out the lines still waiting.
pub fn stdout() -> io::Result<(NonBlocking, WorkerGuard)> {
    // A duplicate of fd 1, not `io::stdout()`: that flushes at every
    // newline, a system call per line.
    let stdout = File::from(io::stdout().as_fd().try_clone_to_owned()?);
    Ok(
        tracing_appender::non_blocking::NonBlockingBuilder::default()
            .lossy(false)
            .thread_name("log-writer")
            .finish(BufWriter::with_capacity(STDOUT_BUFFER, stdout)),
    )
}

/// The most the log thread writes at once: `PIPE_BUF` on Linux, so that a
/// write to a pipe (a container's standard output) is never interleaved
/// with another writer's.
const STDOUT_BUFFER: usize = 4096;

/// The access-log line of one request: target `shop::access`, at `info`.
pub(crate) fn access_log(method: &'static str, route: &str, status: StatusCode, elapsed: Duration) {
    tracing::info!(
        target: "shop::access",
        method,
        route,
        status = status.as_u16(),
        duration_ms = elapsed.as_micros() as f64 / 1000.0,
        "request"
    );
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

    impl Lines {
        /// Everything written so far.
        pub(crate) fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
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
        lines
            .text()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn access_lines(filter: &str, write: impl FnOnce()) -> Vec<Value> {
        test_support::capture(
            |lines| get_subscriber(filter, LogFormat::Json, move || lines.clone()),
            write,
        )
    }

    #[test]
    fn the_access_line_has_the_request_and_its_duration_in_milliseconds() {
        for micros in [1_004, 50, 3_000, 0, 12_345_678, 999] {
            let lines = access_lines("info", || {
                access_log(
                    "GET",
                    "/product/{slug}",
                    StatusCode::OK,
                    Duration::from_micros(micros),
                );
            });
            assert_eq!(lines.len(), 1, "{lines:?}");
            let line = &lines[0];
            assert_eq!(line["level"], "INFO");
            assert_eq!(line["target"], "shop::access");
            assert_eq!(line["message"], "request");
            assert_eq!(line["method"], "GET");
            assert_eq!(line["route"], "/product/{slug}");
            assert_eq!(line["status"], 200);
            assert_eq!(line["duration_ms"], micros as f64 / 1000.0, "{micros} µs");
        }
    }

    #[test]
    fn rust_log_turns_the_access_log_off_or_on() {
        let write = || access_log("POST", "/cart", StatusCode::SEE_OTHER, Duration::ZERO);
        assert!(access_lines("warn", write).is_empty());
        assert!(access_lines("info,shop::access=warn", write).is_empty());
        let on = access_lines("warn,shop::access=info", write);
        assert_eq!(on.len(), 1);
        assert_eq!(on[0]["target"], "shop::access");
        assert_eq!(on[0]["status"], 303);
    }

    #[test]
    fn the_log_thread_writes_out_what_waited_when_its_guard_drops() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
            .lossy(false)
            .finish(BufWriter::with_capacity(
                STDOUT_BUFFER,
                file.reopen().unwrap(),
            ));
        let subscriber = get_subscriber("info", LogFormat::Json, writer);
        tracing::subscriber::with_default(subscriber, || {
            for status in [StatusCode::OK, StatusCode::NOT_FOUND] {
                access_log("GET", "/", status, Duration::ZERO);
            }
        });
        drop(guard);
        let text = std::fs::read_to_string(file.path()).unwrap();
        let statuses: Vec<Value> = text
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).unwrap()["status"].clone())
            .collect();
        assert_eq!(statuses, [200, 404], "{text}");
    }
}
