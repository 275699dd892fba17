//! Books, their status and revision, and their PDF.

use kernel::Timestamp;
use platform::db::{Db, Tx};
use platform::{on_db, on_tx};
use uuid::Uuid;

use super::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BookRow {
    pub id: Uuid,
    pub title: String,
    pub edition: String,
    pub month: i32,
    pub year: i32,
    pub kind: String,
    pub cover_note: Option<String>,
    pub bleed: bool,
    pub status: String,
    pub error: Option<String>,
    pub revision: i64,
    pub created_by: Uuid,
    pub created_at: i64,
    pub updated_at: i64,
}

const BOOK_COLUMNS: &str =
    "id, title, edition, month, year, kind, cover_note, bleed, status, error,
    revision, created_by, created_at, updated_at";

pub async fn insert_book(tx: &mut Tx, b: &BookRow) -> Result<()> {
    let sql = format!(
        "INSERT INTO books_books ({BOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    );
    on_tx!(tx, conn => sqlx::query(&sql).bind(b.id).bind(&b.title).bind(&b.edition).bind(b.month)
        .bind(b.year).bind(&b.kind).bind(&b.cover_note).bind(b.bleed).bind(&b.status).bind(&b.error)
        .bind(b.revision).bind(b.created_by).bind(b.created_at).bind(b.updated_at)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn book(db: &Db, id: Uuid) -> Result<Option<BookRow>> {
    let sql = format!("SELECT {BOOK_COLUMNS} FROM books_books WHERE id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

/// The book, locked for a change of its content on PostgreSQL (SQLite transactions already
/// hold the write lock): placements are checked for overlap under it.
pub async fn book_for_update(tx: &mut Tx, id: Uuid) -> Result<Option<BookRow>> {
    let lock = match tx.dialect() {
        platform::Dialect::Postgres => " FOR UPDATE",
        platform::Dialect::Sqlite => "",
    };
    let sql = format!("SELECT {BOOK_COLUMNS} FROM books_books WHERE id = $1{lock}");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

/// Newest first, after `after` (an id).
pub async fn books(
    db: &Db,
    status: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<BookRow>> {
    let sql = format!(
        "SELECT {BOOK_COLUMNS} FROM books_books WHERE ($1 IS NULL OR status = $1)
         AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(status).bind(after).bind(limit).fetch_all(pool).await)
}

pub async fn update_book(tx: &mut Tx, b: &BookRow) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE books_books SET title = $2, edition = $3, month = $4, year = $5, kind = $6,
         cover_note = $7, bleed = $8, status = $9, error = $10, revision = $11, updated_at = $12
         WHERE id = $1"
    ).bind(b.id).bind(&b.title).bind(&b.edition).bind(b.month).bind(b.year).bind(&b.kind)
     .bind(&b.cover_note).bind(b.bleed).bind(&b.status).bind(&b.error).bind(b.revision)
     .bind(b.updated_at).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Moves the book from `from` to `to` at `revision`; false when it changed meanwhile.
pub async fn set_status(
    tx: &mut Tx,
    id: Uuid,
    revision: i64,
    from: &str,
    to: &str,
    error: Option<&str>,
    now: Timestamp,
) -> Result<bool> {
    let moved = on_tx!(tx, conn => sqlx::query(
        "UPDATE books_books SET status = $4, error = $5, updated_at = $6
         WHERE id = $1 AND revision = $2 AND status = $3"
    ).bind(id).bind(revision).bind(from).bind(to).bind(error).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(moved == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FileRow {
    pub sha256: String,
    pub pages: i32,
    pub vouchers: i32,
    pub bytes: i64,
    pub generated_at: i64,
}

pub async fn file_info(db: &Db, book_id: Uuid) -> Result<Option<FileRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT sha256, pages, vouchers, CAST(LENGTH(pdf) AS BIGINT) AS bytes, generated_at
         FROM books_files WHERE book_id = $1"
    ).bind(book_id).fetch_optional(pool).await)
}

pub async fn pdf(db: &Db, book_id: Uuid) -> Result<Option<Vec<u8>>> {
    on_db!(db, pool => sqlx::query_scalar("SELECT pdf FROM books_files WHERE book_id = $1")
        .bind(book_id).fetch_optional(pool).await)
}

pub async fn save_file(
    tx: &mut Tx,
    book_id: Uuid,
    pdf: &[u8],
    sha256: &str,
    pages: i32,
    vouchers: i32,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO books_files (book_id, pdf, sha256, pages, vouchers, generated_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (book_id) DO UPDATE SET pdf = excluded.pdf, sha256 = excluded.sha256,
           pages = excluded.pages, vouchers = excluded.vouchers, generated_at = excluded.generated_at"
    ).bind(book_id).bind(pdf).bind(sha256).bind(pages).bind(vouchers).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn drop_file(tx: &mut Tx, book_id: Uuid) -> Result<()> {
    on_tx!(tx, conn => sqlx::query("DELETE FROM books_files WHERE book_id = $1")
        .bind(book_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_merchant_name(tx: &mut Tx, merchant_id: Uuid, name: &str) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO books_merchants (merchant_id, name) VALUES ($1, $2)
         ON CONFLICT (merchant_id) DO UPDATE SET name = excluded.name"
    ).bind(merchant_id).bind(name).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn merchant_name(db: &Db, merchant_id: Uuid) -> Result<Option<String>> {
    on_db!(db, pool => sqlx::query_scalar("SELECT name FROM books_merchants WHERE merchant_id = $1")
        .bind(merchant_id).fetch_optional(pool).await)
}
