//! The fault API's request and response bodies (`/admin/faults` on the admin port).

use serde::{Deserialize, Serialize};

/// The route pattern that matches every route.
pub const ANY_ROUTE: &str = "*";

/// What an injected fault does to a matching request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultKind {
    /// Delay the request by `latency_ms`, then serve it.
    Latency,
    /// Answer `status` (a 4xx or 5xx) instead of serving the request.
    Error,
    /// Close the connection without a usable response.
    Abort,
}

impl FaultKind {
    pub const ALL: [FaultKind; 3] = [FaultKind::Latency, FaultKind::Error, FaultKind::Abort];

    /// The `kind` label value of `shop_fault_active`.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Latency => "latency",
            FaultKind::Error => "error",
            FaultKind::Abort => "abort",
        }
    }
}

/// Where a fault applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultTarget {
    /// Requests on the public port, matched by `http_route` pattern.
    #[default]
    Http,
    /// The shop's database operations, matched by `db_operation_name`: the
    /// way to slow or cut the database on any backend, embedded SQLite
    /// included, where there is no network link for a proxy to break.
    /// `latency` delays each matching operation; `error` and `abort` fail it
    /// as an unreachable database would.
    Database,
}

impl FaultTarget {
    fn is_http(&self) -> bool {
        *self == FaultTarget::Http
    }
}

/// `POST /admin/faults` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub kind: FaultKind,
    /// `http` (default) or `database`.
    #[serde(default, skip_serializing_if = "FaultTarget::is_http")]
    pub target: FaultTarget,
    /// For the `http` target, an `http_route` pattern such as
    /// `/product/{slug}`; for the `database` target, a `db_operation_name`
    /// such as `get_product`; `*` for every one.
    pub route: String,
    /// Share of matching requests affected, 0.0 to 1.0.
    #[serde(default = "always")]
    pub probability: f64,
    /// Added delay, for `latency` faults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Answered status, for `error` faults (default 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Lifetime; the fault clears itself afterwards.
    pub duration_seconds: u64,
}

fn always() -> f64 {
    1.0
}

/// `POST /admin/faults` answer (201).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultCreated {
    pub id: String,
}

/// One element of `GET /admin/faults`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveFault {
    pub id: String,
    #[serde(flatten)]
    pub spec: FaultSpec,
    /// Seconds until the fault clears itself.
    pub expires_in_seconds: u64,
}
