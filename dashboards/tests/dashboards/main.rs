//! The dashboards crate's integration tests: the committed files are fresh
//! and well formed, every query names real metrics, and every query returns
//! data from a real Prometheus scraping a real shop under load.

mod contract;
mod generated;
mod helpers;
mod live;
