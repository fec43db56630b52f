//! Service overview: rate, errors and duration per route (RED).

use alerts::spec::SloSpec;
use shop_contract::metrics::{labels, names};

use super::{availability_budget, base, instance_variable, latency_threshold, link_to, uid};
use crate::{
    model::{Color, Dashboard, Format, Panel, Query, ThresholdStyle, Thresholds, Unit, Variable},
    promql::{legend, quantile, rate, ratio_or_zero, sum_by, Selector, LE, ROUTE_VAR},
};

pub(super) fn dashboard(spec: &SloSpec) -> Dashboard {
    let requests = Selector::picked(names::HTTP_SERVER_REQUEST_DURATION).picked_routes();
    let errors = requests
        .clone()
        .re(labels::HTTP_RESPONSE_STATUS_CODE, "5..");
    let active = Selector::picked(names::HTTP_SERVER_ACTIVE_REQUESTS).picked_routes();
    let route = [labels::HTTP_ROUTE];

    let error_thresholds = match availability_budget(spec) {
        Some(budget) => Thresholds::base(Color::GREEN).above(budget, Color::ORANGE),
        None => Thresholds::base(Color::GREEN),
    };
    let latency_thresholds = match latency_threshold(spec) {
        Some(seconds) => Thresholds::base(Color::GREEN).above(seconds, Color::ORANGE),
        None => Thresholds::base(Color::GREEN),
    };
    let error_ratio = |by: &[&str]| {
        ratio_or_zero(
            &sum_by(by, &rate(&errors.count())),
            &sum_by(by, &rate(&requests.count())),
        )
    };

    base(
        uid::OVERVIEW,
        "Service overview",
        "Rate, errors and duration of the shop's HTTP requests, per route pattern.",
    )
    .variable(instance_variable())
    .variable(
        Variable::label_values(
            ROUTE_VAR,
            "Route",
            &Selector::picked(names::HTTP_SERVER_REQUEST_DURATION)
                .count()
                .to_string(),
            labels::HTTP_ROUTE,
        )
        .multi_with_all(),
    )
    .row("Now")
    .panel(
        6,
        4,
        Panel::stat("Request rate")
            .unit(Unit::RequestsPerSecond)
            .query(Query::range(sum_by(&[], &rate(&requests.count())))),
    )
    .panel(
        6,
        4,
        Panel::stat("Error ratio (5xx)")
            .description("Share of requests answered with a server error; orange above the availability SLO's error budget.")
            .unit(Unit::Ratio)
            .decimals(2)
            .thresholds(error_thresholds.clone())
            .query(Query::range(error_ratio(&[])))
            .link("SLOs and error budgets", link_to(uid::SLO)),
    )
    .panel(
        6,
        4,
        Panel::stat("p99 latency")
            .description("Orange above the page-latency SLO's threshold.")
            .unit(Unit::Seconds)
            .thresholds(latency_thresholds.clone())
            .query(Query::range(quantile(0.99, &[], &requests))),
    )
    .panel(
        6,
        4,
        Panel::stat("Requests in flight")
            .unit(Unit::Short)
            .query(Query::range(sum_by(&[], &active.to_string()))),
    )
    .row("Per route (RED)")
    .panel(
        12,
        8,
        Panel::timeseries("Request rate by route")
            .unit(Unit::RequestsPerSecond)
            .min(0.0)
            .legend_table(&["mean", "max", "lastNotNull"])
            .query(
                Query::range(sum_by(&route, &rate(&requests.count())))
                    .legend(legend(labels::HTTP_ROUTE)),
            ),
    )
    .panel(
        12,
        8,
        Panel::timeseries("Error ratio by route (5xx)")
            .description("0 where a route served no server error; the dashed line is the availability SLO's error budget.")
            .unit(Unit::Ratio)
            .min(0.0)
            .thresholds(error_thresholds)
            .threshold_style(ThresholdStyle::Dashed)
            .query(Query::range(error_ratio(&route)).legend(legend(labels::HTTP_ROUTE)))
            .link("SLOs and error budgets", link_to(uid::SLO)),
    )
    .panel(
        12,
        8,
        Panel::timeseries("p99 latency by route")
            .description("The dashed line is the page-latency SLO's threshold.")
            .unit(Unit::Seconds)
            .min(0.0)
            .thresholds(latency_thresholds.clone())
            .threshold_style(ThresholdStyle::Dashed)
            .query(
                Query::range(quantile(0.99, &route, &requests))
                    .legend(legend(labels::HTTP_ROUTE)),
            ),
    )
    .panel(
        12,
        8,
        Panel::timeseries("Latency percentiles, all picked routes")
            .unit(Unit::Seconds)
            .min(0.0)
            .thresholds(latency_thresholds)
            .threshold_style(ThresholdStyle::Dashed)
            .query(Query::range(quantile(0.5, &[], &requests)).legend("p50"))
            .query(Query::range(quantile(0.9, &[], &requests)).legend("p90"))
            .query(Query::range(quantile(0.99, &[], &requests)).legend("p99")),
    )
    .panel(
        12,
        8,
        Panel::timeseries("Responses by status code")
            .unit(Unit::RequestsPerSecond)
            .stacked()
            .query(
                Query::range(sum_by(
                    &[labels::HTTP_RESPONSE_STATUS_CODE],
                    &rate(&requests.count()),
                ))
                .legend(legend(labels::HTTP_RESPONSE_STATUS_CODE)),
            ),
    )
    .panel(
        12,
        8,
        Panel::timeseries("Requests in flight by route")
            .unit(Unit::Short)
            .min(0.0)
            .query(
                Query::range(sum_by(&route, &active.to_string()))
                    .legend(legend(labels::HTTP_ROUTE)),
            ),
    )
    .panel(
        24,
        8,
        Panel::heatmap("Latency distribution")
            .description("Requests per second in each latency bucket of the request histogram.")
            .unit(Unit::Seconds)
            .query(
                Query::range(sum_by(&[LE], &rate(&requests.bucket())))
                    .legend(legend(LE))
                    .format(Format::Heatmap),
            ),
    )
    .panel(
        24,
        8,
        Panel::table("Routes now")
            .description("Request rate per route and method at the end of the time range.")
            .unit(Unit::RequestsPerSecond)
            .hide_columns(&["Time"])
            .query(
                Query::instant(sum_by(
                    &[labels::HTTP_ROUTE, labels::HTTP_REQUEST_METHOD],
                    &rate(&requests.count()),
                ))
                .format(Format::Table),
            ),
    )
    .build()
}
