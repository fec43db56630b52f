//! The shop: server-rendered pages for shoppers, a JSON API for programs, and
//! an admin port with health, metrics and the fault API for SREs.
//!
//! From the top down:
//! - [`startup`]: builds the application (both listeners) and runs it until
//!   SIGTERM, draining; [`configuration`]: the settings it is built from.
//! - [`routes`]: pages, `/api/v1` and the admin port, over [`state`] (what
//!   every worker shares) and [`product_pages`] (rendered pages kept).
//! - [`checkout`]: the rules of placing an order, for the page and the API.
//! - [`faults`]: the injected faults and the middleware that applies them;
//!   [`cors`] and [`login_throttle`]: what guards the edge.
//! - [`domain`]: validated input; [`storage`]: every query, on PostgreSQL or
//!   SQLite, and the faults and announcements shared by the replicas;
//!   [`cart_expiry`]: the sweep of idle carts.
//! - [`telemetry`] and [`metrics`]: logs, traces and the metric contract's
//!   series ([`contract`]); [`templates`]: the pages' minijinja templates.

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
