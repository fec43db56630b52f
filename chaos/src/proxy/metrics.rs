//! The fault proxy's own metrics, served at `GET /metrics` of its API. The
//! byte counters keep Toxiproxy's names and labels, so dashboards made for
//! Toxiproxy work on it.

use prometheus::{Encoder, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

use crate::toxiproxy::Stream;

/// Metric names.
pub mod names {
    /// Toxiproxy's: bytes read from the client (upstream) or server (downstream).
    pub const RECEIVED_BYTES: &str = "toxiproxy_proxy_received_bytes_total";
    /// Toxiproxy's: bytes written to the server (upstream) or client (downstream).
    pub const SENT_BYTES: &str = "toxiproxy_proxy_sent_bytes_total";
    pub const CONNECTIONS: &str = "chaos_proxy_connections_total";
    pub const ACTIVE_CONNECTIONS: &str = "chaos_proxy_active_connections";
    pub const LINK_CLOSES: &str = "chaos_proxy_link_closes_total";
    pub const TOXICS: &str = "chaos_proxy_toxics";
    pub const ENABLED: &str = "chaos_proxy_enabled";
}

/// Why a link ended: the fixed set of `reason` values of `chaos_proxy_link_closes_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// Both sides closed normally.
    Eof,
    /// A `timeout` toxic closed it.
    Timeout,
    /// A `reset_peer` toxic reset it.
    ResetPeer,
    /// A `limit_data` toxic closed it.
    LimitData,
    /// The proxy was disabled, changed or deleted.
    Down,
    /// The upstream could not be reached.
    UpstreamUnreachable,
    /// A socket error.
    Error,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Eof => "eof",
            CloseReason::Timeout => "timeout",
            CloseReason::ResetPeer => "reset_peer",
            CloseReason::LimitData => "limit_data",
            CloseReason::Down => "down",
            CloseReason::UpstreamUnreachable => "upstream_unreachable",
            CloseReason::Error => "error",
        }
    }
}

#[derive(Clone)]
pub(crate) struct ProxyMetrics {
    registry: Registry,
    received: IntCounterVec,
    sent: IntCounterVec,
    connections: IntCounterVec,
    pub(crate) active: IntGaugeVec,
    closes: IntCounterVec,
    pub(crate) toxics: IntGaugeVec,
    pub(crate) enabled: IntGaugeVec,
}

/// The byte counters of one direction of one link.
#[derive(Clone)]
pub(crate) struct DirectionCounters {
    pub(crate) received: IntCounter,
    pub(crate) sent: IntCounter,
}

impl ProxyMetrics {
    pub(crate) fn new() -> ProxyMetrics {
        let registry = Registry::new();
        let link = ["direction", "listener", "proxy", "upstream"];
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("registered once");
            c
        };
        let gauge = |name: &str, help: &str, labels: &[&str]| {
            let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(g.clone()))
                .expect("registered once");
            g
        };
        ProxyMetrics {
            received: counter(
                names::RECEIVED_BYTES,
                "Bytes received by the proxy link",
                &link,
            ),
            sent: counter(names::SENT_BYTES, "Bytes sent by the proxy link", &link),
            connections: counter(
                names::CONNECTIONS,
                "Client connections accepted",
                &["proxy"],
            ),
            active: gauge(names::ACTIVE_CONNECTIONS, "Links open now", &["proxy"]),
            closes: counter(
                names::LINK_CLOSES,
                "Links ended, by reason",
                &["proxy", "reason"],
            ),
            toxics: gauge(
                names::TOXICS,
                "Toxics installed",
                &["proxy", "type", "stream"],
            ),
            enabled: gauge(
                names::ENABLED,
                "1 while the proxy accepts connections",
                &["proxy"],
            ),
            registry,
        }
    }

    pub(crate) fn direction(
        &self,
        stream: Stream,
        listener: &str,
        proxy: &str,
        upstream: &str,
    ) -> DirectionCounters {
        let labels = [stream.as_str(), listener, proxy, upstream];
        DirectionCounters {
            received: self.received.with_label_values(&labels),
            sent: self.sent.with_label_values(&labels),
        }
    }

    pub(crate) fn accepted(&self, proxy: &str) {
        self.connections.with_label_values(&[proxy]).inc();
        self.active.with_label_values(&[proxy]).inc();
    }

    pub(crate) fn closed(&self, proxy: &str, reason: CloseReason) {
        self.active.with_label_values(&[proxy]).dec();
        self.closes
            .with_label_values(&[proxy, reason.as_str()])
            .inc();
    }

    /// Forgets the gauges of a deleted proxy.
    pub(crate) fn forget(&self, proxy: &str) {
        let _ = self.enabled.remove_label_values(&[proxy]);
        for (kind, _) in super::toxics::TYPES {
            for stream in [Stream::Upstream, Stream::Downstream] {
                let _ = self
                    .toxics
                    .remove_label_values(&[proxy, kind, stream.as_str()]);
            }
        }
    }

    pub(crate) fn render(&self) -> String {
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .expect("text encoding does not fail");
        String::from_utf8(buffer).expect("the text format is UTF-8")
    }
}
