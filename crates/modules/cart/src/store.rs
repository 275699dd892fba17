//! Every SQL statement of cart, and nothing else.

use kernel::Timestamp;
use platform::db::{Db, Tx};
use platform::{on_db, on_tx, on_write};
use uuid::Uuid;

type Result<T> = std::result::Result<T, sqlx::Error>;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CartRow {
    pub id: Uuid,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub id: Uuid,
    pub variant_id: Uuid,
    pub quantity: i64,
    pub unit_price: i64,
    pub currency: String,
}

pub async fn cart_of_customer(db: &Db, customer_id: Uuid) -> Result<Option<CartRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id FROM cart_carts WHERE customer_id = $1"
    ).bind(customer_id).fetch_optional(pool).await)
}

pub async fn customer_cart_in(tx: &mut Tx, customer_id: Uuid) -> Result<Option<Uuid>> {
    on_tx!(tx, conn => sqlx::query_scalar("SELECT id FROM cart_carts WHERE customer_id = $1")
        .bind(customer_id).fetch_optional(conn).await)
}

pub async fn cart_of_token(db: &Db, token_hash: &str) -> Result<Option<CartRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id FROM cart_carts WHERE token_hash = $1"
    ).bind(token_hash).fetch_optional(pool).await)
}

/// The customer's cart, created if missing (concurrent creators get the same one).
pub async fn ensure_customer_cart(tx: &mut Tx, customer_id: Uuid, now: Timestamp) -> Result<Uuid> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO cart_carts (id, customer_id, created_at, updated_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (customer_id) DO NOTHING"
    ).bind(kernel::new_id()).bind(customer_id).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, conn => sqlx::query_scalar("SELECT id FROM cart_carts WHERE customer_id = $1")
        .bind(customer_id).fetch_one(conn).await)
}

pub async fn insert_guest_cart(
    tx: &mut Tx,
    id: Uuid,
    token_hash: &str,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO cart_carts (id, token_hash, created_at, updated_at) VALUES ($1, $2, $3, $3)"
    ).bind(id).bind(token_hash).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn touch(tx: &mut Tx, cart_id: Uuid, now: Timestamp) -> Result<()> {
    on_tx!(tx, conn => sqlx::query("UPDATE cart_carts SET updated_at = $1 WHERE id = $2")
        .bind(now.millis()).bind(cart_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

const ITEM_COLUMNS: &str = "id, variant_id, quantity, unit_price, currency";

pub async fn items(db: &Db, cart_id: Uuid) -> Result<Vec<ItemRow>> {
    let sql =
        format!("SELECT {ITEM_COLUMNS} FROM cart_items WHERE cart_id = $1 ORDER BY created_at, id");
    on_db!(db, pool => sqlx::query_as(&sql).bind(cart_id).fetch_all(pool).await)
}

pub async fn items_in(tx: &mut Tx, cart_id: Uuid) -> Result<Vec<ItemRow>> {
    let sql =
        format!("SELECT {ITEM_COLUMNS} FROM cart_items WHERE cart_id = $1 ORDER BY created_at, id");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(cart_id).fetch_all(conn).await)
}

pub async fn count_lines(tx: &mut Tx, cart_id: Uuid) -> Result<i64> {
    on_tx!(tx, conn => sqlx::query_scalar("SELECT COUNT(*) FROM cart_items WHERE cart_id = $1")
        .bind(cart_id).fetch_one(conn).await)
}

/// Adds units of a variant: a new line, or more of an existing one, only while the total stays
/// within `max` (one statement, so concurrent adds cannot pass the cap). False: over the cap.
#[allow(clippy::too_many_arguments)]
pub async fn add_units(
    tx: &mut Tx,
    cart_id: Uuid,
    variant_id: Uuid,
    quantity: i64,
    unit_price: i64,
    currency: &str,
    max: i64,
    now: Timestamp,
) -> Result<bool> {
    let added = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO cart_items (id, cart_id, variant_id, quantity, unit_price, currency, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
         ON CONFLICT (cart_id, variant_id) DO UPDATE
           SET quantity = cart_items.quantity + excluded.quantity,
               unit_price = excluded.unit_price, currency = excluded.currency,
               updated_at = excluded.updated_at
           WHERE cart_items.quantity + excluded.quantity <= $8"
    ).bind(kernel::new_id()).bind(cart_id).bind(variant_id).bind(quantity).bind(unit_price)
     .bind(currency).bind(now.millis()).bind(max).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(added == 1)
}

pub async fn variant_in_cart(db: &Db, cart_id: Uuid, item_id: Uuid) -> Result<Option<Uuid>> {
    on_db!(db, pool => sqlx::query_scalar("SELECT variant_id FROM cart_items WHERE id = $1 AND cart_id = $2")
        .bind(item_id).bind(cart_id).fetch_optional(pool).await)
}

pub async fn updated_at(db: &Db, cart_id: Uuid) -> Result<Option<i64>> {
    on_db!(db, pool => sqlx::query_scalar("SELECT updated_at FROM cart_carts WHERE id = $1")
        .bind(cart_id).fetch_optional(pool).await)
}

pub async fn set_quantity(
    tx: &mut Tx,
    cart_id: Uuid,
    item_id: Uuid,
    quantity: i64,
    unit_price: i64,
    now: Timestamp,
) -> Result<bool> {
    let updated = on_tx!(tx, conn => sqlx::query(
        "UPDATE cart_items SET quantity = $1, unit_price = $2, updated_at = $3 WHERE id = $4 AND cart_id = $5"
    ).bind(quantity).bind(unit_price).bind(now.millis()).bind(item_id).bind(cart_id)
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

pub async fn delete_item(tx: &mut Tx, cart_id: Uuid, item_id: Uuid) -> Result<bool> {
    let deleted = on_tx!(tx, conn => sqlx::query("DELETE FROM cart_items WHERE id = $1 AND cart_id = $2")
        .bind(item_id).bind(cart_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(deleted == 1)
}

pub async fn clear(tx: &mut Tx, cart_id: Uuid) -> Result<()> {
    on_tx!(tx, conn => sqlx::query("DELETE FROM cart_items WHERE cart_id = $1")
        .bind(cart_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete_cart(tx: &mut Tx, cart_id: Uuid) -> Result<()> {
    clear(tx, cart_id).await?;
    on_tx!(tx, conn => sqlx::query("DELETE FROM cart_coupons WHERE cart_id = $1")
        .bind(cart_id).execute(conn).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, conn => sqlx::query("DELETE FROM cart_carts WHERE id = $1")
        .bind(cart_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Removes an ordered line if its quantity is still the ordered one (a line the customer
/// changed since stays).
pub async fn remove_ordered(
    tx: &mut Tx,
    cart_id: Uuid,
    variant_id: Uuid,
    quantity: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "DELETE FROM cart_items WHERE cart_id = $1 AND variant_id = $2 AND quantity = $3"
    ).bind(cart_id).bind(variant_id).bind(quantity).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Removes an ordered line if it is still that line with the ordered quantity (a line the
/// customer changed, or removed and added again, stays).
pub async fn remove_ordered_line(
    tx: &mut Tx,
    cart_id: Uuid,
    line_id: Uuid,
    quantity: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "DELETE FROM cart_items WHERE id = $1 AND cart_id = $2 AND quantity = $3"
    ).bind(line_id).bind(cart_id).bind(quantity).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Deletes carts untouched since `before`; returns how many.
pub async fn delete_stale(db: &Db, before: Timestamp) -> Result<u64> {
    on_write!(db, conn => async {
        sqlx::query("DELETE FROM cart_items WHERE cart_id IN (SELECT id FROM cart_carts WHERE updated_at < $1)")
            .bind(before.millis()).execute(&mut *conn).await?;
        sqlx::query("DELETE FROM cart_coupons WHERE cart_id IN (SELECT id FROM cart_carts WHERE updated_at < $1)")
            .bind(before.millis()).execute(&mut *conn).await?;
        sqlx::query("DELETE FROM cart_carts WHERE updated_at < $1")
            .bind(before.millis()).execute(&mut *conn).await.map(|r| r.rows_affected())
    }.await)
}

// ---- coupons ----

pub async fn coupons(db: &Db, cart_id: Uuid) -> Result<Vec<String>> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT code FROM cart_coupons WHERE cart_id = $1 ORDER BY added_at, code"
    ).bind(cart_id).fetch_all(pool).await)
}

pub async fn coupons_in(tx: &mut Tx, cart_id: Uuid) -> Result<Vec<String>> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT code FROM cart_coupons WHERE cart_id = $1 ORDER BY added_at, code"
    ).bind(cart_id).fetch_all(conn).await)
}

/// Adds a code (again: nothing changes).
pub async fn add_coupon(tx: &mut Tx, cart_id: Uuid, code: &str, now: Timestamp) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO cart_coupons (cart_id, code, added_at) VALUES ($1, $2, $3)
         ON CONFLICT (cart_id, code) DO NOTHING"
    ).bind(cart_id).bind(code).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn remove_coupon(tx: &mut Tx, cart_id: Uuid, code: &str) -> Result<bool> {
    let removed = on_tx!(tx, conn => sqlx::query(
        "DELETE FROM cart_coupons WHERE cart_id = $1 AND code = $2"
    ).bind(cart_id).bind(code).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(removed == 1)
}
