//! Request metrics and the access log, as one middleware on the public app.

use std::{cell::RefCell, sync::Arc, time::Instant};

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::Method,
    middleware::Next,
    web, Error,
};
use foldhash::{HashMap, HashSet};
use prometheus::Registry;

use super::{per_thread::RequestSeries, register};
use crate::{contract::metrics::UNMATCHED_ROUTE, startup::AppState, telemetry};

/// `http_server_request_duration_seconds` and `http_server_active_requests`,
/// counted per worker thread (see [`RequestSeries`]).
#[derive(Clone)]
pub struct HttpMetrics {
    series: RequestSeries,
}

impl HttpMetrics {
    pub(super) fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        Ok(HttpMetrics {
            series: register(registry, RequestSeries::new()?)?,
        })
    }
}

/// The method label: the standard methods as they are, anything else as
/// `_OTHER` (the OpenTelemetry convention), so that junk methods cannot
/// create series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "_OTHER",
    }
}

/// Paths whose route each worker thread remembers, per app; past this many
/// it starts over, so that a scanner's endless paths cannot grow it.
const REMEMBERED_PATHS: usize = 1024;

/// What each worker thread remembers of routes.
#[derive(Default)]
struct Routes {
    /// Route pattern by path, per app (keyed by the address of its route
    /// map). Hashed with foldhash: randomly seeded like the standard
    /// SipHash, since the paths are the clients', and cheaper.
    by_path: HashMap<usize, HashMap<String, Arc<str>>>,
    /// One shared copy of each pattern, so that the request metrics can
    /// find a route's series by pointer.
    patterns: HashSet<Arc<str>>,
}

thread_local! {
    static ROUTES: RefCell<Routes> = RefCell::default();
}

/// The route pattern of a request (`/product/{slug}`), never its raw path.
/// actix finds it by matching the path against every route once more, which
/// cost a twentieth of a cached product page; the answer for a path never
/// changes, so each worker thread remembers it.
fn route_of(req: &ServiceRequest) -> Arc<str> {
    let app = std::ptr::from_ref(req.resource_map()) as usize;
    ROUTES.with(|routes| {
        let Routes { by_path, patterns } = &mut *routes.borrow_mut();
        // Apps come and go only in tests; keep a few.
        if by_path.len() >= 16 && !by_path.contains_key(&app) {
            by_path.clear();
        }
        let paths = by_path.entry(app).or_default();
        if let Some(route) = paths.get(req.path()) {
            return route.clone();
        }
        if paths.len() >= REMEMBERED_PATHS {
            paths.clear();
        }
        let pattern = req.match_pattern();
        let pattern = pattern.as_deref().unwrap_or(UNMATCHED_ROUTE);
        let route = match patterns.get(pattern) {
            Some(route) => route.clone(),
            None => {
                let route: Arc<str> = pattern.into();
                patterns.insert(route.clone());
                route
            }
        };
        paths.insert(req.path().to_owned(), route.clone());
        route
    })
}

/// Records every request by method, route pattern (never the raw path) and
/// status, runs it inside its trace, and writes one access-log line (inside
/// the trace, so it carries the trace id).
pub async fn observe_http(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await;
    };
    let started = Instant::now();
    let method = method_label(req.method());
    let route = route_of(&req);
    let trace = telemetry::request_trace(&req, method, &route);
    telemetry::in_trace(&trace, async {
        let in_flight = state.metrics.http.series.in_flight(method, &route);

        let result = next.call(req).await;

        let status = match &result {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        let elapsed = started.elapsed();
        in_flight.finish(status, elapsed.as_secs_f64());
        telemetry::record_response(&trace, status);
        telemetry::access_log(method, &route, status, elapsed);
        result
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        let junk = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&junk), "_OTHER");
        assert_eq!(method_label(&Method::GET), "GET");
    }
}
