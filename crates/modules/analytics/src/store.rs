//! Every SQL statement of analytics: the hourly rollups (merchant figures, products, platform
//! counts), the paid orders' running refunds, and applications waiting for a decision.

use platform::db::{Db, Tx};
use platform::{on_db, on_tx};
use uuid::Uuid;

use crate::domain::Span;

type Result<T> = std::result::Result<T, sqlx::Error>;

/// What one event adds to a merchant's hour in one currency (also the row read back).
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct MerchantHour {
    pub orders: i64,
    pub gross: i64,
    pub commission: i64,
    pub refunds: i64,
    pub refund_count: i64,
    pub vouchers_sold: i64,
    pub vouchers_sold_value: i64,
    pub redemptions: i64,
    pub redeemed_value: i64,
    pub redemption_commission: i64,
    pub vouchers_expired: i64,
    pub expired_value: i64,
    pub delivered_commission: i64,
    pub payouts_paid: i64,
    pub payouts_paid_count: i64,
    pub payouts_failed: i64,
    pub payouts_failed_count: i64,
}

/// Adds `d` to the bucket (made on first use).
pub async fn add_merchant_hour(
    tx: &mut Tx,
    merchant_id: Uuid,
    currency: &str,
    hour: i64,
    d: &MerchantHour,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO analytics_merchant_hours (merchant_id, currency, hour, orders, gross, commission,
            refunds, refund_count, vouchers_sold, vouchers_sold_value, redemptions, redeemed_value,
            redemption_commission, vouchers_expired, expired_value, delivered_commission,
            payouts_paid, payouts_paid_count, payouts_failed, payouts_failed_count)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
         ON CONFLICT (merchant_id, currency, hour) DO UPDATE SET
            orders = analytics_merchant_hours.orders + excluded.orders,
            gross = analytics_merchant_hours.gross + excluded.gross,
            commission = analytics_merchant_hours.commission + excluded.commission,
            refunds = analytics_merchant_hours.refunds + excluded.refunds,
            refund_count = analytics_merchant_hours.refund_count + excluded.refund_count,
            vouchers_sold = analytics_merchant_hours.vouchers_sold + excluded.vouchers_sold,
            vouchers_sold_value = analytics_merchant_hours.vouchers_sold_value + excluded.vouchers_sold_value,
            redemptions = analytics_merchant_hours.redemptions + excluded.redemptions,
            redeemed_value = analytics_merchant_hours.redeemed_value + excluded.redeemed_value,
            redemption_commission = analytics_merchant_hours.redemption_commission + excluded.redemption_commission,
            vouchers_expired = analytics_merchant_hours.vouchers_expired + excluded.vouchers_expired,
            expired_value = analytics_merchant_hours.expired_value + excluded.expired_value,
            delivered_commission = analytics_merchant_hours.delivered_commission + excluded.delivered_commission,
            payouts_paid = analytics_merchant_hours.payouts_paid + excluded.payouts_paid,
            payouts_paid_count = analytics_merchant_hours.payouts_paid_count + excluded.payouts_paid_count,
            payouts_failed = analytics_merchant_hours.payouts_failed + excluded.payouts_failed,
            payouts_failed_count = analytics_merchant_hours.payouts_failed_count + excluded.payouts_failed_count"
    ).bind(merchant_id).bind(currency).bind(hour)
        .bind(d.orders).bind(d.gross).bind(d.commission).bind(d.refunds).bind(d.refund_count)
        .bind(d.vouchers_sold).bind(d.vouchers_sold_value).bind(d.redemptions).bind(d.redeemed_value)
        .bind(d.redemption_commission).bind(d.vouchers_expired).bind(d.expired_value)
        .bind(d.delivered_commission).bind(d.payouts_paid).bind(d.payouts_paid_count)
        .bind(d.payouts_failed).bind(d.payouts_failed_count)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    touch_merchant(tx, merchant_id).await
}

/// A merchant's figures of one local day in one currency, as read: `day` counts days from
/// 1970-01-01.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MerchantDayRow {
    pub currency: String,
    pub day: i64,
    #[sqlx(flatten)]
    pub figures: MerchantHour,
}

const FIGURES: &str = "orders, gross, commission, refunds, refund_count, vouchers_sold,
    vouchers_sold_value, redemptions, redeemed_value, redemption_commission, vouchers_expired,
    expired_value, delivered_commission, payouts_paid, payouts_paid_count, payouts_failed,
    payouts_failed_count";

/// A merchant's figures in the spans, summed by the database per currency and local day (a
/// year is 365 rows per currency, not 8,760). A day cut by a clock change comes in two rows.
pub async fn merchant_days(
    db: &Db,
    merchant_id: Uuid,
    spans: &[Span],
) -> Result<Vec<MerchantDayRow>> {
    let sql = format!(
        "SELECT currency, day, {sums} FROM (
             SELECT currency, (hour + $4) / 86400000 AS day, {FIGURES}
             FROM analytics_merchant_hours WHERE merchant_id = $1 AND hour >= $2 AND hour < $3
         ) AS hours GROUP BY currency, day ORDER BY currency, day",
        sums = summed_figures()
    );
    let mut rows = Vec::new();
    for span in spans {
        let offset_ms = span.offset_secs * 1000;
        rows.extend(on_db!(db, pool => sqlx::query_as::<_, MerchantDayRow>(&sql)
            .bind(merchant_id).bind(span.start_ms).bind(span.end_ms).bind(offset_ms)
            .fetch_all(pool).await)?);
    }
    Ok(rows)
}

/// Marks a merchant's figures changed, in the transaction that changes them: what was read
/// under the previous version is not served again.
async fn touch_merchant(tx: &mut Tx, merchant_id: Uuid) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO analytics_merchant_versions (merchant_id, version) VALUES ($1, 1)
         ON CONFLICT (merchant_id) DO UPDATE SET version = analytics_merchant_versions.version + 1"
    ).bind(merchant_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The version of a merchant's figures (0 before any).
pub async fn merchant_version(db: &Db, merchant_id: Uuid) -> Result<i64> {
    let version: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT version FROM analytics_merchant_versions WHERE merchant_id = $1"
    ).bind(merchant_id).fetch_optional(pool).await)?;
    Ok(version.unwrap_or(0))
}

fn summed_figures() -> String {
    FIGURES
        .split(',')
        .map(|c| {
            let c = c.trim();
            format!("CAST(COALESCE(SUM({c}), 0) AS BIGINT) AS {c}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every merchant's buckets in `[start, end)` summed per currency.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CurrencyTotals {
    pub currency: String,
    #[sqlx(flatten)]
    pub figures: MerchantHour,
}

pub async fn platform_totals(db: &Db, start: i64, end: i64) -> Result<Vec<CurrencyTotals>> {
    let sums = summed_figures();
    let sql = format!(
        "SELECT currency, {sums} FROM analytics_merchant_hours
         WHERE hour >= $1 AND hour < $2 GROUP BY currency ORDER BY currency"
    );
    on_db!(db, pool => sqlx::query_as(&sql).bind(start).bind(end).fetch_all(pool).await)
}

/// Adds a paid line to its product's hour.
#[allow(clippy::too_many_arguments)]
pub async fn add_product_hour(
    tx: &mut Tx,
    merchant_id: Uuid,
    product_id: Uuid,
    currency: &str,
    hour: i64,
    sku: &str,
    quantity: i64,
    revenue: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO analytics_product_hours (merchant_id, product_id, currency, hour, sku, quantity, revenue, orders)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1)
         ON CONFLICT (merchant_id, currency, hour, product_id) DO UPDATE SET
            sku = excluded.sku,
            quantity = analytics_product_hours.quantity + excluded.quantity,
            revenue = analytics_product_hours.revenue + excluded.revenue,
            orders = analytics_product_hours.orders + 1"
    ).bind(merchant_id).bind(product_id).bind(currency).bind(hour).bind(sku).bind(quantity).bind(revenue)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    touch_merchant(tx, merchant_id).await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductRow {
    pub currency: String,
    pub product_id: Uuid,
    pub sku: String,
    pub quantity: i64,
    pub revenue: i64,
    pub orders: i64,
}

/// A merchant's products in `[start, end)`, per currency, best revenue first.
pub async fn products(db: &Db, merchant_id: Uuid, start: i64, end: i64) -> Result<Vec<ProductRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT currency, product_id, MAX(sku) AS sku,
            CAST(SUM(quantity) AS BIGINT) AS quantity, CAST(SUM(revenue) AS BIGINT) AS revenue,
            CAST(SUM(orders) AS BIGINT) AS orders
         FROM analytics_product_hours
         WHERE merchant_id = $1 AND hour >= $2 AND hour < $3
         GROUP BY currency, product_id ORDER BY currency, revenue DESC, quantity DESC, product_id"
    ).bind(merchant_id).bind(start).bind(end).fetch_all(pool).await)
}

/// Records a paid order; false when it was recorded already (nothing is counted twice).
/// Records the sale of a paid order: a new row, or the placeholder an earlier-applied event of
/// the order left. False when the sale was counted already (a redelivered `order.paid`).
pub async fn record_sale(
    tx: &mut Tx,
    order_id: Uuid,
    merchant_id: Uuid,
    currency: &str,
    paid_at: i64,
    refunded: i64,
) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO analytics_orders (order_id, merchant_id, currency, paid_at, refunded, sale_counted)
         VALUES ($1, $2, $3, $4, $5, TRUE)
         ON CONFLICT (order_id) DO UPDATE SET sale_counted = TRUE, paid_at = excluded.paid_at
         WHERE analytics_orders.sale_counted = FALSE"
    ).bind(order_id).bind(merchant_id).bind(currency).bind(paid_at).bind(refunded)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// A row for an order whose `order.paid` has not been applied yet (its sale not counted).
pub async fn insert_order_placeholder(
    tx: &mut Tx,
    order_id: Uuid,
    merchant_id: Uuid,
    currency: &str,
    seen_at: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO analytics_orders (order_id, merchant_id, currency, paid_at, refunded, sale_counted)
         VALUES ($1, $2, $3, $4, 0, FALSE) ON CONFLICT (order_id) DO NOTHING"
    ).bind(order_id).bind(merchant_id).bind(currency).bind(seen_at)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    pub refunded: i64,
    pub delivered_commission: i64,
}

/// A recorded order, its row taken for the rest of the transaction.
pub async fn order_for_update(tx: &mut Tx, order_id: Uuid) -> Result<Option<OrderRow>> {
    let sql = match tx.dialect() {
        platform::Dialect::Postgres => {
            "SELECT refunded, delivered_commission FROM analytics_orders WHERE order_id = $1 FOR UPDATE"
        }
        platform::Dialect::Sqlite => {
            "SELECT refunded, delivered_commission FROM analytics_orders WHERE order_id = $1"
        }
    };
    on_tx!(tx, conn => sqlx::query_as(sql).bind(order_id).fetch_optional(conn).await)
}

pub async fn set_refunded(tx: &mut Tx, order_id: Uuid, refunded: i64) -> Result<()> {
    on_tx!(tx, conn => sqlx::query("UPDATE analytics_orders SET refunded = $2 WHERE order_id = $1")
        .bind(order_id).bind(refunded).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_delivered_commission(tx: &mut Tx, order_id: Uuid, commission: i64) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE analytics_orders SET delivered_commission = $2 WHERE order_id = $1"
    ).bind(order_id).bind(commission).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// What one event adds to the platform's hour.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlatformHour {
    pub new_customers: i64,
    pub new_merchants: i64,
    pub applications: i64,
}

pub async fn add_platform_hour(tx: &mut Tx, hour: i64, d: PlatformHour) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO analytics_platform_hours (hour, new_customers, new_merchants, applications)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (hour) DO UPDATE SET
            new_customers = analytics_platform_hours.new_customers + excluded.new_customers,
            new_merchants = analytics_platform_hours.new_merchants + excluded.new_merchants,
            applications = analytics_platform_hours.applications + excluded.applications"
    ).bind(hour).bind(d.new_customers).bind(d.new_merchants).bind(d.applications)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlatformCounts {
    pub new_customers: i64,
    pub new_merchants: i64,
    pub applications: i64,
}

pub async fn platform_counts(db: &Db, start: i64, end: i64) -> Result<PlatformCounts> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(new_customers), 0) AS BIGINT) AS new_customers,
            CAST(COALESCE(SUM(new_merchants), 0) AS BIGINT) AS new_merchants,
            CAST(COALESCE(SUM(applications), 0) AS BIGINT) AS applications
         FROM analytics_platform_hours WHERE hour >= $1 AND hour < $2"
    ).bind(start).bind(end).fetch_one(pool).await)
}

/// Sets an application's state (a decision never goes back to PENDING).
pub async fn set_application(tx: &mut Tx, merchant_id: Uuid, status: &str, now: i64) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO analytics_applications (merchant_id, status, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (merchant_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at
         WHERE excluded.status <> 'PENDING'"
    ).bind(merchant_id).bind(status).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn pending_applications(db: &Db) -> Result<i64> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM analytics_applications WHERE status = 'PENDING'"
    ).fetch_one(pool).await)
}

/// Records a fraud case opened; a case decided already stays closed.
pub async fn open_fraud_case(
    tx: &mut Tx,
    case_id: Uuid,
    merchant_id: Uuid,
    now: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO analytics_fraud_cases (case_id, merchant_id, open, updated_at) VALUES ($1, $2, TRUE, $3)
         ON CONFLICT (case_id) DO NOTHING"
    ).bind(case_id).bind(merchant_id).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records a fraud case decided, whether or not its opening was applied yet.
pub async fn close_fraud_case(
    tx: &mut Tx,
    case_id: Uuid,
    merchant_id: Uuid,
    now: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO analytics_fraud_cases (case_id, merchant_id, open, updated_at) VALUES ($1, $2, FALSE, $3)
         ON CONFLICT (case_id) DO UPDATE SET open = FALSE, updated_at = excluded.updated_at"
    ).bind(case_id).bind(merchant_id).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn open_fraud_cases(db: &Db) -> Result<i64> {
    on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM analytics_fraud_cases WHERE open")
        .fetch_one(pool).await)
}
