//! Graceful shutdown: in-flight requests finish, new connections are refused, committed events
//! are delivered before the process ends.

use std::time::Duration;

use axum::routing::get;
use kernel::DomainEvent;
use platform::bus;
use platform::{Module, ModuleParts};
use serde::{Deserialize, Serialize};
use testkit::{on_both_backends, Backend, Probe, ProbeBehaviour, TestApp};
use utoipa_axum::router::OpenApiRouter;

#[derive(Debug, Serialize, Deserialize)]
struct Flushed {
    n: u32,
}

impl DomainEvent for Flushed {
    const TYPE: &'static str = "test.flushed";
    fn aggregate_id(&self) -> String {
        self.n.to_string()
    }
}

fn slow_route() -> Module {
    Module::new("slowroute", &[], |_| ModuleParts {
        routes: OpenApiRouter::new().route(
            "/api/v1/test/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(800)).await;
                "done"
            }),
        ),
        ..ModuleParts::default()
    })
}

on_both_backends!(shutdown_drains_requests_and_flushes_events);

async fn shutdown_drains_requests_and_flushes_events(backend: Backend) {
    let probe = Probe::new("flushprobe", vec![Flushed::TYPE], ProbeBehaviour::Succeed);
    let app = TestApp::spawn_with(
        backend,
        // A long poll interval: only the shutdown flush can deliver the event in time.
        |c| c.bus.poll_interval_ms = 60_000,
        vec![slow_route(), probe.module()],
    )
    .await;
    // Let the dispatcher finish its first pass and go to sleep on the long poll.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut tx = app.ctx().db.begin().await.unwrap();
    bus::publish(&mut tx, "test", &Flushed { n: 1 })
        .await
        .unwrap();
    // Committed without waking the dispatcher.
    tx.commit().await.unwrap();

    let client = app.client.clone();
    let url = app.url("/api/v1/test/slow");
    let in_flight = tokio::spawn(async move { client.get(url).send().await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let addr = app.base_url.clone();
    app.stop().await;

    let response = in_flight
        .await
        .unwrap()
        .expect("in-flight request completed");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "done");
    let refused = reqwest::Client::new()
        .get(format!("{addr}/health/live"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "new connections are refused after shutdown"
    );
    assert_eq!(
        probe.applied().len(),
        1,
        "committed event flushed on shutdown"
    );
}
