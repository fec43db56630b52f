//! `loadgen hpa`: a measured capacity and a peak traffic figure in, an
//! autoscaling/v2 HorizontalPodAutoscaler out, with the measurement written
//! beside the settings it justifies.
//!
//! The sizing, for a capacity of C req/s per replica with every SLO held:
//! - each replica is asked to carry `C × headroom` req/s (the target);
//! - the peak needs `ceil(peak / target)` replicas;
//! - `maxReplicas` covers [`SURGE`] times the peak at the target, so traffic
//!   above the forecast still finds room;
//! - CPU at `headroom` utilisation is a second signal, for load the request
//!   rate does not show (a slow database makes each request costlier).
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
    let replicas_at_peak = (input.peak_rps / target).ceil() as u32;
    let wanted = ((input.peak_rps * SURGE / target).ceil() as u32)
        .max(input.min_replicas)
        .max(replicas_at_peak);
    Ok(Sizing {
        target_rps_per_replica: target as u32,
        replicas_at_peak,
        min_replicas: input.min_replicas,
        max_replicas: wanted.min(input.max_replicas),
        cpu_utilization_percent: (input.headroom * 100.0).round() as u32,
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
    note("measured-capacity-rps", trim(capacity.requests_per_second));
    note("measured-p99-ms", trim(capacity.p99_ms));
    note("measured-page-p99-ms", trim(capacity.page_p99_ms));
    note("measured-error-percent", trim(capacity.error_percent));
    note("measured-at", input.capacity.measured_at.clone());
    note("measured-against", input.capacity.host.clone());
    note("measured-users", capacity.users.to_string());
    if let Some(cpus) = input.capacity.cpus {
        note("measured-cpus", cpus.to_string());
    }
    note("capacity-file", input.capacity_path.to_string());
    note("slo", input.capacity.objectives.join("; "));
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
            "target {} req/s per replica = {} x {}; {} replicas carry the peak of {} req/s; max covers {} x the peak, capped at --max-replicas",
            sizing.target_rps_per_replica,
            trim(capacity.requests_per_second),
            trim(input.headroom),
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
mod tests {
    use super::*;
    use crate::capacity::{Capacity, CapacityFile};

    fn file(rps: f64) -> CapacityFile {
        CapacityFile {
            tool: "loadgen test".into(),
            host: "http://127.0.0.1:8080".into(),
            cpus: None,
            measured_at: "2025-01-01T00:00:00Z".into(),
            step_duration_seconds: 30,
            ramp_seconds: 1,
            co_mitigation: "average".into(),
            slo_source: "test".into(),
            objectives: vec!["availability: 99.9 % of all requests succeed".into()],
            steps: Vec::new(),
            capacity: Some(Capacity {
                requests_per_second: rps,
                users: 8,
                p99_ms: 40.0,
                page_p99_ms: 60.0,
                error_percent: 0.0,
            }),
            stopped_because: "test".into(),
        }
    }

    fn input(capacity: &CapacityFile, peak: f64) -> HpaInput<'_> {
        HpaInput {
            capacity,
            capacity_path: "capacity.json",
            peak_rps: peak,
            headroom: 0.7,
            min_replicas: 2,
            max_replicas: 10,
            deployment: "shop",
        }
    }

    #[test]
    fn replicas_follow_from_capacity_headroom_and_peak() {
        let capacity = file(412.5);
        let sizing = sizing(&input(&capacity, 1000.0)).unwrap();
        // 412.5 × 0.7 = 288.75 → 288 req/s; 1000 / 288 → 4; 1500 / 288 → 6.
        assert_eq!(
            sizing,
            Sizing {
                target_rps_per_replica: 288,
                replicas_at_peak: 4,
                min_replicas: 2,
                max_replicas: 6,
                cpu_utilization_percent: 70,
                capped: false,
            }
        );
    }

    #[test]
    fn the_database_cap_bounds_the_maximum_and_says_so() {
        let capacity = file(100.0);
        let mut big = input(&capacity, 5000.0);
        big.max_replicas = 10;
        let sizing = sizing(&big).unwrap();
        // 70 req/s per replica: 5000 needs 72 replicas, 10 are allowed.
        assert_eq!(
            (sizing.replicas_at_peak, sizing.max_replicas, sizing.capped),
            (72, 10, true)
        );
        assert!(manifest(&big)
            .unwrap()
            .contains("the peak needs 72 replicas but --max-replicas caps them at 10"));
    }

    #[test]
    fn a_small_peak_still_keeps_the_minimum() {
        let capacity = file(412.5);
        let sizing = sizing(&input(&capacity, 10.0)).unwrap();
        assert_eq!(
            (
                sizing.replicas_at_peak,
                sizing.min_replicas,
                sizing.max_replicas
            ),
            (1, 2, 2)
        );
    }

    #[test]
    fn bad_inputs_are_refused_with_their_reason() {
        let capacity = file(100.0);
        let mut bad = input(&capacity, 100.0);
        bad.headroom = 1.5;
        assert_eq!(sizing(&bad), Err(HpaError::Headroom(1.5)));
        let mut none = file(1.0);
        none.capacity = None;
        assert!(matches!(
            sizing(&input(&none, 5.0)),
            Err(HpaError::NoCapacity(_))
        ));
        assert_eq!(sizing(&input(&capacity, 0.0)), Err(HpaError::Peak(0.0)));
    }

    #[test]
    fn the_manifest_records_its_inputs() {
        let capacity = file(412.5);
        let yaml = manifest(&input(&capacity, 1000.0)).unwrap();
        assert_eq!(recorded_inputs(&yaml), Some((1000.0, 0.7, 2, 10)));
        assert!(yaml.contains(
            "loadgen hpa --capacity capacity.json --peak-rps 1000 --headroom 0.7 --min-replicas 2 --max-replicas 10 --deployment shop --output k8s/base/hpa.yaml"
        ));
        assert!(
            yaml.contains("loadgen.shop.dev/measured-capacity-rps: '412.5'"),
            "{yaml}"
        );
    }
}
