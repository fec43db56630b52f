//! JSON log lines: `timestamp`, `level`, `target`, `trace_id` and `span_id`
//! (inside a request), `message`, then the event's own fields, written with
//! `serde_json`.
//!
//! A layer of its own rather than `tracing_subscriber::fmt().json()`: that
//! formats every span's fields into a string when the span is created, which
//! the shop would pay for on every request and database query without ever
//! printing it. This layer never looks at spans: the trace ids are those of
//! the request the thread is serving (see `RequestTrace::enter`).

use std::{fmt, io::Write};

use serde::{ser::SerializeMap, Serialize, Serializer};
use time::{format_description::FormatItem, macros::format_description, OffsetDateTime};
use tracing::{
    field::{Field, Visit},
    Event, Metadata, Subscriber,
};
use tracing_subscriber::{fmt::MakeWriter, layer::Context, Layer};

use super::request::{current_ids, TraceIds};

/// RFC 3339 in UTC with microseconds: `2025-01-31T12:00:00.123456Z`.
const TIMESTAMP: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// Where finished lines go: the `MakeWriter` the layer was made with, asked
/// for a writer by each line's metadata.
type Sink = Box<dyn Fn(&Metadata<'_>, &[u8]) + Send + Sync>;

/// Writes one JSON object per event, each on its own line.
pub struct JsonLayer {
    sink: Sink,
}

impl JsonLayer {
    pub fn new<W>(make_writer: W) -> Self
    where
        W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
    {
        JsonLayer {
            // One write per line: a line is never split between writes.
            sink: Box::new(move |metadata, line| {
                let _ = make_writer.make_writer_for(metadata).write_all(line);
            }),
        }
    }
}

impl<S: Subscriber> Layer<S> for JsonLayer {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let metadata = event.metadata();
        let line = Line {
            timestamp: OffsetDateTime::now_utc(),
            metadata,
            ids: current_ids(),
            fields,
        };
        let mut text = Vec::with_capacity(256);
        if serde_json::to_writer(&mut text, &line).is_ok() {
            text.push(b'\n');
            (self.sink)(metadata, &text);
        }
    }
}

/// One log line, serialised in the order of its keys.
struct Line<'a> {
    timestamp: OffsetDateTime,
    metadata: &'a Metadata<'a>,
    ids: Option<TraceIds>,
    fields: Fields,
}

impl Serialize for Line<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        let timestamp = self
            .timestamp
            .format(TIMESTAMP)
            .map_err(serde::ser::Error::custom)?;
        map.serialize_entry("timestamp", &timestamp)?;
        map.serialize_entry("level", self.metadata.level().as_str())?;
        map.serialize_entry("target", self.metadata.target())?;
        if let Some(ids) = self.ids {
            map.serialize_entry("trace_id", &format!("{:032x}", ids.trace_id))?;
            map.serialize_entry("span_id", &format!("{:016x}", ids.span_id))?;
        }
        if let Some(message) = &self.fields.message {
            map.serialize_entry("message", message)?;
        }
        for (name, value) in &self.fields.others {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// An event's fields as the visitor found them; the message apart, since
/// it comes first on the line.
#[derive(Default)]
struct Fields {
    message: Option<String>,
    others: Vec<(&'static str, Value)>,
}

/// A field's value, as JSON shows it.
enum Value {
    Str(String),
    I64(i64),
    U64(u64),
    I128(i128),
    U128(u128),
    F64(f64),
    Bool(bool),
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Str(s) => serializer.serialize_str(s),
            Value::I64(n) => serializer.serialize_i64(*n),
            Value::U64(n) => serializer.serialize_u64(*n),
            Value::I128(n) => serializer.serialize_i128(*n),
            Value::U128(n) => serializer.serialize_u128(*n),
            Value::F64(x) if x.is_finite() => serializer.serialize_f64(*x),
            // JSON has no NaN or infinity.
            Value::F64(x) => serializer.serialize_str(&x.to_string()),
            Value::Bool(b) => serializer.serialize_bool(*b),
        }
    }
}

impl Fields {
    fn push(&mut self, field: &Field, value: Value) {
        match value {
            Value::Str(message) if field.name() == "message" => self.message = Some(message),
            value => self.others.push((field.name(), value)),
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, Value::Str(value.to_owned()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, Value::U64(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.push(field, Value::I128(value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.push(field, Value::U128(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, Value::F64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, Value::Bool(value));
    }

    /// The error and its causes, `outer: inner: innermost`.
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        self.push(field, Value::Str(text));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, Value::Str(format!("{value:?}")));
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
                big = u128::MAX,
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
        assert!(line["big"].is_number(), "{}", line["big"]);
        let timestamp = line["timestamp"].as_str().unwrap();
        assert!(
            time::OffsetDateTime::parse(timestamp, &time::format_description::well_known::Rfc3339)
                .is_ok(),
            "{timestamp}"
        );
        assert_eq!(
            timestamp.len(),
            "2025-01-31T12:00:00.123456Z".len(),
            "{timestamp}"
        );
        assert!(line.get("trace_id").is_none(), "no request, no trace id");
    }

    #[test]
    fn the_keys_come_in_their_order_message_before_the_fields() {
        let text = {
            let lines = Lines::default();
            let sink = lines.clone();
            let subscriber =
                tracing_subscriber::Registry::default().with(JsonLayer::new(move || sink.clone()));
            tracing::subscriber::with_default(subscriber, || {
                tracing::info!(target: "shop::test", zebra = 1, apple = "a", "hello");
            });
            lines.text()
        };
        let keys: Vec<&str> = ["timestamp", "level", "target", "message", "zebra", "apple"]
            .into_iter()
            .collect();
        let positions: Vec<usize> = keys
            .iter()
            .map(|key| {
                text.find(&format!("\"{key}\":"))
                    .unwrap_or_else(|| panic!("no {key} in {text}"))
            })
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert!(text.ends_with("}\n"), "{text}");
    }
}
