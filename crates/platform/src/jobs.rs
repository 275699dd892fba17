//! Persisted jobs: delayed jobs enqueued in the caller's transaction and recurring jobs on a
//! cron schedule. A runner claims due jobs with a lease, so a job is run at least once even if a
//! process dies mid-run; handlers are idempotent. A job that came due while no process was up
//! runs right after start.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kernel::Timestamp;
use sqlx::types::Json;
use tokio::sync::watch;
use tracing::Instrument;
use uuid::Uuid;

use crate::bus::BoxError;
use crate::config::JobsConfig;
use crate::db::{Db, Dialect, Tx};
use crate::{on_db, on_tx, on_write, trace};

#[async_trait]
pub trait JobHandler: Send + Sync {
    async fn run(&self, job: &JobRun) -> Result<(), BoxError>;
}

#[derive(Debug, Clone)]
pub struct JobRun {
    pub id: Uuid,
    pub name: String,
    pub payload: serde_json::Value,
    /// 1 on the first run.
    pub attempt: i32,
}

/// A job kind a module can run. With `schedule` (a cron expression with seconds, e.g.
/// `0 0 * * * *` for hourly) it also recurs.
#[derive(Clone)]
pub struct JobSpec {
    pub name: &'static str,
    pub schedule: Option<String>,
    pub max_attempts: i32,
    pub handler: Arc<dyn JobHandler>,
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("job store: {0}")]
    Database(#[from] sqlx::Error),
    #[error("invalid cron expression for job {name}: {message}")]
    Schedule { name: String, message: String },
}

/// Enqueues a job to run at `run_at`, in the caller's transaction.
pub async fn enqueue(
    tx: &mut Tx,
    name: &str,
    payload: &serde_json::Value,
    run_at: Timestamp,
    max_attempts: i32,
) -> Result<Uuid, sqlx::Error> {
    let id = kernel::new_id();
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO platform_jobs (id, name, payload, run_at, max_attempts, created_at) VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(id)
    .bind(name)
    .bind(Json(payload))
    .bind(run_at.millis())
    .bind(max_attempts)
    .bind(Timestamp::now().millis())
    .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(id)
}

fn next_after(schedule: &cron::Schedule, after: Timestamp) -> Option<Timestamp> {
    schedule
        .after(&after.to_datetime())
        .next()
        .map(Timestamp::from)
}

pub struct JobRunner {
    db: Db,
    config: JobsConfig,
    specs: HashMap<&'static str, JobSpec>,
    schedules: Vec<(&'static str, cron::Schedule)>,
}

#[derive(sqlx::FromRow)]
struct ClaimedJob {
    id: Uuid,
    name: String,
    payload: Json<serde_json::Value>,
    attempts: i32,
    max_attempts: i32,
}

impl JobRunner {
    pub fn new(db: Db, config: JobsConfig, specs: Vec<JobSpec>) -> Result<Self, JobError> {
        let mut schedules = Vec::new();
        for spec in &specs {
            if let Some(expression) = spec.schedule.as_deref() {
                let schedule =
                    cron::Schedule::from_str(expression).map_err(|err| JobError::Schedule {
                        name: spec.name.to_owned(),
                        message: err.to_string(),
                    })?;
                schedules.push((spec.name, schedule));
            }
        }
        Ok(Self {
            db,
            config,
            specs: specs.into_iter().map(|s| (s.name, s)).collect(),
            schedules,
        })
    }

    /// Records the recurring schedules. An existing schedule keeps its next run time (so a run
    /// missed while down is still due) unless its expression changed.
    pub async fn register_schedules(&self) -> Result<(), JobError> {
        let now = Timestamp::now();
        for (name, schedule) in &self.schedules {
            let expression = self.specs[name].schedule.as_deref().unwrap_or_default();
            let next = next_after(schedule, now).unwrap_or(now).millis();
            on_db!(&self.db, pool => sqlx::query(
                "INSERT INTO platform_schedules (name, cron, next_run_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET cron = excluded.cron, next_run_at = excluded.next_run_at
                 WHERE platform_schedules.cron <> excluded.cron"
            ).bind(name).bind(expression).bind(next).execute(pool).await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.config.poll_interval_ms.max(10));
        loop {
            if let Err(err) = self.tick().await {
                tracing::warn!(error = %err, "job runner pass failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                break;
            }
        }
    }

    /// One pass: enqueue due recurring runs, then run due jobs. Public for tests and tools.
    pub async fn tick(&self) -> Result<usize, JobError> {
        self.enqueue_due_schedules().await?;
        let mut ran = 0;
        loop {
            let claimed = self.claim().await?;
            if claimed.is_empty() {
                return Ok(ran);
            }
            for job in claimed {
                self.execute(job).await?;
                ran += 1;
            }
        }
    }

    async fn enqueue_due_schedules(&self) -> Result<(), JobError> {
        if self.schedules.is_empty() {
            return Ok(());
        }
        let now = Timestamp::now();
        // A plain read decides; a write transaction is opened only for what is due (on SQLite
        // every transaction here takes the database's write lock).
        let due: Vec<(String, i64)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT name, next_run_at FROM platform_schedules WHERE next_run_at <= $1"
        ).bind(now.millis()).fetch_all(pool).await)?;
        for (due_name, due_at) in due {
            let Some((name, schedule)) = self.schedules.iter().find(|(n, _)| *n == due_name) else {
                continue;
            };
            let mut tx = self.db.begin().await?;
            let next = next_after(schedule, now).unwrap_or(now.plus_seconds(3600));
            // Conditional on the value read: of several runners only one advances the schedule.
            let claimed = on_tx!(&mut tx, conn => sqlx::query(
                "UPDATE platform_schedules SET next_run_at = $1 WHERE name = $2 AND next_run_at = $3"
            ).bind(next.millis()).bind(name).bind(due_at).execute(conn).await.map(|r| r.rows_affected()))?;
            if claimed == 1 {
                let spec = &self.specs[name];
                enqueue(
                    &mut tx,
                    name,
                    &serde_json::json!({ "scheduledFor": Timestamp::from_millis(due_at) }),
                    now,
                    spec.max_attempts,
                )
                .await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    async fn claim(&self) -> Result<Vec<ClaimedJob>, JobError> {
        if self.specs.is_empty() {
            return Ok(Vec::new());
        }
        let now = Timestamp::now();
        let lease_until = now.plus_seconds(self.config.lease_secs);
        let names: Vec<&str> = self.specs.keys().copied().collect();
        let placeholders: Vec<String> = (0..names.len()).map(|i| format!("${}", i + 3)).collect();
        let lock = match self.db.dialect() {
            Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let sql = format!(
            "UPDATE platform_jobs SET locked_until = $1, attempts = attempts + 1
             WHERE id IN (SELECT id FROM platform_jobs
                          WHERE status = 'PENDING' AND run_at <= $2
                            AND (locked_until IS NULL OR locked_until < $2)
                            AND name IN ({})
                          ORDER BY run_at LIMIT 20 {lock})
             RETURNING id, name, payload, attempts, max_attempts",
            placeholders.join(", ")
        );
        let claimed: Vec<ClaimedJob> = on_write!(&self.db, conn => {
            let mut query = sqlx::query_as(&sql).bind(lease_until.millis()).bind(now.millis());
            for name in &names {
                query = query.bind(*name);
            }
            query.fetch_all(conn).await
        })?;
        Ok(claimed)
    }

    async fn execute(&self, job: ClaimedJob) -> Result<(), JobError> {
        let Some(spec) = self.specs.get(job.name.as_str()) else {
            return Ok(());
        };
        let run = JobRun {
            id: job.id,
            name: job.name.clone(),
            payload: job.payload.0.clone(),
            attempt: job.attempts,
        };
        let started = std::time::Instant::now();
        // A job begins a trace of its own: what it publishes or calls belongs to it.
        let span = trace::continue_trace(
            tracing::info_span!(
                target: trace::TARGET,
                "job",
                otel.name = %job.name,
                trace_id = tracing::field::Empty,
            ),
            None,
        );
        let result = spec.handler.run(&run).instrument(span).await;
        metrics::histogram!("pasar_job_duration_seconds", "job" => job.name.clone())
            .record(started.elapsed().as_secs_f64());
        match result {
            Ok(()) => {
                metrics::counter!("pasar_job_runs_total", "job" => job.name.clone(), "outcome" => "ok").increment(1);
                on_write!(&self.db, conn => sqlx::query("DELETE FROM platform_jobs WHERE id = $1")
                    .bind(job.id).execute(conn).await.map(|r| r.rows_affected()))?;
            }
            Err(err) => {
                metrics::counter!("pasar_job_runs_total", "job" => job.name.clone(), "outcome" => "error").increment(1);
                let message = err.to_string();
                if job.attempts >= job.max_attempts {
                    tracing::error!(job = %job.name, id = %job.id, attempts = job.attempts, error = %message, "job failed permanently");
                    on_write!(&self.db, conn => sqlx::query(
                        "UPDATE platform_jobs SET status = 'FAILED', locked_until = NULL, last_error = $1 WHERE id = $2"
                    ).bind(&message).bind(job.id).execute(conn).await.map(|r| r.rows_affected()))?;
                } else {
                    let exponent = (job.attempts.clamp(1, 16) - 1) as u32;
                    let delay = self.config.retry_base_ms.saturating_mul(1 << exponent);
                    tracing::warn!(job = %job.name, id = %job.id, attempt = job.attempts, error = %message, "job failed; will retry");
                    on_write!(&self.db, conn => sqlx::query(
                        "UPDATE platform_jobs SET locked_until = NULL, run_at = $1, last_error = $2 WHERE id = $3"
                    ).bind(Timestamp::now().plus_millis(delay).millis()).bind(&message).bind(job.id).execute(conn).await.map(|r| r.rows_affected()))?;
                }
            }
        }
        Ok(())
    }
}
