//! Real components for the workspace's integration tests, so that tests talk
//! to the real thing instead of a mock.
//!
//! - [`prometheus::Prometheus`]: the `prometheus` binary on a free loopback
//!   port, scraping the targets a test gives it and evaluating its rule files.
//! - [`postgres::fresh_database`]: an empty PostgreSQL database per test.

pub mod postgres;
pub mod prometheus;
