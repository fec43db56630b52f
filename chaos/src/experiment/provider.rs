//! What an activity does: `provider: {type: ..., ...}`. The Chaos
//! Toolkit's own (`http`, `process`) are in [`standard`].

use std::{collections::BTreeMap, path::PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use shop_contract::faults::FaultSpec;

use crate::toxiproxy::{Stream, Toxic};

mod standard;

pub use standard::{HttpRequest, HttpTimeout, ProcessRun};

/// Every provider; probes first, then actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Provider {
    /// One HTTP request: status, latency, body (the Chaos Toolkit's `http`).
    Http(HttpRequest),
    /// Run a program: exit status, stdout, stderr (the Chaos Toolkit's `process`).
    Process(ProcessRun),
    /// A bounded burst of concurrent HTTP requests: how many failed.
    HttpLoad(HttpLoad),
    /// A Prometheus instant query.
    Prometheus(PrometheusQuery),
    /// An SLO's error-budget burn rate, from the `alerts` recording rules.
    SloBurnRate(SloBurnRate),
    /// Inject a fault through the shop's fault API.
    ShopFault(ShopFault),
    /// Clear every fault of the shop's fault API.
    ShopFaultsClear(NoArguments),
    /// Add a toxic to a fault-proxy (Toxiproxy) link.
    ProxyToxic(ProxyToxic),
    /// Take a proxy down: its link refuses connections.
    ProxyDown(ProxyName),
    /// Bring a proxy back up.
    ProxyUp(ProxyName),
    /// Enable every proxy and remove every toxic.
    ProxyReset(ProxyApi),
    /// Send a signal to local processes.
    ProcessSignal(ProcessSignal),
    /// Delete pods by label selector.
    K8sDeletePods(DeletePods),
    /// Scale a deployment.
    K8sScale(Scale),
    /// Restart a deployment's pods, as `kubectl rollout restart` does.
    K8sRolloutRestart(RolloutRestart),
    /// Change a deployment container's resource requests and limits.
    K8sPatchResources(PatchResources),
    /// Burn CPU in this process.
    CpuStress(CpuStress),
    /// Undo what an earlier action of this run did.
    Undo(Undo),
}

impl Provider {
    /// Every `type`: the Chaos Toolkit's first, then this runner's own.
    pub const TYPES: &'static [&'static str] = &[
        "http",
        "process",
        "http-load",
        "prometheus",
        "slo-burn-rate",
        "shop-fault",
        "shop-faults-clear",
        "proxy-toxic",
        "proxy-down",
        "proxy-up",
        "proxy-reset",
        "process-signal",
        "k8s-delete-pods",
        "k8s-scale",
        "k8s-rollout-restart",
        "k8s-patch-resources",
        "cpu-stress",
        "undo",
    ];

    /// The `type` as written.
    pub fn type_name(&self) -> &'static str {
        match self {
            Provider::Http(_) => "http",
            Provider::Process(_) => "process",
            Provider::HttpLoad(_) => "http-load",
            Provider::Prometheus(_) => "prometheus",
            Provider::SloBurnRate(_) => "slo-burn-rate",
            Provider::ShopFault(_) => "shop-fault",
            Provider::ShopFaultsClear(_) => "shop-faults-clear",
            Provider::ProxyToxic(_) => "proxy-toxic",
            Provider::ProxyDown(_) => "proxy-down",
            Provider::ProxyUp(_) => "proxy-up",
            Provider::ProxyReset(_) => "proxy-reset",
            Provider::ProcessSignal(_) => "process-signal",
            Provider::K8sDeletePods(_) => "k8s-delete-pods",
            Provider::K8sScale(_) => "k8s-scale",
            Provider::K8sRolloutRestart(_) => "k8s-rollout-restart",
            Provider::K8sPatchResources(_) => "k8s-patch-resources",
            Provider::CpuStress(_) => "cpu-stress",
            Provider::Undo(_) => "undo",
        }
    }

    /// Whether this provider only observes (a probe).
    pub fn is_probe(&self) -> bool {
        matches!(
            self,
            Provider::HttpLoad(_) | Provider::Prometheus(_) | Provider::SloBurnRate(_)
        )
    }

    /// Whether it may be a probe or an action, as the Chaos Toolkit's are.
    pub fn is_either(&self) -> bool {
        matches!(self, Provider::Http(_) | Provider::Process(_))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoArguments {}

pub(super) fn get() -> String {
    "GET".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpLoad {
    pub url: String,
    #[serde(default = "get")]
    pub method: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// How many requests in all (at most 10 000).
    pub requests: u32,
    /// How many at once (at most 64).
    #[serde(default = "one")]
    pub concurrency: u32,
    /// Per request (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<f64>,
    /// Most requests started per second (default: as fast as `concurrency` allows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusQuery {
    pub query: String,
    /// Default: `configuration.prometheus_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloBurnRate {
    /// An SLO of `alerts/slo.yaml`: `availability`, `page-latency`, `checkout`.
    pub slo: String,
    /// An SLI window (`5m`, `30m`, `1h`...); default: Sloth's current burn
    /// rate (`slo:current_burn_rate:ratio`, over 5m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopFault {
    /// The fault API's own request body.
    pub fault: FaultSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyToxic {
    pub proxy: String,
    /// `latency`, `bandwidth`, `timeout`, `reset_peer`, `slicer`,
    /// `limit_data`, `slow_close`.
    pub toxic: String,
    /// Default `<toxic>_<stream>`, as Toxiproxy names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub stream: Stream,
    /// Share of connections affected (default 1).
    #[serde(default = "full")]
    pub toxicity: f32,
    #[serde(default)]
    pub attributes: Map<String, Value>,
    /// Default: `configuration.proxy_api`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
}

fn full() -> f32 {
    1.0
}

impl ProxyToxic {
    /// The Toxiproxy request body.
    pub fn to_toxic(&self) -> Toxic {
        Toxic {
            name: self
                .name
                .clone()
                .unwrap_or_else(|| format!("{}_{}", self.toxic, self.stream.as_str())),
            kind: self.toxic.clone(),
            stream: self.stream,
            toxicity: self.toxicity,
            attributes: self.attributes.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyName {
    pub proxy: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyApi {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessSignal {
    /// `SIGTERM`, `SIGKILL`, `SIGINT`, `SIGHUP` or `SIGSTOP` (undone by `SIGCONT`).
    pub signal: String,
    /// A file holding the pid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_file: Option<PathBuf>,
    /// A regex matched against each process's command line (arguments
    /// joined by spaces). This process is never a target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Which of the matching processes.
    #[serde(default)]
    pub targets: Targets,
    /// Wait up to this long for the processes to exit (default: do not wait).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_exit_seconds: Option<f64>,
}

/// How many of the matching pods or processes an action hits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Targets {
    /// One, chosen at random.
    #[default]
    One,
    /// This many, chosen at random (fewer if fewer match).
    Count { value: u32 },
    /// This percentage of the matches, rounded down but at least one.
    Percent { value: f64 },
    /// Every match.
    All,
}

impl Targets {
    /// How many of `matched` to hit.
    pub fn count(self, matched: usize) -> usize {
        if matched == 0 {
            return 0;
        }
        match self {
            Targets::One => 1,
            Targets::Count { value } => (value as usize).min(matched),
            Targets::Percent { value } => {
                (((matched as f64) * value / 100.0).floor() as usize).clamp(1, matched)
            }
            Targets::All => matched,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeletePods {
    /// A label selector, `app.kubernetes.io/name=shop`.
    pub selector: String,
    /// Default: `configuration.kube_namespace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default)]
    pub targets: Targets,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period_seconds: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    pub deployment: String,
    pub replicas: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutRestart {
    pub deployment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchResources {
    pub deployment: String,
    pub container: String,
    pub resources: Resources,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Quantities by resource name (`cpu: 100m`, `memory: 64Mi`); merged over
/// what the container has.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub requests: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CpuStress {
    pub duration_seconds: f64,
    /// Busy threads (default: one per CPU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<usize>,
    /// Share of each 100 ms each thread spends busy, 1 to 100 (default 100).
    #[serde(default = "hundred")]
    pub load_percent: u8,
}

fn hundred() -> u8 {
    100
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Undo {
    /// The name of a method action.
    pub action: String,
}
