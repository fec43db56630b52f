//! The shop's Prometheus metrics, registered once per application in its own
//! registry. Every name and label comes from [`crate::contract::metrics`].

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use crate::contract::metrics::{
    cache_result, connection_state, labels, names, outcome, CheckoutFailure, CURRENCY,
    LATENCY_BUCKETS,
};
use crate::login_throttle::ThrottledBy;

mod http;
mod per_thread;
mod table;
pub use http::{HttpMetrics, ObserveHttp};
pub use table::contract_markdown;

/// Connection counts of the pool(s), sampled at scrape time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    pub idle: u64,
    pub used: u64,
    pub max: u64,
}

/// All metrics of one shop.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    pub http: HttpMetrics,
    pub db: DbMetrics,
    pub business: BusinessMetrics,
    pub pool: PoolMetrics,
    pub faults: IntGaugeVec,
    /// `shop_ready`: what `/readyz` would answer, as 1 or 0.
    pub ready: IntGauge,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let metrics = Metrics {
            http: HttpMetrics::register(&registry)?,
            db: DbMetrics::register(&registry)?,
            business: BusinessMetrics::register(&registry)?,
            pool: PoolMetrics::register(&registry)?,
            faults: register(
                &registry,
                IntGaugeVec::new(
                    opts(names::SHOP_FAULT_ACTIVE),
                    &[labels::KIND, labels::HTTP_ROUTE, labels::DB_OPERATION_NAME],
                )?,
            )?,
            ready: register(&registry, IntGauge::with_opts(opts(names::SHOP_READY))?)?,
            registry,
        };
        let build_info = register(
            &metrics.registry,
            IntGaugeVec::new(opts(names::SHOP_BUILD_INFO), &[labels::VERSION])?,
        )?;
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        #[cfg(target_os = "linux")]
        metrics.registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        Ok(metrics)
    }

    /// The exposition text of every metric.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut buffer = Vec::with_capacity(16 * 1024);
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        String::from_utf8(buffer).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

fn register<C: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    collector: C,
) -> Result<C, prometheus::Error> {
    registry.register(Box::new(collector.clone()))?;
    Ok(collector)
}

/// The name and help text of a contract metric.
fn opts(name: &str) -> Opts {
    Opts::new(name, help(name))
}

/// The help text of a contract metric.
fn help(name: &str) -> &'static str {
    crate::contract::metrics::CONTRACT
        .iter()
        .find(|m| m.name == name)
        .map(|m| m.help)
        .unwrap_or("")
}

fn histogram(name: &str, label_names: &[&str]) -> Result<HistogramVec, prometheus::Error> {
    HistogramVec::new(
        HistogramOpts::new(name, help(name)).buckets(LATENCY_BUCKETS.to_vec()),
        label_names,
    )
}

/// `db_client_operation_duration_seconds` and
/// `shop_product_cache_lookups_total`.
#[derive(Clone)]
pub struct DbMetrics {
    operations: HistogramVec,
    /// One counter per [`cache_result::ALL`] value, in that order, resolved
    /// once: a product page from the cache is cheap enough for a label
    /// lookup per view to show.
    product_cache: [IntCounter; 3],
    enabled: bool,
}

impl DbMetrics {
    fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let operations = register(
            registry,
            histogram(
                names::DB_CLIENT_OPERATION_DURATION,
                &[
                    labels::DB_SYSTEM_NAME,
                    labels::DB_OPERATION_NAME,
                    labels::OUTCOME,
                ],
            )?,
        )?;
        let product_cache = register(
            registry,
            IntCounterVec::new(opts(names::SHOP_PRODUCT_CACHE_LOOKUPS), &[labels::RESULT])?,
        )?;
        let product_cache =
            cache_result::ALL.map(|result| product_cache.with_label_values(&[result]));
        Ok(DbMetrics {
            operations,
            product_cache,
            enabled: true,
        })
    }

    /// The same metrics, never observed: for a shop run with telemetry off.
    pub fn silenced(mut self) -> Self {
        self.enabled = false;
        self
    }

    pub fn observe(&self, system: &str, operation: &str, ok: bool, elapsed: Duration) {
        if !self.enabled {
            return;
        }
        let outcome = if ok { outcome::OK } else { outcome::ERROR };
        self.operations
            .with_label_values(&[system, operation, outcome])
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one product read by how the cache answered (a
    /// [`cache_result`] value).
    pub fn product_cache_lookup(&self, result: &'static str) {
        let counter = cache_result::ALL.iter().position(|r| *r == result);
        if let (true, Some(i)) = (self.enabled, counter) {
            self.product_cache[i].inc();
        }
    }
}

/// Orders, revenue, checkout failures and cart additions.
#[derive(Clone)]
pub struct BusinessMetrics {
    orders_placed: IntCounter,
    revenue: prometheus::CounterVec,
    checkout_failures: IntCounterVec,
    cart_items_added: IntCounter,
    logins_throttled: IntCounterVec,
}

impl BusinessMetrics {
    fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let failures = register(
            registry,
            IntCounterVec::new(opts(names::SHOP_CHECKOUT_FAILURES), &[labels::REASON])?,
        )?;
        // Every reason exists from the start, so that rate() over it is 0, not absent.
        for reason in CheckoutFailure::ALL {
            failures.with_label_values(&[reason.as_str()]);
        }
        let revenue = register(
            registry,
            prometheus::CounterVec::new(opts(names::SHOP_ORDER_REVENUE), &[labels::CURRENCY])?,
        )?;
        revenue.with_label_values(&[CURRENCY]);
        let logins_throttled = register(
            registry,
            IntCounterVec::new(opts(names::SHOP_LOGINS_THROTTLED), &[labels::REASON])?,
        )?;
        for by in ThrottledBy::ALL {
            logins_throttled.with_label_values(&[by.as_str()]);
        }
        Ok(BusinessMetrics {
            orders_placed: register(
                registry,
                IntCounter::with_opts(opts(names::SHOP_ORDERS_PLACED))?,
            )?,
            revenue,
            checkout_failures: failures,
            cart_items_added: register(
                registry,
                IntCounter::with_opts(opts(names::SHOP_CART_ITEMS_ADDED))?,
            )?,
            logins_throttled,
        })
    }

    pub fn order_placed(&self, total_cents: i64, currency: &str) {
        self.orders_placed.inc();
        self.revenue
            .with_label_values(&[currency])
            .inc_by(total_cents as f64 / 100.0);
    }

    pub fn checkout_failed(&self, reason: CheckoutFailure) {
        self.checkout_failures
            .with_label_values(&[reason.as_str()])
            .inc();
    }

    pub fn cart_items_added(&self, quantity: i64) {
        self.cart_items_added.inc_by(quantity.max(0) as u64);
    }

    pub fn login_throttled(&self, by: ThrottledBy) {
        self.logins_throttled
            .with_label_values(&[by.as_str()])
            .inc();
    }
}

/// Pool gauges, set from the pool at scrape time.
#[derive(Clone)]
pub struct PoolMetrics {
    connections: IntGaugeVec,
    max: IntGauge,
}

impl PoolMetrics {
    fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        Ok(PoolMetrics {
            connections: register(
                registry,
                IntGaugeVec::new(opts(names::DB_CLIENT_CONNECTION_COUNT), &[labels::STATE])?,
            )?,
            max: register(
                registry,
                IntGauge::with_opts(opts(names::DB_CLIENT_CONNECTION_MAX))?,
            )?,
        })
    }

    pub fn set(&self, state: PoolState) {
        self.connections
            .with_label_values(&[connection_state::IDLE])
            .set(state.idle as i64);
        self.connections
            .with_label_values(&[connection_state::USED])
            .set(state.used as i64);
        self.max.set(state.max as i64);
    }
}
