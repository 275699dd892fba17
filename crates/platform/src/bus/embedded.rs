//! The embedded transport: consumers read the outbox table directly, each from its own
//! persisted position.

use async_trait::async_trait;
use kernel::Timestamp;

use super::{BusError, Delivery, EventTransport, OutboxRow, Position};
use crate::db::Db;
use crate::{on_db, on_write};

pub struct EmbeddedTransport {
    db: Db,
}

impl EmbeddedTransport {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    async fn position(&self, consumer: &str) -> Result<Position, BusError> {
        let row: Option<(i64, i64)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT tx_id, seq FROM platform_consumer_positions WHERE consumer = $1"
        ).bind(consumer).fetch_optional(pool).await)?;
        Ok(row
            .map(|(tx_id, seq)| Position { tx_id, seq })
            .unwrap_or_default())
    }
}

// On PostgreSQL only rows of transactions older than every running one are visible to
// consumers (see the outbox migration): a later commit can never land behind a position.
// On SQLite tx_id is always 0 (one writer: seq order is commit order), so positions compare by
// seq alone: a primary-key range. The row-value form scanned every row of the log, on every
// wake of the dispatcher, which is every commit.
pub(crate) const FETCH_SQLITE: &str =
    "SELECT seq, tx_id, id, event_type, source, aggregate_id, occurred_at, version, payload, trace_parent
     FROM platform_outbox WHERE seq > $2 AND $1 = 0 ORDER BY seq LIMIT $3";
pub(crate) const FETCH_PG: &str =
    "SELECT seq, tx_id, id, event_type, source, aggregate_id, occurred_at, version, payload, trace_parent
     FROM platform_outbox
     WHERE (tx_id, seq) > ($1, $2) AND tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
     ORDER BY tx_id, seq LIMIT $3";

#[async_trait]
impl EventTransport for EmbeddedTransport {
    async fn fetch(&self, consumer: &str, limit: i64) -> Result<Vec<Delivery>, BusError> {
        let from = self.position(consumer).await?;
        let rows: Vec<OutboxRow> = match &self.db {
            Db::Sqlite(pool, _) => {
                sqlx::query_as(FETCH_SQLITE)
                    .bind(from.tx_id)
                    .bind(from.seq)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
            }
            Db::Pg(pool) => {
                sqlx::query_as(FETCH_PG)
                    .bind(from.tx_id)
                    .bind(from.seq)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
            }
        };
        Ok(rows.into_iter().map(OutboxRow::into_delivery).collect())
    }

    async fn ack(&self, consumer: &str, batch: &[Delivery]) -> Result<(), BusError> {
        let Some(delivery) = batch.last() else {
            return Ok(());
        };
        on_write!(&self.db, conn => sqlx::query(
            "INSERT INTO platform_consumer_positions (consumer, tx_id, seq, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (consumer) DO UPDATE SET tx_id = excluded.tx_id, seq = excluded.seq, updated_at = excluded.updated_at
             WHERE (platform_consumer_positions.tx_id, platform_consumer_positions.seq) < (excluded.tx_id, excluded.seq)"
        )
        .bind(consumer)
        .bind(delivery.position.tx_id)
        .bind(delivery.position.seq)
        .bind(Timestamp::now().millis())
        .execute(conn).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    async fn lag(&self, consumer: &str) -> Result<i64, BusError> {
        let from = self.position(consumer).await?;
        let count: i64 = match &self.db {
            Db::Sqlite(pool, _) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM platform_outbox WHERE seq > $1")
                    .bind(from.seq)
                    .fetch_one(pool)
                    .await?
            }
            Db::Pg(pool) => {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM platform_outbox WHERE (tx_id, seq) > ($1, $2)",
                )
                .bind(from.tx_id)
                .bind(from.seq)
                .fetch_one(pool)
                .await?
            }
        };
        Ok(count)
    }
}
