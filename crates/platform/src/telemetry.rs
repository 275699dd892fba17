//! Logging (JSON lines by default) and the Prometheus recorder.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

use crate::config::{LogConfig, TracingConfig};
use crate::trace::Tracing;

static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the process-wide metrics recorder once; later calls (several apps in one test
/// process) share it.
pub fn install_metrics() {
    PROMETHEUS.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .ok()?;
        builder.install_recorder().ok()
    });
}

pub fn render_metrics() -> String {
    PROMETHEUS
        .get()
        .and_then(|handle| handle.as_ref())
        .map(PrometheusHandle::render)
        .unwrap_or_default()
}

/// Housekeeping the recorder needs when no exporter thread runs it.
pub fn metrics_upkeep() {
    if let Some(Some(handle)) = PROMETHEUS.get() {
        handle.run_upkeep();
    }
}

/// Installs the global subscriber: log lines (JSON or text) and the spans of
/// [`crate::trace`]. Returns `None` if one was already installed (several apps in one test
/// process share the first).
pub fn init_logging(log: &LogConfig, tracing_config: &TracingConfig) -> Option<Tracing> {
    // Spans of Pasar at INFO whatever the level asked for: they carry the trace id to the log
    // lines within them, and to the exporter.
    let directives = format!("{},{}=info", log.level, crate::trace::TARGET);
    let filter = EnvFilter::try_new(&directives)
        .unwrap_or_else(|_| EnvFilter::new(format!("info,{}=info", crate::trace::TARGET)));
    let (tracing, otel) = crate::trace::layer(tracing_config);
    // The current span's fields (its trace id) on every line; not the whole stack.
    let (json, text) = if log.format == "text" {
        (None, Some(fmt::layer().with_writer(std::io::stderr)))
    } else {
        let json = fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr);
        (Some(json), None)
    };
    tracing_subscriber::registry()
        .with(filter)
        // Only Pasar's own spans: no dependency's spans, no log events as span events.
        .with(otel.with_filter(Targets::new().with_target(crate::trace::TARGET, Level::INFO)))
        .with(json)
        .with(text)
        .try_init()
        .is_ok()
        .then_some(tracing)
}
