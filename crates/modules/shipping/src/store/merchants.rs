//! Merchants' choices of couriers.

use super::*;

/// The chosen couriers (JSON arrays of codes) of those of `ids` that chose.
pub async fn merchant_choices(db: &Db, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT merchant_id, couriers FROM shipping_merchant_couriers WHERE merchant_id IN ({})",
        placeholders.join(", ")
    );
    on_db!(db, pool => {
        let mut query = sqlx::query_as(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        query.fetch_all(pool).await
    })
}

/// Replaces the merchant's choice.
pub async fn save_choice(
    tx: &mut Tx,
    merchant_id: Uuid,
    couriers: &str,
    by: Uuid,
    now: i64,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO shipping_merchant_couriers (merchant_id, couriers, updated_by, updated_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (merchant_id) DO UPDATE SET couriers = excluded.couriers,
            updated_by = excluded.updated_by, updated_at = excluded.updated_at"
    ).bind(merchant_id).bind(couriers).bind(by).bind(now).execute(conn).await.map(|_| ()))
}
