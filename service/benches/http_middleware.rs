//! Per-request cost of `ObserveHttp` (metrics, request ids, access log, and
//! a server span when traces are exported):
//! the same trivial handler with and without the middleware, under the
//! telemetry set-ups the shop runs with.
//!
//! `cargo bench -p shop --bench http_middleware`

use actix_web::{
    dev::Service,
    test::{self, TestRequest},
    web, App, HttpResponse,
};
use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry_sdk::{error::OTelSdkResult, trace::SpanData};
use shop::{
    configuration::{LogFormat, Settings},
    metrics::{Metrics, ObserveHttp},
    state::{AppState, Readiness},
    storage::Database,
    telemetry::{self, TraceExport},
};

/// An exporter that drops every batch: the cost measured is the shop's,
/// not the network's.
#[derive(Debug)]
struct Discard;

impl opentelemetry_sdk::trace::SpanExporter for Discard {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        Ok(())
    }
}

fn state() -> web::Data<AppState> {
    let metrics = Metrics::new().unwrap();
    let db =
        Database::connect(&Settings::ephemeral("sqlite::memory:"), metrics.db.clone()).unwrap();
    web::Data::new(AppState {
        db,
        metrics,
        faults: Default::default(),
        readiness: Readiness::default(),
        categories: Vec::new(),
        product_pages: Default::default(),
        admin_token: None,
        login_throttle: Default::default(),
    })
}

async fn product() -> HttpResponse {
    HttpResponse::Ok().body("a product page")
}

fn request(traceparent: bool) -> TestRequest {
    let request = TestRequest::get().uri("/product/chefs-knife");
    if traceparent {
        request.insert_header((
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ))
    } else {
        request
    }
}

fn bench(c: &mut Criterion) {
    let system = actix_web::rt::System::new();
    let state = system.block_on(async { state() });
    let bare = system.block_on(test::init_service(
        App::new()
            .app_data(state.clone())
            .route("/product/{slug}", web::get().to(product)),
    ));
    let observed = system.block_on(test::init_service(
        App::new()
            .app_data(state.clone())
            .route("/product/{slug}", web::get().to(product))
            .wrap(ObserveHttp::new(&state.metrics.http)),
    ));
    // One request, on the current thread (so that a thread-local default
    // subscriber sees it).
    macro_rules! call {
        ($app:expr, $traceparent:expr) => {{
            let response = system
                .block_on($app.call(request($traceparent).to_request()))
                .unwrap();
            assert!(response.status().is_success());
        }};
    }

    let mut group = c.benchmark_group("request");
    group.bench_function("without middleware", |b| b.iter(|| call!(bare, false)));
    group.bench_function("ObserveHttp, no subscriber", |b| {
        b.iter(|| call!(observed, false))
    });
    let logs = telemetry::get_subscriber("info", LogFormat::Json, std::io::sink);
    tracing::subscriber::with_default(logs, || {
        group.bench_function("ObserveHttp, JSON logs (default)", |b| {
            b.iter(|| call!(observed, false))
        });
        group.bench_function("ObserveHttp, JSON logs, traceparent", |b| {
            b.iter(|| call!(observed, true))
        });
    });
    let traces = system.block_on(async { TraceExport::with_exporter(Discard) });
    let exporting = telemetry::get_subscriber_with_traces(
        "info",
        LogFormat::Json,
        std::io::sink,
        Some(&traces),
    );
    tracing::subscriber::with_default(exporting, || {
        group.bench_function("ObserveHttp, JSON logs, OTLP export", |b| {
            b.iter(|| call!(observed, true))
        });
    });
    group.finish();
    traces.shutdown().unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
