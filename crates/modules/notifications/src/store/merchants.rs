//! Who speaks for a merchant: its owner and staff, and its outlets' names.

use platform::db::Tx;
use platform::on_tx;
use uuid::Uuid;

use super::Result;

pub async fn upsert_merchant_owner(
    tx: &mut Tx,
    merchant_id: Uuid,
    owner: Uuid,
    name: &str,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO notifications_merchant_owners (merchant_id, owner_user_id, business_name) VALUES ($1, $2, $3)
         ON CONFLICT (merchant_id) DO UPDATE SET owner_user_id = excluded.owner_user_id, business_name = excluded.business_name"
    ).bind(merchant_id).bind(owner).bind(name).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// `(owner, business name)` of a merchant.
pub async fn merchant_owner(tx: &mut Tx, merchant_id: Uuid) -> Result<Option<(Uuid, String)>> {
    on_tx!(tx, conn => sqlx::query_as(
        "SELECT owner_user_id, business_name FROM notifications_merchant_owners WHERE merchant_id = $1"
    ).bind(merchant_id).fetch_optional(conn).await)
}

/// Adds a member or changes their role.
pub async fn upsert_member(
    tx: &mut Tx,
    merchant_id: Uuid,
    user_id: Uuid,
    role: &str,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO notifications_merchant_members (merchant_id, user_id, role) VALUES ($1, $2, $3)
         ON CONFLICT (merchant_id, user_id) DO UPDATE SET role = excluded.role"
    ).bind(merchant_id).bind(user_id).bind(role).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn remove_member(tx: &mut Tx, merchant_id: Uuid, user_id: Uuid) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "DELETE FROM notifications_merchant_members WHERE merchant_id = $1 AND user_id = $2"
    ).bind(merchant_id).bind(user_id).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The owner and managers of a merchant: who hears of its new orders and redemptions.
pub async fn owner_and_managers(tx: &mut Tx, merchant_id: Uuid) -> Result<Vec<Uuid>> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT owner_user_id FROM notifications_merchant_owners WHERE merchant_id = $1
         UNION
         SELECT user_id FROM notifications_merchant_members WHERE merchant_id = $1 AND role IN ('owner', 'manager')"
    ).bind(merchant_id).fetch_all(conn).await)
}

pub async fn upsert_outlet(
    tx: &mut Tx,
    outlet_id: Uuid,
    merchant_id: Uuid,
    name: &str,
) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "INSERT INTO notifications_outlets (outlet_id, merchant_id, name) VALUES ($1, $2, $3)
         ON CONFLICT (outlet_id) DO UPDATE SET name = excluded.name"
    ).bind(outlet_id).bind(merchant_id).bind(name).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Kept after the outlet is removed: a late redemption event still names where it happened.
pub async fn outlet_name(tx: &mut Tx, outlet_id: Uuid) -> Result<Option<String>> {
    on_tx!(tx, conn => sqlx::query_scalar(
        "SELECT name FROM notifications_outlets WHERE outlet_id = $1"
    ).bind(outlet_id).fetch_optional(conn).await)
}

/// A merchant's new name, for the messages that name it.
pub async fn rename_merchant(tx: &mut Tx, merchant_id: Uuid, name: &str) -> Result<()> {
    on_tx!(tx, conn => sqlx::query(
        "UPDATE notifications_merchant_owners SET business_name = $2 WHERE merchant_id = $1"
    ).bind(merchant_id).bind(name).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(())
}
