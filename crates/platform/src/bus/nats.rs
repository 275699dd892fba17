//! The scale-out transport: NATS JetStream.
//!
//! The outbox stays the source of truth. A relay publishes each committed outbox row to the
//! stream of its source module (`<NAMESPACE>_<MODULE>`, subject `<namespace>.<module>.<type>`)
//! with `Nats-Msg-Id` = event id, so a row published twice is stored once, and only then moves
//! its position: a NATS outage delays events and loses none. Each consuming module reads every
//! stream through a durable pull consumer named after it, acknowledges after its transaction
//! (inbox + effect) commits, and gets a delivery again after `ack_wait` when its process died
//! first. A delivery that keeps coming back unacknowledged is parked as a dead letter.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::jetstream::message::{Acker, PublishMessage};
use async_nats::jetstream::stream::{self, StorageType};
use async_nats::jetstream::{self, AckKind};
use async_trait::async_trait;
use futures_util::StreamExt;
use kernel::{EventEnvelope, Timestamp};
use tokio::sync::{mpsc, watch, Mutex};

use super::embedded::{FETCH_PG, FETCH_SQLITE};
use super::{BusError, BusSignal, Delivery, EventTransport, OutboxRow, Position, Receipt};
use crate::config::BusConfig;
use crate::db::Db;
use crate::on_write;

/// The relay's place in the outbox, kept with the consumers' positions.
const RELAY_POSITION: &str = "nats-relay";
/// Only one relay per database publishes at a time (PostgreSQL advisory lock key).
const RELAY_LOCK: i64 = 7_236_784_413;
/// How often consumers look for streams created since they started.
const DISCOVERY_INTERVAL: Duration = Duration::from_secs(3);

fn broker(err: impl std::fmt::Display) -> BusError {
    BusError::Broker(err.to_string())
}

const READ_POSITION: &str =
    "SELECT tx_id, seq FROM platform_consumer_positions WHERE consumer = $1";
const SAVE_POSITION: &str =
    "INSERT INTO platform_consumer_positions (consumer, tx_id, seq, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (consumer) DO UPDATE SET tx_id = excluded.tx_id, seq = excluded.seq, updated_at = excluded.updated_at";

/// The relay's position, read through `$executor` (a pool or a transaction of either backend).
macro_rules! relay_position {
    ($executor:expr) => {
        sqlx::query_as::<_, (i64, i64)>(READ_POSITION)
            .bind(RELAY_POSITION)
            .fetch_optional($executor)
            .await?
            .map(|(tx_id, seq)| Position { tx_id, seq })
            .unwrap_or_default()
    };
}

macro_rules! save_position {
    ($executor:expr, $position:expr) => {
        sqlx::query(SAVE_POSITION)
            .bind(RELAY_POSITION)
            .bind($position.tx_id)
            .bind($position.seq)
            .bind(Timestamp::now().millis())
            .execute($executor)
            .await
            .map(|r| r.rows_affected())
    };
}

/// A connection to JetStream and the naming of streams and subjects.
#[derive(Clone)]
pub struct NatsBus {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    namespace: String,
    config: BusConfig,
}

impl NatsBus {
    /// Connects; the client reconnects by itself after a NATS restart.
    pub async fn connect(url: &str, config: &BusConfig) -> Result<Self, BusError> {
        let client = async_nats::ConnectOptions::new()
            .name("pasar")
            .connection_timeout(Duration::from_secs(3))
            .retry_on_initial_connect()
            .connect(url)
            .await
            .map_err(broker)?;
        let namespace: String = config
            .namespace
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        Ok(Self {
            jetstream: jetstream::new(client.clone()),
            client,
            namespace,
            config: config.clone(),
        })
    }

    /// Whether the connection to NATS is up (readiness).
    pub fn connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    fn stream_name(&self, module: &str) -> String {
        format!("{}_{}", self.namespace, module).to_uppercase()
    }

    fn subject(&self, envelope: &EventEnvelope) -> String {
        format!(
            "{}.{}.{}",
            self.namespace, envelope.source, envelope.event_type
        )
    }

    /// Creates the stream of `module` unless it exists (idempotent, safe from many processes).
    async fn ensure_stream(&self, module: &str) -> Result<(), BusError> {
        self.jetstream
            .get_or_create_stream(stream::Config {
                name: self.stream_name(module),
                subjects: vec![format!("{}.{}.>", self.namespace, module)],
                storage: StorageType::File,
                // The outbox keeps a week; the stream keeps as long, for consumers that were
                // down that long.
                max_age: Duration::from_secs(7 * 24 * 3600),
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            })
            .await
            .map_err(broker)?;
        Ok(())
    }

    async fn stream_names(&self) -> Result<Vec<String>, BusError> {
        let prefix = format!("{}_", self.namespace.to_uppercase());
        let mut names = self.jetstream.stream_names();
        let mut ours = Vec::new();
        while let Some(name) = names.next().await {
            let name = name.map_err(broker)?;
            if name.starts_with(&prefix) {
                ours.push(name);
            }
        }
        Ok(ours)
    }

    /// The durable consumer `consumer` on `stream`, created unless it exists.
    async fn consumer(
        &self,
        stream: &str,
        consumer: &str,
    ) -> Result<jetstream::consumer::PullConsumer, BusError> {
        let stream = self.jetstream.get_stream(stream).await.map_err(broker)?;
        let ack_wait = Duration::from_secs(self.config.ack_wait_secs.max(1));
        stream
            .get_or_create_consumer(
                consumer,
                pull::Config {
                    durable_name: Some(consumer.to_owned()),
                    deliver_policy: DeliverPolicy::All,
                    ack_policy: AckPolicy::Explicit,
                    ack_wait,
                    // Redelivery after a crash backs off; past `max_attempts` deliveries the
                    // event is parked as a dead letter by the consumer itself.
                    backoff: vec![ack_wait, ack_wait * 2, ack_wait * 4],
                    max_deliver: i64::from(self.config.max_attempts.max(1)) + 2,
                    max_ack_pending: 2_000,
                    ..Default::default()
                },
            )
            .await
            .map_err(broker)
    }
}

/// Publishes the outbox to JetStream.
pub struct Relay {
    db: Db,
    bus: NatsBus,
    streams: Mutex<HashSet<String>>,
}

impl Relay {
    pub fn new(db: Db, bus: NatsBus) -> Self {
        Self {
            db,
            bus,
            streams: Mutex::new(HashSet::new()),
        }
    }

    /// Publishes the next batch of committed events; returns how many, or None when another
    /// process's relay is publishing. On PostgreSQL one relay at a time works on a database, so
    /// processes sharing a database do not publish the same rows over each other.
    pub async fn pump(&self, limit: i64) -> Result<Option<usize>, BusError> {
        match &self.db {
            Db::Pg(pool) => {
                let mut tx = pool.begin().await?;
                let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
                    .bind(RELAY_LOCK)
                    .fetch_one(&mut *tx)
                    .await?;
                if !locked {
                    return Ok(None);
                }
                let from = relay_position!(&mut *tx);
                let rows: Vec<OutboxRow> = sqlx::query_as(FETCH_PG)
                    .bind(from.tx_id)
                    .bind(from.seq)
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await?;
                let Some(last) = self.publish(rows).await? else {
                    return Ok(Some(0));
                };
                save_position!(&mut *tx, last.1)?;
                tx.commit().await?;
                Ok(Some(last.0))
            }
            Db::Sqlite(pool, _) => {
                let from = relay_position!(pool);
                let rows: Vec<OutboxRow> = sqlx::query_as(FETCH_SQLITE)
                    .bind(from.tx_id)
                    .bind(from.seq)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?;
                let Some(last) = self.publish(rows).await? else {
                    return Ok(Some(0));
                };
                on_write!(&self.db, conn => save_position!(conn, last.1))?;
                Ok(Some(last.0))
            }
        }
    }

    /// Publishes `rows` and waits for every acknowledgement; returns the count and the last
    /// position, or None for an empty batch.
    async fn publish(&self, rows: Vec<OutboxRow>) -> Result<Option<(usize, Position)>, BusError> {
        let count = rows.len();
        let Some(last) = rows.last().map(|r| Position {
            tx_id: r.tx_id,
            seq: r.seq,
        }) else {
            return Ok(None);
        };
        let mut acks = Vec::with_capacity(count);
        for row in rows {
            let envelope = row.into_delivery().envelope;
            self.ensure_stream(&envelope.source).await?;
            let payload = serde_json::to_vec(&envelope)?;
            let ack = self
                .bus
                .jetstream
                .send_publish(
                    self.bus.subject(&envelope),
                    PublishMessage::build()
                        .message_id(envelope.id.to_string())
                        .payload(payload.into()),
                )
                .await
                .map_err(broker)?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await.map_err(broker)?;
        }
        metrics::counter!("pasar_events_relayed_total").increment(count as u64);
        Ok(Some((count, last)))
    }

    async fn ensure_stream(&self, module: &str) -> Result<(), BusError> {
        let mut known = self.streams.lock().await;
        if !known.contains(module) {
            self.bus.ensure_stream(module).await?;
            known.insert(module.to_owned());
        }
        Ok(())
    }
}

/// Deliveries pulled from JetStream for the consumers of this process.
pub struct NatsTransport {
    feeds: HashMap<String, Feed>,
}

struct Feed {
    deliveries: Mutex<mpsc::Receiver<Delivery>>,
    consumers: Arc<Mutex<Vec<jetstream::consumer::PullConsumer>>>,
}

impl NatsTransport {
    /// Starts pulling for each consumer (module) of this process, from every stream of the
    /// namespace, including streams created later.
    pub fn start(
        bus: NatsBus,
        db: Db,
        consumers: &[String],
        signal: BusSignal,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let mut feeds = HashMap::new();
        for consumer in consumers {
            let (sender, receiver) = mpsc::channel(bus.config.batch_size.max(1) as usize * 2);
            let pulled = Arc::new(Mutex::new(Vec::new()));
            tokio::spawn(discover(
                bus.clone(),
                db.clone(),
                consumer.clone(),
                sender,
                pulled.clone(),
                signal.clone(),
                shutdown.clone(),
            ));
            feeds.insert(
                consumer.clone(),
                Feed {
                    deliveries: Mutex::new(receiver),
                    consumers: pulled,
                },
            );
        }
        Self { feeds }
    }
}

/// Finds the namespace's streams and starts one pull loop per stream for `consumer`.
async fn discover(
    bus: NatsBus,
    db: Db,
    consumer: String,
    sender: mpsc::Sender<Delivery>,
    pulled: Arc<Mutex<Vec<jetstream::consumer::PullConsumer>>>,
    signal: BusSignal,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut started = HashSet::new();
    loop {
        match bus.stream_names().await {
            Ok(names) => {
                for stream in names {
                    if started.contains(&stream) {
                        continue;
                    }
                    match bus.consumer(&stream, &consumer).await {
                        Ok(pull_consumer) => {
                            pulled.lock().await.push(pull_consumer.clone());
                            tokio::spawn(pull_loop(
                                bus.clone(),
                                db.clone(),
                                stream.clone(),
                                consumer.clone(),
                                sender.clone(),
                                signal.clone(),
                                shutdown.clone(),
                            ));
                            started.insert(stream);
                        }
                        Err(err) => {
                            tracing::warn!(stream, consumer, error = %err, "cannot create the consumer; will retry")
                        }
                    }
                }
            }
            Err(err) => tracing::warn!(error = %err, "cannot list NATS streams; will retry"),
        }
        tokio::select! {
            _ = tokio::time::sleep(DISCOVERY_INTERVAL) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
    }
}

/// Pulls one stream for one consumer into the dispatcher's channel, resuming after errors
/// (a NATS restart ends the pull; the durable consumer keeps its place).
async fn pull_loop(
    bus: NatsBus,
    db: Db,
    stream: String,
    consumer: String,
    sender: mpsc::Sender<Delivery>,
    signal: BusSignal,
    mut shutdown: watch::Receiver<bool>,
) {
    let max_deliveries = i64::from(bus.config.max_attempts.max(1));
    loop {
        let messages = match bus.consumer(&stream, &consumer).await {
            Ok(pull_consumer) => pull_consumer.messages().await.map_err(broker),
            Err(err) => Err(err),
        };
        match messages {
            Ok(mut messages) => loop {
                let next = tokio::select! {
                    next = messages.next() => next,
                    _ = shutdown.changed() => return,
                };
                let message = match next {
                    Some(Ok(message)) => message,
                    Some(Err(err)) => {
                        tracing::warn!(stream, consumer, error = %err, "NATS pull interrupted; resuming");
                        break;
                    }
                    None => break,
                };
                let delivered = message.info().map(|info| info.delivered).unwrap_or(1);
                let (message, acker) = message.split();
                let envelope: EventEnvelope = match serde_json::from_slice(&message.payload) {
                    Ok(envelope) => envelope,
                    Err(err) => {
                        // Not an event of ours: nothing could ever apply it.
                        tracing::error!(stream, consumer, error = %err, "undecodable message dropped");
                        let _ = acker.ack_with(AckKind::Term).await;
                        continue;
                    }
                };
                if delivered > max_deliveries {
                    park(&db, &consumer, &envelope, delivered, acker).await;
                    continue;
                }
                let delivery = Delivery {
                    envelope,
                    position: Position::default(),
                    receipt: Some(Receipt(Arc::new(acker))),
                };
                if sender.send(delivery).await.is_err() {
                    return;
                }
                signal.wake();
            },
            Err(err) => {
                tracing::warn!(stream, consumer, error = %err, "cannot pull from NATS; will retry")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// A delivery that came back `max_attempts` times without an acknowledgement: its consumer
/// died or stalled on it each time. Parked for admins, then acknowledged.
async fn park(db: &Db, consumer: &str, envelope: &EventEnvelope, delivered: i64, acker: Acker) {
    let attempts = i32::try_from(delivered).unwrap_or(i32::MAX);
    let error = format!("delivered {delivered} times without being acknowledged");
    match super::dispatcher::park_dead_letter(db, consumer, envelope, attempts, &error).await {
        Ok(()) => {
            let _ = acker.ack_with(AckKind::Term).await;
        }
        Err(err) => {
            tracing::warn!(consumer, error = %err, "cannot park the event; it will be delivered again")
        }
    }
}

#[async_trait]
impl EventTransport for NatsTransport {
    async fn fetch(&self, consumer: &str, limit: i64) -> Result<Vec<Delivery>, BusError> {
        let Some(feed) = self.feeds.get(consumer) else {
            return Ok(Vec::new());
        };
        let mut deliveries = feed.deliveries.lock().await;
        let mut batch = Vec::new();
        while batch.len() < limit.max(1) as usize {
            match deliveries.try_recv() {
                Ok(delivery) => batch.push(delivery),
                Err(_) => break,
            }
        }
        Ok(batch)
    }

    async fn ack(&self, consumer: &str, batch: &[Delivery]) -> Result<(), BusError> {
        for delivery in batch {
            if let Some(Receipt(acker)) = &delivery.receipt {
                // A lost acknowledgement only means one more delivery, which the inbox absorbs.
                if let Err(err) = acker.ack().await {
                    tracing::warn!(consumer, error = %err, "acknowledgement to NATS failed");
                }
            }
        }
        Ok(())
    }

    async fn lag(&self, consumer: &str) -> Result<i64, BusError> {
        let Some(feed) = self.feeds.get(consumer) else {
            return Ok(0);
        };
        // Deliveries waiting in this process are among the consumer's unacknowledged ones.
        let mut pending = 0;
        for pull_consumer in feed.consumers.lock().await.iter() {
            let info = pull_consumer.get_info().await.map_err(broker)?;
            pending += (info.num_pending + info.num_ack_pending as u64) as i64;
        }
        Ok(pending)
    }
}
