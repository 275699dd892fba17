//! The event bus through the real app: transactional outbox, delivery across restarts, inbox
//! deduplication, retries with backoff, dead letters and their replay.

use std::time::Duration;

use kernel::DomainEvent;
use platform::bus;
use platform::on_db;
use serde_json::json;
use testkit::{eventually, on_both_backends, Backend, Pinged, Probe, ProbeBehaviour, TestApp};

fn probe(behaviour: ProbeBehaviour) -> Probe {
    Probe::new("probe", vec![Pinged::TYPE], behaviour)
}

on_both_backends!(
    rolled_back_events_are_never_delivered,
    delivery_survives_restart_and_is_not_repeated,
    redelivery_has_no_second_effect,
    failing_handler_is_retried_with_backoff_then_parked_and_replayable,
);

async fn rolled_back_events_are_never_delivered(backend: Backend) {
    let probe = probe(ProbeBehaviour::Succeed);
    let app = TestApp::spawn_with(backend, |_| {}, vec![probe.module()]).await;
    let mut tx = app.ctx().db.begin().await.unwrap();
    bus::publish(&mut tx, "test", &Pinged { n: 1 })
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    app.publish_ping(2).await;
    eventually(Duration::from_secs(10), "event 2", || {
        let done = probe.pinged().contains(&2);
        async move { done.then_some(()) }
    })
    .await;
    // Give the dispatcher more passes: event 1 must still never show up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(probe.pinged(), vec![2]);
    app.stop().await;
}

async fn delivery_survives_restart_and_is_not_repeated(backend: Backend) {
    // Events committed while their consumer is not running are delivered when it starts.
    let mut app = TestApp::spawn(backend).await;
    app.publish_ping(1).await;
    app.publish_ping(2).await;
    let probe = probe(ProbeBehaviour::Succeed);
    app.restart_with(vec![identity::module(), probe.module()])
        .await;
    eventually(Duration::from_secs(10), "events 1 and 2", || {
        let done = probe.pinged() == vec![1, 2];
        async move { done.then_some(()) }
    })
    .await;
    app.publish_ping(3).await;
    eventually(Duration::from_secs(10), "event 3", || {
        let done = probe.pinged().contains(&3);
        async move { done.then_some(()) }
    })
    .await;
    // Restarting again resumes from the stored position: nothing is handled twice.
    app.restart().await;
    app.publish_ping(4).await;
    eventually(Duration::from_secs(10), "event 4", || {
        let done = probe.pinged().contains(&4);
        async move { done.then_some(()) }
    })
    .await;
    assert_eq!(probe.pinged(), vec![1, 2, 3, 4]);
    assert_eq!(probe.attempts().len(), 4);
    app.stop().await;
}

async fn redelivery_has_no_second_effect(backend: Backend) {
    let probe = probe(ProbeBehaviour::Succeed);
    let app = TestApp::spawn_with(backend, |_| {}, vec![probe.module()]).await;
    app.publish_ping(1).await;
    eventually(Duration::from_secs(10), "event 1", || {
        let done = probe.pinged() == vec![1];
        async move { done.then_some(()) }
    })
    .await;
    // Forget the consumer's position, as a lost acknowledgement would: the log is replayed,
    // and the inbox keeps the replay from having an effect.
    on_db!(&app.ctx().db, pool => sqlx::query(
        "DELETE FROM platform_consumer_positions WHERE consumer = 'probe'"
    ).execute(pool).await.map(|_| ()))
    .unwrap();
    app.publish_ping(2).await;
    eventually(Duration::from_secs(10), "event 2", || {
        let done = probe.pinged().contains(&2);
        async move { done.then_some(()) }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(probe.pinged(), vec![1, 2]);
    let position_rows: i64 = on_db!(&app.ctx().db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM platform_inbox WHERE consumer = 'probe'"
    ).fetch_one(pool).await)
    .unwrap();
    assert_eq!(position_rows, 2);
    app.stop().await;
}

async fn failing_handler_is_retried_with_backoff_then_parked_and_replayable(backend: Backend) {
    let probe = probe(ProbeBehaviour::AlwaysFail);
    let app = TestApp::spawn_with(
        backend,
        |config| {
            config.bus.max_attempts = 3;
            config.bus.retry_base_ms = 100;
        },
        vec![probe.module()],
    )
    .await;
    let admin = app.admin().await;
    app.publish_ping(7).await;
    // Two other events go through while 7 is failing: one poison event does not block a consumer.
    let dead = app.first_dead_letter(&admin.access_token).await;
    assert_eq!(dead["consumer"], "probe");
    assert_eq!(dead["eventType"], Pinged::TYPE);
    assert_eq!(dead["attempts"], 3);
    assert_eq!(dead["event"]["payload"]["n"], 7);
    assert!(dead["lastError"]
        .as_str()
        .unwrap()
        .contains("probe failure"));
    let attempts: Vec<_> = probe.attempts();
    assert_eq!(attempts.len(), 3, "exactly max_attempts tries");
    assert!(probe.pinged().is_empty());

    // Customers may not see or replay dead letters.
    let customer = app.register("nosy").await;
    let forbidden = app
        .get(
            "/api/v1/admin/events/dead-letters",
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(forbidden.status, 403);

    // Fixed handler + replay: the event is applied once.
    probe.set_behaviour(ProbeBehaviour::Succeed);
    let id = dead["id"].as_str().unwrap();
    let replay = app
        .post(
            &format!("/api/v1/admin/events/dead-letters/{id}/retry"),
            json!({}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(replay.status, 202);
    eventually(Duration::from_secs(10), "replayed event", || {
        let done = probe.pinged() == vec![7];
        async move { done.then_some(()) }
    })
    .await;
    let after = app
        .get(
            "/api/v1/admin/events/dead-letters",
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(after.body["items"].as_array().unwrap().len(), 0);
    let again = app
        .post(
            &format!("/api/v1/admin/events/dead-letters/{id}/retry"),
            json!({}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(again.status, 404);
    app.stop().await;
}

/// PostgreSQL assigns sequence numbers before commit, so a later sequence number can commit
/// first. The consumer must not move past the earlier one and lose it. (SQLite has a single
/// writer, so the situation cannot arise there.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_out_of_order_commits_are_not_skipped() {
    let probe = probe(ProbeBehaviour::Succeed);
    let app = TestApp::spawn_with(Backend::Postgres, |_| {}, vec![probe.module()]).await;
    let mut slow = app.ctx().db.begin().await.unwrap();
    bus::publish(&mut slow, "test", &Pinged { n: 1 })
        .await
        .unwrap();
    app.publish_ping(2).await;
    app.publish_ping(3).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    app.ctx().commit(slow).await.unwrap();
    eventually(Duration::from_secs(10), "all three events", || {
        let done = probe.pinged() == vec![1, 2, 3];
        async move { done.then_some(()) }
    })
    .await;
    app.stop().await;
}
