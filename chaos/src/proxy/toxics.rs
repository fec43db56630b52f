//! The toxics and their attributes, as Toxiproxy defines them.

use serde_json::{Map, Value};

use crate::toxiproxy::{Stream, Toxic};

/// What a toxic does. Times are milliseconds unless said otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToxicKind {
    /// Delay every chunk by `latency` ± `jitter`.
    Latency { latency: u64, jitter: u64 },
    /// At most `rate` KB/s (1 KB = 1000 bytes); 0 is unlimited.
    Bandwidth { rate: u64 },
    /// Delay the close of the connection by `delay`.
    SlowClose { delay: u64 },
    /// Let nothing through; close after `timeout` (0: never, until removed).
    Timeout { timeout: u64 },
    /// Reset the connection (TCP RST) after `timeout` (0: at once).
    ResetPeer { timeout: u64 },
    /// Cut data into pieces of `average_size` ± `size_variation` bytes,
    /// `delay` microseconds apart.
    Slicer {
        average_size: u64,
        size_variation: u64,
        delay: u64,
    },
    /// Close the connection after `bytes` bytes.
    LimitData { bytes: u64 },
}

/// Every toxic type with its attributes.
pub const TYPES: &[(&str, &[&str])] = &[
    ("latency", &["latency", "jitter"]),
    ("bandwidth", &["rate"]),
    ("slow_close", &["delay"]),
    ("timeout", &["timeout"]),
    ("reset_peer", &["timeout"]),
    ("slicer", &["average_size", "size_variation", "delay"]),
    ("limit_data", &["bytes"]),
];

/// The attribute names of a toxic type; `None` for an unknown type.
pub fn attribute_names(kind: &str) -> Option<&'static [&'static str]> {
    TYPES.iter().find(|(t, _)| *t == kind).map(|(_, a)| *a)
}

impl ToxicKind {
    /// Reads a toxic's type and attributes. Missing attributes are 0, and
    /// unknown ones are ignored, as Toxiproxy does.
    pub fn parse(kind: &str, attributes: &Map<String, Value>) -> Result<ToxicKind, String> {
        let get = |name: &str| -> Result<u64, String> {
            match attributes.get(name) {
                None | Some(Value::Null) => Ok(0),
                Some(value) => value.as_u64().ok_or_else(|| {
                    format!("attribute `{name}` of a {kind} toxic is a whole number at least 0, not {value}")
                }),
            }
        };
        Ok(match kind {
            "latency" => ToxicKind::Latency {
                latency: get("latency")?,
                jitter: get("jitter")?,
            },
            "bandwidth" => ToxicKind::Bandwidth { rate: get("rate")? },
            "slow_close" => ToxicKind::SlowClose {
                delay: get("delay")?,
            },
            "timeout" => ToxicKind::Timeout {
                timeout: get("timeout")?,
            },
            "reset_peer" => ToxicKind::ResetPeer {
                timeout: get("timeout")?,
            },
            "slicer" => ToxicKind::Slicer {
                average_size: get("average_size")?,
                size_variation: get("size_variation")?,
                delay: get("delay")?,
            },
            "limit_data" => ToxicKind::LimitData {
                bytes: get("bytes")?,
            },
            _ => return Err("invalid toxic type".into()),
        })
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            ToxicKind::Latency { .. } => "latency",
            ToxicKind::Bandwidth { .. } => "bandwidth",
            ToxicKind::SlowClose { .. } => "slow_close",
            ToxicKind::Timeout { .. } => "timeout",
            ToxicKind::ResetPeer { .. } => "reset_peer",
            ToxicKind::Slicer { .. } => "slicer",
            ToxicKind::LimitData { .. } => "limit_data",
        }
    }

    /// Every attribute, as the API shows them.
    pub fn attributes(&self) -> Map<String, Value> {
        let pairs: Vec<(&str, u64)> = match *self {
            ToxicKind::Latency { latency, jitter } => {
                vec![("latency", latency), ("jitter", jitter)]
            }
            ToxicKind::Bandwidth { rate } => vec![("rate", rate)],
            ToxicKind::SlowClose { delay } => vec![("delay", delay)],
            ToxicKind::Timeout { timeout } | ToxicKind::ResetPeer { timeout } => {
                vec![("timeout", timeout)]
            }
            ToxicKind::Slicer {
                average_size,
                size_variation,
                delay,
            } => vec![
                ("average_size", average_size),
                ("size_variation", size_variation),
                ("delay", delay),
            ],
            ToxicKind::LimitData { bytes } => vec![("bytes", bytes)],
        };
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::from(v)))
            .collect()
    }
}

/// A toxic installed on a proxy. `uid` tells two toxics of the same name
/// apart when one replaced the other, so that each link rolls its toxicity
/// once per toxic.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ActiveToxic {
    pub(crate) uid: u64,
    pub(crate) name: String,
    pub(crate) stream: Stream,
    pub(crate) toxicity: f32,
    pub(crate) kind: ToxicKind,
}

impl ActiveToxic {
    pub(crate) fn to_wire(&self) -> Toxic {
        Toxic {
            name: self.name.clone(),
            kind: self.kind.type_name().to_owned(),
            stream: self.stream,
            toxicity: self.toxicity,
            attributes: self.kind.attributes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn attributes_default_to_zero_and_must_be_whole_numbers() {
        let attrs = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(
            ToxicKind::parse("latency", &attrs(json!({"latency": 100}))),
            Ok(ToxicKind::Latency {
                latency: 100,
                jitter: 0
            })
        );
        assert!(ToxicKind::parse("latency", &attrs(json!({"latency": -1})))
            .unwrap_err()
            .contains("`latency`"));
        assert!(ToxicKind::parse("latency", &attrs(json!({"latency": "fast"}))).is_err());
        assert_eq!(
            ToxicKind::parse("lag", &Map::new()).unwrap_err(),
            "invalid toxic type"
        );
    }

    #[test]
    fn every_type_shows_all_its_attributes() {
        for (kind, names) in TYPES {
            let parsed = ToxicKind::parse(kind, &Map::new()).unwrap();
            assert_eq!(parsed.type_name(), *kind);
            let shown: Vec<_> = parsed.attributes().keys().cloned().collect();
            let mut expected: Vec<_> = names.iter().map(|s| s.to_string()).collect();
            expected.sort();
            assert_eq!(shown, expected, "{kind}");
        }
    }
}
