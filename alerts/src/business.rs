//! Business alerts: the shop answers and burns no budget, yet sells nothing.
//! A broken payment step, a checkout button that does nothing or a price
//! bug show up in orders and revenue, not in 5xx or latency.
//!
//! Two kinds: orders that stopped while shoppers still open the checkout
//! page (a page: it is lost money now), and orders or revenue far below the
//! same hour a week earlier (`offset 1w`, a ticket). Both are guarded against
//! low traffic (a quiet night is not an outage) and the week comparison
//! against a missing week of history (a new Prometheus, a gap in scraping).

use shop_contract::metrics::{labels as contract, names};

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
    pub const SHOP_ORDERS_STOPPED: &str = "ShopOrdersStopped";
    pub const SHOP_ORDERS_BELOW_LAST_WEEK: &str = "ShopOrdersBelowLastWeek";
    pub const SHOP_REVENUE_BELOW_LAST_WEEK: &str = "ShopRevenueBelowLastWeek";
}

/// The checkout page's route pattern (`http_route`): GET shows the form,
/// POST places the order. The shop's router names it (service/src/routes/pages.rs).
pub const CHECKOUT_ROUTE: &str = "/checkout";
/// How far back "stopped" looks: no order in this window.
pub const STOPPED_WINDOW: &str = "15m";
/// Checkout pages shown in [`STOPPED_WINDOW`] below which no order is
/// expected anyway: a quiet night.
pub const STOPPED_MIN_CHECKOUT_VIEWS: u32 = 10;
/// The window compared with the same window a week earlier.
pub const WEEK_WINDOW: &str = "1h";
/// "Far below": under this share of last week's same hour.
pub const WEEK_FACTOR: f64 = 0.5;
/// Orders in last week's same hour below which the comparison is noise.
pub const WEEK_MIN_ORDERS: u32 = 20;
/// Share of this hour's scrapes that last week's same hour must have had.
pub const WEEK_MIN_COVERAGE: f64 = 0.9;

/// The `<service>-business` group.
pub fn rule_group(spec: &SloSpec, options: &Options) -> RuleGroup {
    let job = format!("job={SHOP_JOB:?}");
    let orders = format!("{}{{{job}}}", names::SHOP_ORDERS_PLACED);
    let revenue = format!("{}{{{job}}}", names::SHOP_ORDER_REVENUE);
    let checkout_views = format!(
        "{histogram}_count{{{job},{route}={CHECKOUT_ROUTE:?},{method}=\"GET\",{status}=~\"2..\"}}",
        histogram = names::HTTP_SERVER_REQUEST_DURATION,
        route = contract::HTTP_ROUTE,
        method = contract::HTTP_REQUEST_METHOD,
        status = contract::HTTP_RESPONSE_STATUS_CODE,
    );
    let factor = promql::go_float(WEEK_FACTOR);
    let last_week = |metric: &str| format!("increase({metric}[{WEEK_WINDOW}] offset 1w)");
    // Last week's same hour had real traffic, and was scraped as often as
    // this hour (its longest-lived instance as often as this hour's): with
    // no week of history, or a gap in it, the guard is empty or false and
    // the alert stays quiet instead of comparing with a partial hour.
    let week_guard = format!(
        "and on ()\n(sum({last}) >= {WEEK_MIN_ORDERS})\n\
         and on ()\n(max(count_over_time({up}[{WEEK_WINDOW}] offset 1w))\n\
         >= {coverage} * max(count_over_time({up}[{WEEK_WINDOW}])))\n",
        last = last_week(&orders),
        up = format!("up{{{job}}}"),
        coverage = promql::go_float(WEEK_MIN_COVERAGE),
    );
    let rules = vec![
        Rule::alert(
            alerts::SHOP_ORDERS_STOPPED,
            format!(
                "(sum(increase({orders}[{STOPPED_WINDOW}])) or vector(0)) < 1\n\
                 and on ()\n\
                 sum(increase({checkout_views}[{STOPPED_WINDOW}])) >= {STOPPED_MIN_CHECKOUT_VIEWS}\n"
            ),
        )
        .for_(Some("5m".into()))
        .labels([(SEVERITY, "page")])
        .annotations([
            (
                "summary",
                "Shoppers reach the checkout page, but no order is placed.".to_owned(),
            ),
            (
                "description",
                format!(
                    "No order in the last {STOPPED_WINDOW} while the checkout page was shown at \
                     least {STOPPED_MIN_CHECKOUT_VIEWS} times: placing an order is broken without \
                     failing loudly (a form that does nothing, a refused payment, a validation bug)."
                ),
            ),
        ]),
        Rule::alert(
            alerts::SHOP_ORDERS_BELOW_LAST_WEEK,
            format!(
                "sum(increase({orders}[{WEEK_WINDOW}]))\n< {factor} * sum({last})\n{week_guard}",
                last = last_week(&orders),
            ),
        )
        .for_(Some("15m".into()))
        .labels([(SEVERITY, "ticket")])
        .annotations([
            (
                "summary",
                "Orders are far below the same hour a week ago.".to_owned(),
            ),
            (
                "description",
                format!(
                    "{{{{ $value | humanize }}}} orders in the last {WEEK_WINDOW}, under {pct} % \
                     of the same hour a week ago (which had at least {WEEK_MIN_ORDERS}).",
                    pct = WEEK_FACTOR * 100.0
                ),
            ),
        ]),
        Rule::alert(
            alerts::SHOP_REVENUE_BELOW_LAST_WEEK,
            format!(
                "sum by ({currency}) (increase({revenue}[{WEEK_WINDOW}]))\n\
                 < {factor} * sum by ({currency}) ({last})\n{week_guard}",
                currency = contract::CURRENCY,
                last = last_week(&revenue),
            ),
        )
        .for_(Some("15m".into()))
        .labels([(SEVERITY, "ticket")])
        .annotations([
            (
                "summary",
                "Revenue is far below the same hour a week ago.".to_owned(),
            ),
            (
                "description",
                format!(
                    "{{{{ $value | humanize }}}} {{{{ $labels.currency }}}} of orders in the last \
                     {WEEK_WINDOW}, under {pct} % of the same hour a week ago: fewer orders, or \
                     smaller ones (a price or cart bug).",
                    pct = WEEK_FACTOR * 100.0
                ),
            ),
        ]),
    ];
    let rules = rules
        .into_iter()
        .map(|mut rule| {
            let name = rule.alert.clone().unwrap_or_default();
            rule.labels.extend(spec.labels.clone());
            rule.labels.insert("category".into(), "business".into());
            rule.annotations
                .insert("runbook_url".into(), options.runbook_url(&name));
            rule
        })
        .collect();
    RuleGroup {
        name: format!("{SHOP_JOB}-business"),
        interval: None,
        rules,
    }
}
