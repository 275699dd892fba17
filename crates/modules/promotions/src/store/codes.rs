//! Coupon codes: public and generated, with their limits.

use super::*;

/// Adds a code; false when it exists already (any promotion).
pub async fn insert_code(
    tx: &mut Tx,
    code: &str,
    promotion_id: Uuid,
    generated: bool,
    usage_limit: Option<i64>,
    now: i64,
) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO promotions_codes (code, promotion_id, generated, usage_limit, uses, created_at)
         VALUES ($1, $2, $3, $4, 0, $5) ON CONFLICT (code) DO NOTHING"
    ).bind(code).bind(promotion_id).bind(generated).bind(usage_limit).bind(now)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// The public code of a promotion.
pub async fn public_code(db: &Db, promotion_id: Uuid) -> Result<Option<String>> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT code FROM promotions_codes WHERE promotion_id = $1 AND NOT generated"
    ).bind(promotion_id).fetch_optional(pool).await)
}

pub async fn public_code_in(tx: &mut Tx, promotion_id: Uuid) -> Result<Option<String>> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT code FROM promotions_codes WHERE promotion_id = $1 AND NOT generated"
    ).bind(promotion_id).fetch_optional(conn).await)
}

/// Removes a promotion's public code (it changed): the old code stops working at once. Its
/// uses keep their code text.
pub async fn drop_public_code(tx: &mut Tx, promotion_id: Uuid) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "DELETE FROM promotions_codes WHERE promotion_id = $1 AND NOT generated"
    ).bind(promotion_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn generated_count(db: &Db, promotion_id: Uuid) -> Result<i64> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM promotions_codes WHERE promotion_id = $1 AND generated"
    ).bind(promotion_id).fetch_one(pool).await)
}

pub async fn codes_of(db: &Db, promotion_id: Uuid) -> Result<Vec<(String, Option<i64>, i64)>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT code, usage_limit, uses FROM promotions_codes WHERE promotion_id = $1
         ORDER BY generated, code"
    ).bind(promotion_id).fetch_all(pool).await)
}
