//! Every SQL statement of search, and nothing else: the change log its instances tail, units
//! sold, ratings, synonyms.

use kernel::Timestamp;
use platform::db::{Db, Tx};
use platform::{on_db, on_tx, on_write};
use uuid::Uuid;

type Result<T> = std::result::Result<T, sqlx::Error>;

/// Where an index stands in the change log: ordered by `(tx_id, seq)` (tx_id is 0 on SQLite).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub tx_id: i64,
    pub seq: i64,
}

impl Position {
    pub fn encode(self) -> String {
        format!("{}:{}", self.tx_id, self.seq)
    }

    pub fn decode(text: &str) -> Option<Self> {
        let (tx_id, seq) = text.split_once(':')?;
        Some(Self {
            tx_id: tx_id.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChangeRow {
    pub seq: i64,
    pub tx_id: i64,
    pub kind: String,
    pub subject_id: Uuid,
}

impl ChangeRow {
    pub fn position(&self) -> Position {
        Position {
            tx_id: self.tx_id,
            seq: self.seq,
        }
    }
}

pub async fn record_change(tx: &mut Tx, kind: &str, subject_id: Uuid) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO search_changes (kind, subject_id, created_at) VALUES ($1, $2, $3)"
    ).bind(kind).bind(subject_id).bind(Timestamp::now().millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

// Same rule as the outbox: on PostgreSQL only rows of transactions older than every running
// one are read, so a slow transaction can never commit a change behind a position.
const CHANGES_SQLITE: &str = "SELECT seq, tx_id, kind, subject_id FROM search_changes
    WHERE seq > $2 AND $1 = 0 ORDER BY seq LIMIT $3";
const CHANGES_PG: &str = "SELECT seq, tx_id, kind, subject_id FROM search_changes
    WHERE (tx_id, seq) > ($1, $2) AND tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
    ORDER BY tx_id, seq LIMIT $3";

pub async fn changes_after(db: &Db, from: Position, limit: i64) -> Result<Vec<ChangeRow>> {
    match db {
        Db::Sqlite(pool, _) => {
            sqlx::query_as(CHANGES_SQLITE)
                .bind(from.tx_id)
                .bind(from.seq)
                .bind(limit)
                .fetch_all(pool)
                .await
        }
        Db::Pg(pool) => {
            sqlx::query_as(CHANGES_PG)
                .bind(from.tx_id)
                .bind(from.seq)
                .bind(limit)
                .fetch_all(pool)
                .await
        }
    }
}

/// The newest change every reader can see: a rebuild starts tailing from here.
pub async fn head(db: &Db) -> Result<Position> {
    let row: Option<(i64, i64)> = match db {
        Db::Sqlite(pool, _) => {
            sqlx::query_as("SELECT tx_id, seq FROM search_changes ORDER BY seq DESC LIMIT 1")
                .fetch_optional(pool)
                .await?
        }
        Db::Pg(pool) => {
            sqlx::query_as(
                "SELECT tx_id, seq FROM search_changes
                 WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
                 ORDER BY tx_id DESC, seq DESC LIMIT 1",
            )
            .fetch_optional(pool)
            .await?
        }
    };
    let pruned = pruned_upto(db).await?;
    Ok(row
        .map(|(tx_id, seq)| Position { tx_id, seq })
        .unwrap_or_default()
        .max(pruned))
}

pub async fn pruned_upto(db: &Db) -> Result<Position> {
    let row: Option<(i64, i64)> = on_db!(db, pool => sqlx::query_as(
        "SELECT tx_id, seq FROM search_pruned WHERE id = 1"
    ).fetch_optional(pool).await)?;
    Ok(row
        .map(|(tx_id, seq)| Position { tx_id, seq })
        .unwrap_or_default())
}

/// Drops changes older than `before` (ms), remembering the newest dropped position.
pub async fn prune(db: &Db, before: i64) -> Result<u64> {
    // Only what every reader can already see (PostgreSQL: older than every running
    // transaction), so nothing is pruned ahead of a reader's position.
    let visible = match db {
        Db::Sqlite(..) => "",
        Db::Pg(_) => " AND tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
    };
    let sql = format!(
        "SELECT tx_id, seq FROM search_changes WHERE created_at < $1{visible}
         ORDER BY tx_id DESC, seq DESC LIMIT 1"
    );
    let newest: Option<(i64, i64)> = on_db!(db, pool => sqlx::query_as(&sql)
        .bind(before).fetch_optional(pool).await)?;
    let Some((tx_id, seq)) = newest else {
        return Ok(0);
    };
    on_write!(db, conn => async {
        sqlx::query(
            "INSERT INTO search_pruned (id, tx_id, seq) VALUES (1, $1, $2)
             ON CONFLICT (id) DO UPDATE SET tx_id = excluded.tx_id, seq = excluded.seq
             WHERE (search_pruned.tx_id, search_pruned.seq) < (excluded.tx_id, excluded.seq)",
        )
        .bind(tx_id).bind(seq).execute(&mut *conn).await?;
        sqlx::query("DELETE FROM search_changes WHERE (tx_id, seq) <= ($1, $2)")
            .bind(tx_id).bind(seq).execute(&mut *conn).await.map(|r| r.rows_affected())
    }.await)
}

/// Units sold move by `units` (negative for refunds), never below zero.
pub async fn add_sold(tx: &mut Tx, product_id: Uuid, units: i64) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO search_sold (product_id, sold) VALUES ($1, CASE WHEN $2 < 0 THEN 0 ELSE $2 END)
         ON CONFLICT (product_id) DO UPDATE SET sold = CASE WHEN search_sold.sold + $2 < 0 THEN 0
           ELSE search_sold.sold + $2 END"
    ).bind(product_id).bind(units).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn sold_of(db: &Db, product_id: Uuid) -> Result<i64> {
    let sold: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT sold FROM search_sold WHERE product_id = $1"
    ).bind(product_id).fetch_optional(pool).await)?;
    Ok(sold.unwrap_or(0))
}

pub async fn all_sold(db: &Db) -> Result<Vec<(Uuid, i64)>> {
    on_db!(db, pool => sqlx::query_as("SELECT product_id, sold FROM search_sold")
        .fetch_all(pool).await)
}

/// Keeps the newest version of a subject's rating (events may arrive out of order).
pub async fn set_rating(
    tx: &mut Tx,
    subject_id: Uuid,
    average: Option<f64>,
    count: i64,
    version: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO search_ratings (subject_id, average, count, version) VALUES ($1, $2, $3, $4)
         ON CONFLICT (subject_id) DO UPDATE SET average = excluded.average, count = excluded.count,
           version = excluded.version
         WHERE search_ratings.version < excluded.version"
    ).bind(subject_id).bind(average).bind(count).bind(version)
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn rating_of(db: &Db, subject_id: Uuid) -> Result<Option<(Option<f64>, i64)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT average, count FROM search_ratings WHERE subject_id = $1"
    ).bind(subject_id).fetch_optional(pool).await)
}

pub async fn all_ratings(db: &Db) -> Result<Vec<(Uuid, Option<f64>, i64)>> {
    on_db!(db, pool => sqlx::query_as("SELECT subject_id, average, count FROM search_ratings")
        .fetch_all(pool).await)
}

/// The synonym groups as JSON, with when they were saved.
pub async fn synonyms(db: &Db) -> Result<Option<(String, i64)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT groups, updated_at FROM search_synonyms WHERE id = 1"
    ).fetch_optional(pool).await)
}

pub async fn save_synonyms(db: &Db, groups: &str, now: Timestamp) -> Result<()> {
    on_write!(db, conn => sqlx::query(
        "INSERT INTO search_synonyms (id, groups, updated_at) VALUES (1, $1, $2)
         ON CONFLICT (id) DO UPDATE SET groups = excluded.groups, updated_at = excluded.updated_at"
    ).bind(groups).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}
