//! Trace export over OTLP, configured by the standard `OTEL_*` variables.

use std::time::Duration;

use anyhow::Context as _;
use opentelemetry::{trace::TracerProvider as _, Key};
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::{
    trace::{BatchSpanProcessor, SdkTracer, SdkTracerProvider},
    Resource,
};
use tracing::Subscriber;
use tracing_opentelemetry::OpenTelemetryLayer;
use tracing_subscriber::registry::LookupSpan;

/// The service name when neither `OTEL_SERVICE_NAME` nor
/// `OTEL_RESOURCE_ATTRIBUTES` names one.
pub const SERVICE_NAME: &str = "shop";

/// A tracer provider whose spans leave the process in batches, on a thread of
/// their own, so that exporting never blocks a request. Call
/// [`TraceExport::shutdown`] before exiting, or the last batch is lost.
#[derive(Debug, Clone)]
pub struct TraceExport {
    provider: SdkTracerProvider,
}

impl TraceExport {
    /// Export as the standard variables say, or `None` when no endpoint is
    /// set (`OTEL_EXPORTER_OTLP_ENDPOINT` or
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), or `OTEL_SDK_DISABLED=true`, or
    /// `OTEL_TRACES_EXPORTER=none`. The protocol is `http/protobuf` unless
    /// `OTEL_EXPORTER_OTLP_PROTOCOL` says `grpc`; headers, timeout,
    /// compression, sampler, batch sizes and resource attributes come from
    /// their `OTEL_*` variables too.
    ///
    /// Call it inside the Tokio runtime: the gRPC client lives there.
    pub fn from_env() -> anyhow::Result<Option<TraceExport>> {
        let set = |name| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
        let disabled = std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.trim() == "true")
            || std::env::var("OTEL_TRACES_EXPORTER").is_ok_and(|v| v.trim() == "none");
        if disabled
            || !(set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
        {
            return Ok(None);
        }
        let exporter = SpanExporter::builder()
            .build()
            .context("configuring the OTLP trace exporter from OTEL_* variables")?;
        Ok(Some(TraceExport::with_exporter(exporter)))
    }

    /// Export over OTLP/gRPC to `endpoint` (`http://host:4317`), whatever the
    /// environment says about the endpoint. For tests and tools; call it
    /// inside the Tokio runtime.
    pub fn otlp_grpc(endpoint: &str) -> anyhow::Result<TraceExport> {
        let exporter = SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .with_timeout(Duration::from_secs(5))
            .build()
            .with_context(|| format!("configuring the OTLP/gRPC exporter for {endpoint}"))?;
        Ok(TraceExport::with_exporter(exporter))
    }

    /// Export through any exporter, batched.
    pub fn with_exporter(
        exporter: impl opentelemetry_sdk::trace::SpanExporter + 'static,
    ) -> TraceExport {
        let provider = SdkTracerProvider::builder()
            .with_span_processor(BatchSpanProcessor::builder(exporter).build())
            .with_resource(resource())
            .build();
        TraceExport { provider }
    }

    /// Exports every finished span now (tests call this rather than waiting
    /// for the batch delay).
    pub fn force_flush(&self) -> anyhow::Result<()> {
        self.provider
            .force_flush()
            .context("flushing the trace exporter")
    }

    /// Exports what is left and stops the export thread. It blocks: from
    /// async code, call it through `tokio::task::spawn_blocking`.
    pub fn shutdown(&self) -> anyhow::Result<()> {
        self.provider
            .shutdown()
            .context("shutting down the trace exporter")
    }

    /// The layer that turns the shop's tracing spans into OpenTelemetry spans.
    pub(super) fn layer<S>(&self) -> OpenTelemetryLayer<S, SdkTracer>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        tracing_opentelemetry::layer()
            .with_tracer(self.provider.tracer(SERVICE_NAME))
            // Attributes that cost an allocation or a clock read per span and
            // say nothing the span name and attributes do not.
            .with_threads(false)
            .with_location(false)
            .with_level(false)
            .with_target(false)
            .with_tracked_inactivity(false)
    }
}

/// `service.name=shop` and `service.version`, under whatever
/// `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME` say.
fn resource() -> Resource {
    let detected = Resource::builder().build();
    let named = detected
        .get(&Key::new("service.name"))
        .is_some_and(|name| !name.as_str().starts_with("unknown_service"));
    let builder = Resource::builder();
    let builder = if named {
        builder
    } else {
        builder.with_service_name(SERVICE_NAME)
    };
    let has_version = detected.get(&Key::new("service.version")).is_some();
    if has_version {
        builder.build()
    } else {
        builder
            .with_attribute(opentelemetry::KeyValue::new(
                "service.version",
                env!("CARGO_PKG_VERSION"),
            ))
            .build()
    }
}
