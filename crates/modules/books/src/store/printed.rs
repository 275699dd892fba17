//! What was printed for voucher placements: issued once, printed the same every time.

use platform::db::{Db, Tx};
use platform::{on_db, on_tx};
use uuid::Uuid;

use super::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PrintedRow {
    pub placement_id: Uuid,
    pub book_id: Uuid,
    pub instance_id: Uuid,
    pub code: String,
    pub pin: String,
    pub token: String,
    pub title: String,
    pub title_km: Option<String>,
    pub merchant: String,
    pub terms: String,
    pub validity: String,
    pub value: String,
}

pub async fn printed(db: &Db, book_id: Uuid) -> Result<Vec<PrintedRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT placement_id, book_id, instance_id, code, pin, token, title, title_km, merchant, terms,
           validity, value FROM books_printed WHERE book_id = $1"
    ).bind(book_id).fetch_all(pool).await)
}

pub async fn placement_printed(tx: &mut Tx, placement_id: Uuid) -> Result<bool> {
    let found: Option<Uuid> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT placement_id FROM books_printed WHERE placement_id = $1"
    ).bind(placement_id).fetch_optional(conn).await)?;
    Ok(found.is_some())
}

/// Keeps what a placement printed; a second generation that raced the first keeps the first.
pub async fn save_printed(tx: &mut Tx, p: &PrintedRow) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO books_printed (placement_id, book_id, instance_id, code, pin, token, title, title_km,
           merchant, terms, validity, value) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (placement_id) DO NOTHING"
    ).bind(p.placement_id).bind(p.book_id).bind(p.instance_id).bind(&p.code).bind(&p.pin).bind(&p.token)
     .bind(&p.title).bind(&p.title_km).bind(&p.merchant).bind(&p.terms).bind(&p.validity).bind(&p.value)
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}
