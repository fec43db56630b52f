//! Each panel type's `options` object.

use serde::Serialize;

use super::field::Unit;

/// A panel's `options`, by panel type.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Options {
    Timeseries(Timeseries),
    Stat(Stat),
    Gauge(Gauge),
    Heatmap(Heatmap),
    Table(Table),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Legend {
    /// `list` or `table`.
    pub display_mode: &'static str,
    pub placement: &'static str,
    pub show_legend: bool,
    pub calcs: Vec<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tooltip {
    pub mode: &'static str,
    pub sort: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeseries {
    pub legend: Legend,
    pub tooltip: Tooltip,
}

impl Default for Timeseries {
    fn default() -> Self {
        Timeseries {
            legend: Legend {
                display_mode: "list",
                placement: "bottom",
                show_legend: true,
                calcs: Vec::new(),
            },
            tooltip: Tooltip {
                mode: "multi",
                sort: "desc",
            },
        }
    }
}

/// Which value of each series a stat or gauge shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReduceOptions {
    pub calcs: Vec<&'static str>,
    /// Which fields: empty for the numeric ones, `/^name$/` for one by name.
    pub fields: String,
    pub values: bool,
}

impl Default for ReduceOptions {
    fn default() -> Self {
        ReduceOptions {
            calcs: vec!["lastNotNull"],
            fields: String::new(),
            values: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stat {
    pub reduce_options: ReduceOptions,
    pub color_mode: &'static str,
    pub graph_mode: &'static str,
    pub justify_mode: &'static str,
    pub orientation: &'static str,
    pub text_mode: &'static str,
    pub wide_layout: bool,
    pub show_percent_change: bool,
}

impl Default for Stat {
    fn default() -> Self {
        Stat {
            reduce_options: ReduceOptions::default(),
            color_mode: "value",
            graph_mode: "area",
            justify_mode: "auto",
            orientation: "auto",
            text_mode: "auto",
            wide_layout: true,
            show_percent_change: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Gauge {
    pub reduce_options: ReduceOptions,
    pub orientation: &'static str,
    pub show_threshold_labels: bool,
    pub show_threshold_markers: bool,
    pub sizing: &'static str,
    pub min_viz_height: u32,
    pub min_viz_width: u32,
}

impl Default for Gauge {
    fn default() -> Self {
        Gauge {
            reduce_options: ReduceOptions::default(),
            orientation: "auto",
            show_threshold_labels: false,
            show_threshold_markers: true,
            sizing: "auto",
            min_viz_height: 75,
            min_viz_width: 75,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeatmapColor {
    pub mode: &'static str,
    pub scheme: &'static str,
    pub fill: &'static str,
    pub scale: &'static str,
    pub exponent: f64,
    pub steps: u32,
    pub reverse: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeatmapAxis {
    pub axis_placement: &'static str,
    pub unit: Unit,
    pub reverse: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Heatmap {
    /// The buckets come from Prometheus: Grafana must not bucket again.
    pub calculate: bool,
    pub cell_gap: u32,
    pub color: HeatmapColor,
    pub y_axis: HeatmapAxis,
    pub rows_frame: serde_json::Value,
    pub tooltip: serde_json::Value,
    pub legend: serde_json::Value,
    pub exemplars: serde_json::Value,
    /// Hides empty cells.
    pub filter_values: serde_json::Value,
}

impl Default for Heatmap {
    fn default() -> Self {
        Heatmap {
            calculate: false,
            cell_gap: 1,
            color: HeatmapColor {
                mode: "scheme",
                scheme: "Oranges",
                fill: "dark-orange",
                scale: "exponential",
                exponent: 0.5,
                steps: 64,
                reverse: false,
            },
            y_axis: HeatmapAxis {
                axis_placement: "left",
                unit: Unit::Short,
                reverse: false,
            },
            rows_frame: serde_json::json!({"layout": "auto"}),
            tooltip: serde_json::json!({"mode": "single", "yHistogram": false, "showColorScale": false}),
            legend: serde_json::json!({"show": true}),
            exemplars: serde_json::json!({"color": "rgba(255,0,255,0.7)"}),
            filter_values: serde_json::json!({"le": 1e-9}),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    pub show_header: bool,
    pub cell_height: &'static str,
    pub footer: serde_json::Value,
}

impl Default for Table {
    fn default() -> Self {
        Table {
            show_header: true,
            cell_height: "sm",
            footer: serde_json::json!({"show": false, "reducer": ["sum"], "countRows": false, "fields": ""}),
        }
    }
}
