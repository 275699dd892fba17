//! Every SQL statement of orders, and nothing else.

use kernel::Timestamp;
use platform::db::{Db, Tx};
use platform::{on_db, on_tx};
use uuid::Uuid;

use crate::domain::{Plan, PlannedLine, PlannedOrder, SagaState};

type Result<T> = std::result::Result<T, sqlx::Error>;

// ---- the checkout saga ----

pub async fn insert_checkout(
    tx: &mut Tx,
    plan: &Plan,
    plan_json: &str,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO orders_checkouts (id, customer_id, state, plan, created_at, updated_at)
         VALUES ($1, $2, 'STARTED', $3, $4, $4)"
    ).bind(plan.group_id).bind(plan.customer_id).bind(plan_json).bind(now.millis())
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Moves the saga from one of `from` to `to`; false if it was elsewhere (another actor won).
pub async fn move_checkout(
    tx: &mut Tx,
    id: Uuid,
    from: &[SagaState],
    to: SagaState,
    failure: Option<&str>,
    now: Timestamp,
) -> Result<bool> {
    let placeholders: Vec<String> = (0..from.len()).map(|i| format!("${}", i + 5)).collect();
    let sql = format!(
        "UPDATE orders_checkouts SET state = $1, failure = COALESCE($2, failure), updated_at = $3
         WHERE id = $4 AND state IN ({})",
        placeholders.join(", ")
    );
    let moved = on_tx!(tx, conn => {
        let mut query = sqlx::query(&sql).bind(to.as_str()).bind(failure).bind(now.millis()).bind(id);
        for state in from {
            query = query.bind(state.as_str());
        }
        query.execute(conn).await.map(|r| r.rows_affected())
    })?;
    Ok(moved == 1)
}

/// Sagas not finished and untouched since `before` (their process presumably died).
pub async fn stale_checkouts(
    db: &Db,
    before: Timestamp,
    limit: i64,
) -> Result<Vec<(Uuid, String)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, plan FROM orders_checkouts
         WHERE state IN ('STARTED', 'RESERVED', 'COMPENSATING') AND updated_at < $1
         ORDER BY updated_at LIMIT $2"
    ).bind(before.millis()).bind(limit).fetch_all(pool).await)
}

// ---- groups, orders, lines ----

pub async fn insert_group(
    tx: &mut Tx,
    plan: &Plan,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO orders_groups (id, number, customer_id, currency, subtotal, total, expires_at, created_at,
           discount)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ).bind(plan.group_id).bind(&plan.number).bind(plan.customer_id).bind(plan.currency.code())
     .bind(plan.subtotal).bind(plan.total).bind(expires_at.millis()).bind(now.millis()).bind(plan.discount)
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn insert_order(
    tx: &mut Tx,
    plan: &Plan,
    order: &PlannedOrder,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<()> {
    let discounts = serde_json::to_string(&order.promotions).unwrap_or_else(|_| "[]".into());
    let shipping_details = order
        .shipping
        .as_ref()
        .and_then(|s| serde_json::to_string(s).ok());
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO orders_orders (id, group_id, number, merchant_id, customer_id, status, currency, subtotal,
           total, commission, digital_only, note, expires_at, created_at, updated_at, discount, discounts,
           shipping, shipping_details)
         VALUES ($1, $2, $3, $4, $5, 'PENDING_PAYMENT', $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15, $16, $17)"
    ).bind(order.id).bind(plan.group_id).bind(&order.number).bind(order.merchant_id).bind(plan.customer_id)
     .bind(plan.currency.code()).bind(order.subtotal).bind(order.total).bind(order.commission)
     .bind(order.digital_only).bind(&plan.note).bind(expires_at.millis()).bind(now.millis())
     .bind(order.discount).bind(discounts).bind(order.shipping_charge()).bind(shipping_details)
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn insert_line(
    tx: &mut Tx,
    order_id: Uuid,
    position: usize,
    line: &PlannedLine,
) -> Result<()> {
    let name = serde_json::to_string(&line.product_name).unwrap_or_default();
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO orders_lines (id, order_id, position, variant_id, product_id, sku, product_name, product_type,
           quantity, unit_price, line_total, commission_bps, commission, discount, platform_discount)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    ).bind(line.id).bind(order_id).bind(position as i64).bind(line.variant_id).bind(line.product_id)
     .bind(&line.sku).bind(name).bind(&line.product_type).bind(line.quantity).bind(line.unit_price)
     .bind(line.line_total).bind(line.commission_bps).bind(line.commission).bind(line.discount)
     .bind(line.platform_discount)
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupRow {
    pub id: Uuid,
    pub number: String,
    pub customer_id: Uuid,
    pub currency: String,
    pub subtotal: i64,
    pub total: i64,
    pub payment_id: Option<Uuid>,
    pub expires_at: i64,
    pub created_at: i64,
    pub discount: i64,
}

pub async fn group(db: &Db, id: Uuid) -> Result<Option<GroupRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, number, customer_id, currency, subtotal, total, payment_id, expires_at, created_at,
           discount
         FROM orders_groups WHERE id = $1"
    ).bind(id).fetch_optional(pool).await)
}

/// Records the payment that paid the group, once; false if another payment already did.
pub async fn set_group_payment(tx: &mut Tx, group_id: Uuid, payment_id: Uuid) -> Result<bool> {
    let updated = on_tx!(tx, conn => sqlx::query(
        "UPDATE orders_groups SET payment_id = $1 WHERE id = $2 AND (payment_id IS NULL OR payment_id = $1)"
    ).bind(payment_id).bind(group_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    pub id: Uuid,
    pub group_id: Uuid,
    pub number: String,
    pub merchant_id: Uuid,
    pub customer_id: Uuid,
    pub status: String,
    pub currency: String,
    pub subtotal: i64,
    pub total: i64,
    pub commission: i64,
    pub refunded: i64,
    pub digital_only: bool,
    pub tracking_number: Option<String>,
    pub note: Option<String>,
    pub payment_id: Option<Uuid>,
    pub expires_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub discount: i64,
    /// The promotions behind `discount`, as JSON.
    pub discounts: String,
    pub shipping: i64,
    /// The option and address (`OrderShipping`), as JSON.
    pub shipping_details: Option<String>,
}

const ORDER_SELECT: &str = "SELECT o.id, o.group_id, o.number, o.merchant_id, o.customer_id, o.status, o.currency,
    o.subtotal, o.total, o.commission, o.refunded, o.digital_only, o.tracking_number, o.note, g.payment_id,
    o.expires_at, o.created_at, o.updated_at, o.discount, o.discounts, o.shipping, o.shipping_details
    FROM orders_orders o JOIN orders_groups g ON g.id = o.group_id";

pub async fn order(db: &Db, id: Uuid) -> Result<Option<OrderRow>> {
    let sql = format!("{ORDER_SELECT} WHERE o.id = $1");
    on_db!(db, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)
}

pub async fn order_in(tx: &mut Tx, id: Uuid) -> Result<Option<OrderRow>> {
    let sql = format!("{ORDER_SELECT} WHERE o.id = $1");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)
}

pub async fn orders_of_group(db: &Db, group_id: Uuid) -> Result<Vec<OrderRow>> {
    let sql = format!("{ORDER_SELECT} WHERE o.group_id = $1 ORDER BY o.number");
    on_db!(db, pool => sqlx::query_as(&sql).bind(group_id).fetch_all(pool).await)
}

pub async fn orders_of_group_in(tx: &mut Tx, group_id: Uuid) -> Result<Vec<OrderRow>> {
    let sql = format!("{ORDER_SELECT} WHERE o.group_id = $1 ORDER BY o.number");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(group_id).fetch_all(conn).await)
}

/// Filters of an order list; `cursor` is the last row's `(created_at, id)`.
pub struct OrderFilter {
    pub customer_id: Option<Uuid>,
    pub merchant_ids: Option<Vec<Uuid>>,
    pub status: Option<String>,
    pub cursor: Option<(i64, Uuid)>,
    pub limit: i64,
}

pub async fn list_orders(db: &Db, filter: &OrderFilter) -> Result<Vec<OrderRow>> {
    let mut conditions: Vec<String> = Vec::new();
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    if filter.customer_id.is_some() {
        conditions.push(format!("o.customer_id = {}", next()));
    }
    if let Some(ids) = &filter.merchant_ids {
        let list: Vec<String> = ids.iter().map(|_| next()).collect();
        conditions.push(format!("o.merchant_id IN ({})", list.join(", ")));
    }
    if filter.status.is_some() {
        conditions.push(format!("o.status = {}", next()));
    }
    if filter.cursor.is_some() {
        let (a, b, c) = (next(), next(), next());
        conditions.push(format!(
            "(o.created_at < {a} OR (o.created_at = {b} AND o.id < {c}))"
        ));
    }
    let limit = next();
    let sql = format!(
        "{ORDER_SELECT} {} ORDER BY o.created_at DESC, o.id DESC LIMIT {limit}",
        if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        }
    );
    on_db!(db, pool => {
        let mut query = sqlx::query_as(&sql);
        if let Some(customer) = filter.customer_id {
            query = query.bind(customer);
        }
        if let Some(ids) = &filter.merchant_ids {
            for id in ids {
                query = query.bind(*id);
            }
        }
        if let Some(status) = &filter.status {
            query = query.bind(status.clone());
        }
        if let Some((at, id)) = filter.cursor {
            query = query.bind(at).bind(at).bind(id);
        }
        query.bind(filter.limit).fetch_all(pool).await
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LineRow {
    pub id: Uuid,
    pub order_id: Uuid,
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub product_name: String,
    pub product_type: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub line_total: i64,
    pub commission_bps: i64,
    pub commission: i64,
    pub discount: i64,
    pub platform_discount: i64,
}

const LINE_SELECT: &str =
    "SELECT id, order_id, variant_id, product_id, sku, product_name, product_type,
    quantity, unit_price, line_total, commission_bps, commission, discount, platform_discount
    FROM orders_lines";

pub async fn lines_of(db: &Db, order_ids: &[Uuid]) -> Result<Vec<LineRow>> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = (1..=order_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "{LINE_SELECT} WHERE order_id IN ({}) ORDER BY order_id, position",
        list.join(", ")
    );
    on_db!(db, pool => {
        let mut query = sqlx::query_as(&sql);
        for id in order_ids {
            query = query.bind(*id);
        }
        query.fetch_all(pool).await
    })
}

pub async fn lines_in(tx: &mut Tx, order_id: Uuid) -> Result<Vec<LineRow>> {
    let sql = format!("{LINE_SELECT} WHERE order_id = $1 ORDER BY position");
    on_tx!(tx, conn => sqlx::query_as(&sql).bind(order_id).fetch_all(conn).await)
}

/// Moves an order from `from` to `to` (conditional: false when it is no longer in `from`).
pub async fn move_order(
    tx: &mut Tx,
    id: Uuid,
    from: &str,
    to: &str,
    tracking_number: Option<&str>,
    now: Timestamp,
) -> Result<bool> {
    let moved = on_tx!(tx, conn => sqlx::query(
        "UPDATE orders_orders SET status = $1, tracking_number = COALESCE($2, tracking_number), updated_at = $3
         WHERE id = $4 AND status = $5"
    ).bind(to).bind(tracking_number).bind(now.millis()).bind(id).bind(from)
     .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(moved == 1)
}

/// Adds a refund to an order, never beyond its total (false then).
pub async fn add_refunded(tx: &mut Tx, id: Uuid, amount: i64, now: Timestamp) -> Result<bool> {
    let updated = on_tx!(tx, conn => sqlx::query(
        "UPDATE orders_orders SET refunded = refunded + $1, updated_at = $2 WHERE id = $3 AND refunded + $1 <= total"
    ).bind(amount).bind(now.millis()).bind(id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(updated == 1)
}

/// Unpaid orders past their payment window.
pub async fn due_expiries(db: &Db, now: Timestamp, limit: i64) -> Result<Vec<Uuid>> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT id FROM orders_orders WHERE status = 'PENDING_PAYMENT' AND expires_at < $1 ORDER BY expires_at LIMIT $2"
    ).bind(now.millis()).bind(limit).fetch_all(pool).await)
}

// ---- timeline ----

#[allow(clippy::too_many_arguments)]
pub async fn insert_timeline(
    tx: &mut Tx,
    order_id: Uuid,
    status: &str,
    previous: Option<&str>,
    mover: &str,
    actor_id: Option<Uuid>,
    note: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO orders_timeline (id, order_id, status, previous_status, mover, actor_id, note, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ).bind(kernel::new_id()).bind(order_id).bind(status).bind(previous).bind(mover).bind(actor_id)
     .bind(note).bind(now.millis()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TimelineRow {
    pub status: String,
    pub previous_status: Option<String>,
    pub mover: String,
    pub actor_id: Option<Uuid>,
    pub note: Option<String>,
    pub at: i64,
}

pub async fn timeline(db: &Db, order_id: Uuid) -> Result<Vec<TimelineRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT status, previous_status, mover, actor_id, note, at FROM orders_timeline
         WHERE order_id = $1 ORDER BY at, id"
    ).bind(order_id).fetch_all(pool).await)
}
