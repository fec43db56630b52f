//! The AnalysisTemplate's shape (argoproj.io/v1alpha1), as much of it as the
//! generator writes.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{AnalysisMetric, CANARY_HASH_ARG, PROMETHEUS_ARG, TEMPLATE_NAME};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AnalysisTemplate {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: Spec,
}

#[derive(Serialize)]
struct Metadata {
    name: &'static str,
    labels: BTreeMap<&'static str, &'static str>,
}

#[derive(Serialize)]
struct Spec {
    args: Vec<Arg>,
    metrics: Vec<Metric>,
}

#[derive(Serialize)]
struct Arg {
    name: &'static str,
    /// None: the Rollout must pass it.
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Metric {
    name: String,
    /// Measure once the window holds only time at the new weight.
    initial_delay: String,
    count: u32,
    success_condition: String,
    failure_condition: String,
    /// One failed measurement aborts the rollout.
    failure_limit: u32,
    /// One inconclusive measurement (no traffic: NaN) pauses it.
    inconclusive_limit: u32,
    provider: Provider,
}

#[derive(Serialize)]
struct Provider {
    prometheus: Prometheus,
}

#[derive(Serialize)]
struct Prometheus {
    address: String,
    query: String,
}

pub(super) fn template(metrics: &[AnalysisMetric], prometheus_address: &str) -> AnalysisTemplate {
    AnalysisTemplate {
        api_version: "argoproj.io/v1alpha1",
        kind: "AnalysisTemplate",
        metadata: Metadata {
            name: TEMPLATE_NAME,
            labels: BTreeMap::from([
                ("app.kubernetes.io/name", "shop"),
                ("app.kubernetes.io/managed-by", "alerts"),
            ]),
        },
        spec: Spec {
            args: vec![
                Arg {
                    name: PROMETHEUS_ARG,
                    value: Some(prometheus_address.to_owned()),
                },
                Arg {
                    name: CANARY_HASH_ARG,
                    value: None,
                },
            ],
            metrics: metrics
                .iter()
                .map(|m| Metric {
                    name: m.name.clone(),
                    initial_delay: m.window.clone(),
                    count: 1,
                    success_condition: m.success_condition(),
                    failure_condition: m.failure_condition(),
                    failure_limit: 0,
                    inconclusive_limit: 0,
                    provider: Provider {
                        prometheus: Prometheus {
                            address: format!("{{{{args.{PROMETHEUS_ARG}}}}}"),
                            query: m.query.clone(),
                        },
                    },
                })
                .collect(),
        },
    }
}
