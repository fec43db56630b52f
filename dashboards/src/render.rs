//! Charts from Prometheus data, for reports and the README, since Grafana
//! itself cannot run here.
//!
//! [`render_dashboards`] draws every time series panel of dashboard JSON as
//! Grafana would show it (variables on "All", the dashboard's annotations as
//! shaded intervals, thresholds drawn as dashed lines). [`chart_from_queries`]
//! and [`draw`] are the pieces for a single chart of one's own, such as a
//! game day's request rate with its fault windows shaded:
//!
//! ```no_run
//! # async fn demo() -> dashboards::Result<()> {
//! use dashboards::{model::Unit, render::{self, Interval, Prometheus, Window}};
//!
//! let prometheus = Prometheus::new("http://127.0.0.1:9090")?;
//! let window = Window::with_points(1_700_000_000.0, 1_700_000_600.0, 300);
//! let faults = vec![Interval { start: 1_700_000_200.0, end: 1_700_000_320.0, label: "error fault".into() }];
//! let chart = render::chart_from_queries(
//!     &prometheus, "Request rate", Unit::RequestsPerSecond,
//!     &[("sum(rate(http_server_request_duration_seconds_count[30s]))", "requests")],
//!     &window, faults,
//! ).await?;
//! render::draw(&chart, "report/request-rate.png".as_ref())?;
//! # Ok(()) }
//! ```

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::LazyLock,
};

use regex::Regex;
use serde_json::Value;

use crate::{model::Unit, queries, Result};

mod chart;
mod prometheus;
mod text;

pub use chart::{draw, Chart, Interval, Line, Marker, Threshold};
pub use prometheus::{Prometheus, Series, Window};

/// PNG or SVG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Svg,
}

impl ImageFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Svg => "svg",
        }
    }
}

/// How to render dashboards.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub window: Window,
    /// Prometheus' scrape interval, for `$__rate_interval`.
    pub scrape_interval_seconds: u64,
    pub format: ImageFormat,
    pub size: (u32, u32),
}

/// One chart built from a list of `(PromQL, legend)` range queries over
/// `window`, with `shaded` intervals. The legend may use `{{label}}`.
pub async fn chart_from_queries(
    prometheus: &Prometheus,
    title: &str,
    unit: Unit,
    queries: &[(&str, &str)],
    window: &Window,
    shaded: Vec<Interval>,
) -> Result<Chart> {
    let mut chart = Chart::new(title, unit);
    chart.time_range = Some((window.start, window.end));
    chart.shaded = shaded;
    for (expr, legend) in queries {
        for series in prometheus.query_range(expr, window).await? {
            chart.lines.push(Line {
                label: format_legend(legend, &series.labels),
                points: series.points,
            });
        }
    }
    Ok(chart)
}

/// The intervals in which a range query has a series, one per run of
/// consecutive points: a fault's lifetime from `shop_fault_active > 0`.
pub fn intervals(series: &Series, step: f64, label: &str) -> Vec<Interval> {
    let mut out: Vec<Interval> = Vec::new();
    for &(t, _) in series.points.iter().filter(|(_, v)| v.is_finite()) {
        match out.last_mut() {
            Some(last) if t - last.end <= step * 1.5 => last.end = t,
            _ => out.push(Interval {
                start: t,
                end: t,
                label: label.to_owned(),
            }),
        }
    }
    out
}

/// The values of a dashboard's variables for rendering: "All" where it can
/// be picked, otherwise the first value Prometheus has; and the built-ins.
pub async fn variable_values(
    prometheus: &Prometheus,
    dashboard: &Value,
    window: &Window,
    scrape_interval_seconds: u64,
) -> Result<BTreeMap<String, String>> {
    let mut values = queries::builtins(
        window.seconds().round() as u64,
        window.step.round() as u64,
        scrape_interval_seconds,
    );
    for variable in queries::variable_queries(dashboard) {
        let value = match (
            &variable.all_value,
            queries::label_values_promql(&variable.definition),
        ) {
            (Some(all), _) => all.clone(),
            (None, Some((promql, label))) => {
                let promql = queries::substitute(&promql, &values)?;
                prometheus
                    .query(&promql, window.end)
                    .await?
                    .into_iter()
                    .filter_map(|s| s.labels.get(&label).cloned())
                    .min()
                    .unwrap_or_default()
            }
            (None, None) => String::new(),
        };
        values.insert(variable.name, value);
    }
    Ok(values)
}

/// The dashboard's annotations over `window`, as shaded intervals.
pub async fn annotation_intervals(
    prometheus: &Prometheus,
    dashboard: &Value,
    values: &BTreeMap<String, String>,
    window: &Window,
) -> Result<Vec<Interval>> {
    let mut out = Vec::new();
    let titles = dashboard["annotations"]["list"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for annotation in queries::annotation_queries(dashboard) {
        let title = titles
            .iter()
            .find(|a| a["name"] == annotation.name.as_str())
            .and_then(|a| a["titleFormat"].as_str())
            .unwrap_or(&annotation.name)
            .to_owned();
        let expr = queries::substitute(&annotation.expr, values)?;
        for series in prometheus.query_range(&expr, window).await? {
            out.extend(intervals(
                &series,
                window.step,
                &format_legend(&title, &series.labels),
            ));
        }
    }
    Ok(out)
}

/// One time series panel's chart.
pub async fn panel_chart(
    prometheus: &Prometheus,
    panel: &Value,
    values: &BTreeMap<String, String>,
    window: &Window,
    shaded: Vec<Interval>,
) -> Result<Chart> {
    let defaults = &panel["fieldConfig"]["defaults"];
    let unit = Unit::from_id(defaults["unit"].as_str().unwrap_or("short"));
    let mut chart = Chart::new(panel["title"].as_str().unwrap_or_default(), unit);
    chart.time_range = Some((window.start, window.end));
    chart.shaded = shaded;
    if defaults["custom"]["thresholdsStyle"]["mode"]
        .as_str()
        .is_some_and(|mode| mode != "off")
    {
        chart.thresholds = defaults["thresholds"]["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|step| step["value"].as_f64())
            .map(|value| Threshold {
                value,
                label: format!("threshold {}", unit.format(value)),
            })
            .collect();
    }
    for target in panel["targets"].as_array().into_iter().flatten() {
        let expr = queries::substitute(target["expr"].as_str().unwrap_or_default(), values)?;
        let legend = target["legendFormat"].as_str().unwrap_or_default();
        for series in prometheus.query_range(&expr, window).await? {
            chart.lines.push(Line {
                label: format_legend(legend, &series.labels),
                points: series.points,
            });
        }
    }
    Ok(chart)
}

/// Draws every time series panel of `dashboards` (Grafana JSON) to
/// `<out>/<uid>-<panel title>.<png|svg>`, and returns the files written.
pub async fn render_dashboards(
    prometheus: &Prometheus,
    dashboards: &[Value],
    options: &Options,
    out: &Path,
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for dashboard in dashboards {
        let window = &options.window;
        let values = variable_values(
            prometheus,
            dashboard,
            window,
            options.scrape_interval_seconds,
        )
        .await?;
        let shaded = annotation_intervals(prometheus, dashboard, &values, window).await?;
        let uid = dashboard["uid"].as_str().unwrap_or("dashboard");
        let mut names = std::collections::BTreeSet::new();
        for panel in queries::panels(dashboard) {
            if panel["type"] != "timeseries" {
                continue;
            }
            let mut chart = panel_chart(prometheus, panel, &values, window, shaded.clone()).await?;
            chart.size = options.size;
            let mut name = format!(
                "{uid}-{}",
                slug(panel["title"].as_str().unwrap_or_default())
            );
            if !names.insert(name.clone()) {
                // Two panels with one title: the panel id tells them apart.
                name = format!("{name}-{}", panel["id"]);
            }
            let path = out.join(format!("{name}.{}", options.format.extension()));
            draw(&chart, &path)?;
            written.push(path);
        }
    }
    Ok(written)
}

static LEGEND: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{\{\s*(\w+)\s*\}\}").expect("valid regex"));

/// A series' name from a legend format (`{{label}}` takes a label's value);
/// with no format, the labels as PromQL writes them.
pub fn format_legend(format: &str, labels: &BTreeMap<String, String>) -> String {
    if format.is_empty() {
        let inner: Vec<String> = labels
            .iter()
            .filter(|(k, _)| *k != "__name__")
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        let name = labels.get("__name__").map_or("", String::as_str);
        return format!("{name}{{{}}}", inner.join(", "));
    }
    LEGEND
        .replace_all(format, |caps: &regex::Captures<'_>| {
            labels.get(&caps[1]).cloned().unwrap_or_default()
        })
        .into_owned()
}

/// A file-name-safe form of a title: `p99 latency by route` → `p99-latency-by-route`.
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legends_take_label_values_and_default_to_the_labels() {
        let labels: BTreeMap<String, String> = [("http_route", "/cart"), ("__name__", "m")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(format_legend("{{ http_route }} p99", &labels), "/cart p99");
        assert_eq!(format_legend("", &labels), r#"m{http_route="/cart"}"#);
    }

    #[test]
    fn consecutive_points_make_one_interval_and_a_gap_starts_another() {
        let series = Series {
            labels: BTreeMap::new(),
            points: vec![
                (10.0, 1.0),
                (11.0, 1.0),
                (12.0, 1.0),
                (20.0, 1.0),
                (21.0, 1.0),
            ],
        };
        let found: Vec<_> = intervals(&series, 1.0, "f")
            .into_iter()
            .map(|i| (i.start, i.end))
            .collect();
        assert_eq!(found, [(10.0, 12.0), (20.0, 21.0)]);
    }

    #[test]
    fn slugs_are_lowercase_words_joined_by_dashes() {
        assert_eq!(slug("p99 latency by route"), "p99-latency-by-route");
        assert_eq!(slug("Error ratio (5xx)"), "error-ratio-5xx");
        assert_eq!(
            slug("page 1h/5m: fires above 14.4×"),
            "page-1h-5m-fires-above-14-4"
        );
    }
}
