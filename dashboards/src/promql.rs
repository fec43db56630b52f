//! Building the panels' PromQL from the contract's names, so that no query
//! retypes a metric or label name.

use std::fmt;

use shop_contract::metrics::labels;

/// Grafana's rate window: at least four scrapes, and never shorter than a step.
pub const RATE_INTERVAL: &str = "$__rate_interval";
/// The dashboard's whole time range, as a PromQL duration.
pub const RANGE: &str = "$__range";
/// The instance picker's variable name.
pub const INSTANCE_VAR: &str = "instance";
/// The route picker's variable name.
pub const ROUTE_VAR: &str = "route";
/// Prometheus' own target label.
pub const INSTANCE_LABEL: &str = "instance";
/// The bucket bound label of a histogram.
pub const LE: &str = "le";
/// The series Prometheus writes for every pending and firing alert.
pub const ALERTS: &str = "ALERTS";
/// `ALERTS`' state label, and its value for firing alerts.
pub const ALERT_STATE: &str = "alertstate";
pub const FIRING: &str = "firing";
/// Prometheus' scrape health series: 1 when the last scrape succeeded.
pub const UP: &str = "up";
/// Series that Prometheus itself writes: the only names a query may use
/// besides the contract's metrics and the `alerts` recording rules.
pub const PROMETHEUS_SERIES: &[&str] = &[ALERTS, UP];

/// A series selector: `metric{label="value", ...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    metric: String,
    matchers: Vec<String>,
}

impl Selector {
    pub fn new(metric: impl Into<String>) -> Selector {
        Selector {
            metric: metric.into(),
            matchers: Vec::new(),
        }
    }

    /// A series of the shop's scrape job, `job="shop"`.
    pub fn shop(metric: impl Into<String>) -> Selector {
        Selector::new(metric).eq("job", alerts::SHOP_JOB)
    }

    /// The shop's series on the instances picked in the instance variable.
    pub fn picked(metric: impl Into<String>) -> Selector {
        Selector::shop(metric).re(INSTANCE_LABEL, &var(INSTANCE_VAR))
    }

    pub fn eq(self, label: &str, value: &str) -> Selector {
        self.matcher(label, "=", value)
    }

    pub fn ne(self, label: &str, value: &str) -> Selector {
        self.matcher(label, "!=", value)
    }

    pub fn re(self, label: &str, value: &str) -> Selector {
        self.matcher(label, "=~", value)
    }

    /// Only the routes picked in the route variable.
    pub fn picked_routes(self) -> Selector {
        self.re(labels::HTTP_ROUTE, &var(ROUTE_VAR))
    }

    fn matcher(mut self, label: &str, op: &str, value: &str) -> Selector {
        self.matchers.push(format!("{label}{op}{value:?}"));
        self
    }

    /// The same selector on another series of the metric family, such as a
    /// histogram's `_bucket`.
    pub fn suffix(&self, suffix: &str) -> Selector {
        Selector {
            metric: format!("{}{suffix}", self.metric),
            matchers: self.matchers.clone(),
        }
    }

    /// A histogram's `_bucket` series.
    pub fn bucket(&self) -> Selector {
        self.suffix("_bucket")
    }

    /// A histogram's `_count` series.
    pub fn count(&self) -> Selector {
        self.suffix("_count")
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.matchers.is_empty() {
            write!(f, "{}", self.metric)
        } else {
            write!(f, "{}{{{}}}", self.metric, self.matchers.join(", "))
        }
    }
}

/// `$name`.
pub fn var(name: &str) -> String {
    format!("${name}")
}

/// A legend showing a label's value: `{{label}}`.
pub fn legend(label: &str) -> String {
    format!("{{{{{label}}}}}")
}

/// `rate(selector[$__rate_interval])`.
pub fn rate(selector: &Selector) -> String {
    format!("rate({selector}[{RATE_INTERVAL}])")
}

/// `increase(selector[$__range])`: how much a counter grew over the time range.
pub fn increase_over_range(selector: &Selector) -> String {
    format!("increase({selector}[{RANGE}])")
}

/// `sum by (labels) (expr)`, or `sum(expr)` without labels.
pub fn sum_by(by: &[&str], expr: &str) -> String {
    if by.is_empty() {
        format!("sum({expr})")
    } else {
        format!("sum by ({}) ({expr})", by.join(", "))
    }
}

/// The `q` quantile of a histogram, per `by`.
pub fn quantile(q: f64, by: &[&str], histogram: &Selector) -> String {
    let mut by_le = vec![LE];
    by_le.extend_from_slice(by);
    format!(
        "histogram_quantile({q}, {})",
        sum_by(&by_le, &rate(&histogram.bucket()))
    )
}

/// `part / total`, with 0 where `part` has no series but `total` has: a
/// route without a single error shows 0 %, not a gap. Both sides must be
/// aggregated by the same labels.
pub fn ratio_or_zero(part: &str, total: &str) -> String {
    format!("(\n  {part}\n  or\n  0 * {total}\n)\n/\n{total}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_quote_values_and_keep_their_matchers_on_suffixes() {
        let selector = Selector::picked("m").re("code", "5..");
        assert_eq!(
            selector.bucket().to_string(),
            r#"m_bucket{job="shop", instance=~"$instance", code=~"5.."}"#
        );
    }

    #[test]
    fn quantiles_sum_rates_by_le_and_the_given_labels() {
        assert_eq!(
            quantile(0.99, &["route"], &Selector::new("h")),
            "histogram_quantile(0.99, sum by (le, route) (rate(h_bucket[$__rate_interval])))"
        );
        assert_eq!(sum_by(&[], "x"), "sum(x)");
    }
}
