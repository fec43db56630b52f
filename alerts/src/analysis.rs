//! An Argo Rollouts AnalysisTemplate from the SLOs: the canary judge.
//!
//! Each request SLO (availability and latency) becomes two metrics, both
//! compared with the threshold of the fast page alert, burn rate × error
//! budget (14.4 × 0.1 % for availability on a 30-day period), over the fast
//! page pair's short window (5m):
//! - `<slo>`: the service as a whole, read from the generated recording rule
//!   `slo:sli_error:ratio_rate5m` (stable and canary pods together);
//! - `<slo>-canary`: the canary's pods alone, the SLI's own query with every
//!   `job="shop"` selector narrowed to the new revision's pod-template hash
//!   (the `rollouts_pod_template_hash` label the canary component's
//!   ServiceMonitor copies from the pods; the Rollout passes the hash as the
//!   `canary-hash` argument). Without it a bad canary at 10 % of the pods
//!   would show at a tenth of its error ratio.
//!
//! The numbers come from `slo.yaml` and [`Period`], never from a second copy:
//! the generated file is compared with a fresh generation by the tests.
//!
//! A measurement waits one window first, so that it covers only the time at
//! the new weight. With no traffic the SLI is NaN (0/0), which is neither a
//! success nor a failure: the analysis is Inconclusive and Argo Rollouts
//! pauses the rollout for a human rather than promote or abort unjudged.
//!
//! The checkout SLO is left out: a canary step sees too few checkouts for a
//! five-minute ratio to mean anything.

mod template;

use crate::{
    options::Options,
    period::{AlertWindow, Period, Severity},
    promql::{self, format_duration, go_float},
    sloth::{labels, sli_error_record},
    spec::{Indicator, Slo, SloSpec},
    Error, Problem, Result,
};

/// Where the generated template is committed, relative to the workspace root.
pub const ANALYSIS_TEMPLATE_PATH: &str = "k8s/components/canary/analysis-template.yaml";
/// The AnalysisTemplate's name, which the Rollout's analysis steps refer to.
pub const TEMPLATE_NAME: &str = "shop-slo";
/// The template argument naming Prometheus' base URL.
pub const PROMETHEUS_ARG: &str = "prometheus-address";
/// The template argument carrying the canary's pod-template hash.
pub const CANARY_HASH_ARG: &str = "canary-hash";
/// The label Prometheus gives a pod's `rollouts-pod-template-hash`.
pub const CANARY_LABEL: &str = "rollouts_pod_template_hash";
/// Prometheus of kube-prometheus-stack as terraform/modules/monitoring installs it.
pub const DEFAULT_PROMETHEUS_ADDRESS: &str =
    "http://kube-prometheus-stack-prometheus.monitoring.svc:9090";

/// One check of a canary against one SLO.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisMetric {
    /// The metric's name: the SLO's, with `-canary` for the canary's pods alone.
    pub name: String,
    /// The SLO's name.
    pub slo: String,
    /// The PromQL, one series: the SLO's error ratio over `window`.
    pub query: String,
    /// The error ratio above which the canary fails: the fast page threshold.
    pub threshold: f64,
    /// The SLI window, such as `5m`; also the delay before measuring.
    pub window: String,
}

/// What Argo Rollouts makes of one measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Successful,
    Failed,
    Inconclusive,
}

impl AnalysisMetric {
    /// `successCondition`: one series at or under the threshold.
    pub fn success_condition(&self) -> String {
        format!(
            "len(result) == 1 && result[0] <= {}",
            go_float(self.threshold)
        )
    }

    /// `failureCondition`: one series over the threshold.
    pub fn failure_condition(&self) -> String {
        format!(
            "len(result) == 1 && result[0] > {}",
            go_float(self.threshold)
        )
    }

    /// The verdict Argo Rollouts gives `result` (the query's sample values)
    /// under the two conditions above: neither holding is Inconclusive.
    pub fn verdict(&self, result: &[f64]) -> Verdict {
        match result {
            [value] if *value <= self.threshold => Verdict::Successful,
            [value] if *value > self.threshold => Verdict::Failed,
            _ => Verdict::Inconclusive,
        }
    }
}

/// The canary checks of `spec`: its availability and latency SLOs whose page
/// alert is enabled, in spec order.
pub fn metrics(spec: &SloSpec, options: &Options) -> Result<Vec<AnalysisMetric>> {
    let fast_page = fast_page(options.period);
    let window = format_duration(fast_page.short);
    let threshold = |slo: &Slo| round(fast_page.burn_rate * slo.error_budget_ratio());
    let mut metrics = Vec::new();
    for slo in spec
        .slos
        .iter()
        .filter(|slo| !slo.alerting.page_alert.disable && judges_requests(slo))
    {
        metrics.push(AnalysisMetric {
            name: slo.name.clone(),
            slo: slo.name.clone(),
            query: format!(
                "{record}{{{service}={:?}, {slo_label}={:?}}}",
                spec.service,
                slo.name,
                record = sli_error_record(&window),
                service = labels::SLOTH_SERVICE,
                slo_label = labels::SLOTH_SLO,
            ),
            threshold: threshold(slo),
            window: window.clone(),
        });
        metrics.push(AnalysisMetric {
            name: format!("{}-canary", slo.name),
            slo: slo.name.clone(),
            query: canary_query(slo, &window)?,
            threshold: threshold(slo),
            window: window.clone(),
        });
    }
    if metrics.is_empty() {
        return Err(Error::Invalid {
            origin: spec.service.clone(),
            problems: vec![Problem::new(
                "slos",
                "no availability or latency SLO with a page alert: nothing to judge a canary by",
            )],
        });
    }
    Ok(metrics)
}

/// The page pair with the shortest windows (1h and 5m on 30 days).
fn fast_page(period: Period) -> AlertWindow {
    period
        .alert_windows()
        .into_iter()
        .find(|w| w.severity == Severity::Page)
        .expect("every period has page windows")
}

/// The SLI's error ratio query with every selector narrowed to the canary.
fn canary_query(slo: &Slo, window: &str) -> Result<String> {
    let job = format!("job={:?}", crate::SHOP_JOB);
    let query = slo.error_ratio_query(window).trim_end().replace(
        &job,
        &format!("{job}, {CANARY_LABEL}=\"{{{{args.{CANARY_HASH_ARG}}}}}\""),
    );
    let narrowed = promql::selectors(&query)
        .map(|selectors| {
            selectors
                .iter()
                .all(|s| s.matchers_on(CANARY_LABEL).count() == 1)
        })
        .unwrap_or(false);
    if !narrowed {
        return Err(Error::Invalid {
            origin: slo.name.clone(),
            problems: vec![Problem::new(
                "sli.events",
                format!("every selector must match {job} to be narrowed to a canary's pods"),
            )],
        });
    }
    Ok(query)
}

fn judges_requests(slo: &Slo) -> bool {
    matches!(
        slo.indicator(),
        Indicator::Availability { .. } | Indicator::Latency { .. }
    )
}

/// 14.4 × 0.0009999999999999432 reads 0.0144: twelve decimals are far finer
/// than any SLO, and the file stays readable.
fn round(value: f64) -> f64 {
    (value * 1e12).round() / 1e12
}

/// The AnalysisTemplate as YAML, with a header naming `source`.
pub fn analysis_template(
    spec: &SloSpec,
    source: &str,
    options: &Options,
    prometheus_address: &str,
) -> Result<String> {
    let metrics = metrics(spec, options)?;
    let body = serde_yaml::to_string(&template::template(&metrics, prometheus_address))
        .map_err(Error::Serialize)?;
    let fast_page = fast_page(options.period);
    Ok(format!(
        "# Code generated by `alerts analysis-template` from {source} (SLO period {period}). DO NOT EDIT.\n\
         # The canary judge of k8s/components/canary: each request SLO's error ratio over\n\
         # {window}, of the whole service and of the canary's pods alone, against its\n\
         # fast page threshold ({burn} x the error budget).\n\
         # Regenerate: cargo run -p alerts -- analysis-template\n{body}",
        period = options.period,
        window = format_duration(fast_page.short),
        burn = go_float(fast_page.burn_rate),
    ))
}
