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
        faults::{ActiveFault, FaultKind, FaultSpec, ANY_ROUTE},
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
    // Requests skip the lock entirely while no fault was ever added.
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
    if spec.route != ANY_ROUTE && !spec.route.starts_with('/') {
        return invalid("route", "must be a route pattern starting with `/`, or `*`");
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
        found
    }

    pub fn clear(&self) {
        self.faults
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Rolls the dice of every active fault on `route`.
    pub fn effect(&self, route: &str) -> Effect {
        let mut effect = Effect::default();
        if !self.armed.load(Ordering::Acquire) {
            return effect;
        }
        let now = Instant::now();
        let faults = self.faults.read().unwrap_or_else(|e| e.into_inner());
        let mut rng = rand::thread_rng();
        for fault in faults.iter().filter(|f| f.expires_at > now) {
            let spec = &fault.spec;
            if spec.route != ANY_ROUTE && spec.route != route {
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

    /// Sets `shop_fault_active{kind, http_route}` to the active faults.
    pub fn export(&self, gauge: &IntGaugeVec) {
        gauge.reset();
        for fault in self.list() {
            gauge
                .with_label_values(&[fault.spec.kind.as_str(), &fault.spec.route])
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
