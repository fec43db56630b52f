//! The shop's objectives as the load generator judges them.
//!
//! An [`Objective`] names the requests it covers and what makes one good;
//! [`gate::Gate`] turns each into Goose thresholds and judges a run. The
//! objectives come from `alerts/slo.yaml` through the `alerts` crate (see
//! [`source`]), so the gate and the alert rules cannot drift apart.

pub mod gate;
pub mod source;

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use alerts::spec::{Indicator, RouteFilter, Slo};

use crate::routes::{self, Route};

/// One service level objective.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Objective {
    /// The SLO's name in `slo.yaml`, such as `availability`.
    pub name: String,
    /// The share of good events the objective asks for, in percent (99.9).
    pub objective_percent: f64,
    pub sli: Sli,
}

/// What makes an event good, and which requests are events.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Sli {
    /// A request that did not fail: no 5xx, no broken connection, and, seen
    /// from the load generator, no wrong page either.
    Success { scope: Scope },
    /// A request answered within `threshold`.
    Latency {
        #[serde(serialize_with = "millis")]
        threshold: Duration,
        scope: Scope,
    },
}

impl Sli {
    pub fn scope(&self) -> &Scope {
        match self {
            Sli::Success { scope } | Sli::Latency { scope, .. } => scope,
        }
    }
}

/// The requests an SLI counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every request.
    All,
    /// Only these routes, by Goose request name (`GET /cart`).
    Only(Vec<String>),
}

impl Scope {
    /// The routes of [`routes::ALL`] that `keep` selects.
    pub fn routes(keep: impl Fn(&Route) -> bool) -> Scope {
        Scope::Only(
            routes::ALL
                .iter()
                .filter(|r| keep(r))
                .map(Route::key)
                .collect(),
        )
    }

    /// Whether a request (by Goose name) is counted.
    pub fn includes(&self, key: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(keys) => keys.iter().any(|k| k == key),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::All => f.write_str("all requests"),
            Scope::Only(keys) => write!(f, "{}", keys.join(", ")),
        }
    }
}

impl Objective {
    /// The objective an SLO of `slo.yaml` sets, as a client can judge it;
    /// `None` for an indicator only PromQL can evaluate.
    ///
    /// Seen from the client, a request that failed (5xx, no answer, or a
    /// wrong page) is bad, and so is an unexpected 4xx: the scenarios only
    /// make requests the shop should accept. A checkout is a request to one
    /// of the two routes that place orders.
    pub fn from_slo(slo: &Slo) -> Option<Objective> {
        let sli = match slo.indicator() {
            Indicator::Availability { routes, .. } => Sli::Success {
                scope: scope_of(&routes),
            },
            Indicator::Latency {
                threshold_seconds,
                routes,
            } => Sli::Latency {
                threshold: Duration::from_secs_f64(threshold_seconds),
                scope: scope_of(&routes),
            },
            Indicator::Checkout { .. } => Sli::Success {
                scope: Scope::routes(|r| r.checkout),
            },
            Indicator::Other => return None,
        };
        Some(Objective {
            name: slo.name.clone(),
            objective_percent: slo.objective,
            sli,
        })
    }

    /// One line for a report: `availability: 99.9 % of all requests succeed`.
    pub fn describe(&self) -> String {
        let percent = trim(self.objective_percent);
        match &self.sli {
            Sli::Success { scope } => {
                format!(
                    "{}: {percent} % of {} succeed",
                    self.name,
                    scope_words(scope)
                )
            }
            Sli::Latency { threshold, scope } => format!(
                "{}: {percent} % of {} within {} ms",
                self.name,
                scope_words(scope),
                threshold.as_millis()
            ),
        }
    }
}

fn scope_of(routes: &RouteFilter) -> Scope {
    if routes.matchers().is_empty() {
        Scope::All
    } else {
        Scope::routes(|r| routes.matches(r.pattern))
    }
}

fn scope_words(scope: &Scope) -> String {
    match scope {
        Scope::All => "all requests".into(),
        Scope::Only(keys) if keys.len() <= 2 => keys.join(" and "),
        Scope::Only(keys) => format!("{} routes' requests", keys.len()),
    }
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u128(d.as_millis())
}

/// A number without trailing zeros: 99.9, 99, 0.1.
pub(crate) fn trim(value: f64) -> String {
    let text = format!("{value:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.to_string()
    }
}

/// The shipped objectives, for tests.
#[cfg(test)]
pub(crate) fn shipped() -> Vec<Objective> {
    alerts::spec::SloSpec::shipped()
        .slos
        .iter()
        .filter_map(Objective::from_slo)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_trimmed() {
        assert_eq!(trim(99.9), "99.9");
        assert_eq!(trim(99.0), "99");
        assert_eq!(trim(100.0 - 99.9), "0.1");
        assert_eq!(trim(0.0), "0");
    }

    #[test]
    fn the_shipped_slos_cover_pages_and_checkouts() {
        let objectives = shipped();
        let names: Vec<&str> = objectives.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["availability", "page-latency", "checkout"]);
        assert_eq!(objectives[0].sli, Sli::Success { scope: Scope::All });
        let Sli::Latency { threshold, scope } = &objectives[1].sli else {
            panic!("page-latency is a latency SLI: {:?}", objectives[1].sli);
        };
        assert_eq!(*threshold, Duration::from_millis(250));
        assert!(scope.includes("GET /product/{slug}"));
        assert!(scope.includes("POST /checkout"));
        assert!(!scope.includes("GET /api/v1/products"));
        assert!(!scope.includes("GET /images/products/{slug}"));
        let checkout = &objectives[2];
        assert!(checkout.sli.scope().includes("POST /api/v1/orders"));
        assert!(!checkout.sli.scope().includes("GET /checkout"));
        assert_eq!(
            checkout.describe(),
            "checkout: 99.9 % of POST /checkout and POST /api/v1/orders succeed"
        );
    }
}
