//! Grafana dashboards as Rust code.
//!
//! [`model`] holds typed builders for Grafana's dashboard JSON model;
//! [`boards`] builds the shop's dashboards from the metric contract
//! (`shop-contract`) and the SLO spec (`alerts`); [`generate`] writes them
//! as JSON beside Grafana provisioning files; [`queries`] reads every query
//! back out of dashboard JSON (for tests and for [`render`]); [`render`] draws
//! time series panels, or any chart with shaded intervals, to PNG or SVG from
//! Prometheus range queries, since Grafana itself does not run here.

pub mod boards;
pub mod datasource;
mod error;
pub mod generate;
pub mod model;
pub mod promql;
pub mod queries;
pub mod render;

pub use error::{Error, Result};
