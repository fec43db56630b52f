//! The shop's load generator, on Goose 0.19.
//!
//! - [`scenarios`]: the shopper mix (anonymous browser, shopper, API client),
//!   every request named by its route pattern ([`routes`]) and carrying a W3C
//!   `traceparent` ([`trace`]);
//! - [`profiles`]: smoke, load, stress, spike and soak as Goose test plans;
//! - [`slo`]: `alerts/slo.yaml` turned into Goose thresholds and verdicts;
//! - [`run`], [`capacity`], [`hpa`]: the three subcommands ([`cli`]);
//! - [`flood`]: one GET flat out, to measure loadgen itself (`bench/`);
//! - [`report`]: the Markdown and JSON summary beside Goose's reports;
//! - [`runtime`]: the threads the users run on (`--threads`).

pub mod attack;
pub mod capacity;
pub mod cli;
pub mod error;
pub mod flood;
pub mod hpa;
pub mod merge;
pub mod profiles;
pub mod progress;
pub mod report;
pub mod routes;
pub mod run;
pub mod runtime;
pub mod scenarios;
pub mod shard;
pub mod simulate;
pub mod slo;
pub mod trace;

pub use error::{Error, Result};
