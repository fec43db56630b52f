//! SLOs to alerts.
//!
//! `alerts/slo.yaml`, in Sloth's `prometheus/v1` format, is the single source of
//! the shop's objectives. This crate reads it ([`spec::SloSpec`]), and writes
//! Sloth-compatible Prometheus rules from it ([`generate`]): SLI and metadata
//! recording rules and multi-window multi-burn-rate alerts ([`sloth`]), beside
//! a group of symptom alerts ([`symptoms`]).
//!
//! Other crates read the objectives through [`spec::SloSpec`]: `loadgen`'s SLO
//! gate and the SLO dashboard.

pub mod analysis;
pub mod business;
mod error;
pub mod generate;
pub mod options;
pub mod period;
pub mod promql;
pub mod rules;
pub mod sloth;
pub mod spec;
pub mod symptoms;

pub use error::{Error, Problem, Result};

/// The Prometheus job name the shop's admin port is scraped under. Every query
/// of the shipped spec and every symptom alert selects `job="shop"`.
pub const SHOP_JOB: &str = "shop";
