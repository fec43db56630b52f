//! Injected faults: the store behind the admin fault API, the checks of a
//! fault spec, and the middleware that applies HTTP faults to matching
//! requests on the public port. Database faults apply where every database
//! operation runs, in `storage`.
//!
//! On SQLite the shop is one process and the store is all there is. On
//! PostgreSQL the faults live in the database and every replica's store
//! mirrors them (see `storage::faults`), so a fault posted to any replica
//! applies on all of them.

mod middleware;
mod store;
mod validate;

pub use middleware::inject_faults;
pub use store::{Effect, FaultStore, Outcome};
pub use validate::{validate, InvalidFault, MAX_DURATION_SECONDS, MAX_LATENCY_MS};
