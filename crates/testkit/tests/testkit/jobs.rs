//! Persisted jobs through the real app: delayed, recurring, due while down, retried.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use kernel::Timestamp;
use platform::bus::BoxError;
use platform::jobs::{self, JobHandler, JobRun, JobSpec};
use platform::on_db;
use platform::{Module, ModuleParts};
use serde_json::json;
use testkit::{eventually, on_both_backends, Backend, TestApp};

#[derive(Clone, Default)]
struct Recorder {
    runs: Arc<Mutex<Vec<JobRun>>>,
    failures_left: Arc<Mutex<u32>>,
}

impl Recorder {
    fn runs_of(&self, name: &str) -> Vec<JobRun> {
        self.runs
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.name == name)
            .cloned()
            .collect()
    }
}

#[async_trait]
impl JobHandler for Recorder {
    async fn run(&self, job: &JobRun) -> Result<(), BoxError> {
        self.runs.lock().unwrap().push(job.clone());
        if job.name == "jobtest.flaky" {
            let mut left = self.failures_left.lock().unwrap();
            if *left > 0 {
                *left -= 1;
                return Err("flaky failure".into());
            }
        }
        Ok(())
    }
}

fn module(recorder: &Recorder, every_second: bool) -> Module {
    let recorder = recorder.clone();
    Module::new("jobtest", &[], move |_| {
        let handler: Arc<dyn JobHandler> = Arc::new(recorder.clone());
        let mut specs = vec![
            JobSpec {
                name: "jobtest.once",
                schedule: None,
                max_attempts: 3,
                handler: handler.clone(),
            },
            JobSpec {
                name: "jobtest.flaky",
                schedule: None,
                max_attempts: 3,
                handler: handler.clone(),
            },
        ];
        if every_second {
            specs.push(JobSpec {
                name: "jobtest.tick",
                schedule: Some("* * * * * *".into()),
                max_attempts: 1,
                handler,
            });
        }
        ModuleParts {
            jobs: specs,
            ..ModuleParts::default()
        }
    })
}

async fn enqueue(app: &TestApp, name: &str, delay_ms: i64) {
    let mut tx = app.ctx().db.begin().await.unwrap();
    jobs::enqueue(
        &mut tx,
        name,
        &json!({"k": "v"}),
        Timestamp::now().plus_millis(delay_ms),
        3,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

on_both_backends!(
    delayed_job_runs_once_when_due,
    job_due_while_down_runs_after_start,
    recurring_job_runs_on_schedule,
    failing_job_is_retried_then_marked_failed,
);

async fn delayed_job_runs_once_when_due(backend: Backend) {
    let recorder = Recorder::default();
    let app = TestApp::spawn_with(backend, |_| {}, vec![module(&recorder, false)]).await;
    let enqueued_at = Timestamp::now();
    enqueue(&app, "jobtest.once", 400).await;
    let run = eventually(Duration::from_secs(10), "the delayed job", || {
        let runs = recorder.runs_of("jobtest.once");
        async move { runs.into_iter().next() }
    })
    .await;
    assert!(
        Timestamp::now().millis() - enqueued_at.millis() >= 400,
        "ran before it was due"
    );
    assert_eq!(run.payload["k"], "v");
    assert_eq!(run.attempt, 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(recorder.runs_of("jobtest.once").len(), 1);
    app.stop().await;
}

async fn job_due_while_down_runs_after_start(backend: Backend) {
    let recorder = Recorder::default();
    let mut app = TestApp::spawn(backend).await;
    // Enqueued by a process that does not run it, then that process stops.
    enqueue(&app, "jobtest.once", 100).await;
    let modules = vec![identity::module(), module(&recorder, false)];
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(recorder.runs_of("jobtest.once").is_empty());
    app.restart_with(modules).await;
    eventually(Duration::from_secs(10), "the overdue job", || {
        let ran = !recorder.runs_of("jobtest.once").is_empty();
        async move { ran.then_some(()) }
    })
    .await;
    app.stop().await;
}

async fn recurring_job_runs_on_schedule(backend: Backend) {
    let recorder = Recorder::default();
    let mut app = TestApp::spawn_with(backend, |_| {}, vec![module(&recorder, true)]).await;
    eventually(Duration::from_secs(10), "two ticks", || {
        let n = recorder.runs_of("jobtest.tick").len();
        async move { (n >= 2).then_some(()) }
    })
    .await;
    let ticks = recorder.runs_of("jobtest.tick");
    assert!(ticks[0].payload["scheduledFor"].is_string());
    // Down across several due times: one catch-up run after start, not one per missed tick.
    app.restart_with(vec![identity::module()]).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let before = recorder.runs_of("jobtest.tick").len();
    app.restart_with(vec![identity::module(), module(&recorder, true)])
        .await;
    eventually(Duration::from_secs(5), "catch-up tick", || {
        let n = recorder.runs_of("jobtest.tick").len();
        async move { (n > before).then_some(()) }
    })
    .await;
    let pending: i64 = on_db!(&app.ctx().db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM platform_jobs WHERE name = 'jobtest.tick'"
    ).fetch_one(pool).await)
    .unwrap();
    assert!(pending <= 1, "missed ticks piled up: {pending}");
    app.stop().await;
}

async fn failing_job_is_retried_then_marked_failed(backend: Backend) {
    let recorder = Recorder::default();
    *recorder.failures_left.lock().unwrap() = 1;
    let app = TestApp::spawn_with(backend, |_| {}, vec![module(&recorder, false)]).await;
    enqueue(&app, "jobtest.flaky", 0).await;
    eventually(Duration::from_secs(10), "retry success", || {
        let runs = recorder.runs_of("jobtest.flaky");
        async move { (runs.len() == 2).then_some(()) }
    })
    .await;
    let runs = recorder.runs_of("jobtest.flaky");
    assert_eq!(runs[0].attempt, 1);
    assert_eq!(runs[1].attempt, 2);
    assert_eq!(runs[0].id, runs[1].id);

    *recorder.failures_left.lock().unwrap() = 100;
    enqueue(&app, "jobtest.flaky", 0).await;
    let failed = eventually(Duration::from_secs(10), "permanent failure", || {
        let db = app.ctx().db.clone();
        async move {
            let row: Option<(i32, String)> = on_db!(&db, pool => sqlx::query_as(
                "SELECT attempts, last_error FROM platform_jobs WHERE status = 'FAILED'"
            ).fetch_optional(pool).await)
            .unwrap();
            row
        }
    })
    .await;
    assert_eq!(failed.0, 3);
    assert!(failed.1.contains("flaky failure"));
    assert_eq!(recorder.runs_of("jobtest.flaky").len(), 5);
    app.stop().await;
}
