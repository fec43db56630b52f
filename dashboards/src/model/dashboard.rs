//! The dashboard: metadata, template variables, annotations, links, and the
//! builder that lays panels out on the grid.

use serde::Serialize;
use serde_json::Value;

use super::panel::{GridPos, Panel, PanelType};
use crate::datasource::DataSourceRef;

/// Grafana's dashboard JSON schema version this crate writes (Grafana 11).
pub const SCHEMA_VERSION: u32 = 39;
/// Columns of Grafana's grid.
pub const GRID_WIDTH: u32 = 24;

/// A whole dashboard, as Grafana's JSON model has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub uid: String,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub timezone: &'static str,
    pub editable: bool,
    /// 1: a shared crosshair across panels.
    pub graph_tooltip: u8,
    pub time: TimeRange,
    pub refresh: &'static str,
    pub schema_version: u32,
    pub version: u32,
    pub fiscal_year_start_month: u8,
    pub live_now: bool,
    pub week_start: &'static str,
    pub links: Vec<DashboardLink>,
    pub annotations: List<Annotation>,
    pub templating: List<Variable>,
    pub panels: Vec<Panel>,
}

/// `{"list": [...]}`, as Grafana wraps annotations and variables.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct List<T> {
    pub list: Vec<T>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimeRange {
    pub from: String,
    pub to: String,
}

/// A template variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Variable {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub datasource: DataSourceRef,
    /// For Prometheus: `label_values(<series selector>, <label>)`.
    pub query: String,
    pub definition: String,
    /// 2: refreshed whenever the time range changes.
    pub refresh: u8,
    pub include_all: bool,
    pub multi: bool,
    /// What "All" stands for; a regex, so `label=~"$var"` matches every value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all_value: Option<String>,
    pub current: Value,
    pub options: Vec<Value>,
    pub regex: String,
    /// 1: alphabetical.
    pub sort: u8,
    pub hide: u8,
    pub skip_url_sync: bool,
}

impl Variable {
    /// A variable whose values are a label's values on some series:
    /// `label_values(selector, label)`.
    pub fn label_values(
        name: impl Into<String>,
        label: impl Into<String>,
        selector: &str,
        of_label: &str,
    ) -> Variable {
        let definition = format!("label_values({selector}, {of_label})");
        Variable {
            name: name.into(),
            label: label.into(),
            kind: "query",
            datasource: DataSourceRef::prometheus(),
            query: definition.clone(),
            definition,
            refresh: 2,
            include_all: false,
            multi: false,
            all_value: None,
            current: Value::Object(Default::default()),
            options: Vec::new(),
            regex: String::new(),
            sort: 1,
            hide: 0,
            skip_url_sync: false,
        }
    }

    /// Several values can be picked, and "All" (the default) matches every value.
    pub fn multi_with_all(mut self) -> Variable {
        self.multi = true;
        self.include_all = true;
        self.all_value = Some(".*".into());
        self.current = serde_json::json!({"selected": true, "text": ["All"], "value": ["$__all"]});
        self
    }
}

/// Events drawn across every time series panel: here, a Prometheus query
/// whose series become regions while they are present.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotation {
    pub name: String,
    pub datasource: DataSourceRef,
    pub enable: bool,
    pub hide: bool,
    pub icon_color: String,
    pub expr: String,
    /// The resolution at which Prometheus is asked; consecutive points merge
    /// into one region.
    pub step: String,
    pub title_format: String,
    pub text_format: String,
    pub tag_keys: String,
    pub use_value_for_time: bool,
}

impl Annotation {
    pub fn prometheus(name: impl Into<String>, expr: impl Into<String>) -> Annotation {
        Annotation {
            name: name.into(),
            datasource: DataSourceRef::prometheus(),
            enable: true,
            hide: false,
            icon_color: "red".into(),
            expr: expr.into(),
            step: "15s".into(),
            title_format: String::new(),
            text_format: String::new(),
            tag_keys: String::new(),
            use_value_for_time: false,
        }
    }

    pub fn title(mut self, format: impl Into<String>) -> Annotation {
        self.title_format = format.into();
        self
    }

    pub fn text(mut self, format: impl Into<String>) -> Annotation {
        self.text_format = format.into();
        self
    }

    /// Labels shown as tags, comma separated.
    pub fn tags(mut self, keys: &[&str]) -> Annotation {
        self.tag_keys = keys.join(",");
        self
    }

    pub fn color(mut self, color: impl Into<String>) -> Annotation {
        self.icon_color = color.into();
        self
    }
}

/// A link in the dashboard's header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DashboardLink {
    pub title: String,
    /// `dashboards` (every dashboard with `tags`) or `link` (`url`).
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub tags: Vec<String>,
    pub as_dropdown: bool,
    pub include_vars: bool,
    pub keep_time: bool,
    pub icon: &'static str,
    pub tooltip: String,
    pub url: String,
    pub target_blank: bool,
}

impl DashboardLink {
    /// A drop-down of every dashboard carrying `tag`.
    pub fn tagged(title: impl Into<String>, tag: &str) -> DashboardLink {
        DashboardLink {
            title: title.into(),
            kind: "dashboards",
            tags: vec![tag.to_owned()],
            as_dropdown: true,
            include_vars: true,
            keep_time: true,
            icon: "external link",
            tooltip: String::new(),
            url: String::new(),
            target_blank: false,
        }
    }

    /// A link to one dashboard, by uid, keeping the time range and variables.
    pub fn to_dashboard(title: impl Into<String>, uid: &str) -> DashboardLink {
        DashboardLink {
            title: title.into(),
            kind: "link",
            tags: Vec::new(),
            as_dropdown: false,
            include_vars: true,
            keep_time: true,
            icon: "dashboard",
            tooltip: String::new(),
            url: dashboard_url(uid),
            target_blank: false,
        }
    }
}

/// The path of a dashboard in Grafana, by uid.
pub fn dashboard_url(uid: &str) -> String {
    format!("/d/{uid}")
}

/// Builds a dashboard, placing each panel right of the previous one and
/// wrapping to a new line when the 24 columns are full.
#[derive(Debug, Clone)]
pub struct Builder {
    dashboard: Dashboard,
    x: u32,
    y: u32,
    line_height: u32,
}

impl Dashboard {
    pub fn builder(uid: impl Into<String>, title: impl Into<String>) -> Builder {
        Builder {
            dashboard: Dashboard {
                uid: uid.into(),
                title: title.into(),
                description: String::new(),
                tags: Vec::new(),
                timezone: "browser",
                editable: true,
                graph_tooltip: 1,
                time: TimeRange {
                    from: "now-1h".into(),
                    to: "now".into(),
                },
                refresh: "30s",
                schema_version: SCHEMA_VERSION,
                version: 1,
                fiscal_year_start_month: 0,
                live_now: false,
                week_start: "",
                links: Vec::new(),
                annotations: List { list: Vec::new() },
                templating: List { list: Vec::new() },
                panels: Vec::new(),
            },
            x: 0,
            y: 0,
            line_height: 0,
        }
    }

    /// Every panel that is not a row.
    pub fn data_panels(&self) -> impl Iterator<Item = &Panel> {
        self.panels.iter().filter(|p| p.kind != PanelType::Row)
    }
}

impl Builder {
    pub fn description(mut self, text: impl Into<String>) -> Builder {
        self.dashboard.description = text.into();
        self
    }

    pub fn tags(mut self, tags: &[&str]) -> Builder {
        self.dashboard
            .tags
            .extend(tags.iter().map(|t| (*t).to_owned()));
        self
    }

    /// The default time range, such as `now-6h`.
    pub fn time_from(mut self, from: &str) -> Builder {
        self.dashboard.time.from = from.into();
        self
    }

    pub fn variable(mut self, variable: Variable) -> Builder {
        self.dashboard.templating.list.push(variable);
        self
    }

    pub fn annotation(mut self, annotation: Annotation) -> Builder {
        self.dashboard.annotations.list.push(annotation);
        self
    }

    pub fn link(mut self, link: DashboardLink) -> Builder {
        self.dashboard.links.push(link);
        self
    }

    /// Starts a row on a new line: the panels after it belong to it.
    pub fn row(mut self, title: impl Into<String>) -> Builder {
        self.new_line();
        let mut row = Panel::row(title);
        row.grid_pos = GridPos {
            h: 1,
            w: GRID_WIDTH,
            x: 0,
            y: self.y,
        };
        self.y += 1;
        self.push(row);
        self
    }

    /// Places a panel `w` columns wide and `h` units high.
    pub fn panel(mut self, w: u32, h: u32, mut panel: Panel) -> Builder {
        assert!(
            (1..=GRID_WIDTH).contains(&w) && h > 0,
            "panel `{}`: {w}x{h} does not fit the grid",
            panel.title
        );
        if self.x + w > GRID_WIDTH {
            self.new_line();
        }
        panel.grid_pos = GridPos {
            h,
            w,
            x: self.x,
            y: self.y,
        };
        self.x += w;
        self.line_height = self.line_height.max(h);
        self.push(panel);
        self
    }

    /// Places several panels of the same size.
    pub fn panels(self, w: u32, h: u32, panels: impl IntoIterator<Item = Panel>) -> Builder {
        panels
            .into_iter()
            .fold(self, |builder, panel| builder.panel(w, h, panel))
    }

    fn new_line(&mut self) {
        self.y += self.line_height;
        self.x = 0;
        self.line_height = 0;
    }

    fn push(&mut self, mut panel: Panel) {
        panel.id = self.dashboard.panels.len() as u32 + 1;
        self.dashboard.panels.push(panel);
    }

    pub fn build(self) -> Dashboard {
        self.dashboard
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_fill_a_line_then_wrap_and_rows_start_a_new_line() {
        let dashboard = Dashboard::builder("u", "t")
            .row("first")
            .panel(12, 8, Panel::stat("a"))
            .panel(12, 4, Panel::stat("b"))
            .panel(8, 6, Panel::stat("c"))
            .row("second")
            .panel(24, 3, Panel::stat("d"))
            .build();
        let pos: Vec<_> = dashboard
            .panels
            .iter()
            .map(|p| (p.id, p.grid_pos.x, p.grid_pos.y, p.grid_pos.w, p.grid_pos.h))
            .collect();
        assert_eq!(
            pos,
            [
                (1, 0, 0, 24, 1),
                (2, 0, 1, 12, 8),
                (3, 12, 1, 12, 4),
                (4, 0, 9, 8, 6),
                (5, 0, 15, 24, 1),
                (6, 0, 16, 24, 3),
            ]
        );
    }

    #[test]
    fn a_multi_value_variable_matches_everything_when_all_is_picked() {
        let variable =
            Variable::label_values("instance", "Instance", "up", "instance").multi_with_all();
        let json = serde_json::to_value(&variable).unwrap();
        assert_eq!(json["query"], "label_values(up, instance)");
        assert_eq!(json["allValue"], ".*");
        assert_eq!(json["includeAll"], true);
        assert_eq!(json["type"], "query");
    }
}
