//! The event bus on NATS JetStream (the machine's server, a namespace per test): the relay
//! publishes committed events, durable consumers deliver them once in effect across restarts,
//! failing handlers are retried and parked, and a delivery that is never acknowledged comes
//! back and is parked.

use std::time::Duration;

use kernel::DomainEvent;
use platform::bus::{self, EventTransport, NatsBus, NatsTransport, Relay};
use platform::on_db;
use testkit::{eventually, on_both_backends, Backend, Pinged, Probe, ProbeBehaviour, TestApp};
use tokio::sync::watch;
use uuid::Uuid;

const NATS: &str = "nats://127.0.0.1:4222";

fn on_nats(config: &mut platform::Config, namespace: &str) {
    testkit::tools::nats();
    config.bus.url = Some(NATS.to_owned());
    config.bus.namespace = namespace.to_owned();
}

fn namespace() -> String {
    format!("t{}", Uuid::new_v4().simple())
}

on_both_backends!(
    events_go_through_nats_once_across_restarts,
    a_failing_handler_on_nats_is_retried_then_parked,
);

async fn events_go_through_nats_once_across_restarts(backend: Backend) {
    let ns = namespace();
    let probe = Probe::new("probe", vec![Pinged::TYPE], ProbeBehaviour::Succeed);
    let mut app = TestApp::spawn_with(backend, |c| on_nats(c, &ns), vec![probe.module()]).await;
    app.publish_ping(1).await;
    app.publish_ping(2).await;
    eventually(Duration::from_secs(10), "events 1 and 2", || {
        let done = probe.pinged() == vec![1, 2];
        async move { done.then_some(()) }
    })
    .await;
    // The stream and the durable consumer survive the process: a restart resumes where the
    // consumer acknowledged, and the relay where it published.
    app.restart().await;
    app.publish_ping(3).await;
    eventually(Duration::from_secs(10), "event 3", || {
        let done = probe.pinged().contains(&3);
        async move { done.then_some(()) }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(probe.pinged(), vec![1, 2, 3]);
    assert_eq!(probe.attempts().len(), 3, "nothing delivered twice");
    let relayed: (i64, i64) = on_db!(&app.ctx().db, pool => sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM platform_outbox WHERE event_type = 'test.pinged'),
                (SELECT COUNT(*) FROM platform_inbox WHERE consumer = 'probe')"
    ).fetch_one(pool).await)
    .unwrap();
    assert_eq!(relayed, (3, 3));
    app.stop().await;
}

async fn a_failing_handler_on_nats_is_retried_then_parked(backend: Backend) {
    let ns = namespace();
    let probe = Probe::new("probe", vec![Pinged::TYPE], ProbeBehaviour::AlwaysFail);
    let app = TestApp::spawn_with(
        backend,
        |c| {
            on_nats(c, &ns);
            c.bus.max_attempts = 3;
            c.bus.retry_base_ms = 100;
        },
        vec![probe.module()],
    )
    .await;
    let admin = app.admin().await;
    app.publish_ping(7).await;
    let dead = app.first_dead_letter(&admin.access_token).await;
    assert_eq!(dead["consumer"], "probe");
    assert_eq!(dead["attempts"], 3);
    assert_eq!(probe.attempts().len(), 3, "exactly max_attempts tries");
    assert!(probe.pinged().is_empty());
    app.stop().await;
}

/// A consumer that takes a delivery and never acknowledges it (its process hangs or dies on
/// it) gets it again after `ack_wait`; past `max_attempts` deliveries it is parked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unacknowledged_delivery_comes_back_then_is_parked() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = testkit::test_config(dir.path());
    on_nats(&mut config, &namespace());
    config.bus.ack_wait_secs = 1;
    config.bus.max_attempts = 2;
    let databases = platform::app::migrate(&config, &[]).await.unwrap();
    let db = databases.main.clone();
    let nats = NatsBus::connect(NATS, &config.bus).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let event = bus::publish(&mut tx, "test", &Pinged { n: 9 })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let relay = Relay::new(db.clone(), nats.clone());
    assert_eq!(relay.pump(100).await.unwrap(), Some(1));
    assert_eq!(relay.pump(100).await.unwrap(), Some(0), "published once");

    let (_stop, shutdown) = watch::channel(false);
    let transport = NatsTransport::start(
        nats,
        db.clone(),
        &["hung".to_owned()],
        bus::BusSignal::default(),
        shutdown,
    );
    let mut deliveries = 0;
    let started = std::time::Instant::now();
    // Taken twice (first delivery and one redelivery), never acknowledged.
    while deliveries < 2 {
        assert!(started.elapsed() < Duration::from_secs(15), "no redelivery");
        let batch = transport.fetch("hung", 10).await.unwrap();
        for delivery in &batch {
            assert_eq!(delivery.envelope.id, event.id);
        }
        deliveries += batch.len();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let parked = eventually(Duration::from_secs(15), "parked", || {
        let db = db.clone();
        async move {
            let row: Option<(String, i32, String)> = on_db!(&db, pool => sqlx::query_as(
                "SELECT consumer, attempts, last_error FROM platform_dead_letters WHERE event_id = $1"
            ).bind(event.id).fetch_optional(pool).await)
            .unwrap();
            row
        }
    })
    .await;
    assert_eq!(parked.0, "hung");
    assert_eq!(parked.1, 3);
    assert!(
        parked.2.contains("without being acknowledged"),
        "{}",
        parked.2
    );
    // Parked means acknowledged to NATS: it does not come back.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(transport.fetch("hung", 10).await.unwrap().is_empty());
    databases.close().await;
}
