//! Every SQL statement of flash sales, and nothing else. Units are taken by one conditional
//! update (`... WHERE taken + $1 <= allotment` on a running sale) and per-customer units by a
//! conditional upsert, so concurrent checkouts can never take more than there is; the tables'
//! CHECKs are the last guard.

use platform::db::{Db, Tx};
use platform::{on_db, on_tx};
use uuid::Uuid;

type Result<T> = std::result::Result<T, sqlx::Error>;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SaleRow {
    pub id: Uuid,
    pub merchant_id: Option<Uuid>,
    pub title: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub ended_early: bool,
    pub platform_funded: bool,
    pub created_by: Uuid,
    pub created_at: i64,
    pub updated_at: i64,
}

const SALE_COLUMNS: &str = "id, merchant_id, title, starts_at, ends_at, ended_early, \
    platform_funded, created_by, created_at, updated_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub id: Uuid,
    pub sale_id: Uuid,
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub merchant_id: Uuid,
    pub currency: String,
    pub list_price: i64,
    pub sale_price: i64,
    pub allotment: i64,
    pub per_customer_limit: i64,
    pub taken: i64,
    pub sold: i64,
}

const ITEM_COLUMNS: &str = "id, sale_id, variant_id, product_id, merchant_id, currency, \
    list_price, sale_price, allotment, per_customer_limit, taken, sold";

/// An item of a sale that has not ended, with its sale's window: what the gate prices from.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LiveItemRow {
    pub item_id: Uuid,
    pub sale_id: Uuid,
    pub variant_id: Uuid,
    pub title: String,
    pub sale_price: i64,
    pub list_price: i64,
    pub per_customer_limit: i64,
    pub platform_funded: bool,
    pub starts_at: i64,
    pub ends_at: i64,
}

pub async fn insert_sale(tx: &mut Tx, row: &SaleRow) -> Result<()> {
    let sql = format!(
        "INSERT INTO flashsales_sales ({SALE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    );
    on_tx!(tx, conn => sqlx::query(&sql)
        .bind(row.id).bind(row.merchant_id).bind(&row.title).bind(row.starts_at)
        .bind(row.ends_at).bind(row.ended_early).bind(row.platform_funded).bind(row.created_by)
        .bind(row.created_at).bind(row.updated_at)
        .execute(conn).await.map(|_| ()))
}

/// Replaces what a manager may change before the start; false once the sale has started
/// (checked in the statement, so a first buyer at the same moment is never repriced).
pub async fn replace_sale(tx: &mut Tx, row: &SaleRow, now: i64) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE flashsales_sales SET title = $1, starts_at = $2, ends_at = $3,
            platform_funded = $4, updated_at = $5
         WHERE id = $6 AND starts_at > $7 AND NOT ended_early"
    ).bind(&row.title).bind(row.starts_at).bind(row.ends_at).bind(row.platform_funded)
        .bind(row.updated_at).bind(row.id).bind(now)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Ends a sale that has not ended, now.
pub async fn end_now(tx: &mut Tx, id: Uuid, now: i64) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE flashsales_sales SET ended_early = TRUE, updated_at = $1
         WHERE id = $2 AND NOT ended_early AND ends_at > $1"
    ).bind(now).bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Brings a running sale's end forward to `ends_at` (still ahead, after its start).
pub async fn shorten(tx: &mut Tx, id: Uuid, ends_at: i64, now: i64) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE flashsales_sales SET ends_at = $1, updated_at = $2
         WHERE id = $3 AND NOT ended_early AND ends_at > $2 AND $1 <= ends_at
           AND $1 > starts_at AND $1 > $2"
    ).bind(ends_at).bind(now).bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn delete_items(tx: &mut Tx, sale_id: Uuid) -> Result<()> {
    on_tx!(tx, conn => sqlx::query("DELETE FROM flashsales_items WHERE sale_id = $1 AND taken = 0")
        .bind(sale_id).execute(conn).await.map(|_| ()))
}

pub async fn insert_item(tx: &mut Tx, row: &ItemRow) -> Result<()> {
    let sql = format!(
        "INSERT INTO flashsales_items ({ITEM_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    );
    on_tx!(tx, conn => sqlx::query(&sql)
        .bind(row.id).bind(row.sale_id).bind(row.variant_id).bind(row.product_id)
        .bind(row.merchant_id).bind(&row.currency).bind(row.list_price).bind(row.sale_price)
        .bind(row.allotment).bind(row.per_customer_limit).bind(row.taken).bind(row.sold)
        .execute(conn).await.map(|_| ()))
}

pub async fn sale(db: &Db, id: Uuid) -> Result<Option<SaleRow>> {
    let sql = format!("SELECT {SALE_COLUMNS} FROM flashsales_sales WHERE id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

/// Sales not ended by `now` (the public list), or one merchant's, or all (managers), newest
/// first.
pub async fn sales(
    db: &Db,
    merchant_id: Option<Uuid>,
    running_or_upcoming_at: Option<i64>,
) -> Result<Vec<SaleRow>> {
    let sql = format!(
        "SELECT {SALE_COLUMNS} FROM flashsales_sales
         WHERE ($1 IS NULL OR merchant_id = $1)
           AND ($2 IS NULL OR (ends_at > $2 AND NOT ended_early))
         ORDER BY starts_at DESC, id LIMIT 200"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(merchant_id).bind(running_or_upcoming_at)
        .fetch_all(pool).await)
}

pub async fn items_of(db: &Db, sale_ids: &[Uuid]) -> Result<Vec<ItemRow>> {
    if sale_ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = placeholders(1, sale_ids.len());
    let sql = format!(
        "SELECT {ITEM_COLUMNS} FROM flashsales_items WHERE sale_id IN ({marks}) ORDER BY variant_id"
    );
    on_db!(db, pool => {
        let mut q = sqlx::query_as(&sql);
        for id in sale_ids {
            q = q.bind(*id);
        }
        q.fetch_all(pool).await
    })
}

/// Variants of `variant_ids` already in another sale whose window overlaps
/// `[starts_at, ends_at)`.
pub async fn overlapping(
    tx: &mut Tx,
    variant_ids: &[Uuid],
    starts_at: i64,
    ends_at: i64,
    except_sale: Uuid,
) -> Result<Vec<Uuid>> {
    if variant_ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks = placeholders(5, variant_ids.len());
    let sql = format!(
        "SELECT i.variant_id FROM flashsales_items i JOIN flashsales_sales s ON s.id = i.sale_id
         WHERE s.id <> $1 AND NOT s.ended_early AND s.starts_at < $2 AND s.ends_at > $3
           AND s.ends_at > $4 AND i.variant_id IN ({marks})"
    );
    let now = kernel::Timestamp::now().millis();
    on_tx!(tx, conn => {
        let mut q = sqlx::query_scalar(&sql).bind(except_sale).bind(ends_at).bind(starts_at).bind(now);
        for id in variant_ids {
            q = q.bind(*id);
        }
        q.fetch_all(conn).await
    })
}

/// Items of every sale that has not ended: the gate's index.
pub async fn live_items(db: &Db, now: i64) -> Result<Vec<LiveItemRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT i.id AS item_id, s.id AS sale_id, i.variant_id, s.title, i.sale_price, i.list_price,
                i.per_customer_limit, s.platform_funded, s.starts_at, s.ends_at
         FROM flashsales_items i JOIN flashsales_sales s ON s.id = i.sale_id
         WHERE s.ends_at > $1 AND NOT s.ended_early"
    ).bind(now).fetch_all(pool).await)
}

// ---- holds ----

/// Records a checkout's hold of an item; false when the checkout already holds it.
pub async fn insert_hold(
    tx: &mut Tx,
    group_id: Uuid,
    item_id: Uuid,
    customer_id: Uuid,
    quantity: i64,
    now: i64,
) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO flashsales_holds (group_id, item_id, customer_id, quantity, state, taken_at, updated_at)
         VALUES ($1, $2, $3, $4, 'HELD', $5, $5) ON CONFLICT (group_id, item_id) DO NOTHING"
    ).bind(group_id).bind(item_id).bind(customer_id).bind(quantity).bind(now)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Counts `quantity` more units for the customer; false when that would pass `limit`.
pub async fn count_buyer(
    tx: &mut Tx,
    item_id: Uuid,
    customer_id: Uuid,
    quantity: i64,
    limit: i64,
) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO flashsales_buyers (item_id, customer_id, quantity) VALUES ($1, $2, $3)
         ON CONFLICT (item_id, customer_id) DO UPDATE
         SET quantity = flashsales_buyers.quantity + excluded.quantity
         WHERE flashsales_buyers.quantity + excluded.quantity <= $4"
    ).bind(item_id).bind(customer_id).bind(quantity).bind(limit)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Takes `quantity` units of an item of a running sale; false when fewer are left or the
/// sale is not running.
pub async fn take_units(tx: &mut Tx, item_id: Uuid, quantity: i64, now: i64) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE flashsales_items SET taken = taken + $1
         WHERE id = $2 AND taken + $1 <= allotment
           AND EXISTS (SELECT 1 FROM flashsales_sales s WHERE s.id = flashsales_items.sale_id
                       AND NOT s.ended_early AND s.starts_at <= $3 AND s.ends_at > $3)"
    ).bind(quantity).bind(item_id).bind(now)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Units left of an item, and whether its sale is running.
pub async fn item_state(db: &Db, item_id: Uuid, now: i64) -> Result<Option<(i64, bool)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT i.allotment - i.taken,
                (NOT s.ended_early AND s.starts_at <= $2 AND s.ends_at > $2)
         FROM flashsales_items i JOIN flashsales_sales s ON s.id = i.sale_id WHERE i.id = $1"
    ).bind(item_id).bind(now).fetch_optional(pool).await)
}

/// A checkout's holds with their prices (what an earlier take of the same checkout answered).
pub async fn holds_of(db: &Db, group_id: Uuid) -> Result<Vec<LiveItemRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT i.id AS item_id, s.id AS sale_id, i.variant_id, s.title, i.sale_price, i.list_price,
                i.per_customer_limit, s.platform_funded, s.starts_at, s.ends_at
         FROM flashsales_holds h
         JOIN flashsales_items i ON i.id = h.item_id
         JOIN flashsales_sales s ON s.id = i.sale_id
         WHERE h.group_id = $1 AND h.state <> 'RELEASED'"
    ).bind(group_id).fetch_all(pool).await)
}

/// Moves a checkout's holds (of the items of `variant_ids`, or all) from `from` to `to`;
/// returns the moved `(item, customer, quantity)`.
pub async fn move_holds(
    tx: &mut Tx,
    group_id: Uuid,
    variant_ids: Option<&[Uuid]>,
    from: &[&str],
    to: &str,
    now: i64,
) -> Result<Vec<(Uuid, Uuid, i64)>> {
    let states = from
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let variants = match variant_ids {
        Some([]) => return Ok(Vec::new()),
        Some(ids) => format!(
            "AND item_id IN (SELECT id FROM flashsales_items WHERE variant_id IN ({}))",
            placeholders(4, ids.len())
        ),
        None => String::new(),
    };
    let sql = format!(
        "UPDATE flashsales_holds SET state = $1, updated_at = $2
         WHERE group_id = $3 AND state IN ({states}) {variants}
         RETURNING item_id, customer_id, quantity"
    );
    on_tx!(tx, conn => {
        let mut q = sqlx::query_as(&sql).bind(to).bind(now).bind(group_id);
        for id in variant_ids.unwrap_or_default() {
            q = q.bind(*id);
        }
        q.fetch_all(conn).await
    })
}

/// Gives `quantity` units back to an item's allotment and the customer's count.
pub async fn give_back(tx: &mut Tx, item_id: Uuid, customer_id: Uuid, quantity: i64) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE flashsales_items SET taken = taken - $1 WHERE id = $2"
    ).bind(quantity).bind(item_id).execute(conn).await.map(|_| ()))?;
    on_tx!(tx, conn => sqlx::query(
        "UPDATE flashsales_buyers SET quantity = quantity - $1 WHERE item_id = $2 AND customer_id = $3"
    ).bind(quantity).bind(item_id).bind(customer_id).execute(conn).await.map(|_| ()))
}

pub async fn count_sold(tx: &mut Tx, item_id: Uuid, quantity: i64) -> Result<()> {
    on_tx!(tx, conn => sqlx::query("UPDATE flashsales_items SET sold = sold + $1 WHERE id = $2")
        .bind(quantity).bind(item_id).execute(conn).await.map(|_| ()))
}

/// Checkouts still HELD since before `before` (their order never confirmed).
pub async fn stale_holds(db: &Db, before: i64) -> Result<Vec<Uuid>> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT DISTINCT group_id FROM flashsales_holds WHERE state = 'HELD' AND taken_at < $1 LIMIT 200"
    ).bind(before).fetch_all(pool).await)
}

fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
