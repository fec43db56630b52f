//! Integration tests of the alerts crate, in one binary.
//!
//! `UPDATE_GOLDEN=1 cargo test -p alerts` rewrites the golden files under
//! `tests/golden/` instead of comparing with them.

mod alertmanager;
mod canary;
mod cli;
mod golden;
mod helpers;
mod live_shop;
mod promtool;
mod runbooks;
mod spec;
