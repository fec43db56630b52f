//! What every worker of both listeners shares: the database, the metrics,
//! the fault store, readiness and the caches of rendered pages.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use crate::{
    faults::FaultStore,
    login_throttle::LoginThrottle,
    metrics::Metrics,
    product_pages::ProductPages,
    storage::{Category, Database},
};

/// State shared by every worker of both listeners.
pub struct AppState {
    pub db: Database,
    pub metrics: Metrics,
    pub faults: Arc<FaultStore>,
    pub readiness: Readiness,
    /// The catalogue's categories, loaded at start: they change only with a
    /// new seed, and every page shows them.
    pub categories: Vec<Category>,
    /// Product pages rendered for anonymous shoppers with empty carts.
    pub product_pages: ProductPages,
    pub admin_token: Option<String>,
    /// Recent failed logins, by account and by client.
    pub login_throttle: LoginThrottle,
}

/// Whether the shop is draining (shutting down).
#[derive(Default)]
pub struct Readiness {
    draining: AtomicBool,
}

impl Readiness {
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    pub(crate) fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }
}
