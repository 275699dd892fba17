//! Pages and the placements on them.

use platform::db::{Db, Tx};
use platform::{on_db, on_tx};
use uuid::Uuid;

use super::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PageRow {
    pub id: Uuid,
    pub book_id: Uuid,
    pub number: i32,
}

pub async fn insert_page(tx: &mut Tx, p: &PageRow) -> Result<()> {
    on_tx!(tx, conn => sqlx::query("INSERT INTO books_pages (id, book_id, number) VALUES ($1, $2, $3)")
        .bind(p.id).bind(p.book_id).bind(p.number).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn pages(db: &Db, book_id: Uuid) -> Result<Vec<PageRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, book_id, number FROM books_pages WHERE book_id = $1 ORDER BY number"
    ).bind(book_id).fetch_all(pool).await)
}

pub async fn pages_in(tx: &mut Tx, book_id: Uuid) -> Result<Vec<PageRow>> {
    on_tx!(tx, conn => sqlx::query_as(
        "SELECT id, book_id, number FROM books_pages WHERE book_id = $1 ORDER BY number"
    ).bind(book_id).fetch_all(conn).await)
}

pub async fn delete_page(tx: &mut Tx, page_id: Uuid) -> Result<()> {
    on_tx!(tx, conn => sqlx::query("DELETE FROM books_pages WHERE id = $1")
        .bind(page_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Closes the gap a removed page left: pages after `number` move up one, in order (the
/// unique (book, number) holds at every step).
pub async fn renumber_after(tx: &mut Tx, book_id: Uuid, number: i32) -> Result<()> {
    let later: Vec<(Uuid, i32)> = on_tx!(tx, conn => sqlx::query_as(
        "SELECT id, number FROM books_pages WHERE book_id = $1 AND number > $2 ORDER BY number"
    ).bind(book_id).bind(number).fetch_all(conn).await)?;
    for (id, n) in later {
        on_tx!(tx, conn => sqlx::query("UPDATE books_pages SET number = $2 WHERE id = $1")
            .bind(id).bind(n - 1).execute(conn).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlacementRow {
    pub id: Uuid,
    pub book_id: Uuid,
    pub page_id: Uuid,
    pub slot: i32,
    pub size: i32,
    pub kind: String,
    pub offer_id: Option<Uuid>,
    pub headline: Option<String>,
    pub body: Option<String>,
    pub sponsor: Option<String>,
    pub created_at: i64,
}

const PLACEMENT_COLUMNS: &str =
    "id, book_id, page_id, slot, size, kind, offer_id, headline, body, sponsor, created_at";

pub async fn insert_placement(tx: &mut Tx, p: &PlacementRow) -> Result<()> {
    let sql = format!(
        "INSERT INTO books_placements ({PLACEMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    );
    on_tx!(tx, conn => sqlx::query(&sql).bind(p.id).bind(p.book_id).bind(p.page_id).bind(p.slot)
        .bind(p.size).bind(&p.kind).bind(p.offer_id).bind(&p.headline).bind(&p.body).bind(&p.sponsor)
        .bind(p.created_at).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn placements(db: &Db, book_id: Uuid) -> Result<Vec<PlacementRow>> {
    let sql = format!(
        "SELECT {PLACEMENT_COLUMNS} FROM books_placements WHERE book_id = $1 ORDER BY page_id, slot"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(book_id).fetch_all(pool).await)
}

pub async fn placements_of_page(tx: &mut Tx, page_id: Uuid) -> Result<Vec<PlacementRow>> {
    let sql = format!(
        "SELECT {PLACEMENT_COLUMNS} FROM books_placements WHERE page_id = $1 ORDER BY slot"
    );
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(page_id).fetch_all(conn).await)
}

pub async fn has_placements(tx: &mut Tx, book_id: Uuid) -> Result<bool> {
    let found: Option<Uuid> = on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT id FROM books_placements WHERE book_id = $1 LIMIT 1"
    ).bind(book_id).fetch_optional(conn).await)?;
    Ok(found.is_some())
}

pub async fn delete_placement(tx: &mut Tx, id: Uuid) -> Result<()> {
    on_tx!(tx, conn => sqlx::query("DELETE FROM books_placements WHERE id = $1")
        .bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}
