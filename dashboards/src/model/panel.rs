//! Panels and their queries: time series, stat, gauge, heatmap, table, row.

use serde::Serialize;
use serde_json::{json, Value};

use super::{
    field::{ColorMode, FieldConfig, ThresholdStyle, Thresholds, Unit},
    options::{self, Options},
};
use crate::datasource::DataSourceRef;

/// The panel types this crate writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PanelType {
    Timeseries,
    Stat,
    Gauge,
    Heatmap,
    Table,
    Row,
}

/// Where a panel sits on the dashboard's 24-column grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct GridPos {
    pub h: u32,
    pub w: u32,
    pub x: u32,
    pub y: u32,
}

/// One panel. Build with [`Panel::timeseries`], [`Panel::stat`]...; the
/// dashboard assigns its id and grid position.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Panel {
    #[serde(rename = "type")]
    pub kind: PanelType,
    pub id: u32,
    pub title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub grid_pos: GridPos,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datasource: Option<DataSourceRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_config: Option<FieldConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Options>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transformations: Vec<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<PanelLink>,
    /// Rows only: whether the row is folded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collapsed: Option<bool>,
    /// Rows only: the panels a folded row holds (none: ours are open).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub panels: Option<Vec<Panel>>,
}

/// The shape of a query's answer Grafana asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    TimeSeries,
    Table,
    Heatmap,
}

/// One PromQL query of a panel (a Grafana "target").
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub datasource: DataSourceRef,
    pub ref_id: String,
    pub expr: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub legend_format: String,
    /// A range query over the dashboard's time range...
    pub range: bool,
    /// ...or one instant at its end.
    pub instant: bool,
    pub format: Format,
    pub editor_mode: &'static str,
}

/// A query before it joins a panel: [`Query::range`] or [`Query::instant`].
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    expr: String,
    legend: String,
    instant: bool,
    format: Format,
}

impl Query {
    /// A query evaluated over the whole time range (time series panels).
    pub fn range(expr: impl Into<String>) -> Query {
        Query {
            expr: expr.into(),
            legend: String::new(),
            instant: false,
            format: Format::TimeSeries,
        }
    }

    /// A query evaluated once, at the end of the time range (stats, tables).
    pub fn instant(expr: impl Into<String>) -> Query {
        Query {
            instant: true,
            ..Query::range(expr)
        }
    }

    /// The series name: `{{label}}` takes a label's value.
    pub fn legend(mut self, legend: impl Into<String>) -> Query {
        self.legend = legend.into();
        self
    }

    pub fn format(mut self, format: Format) -> Query {
        self.format = format;
        self
    }
}

/// A link in a panel's corner menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PanelLink {
    pub title: String,
    pub url: String,
    pub target_blank: bool,
}

/// Custom settings of a time series' fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
struct TimeseriesCustom {
    draw_style: &'static str,
    line_interpolation: &'static str,
    line_width: u32,
    fill_opacity: u32,
    gradient_mode: &'static str,
    show_points: &'static str,
    point_size: u32,
    span_nulls: bool,
    axis_placement: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    axis_label: String,
    stacking: Value,
    thresholds_style: Value,
}

impl Panel {
    fn new(kind: PanelType, title: impl Into<String>, options: Option<Options>) -> Panel {
        let field_config = match kind {
            PanelType::Row => None,
            PanelType::Stat | PanelType::Gauge => {
                Some(FieldConfig::new(Unit::Short, ColorMode::THRESHOLDS))
            }
            _ => Some(FieldConfig::new(Unit::Short, ColorMode::PALETTE)),
        };
        Panel {
            kind,
            id: 0,
            title: title.into(),
            description: String::new(),
            grid_pos: GridPos::default(),
            datasource: (kind != PanelType::Row).then(DataSourceRef::prometheus),
            targets: Vec::new(),
            field_config,
            options,
            transformations: Vec::new(),
            links: Vec::new(),
            collapsed: (kind == PanelType::Row).then_some(false),
            panels: (kind == PanelType::Row).then(Vec::new),
        }
    }

    /// A time series panel: lines over the time range.
    pub fn timeseries(title: impl Into<String>) -> Panel {
        let mut panel = Panel::new(
            PanelType::Timeseries,
            title,
            Some(Options::Timeseries(options::Timeseries::default())),
        );
        panel.set_custom(
            serde_json::to_value(TimeseriesCustom {
                draw_style: "line",
                line_interpolation: "linear",
                line_width: 1,
                fill_opacity: 10,
                gradient_mode: "none",
                show_points: "never",
                point_size: 4,
                span_nulls: false,
                axis_placement: "auto",
                axis_label: String::new(),
                stacking: json!({"mode": "none", "group": "A"}),
                thresholds_style: json!({"mode": ThresholdStyle::Off}),
            })
            .expect("a struct serialises"),
        );
        panel
    }

    /// A single big number (the last value), coloured by thresholds.
    pub fn stat(title: impl Into<String>) -> Panel {
        Panel::new(
            PanelType::Stat,
            title,
            Some(Options::Stat(options::Stat::default())),
        )
    }

    /// A dial between `min` and `max`, coloured by thresholds.
    pub fn gauge(title: impl Into<String>) -> Panel {
        Panel::new(
            PanelType::Gauge,
            title,
            Some(Options::Gauge(options::Gauge::default())),
        )
    }

    /// A heatmap of a Prometheus histogram's buckets (`format: heatmap`, one
    /// series per `le`); the unit is the buckets' (the y axis).
    pub fn heatmap(title: impl Into<String>) -> Panel {
        let mut panel = Panel::new(
            PanelType::Heatmap,
            title,
            Some(Options::Heatmap(options::Heatmap::default())),
        );
        panel.set_custom(json!({
            "scaleDistribution": {"type": "linear"},
            "hideFrom": {"legend": false, "tooltip": false, "viz": false},
        }));
        panel
    }

    /// A table of an instant query's series, one row per series and a
    /// column per label.
    pub fn table(title: impl Into<String>) -> Panel {
        let mut panel = Panel::new(
            PanelType::Table,
            title,
            Some(Options::Table(options::Table::default())),
        );
        panel.set_custom(json!({"align": "auto", "cellOptions": {"type": "auto"}}));
        panel
    }

    /// A row header; the dashboard places the panels after it under it.
    pub(crate) fn row(title: impl Into<String>) -> Panel {
        Panel::new(PanelType::Row, title, None)
    }

    pub fn description(mut self, text: impl Into<String>) -> Panel {
        self.description = text.into();
        self
    }

    /// Adds a query; its refId is the next letter.
    pub fn query(mut self, query: Query) -> Panel {
        let ref_id = ref_id(self.targets.len());
        self.targets.push(Target {
            datasource: DataSourceRef::prometheus(),
            ref_id,
            expr: query.expr,
            legend_format: query.legend,
            range: !query.instant,
            instant: query.instant,
            format: query.format,
            editor_mode: "code",
        });
        self
    }

    pub fn unit(mut self, unit: Unit) -> Panel {
        self.defaults().unit = unit;
        if let Some(Options::Heatmap(heatmap)) = &mut self.options {
            heatmap.y_axis.unit = unit;
        }
        self
    }

    pub fn min(mut self, min: f64) -> Panel {
        self.defaults().min = Some(min);
        self
    }

    pub fn max(mut self, max: f64) -> Panel {
        self.defaults().max = Some(max);
        self
    }

    pub fn decimals(mut self, decimals: u32) -> Panel {
        self.defaults().decimals = Some(decimals);
        self
    }

    pub fn thresholds(mut self, thresholds: Thresholds) -> Panel {
        self.defaults().thresholds = thresholds;
        self
    }

    /// Time series only: draw the thresholds on the graph.
    pub fn threshold_style(mut self, style: ThresholdStyle) -> Panel {
        self.custom_mut()["thresholdsStyle"] = json!({ "mode": style });
        self
    }

    /// Time series only: stack the series (for parts of a whole).
    pub fn stacked(mut self) -> Panel {
        let custom = self.custom_mut();
        custom["stacking"]["mode"] = json!("normal");
        custom["fillOpacity"] = json!(60);
        self
    }

    /// Time series only: a label on the y axis.
    pub fn axis_label(mut self, label: impl Into<String>) -> Panel {
        self.custom_mut()["axisLabel"] = json!(label.into());
        self
    }

    /// Time series only: the legend as a table with these reductions
    /// (`mean`, `max`, `lastNotNull`).
    pub fn legend_table(mut self, calcs: &[&'static str]) -> Panel {
        if let Some(Options::Timeseries(ts)) = &mut self.options {
            ts.legend.display_mode = "table";
            ts.legend.calcs = calcs.to_vec();
        }
        self
    }

    /// Stat only: show the value's text field named `field` (a label) rather
    /// than a number.
    pub fn show_field(mut self, field: &str) -> Panel {
        if let Some(Options::Stat(stat)) = &mut self.options {
            stat.reduce_options.fields = format!("/^{field}$/");
            stat.text_mode = "value";
        }
        self
    }

    /// Table only: hide these columns (`Time`, `__name__`...).
    pub fn hide_columns(mut self, columns: &[&str]) -> Panel {
        let exclude: serde_json::Map<String, Value> = columns
            .iter()
            .map(|c| ((*c).to_owned(), Value::Bool(true)))
            .collect();
        self.transformations.push(json!({
            "id": "organize",
            "options": {"excludeByName": exclude, "indexByName": {}, "renameByName": {}}
        }));
        self
    }

    /// A link to another dashboard or page, kept to the same time range.
    pub fn link(mut self, title: impl Into<String>, url: impl Into<String>) -> Panel {
        self.links.push(PanelLink {
            title: title.into(),
            url: url.into(),
            target_blank: false,
        });
        self
    }

    fn defaults(&mut self) -> &mut super::field::FieldDefaults {
        &mut self
            .field_config
            .as_mut()
            .expect("rows have no field config")
            .defaults
    }

    fn set_custom(&mut self, custom: Value) {
        self.defaults().custom = Some(custom);
    }

    fn custom_mut(&mut self) -> &mut Value {
        assert_eq!(
            self.kind,
            PanelType::Timeseries,
            "only time series panels draw thresholds and stacks"
        );
        self.defaults()
            .custom
            .as_mut()
            .expect("time series panels have custom settings")
    }
}

/// `A`, `B`, ... `Z`, `AA`, ...
fn ref_id(index: usize) -> String {
    let letter = |i: usize| char::from(b'A' + (i % 26) as u8);
    if index < 26 {
        letter(index).to_string()
    } else {
        format!("{}{}", letter(index / 26 - 1), letter(index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::field::Color;

    #[test]
    fn queries_get_successive_ref_ids_and_the_provisioned_datasource() {
        let panel = Panel::timeseries("t")
            .query(Query::range("up"))
            .query(Query::instant("up").legend("{{instance}}"));
        let json = serde_json::to_value(&panel).unwrap();
        assert_eq!(json["targets"][0]["refId"], "A");
        assert_eq!(json["targets"][1]["refId"], "B");
        assert_eq!(json["targets"][1]["instant"], true);
        assert_eq!(json["targets"][1]["range"], false);
        assert_eq!(json["targets"][1]["legendFormat"], "{{instance}}");
        assert_eq!(
            json["targets"][0]["datasource"]["uid"],
            crate::datasource::DATASOURCE_UID
        );
        assert_eq!(ref_id(26), "AA");
    }

    #[test]
    fn time_series_thresholds_and_stacking_land_in_the_custom_field_config() {
        let panel = Panel::timeseries("burn")
            .unit(Unit::Seconds)
            .thresholds(Thresholds::base(Color::GREEN).above(14.4, Color::RED))
            .threshold_style(ThresholdStyle::Dashed)
            .stacked();
        let json = serde_json::to_value(&panel).unwrap();
        let defaults = &json["fieldConfig"]["defaults"];
        assert_eq!(defaults["unit"], "s");
        assert_eq!(defaults["custom"]["thresholdsStyle"]["mode"], "dashed");
        assert_eq!(defaults["custom"]["stacking"]["mode"], "normal");
        assert_eq!(defaults["thresholds"]["steps"][1]["value"], 14.4);
    }

    #[test]
    fn a_heatmap_puts_its_unit_on_the_y_axis() {
        let json = serde_json::to_value(Panel::heatmap("h").unit(Unit::Seconds)).unwrap();
        assert_eq!(json["options"]["yAxis"]["unit"], "s");
        assert_eq!(json["options"]["calculate"], false);
    }

    #[test]
    fn rows_have_no_datasource_and_no_field_config() {
        let json = serde_json::to_value(Panel::row("r")).unwrap();
        assert_eq!(json["type"], "row");
        assert!(json.get("datasource").is_none());
        assert!(json.get("fieldConfig").is_none());
        assert_eq!(json["panels"], json!([]));
        assert_eq!(json["collapsed"], false);
    }
}
