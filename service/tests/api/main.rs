//! The shop's integration tests: each test spawns a shop on a fresh database
//! and drives it over HTTP. Tests that touch storage run on both backends.

mod helpers;

mod accounts;
mod admin;
mod bad_input;
mod browser;
mod cart;
mod cart_expiry;
mod catalogue;
mod checkout;
mod cors;
mod database_restore;
mod login_throttle;
mod outage;
mod phone_layout;
mod postgres_tls;
mod product_cache;
mod security;
mod shutdown;
mod telemetry;
