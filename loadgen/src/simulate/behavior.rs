//! What the simulated controller obeys, read from an autoscaling/v2
//! HorizontalPodAutoscaler manifest: bounds, the Pods metric target, and
//! `spec.behavior` with the API's defaults filled in where a field is left out.

use serde::Deserialize;

use crate::hpa::REQUEST_RATE_METRIC;

/// How a scaling direction may move: `spec.behavior.scaleUp` or `scaleDown`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub stabilization_window_seconds: u32,
    pub select_policy: Select,
    pub policies: Vec<Policy>,
}

/// `selectPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Select {
    /// The policy that allows the most change.
    Max,
    /// The policy that allows the least change.
    Min,
    /// No scaling in this direction at all.
    Disabled,
}

/// One entry of `policies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    #[serde(rename = "type")]
    pub kind: PolicyKind,
    pub value: u32,
    pub period_seconds: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum PolicyKind {
    Pods,
    Percent,
}

/// The autoscaler as the simulation replays it.
#[derive(Debug, Clone, PartialEq)]
pub struct Autoscaler {
    pub min_replicas: u32,
    pub max_replicas: u32,
    /// The Pods metric's `averageValue`: requests per second per pod.
    pub target_rps_per_pod: f64,
    pub scale_up: Rules,
    pub scale_down: Rules,
}

impl Rules {
    /// The API's default `scaleUp`: no window; 100 % or 4 pods per 15 s,
    /// whichever adds more.
    pub fn default_scale_up() -> Rules {
        Rules {
            stabilization_window_seconds: 0,
            select_policy: Select::Max,
            policies: vec![
                Policy::new(PolicyKind::Percent, 100, 15),
                Policy::new(PolicyKind::Pods, 4, 15),
            ],
        }
    }

    /// The API's default `scaleDown`: a 300 s window; 100 % per 15 s.
    pub fn default_scale_down() -> Rules {
        Rules {
            stabilization_window_seconds: 300,
            select_policy: Select::Max,
            policies: vec![Policy::new(PolicyKind::Percent, 100, 15)],
        }
    }
}

impl Policy {
    pub fn new(kind: PolicyKind, value: u32, period_seconds: u32) -> Policy {
        Policy {
            kind,
            value,
            period_seconds,
        }
    }
}

/// Why a manifest cannot be simulated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BehaviorError {
    #[error("not an autoscaling/v2 HorizontalPodAutoscaler: {0}")]
    Parse(String),
    #[error("it has no Pods metric {REQUEST_RATE_METRIC} with an averageValue target")]
    NoRequestRate,
    #[error("averageValue {0:?} is not a positive number of requests per second")]
    Target(String),
    #[error("minReplicas {min} and maxReplicas {max}: need 1 <= min <= max")]
    Bounds { min: u32, max: u32 },
    #[error("a {0} policy has value 0 or periodSeconds outside 1-1800")]
    Policy(&'static str),
}

impl Autoscaler {
    /// Read the autoscaler from `hpa.yaml`'s text.
    pub fn from_manifest(text: &str) -> Result<Autoscaler, BehaviorError> {
        let hpa: Manifest =
            serde_yaml::from_str(text).map_err(|e| BehaviorError::Parse(e.to_string()))?;
        if hpa.api_version != "autoscaling/v2" || hpa.kind != "HorizontalPodAutoscaler" {
            return Err(BehaviorError::Parse(format!(
                "apiVersion {} kind {}",
                hpa.api_version, hpa.kind
            )));
        }
        let spec = hpa.spec;
        let min = spec.min_replicas.unwrap_or(1);
        if min == 0 || min > spec.max_replicas {
            return Err(BehaviorError::Bounds {
                min,
                max: spec.max_replicas,
            });
        }
        let value = spec
            .metrics
            .iter()
            .filter(|m| m.kind == "Pods")
            .filter_map(|m| m.pods.as_ref())
            .find(|p| p.metric.name == REQUEST_RATE_METRIC)
            .and_then(|p| p.target.average_value.clone())
            .ok_or(BehaviorError::NoRequestRate)?;
        let target = quantity(&value).ok_or_else(|| BehaviorError::Target(value.clone()))?;
        let behavior = spec.behavior.unwrap_or_default();
        Ok(Autoscaler {
            min_replicas: min,
            max_replicas: spec.max_replicas,
            target_rps_per_pod: target,
            scale_up: rules(behavior.scale_up, Rules::default_scale_up(), "scaleUp")?,
            scale_down: rules(
                behavior.scale_down,
                Rules::default_scale_down(),
                "scaleDown",
            )?,
        })
    }
}

/// A rule set with every field the manifest leaves out taken from the default.
fn rules(
    given: Option<RulesYaml>,
    default: Rules,
    direction: &'static str,
) -> Result<Rules, BehaviorError> {
    let Some(given) = given else {
        return Ok(default);
    };
    let rules = Rules {
        stabilization_window_seconds: given
            .stabilization_window_seconds
            .unwrap_or(default.stabilization_window_seconds),
        select_policy: given.select_policy.unwrap_or(default.select_policy),
        policies: given.policies.unwrap_or(default.policies),
    };
    if rules
        .policies
        .iter()
        .any(|p| p.value == 0 || !(1..=1800).contains(&p.period_seconds))
    {
        return Err(BehaviorError::Policy(direction));
    }
    Ok(rules)
}

/// A Kubernetes quantity as a number: `2618`, `2618.5`, `500m`, `2k`.
fn quantity(text: &str) -> Option<f64> {
    let (number, scale) = match text.strip_suffix('m') {
        Some(milli) => (milli, 0.001),
        None => match text.strip_suffix('k') {
            Some(kilo) => (kilo, 1000.0),
            None => (text, 1.0),
        },
    };
    let value = number.parse::<f64>().ok()? * scale;
    (value.is_finite() && value > 0.0).then_some(value)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    api_version: String,
    kind: String,
    spec: SpecYaml,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpecYaml {
    min_replicas: Option<u32>,
    max_replicas: u32,
    #[serde(default)]
    metrics: Vec<MetricYaml>,
    behavior: Option<BehaviorYaml>,
}

#[derive(Deserialize)]
struct MetricYaml {
    #[serde(rename = "type")]
    kind: String,
    pods: Option<PodsYaml>,
}

#[derive(Deserialize)]
struct PodsYaml {
    metric: NameYaml,
    target: TargetYaml,
}

#[derive(Deserialize)]
struct NameYaml {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TargetYaml {
    average_value: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BehaviorYaml {
    scale_up: Option<RulesYaml>,
    scale_down: Option<RulesYaml>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RulesYaml {
    stabilization_window_seconds: Option<u32>,
    select_policy: Option<Select>,
    policies: Option<Vec<Policy>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../../k8s/base/hpa.yaml");

    #[test]
    fn the_committed_hpa_reads_with_its_behaviour() {
        let hpa = Autoscaler::from_manifest(SHIPPED).unwrap();
        assert!(hpa.target_rps_per_pod > 0.0);
        assert!(hpa.min_replicas >= 1 && hpa.min_replicas <= hpa.max_replicas);
        assert_eq!(hpa.scale_down.select_policy, Select::Min);
        assert_eq!(hpa.scale_down.stabilization_window_seconds, 300);
    }

    #[test]
    fn left_out_behaviour_takes_the_api_defaults() {
        let yaml = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nspec:\n  maxReplicas: 5\n  metrics:\n  - type: Pods\n    pods:\n      metric: {name: http_server_requests_per_second}\n      target: {type: AverageValue, averageValue: 500m}\n  behavior:\n    scaleDown:\n      stabilizationWindowSeconds: 60\n";
        let hpa = Autoscaler::from_manifest(yaml).unwrap();
        assert_eq!(hpa.min_replicas, 1);
        assert_eq!(hpa.target_rps_per_pod, 0.5);
        assert_eq!(hpa.scale_up, Rules::default_scale_up());
        assert_eq!(hpa.scale_down.stabilization_window_seconds, 60);
        assert_eq!(
            hpa.scale_down.policies,
            [Policy::new(PolicyKind::Percent, 100, 15)]
        );
    }

    #[test]
    fn a_manifest_without_the_request_rate_metric_is_refused() {
        let yaml =
            "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nspec:\n  maxReplicas: 5\n";
        assert_eq!(
            Autoscaler::from_manifest(yaml),
            Err(BehaviorError::NoRequestRate)
        );
        assert!(matches!(
            Autoscaler::from_manifest("kind: [oops"),
            Err(BehaviorError::Parse(_))
        ));
    }
}
