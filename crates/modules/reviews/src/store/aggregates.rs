//! Rating aggregates per product, voucher offer and merchant, moved by atomic increments.

use super::*;

#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct AggregateRow {
    pub review_count: i64,
    pub rating_sum: i64,
    pub r1: i64,
    pub r2: i64,
    pub r3: i64,
    pub r4: i64,
    pub r5: i64,
    pub version: i64,
}

/// Adds the deltas to a subject's aggregate by one atomic increment; the aggregate after it.
/// The aggregate is made on first use (a first change always adds: a review is counted before
/// it is taken out). The update comes first because the CHECKs apply to an insert's proposed
/// row even when it conflicts.
#[allow(clippy::too_many_arguments)]
pub async fn add_to_aggregate(
    tx: &mut Tx,
    subject_kind: &str,
    subject_id: Uuid,
    merchant_id: Uuid,
    count: i64,
    sum: i64,
    histogram: [i64; 5],
    now: i64,
) -> Result<AggregateRow> {
    let updated: Option<AggregateRow> = on_tx!(tx, conn => sqlx::query_as(
        "UPDATE reviews_aggregates SET review_count = review_count + $3, rating_sum = rating_sum + $4,
            r1 = r1 + $5, r2 = r2 + $6, r3 = r3 + $7, r4 = r4 + $8, r5 = r5 + $9, version = version + 1, updated_at = $10
         WHERE subject_kind = $1 AND subject_id = $2
         RETURNING review_count, rating_sum, r1, r2, r3, r4, r5, version"
    ).bind(subject_kind).bind(subject_id).bind(count).bind(sum)
        .bind(histogram[0]).bind(histogram[1]).bind(histogram[2]).bind(histogram[3]).bind(histogram[4])
        .bind(now).fetch_optional(conn).await)?;
    if let Some(updated) = updated {
        return Ok(updated);
    }
    // Two first reviews at once: the second insert conflicts and adds to the first.
    on_tx!(tx, conn => sqlx::query_as(
        "INSERT INTO reviews_aggregates (subject_kind, subject_id, merchant_id, review_count, rating_sum,
            r1, r2, r3, r4, r5, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (subject_kind, subject_id) DO UPDATE SET
            review_count = reviews_aggregates.review_count + excluded.review_count,
            rating_sum = reviews_aggregates.rating_sum + excluded.rating_sum,
            r1 = reviews_aggregates.r1 + excluded.r1,
            r2 = reviews_aggregates.r2 + excluded.r2,
            r3 = reviews_aggregates.r3 + excluded.r3,
            r4 = reviews_aggregates.r4 + excluded.r4,
            r5 = reviews_aggregates.r5 + excluded.r5,
            version = reviews_aggregates.version + 1,
            updated_at = excluded.updated_at
         RETURNING review_count, rating_sum, r1, r2, r3, r4, r5, version"
    ).bind(subject_kind).bind(subject_id).bind(merchant_id).bind(count).bind(sum)
        .bind(histogram[0]).bind(histogram[1]).bind(histogram[2]).bind(histogram[3]).bind(histogram[4])
        .bind(now).fetch_one(conn).await)
}

pub async fn aggregate(
    db: &Db,
    subject_kind: &str,
    subject_id: Uuid,
) -> Result<Option<AggregateRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT review_count, rating_sum, r1, r2, r3, r4, r5, version FROM reviews_aggregates
         WHERE subject_kind = $1 AND subject_id = $2"
    ).bind(subject_kind).bind(subject_id).fetch_optional(pool).await)
}
