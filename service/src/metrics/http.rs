//! Request metrics and the access log, as one middleware on the public app.

use std::{cell::RefCell, sync::Arc, time::Instant};

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::Method,
    middleware::Next,
    web, Error,
};
use foldhash::HashMap;
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

thread_local! {
    /// Route pattern by path, per app (keyed by the address of its route map).
    /// Hashed with foldhash: randomly seeded like the standard SipHash, since
    /// the paths are the clients', and cheaper.
    static ROUTES: RefCell<HashMap<usize, HashMap<String, Arc<str>>>> = RefCell::default();
}

/// The route pattern of a request (`/product/{slug}`), never its raw path.
/// actix finds it by matching the path against every route once more, which
/// cost a twentieth of a cached product page; the answer for a path never
/// changes, so each worker thread remembers it.
fn route_of(req: &ServiceRequest) -> Arc<str> {
    let app = std::ptr::from_ref(req.resource_map()) as usize;
    ROUTES.with(|routes| {
        let mut routes = routes.borrow_mut();
        // Apps come and go only in tests; keep a few.
        if routes.len() >= 16 && !routes.contains_key(&app) {
            routes.clear();
        }
        let paths = routes.entry(app).or_default();
        if let Some(route) = paths.get(req.path()) {
            return route.clone();
        }
        if paths.len() >= REMEMBERED_PATHS {
            paths.clear();
        }
        let route: Arc<str> = req
            .match_pattern()
            .map_or_else(|| UNMATCHED_ROUTE.into(), Into::into);
        paths.insert(req.path().to_owned(), route.clone());
        route
    })
}

/// Records every request by method, route pattern (never the raw path) and
/// status, runs it inside its server span, and writes one access-log line
/// (inside the span, so it carries the trace id).
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
    let span = telemetry::request_span(&req, method, &route);
    telemetry::in_span(&span, async {
        let series = &state.metrics.http.series;
        let _in_flight = series.in_flight(method, &route);

        let result = next.call(req).await;

        let status = match &result {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        let elapsed = started.elapsed();
        series.observe(method, &route, status, elapsed.as_secs_f64());
        telemetry::record_response(&span, status);
        tracing::info!(
            target: "shop::access",
            method,
            route = &*route,
            status = status.as_u16(),
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        );
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
