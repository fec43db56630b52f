//! Typed builders for Grafana's dashboard JSON model (schema version 39,
//! Grafana 11), serialised with serde.
//!
//! ```
//! use dashboards::model::{Dashboard, Panel, Query, Unit};
//!
//! let dashboard = Dashboard::builder("example", "Example")
//!     .row("Traffic")
//!     .panel(12, 8, Panel::timeseries("Scrapes").unit(Unit::Short).query(Query::range("up")))
//!     .build();
//! let json = serde_json::to_value(&dashboard).unwrap();
//! assert_eq!(json["panels"][1]["gridPos"]["w"], 12);
//! ```

pub mod dashboard;
pub mod field;
pub mod options;
pub mod panel;

pub use dashboard::{
    dashboard_url, Annotation, Dashboard, DashboardLink, Variable, GRID_WIDTH, SCHEMA_VERSION,
};
pub use field::{Color, ThresholdStyle, Thresholds, Unit};
pub use panel::{Format, GridPos, Panel, PanelType, Query};
