//! `loadgen hpa`: a measured capacity and a peak traffic figure in, an
//! autoscaling/v2 HorizontalPodAutoscaler out, with the measurement written
//! beside the settings it justifies.
//!
//! The sizing, for a capacity of C req/s per replica with every SLO held:
//! - each replica is asked to carry `C × headroom` req/s (the target);
//! - the peak needs `ceil(peak / target)` replicas;
//! - `maxReplicas` covers [`SURGE`] times the peak at the target, so traffic
//!   above the forecast still finds room;
//! - CPU is a second signal, for load the request rate does not show (a slow
//!   database makes each request costlier): the CPU the measured pod used at
//!   capacity, times `headroom`, as a utilisation of the pod's CPU request
//!   (what the HPA's `Utilization` is relative to; it may exceed 100 %).
//!
//! [`manifest`] is a pure function of its input, so the committed
//! `k8s/base/hpa.yaml` can be regenerated and compared in a test.

use std::collections::BTreeMap;

use serde::Serialize;
use shop_contract::metrics::names;

use crate::capacity::CapacityFile;
use crate::slo::trim;

/// `maxReplicas` covers this multiple of the forecast peak.
pub const SURGE: f64 = 1.5;

/// The per-pod metric the HPA reads: the request rate, as a metrics adapter
/// (prometheus-adapter) serves it from the shop's request histogram.
pub const REQUEST_RATE_METRIC: &str = "http_server_requests_per_second";

/// The annotation prefix.
const KEY: &str = "loadgen.shop.dev";

/// What the HPA is sized from.
#[derive(Debug, Clone)]
pub struct HpaInput<'a> {
    pub capacity: &'a CapacityFile,
    /// Where the capacity file lives, as recorded in the annotations.
    pub capacity_path: &'a str,
    /// The forecast peak, in requests per second over all replicas.
    pub peak_rps: f64,
    /// Share of the measured capacity a replica is asked to carry (0–1].
    pub headroom: f64,
    pub min_replicas: u32,
    /// The most replicas allowed, whatever the peak asks: each replica holds
    /// database connections, and the database has a limit.
    pub max_replicas: u32,
    /// The Deployment to scale.
    pub deployment: &'a str,
}

/// The numbers the HPA is set to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizing {
    pub target_rps_per_replica: u32,
    pub replicas_at_peak: u32,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub cpu_utilization_percent: u32,
    /// The peak needs more replicas than `--max-replicas` allows.
    pub capped: bool,
}

/// Why no HPA can be derived.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HpaError {
    #[error("the capacity file has no capacity figure: no step held the SLOs ({0})")]
    NoCapacity(String),
    #[error("--headroom must be above 0 and at most 1, not {0}")]
    Headroom(f64),
    #[error("--peak-rps must be above 0, not {0}")]
    Peak(f64),
    #[error("--min-replicas must be at least 1 and at most --max-replicas")]
    MinReplicas,
    #[error("the capacity file records no CPU use at capacity (0 cores) or no CPU request: measure again")]
    NoCpu,
}

/// The sizing for `input`.
pub fn sizing(input: &HpaInput<'_>) -> Result<Sizing, HpaError> {
    let capacity = input
        .capacity
        .capacity
        .as_ref()
        .ok_or_else(|| HpaError::NoCapacity(input.capacity.stopped_because.clone()))?;
    if !(input.headroom > 0.0 && input.headroom <= 1.0) {
        return Err(HpaError::Headroom(input.headroom));
    }
    if !(input.peak_rps > 0.0 && input.peak_rps.is_finite()) {
        return Err(HpaError::Peak(input.peak_rps));
    }
    if input.min_replicas == 0 || input.min_replicas > input.max_replicas {
        return Err(HpaError::MinReplicas);
    }
    let target = (capacity.requests_per_second * input.headroom)
        .floor()
        .max(1.0);
    let cpu = &input.capacity.cpu;
    if !(capacity.cpu_cores > 0.0 && cpu.request_cores > 0.0) {
        return Err(HpaError::NoCpu);
    }
    let cpu_utilization = capacity.cpu_cores * input.headroom / cpu.request_cores * 100.0;
    let replicas_at_peak = (input.peak_rps / target).ceil() as u32;
    let wanted = ((input.peak_rps * SURGE / target).ceil() as u32)
        .max(input.min_replicas)
        .max(replicas_at_peak);
    Ok(Sizing {
        target_rps_per_replica: target as u32,
        replicas_at_peak,
        min_replicas: input.min_replicas,
        max_replicas: wanted.min(input.max_replicas),
        cpu_utilization_percent: (cpu_utilization.floor() as u32).max(1),
        capped: replicas_at_peak > input.max_replicas,
    })
}

/// `hpa.yaml`.
pub fn manifest(input: &HpaInput<'_>) -> Result<String, HpaError> {
    let sizing = sizing(input)?;
    let capacity = input
        .capacity
        .capacity
        .as_ref()
        .expect("sizing checked the capacity figure");
    let mut annotations = BTreeMap::new();
    let mut note = |key: &str, value: String| {
        annotations.insert(format!("{KEY}/{key}"), value);
    };
    let file = input.capacity;
    note("measured-capacity-rps", trim(capacity.requests_per_second));
    note("measured-offered-rps", trim(capacity.target_rps));
    note("measured-cpu-cores", trim(capacity.cpu_cores));
    note("measured-at", file.measured_at.clone());
    note(
        "measured-pod",
        format!(
            "{} build {} of the shop on {}, CPU limit {} cores (request {}, from {}), one replica",
            file.build.profile,
            file.build.version,
            file.backend,
            trim(file.cpu.limit_cores),
            trim(file.cpu.request_cores),
            file.cpu.source
        ),
    );
    note(
        "measured-machine",
        format!(
            "{} CPUs shared with loadgen, load average {} before the run",
            file.machine.cpus,
            trim(file.machine.load_average_before)
        ),
    );
    note("capacity-file", input.capacity_path.to_string());
    let objectives: Vec<String> = file
        .objectives
        .iter()
        .map(|o| format!("{} {} %", o.name, trim(o.objective_percent)))
        .collect();
    note(
        "slo",
        format!(
            "{} ({}), judged per step as the recording rules compute them",
            objectives.join(", "),
            file.slo_source
        ),
    );
    note("peak-rps", trim(input.peak_rps));
    note("headroom", trim(input.headroom));
    note("min-replicas", input.min_replicas.to_string());
    note("max-replicas-cap", input.max_replicas.to_string());
    note("command", command(input));
    if sizing.capped {
        note(
            "warning",
            format!(
                "the peak needs {} replicas but --max-replicas caps them at {}: the peak will breach the SLOs",
                sizing.replicas_at_peak, input.max_replicas
            ),
        );
    }
    note(
        "sizing",
        format!(
            "target {} req/s per replica = {} x {}; CPU {} % of the request = {} cores x {} / {} cores; {} replicas carry the peak of {} req/s; max covers {} x the peak, capped at --max-replicas",
            sizing.target_rps_per_replica,
            trim(capacity.requests_per_second),
            trim(input.headroom),
            sizing.cpu_utilization_percent,
            trim(capacity.cpu_cores),
            trim(input.headroom),
            trim(file.cpu.request_cores),
            sizing.replicas_at_peak,
            trim(input.peak_rps),
            trim(SURGE)
        ),
    );
    note(
        "request-rate-metric",
        format!(
            "{REQUEST_RATE_METRIC} = sum by (pod) (rate({}_count[2m]))",
            names::HTTP_SERVER_REQUEST_DURATION
        ),
    );

    let hpa = Hpa {
        api_version: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        metadata: Metadata {
            name: input.deployment.to_string(),
            labels: BTreeMap::from([
                (
                    "app.kubernetes.io/name".to_string(),
                    input.deployment.to_string(),
                ),
                (
                    "app.kubernetes.io/managed-by".to_string(),
                    "loadgen".to_string(),
                ),
            ]),
            annotations,
        },
        spec: Spec {
            scale_target_ref: TargetRef {
                api_version: "apps/v1",
                kind: "Deployment",
                name: input.deployment.to_string(),
            },
            min_replicas: sizing.min_replicas,
            max_replicas: sizing.max_replicas,
            metrics: vec![
                Metric::Pods {
                    pods: PodsMetric {
                        metric: MetricName {
                            name: REQUEST_RATE_METRIC,
                        },
                        target: Target::AverageValue {
                            average_value: sizing.target_rps_per_replica.to_string(),
                        },
                    },
                },
                Metric::Resource {
                    resource: ResourceMetric {
                        name: "cpu",
                        target: Target::Utilization {
                            average_utilization: sizing.cpu_utilization_percent,
                        },
                    },
                },
            ],
            behavior: Behavior {
                // Out at once and fast: a spike spends error budget in minutes.
                scale_up: Rules {
                    stabilization_window_seconds: 0,
                    select_policy: "Max",
                    policies: vec![Policy::new("Percent", 100, 30), Policy::new("Pods", 4, 30)],
                },
                // In slowly: five calm minutes first, then at most half the
                // pods a minute, so a lull between waves keeps capacity.
                scale_down: Rules {
                    stabilization_window_seconds: 300,
                    select_policy: "Min",
                    policies: vec![Policy::new("Percent", 50, 60)],
                },
            },
        },
    };
    let body = serde_yaml::to_string(&hpa).expect("an HPA always serialises");
    Ok(format!(
        "# Generated by `loadgen hpa` from {}; edit the inputs and regenerate, not this file.\n{body}",
        input.capacity_path
    ))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Hpa {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: Spec,
}

#[derive(Serialize)]
struct Metadata {
    name: String,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    scale_target_ref: TargetRef,
    min_replicas: u32,
    max_replicas: u32,
    metrics: Vec<Metric>,
    behavior: Behavior,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TargetRef {
    api_version: &'static str,
    kind: &'static str,
    name: String,
}

#[derive(Serialize)]
#[serde(tag = "type")]
enum Metric {
    Pods { pods: PodsMetric },
    Resource { resource: ResourceMetric },
}

#[derive(Serialize)]
struct PodsMetric {
    metric: MetricName,
    target: Target,
}

#[derive(Serialize)]
struct MetricName {
    name: &'static str,
}

#[derive(Serialize)]
struct ResourceMetric {
    name: &'static str,
    target: Target,
}

#[derive(Serialize)]
#[serde(tag = "type")]
enum Target {
    #[serde(rename_all = "camelCase")]
    AverageValue { average_value: String },
    #[serde(rename_all = "camelCase")]
    Utilization { average_utilization: u32 },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Behavior {
    scale_up: Rules,
    scale_down: Rules,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rules {
    stabilization_window_seconds: u32,
    select_policy: &'static str,
    policies: Vec<Policy>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Policy {
    #[serde(rename = "type")]
    kind: &'static str,
    value: u32,
    period_seconds: u32,
}

impl Policy {
    fn new(kind: &'static str, value: u32, period_seconds: u32) -> Self {
        Policy {
            kind,
            value,
            period_seconds,
        }
    }
}

/// The `loadgen hpa` command that writes this manifest, recorded in it so
/// that it can be regenerated (`k8s/tests` does).
fn command(input: &HpaInput<'_>) -> String {
    format!(
        "loadgen hpa --capacity {} --peak-rps {} --headroom {} --min-replicas {} --max-replicas {} --deployment {} --output {}",
        input.capacity_path,
        trim(input.peak_rps),
        trim(input.headroom),
        input.min_replicas,
        input.max_replicas,
        input.deployment,
        DEFAULT_OUTPUT
    )
}

/// Where `loadgen hpa` writes by default, relative to the workspace root.
pub const DEFAULT_OUTPUT: &str = "k8s/base/hpa.yaml";

/// The inputs recorded in a generated manifest's annotations: peak rate,
/// headroom and minimum replicas, to regenerate it.
pub fn recorded_inputs(manifest: &str) -> Option<(f64, f64, u32, u32)> {
    let doc: serde_yaml::Value = serde_yaml::from_str(manifest).ok()?;
    let annotations = doc.get("metadata")?.get("annotations")?;
    let read = |key: &str| {
        annotations
            .get(format!("{KEY}/{key}"))?
            .as_str()
            .map(str::to_string)
    };
    Some((
        read("peak-rps")?.parse().ok()?,
        read("headroom")?.parse().ok()?,
        read("min-replicas")?.parse().ok()?,
        read("max-replicas-cap")?.parse().ok()?,
    ))
}

#[cfg(test)]
mod tests;
