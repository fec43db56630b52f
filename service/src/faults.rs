//! Injected faults: the store behind the admin fault API, and the middleware
//! that applies them to matching requests on the public port.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        RwLock,
    },
    time::{Duration, Instant},
};

use actix_web::{
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::StatusCode,
    middleware::Next,
    web, Error, HttpResponse,
};
use prometheus::IntGaugeVec;
use rand::Rng;

use crate::{
    contract::{
        faults::{ActiveFault, FaultKind, FaultSpec, FaultTarget, ANY_ROUTE},
        metrics::UNMATCHED_ROUTE,
    },
    startup::AppState,
};

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

/// A fault spec that cannot be applied, naming the field at fault.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{field}: {message}")]
pub struct InvalidFault {
    pub field: &'static str,
    pub message: String,
}

/// Longest a fault may live: a forgotten fault should not outlive a game day.
pub const MAX_DURATION_SECONDS: u64 = 24 * 60 * 60;
/// Longest injected latency.
pub const MAX_LATENCY_MS: u64 = 120_000;

/// Checks the values serde cannot.
pub fn validate(spec: &FaultSpec) -> Result<(), InvalidFault> {
    let invalid = |field, message: &str| {
        Err(InvalidFault {
            field,
            message: message.to_owned(),
        })
    };
    match spec.target {
        FaultTarget::Http if spec.route != ANY_ROUTE && !spec.route.starts_with('/') => {
            return invalid("route", "must be a route pattern starting with `/`, or `*`");
        }
        FaultTarget::Database if !is_operation_pattern(&spec.route) => {
            return invalid(
                "route",
                "must be a database operation name such as `get_product`, or `*`",
            );
        }
        FaultTarget::Database if spec.status.is_some() => {
            return invalid("status", "applies to HTTP faults only");
        }
        _ => {}
    }
    if !(0.0..=1.0).contains(&spec.probability) {
        return invalid("probability", "must be between 0.0 and 1.0");
    }
    if spec.duration_seconds == 0 || spec.duration_seconds > MAX_DURATION_SECONDS {
        return invalid("duration_seconds", "must be between 1 and 86400");
    }
    match spec.kind {
        FaultKind::Latency => match spec.latency_ms {
            None => return invalid("latency_ms", "is required for a latency fault"),
            Some(ms) if ms == 0 || ms > MAX_LATENCY_MS => {
                return invalid("latency_ms", "must be between 1 and 120000")
            }
            Some(_) => {}
        },
        FaultKind::Error => {
            if let Some(status) = spec.status {
                if !(400..=599).contains(&status) {
                    return invalid("status", "must be an HTTP error status, 400 to 599");
                }
            }
        }
        FaultKind::Abort => {}
    }
    Ok(())
}

fn is_operation_pattern(route: &str) -> bool {
    route == ANY_ROUTE
        || (!route.is_empty() && route.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
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
        let expires_at = Instant::now() + Duration::from_secs(spec.duration_seconds);
        let mut faults = self.faults.write().unwrap_or_else(|e| e.into_inner());
        faults.retain(|f| f.expires_at > Instant::now());
        faults.push(Fault {
            id: id.clone(),
            spec,
            expires_at,
        });
        self.armed.store(true, Ordering::Release);
        id
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

/// Applies the active faults to a request.
pub async fn inject_faults(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let effect = match req.app_data::<web::Data<AppState>>() {
        Some(state) => {
            let route = req.match_pattern();
            state
                .faults
                .effect(route.as_deref().unwrap_or(UNMATCHED_ROUTE))
        }
        None => Effect::default(),
    };
    if !effect.delay.is_zero() {
        tokio::time::sleep(effect.delay).await;
    }
    match effect.outcome {
        None => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body),
        Some(Outcome::Status(status)) => Ok(req.into_response(
            HttpResponse::build(status)
                .content_type("text/plain; charset=utf-8")
                .body("Injected fault: this error was requested through the fault API.\n"),
        )),
        // A body that fails at once: the connection is closed without a
        // complete response, as when a process dies mid-request.
        Some(Outcome::Abort) => Ok(req.into_response(
            HttpResponse::InternalServerError().streaming(futures_util::stream::once(async {
                Err::<web::Bytes, _>(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "connection aborted by an injected fault",
                ))
            })),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
