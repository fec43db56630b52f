//! JSON log lines: `timestamp`, `level`, `target`, `trace_id` and `span_id`
//! (inside a request), `message`, then the event's own fields.
//!
//! A layer of its own rather than `tracing_subscriber::fmt().json()`: that
//! formats every span's fields into a string when the span is created, which
//! the shop would pay for on every request and database query without ever
//! printing it. This layer never looks at spans: the trace ids are those of
//! the request the thread is serving (see `RequestTrace::enter`).

use std::{cell::RefCell, fmt, io::Write};

use tracing::{
    field::{Field, Visit},
    Event, Metadata, Subscriber,
};
use tracing_subscriber::{fmt::MakeWriter, layer::Context, Layer};

use super::{access::AccessLine, request::current_ids};

/// Where finished lines go: the `MakeWriter` the layer was made with, asked
/// for a writer by each line's metadata.
type Sink = Box<dyn Fn(&Metadata<'_>, &[u8]) + Send + Sync>;

/// Writes one JSON object per event, each on its own line.
pub struct JsonLayer {
    sink: Sink,
    /// Whether the access log may bypass the event machinery (see
    /// [`JsonLayer::write_access`]); only while this layer sees every event
    /// the subscriber's one filter lets through.
    direct_access: bool,
}

impl JsonLayer {
    pub fn new<W>(make_writer: W) -> Self
    where
        W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
    {
        JsonLayer {
            sink: Box::new(move |metadata, line| {
                let _ = make_writer.make_writer_for(metadata).write_all(line);
            }),
            direct_access: false,
        }
    }

    /// Lets the access log find this layer and write its lines directly.
    pub(super) fn with_direct_access(mut self) -> Self {
        self.direct_access = true;
        self
    }
}

/// What each thread reuses from line to line: formatting a line allocates
/// nothing once the buffers have grown to the longest line.
#[derive(Default)]
struct Scratch {
    line: Vec<u8>,
    /// Debug values are formatted here first, then escaped into the line.
    value: String,
    clock: Clock,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

impl<S: Subscriber> Layer<S> for JsonLayer {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let metadata = event.metadata();
        self.write_line(metadata, None, |line, value| {
            event.record(&mut FieldVisitor { line, value });
        });
    }
}

impl JsonLayer {
    /// Whether the access log may write its lines with
    /// [`JsonLayer::write_access`].
    pub(super) fn takes_access_lines(&self) -> bool {
        self.direct_access
    }

    /// Writes the access-log line of one request, exactly as the
    /// `shop::access` event would be written, without making the event:
    /// dispatching it and visiting its fields cost as much as all the rest
    /// of the telemetry of a request.
    ///
    /// `level_and_target` is that part of the line as written
    /// (`,"level":"INFO","target":"shop::access"`), and the method is one of
    /// the fixed labels: nothing in either needs escaping.
    pub(super) fn write_access(
        &self,
        metadata: &Metadata<'_>,
        level_and_target: &'static str,
        access: &AccessLine<'_>,
    ) {
        self.write_line(metadata, Some(level_and_target), |line, _| {
            line.extend_from_slice(b",\"message\":\"request\",\"method\":\"");
            line.extend_from_slice(access.method.as_bytes());
            line.extend_from_slice(b"\",\"route\":");
            push_json_str(line, access.route);
            line.extend_from_slice(b",\"status\":");
            line.extend_from_slice(itoa::Buffer::new().format(access.status).as_bytes());
            line.extend_from_slice(b",\"duration_ms\":");
            push_millis(line, access.micros);
        });
    }

    /// Writes one line: the standard keys, then what `fields` adds.
    fn write_line(
        &self,
        metadata: &Metadata<'_>,
        level_and_target: Option<&'static str>,
        fields: impl FnOnce(&mut Vec<u8>, &mut String),
    ) {
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => self.write(&mut scratch, metadata, level_and_target, fields),
            // Re-entered from inside the writer: fall back to fresh buffers.
            Err(_) => self.write(&mut Scratch::default(), metadata, level_and_target, fields),
        });
    }

    fn write(
        &self,
        scratch: &mut Scratch,
        metadata: &Metadata<'_>,
        level_and_target: Option<&'static str>,
        fields: impl FnOnce(&mut Vec<u8>, &mut String),
    ) {
        let Scratch { line, value, clock } = scratch;
        line.clear();
        line.extend_from_slice(b"{\"timestamp\":\"");
        clock.push_now(line);
        line.push(b'"');
        match level_and_target {
            Some(written) => line.extend_from_slice(written.as_bytes()),
            None => {
                line.extend_from_slice(b",\"level\":\"");
                line.extend_from_slice(metadata.level().as_str().as_bytes());
                line.extend_from_slice(b"\",\"target\":");
                push_json_str(line, metadata.target());
            }
        }
        if let Some(ids) = current_ids() {
            line.extend_from_slice(b",\"trace_id\":\"");
            push_hex(line, &ids.trace_id.to_be_bytes());
            line.extend_from_slice(b"\",\"span_id\":\"");
            push_hex(line, &ids.span_id.to_be_bytes());
            line.push(b'"');
        }
        fields(line, value);
        line.extend_from_slice(b"}\n");
        (self.sink)(metadata, line);
        // Keep the buffers, but not huge ones that a single line grew.
        if line.capacity() > 64 * 1024 {
            *line = Vec::new();
        }
        if value.capacity() > 64 * 1024 {
            *value = String::new();
        }
    }
}

/// Milliseconds from microseconds, as the shortest decimal that reads back
/// as the same `f64` (`1.004`, `0.05`, `3.0`): what `ryu` prints for
/// `micros as f64 / 1000.0`, without the float.
fn push_millis(line: &mut Vec<u8>, micros: u64) {
    line.extend_from_slice(itoa::Buffer::new().format(micros / 1000).as_bytes());
    line.push(b'.');
    let mut fraction = micros % 1000;
    if fraction == 0 {
        line.push(b'0');
        return;
    }
    let mut width = 3;
    while fraction % 10 == 0 {
        fraction /= 10;
        width -= 1;
    }
    push_digits(line, fraction as u32, width);
}

/// The time as RFC 3339 in UTC with microseconds
/// (`2025-01-31T12:00:00.123456Z`); all up to the second is formatted once
/// per second.
#[derive(Default)]
struct Clock {
    second: Option<u64>,
    up_to_second: Vec<u8>,
}

impl Clock {
    fn push_now(&mut self, line: &mut Vec<u8>) {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        self.push(line, since_epoch);
    }

    fn push(&mut self, line: &mut Vec<u8>, since_epoch: std::time::Duration) {
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
        line.extend_from_slice(&self.up_to_second);
        line.push(b'.');
        push_digits(line, since_epoch.subsec_micros(), 6);
        line.push(b'Z');
    }
}

/// `2025-01-31T12:00:00`.
fn push_up_to_second(line: &mut Vec<u8>, time: time::OffsetDateTime) {
    push_digits(line, u32::try_from(time.year()).unwrap_or(0), 4);
    line.push(b'-');
    push_digits(line, u32::from(u8::from(time.month())), 2);
    line.push(b'-');
    push_digits(line, u32::from(time.day()), 2);
    line.push(b'T');
    push_digits(line, u32::from(time.hour()), 2);
    line.push(b':');
    push_digits(line, u32::from(time.minute()), 2);
    line.push(b':');
    push_digits(line, u32::from(time.second()), 2);
}

/// The last `width` (at most 10) decimal digits of `value`, zero-padded.
fn push_digits(line: &mut Vec<u8>, mut value: u32, width: usize) {
    let mut digits = [b'0'; 10];
    for digit in digits[..width].iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
    line.extend_from_slice(&digits[..width]);
}

/// Lower-case hex, two digits per byte, of at most 16 bytes.
fn push_hex(line: &mut Vec<u8>, bytes: &[u8]) {
    /// The two digits of every byte.
    const PAIRS: [[u8; 2]; 256] = {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut pairs = [[0; 2]; 256];
        let mut byte = 0;
        while byte < 256 {
            pairs[byte] = [DIGITS[byte >> 4], DIGITS[byte & 0xf]];
            byte += 1;
        }
        pairs
    };
    let mut hex = [[0; 2]; 16];
    for (pair, &byte) in hex.iter_mut().zip(bytes) {
        *pair = PAIRS[usize::from(byte)];
    }
    line.extend_from_slice(hex[..bytes.len()].as_flattened());
}

/// Appends `value` as a JSON string, quotes included.
fn push_json_str(line: &mut Vec<u8>, value: &str) {
    line.push(b'"');
    let bytes = value.as_bytes();
    if !needs_escaping(bytes) {
        line.extend_from_slice(bytes);
        line.push(b'"');
        return;
    }
    for &byte in bytes {
        match byte {
            b'"' => line.extend_from_slice(b"\\\""),
            b'\\' => line.extend_from_slice(b"\\\\"),
            b'\n' => line.extend_from_slice(b"\\n"),
            b'\r' => line.extend_from_slice(b"\\r"),
            b'\t' => line.extend_from_slice(b"\\t"),
            ..b' ' => {
                let _ = write!(line, "\\u{byte:04x}");
            }
            _ => line.push(byte),
        }
    }
    line.push(b'"');
}

/// Whether `bytes` hold a control character, `"` or `\`: eight bytes at a
/// time (the classic "has a zero byte" bit trick), since nearly every
/// string logged has none.
fn needs_escaping(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS != 0;
    let any_special = |eight: [u8; 8]| {
        let x = u64::from_ne_bytes(eight);
        // A byte is below 0x20 exactly when its top three bits are clear.
        has_zero(x & u64::from_ne_bytes([0xe0; 8]))
            || has_zero(x ^ u64::from_ne_bytes([b'"'; 8]))
            || has_zero(x ^ u64::from_ne_bytes([b'\\'; 8]))
    };
    let mut chunks = bytes.chunks_exact(8);
    if chunks
        .by_ref()
        .any(|chunk| any_special(chunk.try_into().expect("eight bytes")))
    {
        return true;
    }
    // The last few bytes, padded with spaces (which need no escaping).
    let mut last = [b' '; 8];
    last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    any_special(last)
}

struct FieldVisitor<'a> {
    line: &'a mut Vec<u8>,
    /// Debug values are formatted here first, then escaped into the line.
    value: &'a mut String,
}

impl FieldVisitor<'_> {
    /// Field names are Rust identifiers, with dots at most: nothing to
    /// escape.
    fn key(&mut self, field: &Field) {
        self.line.extend_from_slice(b",\"");
        self.line.extend_from_slice(field.name().as_bytes());
        self.line.extend_from_slice(b"\":");
    }

    fn raw(&mut self, field: &Field, value: impl fmt::Display) {
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
        self.line
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.key(field);
        self.line
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
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
            self.line
                .extend_from_slice(ryu::Buffer::new().format_finite(value).as_bytes());
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
    fn strings_needing_escapes_are_found_wherever_the_byte_is() {
        let plain = "/product/{slug}?q=é and more";
        assert!(!needs_escaping(plain.as_bytes()));
        for end in 0..=plain.len() {
            let start = &plain.as_bytes()[..end];
            assert!(!needs_escaping(start), "{start:?}");
            assert!(needs_escaping(&[start, b"\n"].concat()), "{start:?}");
        }
        for special in ['"', '\\', '\n', '\u{0}', '\u{1f}'] {
            for at in 0..plain.len() {
                if !plain.is_char_boundary(at) {
                    continue;
                }
                let text = format!("{}{special}{}", &plain[..at], &plain[at..]);
                assert!(needs_escaping(text.as_bytes()), "{text:?}");
                let mut line = Vec::new();
                push_json_str(&mut line, &text);
                let back: String = serde_json::from_slice(&line).unwrap();
                assert_eq!(back, text);
            }
        }
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
            let mut line = Vec::new();
            clock.push(&mut line, since_epoch);
            stamps.push(String::from_utf8(line).unwrap());
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
}
