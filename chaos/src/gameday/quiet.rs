//! Why an alert that must stay quiet did or did not fire: for an SLO's
//! burn-rate page, the worst error ratio of the step over the fast page
//! pair's two windows against its threshold (both must exceed it for the
//! page to fire).

use alerts::{
    period::{Period, Severity},
    promql::format_duration,
    sloth::{labels, sli_error_record},
    spec::SloSpec,
};
use fleet::prometheus::Prometheus;

use super::scenario::QuietAlert;

/// The measured reason, in a sentence fragment; empty when the alert is
/// not an SLO's burn-rate alert.
pub(crate) async fn why(prometheus: &Prometheus, quiet: &QuietAlert, from: f64, to: f64) -> String {
    let spec = SloSpec::shipped();
    let Some(slo) = spec.slos.iter().find(|s| s.alerting.name == quiet.alert) else {
        return "no burn-rate figures for this alert".into();
    };
    let Some(window) = Period::DAYS_30
        .alert_windows()
        .into_iter()
        .find(|w| w.severity == Severity::Page)
    else {
        return String::new();
    };
    let threshold = window.burn_rate * slo.error_budget_ratio();
    let seconds = (to - from).max(1.0).ceil() as u64;
    let worst = |record: String| {
        let query = format!(
            "max_over_time({record}{{{}=\"{}\"}}[{seconds}s] @ {to})",
            labels::SLOTH_SLO,
            slo.name
        );
        async move {
            prometheus
                .query(&query)
                .await
                .ok()
                .and_then(|samples| samples.first().map(|s| s.value))
        }
    };
    let long = worst(sli_error_record(&format_duration(window.long))).await;
    let short = worst(sli_error_record(&format_duration(window.short))).await;
    let percent = |v: Option<f64>| v.map_or("no data".into(), |v| format!("{:.2} %", v * 100.0));
    format!(
        "the worst {} error ratio was {} and the worst {} {}, against {:.2} % ({}× the {} SLO's \
         budget) over both",
        format_duration(window.long),
        percent(long),
        format_duration(window.short),
        percent(short),
        threshold * 100.0,
        window.burn_rate,
        slo.name
    )
}
