//! Distributed tracing. Every request, event delivery and job runs in a span whose W3C trace
//! context crosses processes: the `traceparent` header on HTTP (gateway, service clients) and
//! the event envelope on the bus (outbox row, NATS message, retries). Spans are exported over
//! OTLP/HTTP when `tracing.otlp_endpoint` is set; without it ids are still made and carried, so
//! the log lines of one checkout share a trace id across the processes of a split layout.

use axum::http::{HeaderMap, Method};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::registry::LookupSpan;

use crate::config::TracingConfig;

/// The target of Pasar's spans. Log filters enable it at INFO whatever the log level, so a
/// process logging warnings only still has spans (and trace ids on those warnings).
pub const TARGET: &str = "pasar::trace";

/// Owns the exporter; `shutdown` flushes spans not yet sent.
pub struct Tracing {
    provider: SdkTracerProvider,
}

impl Tracing {
    pub fn shutdown(&self) {
        if let Err(err) = self.provider.shutdown() {
            tracing::warn!(error = %err, "flushing traces failed");
        }
    }
}

/// The provider and the `tracing` layer feeding it. `OTEL_BSP_*` variables tune the batch
/// exporter (e.g. `OTEL_BSP_SCHEDULE_DELAY` in milliseconds).
pub fn layer<S>(
    config: &TracingConfig,
) -> (
    Tracing,
    tracing_opentelemetry::OpenTelemetryLayer<S, SdkTracer>,
)
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    let resource = Resource::builder()
        .with_service_name(config.service_name.clone())
        .build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    let exporter = config.otlp_endpoint.as_deref().and_then(|endpoint| {
        use opentelemetry_otlp::WithExportConfig;
        let endpoint = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
        match opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(endpoint)
            .build()
        {
            Ok(exporter) => Some(exporter),
            Err(err) => {
                eprintln!("tracing: no OTLP export ({err})");
                None
            }
        }
    });
    builder = match exporter {
        Some(exporter) => builder
            .with_batch_exporter(exporter)
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                config.sample_ratio.clamp(0.0, 1.0),
            )))),
        // Ids are still made and propagated, and a caller's decision to record is passed on
        // to the processes after this one; nothing of this process is exported.
        None => builder.with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOff))),
    };
    let provider = builder.build();
    let tracer = provider.tracer("pasar");
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_tracked_inactivity(false)
        .with_threads(false)
        .with_location(false);
    (Tracing { provider }, layer)
}

/// A span continuing the trace of `traceparent` (when valid), its trace id recorded in its
/// `trace_id` field so every log line inside it carries it.
pub fn continue_trace(span: Span, traceparent: Option<&str>) -> Span {
    // Version 00 is 55 characters; anything much longer is not worth parsing on every request.
    if let Some(traceparent) = traceparent.filter(|value| value.len() <= MAX_TRACEPARENT) {
        let mut carrier = HeaderMap::new();
        if let Ok(value) = traceparent.parse() {
            carrier.insert("traceparent", value);
        }
        let parent = TraceContextPropagator::new().extract(&HeaderExtractor(&carrier));
        if parent.span().span_context().is_valid() {
            let _ = span.set_parent(parent);
        }
    }
    record_trace_id(&span);
    span
}

const MAX_TRACEPARENT: usize = 128;

/// As [`continue_trace`], with the parent taken from request headers.
pub fn continue_from_headers(span: Span, headers: &HeaderMap) -> Span {
    let traceparent = headers.get("traceparent").and_then(|v| v.to_str().ok());
    continue_trace(span, traceparent)
}

fn record_trace_id(span: &Span) {
    let context = span.context();
    let span_context = context.span().span_context().clone();
    if span_context.is_valid() {
        span.record("trace_id", tracing::field::display(span_context.trace_id()));
    }
}

/// Names a request's span and sets its route and status once routing is done, on the exported
/// span only: as `tracing` fields they would be formatted into every log line's span data
/// (re-serialised per field) for nothing, on every request.
pub fn finish_request(span: &Span, method: &Method, route: &str, status: u16) {
    let context = span.context();
    let otel_span = context.span();
    if !otel_span.is_recording() {
        return;
    }
    // The context exists by now, so an `otel.name` field would no longer apply.
    otel_span.update_name(format!("{method} {route}"));
    otel_span.set_attribute(KeyValue::new("http.request.method", method.to_string()));
    otel_span.set_attribute(KeyValue::new("http.route", route.to_owned()));
    otel_span.set_attribute(KeyValue::new(
        "http.response.status_code",
        i64::from(status),
    ));
}

/// The current span's context as a `traceparent` value, for an event or a message.
pub fn current_traceparent() -> Option<String> {
    let mut carrier = HeaderMap::new();
    inject(&mut carrier);
    carrier
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Writes the current span's context into outgoing request headers (replacing any the client
/// sent: the callee's parent is this process's span).
pub fn inject(headers: &mut HeaderMap) {
    headers.remove("traceparent");
    headers.remove("tracestate");
    let context = Span::current().context();
    if context.span().span_context().is_valid() {
        TraceContextPropagator::new().inject_context(&context, &mut HeaderInjector(headers));
    }
}
