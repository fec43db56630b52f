//! W3C Trace Context: each request carries a fresh `traceparent`, so a slow
//! request in a report can be looked up in the shop's traces and logs.

use std::fmt;

/// The header name, as the W3C Trace Context recommendation spells it.
pub const TRACEPARENT: &str = "traceparent";

/// A trace id and a parent span id, sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    trace_id: u128,
    span_id: u64,
}

impl TraceParent {
    /// A new random trace. All-zero ids are invalid, so they are never drawn.
    pub fn random() -> Self {
        TraceParent {
            trace_id: rand::random_range(1..=u128::MAX),
            span_id: rand::random_range(1..=u64::MAX),
        }
    }

    /// The 32 hex digits the shop logs as `trace_id`.
    pub fn trace_id(&self) -> String {
        format!("{:032x}", self.trace_id)
    }
}

impl fmt::Display for TraceParent {
    /// `00-<trace id>-<parent id>-01`: version 0, sampled.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "00-{:032x}-{:016x}-01", self.trace_id, self.span_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_has_the_w3c_shape() {
        let header = TraceParent::random().to_string();
        let parts: Vec<_> = header.split('-').collect();
        assert_eq!(parts.len(), 4, "{header}");
        assert_eq!(parts[0], "00");
        assert_eq!(parts[1].len(), 32);
        assert_eq!(parts[2].len(), 16);
        assert_eq!(parts[3], "01");
        assert!(header[3..]
            .chars()
            .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)));
        assert_ne!(parts[1], "0".repeat(32));
    }

    #[test]
    fn every_request_gets_its_own_trace() {
        let a = TraceParent::random();
        let b = TraceParent::random();
        assert_ne!(a.trace_id(), b.trace_id());
        assert!(a.to_string().contains(&a.trace_id()));
    }
}
