//! Delivers committed events to the local consumers.
//!
//! Each consumer (a module) reads from its position, applies the events it subscribes to in a
//! transaction that also records `(consumer, event_id)` in the inbox, and acknowledges the batch.
//! A failing event does not hold the consumer back: it is recorded for retry with exponential
//! backoff and, after `max_attempts`, parked as a dead letter for admins to inspect or replay.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use kernel::{EventEnvelope, Timestamp};
use serde::Serialize;
use sqlx::types::Json;
use tokio::sync::watch;
use tracing::Instrument;
use uuid::Uuid;

use super::{BoxError, BusError, BusSignal, EventHandler, EventTransport, Relay, Subscription};
use crate::config::BusConfig;
use crate::db::{Db, Tx};
use crate::{on_db, on_tx, on_write, trace};

/// How soon the relay tries again when another process's relay was publishing.
const RELAY_BUSY_RETRY: Duration = Duration::from_millis(5);

struct Consumer {
    name: String,
    handlers: HashMap<&'static str, Arc<dyn EventHandler>>,
}

pub struct Dispatcher {
    db: Db,
    transport: Arc<dyn EventTransport>,
    /// Publishes the outbox to the broker (NATS transport); the embedded transport reads the
    /// outbox itself.
    relay: Option<Arc<Relay>>,
    /// Each event in its own transaction, instead of a batch in one.
    transaction_per_event: bool,
    consumers: Vec<Arc<Consumer>>,
    config: BusConfig,
    signal: BusSignal,
}

/// A parked event, as admins see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    pub id: Uuid,
    pub consumer: String,
    pub event_id: Uuid,
    pub event_type: String,
    pub attempts: i32,
    pub last_error: String,
    pub failed_at: Timestamp,
    pub event: EventEnvelope,
}

enum Outcome {
    Applied,
    AlreadyApplied,
    Failed(String),
}

impl Dispatcher {
    pub fn new(
        db: Db,
        transport: Arc<dyn EventTransport>,
        subscriptions: Vec<(String, Vec<Subscription>)>,
        config: BusConfig,
        signal: BusSignal,
    ) -> Self {
        let consumers = subscriptions
            .into_iter()
            .filter(|(_, subs)| !subs.is_empty())
            .map(|(name, subs)| {
                let mut handlers = HashMap::new();
                for sub in subs {
                    for event_type in sub.event_types {
                        handlers.insert(event_type, sub.handler.clone());
                    }
                }
                Arc::new(Consumer { name, handlers })
            })
            .collect();
        Self {
            db,
            transport,
            relay: None,
            transaction_per_event: false,
            consumers,
            config,
            signal,
        }
    }

    pub fn with_relay(mut self, relay: Arc<Relay>) -> Self {
        self.relay = Some(relay);
        self
    }

    /// For consumers running in several processes at once on PostgreSQL (NATS hands each
    /// instance different events): a batch in one transaction would hold the row locks of all
    /// its events, in event order, and two such batches deadlock. One event per transaction
    /// holds one event's locks, which handlers take in a fixed order.
    pub fn with_transaction_per_event(mut self) -> Self {
        self.transaction_per_event = true;
        self
    }

    /// Publishes a batch of the outbox (NATS transport): how many, and whether another
    /// process's relay was busy with it.
    async fn relay(&self) -> (usize, bool) {
        let Some(relay) = &self.relay else {
            return (0, false);
        };
        match relay.pump(self.config.batch_size).await {
            Ok(Some(count)) => (count, false),
            Ok(None) => (0, true),
            Err(err) => {
                tracing::warn!(error = %err, "publishing the outbox failed; will retry");
                (0, false)
            }
        }
    }

    /// Runs until `shutdown` flips to true, then delivers what is already committed (flush)
    /// and returns.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.config.poll_interval_ms.max(10));
        // Retries and lag gauges are housekeeping: once per poll interval, not after every
        // batch of a busy bus.
        let mut last_housekeeping: Option<tokio::time::Instant> = None;
        loop {
            let (relayed, relay_busy) = self.relay().await;
            let mut delivered = relayed;
            // Consumers are independent (each its own position and tables): pumped side by
            // side, one module's slow handler does not delay another's, e.g. an order shown
            // PAID while promotions still records the same payment.
            let pumped = join_all(self.consumers.iter().map(|c| self.pump(c))).await;
            for (consumer, result) in self.consumers.iter().zip(pumped) {
                match result {
                    Ok(count) => delivered += count,
                    Err(err) => {
                        tracing::warn!(consumer = %consumer.name, error = %err, "event delivery failed; will retry")
                    }
                }
            }
            let stopping = *shutdown.borrow();
            if stopping || last_housekeeping.is_none_or(|at| at.elapsed() >= poll) {
                if let Err(err) = self.retry_due().await {
                    tracing::warn!(error = %err, "event retry pass failed");
                }
                self.record_lag().await;
                last_housekeeping = Some(tokio::time::Instant::now());
            }
            if stopping {
                break;
            }
            if delivered > 0 {
                continue;
            }
            // Another process's relay held the outbox: what this process committed may still
            // be waiting, so look again in a moment rather than at the next poll.
            let wait = if relay_busy { RELAY_BUSY_RETRY } else { poll };
            tokio::select! {
                _ = self.signal.woken() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
            }
        }
        while self.relay().await.0 > 0 {}
        for consumer in &self.consumers {
            while let Ok(count) = self.pump(consumer).await {
                if count == 0 {
                    break;
                }
            }
        }
    }

    /// Delivers one batch to the consumer; returns how many events it read. The batch is applied
    /// in one transaction, each event behind its own savepoint: a failing handler rolls back
    /// only its event (which is scheduled for retry), and the writer is taken once per batch
    /// rather than once per event.
    async fn pump(&self, consumer: &Consumer) -> Result<usize, BusError> {
        let batch = self
            .transport
            .fetch(&consumer.name, self.config.batch_size)
            .await?;
        if batch.is_empty() {
            return Ok(0);
        }
        let mut failures = Vec::new();
        let handled: Vec<_> = batch
            .iter()
            .filter_map(|d| {
                consumer
                    .handlers
                    .get(d.envelope.event_type.as_str())
                    .map(|h| (h, &d.envelope))
            })
            .collect();
        if self.transaction_per_event {
            for (handler, envelope) in handled {
                if let Outcome::Failed(error) =
                    self.apply(consumer, handler, envelope, false).await?
                {
                    failures.push((envelope, error));
                }
            }
        } else if !handled.is_empty() {
            let mut tx = self.db.begin().await?;
            for (handler, envelope) in handled {
                savepoint(&mut tx, "SAVEPOINT pasar_event").await?;
                match self
                    .apply_in(&mut tx, consumer, handler, envelope, false)
                    .await?
                {
                    Outcome::Applied | Outcome::AlreadyApplied => {}
                    Outcome::Failed(error) => {
                        savepoint(&mut tx, "ROLLBACK TO SAVEPOINT pasar_event").await?;
                        failures.push((envelope, error));
                    }
                }
                savepoint(&mut tx, "RELEASE SAVEPOINT pasar_event").await?;
            }
            tx.commit().await?;
        }
        for (envelope, error) in failures {
            self.schedule_retry(&consumer.name, envelope, 1, &error)
                .await?;
        }
        self.transport.ack(&consumer.name, &batch).await?;
        Ok(batch.len())
    }

    /// Applies one event and its inbox row in a transaction of its own.
    async fn apply(
        &self,
        consumer: &Consumer,
        handler: &Arc<dyn EventHandler>,
        envelope: &EventEnvelope,
        retried: bool,
    ) -> Result<Outcome, BusError> {
        let mut tx = self.db.begin().await?;
        let outcome = self
            .apply_in(&mut tx, consumer, handler, envelope, retried)
            .await?;
        match outcome {
            Outcome::Applied => tx.commit().await?,
            Outcome::AlreadyApplied | Outcome::Failed(_) => tx.rollback().await?,
        }
        Ok(outcome)
    }

    /// The event's inbox row and its effect, in `tx`. A failed handler leaves its writes in
    /// `tx` for the caller to roll back.
    async fn apply_in(
        &self,
        tx: &mut Tx,
        consumer: &Consumer,
        handler: &Arc<dyn EventHandler>,
        envelope: &EventEnvelope,
        retried: bool,
    ) -> Result<Outcome, BusError> {
        let inserted = on_tx!(tx, conn => sqlx::query(
            "INSERT INTO platform_inbox (consumer, event_id, processed_at) VALUES ($1, $2, $3)
             ON CONFLICT (consumer, event_id) DO NOTHING"
        )
        .bind(&consumer.name)
        .bind(envelope.id)
        .bind(Timestamp::now().millis())
        .execute(conn).await.map(|r| r.rows_affected()))?;
        if inserted == 0 {
            return Ok(Outcome::AlreadyApplied);
        }
        let span = trace::continue_trace(
            tracing::info_span!(
                target: trace::TARGET,
                "event",
                otel.name = %format_args!("{} {}", envelope.event_type, consumer.name),
                otel.kind = "consumer",
                trace_id = tracing::field::Empty,
            ),
            envelope.trace_parent.as_deref(),
        );
        let result: Result<(), BoxError> = handler.handle(tx, envelope).instrument(span).await;
        match result {
            Ok(()) => {
                if retried {
                    // A success on retry clears the pending retry in the same transaction.
                    on_tx!(tx, conn => sqlx::query(
                        "DELETE FROM platform_event_retries WHERE consumer = $1 AND event_id = $2"
                    ).bind(&consumer.name).bind(envelope.id).execute(conn).await.map(|r| r.rows_affected()))?;
                }
                metrics::counter!("pasar_events_handled_total", "consumer" => consumer.name.clone(), "outcome" => "ok").increment(1);
                Ok(Outcome::Applied)
            }
            Err(err) => {
                metrics::counter!("pasar_events_handled_total", "consumer" => consumer.name.clone(), "outcome" => "error").increment(1);
                tracing::warn!(consumer = %consumer.name, event_id = %envelope.id, event_type = %envelope.event_type, error = %err, "event handler failed");
                Ok(Outcome::Failed(err.to_string()))
            }
        }
    }

    fn backoff_ms(&self, attempts: i32) -> i64 {
        let exponent = attempts.clamp(1, 20) - 1;
        self.config
            .retry_base_ms
            .saturating_mul(1i64 << exponent)
            .min(3_600_000)
    }

    /// Records failed attempt number `attempts`; parks the event once attempts are used up.
    async fn schedule_retry(
        &self,
        consumer: &str,
        envelope: &EventEnvelope,
        attempts: i32,
        error: &str,
    ) -> Result<(), BusError> {
        let now = Timestamp::now();
        let mut tx = self.db.begin().await?;
        if attempts >= self.config.max_attempts {
            park_in(&mut tx, consumer, envelope, attempts, error).await?;
        } else {
            let next = now.plus_millis(self.backoff_ms(attempts));
            on_tx!(&mut tx, conn => sqlx::query(
                "INSERT INTO platform_event_retries (consumer, event_id, attempts, next_attempt_at, last_error, envelope)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (consumer, event_id) DO UPDATE SET attempts = excluded.attempts,
                   next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error"
            )
            .bind(consumer)
            .bind(envelope.id)
            .bind(attempts)
            .bind(next.millis())
            .bind(error)
            .bind(Json(envelope))
            .execute(conn).await.map(|r| r.rows_affected()))?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn retry_due(&self) -> Result<(), BusError> {
        let now = Timestamp::now().millis();
        let due: Vec<(String, i32, Json<EventEnvelope>)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT consumer, attempts, envelope FROM platform_event_retries
             WHERE next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT 100"
        ).bind(now).fetch_all(pool).await)?;
        for (consumer_name, attempts, Json(envelope)) in due {
            let Some(consumer) = self.consumers.iter().find(|c| c.name == consumer_name) else {
                continue;
            };
            let Some(handler) = consumer.handlers.get(envelope.event_type.as_str()) else {
                continue;
            };
            match self.apply(consumer, handler, &envelope, true).await? {
                Outcome::Applied => {}
                Outcome::AlreadyApplied => {
                    on_write!(&self.db, conn => sqlx::query(
                        "DELETE FROM platform_event_retries WHERE consumer = $1 AND event_id = $2"
                    ).bind(&consumer.name).bind(envelope.id).execute(conn).await.map(|r| r.rows_affected()))?;
                }
                Outcome::Failed(error) => {
                    self.schedule_retry(&consumer.name, &envelope, attempts + 1, &error)
                        .await?;
                }
            }
        }
        Ok(())
    }

    async fn record_lag(&self) {
        let mut slowest = 0;
        for consumer in &self.consumers {
            if let Ok(lag) = self.transport.lag(&consumer.name).await {
                slowest = slowest.max(lag);
                metrics::gauge!("pasar_consumer_lag_events", "consumer" => consumer.name.clone())
                    .set(lag as f64);
            }
        }
        // Events in the outbox not yet taken by every local consumer.
        metrics::gauge!("pasar_outbox_lag_events").set(slowest as f64);
        let pending: Result<i64, sqlx::Error> = on_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM platform_event_retries"
        ).fetch_one(pool).await);
        if let Ok(pending) = pending {
            metrics::gauge!("pasar_event_retries_pending").set(pending as f64);
        }
    }
}

/// Parks an event for `consumer` as a dead letter (and drops its pending retry), in `tx`.
async fn park_in(
    tx: &mut Tx,
    consumer: &str,
    envelope: &EventEnvelope,
    attempts: i32,
    error: &str,
) -> Result<(), BusError> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO platform_dead_letters (id, consumer, event_id, event_type, attempts, last_error, failed_at, envelope)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (consumer, event_id) DO NOTHING"
    )
    .bind(kernel::new_id())
    .bind(consumer)
    .bind(envelope.id)
    .bind(&envelope.event_type)
    .bind(attempts)
    .bind(error)
    .bind(Timestamp::now().millis())
    .bind(Json(envelope))
    .execute(conn).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, conn => sqlx::query(
        "DELETE FROM platform_event_retries WHERE consumer = $1 AND event_id = $2"
    ).bind(consumer).bind(envelope.id).execute(conn).await.map(|r| r.rows_affected()))?;
    metrics::counter!("pasar_events_dead_lettered_total", "consumer" => consumer.to_owned())
        .increment(1);
    tracing::error!(consumer, event_id = %envelope.id, event_type = %envelope.event_type, attempts, error, "event parked as dead letter");
    Ok(())
}

/// Parks an event that could not be applied at all (a delivery that kept killing or stalling
/// its consumer), unless the consumer already applied it.
pub(crate) async fn park_dead_letter(
    db: &Db,
    consumer: &str,
    envelope: &EventEnvelope,
    attempts: i32,
    error: &str,
) -> Result<(), BusError> {
    let mut tx = db.begin().await?;
    let applied: Option<i32> = on_tx!(&mut tx, conn => sqlx::query_scalar(
        "SELECT 1 FROM platform_inbox WHERE consumer = $1 AND event_id = $2"
    ).bind(consumer).bind(envelope.id).fetch_optional(conn).await)?;
    if applied.is_none() {
        park_in(&mut tx, consumer, envelope, attempts, error).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Dead letters, newest first, for the admin endpoint.
pub async fn list_dead_letters(
    db: &Db,
    limit: u32,
    before: Option<Uuid>,
) -> Result<Vec<DeadLetter>, BusError> {
    type Row = (
        Uuid,
        String,
        Uuid,
        String,
        i32,
        String,
        i64,
        Json<EventEnvelope>,
    );
    let rows: Vec<Row> = on_db!(db, pool => sqlx::query_as(
        "SELECT id, consumer, event_id, event_type, attempts, last_error, failed_at, envelope
         FROM platform_dead_letters WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2"
    ).bind(before).bind(i64::from(limit)).fetch_all(pool).await)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, consumer, event_id, event_type, attempts, last_error, failed_at, envelope)| {
                DeadLetter {
                    id,
                    consumer,
                    event_id,
                    event_type,
                    attempts,
                    last_error,
                    failed_at: Timestamp::from_millis(failed_at),
                    event: envelope.0,
                }
            },
        )
        .collect())
}

/// Moves a dead letter back to the retry queue, due now. Returns false if there is none.
pub async fn replay_dead_letter(db: &Db, id: Uuid) -> Result<bool, BusError> {
    let mut tx = db.begin().await?;
    let row: Option<(String, Uuid, Json<EventEnvelope>, String)> = on_tx!(&mut tx, conn => sqlx::query_as(
        "DELETE FROM platform_dead_letters WHERE id = $1 RETURNING consumer, event_id, envelope, last_error"
    ).bind(id).fetch_optional(conn).await)?;
    let Some((consumer, event_id, envelope, last_error)) = row else {
        tx.rollback().await?;
        return Ok(false);
    };
    on_tx!(&mut tx, conn => sqlx::query(
        "INSERT INTO platform_event_retries (consumer, event_id, attempts, next_attempt_at, last_error, envelope)
         VALUES ($1, $2, 0, $3, $4, $5) ON CONFLICT (consumer, event_id) DO NOTHING"
    )
    .bind(&consumer)
    .bind(event_id)
    .bind(Timestamp::now().millis())
    .bind(&last_error)
    .bind(envelope)
    .execute(conn).await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    Ok(true)
}

async fn savepoint(tx: &mut Tx, statement: &'static str) -> Result<(), sqlx::Error> {
    on_tx!(tx, conn => sqlx::query(statement).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}
