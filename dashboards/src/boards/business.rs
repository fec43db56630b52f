//! Business: orders, revenue, checkout failures, cart additions, conversion.

use alerts::{
    period::Period,
    promql::format_duration,
    sloth::{labels as sloth, sli_error_record},
    spec::{Indicator, SloSpec},
};
use shop_contract::metrics::{labels, names, CheckoutFailure, CURRENCY};

use super::{base, instance_variable, link_to, slo_where, uid};
use crate::{
    model::{Color, Dashboard, Panel, Query, ThresholdStyle, Thresholds, Unit},
    promql::{increase_over_range, legend, rate, sum_by, Selector},
};

pub(super) fn dashboard(spec: &SloSpec, period: Period) -> Dashboard {
    let orders = Selector::picked(names::SHOP_ORDERS_PLACED);
    let revenue = Selector::picked(names::SHOP_ORDER_REVENUE);
    let failures = Selector::picked(names::SHOP_CHECKOUT_FAILURES);
    let shop_reasons: Vec<&str> = CheckoutFailure::ALL
        .into_iter()
        .filter(|r| r.is_server_side())
        .map(CheckoutFailure::as_str)
        .collect();
    let shop_failures = failures.clone().re(labels::REASON, &shop_reasons.join("|"));
    let cart_adds = Selector::picked(names::SHOP_CART_ITEMS_ADDED);
    let per_minute = |expr: String| format!("{expr} * 60");
    let currency = Unit::Currency(CURRENCY);
    let checkout_slo = slo_where(spec, |i| matches!(i, Indicator::Checkout { .. }));

    let mut success = Panel::timeseries("Checkout success ratio")
        .description(
            "Orders placed over checkout attempts. \"All reasons\" counts the shopper's own failures \
             (invalid input, empty cart, out of stock) too; \"the shop's reasons\" is the checkout SLO's \
             indicator, and the dashed line its objective.",
        )
        .unit(Unit::Ratio)
        .max(1.0)
        .query(
            Query::range(format!(
                "{orders}\n/\n({orders} + {failures})",
                orders = sum_by(&[], &rate(&orders)),
                failures = sum_by(&[], &rate(&failures)),
            ))
            .legend("all reasons"),
        )
        .query(
            Query::range(format!(
                "{orders}\n/\n({orders} + ({failures} or vector(0)))",
                orders = sum_by(&[], &rate(&orders)),
                failures = sum_by(&[], &rate(&shop_failures)),
            ))
            .legend("the shop's reasons"),
        );
    let shortest = period
        .alert_windows()
        .iter()
        .map(|w| w.short)
        .min()
        .map(format_duration)
        .unwrap_or_default();
    if let Some(slo) = checkout_slo {
        success = success
            .thresholds(Thresholds::base(Color::RED).above(slo.objective_ratio(), Color::GREEN))
            .threshold_style(ThresholdStyle::Dashed)
            .query(
                Query::range(format!(
                    "1 - {}",
                    Selector::new(sli_error_record(&shortest))
                        .eq(sloth::SLOTH_ID, &slo.id(&spec.service))
                ))
                .legend(format!("checkout SLI ({shortest})")),
            )
            .link("SLOs and error budgets", link_to(uid::SLO));
    }

    base(
        uid::BUSINESS,
        "Business",
        "What the shop earns: orders, revenue, checkout failures by reason, cart additions and conversion.",
    )
    .variable(instance_variable())
    .row("Over the time range")
    .panel(
        6,
        4,
        Panel::stat("Orders")
            .unit(Unit::Short)
            .decimals(0)
            .query(Query::instant(sum_by(&[], &increase_over_range(&orders)))),
    )
    .panel(
        6,
        4,
        Panel::stat("Revenue")
            .unit(currency)
            .query(Query::instant(
                sum_by(&[labels::CURRENCY], &increase_over_range(&revenue)),
            ).legend(legend(labels::CURRENCY))),
    )
    .panel(
        6,
        4,
        Panel::stat("Average order value")
            .unit(currency)
            .query(Query::instant(format!(
                "{}\n/ ignoring ({}) group_left\n{}",
                sum_by(&[labels::CURRENCY], &increase_over_range(&revenue)),
                labels::CURRENCY,
                sum_by(&[], &increase_over_range(&orders)),
            ))),
    )
    .panel(
        6,
        4,
        Panel::stat("Checkout failures")
            .description("Every reason, the shopper's included.")
            .unit(Unit::Short)
            .decimals(0)
            .thresholds(Thresholds::base(Color::GREEN).above(1.0, Color::ORANGE))
            .query(Query::instant(sum_by(&[], &increase_over_range(&failures)))),
    )
    .row("Rates")
    .panel(
        12,
        8,
        Panel::timeseries("Orders per minute")
            .unit(Unit::Suffix(" orders/min"))
            .min(0.0)
            .query(Query::range(per_minute(sum_by(&[], &rate(&orders)))).legend("orders")),
    )
    .panel(
        12,
        8,
        Panel::timeseries("Revenue per minute")
            .unit(currency)
            .min(0.0)
            .query(
                Query::range(per_minute(sum_by(&[labels::CURRENCY], &rate(&revenue))))
                    .legend(legend(labels::CURRENCY)),
            ),
    )
    .panel(
        12,
        8,
        Panel::timeseries("Checkout failures per minute, by reason")
            .description(format!(
                "{} are the shop's fault and count against the checkout SLO; the rest are the shopper's.",
                shop_reasons.join(" and ")
            ))
            .unit(Unit::Suffix("/min"))
            .min(0.0)
            .stacked()
            .query(
                Query::range(per_minute(sum_by(&[labels::REASON], &rate(&failures))))
                    .legend(legend(labels::REASON)),
            ),
    )
    .panel(
        12,
        8,
        Panel::timeseries("Items added to carts per minute")
            .unit(Unit::Suffix(" items/min"))
            .min(0.0)
            .query(Query::range(per_minute(sum_by(&[], &rate(&cart_adds)))).legend("items")),
    )
    .row("Conversion")
    .panel(
        12,
        8,
        Panel::timeseries("Orders per item added to a cart")
            .description("Cart-to-order conversion: orders placed over items added to carts in the same window.")
            .unit(Unit::Ratio)
            .min(0.0)
            .query(
                Query::range(format!(
                    "{}\n/\n{}",
                    sum_by(&[], &rate(&orders)),
                    sum_by(&[], &rate(&cart_adds))
                ))
                .legend("orders / cart additions"),
            ),
    )
    .panel(12, 8, success)
    .build()
}
