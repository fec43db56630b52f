//! The Chaos Toolkit's providers: `http` and `process`, with its fields,
//! plus a few of this runner's (`body`, `json`, `timeout_seconds`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::get;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpRequest {
    pub url: String,
    #[serde(default = "get")]
    pub method: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A text body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// A JSON body (sets `Content-Type: application/json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    /// Seconds before the request is given up (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<f64>,
    /// The Chaos Toolkit's `arguments`: query parameters of a GET; else the
    /// body, JSON when the `Content-Type` header says so, a form otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Value>,
    /// The Chaos Toolkit's `timeout`: seconds, or `[connect, read]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<HttpTimeout>,
    /// Any other status fails the activity (by default none does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_status: Option<u16>,
    /// Check the server's TLS certificate (default true).
    #[serde(default = "yes")]
    pub verify_tls: bool,
    /// Tries again this many times when the connection fails (default 0).
    #[serde(default)]
    pub max_retries: u32,
}

fn yes() -> bool {
    true
}

/// Seconds for the whole request, or `[connect, read]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HttpTimeout {
    Total(f64),
    ConnectRead(f64, f64),
}

impl HttpRequest {
    /// The connect timeout (if any) and the whole request's.
    pub fn timeouts(&self) -> (Option<f64>, f64) {
        match (self.timeout, self.timeout_seconds) {
            (Some(HttpTimeout::ConnectRead(connect, read)), _) => (Some(connect), connect + read),
            (Some(HttpTimeout::Total(total)), _) => (None, total),
            (None, Some(total)) => (None, total),
            (None, None) => (None, 5.0),
        }
    }
}

/// The Chaos Toolkit's `process` provider: `path` found on `PATH`, and its
/// `arguments` as a list, a mapping (`--flag: value` pairs) or one string
/// (then run by the shell, as the Chaos Toolkit does).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessRun {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Value>,
    /// Seconds before the process is killed and the activity fails
    /// (default: the activity's timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
}
