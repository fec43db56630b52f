//! `loadgen capacity`: one shop replica as it runs in its pod (a release
//! build on a fresh PostgreSQL database, under the Deployment's CPU limit
//! through a cgroup CPU quota), loaded at request-rate steps (an open model:
//! the rate is the thing varied), each step judged by the objectives of
//! `alerts/slo.yaml` as their recording rules compute them, from the
//! replica's own `/metrics` scraped before and after the step.
//!
//! - [`limit`]: the CPU limit and request read from the manifests;
//! - [`exposition`] and [`sli`]: the SLI queries evaluated on scraped samples;
//! - [`pod`]: the replica in its pod and its CPU use from `/proc`;
//! - [`stepping`]: the steps themselves;
//! - this file: `capacity.json`, its format and the capacity figure.

pub mod exposition;
pub mod limit;
pub mod pod;
pub mod sli;
pub mod stepping;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::report;

/// The `format` of the files this version writes and reads.
pub const FORMAT: &str = "loadgen-capacity/v2";

/// `capacity.json`: what was measured, how, the whole step table and the
/// capacity figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacityFile {
    /// [`FORMAT`].
    pub format: String,
    /// `loadgen 0.1.0`.
    pub tool: String,
    /// RFC 3339, when the measurement ended.
    pub measured_at: String,
    pub build: Build,
    /// `postgresql`.
    pub backend: String,
    pub cpu: CpuSettings,
    pub load: LoadSettings,
    /// The machine: CPUs and the load average before the run, since other
    /// work on the same cores is noise in every figure below.
    pub machine: Machine,
    pub slo_source: String,
    /// The objectives each step was judged by.
    pub objectives: Vec<ObjectiveRecord>,
    pub steps: Vec<Step>,
    /// The best step at which every objective held; `None` when none did.
    pub capacity: Option<Capacity>,
    /// Why stepping stopped.
    pub stopped_because: String,
}

/// The shop binary that was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    /// `release` or `debug` (from the cargo profile directory it lives in),
    /// `unknown` otherwise.
    pub profile: String,
    pub binary: String,
    /// The shop's `shop_build_info` version.
    pub version: String,
}

/// The pod's CPU settings, as the kubelet applies them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CpuSettings {
    /// `resources.limits.cpu`, in cores: the cgroup quota the replica ran under.
    pub limit_cores: f64,
    /// `resources.requests.cpu`, in cores: what HPA utilisation is relative to.
    pub request_cores: f64,
    /// Where they were read from (a manifest, or the command line).
    pub source: String,
}

/// How the load was offered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadSettings {
    pub model: String,
    /// Replicas loaded: one pod, or several behind HAProxy as their Service
    /// (the fleet check); every figure of a step is their sum.
    pub replicas: usize,
    /// Goose users sharing the throttle: the most requests in flight.
    pub users: usize,
    pub step_seconds: f64,
}

/// The machine that measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Machine {
    pub cpus: usize,
    /// `/proc/loadavg`'s 1-minute figure before the first step.
    pub load_average_before: f64,
}

/// One objective of `slo.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveRecord {
    pub name: String,
    pub objective_percent: f64,
}

/// One step of the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The offered rate.
    pub target_rps: f64,
    /// The measured window, after the users started.
    pub seconds: f64,
    /// Requests the replica counted in the window (its own histogram count).
    pub requests: u64,
    /// `requests / seconds`: the rate the HPA's metric would read.
    pub requests_per_second: f64,
    /// CPU the replica used, in cores (from `/proc/<pid>/stat`).
    pub cpu_cores: f64,
    /// `cpu_cores` against the limit, in percent.
    pub cpu_percent_of_limit: f64,
    /// Requests loadgen finished in the window, per second.
    pub client_requests_per_second: f64,
    /// Seen from loadgen, coordinated-omission corrected, in milliseconds.
    pub client_p50_ms: f64,
    pub client_p99_ms: f64,
    /// Each objective's verdict for the step.
    pub slis: Vec<sli::Verdict>,
    pub held: bool,
    /// Why the step did not hold.
    pub breaches: Vec<String>,
}

/// The capacity figure: the highest rate with every objective held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    pub requests_per_second: f64,
    pub target_rps: f64,
    pub cpu_cores: f64,
    pub cpu_percent_of_limit: f64,
}

/// The step with the highest served rate among those before the first one
/// that did not hold.
pub fn best(steps: &[Step]) -> Option<Capacity> {
    steps
        .iter()
        .take_while(|s| s.held)
        .max_by(|a, b| a.requests_per_second.total_cmp(&b.requests_per_second))
        .map(|s| Capacity {
            requests_per_second: s.requests_per_second,
            target_rps: s.target_rps,
            cpu_cores: s.cpu_cores,
            cpu_percent_of_limit: s.cpu_percent_of_limit,
        })
}

pub(crate) fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

pub fn write_file(path: &Path, file: &CapacityFile) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let json = serde_json::to_string_pretty(file).expect("a capacity file always serialises");
    report::write(path, &(json + "\n"))
}

/// Reads a capacity file of [`FORMAT`]; another format, a missing field or
/// bad JSON is a usage error that names the file and what is wrong.
pub fn read_file(path: &Path) -> Result<CapacityFile> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

fn parse(path: &Path, text: &str) -> Result<CapacityFile> {
    let bad = |source| Error::CapacityFile {
        path: PathBuf::from(path),
        source,
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(bad)?;
    let format = value.get("format").and_then(|f| f.as_str());
    if format != Some(FORMAT) {
        return Err(Error::Usage(format!(
            "{} is not a capacity file of format {FORMAT} ({}); measure again with `loadgen capacity`",
            path.display(),
            match format {
                Some(other) => format!("its format is {other}"),
                None => "it has no `format` field: an older loadgen or another tool wrote it".into(),
            }
        )));
    }
    serde_json::from_value(value).map_err(bad)
}

#[cfg(test)]
mod tests;
