//! The metric contract: every metric name, label key, label value set and
//! bucket layout the shop exports. Names follow the OpenTelemetry semantic
//! conventions in their Prometheus form.

/// Metric names, exactly as they appear in the exposition format.
pub mod names {
    pub const HTTP_SERVER_REQUEST_DURATION: &str = "http_server_request_duration_seconds";
    pub const HTTP_SERVER_ACTIVE_REQUESTS: &str = "http_server_active_requests";
    pub const DB_CLIENT_OPERATION_DURATION: &str = "db_client_operation_duration_seconds";
    pub const DB_CLIENT_CONNECTION_COUNT: &str = "db_client_connection_count";
    pub const DB_CLIENT_CONNECTION_MAX: &str = "db_client_connection_max";
    pub const SHOP_ORDERS_PLACED: &str = "shop_orders_placed_total";
    pub const SHOP_ORDER_REVENUE: &str = "shop_order_revenue_total";
    pub const SHOP_CHECKOUT_FAILURES: &str = "shop_checkout_failures_total";
    pub const SHOP_CART_ITEMS_ADDED: &str = "shop_cart_items_added_total";
    pub const SHOP_FAULT_ACTIVE: &str = "shop_fault_active";
    pub const SHOP_BUILD_INFO: &str = "shop_build_info";
    pub const SHOP_READY: &str = "shop_ready";
    pub const SHOP_PRODUCT_CACHE_LOOKUPS: &str = "shop_product_cache_lookups_total";
    pub const SHOP_LOGINS_THROTTLED: &str = "shop_logins_throttled_total";
    /// Prefix of the process collector's metrics (`process_cpu_seconds_total`, ...).
    pub const PROCESS_PREFIX: &str = "process_";
    pub const PROCESS_RESIDENT_MEMORY: &str = "process_resident_memory_bytes";
    pub const PROCESS_CPU_SECONDS: &str = "process_cpu_seconds_total";
    pub const PROCESS_OPEN_FDS: &str = "process_open_fds";
    pub const PROCESS_MAX_FDS: &str = "process_max_fds";
}

/// Label keys.
pub mod labels {
    pub const HTTP_REQUEST_METHOD: &str = "http_request_method";
    pub const HTTP_ROUTE: &str = "http_route";
    pub const HTTP_RESPONSE_STATUS_CODE: &str = "http_response_status_code";
    pub const DB_SYSTEM_NAME: &str = "db_system_name";
    pub const DB_OPERATION_NAME: &str = "db_operation_name";
    pub const OUTCOME: &str = "outcome";
    pub const STATE: &str = "state";
    pub const CURRENCY: &str = "currency";
    pub const REASON: &str = "reason";
    pub const KIND: &str = "kind";
    pub const VERSION: &str = "version";
    pub const RESULT: &str = "result";
}

/// The `http_route` value for a request that matched no route. Raw paths never
/// become label values: that would give every scanner probe its own series.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// `db_system_name` values.
pub mod db_system {
    pub const POSTGRESQL: &str = "postgresql";
    pub const SQLITE: &str = "sqlite";
}

/// `outcome` values of `db_client_operation_duration_seconds`.
pub mod outcome {
    pub const OK: &str = "ok";
    pub const ERROR: &str = "error";
}

/// `state` values of `db_client_connection_count`.
pub mod connection_state {
    pub const IDLE: &str = "idle";
    pub const USED: &str = "used";
}

/// `result` values of `shop_product_cache_lookups_total`.
pub mod cache_result {
    /// Served from the cache.
    pub const HIT: &str = "hit";
    /// Not cached (or too old): read from the database.
    pub const MISS: &str = "miss";
    /// The cache was not trusted (its invalidation channel down, or the
    /// database failing): read from the database.
    pub const BYPASS: &str = "bypass";
    pub const ALL: [&str; 3] = [HIT, MISS, BYPASS];
}

/// Why a checkout failed: the whole, fixed set of `reason` values of
/// `shop_checkout_failures_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckoutFailure {
    /// The submitted name, email or address did not validate.
    InvalidInput,
    /// The cart was empty or unknown.
    EmptyCart,
    /// A product in the cart did not have enough stock.
    OutOfStock,
    /// The database could not be reached in time.
    DatabaseUnavailable,
    /// Anything else: a bug or an unexpected database error.
    Internal,
}

impl CheckoutFailure {
    pub const ALL: [CheckoutFailure; 5] = [
        CheckoutFailure::InvalidInput,
        CheckoutFailure::EmptyCart,
        CheckoutFailure::OutOfStock,
        CheckoutFailure::DatabaseUnavailable,
        CheckoutFailure::Internal,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckoutFailure::InvalidInput => "invalid_input",
            CheckoutFailure::EmptyCart => "empty_cart",
            CheckoutFailure::OutOfStock => "out_of_stock",
            CheckoutFailure::DatabaseUnavailable => "database_unavailable",
            CheckoutFailure::Internal => "internal",
        }
    }

    /// Whether the failure is the shop's fault (counts against the checkout
    /// SLO) rather than the shopper's.
    pub fn is_server_side(self) -> bool {
        matches!(
            self,
            CheckoutFailure::DatabaseUnavailable | CheckoutFailure::Internal
        )
    }
}

/// Upper bounds (seconds) of the latency histograms. They contain every
/// latency threshold an SLO uses; `alerts` checks that at generation time.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The currency every price is in, as the `currency` label value.
pub const CURRENCY: &str = "EUR";

/// The Prometheus metric type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
}

impl MetricKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
        }
    }
}

/// One row of the contract: what the README's metric table shows.
#[derive(Debug, Clone, Copy)]
pub struct MetricSpec {
    pub name: &'static str,
    pub kind: MetricKind,
    pub labels: &'static [&'static str],
    pub help: &'static str,
}

/// Every metric of the contract except the process collector's.
pub const CONTRACT: &[MetricSpec] = &[
    MetricSpec {
        name: names::HTTP_SERVER_REQUEST_DURATION,
        kind: MetricKind::Histogram,
        labels: &[
            labels::HTTP_REQUEST_METHOD,
            labels::HTTP_ROUTE,
            labels::HTTP_RESPONSE_STATUS_CODE,
        ],
        help: "Duration of HTTP server requests, by route pattern and status",
    },
    MetricSpec {
        name: names::HTTP_SERVER_ACTIVE_REQUESTS,
        kind: MetricKind::Gauge,
        labels: &[labels::HTTP_REQUEST_METHOD, labels::HTTP_ROUTE],
        help: "HTTP server requests in flight",
    },
    MetricSpec {
        name: names::DB_CLIENT_OPERATION_DURATION,
        kind: MetricKind::Histogram,
        labels: &[
            labels::DB_SYSTEM_NAME,
            labels::DB_OPERATION_NAME,
            labels::OUTCOME,
        ],
        help: "Duration of database operations, by named query and outcome",
    },
    MetricSpec {
        name: names::DB_CLIENT_CONNECTION_COUNT,
        kind: MetricKind::Gauge,
        labels: &[labels::STATE],
        help: "Database pool connections by state",
    },
    MetricSpec {
        name: names::DB_CLIENT_CONNECTION_MAX,
        kind: MetricKind::Gauge,
        labels: &[],
        help: "Maximum size of the database pool",
    },
    MetricSpec {
        name: names::SHOP_ORDERS_PLACED,
        kind: MetricKind::Counter,
        labels: &[],
        help: "Orders placed",
    },
    MetricSpec {
        name: names::SHOP_ORDER_REVENUE,
        kind: MetricKind::Counter,
        labels: &[labels::CURRENCY],
        help: "Revenue of placed orders, in major currency units",
    },
    MetricSpec {
        name: names::SHOP_CHECKOUT_FAILURES,
        kind: MetricKind::Counter,
        labels: &[labels::REASON],
        help: "Checkouts that placed no order, by reason",
    },
    MetricSpec {
        name: names::SHOP_CART_ITEMS_ADDED,
        kind: MetricKind::Counter,
        labels: &[],
        help: "Items added to carts",
    },
    MetricSpec {
        name: names::SHOP_FAULT_ACTIVE,
        kind: MetricKind::Gauge,
        labels: &[labels::KIND, labels::HTTP_ROUTE, labels::DB_OPERATION_NAME],
        help: "Injected faults currently active, by kind and route pattern (HTTP faults) or operation (database faults)",
    },
    MetricSpec {
        name: names::SHOP_READY,
        kind: MetricKind::Gauge,
        labels: &[],
        help: "1 when the shop is ready for traffic (not draining, database answering), sampled at scrape",
    },
    MetricSpec {
        name: names::SHOP_PRODUCT_CACHE_LOOKUPS,
        kind: MetricKind::Counter,
        labels: &[labels::RESULT],
        help: "Product reads by how the product cache answered: hit, miss, or bypass while it is not trusted",
    },
    MetricSpec {
        name: names::SHOP_LOGINS_THROTTLED,
        kind: MetricKind::Counter,
        labels: &[labels::REASON],
        help: "Login attempts refused with 429 after too many failures, by the limit hit: account or client",
    },
    MetricSpec {
        name: names::SHOP_BUILD_INFO,
        kind: MetricKind::Gauge,
        labels: &[labels::VERSION],
        help: "Always 1; the version label names the running build",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_names_are_unique() {
        let mut names: Vec<_> = CONTRACT.iter().map(|m| m.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CONTRACT.len());
    }

    #[test]
    fn latency_buckets_are_strictly_increasing() {
        assert!(LATENCY_BUCKETS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn counters_end_in_total() {
        for metric in CONTRACT.iter().filter(|m| m.kind == MetricKind::Counter) {
            assert!(metric.name.ends_with("_total"), "{}", metric.name);
        }
    }
}
