//! The performance targets of issue 10, judged against a run's results.
//! The README lists these verdicts as the script wrote them.

use serde::{Deserialize, Serialize};

use crate::results::{percent, Backend, Kind, Results};

/// Product page: at least this share of the reference handler's rate…
pub const PRODUCT_SHARE: f64 = 0.30;
/// …with p99 under this many milliseconds.
pub const PRODUCT_P99_MS: f64 = 25.0;
/// Checkout on PostgreSQL, orders per second.
pub const CHECKOUT_ORDERS_PER_SECOND: f64 = 1_000.0;
/// Share of product-page throughput telemetry may cost.
pub const TELEMETRY_COST: f64 = 0.05;
/// From process start to `/readyz` 200, milliseconds.
pub const READY_MS: f64 = 200.0;
/// Resident memory after the product-page run, MiB.
pub const RESIDENT_MIB: f64 = 64.0;
/// loadgen's request rate as a share of wrk's.
pub const LOADGEN_SHARE: f64 = 0.40;

/// One target and whether the run met it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Verdict {
    pub target: String,
    pub measured: String,
    pub met: bool,
}

fn verdict(target: String, measured: String, met: bool) -> Verdict {
    Verdict {
        target,
        measured,
        met,
    }
}

/// Every target, in the order; a figure that was not measured
/// counts as missed.
pub fn judge(results: &Results) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    for backend in Backend::ALL {
        let measured = results.case(Kind::ProductPage, backend);
        verdicts.push(verdict(
            format!(
                "product page on {}, {} connections: ≥ {:.0} % of the reference, p99 < {PRODUCT_P99_MS} ms",
                backend.label(),
                results.settings.connections,
                PRODUCT_SHARE * 100.0
            ),
            measured.map_or_else(not_measured, |c| {
                format!("{:.1} %, p99 {:.1} ms", c.share * 100.0, c.p99_ms)
            }),
            measured.is_some_and(|c| c.share >= PRODUCT_SHARE && c.p99_ms < PRODUCT_P99_MS),
        ));
    }
    let checkout = results.case(Kind::Checkout, Backend::Postgres);
    let audit = results.audit(Backend::Postgres);
    verdicts.push(verdict(
        format!("checkout on PostgreSQL: ≥ {CHECKOUT_ORDERS_PER_SECOND:.0} orders/s, no oversell"),
        match (checkout, audit) {
            (Some(c), Some(a)) => format!(
                "{:.0} orders/s; {} orders audited, {} products oversold",
                c.requests_per_second,
                a.orders,
                a.oversold_products.len()
            ),
            _ => not_measured(),
        },
        checkout
            .is_some_and(|c| c.requests_per_second >= CHECKOUT_ORDERS_PER_SECOND && c.errors == 0)
            && audit.is_some_and(|a| a.oversold_products.is_empty()),
    ));
    for backend in Backend::ALL {
        let cost = results.telemetry_cost(backend);
        verdicts.push(verdict(
            format!(
                "telemetry on {}: ≤ {:.0} % of product-page throughput",
                backend.label(),
                TELEMETRY_COST * 100.0
            ),
            cost.map_or_else(not_measured, percent),
            cost.is_some_and(|c| c <= TELEMETRY_COST),
        ));
    }
    for backend in Backend::ALL {
        let other = results.backend(backend);
        verdicts.push(verdict(
            format!(
                "{}: ready in < {READY_MS:.0} ms, resident memory < {RESIDENT_MIB:.0} MiB",
                backend.label()
            ),
            other.map_or_else(not_measured, |o| {
                format!("{:.0} ms, {:.1} MiB", o.ready_ms, o.resident_mib)
            }),
            other.is_some_and(|o| o.ready_ms < READY_MS && o.resident_mib < RESIDENT_MIB),
        ));
    }
    let loadgen = results.loadgen.as_ref();
    verdicts.push(verdict(
        format!(
            "loadgen: ≥ {:.0} % of wrk's request rate",
            LOADGEN_SHARE * 100.0
        ),
        loadgen.map_or_else(not_measured, |l| format!("{:.1} %", l.share * 100.0)),
        loadgen.is_some_and(|l| l.share >= LOADGEN_SHARE),
    ));
    verdicts
}

fn not_measured() -> String {
    "not measured".to_owned()
}
