//! Symptom alerts: what the burn-rate alerts cannot see. A shop that nobody
//! scrapes, or that no shopper can reach, burns no error budget at all.
//!
//! `up`, `ALERTS` and kube-state-metrics' series are Prometheus' and
//! Kubernetes' own; every shop metric comes from the contract.

use std::collections::{BTreeMap, BTreeSet};

use shop_contract::metrics::{connection_state, labels as contract, names};

use crate::{
    options::Options,
    promql,
    rules::{Rule, RuleGroup},
    sloth::labels::SEVERITY,
    spec::SloSpec,
    SHOP_JOB,
};

/// Alert names of this group.
pub mod alerts {
    pub const SHOP_DOWN: &str = "ShopDown";
    pub const SHOP_INSTANCE_DOWN: &str = "ShopInstanceDown";
    pub const SHOP_TARGET_MISSING: &str = "ShopTargetMissing";
    pub const SHOP_NOT_READY: &str = "ShopNotReady";
    pub const SHOP_DATABASE_POOL_SATURATED: &str = "ShopDatabasePoolSaturated";
    pub const SHOP_SLO_METRIC_ABSENT: &str = "ShopSLOMetricAbsent";
    pub const SHOP_MEMORY_NEAR_LIMIT: &str = "ShopMemoryNearLimit";
    pub const SHOP_FAULT_INJECTION_LEFT_ACTIVE: &str = "ShopFaultInjectionLeftActive";
}

/// The container name of the shop in its Kubernetes pods (k8s/base).
pub const KUBERNETES_CONTAINER: &str = "shop";
/// Share of the pool in use that counts as saturated.
pub const POOL_SATURATION: f64 = 0.9;
/// Share of the container memory limit that counts as near it.
pub const MEMORY_NEAR_LIMIT: f64 = 0.9;
/// How long an injected fault may stay active before someone is told.
pub const FAULT_LEFT_ACTIVE_FOR: &str = "30m";

/// The `<service>-symptoms` group.
pub fn rule_group(spec: &SloSpec, options: &Options) -> RuleGroup {
    let job = format!("job={SHOP_JOB:?}");
    let up = format!("up{{{job}}}");
    let mut rules = vec![
        Rule::alert(alerts::SHOP_DOWN, format!("max by (job) ({up}) == 0"))
            .for_(Some("2m".into()))
            .labels([(SEVERITY, "page")])
            .annotations([
                ("summary", "No shop instance answers Prometheus' scrapes.".to_owned()),
                (
                    "description",
                    "Every scrape target of job {{ $labels.job }} has failed its scrapes for 2 minutes: \
                     the shop is down, or its admin port is unreachable."
                        .to_owned(),
                ),
            ]),
        Rule::alert(alerts::SHOP_INSTANCE_DOWN, format!("{up} == 0"))
            .for_(Some("5m".into()))
            .labels([(SEVERITY, "ticket")])
            .annotations([
                ("summary", "A shop instance is down.".to_owned()),
                (
                    "description",
                    "{{ $labels.instance }} has failed its scrapes for 5 minutes; the other instances \
                     still answer (ShopDown pages when none does)."
                        .to_owned(),
                ),
            ]),
        Rule::alert(alerts::SHOP_TARGET_MISSING, format!("absent({up})"))
            .for_(Some("10m".into()))
            .labels([(SEVERITY, "page")])
            .annotations([
                ("summary", "Prometheus has no shop target to scrape.".to_owned()),
                (
                    "description",
                    "No target of job shop has existed for 10 minutes: service discovery lost the \
                     shop (or it was never deployed), and every SLO alert is blind."
                        .to_owned(),
                ),
            ]),
        Rule::alert(
            alerts::SHOP_NOT_READY,
            // The shop reports its own readiness, so this holds on one
            // machine as in Kubernetes (where the scrape adds namespace and pod).
            format!("{ready}{{{job}}} == 0", ready = names::SHOP_READY),
        )
        .for_(Some("5m".into()))
        .labels([(SEVERITY, "ticket")])
        .annotations([
            ("summary", "A shop instance is running but not ready.".to_owned()),
            (
                "description",
                "{{ $labels.instance }} has failed its readiness check (/readyz: database \
                 unreachable or draining) for 5 minutes; Kubernetes sends it no traffic."
                    .to_owned(),
            ),
        ]),
        Rule::alert(
            alerts::SHOP_DATABASE_POOL_SATURATED,
            format!(
                "{count}{{{job},{state}={used:?}}}\n/ ignoring ({state})\n{max}{{{job}}}\n>= {ratio}\n",
                count = names::DB_CLIENT_CONNECTION_COUNT,
                state = contract::STATE,
                used = connection_state::USED,
                max = names::DB_CLIENT_CONNECTION_MAX,
                ratio = promql::go_float(POOL_SATURATION),
            ),
        )
        .for_(Some("5m".into()))
        .labels([(SEVERITY, "ticket")])
        .annotations([
            ("summary", "The shop's database pool is nearly exhausted.".to_owned()),
            (
                "description",
                "{{ $labels.instance }} has used {{ $value | humanizePercentage }} of its database \
                 connections for 5 minutes; requests wait for a connection and then fail with 503."
                    .to_owned(),
            ),
        ]),
    ];
    rules.extend(slo_metric_absent(spec, &job, &up));
    rules.extend([
        Rule::alert(
            alerts::SHOP_MEMORY_NEAR_LIMIT,
            format!(
                "max by (namespace, pod) ({rss}{{{job}}})\n/ on (namespace, pod)\n\
                 max by (namespace, pod) (kube_pod_container_resource_limits{{resource=\"memory\",container={KUBERNETES_CONTAINER:?}}})\n\
                 > {ratio}\n",
                rss = names::PROCESS_RESIDENT_MEMORY,
                ratio = promql::go_float(MEMORY_NEAR_LIMIT),
            ),
        )
        .for_(Some("10m".into()))
        .labels([(SEVERITY, "ticket")])
        .annotations([
            ("summary", "A shop process is close to its memory limit.".to_owned()),
            (
                "description",
                "{{ $labels.namespace }}/{{ $labels.pod }} uses {{ $value | humanizePercentage }} of \
                 its container memory limit; past the limit the kernel kills it (OOMKilled)."
                    .to_owned(),
            ),
        ]),
        Rule::alert(
            alerts::SHOP_FAULT_INJECTION_LEFT_ACTIVE,
            format!(
                "max by (job, instance, {kind}, {route}, {operation}) ({fault}{{{job}}}) > 0",
                kind = contract::KIND,
                route = contract::HTTP_ROUTE,
                operation = contract::DB_OPERATION_NAME,
                fault = names::SHOP_FAULT_ACTIVE,
            ),
        )
        .for_(Some(FAULT_LEFT_ACTIVE_FOR.into()))
        .labels([(SEVERITY, "ticket")])
        .annotations([
            ("summary", "An injected fault has been active for over 30 minutes.".to_owned()),
            (
                "description",
                "An injected {{ $labels.kind }} fault on {{ $labels.http_route }}{{ $labels.db_operation_name }} of {{ $labels.instance }} \
                 has been active for 30 minutes: a chaos experiment that did not roll back, or a \
                 forgotten manual fault. Real shoppers are affected."
                    .to_owned(),
            ),
        ]),
    ]);

    let rules = rules
        .into_iter()
        .map(|mut rule| {
            let name = rule.alert.clone().unwrap_or_default();
            rule.labels.extend(spec.labels.clone());
            rule.labels.insert("category".into(), "symptom".into());
            rule.annotations
                .insert("runbook_url".into(), options.runbook_url(&name));
            rule
        })
        .collect();
    RuleGroup {
        name: format!("{SHOP_JOB}-symptoms"),
        interval: None,
        rules,
    }
}

/// One rule per metric that an SLO's total query reads: if it disappears
/// while the shop is scraped (a renamed metric, a broken exporter), the SLO
/// is silently unmeasured.
fn slo_metric_absent(spec: &SloSpec, job: &str, up: &str) -> Vec<Rule> {
    let metrics: BTreeSet<String> = spec
        .slos
        .iter()
        .filter_map(|slo| slo.sli.events.as_ref())
        .flat_map(|events| promql::selectors(&events.total_query("5m")).unwrap_or_default())
        .map(|selector| selector.metric)
        .filter(|metric| !metric.is_empty() && !metric.contains(':'))
        .collect();
    metrics
        .into_iter()
        .map(|metric| {
            Rule::alert(
                alerts::SHOP_SLO_METRIC_ABSENT,
                format!("absent({metric}{{{job}}})\nand on ()\n(max({up}) == 1)\n"),
            )
            .for_(Some("15m".into()))
            .labels(BTreeMap::from([
                (SEVERITY.to_owned(), "ticket".to_owned()),
                ("metric".to_owned(), metric.clone()),
            ]))
            .annotations([
                (
                    "summary",
                    format!("The shop is scraped but exports no {metric}."),
                ),
                (
                    "description",
                    format!(
                        "Prometheus scrapes job shop, yet no {metric} series has existed for 15 \
                         minutes: the SLOs that read it are unmeasured and cannot alert."
                    ),
                ),
            ])
        })
        .collect()
}
