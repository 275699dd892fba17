//! What others do with a review: helpful votes, reports, the merchant's response.

use super::*;

/// Counts the customer's helpful vote once; the review's count after it, and whether this
/// vote was new.
pub async fn vote(
    tx: &mut Tx,
    review_id: Uuid,
    customer_id: Uuid,
    now: i64,
) -> Result<(i64, bool)> {
    let inserted = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO reviews_votes (review_id, customer_id, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (review_id, customer_id) DO NOTHING"
    ).bind(review_id).bind(customer_id).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
    let count: i64 = if inserted == 1 {
        on_tx!(tx, conn => sqlx::query_scalar(
            "UPDATE reviews_reviews SET helpful_count = helpful_count + 1 WHERE id = $1 RETURNING helpful_count"
        ).bind(review_id).fetch_one(conn).await)?
    } else {
        on_tx!(tx, conn => sqlx::query_scalar(
            "SELECT helpful_count FROM reviews_reviews WHERE id = $1"
        ).bind(review_id).fetch_one(conn).await)?
    };
    Ok((count, inserted == 1))
}

/// Records the customer's report once, and counts it on the review; the review's open
/// reports after it, or None when the customer had reported it already.
pub async fn report(
    tx: &mut Tx,
    review_id: Uuid,
    customer_id: Uuid,
    reason: &str,
    now: i64,
) -> Result<Option<i64>> {
    let inserted = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO reviews_reports (review_id, customer_id, reason, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (review_id, customer_id) DO NOTHING"
    ).bind(review_id).bind(customer_id).bind(reason).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
    if inserted == 0 {
        return Ok(None);
    }
    let open: i64 = on_tx!(tx, conn => sqlx::query_scalar(
        "UPDATE reviews_reviews SET report_count = report_count + 1, open_reports = open_reports + 1
         WHERE id = $1 RETURNING open_reports"
    ).bind(review_id).fetch_one(conn).await)?;
    Ok(Some(open))
}

/// Writes the merchant's response; false when the review has one.
pub async fn respond(
    tx: &mut Tx,
    review_id: Uuid,
    merchant_id: Uuid,
    author_id: Uuid,
    body: &str,
    now: i64,
) -> Result<bool> {
    let inserted = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO reviews_responses (review_id, merchant_id, author_id, body, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (review_id) DO NOTHING"
    ).bind(review_id).bind(merchant_id).bind(author_id).bind(body).bind(now)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(inserted == 1)
}
