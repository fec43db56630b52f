//! SLOs and error budgets, from the `alerts` crate's Sloth recording rules.
//! The burn-rate thresholds are the alert factors of the same period, read
//! from `alerts::period`, so the lines on the graphs are where the alerts fire.

use alerts::{
    generate::Options,
    period::{AlertWindow, Period},
    promql::format_duration,
    sloth::{labels as sloth, records, sli_error_record},
    spec::{Slo, SloSpec},
};

use super::{base, link_to, uid};
use crate::{
    model::{Color, Dashboard, Format, Panel, Query, ThresholdStyle, Thresholds, Unit},
    promql::{legend, Selector, ALERTS, ALERT_STATE, FIRING},
};

pub(super) fn dashboard(spec: &SloSpec, period: Period) -> Dashboard {
    let windows = period.alert_windows();
    let factors: Vec<f64> = windows.iter().map(|w| w.burn_rate).collect();
    let highest = factors.iter().copied().fold(f64::MIN, f64::max);
    let service = Selector::new(records::CURRENT_BURN_RATE).eq(sloth::SLOTH_SERVICE, &spec.service);

    let mut builder = base(
        uid::SLO,
        "SLOs and error budgets",
        &format!(
            "Burn rates and error budgets of the SLOs in alerts/slo.yaml over {period}. \
             The dashed lines are the burn-rate factors the alerts fire at."
        ),
    )
    .time_from("now-24h")
    .row("Every SLO")
    .panel(
        12,
        8,
        Panel::timeseries("Burn rate now (5m), every SLO")
            .description(format!(
                "1 = spending the error budget exactly over {period}. The dashed line is the fastest page factor."
            ))
            .unit(Unit::Suffix("×"))
            .min(0.0)
            .thresholds(Thresholds::base(Color::GREEN).above(highest, Color::RED))
            .threshold_style(ThresholdStyle::Dashed)
            .query(Query::range(service.to_string()).legend(legend(sloth::SLOTH_SLO))),
    )
    .panel(
        12,
        8,
        Panel::table("Firing alerts")
            .description("Every alert Prometheus is firing now: burn-rate pages and tickets, and symptom alerts.")
            .hide_columns(&["Time", "Value", "__name__", ALERT_STATE])
            .query(
                Query::instant(Selector::new(ALERTS).eq(ALERT_STATE, FIRING).to_string())
                    .format(Format::Table),
            ),
    );
    for slo in &spec.slos {
        builder = slo_row(builder, spec, slo, period, &windows);
    }
    builder.build()
}

fn slo_row(
    builder: crate::model::dashboard::Builder,
    spec: &SloSpec,
    slo: &Slo,
    period: Period,
    windows: &[AlertWindow],
) -> crate::model::dashboard::Builder {
    let id = slo.id(&spec.service);
    let of_slo = |record: &str| Selector::new(record).eq(sloth::SLOTH_ID, &id);
    let lowest = windows.iter().map(|w| w.burn_rate).fold(f64::MAX, f64::min);
    let highest = windows.iter().map(|w| w.burn_rate).fold(f64::MIN, f64::max);
    let description = slo.description.clone().unwrap_or_default();
    let period_window = period.window();

    let mut builder = builder
        .row(format!("SLO: {} ({} % over {period})", slo.name, slo.objective))
        .panel(
            4,
            5,
            Panel::stat("Objective")
                .description(description.clone())
                // What to do when this SLO's alert fires, one click from its numbers.
                .link(
                    format!("Runbook: {}", slo.alerting.name),
                    Options::default().runbook_url(&slo.alerting.name),
                )
                .unit(Unit::Ratio)
                .decimals(2)
                .query(Query::instant(of_slo(records::OBJECTIVE).to_string())),
        )
        .panel(
            5,
            5,
            Panel::stat(format!("SLI over {period}"))
                .description("Share of good events so far in the period (the period's average of the 5m ratio).")
                .unit(Unit::Ratio)
                .decimals(3)
                .thresholds(Thresholds::base(Color::RED).above(slo.objective_ratio(), Color::GREEN))
                .query(Query::range(format!(
                    "1 - {}",
                    of_slo(&sli_error_record(&period_window))
                ))),
        )
        .panel(
            5,
            5,
            Panel::gauge(format!("Error budget left ({period})"))
                .description("1 = untouched, 0 = spent; below 0 the SLO is broken for the period.")
                .unit(Unit::Ratio)
                .min(0.0)
                .max(1.0)
                .thresholds(
                    Thresholds::base(Color::RED)
                        .above(0.0, Color::ORANGE)
                        .above(0.25, Color::GREEN),
                )
                .query(Query::range(
                    of_slo(records::PERIOD_ERROR_BUDGET_REMAINING).to_string(),
                )),
        )
        .panel(
            5,
            5,
            Panel::stat("Burn rate now (5m)")
                .description("Orange above the slowest ticket factor, red above the fastest page factor.")
                .unit(Unit::Suffix("×"))
                .thresholds(
                    Thresholds::base(Color::GREEN)
                        .above(lowest, Color::ORANGE)
                        .above(highest, Color::RED),
                )
                .query(Query::range(of_slo(records::CURRENT_BURN_RATE).to_string())),
        )
        .panel(
            5,
            5,
            Panel::stat("Alerts firing")
                .unit(Unit::None)
                .thresholds(Thresholds::base(Color::GREEN).above(1.0, Color::RED))
                .query(Query::range(format!(
                    "count({}) or vector(0)",
                    Selector::new(ALERTS)
                        .eq(ALERT_STATE, FIRING)
                        .eq(sloth::SLOTH_ID, &id)
                ))),
        );
    for window in windows {
        builder = builder.panel(6, 7, burn_rate_panel(&slo.name, &of_slo, window));
    }
    builder.panel(
        24,
        6,
        Panel::timeseries(format!("{}: error budget left over {period}", slo.name))
            .unit(Unit::Ratio)
            .thresholds(Thresholds::base(Color::RED).above(0.0, Color::GREEN))
            .threshold_style(ThresholdStyle::Dashed)
            .query(
                Query::range(of_slo(records::PERIOD_ERROR_BUDGET_REMAINING).to_string())
                    .legend(slo.name.clone()),
            ),
    )
}

/// The burn rates over one alert window pair, with the pair's factor as a
/// dashed line: the alert fires while both lines are above it.
fn burn_rate_panel(slo: &str, of_slo: &dyn Fn(&str) -> Selector, window: &AlertWindow) -> Panel {
    let burn_rate = |over| {
        format!(
            "{}\n/ on({id}, {slo}, {service}) group_left\n{}",
            of_slo(&sli_error_record(&format_duration(over))),
            of_slo(records::ERROR_BUDGET),
            id = sloth::SLOTH_ID,
            slo = sloth::SLOTH_SLO,
            service = sloth::SLOTH_SERVICE,
        )
    };
    let (long, short) = (format_duration(window.long), format_duration(window.short));
    let factor = alerts::promql::go_float(window.burn_rate);
    Panel::timeseries(format!(
        "{slo}: {} {long}/{short}, fires above {factor}×",
        window.severity.as_str()
    ))
    .description(format!(
        "The {} alert (tier {}) fires while the burn rate over both {long} and {short} is above {factor}× \
         ({}% of the period's budget spent within {long}).",
        window.severity.as_str(),
        window.tier(),
        window.budget_percent,
    ))
    .unit(Unit::Suffix("×"))
    .min(0.0)
    .thresholds(Thresholds::base(Color::GREEN).above(window.burn_rate, Color::RED))
    .threshold_style(ThresholdStyle::Dashed)
    .query(Query::range(burn_rate(window.long)).legend(long.clone()))
    .query(Query::range(burn_rate(window.short)).legend(short))
    .link("Service overview", link_to(uid::OVERVIEW))
}
