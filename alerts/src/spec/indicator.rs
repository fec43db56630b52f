//! What an SLI measures, read from its queries, for tools that judge their own
//! measurements rather than run PromQL (loadgen's SLO gate).

use shop_contract::metrics::{labels, names, CheckoutFailure};

use super::Slo;
use crate::promql::{self, Matcher, Selector};

/// The kind of an SLI, with the parameters a client-side judge needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Indicator {
    /// Requests on `routes` answered with a `status` the matcher accepts (`5..`)
    /// are bad.
    Availability {
        routes: RouteFilter,
        status: Matcher,
    },
    /// Requests on `routes` slower than `threshold_seconds` are bad.
    Latency {
        threshold_seconds: f64,
        routes: RouteFilter,
    },
    /// Checkouts that failed for one of `reasons` (the shop's fault, not the
    /// shopper's) are bad, out of all checkouts.
    Checkout { reasons: Vec<CheckoutFailure> },
    /// A query of a shape this crate does not recognise: only its PromQL is usable.
    Other,
}

/// Which `http_route` values an SLI counts: every matcher on the label in
/// its total query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RouteFilter {
    matchers: Vec<Matcher>,
}

impl RouteFilter {
    /// Every route.
    pub fn all() -> Self {
        RouteFilter::default()
    }

    /// Whether a route pattern such as `/product/{slug}` is counted.
    pub fn matches(&self, route: &str) -> bool {
        self.matchers.iter().all(|m| m.matches(route))
    }

    /// The `http_route` matchers, empty for every route.
    pub fn matchers(&self) -> &[Matcher] {
        &self.matchers
    }
}

pub(super) fn of(slo: &Slo) -> Indicator {
    let Some(events) = &slo.sli.events else {
        return Indicator::Other;
    };
    let errors = promql::selectors(&events.error_query("5m")).unwrap_or_default();
    let totals = promql::selectors(&events.total_query("5m")).unwrap_or_default();
    let http = |suffix: &str| format!("{}{suffix}", names::HTTP_SERVER_REQUEST_DURATION);
    let routes = totals
        .iter()
        .find(|s| s.metric.starts_with(names::HTTP_SERVER_REQUEST_DURATION))
        .map(route_filter)
        .unwrap_or_default();

    let threshold = errors
        .iter()
        .filter(|s| s.metric == http("_bucket"))
        .find_map(|s| s.matchers_on("le").next())
        .and_then(|le| le.value.parse::<f64>().ok());
    if let Some(threshold_seconds) = threshold {
        return Indicator::Latency {
            threshold_seconds,
            routes,
        };
    }
    if let Some(failures) = errors
        .iter()
        .find(|s| s.metric == names::SHOP_CHECKOUT_FAILURES)
    {
        let reasons = CheckoutFailure::ALL
            .into_iter()
            .filter(|r| {
                failures
                    .matchers_on(labels::REASON)
                    .all(|m| m.matches(r.as_str()))
            })
            .collect();
        return Indicator::Checkout { reasons };
    }
    let status = errors
        .iter()
        .filter(|s| s.metric == http("_count"))
        .find_map(|s| s.matchers_on(labels::HTTP_RESPONSE_STATUS_CODE).next());
    if let Some(status) = status {
        return Indicator::Availability {
            routes,
            status: status.clone(),
        };
    }
    Indicator::Other
}

fn route_filter(selector: &Selector) -> RouteFilter {
    RouteFilter {
        matchers: selector.matchers_on(labels::HTTP_ROUTE).cloned().collect(),
    }
}
