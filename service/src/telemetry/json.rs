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

/// What each thread reuses from line to line: formatting a line allocates
/// nothing once the buffers have grown to the longest line.
#[derive(Default)]
struct Scratch {
    line: String,
    /// Debug values are formatted here first, then escaped into the line.
    value: String,
    clock: Clock,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
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
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => self.write(&mut scratch, event, ids),
            // Re-entered from inside the writer: fall back to fresh buffers.
            Err(_) => self.write(&mut Scratch::default(), event, ids),
        });
    }
}

impl<W> JsonLayer<W>
where
    W: for<'a> MakeWriter<'a> + 'static,
{
    fn write(&self, scratch: &mut Scratch, event: &Event<'_>, ids: Option<TraceIds>) {
        let Scratch { line, value, clock } = scratch;
        line.clear();
        let metadata = event.metadata();
        line.push_str("{\"timestamp\":\"");
        clock.push_now(line);
        line.push_str("\",\"level\":\"");
        line.push_str(metadata.level().as_str());
        line.push_str("\",\"target\":");
        push_json_str(line, metadata.target());
        if let Some(ids) = ids {
            line.push_str(",\"trace_id\":\"");
            push_hex(line, &ids.trace_id.to_be_bytes());
            line.push_str("\",\"span_id\":\"");
            push_hex(line, &ids.span_id.to_be_bytes());
            line.push('"');
        }
        event.record(&mut FieldVisitor { line, value });
        line.push_str("}\n");
        let _ = self
            .make_writer
            .make_writer_for(metadata)
            .write_all(line.as_bytes());
        // Keep the buffers, but not huge ones that a single line grew.
        for buffer in [line, value] {
            if buffer.capacity() > 64 * 1024 {
                *buffer = String::new();
            }
        }
    }
}

/// The time as RFC 3339 in UTC with microseconds
/// (`2025-01-31T12:00:00.123456Z`); all up to the second is formatted once
/// per second.
#[derive(Default)]
struct Clock {
    second: Option<u64>,
    up_to_second: String,
}

impl Clock {
    fn push_now(&mut self, line: &mut String) {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        self.push(line, since_epoch);
    }

    fn push(&mut self, line: &mut String, since_epoch: std::time::Duration) {
        let second = since_epoch.as_secs();
        if self.second != Some(second) {
            self.up_to_second.clear();
            let time = i64::try_from(second)
                .ok()
                .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            push_up_to_second(&mut self.up_to_second, time);
            self.second = Some(second);
        }
        line.push_str(&self.up_to_second);
        line.push('.');
        push_digits(line, since_epoch.subsec_micros(), 6);
        line.push('Z');
    }
}

/// `2025-01-31T12:00:00`.
fn push_up_to_second(line: &mut String, time: time::OffsetDateTime) {
    push_digits(line, u32::try_from(time.year()).unwrap_or(0), 4);
    line.push('-');
    push_digits(line, u32::from(u8::from(time.month())), 2);
    line.push('-');
    push_digits(line, u32::from(time.day()), 2);
    line.push('T');
    push_digits(line, u32::from(time.hour()), 2);
    line.push(':');
    push_digits(line, u32::from(time.minute()), 2);
    line.push(':');
    push_digits(line, u32::from(time.second()), 2);
}

/// The last `width` decimal digits of `value`, zero-padded.
fn push_digits(line: &mut String, value: u32, width: u32) {
    let mut divisor = 10u32.pow(width - 1);
    while divisor > 0 {
        line.push(char::from(b'0' + (value / divisor % 10) as u8));
        divisor /= 10;
    }
}

/// Lower-case hex, two digits per byte.
fn push_hex(line: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &byte in bytes {
        line.push(char::from(DIGITS[usize::from(byte >> 4)]));
        line.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
}

/// Appends `value` as a JSON string, quotes included.
fn push_json_str(line: &mut String, value: &str) {
    line.push('"');
    if !value.bytes().any(|b| b < b' ' || b == b'"' || b == b'\\') {
        line.push_str(value);
        line.push('"');
        return;
    }
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
    /// Debug values are formatted here first, then escaped into the line.
    value: &'a mut String,
}

impl FieldVisitor<'_> {
    /// Field names are Rust identifiers, with dots at most: nothing to
    /// escape.
    fn key(&mut self, field: &Field) {
        self.line.push_str(",\"");
        self.line.push_str(field.name());
        self.line.push_str("\":");
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
        self.key(field);
        self.line.push_str(itoa::Buffer::new().format(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.key(field);
        self.line.push_str(itoa::Buffer::new().format(value));
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
            self.key(field);
            self.line.push_str(ryu::Buffer::new().format_finite(value));
        } else {
            // JSON has no NaN or infinity.
            self.key(field);
            push_json_str(self.line, &value.to_string());
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        use fmt::Write as _;
        self.value.clear();
        let _ = write!(self.value, "{value}");
        let mut source = value.source();
        while let Some(cause) = source {
            let _ = write!(self.value, ": {cause}");
            source = cause.source();
        }
        self.key(field);
        push_json_str(self.line, self.value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        use fmt::Write as _;
        self.value.clear();
        let _ = write!(self.value, "{value:?}");
        self.key(field);
        push_json_str(self.line, self.value);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

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
    fn timestamps_are_rfc3339_in_utc_with_microseconds_across_seconds() {
        let mut clock = Clock::default();
        let mut stamps = Vec::new();
        for since_epoch in [
            Duration::new(1_738_324_799, 999_999_999),
            Duration::new(1_738_324_800, 123_456_789),
            Duration::new(1_738_324_800, 7_000),
            Duration::new(1_738_411_200, 0),
        ] {
            let mut line = String::new();
            clock.push(&mut line, since_epoch);
            stamps.push(line);
        }
        assert_eq!(
            stamps,
            [
                "2025-01-31T11:59:59.999999Z",
                "2025-01-31T12:00:00.123456Z",
                "2025-01-31T12:00:00.000007Z",
                "2025-02-01T12:00:00.000000Z",
            ]
        );
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
