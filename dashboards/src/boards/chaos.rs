//! Load tests and chaos: the faults injected, and what they did to the shop
//! and its SLOs. The fault annotation (shared by every dashboard) shades
//! each fault's lifetime on every graph here.

use alerts::{
    period::Period,
    sloth::{labels as sloth, records},
    spec::SloSpec,
};
use shop_contract::metrics::{labels, names, outcome};

use super::{availability_budget, base, instance_variable, latency_threshold, link_to, uid};
use crate::{
    model::{Color, Dashboard, Panel, Query, ThresholdStyle, Thresholds, Unit},
    promql::{legend, quantile, rate, ratio_or_zero, sum_by, Selector},
};

pub(super) fn dashboard(spec: &SloSpec, period: Period) -> Dashboard {
    let faults = Selector::picked(names::SHOP_FAULT_ACTIVE);
    let requests = Selector::picked(names::HTTP_SERVER_REQUEST_DURATION);
    let errors = requests
        .clone()
        .re(labels::HTTP_RESPONSE_STATUS_CODE, "5..");
    let operations = Selector::picked(names::DB_CLIENT_OPERATION_DURATION);
    let failed_operations = operations.clone().eq(labels::OUTCOME, outcome::ERROR);
    let page = period.alert_windows()[0];

    let mut error_ratio = Panel::timeseries("Error ratio (5xx)")
        .unit(Unit::Ratio)
        .min(0.0)
        .query(
            Query::range(ratio_or_zero(
                &sum_by(&[], &rate(&errors.count())),
                &sum_by(&[], &rate(&requests.count())),
            ))
            .legend("5xx share"),
        );
    if let Some(budget) = availability_budget(spec) {
        error_ratio = error_ratio
            .description(format!(
                "The dashed line is the availability SLO's fastest page threshold: {}× its error budget.",
                page.burn_rate
            ))
            .thresholds(Thresholds::base(Color::GREEN).above(page.burn_rate * budget, Color::RED))
            .threshold_style(ThresholdStyle::Dashed);
    }
    let mut latency = Panel::timeseries("p99 latency")
        .unit(Unit::Seconds)
        .min(0.0)
        .query(Query::range(quantile(0.99, &[], &requests)).legend("p99"));
    if let Some(seconds) = latency_threshold(spec) {
        latency = latency
            .description("The dashed line is the page-latency SLO's threshold.")
            .thresholds(Thresholds::base(Color::GREEN).above(seconds, Color::ORANGE))
            .threshold_style(ThresholdStyle::Dashed);
    }

    base(
        uid::CHAOS,
        "Load tests and chaos",
        "Faults injected through the fault API (shaded on every graph) and their effect on traffic, \
         errors, latency and the SLOs' burn rates.",
    )
    .time_from("now-30m")
    .variable(instance_variable())
    .row("Faults")
    .panel(
        6,
        7,
        Panel::stat("Faults active now")
            .thresholds(Thresholds::base(Color::GREEN).above(1.0, Color::RED))
            .query(Query::range(format!(
                "{} or vector(0)",
                sum_by(&[], &faults.to_string())
            ))),
    )
    .panel(
        18,
        7,
        Panel::timeseries("Active faults by kind and route")
            .unit(Unit::Short)
            .min(0.0)
            .query(
                Query::range(sum_by(
                    &[labels::KIND, labels::HTTP_ROUTE, labels::DB_OPERATION_NAME],
                    &faults.to_string(),
                ))
                .legend(format!(
                    "{} on {}{}",
                    legend(labels::KIND),
                    legend(labels::HTTP_ROUTE),
                    legend(labels::DB_OPERATION_NAME)
                )),
            ),
    )
    .row("What the shop saw")
    .panel(
        12,
        8,
        Panel::timeseries("Traffic: served vs server errors")
            .description(
                "The shop's own count of the traffic a load test sends. loadgen exports no metrics to \
                 Prometheus: its requests sent, failures and latency are in its report, to compare with these.",
            )
            .unit(Unit::RequestsPerSecond)
            .min(0.0)
            .query(Query::range(sum_by(&[], &rate(&requests.count()))).legend("all requests"))
            .query(
                Query::range(format!("{} or vector(0)", sum_by(&[], &rate(&errors.count()))))
                    .legend("5xx"),
            ),
    )
    .panel(12, 8, error_ratio.link("Service overview", link_to(uid::OVERVIEW)))
    .panel(12, 8, latency)
    .panel(
        12,
        8,
        Panel::timeseries("Database operations failing")
            .unit(Unit::Ratio)
            .min(0.0)
            .query(
                Query::range(ratio_or_zero(
                    &sum_by(&[], &rate(&failed_operations.count())),
                    &sum_by(&[], &rate(&operations.count())),
                ))
                .legend("error share"),
            )
            .link("Database", link_to(uid::DATABASE)),
    )
    .row("SLOs")
    .panel(
        24,
        8,
        Panel::timeseries("Burn rate now (5m), every SLO")
            .description(format!(
                "The dashed line is the fastest page factor ({}×, {} window).",
                page.burn_rate,
                page.tier()
            ))
            .unit(Unit::Suffix("×"))
            .min(0.0)
            .thresholds(Thresholds::base(Color::GREEN).above(page.burn_rate, Color::RED))
            .threshold_style(ThresholdStyle::Dashed)
            .query(
                Query::range(
                    Selector::new(records::CURRENT_BURN_RATE)
                        .eq(sloth::SLOTH_SERVICE, &spec.service)
                        .to_string(),
                )
                .legend(legend(sloth::SLOTH_SLO)),
            )
            .link("SLOs and error budgets", link_to(uid::SLO)),
    )
    .build()
}
