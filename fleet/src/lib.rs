//! Real components for the workspace's integration tests, so that tests talk
//! to the real thing instead of a mock.
//!
//! - [`prometheus::Prometheus`]: the `prometheus` binary on a free loopback
//!   port, scraping the targets a test gives it and evaluating its rule files.
//! - [`alertmanager::Alertmanager`]: the `prometheus-alertmanager` binary on
//!   a free loopback port with a given configuration, and [`alertmanager::Webhook`]
//!   receivers that keep what it delivers.
//! - [`postgres::fresh_database`]: an empty PostgreSQL database per test.

pub mod alertmanager;
mod cluster;
pub mod cpu_limit;
pub mod haproxy;
pub mod postgres;
pub mod prometheus;
pub mod replica;
mod server;

pub use cluster::{Error, Fleet, Result, Spec};
