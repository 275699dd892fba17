//! Tracking: the timeline of each shipment, and the courier reports already applied.

use super::*;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TrackingRow {
    pub id: Uuid,
    pub shipment_id: Uuid,
    pub status: String,
    pub occurred_at: i64,
    pub received_at: i64,
    pub location: Option<String>,
    pub description: Option<String>,
    pub applied: bool,
    pub source: String,
}

pub async fn insert_tracking(tx: &mut Tx, t: &TrackingRow) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO shipping_tracking_events (id, shipment_id, status, occurred_at, received_at,
            location, description, applied, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ).bind(t.id).bind(t.shipment_id).bind(&t.status).bind(t.occurred_at).bind(t.received_at)
        .bind(&t.location).bind(&t.description).bind(t.applied).bind(&t.source)
        .execute(conn).await.map(|_| ()))
}

/// The shipment's timeline in the order things happened (as reported), then as received.
pub async fn timeline(db: &Db, shipment_id: Uuid) -> Result<Vec<TrackingRow>> {
    on_db!(db, pool => sqlx::query_as(
        "SELECT id, shipment_id, status, occurred_at, received_at, location, description,
            applied, source
         FROM shipping_tracking_events WHERE shipment_id = $1
         ORDER BY occurred_at, received_at, id"
    ).bind(shipment_id).fetch_all(pool).await)
}

/// Claims a courier report: false when it was claimed before (a redelivery, or a concurrent
/// duplicate, which on PostgreSQL waits here for the first one's transaction to end).
pub async fn claim_report(tx: &mut Tx, courier: &str, event_id: &str, now: i64) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "INSERT INTO shipping_courier_reports (courier_code, event_id, outcome, received_at)
         VALUES ($1, $2, 'pending', $3) ON CONFLICT (courier_code, event_id) DO NOTHING"
    ).bind(courier).bind(event_id).bind(now).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// What became of a claimed report.
pub async fn settle_report(
    tx: &mut Tx,
    courier: &str,
    event_id: &str,
    shipment_id: Option<Uuid>,
    outcome: &str,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE shipping_courier_reports SET shipment_id = $3, outcome = $4
         WHERE courier_code = $1 AND event_id = $2"
    ).bind(courier).bind(event_id).bind(shipment_id).bind(outcome)
        .execute(conn).await.map(|_| ()))
}
