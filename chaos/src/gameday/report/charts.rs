//! The report's charts, rendered by the `dashboards` crate from Prometheus
//! range queries over the whole game day, with each step's fault shaded.

use std::path::Path;

use alerts::{
    period::{Period, Severity},
    sloth::{labels as sloth, records},
};
use anyhow::{Context as _, Result};
use dashboards::{
    model::Unit,
    promql::{legend, Selector},
    render::{self, Interval, Marker, Threshold, Window},
};
use serde::Serialize;
use shop_contract::metrics::{labels, names};

use crate::gameday::verdict::FaultWindow;

/// A chart written into the report directory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChartFile {
    pub title: String,
    /// Relative to the report directory.
    pub file: String,
}

const POINTS: u32 = 300;

/// One chart: its file name, title, unit, `(PromQL, legend)` queries and
/// dashed threshold lines.
struct ChartSpec<'a> {
    file: &'static str,
    title: &'static str,
    unit: Unit,
    queries: Vec<(&'a str, &'a str)>,
    thresholds: Vec<Threshold>,
}

/// Renders the five charts into `out/charts/`, each with the fault windows
/// shaded and the notifications delivered to a person marked.
pub async fn render(
    prometheus_url: &str,
    out: &Path,
    (start, end): (f64, f64),
    faults: &[(String, FaultWindow)],
    notices: &[Marker],
    time_scale: u32,
) -> Result<Vec<ChartFile>> {
    let prometheus = render::Prometheus::new(prometheus_url)?;
    let window = Window::with_points(start, end, POINTS);
    // The 5-minute rate of production, compressed like the alert rules.
    let rate_window = format!("{}s", (300 / time_scale.max(1)).max(2));
    let rate = |selector: &Selector| format!("rate({selector}[{rate_window}])");
    let requests = Selector::shop(names::HTTP_SERVER_REQUEST_DURATION);
    let errors = requests
        .clone()
        .re(labels::HTTP_RESPONSE_STATUS_CODE, "5..");
    let all_rate = format!("sum({})", rate(&requests.count()));
    let error_rate = format!("sum({})", rate(&errors.count()));
    let shaded: Vec<Interval> = faults
        .iter()
        .map(|(step, fault)| Interval {
            start: fault.start,
            end: fault.end,
            label: step.clone(),
        })
        .collect();
    let page_factors: Vec<Threshold> = Period::DAYS_30
        .alert_windows()
        .iter()
        .filter(|w| w.severity == Severity::Page)
        .map(|w| Threshold {
            value: w.burn_rate,
            label: format!("page {}x", w.burn_rate),
        })
        .collect();
    let p99 = format!(
        "histogram_quantile(0.99, sum by (le) ({}))",
        rate(&requests.bucket())
    );
    let error_ratio = format!("{error_rate} / {all_rate}");
    // By replica: on a fleet, a killed replica's line drops to nothing
    // while the others take its share.
    let per_replica = format!("sum by (instance) ({})", rate(&requests.count()));
    let instance_legend = legend("instance");
    let slo_legend = legend(sloth::SLOTH_SLO);
    let specs = [
        ChartSpec {
            file: "request-rate",
            title: "Request rate",
            unit: Unit::RequestsPerSecond,
            queries: vec![(all_rate.as_str(), "all"), (error_rate.as_str(), "5xx")],
            thresholds: Vec::new(),
        },
        ChartSpec {
            file: "request-rate-per-replica",
            title: "Request rate per replica",
            unit: Unit::RequestsPerSecond,
            queries: vec![(per_replica.as_str(), instance_legend.as_str())],
            thresholds: Vec::new(),
        },
        ChartSpec {
            file: "error-ratio",
            title: "Error ratio (5xx)",
            unit: Unit::Ratio,
            queries: vec![(error_ratio.as_str(), "5xx share")],
            thresholds: Vec::new(),
        },
        ChartSpec {
            file: "p99-latency",
            title: "p99 latency",
            unit: Unit::Seconds,
            queries: vec![(p99.as_str(), "p99")],
            thresholds: Vec::new(),
        },
        ChartSpec {
            file: "burn-rate",
            title: "SLO burn rate (5m window)",
            unit: Unit::Suffix("×"),
            queries: vec![(records::CURRENT_BURN_RATE, slo_legend.as_str())],
            thresholds: page_factors,
        },
    ];
    let dir = out.join("charts");
    let mut files = Vec::new();
    for spec in specs {
        let ChartSpec {
            file,
            title,
            unit,
            queries,
            thresholds,
        } = spec;
        let mut chart =
            render::chart_from_queries(&prometheus, title, unit, &queries, &window, shaded.clone())
                .await
                .with_context(|| format!("querying Prometheus for the {title} chart"))?;
        chart.thresholds = thresholds;
        chart.markers = notices.to_vec();
        let path = dir.join(format!("{file}.png"));
        render::draw(&chart, &path).with_context(|| format!("drawing {}", path.display()))?;
        files.push(ChartFile {
            title: title.to_owned(),
            file: format!("charts/{file}.png"),
        });
    }
    Ok(files)
}
