//! Logging (JSON lines by default) and the Prometheus recorder.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

use crate::config::LogConfig;

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

/// Installs the global tracing subscriber. Returns false if one was already installed.
pub fn init_logging(config: &LogConfig) -> bool {
    let filter = EnvFilter::try_new(&config.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.format == "text" {
        builder.try_init().is_ok()
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init()
            .is_ok()
    }
}
