//! Chaos experiments for the shop.
//!
//! - [`experiment`]: the Chaos Toolkit's experiment format, read as it is
//!   (`title`, `configuration`, `secrets`, `steady-state-hypothesis`,
//!   `method`, `rollbacks`, the `http` and `process` providers, ...) plus this
//!   runner's providers, `safeguards` and a `blast-radius`; loading with
//!   `${name}` substitution and validation that names the bad field.
//! - [`runner`]: runs an experiment and returns its [`journal::Journal`]:
//!   hypothesis, method, hypothesis again, rollbacks always, safeguards polled
//!   throughout.
//! - [`probes`] and [`actions`]: what an activity can do (HTTP, Prometheus,
//!   SLO burn rate; shop faults, proxy toxics, process signals, Kubernetes, CPU
//!   stress).
//! - [`gameday`]: one command from load to fault to alert to recovery, with
//!   a report: Prometheus, the shop, loadgen and a scenario of experiments.
//! - [`proxy`]: a TCP fault proxy whose HTTP API is Toxiproxy's, and
//!   [`toxiproxy`], the client the runner drives it (or a real Toxiproxy) with.
//!
//! ```no_run
//! # async fn demo() -> Result<(), chaos::Error> {
//! let experiment = chaos::experiment::Experiment::load(
//!     "chaos/experiments/error-storm.yaml",
//!     &chaos::experiment::Vars::from_env(),
//! )?;
//! let journal = chaos::runner::run(&experiment, chaos::runner::RunOptions::default()).await;
//! println!("{}", journal.status);
//! # Ok(()) }
//! ```

pub mod actions;
mod error;
pub mod experiment;
pub mod gameday;
pub mod journal;
pub mod probes;
pub mod proxy;
pub mod runner;
pub mod toxiproxy;
mod undo;

pub use error::{Error, Problem, Result};
