//! Events: an outbox written in the caller's transaction, a transport that carries committed
//! events to consumers, and a dispatcher that applies them exactly once in effect (inbox),
//! retries failures with backoff and parks what keeps failing as dead letters.

pub mod dispatcher;
mod embedded;
pub mod nats;

use std::sync::Arc;

use async_trait::async_trait;
use kernel::{DomainEvent, EventEnvelope, Timestamp};
use sqlx::types::Json;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::db::Tx;
use crate::on_tx;

pub use dispatcher::{DeadLetter, Dispatcher};
pub use embedded::EmbeddedTransport;
pub use nats::{NatsBus, NatsTransport, Relay};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("event store: {0}")]
    Database(#[from] sqlx::Error),
    #[error("event payload: {0}")]
    Payload(#[from] serde_json::Error),
    #[error("event broker: {0}")]
    Broker(String),
}

/// Applies one event inside the transaction that also records it in the consumer's inbox.
#[async_trait]
pub trait EventHandler: Send + Sync {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError>;
}

/// The event types a module consumes, with their handler. The consumer is the module's name.
#[derive(Clone)]
pub struct Subscription {
    pub event_types: Vec<&'static str>,
    pub handler: Arc<dyn EventHandler>,
}

/// Where a consumer stands in the log: events are ordered by `(tx_id, seq)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub tx_id: i64,
    pub seq: i64,
}

#[derive(Debug, Clone)]
pub struct Delivery {
    pub envelope: EventEnvelope,
    /// Where the event is in the outbox (embedded transport).
    pub position: Position,
    /// How to acknowledge it to the broker (NATS transport).
    pub receipt: Option<Receipt>,
}

/// A broker delivery to acknowledge once the event's effect is committed.
#[derive(Clone)]
pub struct Receipt(pub(crate) Arc<async_nats::jetstream::message::Acker>);

impl std::fmt::Debug for Receipt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Receipt")
    }
}

/// Carries committed events to consumers. Embedded: the outbox table is the log. The NATS
/// transport relays the outbox to JetStream and pulls from durable consumers instead.
#[async_trait]
pub trait EventTransport: Send + Sync {
    /// The next committed events after the consumer's acknowledged position, oldest first.
    async fn fetch(&self, consumer: &str, limit: i64) -> Result<Vec<Delivery>, BusError>;
    /// Every event of `batch` is handled for the consumer (applied, already applied, or
    /// recorded for retry).
    async fn ack(&self, consumer: &str, batch: &[Delivery]) -> Result<(), BusError>;
    /// How many committed events the consumer has not yet acknowledged.
    async fn lag(&self, consumer: &str) -> Result<i64, BusError>;
}

/// Wakes the dispatcher after a commit, so in-process events are delivered without waiting for
/// the next poll.
#[derive(Clone, Default)]
pub struct BusSignal(Arc<Notify>);

impl BusSignal {
    pub fn wake(&self) {
        self.0.notify_one();
    }

    pub(crate) async fn woken(&self) {
        self.0.notified().await
    }
}

/// Writes an event to the outbox in the caller's transaction: it is delivered if and only if
/// the transaction commits.
pub async fn publish<E: DomainEvent>(
    tx: &mut Tx,
    source: &str,
    event: &E,
) -> Result<EventEnvelope, BusError> {
    let mut envelope = EventEnvelope::wrap(source, event)?;
    envelope.trace_parent = crate::trace::current_traceparent();
    publish_envelope(tx, &envelope).await?;
    Ok(envelope)
}

pub async fn publish_envelope(tx: &mut Tx, envelope: &EventEnvelope) -> Result<(), BusError> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO platform_outbox (id, event_type, source, aggregate_id, occurred_at, version, payload, trace_parent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(envelope.id)
    .bind(&envelope.event_type)
    .bind(&envelope.source)
    .bind(&envelope.aggregate_id)
    .bind(envelope.occurred_at.millis())
    .bind(envelope.version)
    .bind(Json(&envelope.payload))
    .bind(&envelope.trace_parent)
    .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A row of `platform_outbox` as read back.
#[derive(sqlx::FromRow)]
pub(crate) struct OutboxRow {
    pub seq: i64,
    pub tx_id: i64,
    pub id: Uuid,
    pub event_type: String,
    pub source: String,
    pub aggregate_id: String,
    pub occurred_at: i64,
    pub version: i32,
    pub payload: Json<serde_json::Value>,
    pub trace_parent: Option<String>,
}

impl OutboxRow {
    pub(crate) fn into_delivery(self) -> Delivery {
        Delivery {
            receipt: None,
            position: Position {
                tx_id: self.tx_id,
                seq: self.seq,
            },
            envelope: EventEnvelope {
                id: self.id,
                event_type: self.event_type,
                source: self.source,
                aggregate_id: self.aggregate_id,
                occurred_at: Timestamp::from_millis(self.occurred_at),
                version: self.version,
                payload: self.payload.0,
                trace_parent: self.trace_parent,
            },
        }
    }
}
