//! The shop's benchmark suite. `bench/run.sh` builds in release and runs
//! [`suite::run`] through the `bench` binary: wrk against the reference
//! handler and against the shop on each backend, median of several rounds,
//! written as JSON ([`results`]) and Markdown ([`report`]) and judged against the
//! performance targets ([`targets`]).

pub mod checkout;
pub mod machine;
pub mod process;
pub mod report;
pub mod results;
pub mod stats;
pub mod suite;
pub mod targets;
pub mod wrk;
