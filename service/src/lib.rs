//! The shop: server-rendered pages for shoppers, a JSON API for programs, and
//! an admin port with health, metrics and the fault API for SREs.

pub use shop_contract as contract;

pub mod cart_expiry;
pub mod checkout;
pub mod configuration;
pub mod cors;
pub mod domain;
pub mod faults;
pub mod login_throttle;
pub mod metrics;
pub mod product_pages;
pub mod routes;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod templates;
