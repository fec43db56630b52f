//! The vocabulary the shop shares with its SRE tooling.
//!
//! `alerts`, `dashboards`, `loadgen` and `chaos` import these names instead of
//! retyping strings, so a renamed metric or fault field breaks the build rather
//! than a dashboard. The `shop` crate re-exports this crate as `shop::contract`.

pub mod faults;
pub mod metrics;
