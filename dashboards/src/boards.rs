//! The shop's dashboards. Every metric name comes from the contract
//! (`shop_contract::metrics::names`) or from the `alerts` crate's recording
//! rules, and every SLO number (objectives, burn-rate factors, windows,
//! latency threshold) from `alerts/slo.yaml` through the `alerts` crate.

use alerts::spec::{Indicator, Slo, SloSpec};
use shop_contract::metrics::{labels, names};

use crate::{
    model::{
        dashboard::{dashboard_url, Builder},
        Annotation, Dashboard, DashboardLink, Variable,
    },
    promql::{sum_by, Selector, INSTANCE_LABEL, INSTANCE_VAR},
};

mod business;
mod chaos;
mod database;
mod overview;
mod runtime;
mod slo;

/// Stable uids: links and bookmarks survive regeneration.
pub mod uid {
    pub const OVERVIEW: &str = "shop-overview";
    pub const SLO: &str = "shop-slo";
    pub const DATABASE: &str = "shop-database";
    pub const BUSINESS: &str = "shop-business";
    pub const CHAOS: &str = "shop-chaos";
    pub const RUNTIME: &str = "shop-runtime";
    pub const ALL: [&str; 6] = [OVERVIEW, SLO, DATABASE, BUSINESS, CHAOS, RUNTIME];
}

/// The tag every dashboard carries; the header's drop-down lists them by it.
pub const TAG: &str = "shop";

/// Every dashboard, built from the shipped SLO spec.
pub fn all() -> Vec<Dashboard> {
    let spec = SloSpec::shipped();
    let period = alerts::generate::Options::default().period;
    vec![
        overview::dashboard(&spec),
        slo::dashboard(&spec, period),
        database::dashboard(),
        business::dashboard(&spec, period),
        chaos::dashboard(&spec, period),
        runtime::dashboard(),
    ]
}

/// The start every dashboard shares: tags, the links to the others, the
/// fault annotation.
fn base(uid: &str, title: &str, description: &str) -> Builder {
    Dashboard::builder(uid, format!("Shop · {title}"))
        .description(description)
        .tags(&[TAG])
        .link(DashboardLink::tagged("Shop dashboards", TAG))
        .annotation(fault_annotation())
}

/// Injected faults as regions on every time series: from the moment a fault
/// is created through the fault API until it expires or is cleared.
fn fault_annotation() -> Annotation {
    let active = Selector::shop(names::SHOP_FAULT_ACTIVE);
    Annotation::prometheus(
        "Injected faults",
        format!(
            "{} > 0",
            sum_by(
                &[labels::KIND, labels::HTTP_ROUTE, labels::DB_OPERATION_NAME],
                &active.to_string()
            )
        ),
    )
    // An HTTP fault has a route, a database fault an operation: one of the
    // two labels is empty.
    .title(format!(
        "{{{{{}}}}} fault on {{{{{}}}}}{{{{{}}}}}",
        labels::KIND,
        labels::HTTP_ROUTE,
        labels::DB_OPERATION_NAME
    ))
    .text("Injected through the shop's fault API (/admin/faults)")
    .tags(&[labels::KIND, labels::HTTP_ROUTE, labels::DB_OPERATION_NAME])
}

/// The instance picker: every shop instance Prometheus scrapes.
fn instance_variable() -> Variable {
    Variable::label_values(
        INSTANCE_VAR,
        "Instance",
        &Selector::shop(names::SHOP_BUILD_INFO).to_string(),
        INSTANCE_LABEL,
    )
    .multi_with_all()
}

/// A panel link's URL to another dashboard, keeping the time range.
fn link_to(uid: &str) -> String {
    format!("{}?${{__url_time_range}}", dashboard_url(uid))
}

/// The SLO whose indicator is of the kind `matches` accepts; the shipped
/// spec has one of each (a test of the `alerts` crate keeps it so).
fn slo_where(spec: &SloSpec, matches: impl Fn(&Indicator) -> bool) -> Option<&Slo> {
    spec.slos.iter().find(|slo| matches(&slo.indicator()))
}

/// The latency SLO's threshold in seconds, if the spec has one.
fn latency_threshold(spec: &SloSpec) -> Option<f64> {
    spec.slos.iter().find_map(|slo| match slo.indicator() {
        Indicator::Latency {
            threshold_seconds, ..
        } => Some(threshold_seconds),
        _ => None,
    })
}

/// The availability SLO's error budget (0.001 for 99.9 %), if the spec has one.
fn availability_budget(spec: &SloSpec) -> Option<f64> {
    slo_where(spec, |i| matches!(i, Indicator::Availability { .. })).map(Slo::error_budget_ratio)
}
