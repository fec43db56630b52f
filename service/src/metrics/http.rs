//! Request metrics and the access log, as one middleware on the public app:
//! [`ObserveHttp`].

use std::{
    cell::RefCell,
    future::{ready, Future, Ready},
    pin::Pin,
    rc::Rc,
    sync::{LazyLock, Mutex},
    task::{ready, Context, Poll},
    time::Instant,
};

use actix_web::{
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    http::Method,
    Error,
};
use foldhash::{HashMap, HashSet};
use pin_project_lite::pin_project;
use prometheus::Registry;

use super::{
    per_thread::{lock, InFlight, RequestSeries, WorkerSeries},
    register,
};
use crate::{
    contract::metrics::UNMATCHED_ROUTE,
    telemetry::{self, RequestTrace},
};

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
    /// The route pattern by path, per app (keyed by the address of its
    /// route map), as each worker thread remembers it. Hashed with foldhash:
    /// randomly seeded like the standard SipHash, since the paths are the
    /// clients', and cheaper.
    static ROUTES: RefCell<HashMap<usize, HashMap<String, &'static str>>> = RefCell::default();
}

/// Every route pattern seen, each kept once for the life of the process:
/// they are the app's own, a few dozen, so a request can carry its pattern
/// as a `&'static str`, with no reference count to update, and the request
/// metrics can find its series by pointer.
static PATTERNS: LazyLock<Mutex<HashSet<&'static str>>> = LazyLock::new(Mutex::default);

fn interned(pattern: &str) -> &'static str {
    let mut patterns = lock(&PATTERNS);
    match patterns.get(pattern) {
        Some(&known) => known,
        None => {
            let pattern: &'static str = Box::leak(pattern.into());
            patterns.insert(pattern);
            pattern
        }
    }
}

/// The route pattern of a request (`/product/{slug}`), never its raw path.
/// actix finds it by matching the path against every route once more, which
/// cost a twentieth of a cached product page; the answer for a path never
/// changes, so each worker thread remembers it.
fn route_of(req: &ServiceRequest) -> &'static str {
    let app = std::ptr::from_ref(req.resource_map()) as usize;
    ROUTES.with(|routes| {
        let by_app = &mut *routes.borrow_mut();
        // Apps come and go only in tests; keep a few.
        if by_app.len() >= 16 && !by_app.contains_key(&app) {
            by_app.clear();
        }
        let paths = by_app.entry(app).or_default();
        if let Some(&route) = paths.get(req.path()) {
            return route;
        }
        if paths.len() >= REMEMBERED_PATHS {
            paths.clear();
        }
        let route = interned(req.match_pattern().as_deref().unwrap_or(UNMATCHED_ROUTE));
        paths.insert(req.path().to_owned(), route);
        route
    })
}

/// The middleware that records every request by method, route pattern
/// (never the raw path) and status, runs it inside its trace, and writes
/// one access-log line (inside the trace, so it carries the trace id).
///
/// Written as a `Transform` rather than with `from_fn`: its future is the
/// inner service's with a few fields beside it, where `from_fn` boxes two
/// futures per request and finds the metrics in the app data each time.
pub struct ObserveHttp {
    series: RequestSeries,
}

impl ObserveHttp {
    pub fn new(metrics: &HttpMetrics) -> Self {
        ObserveHttp {
            series: metrics.series.clone(),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for ObserveHttp
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = ObserveHttpService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ObserveHttpService {
            service,
            // Once per worker, on the worker's thread.
            series: self.series.worker(),
        }))
    }
}

/// [`ObserveHttp`] around one worker's app.
pub struct ObserveHttpService<S> {
    service: S,
    series: Rc<WorkerSeries>,
}

impl<S, B> Service<ServiceRequest> for ObserveHttpService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = Observed<S::Future>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let method = method_label(req.method());
        let route = route_of(&req);
        let trace = telemetry::request_trace(&req, method, route);
        let in_flight = self.series.in_flight(method, route);
        let future = {
            let _entered = trace.enter();
            self.service.call(req)
        };
        Observed {
            future,
            trace,
            in_flight,
            started,
        }
    }
}

pin_project! {
    /// A request's future, observed: polled inside the request's trace, and
    /// recorded and logged when it is done.
    pub struct Observed<F> {
        #[pin]
        future: F,
        trace: RequestTrace,
        in_flight: InFlight,
        started: Instant,
    }
}

impl<F, B> Future for Observed<F>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.trace.enter();
        let result = ready!(this.future.poll(cx));
        let status = match &result {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        let elapsed = this.started.elapsed();
        this.in_flight.finish(status, elapsed.as_secs_f64());
        telemetry::record_response(this.trace, status);
        telemetry::access_log(
            this.in_flight.method(),
            this.in_flight.route(),
            status,
            elapsed,
        );
        Poll::Ready(result)
    }
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
