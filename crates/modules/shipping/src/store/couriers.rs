//! Couriers and their rate tables: read whole (the rate book is small and cached), replaced
//! whole.

use super::*;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CourierRow {
    pub code: String,
    pub name: String,
    pub country: Option<String>,
    pub currency: Option<String>,
    pub volumetric_divisor: i32,
    pub tracking_prefix: String,
    pub active: bool,
    pub version: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ServiceRow {
    pub courier_code: String,
    pub service: String,
    pub name: String,
    pub active: bool,
    pub cod: bool,
    pub max_weight_grams: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ZoneRow {
    pub courier_code: String,
    pub service: String,
    pub zone: String,
    pub eta_min_days: i32,
    pub eta_max_days: i32,
    pub extra_per_kg: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BracketRow {
    pub courier_code: String,
    pub service: String,
    pub zone: String,
    pub from_grams: i64,
    pub to_grams: i64,
    pub amount: i64,
}

/// Every row of every courier's rate table.
pub struct RateRows {
    pub couriers: Vec<CourierRow>,
    pub services: Vec<ServiceRow>,
    pub zones: Vec<ZoneRow>,
    pub brackets: Vec<BracketRow>,
}

pub async fn rate_rows(db: &Db) -> Result<RateRows> {
    Ok(RateRows {
        couriers: on_db!(db, pool => sqlx::query_as(
            "SELECT code, name, country, currency, volumetric_divisor, tracking_prefix, active,
                version, updated_at
             FROM shipping_couriers ORDER BY code"
        ).fetch_all(pool).await)?,
        services: on_db!(db, pool => sqlx::query_as(
            "SELECT courier_code, service, name, active, cod, max_weight_grams
             FROM shipping_services ORDER BY courier_code, service"
        ).fetch_all(pool).await)?,
        zones: on_db!(db, pool => sqlx::query_as(
            "SELECT courier_code, service, zone, eta_min_days, eta_max_days, extra_per_kg
             FROM shipping_zone_rates ORDER BY courier_code, service, zone"
        ).fetch_all(pool).await)?,
        brackets: on_db!(db, pool => sqlx::query_as(
            "SELECT courier_code, service, zone, from_grams, to_grams, amount
             FROM shipping_rate_brackets ORDER BY courier_code, service, zone, from_grams"
        ).fetch_all(pool).await)?,
    })
}

/// Sets the courier's own fields of a new table and bumps its version; false when there is
/// no such courier. On PostgreSQL the row stays locked, so replacements of one table queue.
pub async fn update_courier(
    tx: &mut Tx,
    code: &str,
    active: bool,
    volumetric_divisor: i32,
    now: i64,
) -> Result<bool> {
    let done = on_tx!(tx, conn => sqlx::query(
        "UPDATE shipping_couriers SET active = $2, volumetric_divisor = $3, version = version + 1,
            updated_at = $4
         WHERE code = $1"
    ).bind(code).bind(active).bind(volumetric_divisor).bind(now)
        .execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Removes the courier's services, zones and brackets (children first).
pub async fn clear_rates(tx: &mut Tx, code: &str) -> Result<()> {
    for sql in [
        "DELETE FROM shipping_rate_brackets WHERE courier_code = $1",
        "DELETE FROM shipping_zone_rates WHERE courier_code = $1",
        "DELETE FROM shipping_services WHERE courier_code = $1",
    ] {
        on_tx!(tx, conn => sqlx::query(sql).bind(code).execute(conn).await.map(|_| ()))?;
    }
    Ok(())
}

pub async fn insert_service(tx: &mut Tx, s: &ServiceRow) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO shipping_services (courier_code, service, name, active, cod, max_weight_grams)
         VALUES ($1, $2, $3, $4, $5, $6)"
    ).bind(&s.courier_code).bind(&s.service).bind(&s.name).bind(s.active).bind(s.cod)
        .bind(s.max_weight_grams).execute(conn).await.map(|_| ()))
}

pub async fn insert_zone(tx: &mut Tx, z: &ZoneRow) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO shipping_zone_rates (courier_code, service, zone, eta_min_days, eta_max_days,
            extra_per_kg)
         VALUES ($1, $2, $3, $4, $5, $6)"
    ).bind(&z.courier_code).bind(&z.service).bind(&z.zone).bind(z.eta_min_days)
        .bind(z.eta_max_days).bind(z.extra_per_kg).execute(conn).await.map(|_| ()))
}

pub async fn insert_bracket(tx: &mut Tx, b: &BracketRow) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO shipping_rate_brackets (courier_code, service, zone, from_grams, to_grams, amount)
         VALUES ($1, $2, $3, $4, $5, $6)"
    ).bind(&b.courier_code).bind(&b.service).bind(&b.zone).bind(b.from_grams).bind(b.to_grams)
        .bind(b.amount).execute(conn).await.map(|_| ()))
}
