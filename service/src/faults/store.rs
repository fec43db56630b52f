use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        RwLock,
    },
    time::{Duration, Instant},
};

use actix_web::http::StatusCode;
use prometheus::IntGaugeVec;
use rand::Rng;

use crate::contract::faults::{ActiveFault, FaultKind, FaultSpec, FaultTarget, ANY_ROUTE};

struct Fault {
    id: String,
    spec: FaultSpec,
    expires_at: Instant,
}

/// The active faults of one shop.
#[derive(Default)]
pub struct FaultStore {
    faults: RwLock<Vec<Fault>>,
    // Requests (and product reads) skip the lock entirely while no fault is
    // stored; set and cleared under the write lock.
    armed: AtomicBool,
}

/// What the middleware does to one request.
#[derive(Debug, Default, PartialEq)]
pub struct Effect {
    pub delay: Duration,
    pub outcome: Option<Outcome>,
}

#[derive(Debug, PartialEq)]
pub enum Outcome {
    Status(StatusCode),
    Abort,
}

impl FaultStore {
    /// Adds a validated fault and returns its id.
    pub fn add(&self, spec: FaultSpec) -> String {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let lifetime = Duration::from_secs(spec.duration_seconds);
        self.insert(id.clone(), spec, lifetime);
        id
    }

    /// Adds a fault stored elsewhere under its own id, for what is left of
    /// its lifetime.
    pub fn insert(&self, id: String, spec: FaultSpec, lifetime: Duration) {
        let now = Instant::now();
        let mut faults = self.faults.write().unwrap_or_else(|e| e.into_inner());
        faults.retain(|f| f.expires_at > now && f.id != id);
        faults.push(Fault {
            id,
            spec,
            expires_at: now + lifetime,
        });
        self.armed.store(true, Ordering::Release);
    }

    /// Makes the active faults exactly `active` (id, spec, what is left of
    /// its lifetime): the store then mirrors the faults kept elsewhere (in
    /// the database, on PostgreSQL).
    pub fn replace(&self, active: impl IntoIterator<Item = (String, FaultSpec, Duration)>) {
        let now = Instant::now();
        let mut faults = self.faults.write().unwrap_or_else(|e| e.into_inner());
        *faults = active
            .into_iter()
            .map(|(id, spec, lifetime)| Fault {
                id,
                spec,
                expires_at: now + lifetime,
            })
            .collect();
        self.armed.store(!faults.is_empty(), Ordering::Release);
    }

    /// The faults still active.
    pub fn list(&self) -> Vec<ActiveFault> {
        let now = Instant::now();
        let faults = self.faults.read().unwrap_or_else(|e| e.into_inner());
        faults
            .iter()
            .filter(|f| f.expires_at > now)
            .map(|f| ActiveFault {
                id: f.id.clone(),
                spec: f.spec.clone(),
                expires_in_seconds: (f.expires_at - now).as_secs_f64().ceil() as u64,
            })
            .collect()
    }

    /// Clears one fault; false if there was no such active fault.
    pub fn remove(&self, id: &str) -> bool {
        let now = Instant::now();
        let mut faults = self.faults.write().unwrap_or_else(|e| e.into_inner());
        let found = faults.iter().any(|f| f.id == id && f.expires_at > now);
        faults.retain(|f| f.id != id && f.expires_at > now);
        self.armed.store(!faults.is_empty(), Ordering::Release);
        found
    }

    pub fn clear(&self) {
        let mut faults = self.faults.write().unwrap_or_else(|e| e.into_inner());
        faults.clear();
        self.armed.store(false, Ordering::Release);
    }

    /// Rolls the dice of every active HTTP fault on `route`.
    pub fn effect(&self, route: &str) -> Effect {
        self.effect_on(FaultTarget::Http, route)
    }

    /// Rolls the dice of every active database fault on `operation`: a delay,
    /// and whether the operation fails as if the database were unreachable.
    pub fn database_effect(&self, operation: &str) -> (Duration, bool) {
        let effect = self.effect_on(FaultTarget::Database, operation);
        (effect.delay, effect.outcome.is_some())
    }

    /// Whether a database fault that fails operations (`error` or `abort`)
    /// is active: an injected outage, whatever its probability.
    pub fn database_failing(&self) -> bool {
        if !self.armed.load(Ordering::Acquire) {
            return false;
        }
        let now = Instant::now();
        let faults = self.faults.read().unwrap_or_else(|e| e.into_inner());
        faults.iter().any(|f| {
            f.expires_at > now
                && f.spec.target == FaultTarget::Database
                && f.spec.kind != FaultKind::Latency
        })
    }

    fn effect_on(&self, target: FaultTarget, route: &str) -> Effect {
        let mut effect = Effect::default();
        if !self.armed.load(Ordering::Acquire) {
            return effect;
        }
        let now = Instant::now();
        let faults = self.faults.read().unwrap_or_else(|e| e.into_inner());
        let mut rng = rand::thread_rng();
        for fault in faults.iter().filter(|f| f.expires_at > now) {
            let spec = &fault.spec;
            if spec.target != target || (spec.route != ANY_ROUTE && spec.route != route) {
                continue;
            }
            if !rng.gen_bool(spec.probability) {
                continue;
            }
            match spec.kind {
                FaultKind::Latency => {
                    effect.delay += Duration::from_millis(spec.latency_ms.unwrap_or_default())
                }
                FaultKind::Error if effect.outcome.is_none() => {
                    let status = spec.status.unwrap_or(500);
                    effect.outcome = Some(Outcome::Status(
                        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    ));
                }
                FaultKind::Abort if effect.outcome.is_none() => {
                    effect.outcome = Some(Outcome::Abort)
                }
                _ => {}
            }
        }
        effect
    }

    /// Sets `shop_fault_active{kind, http_route, db_operation_name}` to the
    /// active faults: an HTTP fault's route in `http_route`, a database
    /// fault's operation in `db_operation_name`, the other label empty.
    pub fn export(&self, gauge: &IntGaugeVec) {
        gauge.reset();
        for fault in self.list() {
            let spec = &fault.spec;
            let (route, operation) = match spec.target {
                FaultTarget::Http => (spec.route.as_str(), ""),
                FaultTarget::Database => ("", spec.route.as_str()),
            };
            gauge
                .with_label_values(&[spec.kind.as_str(), route, operation])
                .inc();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::validate;

    fn spec(kind: FaultKind, route: &str) -> FaultSpec {
        FaultSpec {
            kind,
            target: FaultTarget::Http,
            route: route.into(),
            probability: 1.0,
            latency_ms: Some(50),
            status: Some(503),
            duration_seconds: 60,
        }
    }

    #[test]
    fn a_fault_applies_only_to_its_route() {
        let store = FaultStore::default();
        store.add(spec(FaultKind::Error, "/cart"));
        assert_eq!(
            store.effect("/cart").outcome,
            Some(Outcome::Status(StatusCode::SERVICE_UNAVAILABLE))
        );
        assert_eq!(store.effect("/").outcome, None);
    }

    #[test]
    fn latency_faults_add_up_and_star_matches_every_route() {
        let store = FaultStore::default();
        store.add(spec(FaultKind::Latency, "*"));
        store.add(spec(FaultKind::Latency, "/"));
        assert_eq!(store.effect("/").delay, Duration::from_millis(100));
        assert_eq!(store.effect("/cart").delay, Duration::from_millis(50));
    }

    #[test]
    fn database_faults_touch_operations_and_never_requests() {
        let store = FaultStore::default();
        store.add(FaultSpec {
            target: FaultTarget::Database,
            status: None,
            ..spec(FaultKind::Latency, "get_product")
        });
        store.add(FaultSpec {
            target: FaultTarget::Database,
            status: None,
            ..spec(FaultKind::Error, "*")
        });
        assert_eq!(
            store.database_effect("get_product"),
            (Duration::from_millis(50), true)
        );
        assert_eq!(store.database_effect("ping"), (Duration::ZERO, true));
        assert_eq!(store.effect("/"), Effect::default());
    }

    #[test]
    fn a_database_fault_names_an_operation_and_no_status() {
        let on_a_path = FaultSpec {
            target: FaultTarget::Database,
            status: None,
            ..spec(FaultKind::Error, "/cart")
        };
        assert_eq!(validate(&on_a_path).unwrap_err().field, "route");
        let with_status = FaultSpec {
            target: FaultTarget::Database,
            ..spec(FaultKind::Error, "*")
        };
        assert_eq!(validate(&with_status).unwrap_err().field, "status");
    }

    #[test]
    fn probability_zero_never_fires() {
        let store = FaultStore::default();
        store.add(FaultSpec {
            probability: 0.0,
            ..spec(FaultKind::Abort, "*")
        });
        assert!((0..1000).all(|_| store.effect("/").outcome.is_none()));
    }

    #[test]
    fn removing_a_fault_reports_whether_it_existed() {
        let store = FaultStore::default();
        let id = store.add(spec(FaultKind::Abort, "*"));
        assert!(!store.remove("no-such-id"));
        assert!(store.remove(&id));
        assert!(!store.remove(&id));
        assert!(store.list().is_empty());
    }

    #[test]
    fn validation_names_the_bad_field() {
        let bad = FaultSpec {
            probability: 1.5,
            ..spec(FaultKind::Error, "*")
        };
        assert_eq!(validate(&bad).unwrap_err().field, "probability");
        let no_latency = FaultSpec {
            latency_ms: None,
            ..spec(FaultKind::Latency, "*")
        };
        assert_eq!(validate(&no_latency).unwrap_err().field, "latency_ms");
        let bad_route = spec(FaultKind::Error, "cart");
        assert_eq!(validate(&bad_route).unwrap_err().field, "route");
    }
}
