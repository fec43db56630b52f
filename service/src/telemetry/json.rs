//! JSON log lines: `timestamp`, `level`, `target`, `trace_id` and `span_id`
//! (inside a request), `message`, then the event's own fields.
//!
//! A layer of its own rather than `tracing_subscriber::fmt().json()`: that
//! formats every span's fields into a string when the span is created, which
//! the shop would pay for on every request and database query without ever
//! printing it; this layer looks at spans only to find the trace ids.

use std::{cell::RefCell, fmt, io::Write};

use tracing::{
    field::{Field, Visit},
    Event, Subscriber,
};
use tracing_subscriber::{fmt::MakeWriter, layer::Context, registry::LookupSpan, Layer};

use super::request::TraceIds;

/// Writes one JSON object per event, each on its own line.
pub struct JsonLayer<W> {
    make_writer: W,
}

impl<W> JsonLayer<W>
where
    W: for<'a> MakeWriter<'a> + 'static,
{
    pub fn new(make_writer: W) -> Self {
        JsonLayer { make_writer }
    }
}

thread_local! {
    // One reused buffer per thread: formatting a line allocates nothing
    // once the buffer has grown to the longest line.
    static BUFFER: RefCell<String> = const { RefCell::new(String::new()) };
}

impl<S, W> Layer<S> for JsonLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'a> MakeWriter<'a> + 'static,
{
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let ids = ctx.event_scope(event).and_then(|scope| {
            scope
                .into_iter()
                .find_map(|span| span.extensions().get::<TraceIds>().copied())
        });
        BUFFER.with(|buffer| match buffer.try_borrow_mut() {
            Ok(mut line) => self.write(&mut line, event, ids),
            // Re-entered from inside the writer: fall back to a fresh buffer.
            Err(_) => self.write(&mut String::new(), event, ids),
        });
    }
}

impl<W> JsonLayer<W>
where
    W: for<'a> MakeWriter<'a> + 'static,
{
    fn write(&self, line: &mut String, event: &Event<'_>, ids: Option<TraceIds>) {
        line.clear();
        let metadata = event.metadata();
        line.push_str("{\"timestamp\":\"");
        push_timestamp(line, time::OffsetDateTime::now_utc());
        line.push_str("\",\"level\":\"");
        line.push_str(metadata.level().as_str());
        line.push_str("\",\"target\":");
        push_json_str(line, metadata.target());
        if let Some(ids) = ids {
            use fmt::Write as _;
            let _ = write!(
                line,
                ",\"trace_id\":\"{:032x}\",\"span_id\":\"{:016x}\"",
                ids.trace_id, ids.span_id
            );
        }
        let mut visitor = FieldVisitor {
            line,
            scratch: String::new(),
        };
        event.record(&mut visitor);
        line.push_str("}\n");
        let _ = self
            .make_writer
            .make_writer_for(metadata)
            .write_all(line.as_bytes());
        // Keep the buffer, but not a huge one that a single line grew.
        if line.capacity() > 64 * 1024 {
            *line = String::new();
        }
    }
}

/// RFC 3339 in UTC with microseconds: `2025-01-31T12:00:00.123456Z`.
fn push_timestamp(line: &mut String, now: time::OffsetDateTime) {
    use fmt::Write as _;
    let _ = write!(
        line,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.microsecond()
    );
}

/// Appends `value` as a JSON string, quotes included.
fn push_json_str(line: &mut String, value: &str) {
    line.push('"');
    for c in value.chars() {
        match c {
            '"' => line.push_str("\\\""),
            '\\' => line.push_str("\\\\"),
            '\n' => line.push_str("\\n"),
            '\r' => line.push_str("\\r"),
            '\t' => line.push_str("\\t"),
            c if c < ' ' => {
                use fmt::Write as _;
                let _ = write!(line, "\\u{:04x}", c as u32);
            }
            c => line.push(c),
        }
    }
    line.push('"');
}

struct FieldVisitor<'a> {
    line: &'a mut String,
    // Debug values are formatted here first, then escaped into the line.
    scratch: String,
}

impl FieldVisitor<'_> {
    fn key(&mut self, field: &Field) {
        self.line.push(',');
        push_json_str(self.line, field.name());
        self.line.push(':');
    }

    fn raw(&mut self, field: &Field, value: impl fmt::Display) {
        use fmt::Write as _;
        self.key(field);
        let _ = write!(self.line, "{value}");
    }
}

impl Visit for FieldVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.key(field);
        push_json_str(self.line, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.raw(field, value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.raw(field, value);
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.raw(field, value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.raw(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.raw(field, value);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if value.is_finite() {
            self.raw(field, value);
        } else {
            // JSON has no NaN or infinity.
            self.key(field);
            push_json_str(self.line, &value.to_string());
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        use fmt::Write as _;
        self.scratch.clear();
        let _ = write!(self.scratch, "{value}");
        let mut source = value.source();
        while let Some(cause) = source {
            let _ = write!(self.scratch, ": {cause}");
            source = cause.source();
        }
        self.key(field);
        push_json_str(self.line, &self.scratch);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        use fmt::Write as _;
        self.scratch.clear();
        let _ = write!(self.scratch, "{value:?}");
        self.key(field);
        push_json_str(self.line, &self.scratch);
    }
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;
    use crate::telemetry::test_support::Lines;

    fn capture(emit: impl FnOnce()) -> Vec<serde_json::Value> {
        crate::telemetry::test_support::capture(
            |lines: Lines| {
                Box::new(
                    tracing_subscriber::Registry::default()
                        .with(JsonLayer::new(move || lines.clone())),
                )
            },
            emit,
        )
    }

    #[test]
    fn every_line_is_a_json_object_with_the_standard_keys_and_the_fields() {
        let error = std::io::Error::other("disk full");
        let lines = capture(|| {
            tracing::warn!(
                target: "shop::test",
                count = 3,
                ratio = 0.5,
                ok = false,
                nan = f64::NAN,
                quoted = "say \"hi\"\n\u{1}",
                error = &error as &dyn std::error::Error,
                "went {}",
                "wrong"
            );
        });
        let line = &lines[0];
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["target"], "shop::test");
        assert_eq!(line["message"], "went wrong");
        assert_eq!(line["count"], 3);
        assert_eq!(line["ratio"], 0.5);
        assert_eq!(line["ok"], false);
        assert_eq!(line["nan"], "NaN");
        assert_eq!(line["quoted"], "say \"hi\"\n\u{1}");
        assert_eq!(line["error"], "disk full");
        let timestamp = line["timestamp"].as_str().unwrap();
        assert!(
            time::OffsetDateTime::parse(timestamp, &time::format_description::well_known::Rfc3339)
                .is_ok(),
            "{timestamp}"
        );
        assert!(line.get("trace_id").is_none(), "no request, no trace id");
    }

    #[test]
    fn lines_inside_a_span_with_trace_ids_carry_them_also_from_child_spans() {
        let lines = capture(|| {
            let request = tracing::info_span!("request");
            request.with_subscriber(|(id, dispatch)| {
                let registry = dispatch
                    .downcast_ref::<tracing_subscriber::Registry>()
                    .unwrap();
                registry
                    .span(id)
                    .unwrap()
                    .extensions_mut()
                    .insert(TraceIds {
                        trace_id: 0x4bf92f3577b34da6a3ce929d0e0e4736,
                        span_id: 0x00f067aa0ba902b7,
                    });
            });
            let _request = request.enter();
            let _query = tracing::info_span!("db.query").entered();
            tracing::info!("inside");
        });
        assert_eq!(lines[0]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(lines[0]["span_id"], "00f067aa0ba902b7");
    }
}
