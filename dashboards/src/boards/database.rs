//! Database: operation latency and outcomes, the connection pool.

use alerts::symptoms::POOL_SATURATION;
use shop_contract::metrics::{cache_result, connection_state, labels, names, outcome};

use super::{base, instance_variable, link_to, uid};
use crate::{
    model::{Color, Dashboard, Format, Panel, Query, ThresholdStyle, Thresholds, Unit},
    promql::{legend, quantile, rate, ratio_or_zero, sum_by, Selector, LE},
};

/// Why there is no acquire-wait panel; shown on the pool panels.
const ACQUIRE_WAIT: &str = "The shop exports no separate pool-acquire wait. Each operation's \
    duration includes waiting for a connection, so a starved pool shows as every operation \
    slowing at once; an acquire that times out counts as outcome=error (and as a \
    database_unavailable checkout failure).";

pub(super) fn dashboard() -> Dashboard {
    let operations = Selector::picked(names::DB_CLIENT_OPERATION_DURATION);
    let failed = operations.clone().eq(labels::OUTCOME, outcome::ERROR);
    let connections = Selector::picked(names::DB_CLIENT_CONNECTION_COUNT);
    let used = connections
        .clone()
        .eq(labels::STATE, connection_state::USED);
    let max = Selector::picked(names::DB_CLIENT_CONNECTION_MAX);
    let cache_lookups = Selector::picked(names::SHOP_PRODUCT_CACHE_LOOKUPS);
    let by_operation = [labels::DB_OPERATION_NAME];
    let saturation = Thresholds::base(Color::GREEN)
        .above(POOL_SATURATION * 0.8, Color::ORANGE)
        .above(POOL_SATURATION, Color::RED);
    let utilisation = format!(
        "{}\n/\n{}",
        sum_by(&[], &used.to_string()),
        sum_by(&[], &max.to_string())
    );

    base(
        uid::DATABASE,
        "Database",
        "The shop's database operations (one per named query) and its connection pool.",
    )
    .variable(instance_variable())
    .row("Operations")
    .panel(
        12,
        8,
        Panel::timeseries("Operations per second by name")
            .unit(Unit::OpsPerSecond)
            .min(0.0)
            .query(
                Query::range(sum_by(&by_operation, &rate(&operations.count())))
                    .legend(legend(labels::DB_OPERATION_NAME)),
            ),
    )
    .panel(
        12,
        8,
        Panel::timeseries("Outcome ratio")
            .description("Share of operations by outcome: ok, or error (failed, timed out, or no connection in time).")
            .unit(Unit::Ratio)
            .min(0.0)
            .max(1.0)
            .stacked()
            .query(
                Query::range(format!(
                    "{}\n/ ignoring ({}) group_left\n{}",
                    sum_by(&[labels::OUTCOME], &rate(&operations.count())),
                    labels::OUTCOME,
                    sum_by(&[], &rate(&operations.count())),
                ))
                .legend(legend(labels::OUTCOME)),
            ),
    )
    .panel(
        12,
        8,
        Panel::timeseries("p99 latency by operation")
            .unit(Unit::Seconds)
            .min(0.0)
            .query(
                Query::range(quantile(0.99, &by_operation, &operations))
                    .legend(legend(labels::DB_OPERATION_NAME)),
            ),
    )
    .panel(
        12,
        8,
        Panel::timeseries("Error ratio by operation")
            .description("0 where an operation never failed.")
            .unit(Unit::Ratio)
            .min(0.0)
            .query(
                Query::range(ratio_or_zero(
                    &sum_by(&by_operation, &rate(&failed.count())),
                    &sum_by(&by_operation, &rate(&operations.count())),
                ))
                .legend(legend(labels::DB_OPERATION_NAME)),
            ),
    )
    .panel(
        24,
        8,
        Panel::heatmap("Operation latency distribution")
            .unit(Unit::Seconds)
            .query(
                Query::range(sum_by(&[LE], &rate(&operations.bucket())))
                    .legend(legend(LE))
                    .format(Format::Heatmap),
            ),
    )
    .row("Product cache")
    .panel(
        12,
        8,
        Panel::timeseries("Product reads by cache result")
            .description(format!(
                "Product reads (product pages, API product calls) by how the shop's product cache \
                 answered: {hit} (no query), {miss} (read from the database, then cached), \
                 {bypass} (the cache is not trusted: its change listener is disconnected or the \
                 database is failing, so every read goes to the database).",
                hit = cache_result::HIT,
                miss = cache_result::MISS,
                bypass = cache_result::BYPASS,
            ))
            .unit(Unit::OpsPerSecond)
            .min(0.0)
            .stacked()
            .query(
                Query::range(sum_by(&[labels::RESULT], &rate(&cache_lookups)))
                    .legend(legend(labels::RESULT)),
            ),
    )
    .panel(
        12,
        8,
        Panel::timeseries("Product cache hit ratio")
            .description("Hits over all product reads; 0 when no product was read. A drop to 0 under traffic means the cache is bypassed: see the other panel.")
            .unit(Unit::Ratio)
            .min(0.0)
            .max(1.0)
            .query(
                Query::range(ratio_or_zero(
                    &sum_by(
                        &[],
                        &rate(&cache_lookups.clone().eq(labels::RESULT, cache_result::HIT)),
                    ),
                    &sum_by(&[], &rate(&cache_lookups)),
                ))
                .legend("hit ratio"),
            ),
    )
    .row("Connection pool")
    .panel(
        12,
        8,
        Panel::timeseries("Pool connections: used and idle vs max")
            .description(ACQUIRE_WAIT)
            .unit(Unit::Short)
            .min(0.0)
            .query(
                Query::range(sum_by(&[labels::STATE], &connections.to_string()))
                    .legend(legend(labels::STATE)),
            )
            .query(Query::range(sum_by(&[], &max.to_string())).legend("max"))
            .link("Runtime", link_to(uid::RUNTIME)),
    )
    .panel(
        6,
        8,
        Panel::gauge("Pool in use")
            .description(format!(
                "Used connections over the pool's maximum; the ShopDatabasePoolSaturated alert fires above {}%. {ACQUIRE_WAIT}",
                POOL_SATURATION * 100.0
            ))
            .unit(Unit::Ratio)
            .min(0.0)
            .max(1.0)
            .thresholds(saturation.clone())
            .query(Query::range(utilisation.clone())),
    )
    .panel(
        6,
        8,
        Panel::timeseries("Pool in use over time")
            .description("The dashed lines: orange at 80 % of the saturation alert's threshold, red at the threshold.")
            .unit(Unit::Ratio)
            .min(0.0)
            .max(1.0)
            .thresholds(saturation)
            .threshold_style(ThresholdStyle::Dashed)
            .query(Query::range(utilisation).legend("in use")),
    )
    .build()
}
