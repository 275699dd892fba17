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

/// Whether a voucher may exist for the placement: its key was sent to vouchers.
pub async fn placement_printed(tx: &mut Tx, placement_id: Uuid) -> Result<bool> {
    let found: Option<Uuid> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT placement_id FROM books_issuing WHERE placement_id = $1"
    ).bind(placement_id).fetch_optional(conn).await)?;
    Ok(found.is_some())
}

/// Placements whose keys were sent to vouchers.
pub async fn issuing(db: &Db, book_id: Uuid) -> Result<Vec<Uuid>> {
    on_db!(db, pool => sqlx::query_scalar("SELECT placement_id FROM books_issuing WHERE book_id = $1")
        .bind(book_id).fetch_all(pool).await)
}

/// Records that the placements' keys are about to be sent to vouchers.
pub async fn mark_issuing(tx: &mut Tx, book_id: Uuid, placements: &[Uuid]) -> Result<()> {
    for placement_id in placements {
        on_tx!(tx, conn => sqlx::query(
            "INSERT INTO books_issuing (placement_id, book_id) VALUES ($1, $2) ON CONFLICT (placement_id) DO NOTHING"
        ).bind(placement_id).bind(book_id).execute(conn).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// (placement, voucher) of what a book printed: what its views show, without codes or PINs.
pub async fn printed_vouchers(db: &Db, book_id: Uuid) -> Result<Vec<(Uuid, Uuid)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT placement_id, instance_id FROM books_printed WHERE book_id = $1"
    ).bind(book_id).fetch_all(pool).await)
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
