//! The points ledger: every movement is an entry and the balance moves with it in one
//! transaction; debits spend the credits that expire first; a change of qualifying points
//! re-evaluates the tier.

use kernel::Timestamp;
use platform::bus;
use platform::db::Tx;
use uuid::Uuid;

use super::*;
use crate::domain;
use crate::store::{self, NewEntry};

/// A movement to record.
pub struct Movement<'a> {
    pub customer_id: Uuid,
    pub kind: EntryKind,
    /// Positive credit or negative debit.
    pub points: i64,
    /// Purchase points toward tiers (negative when taken back).
    pub qualifying: i64,
    pub reference: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub actor_id: Option<Uuid>,
    /// For a credit: when it expires, instead of `points_valid_days` from now.
    pub expires_at: Option<i64>,
}

/// A movement written.
pub struct Recorded {
    pub entry_id: Uuid,
    /// For a debit: the earliest expiry among the credits it spent.
    pub earliest_spent: Option<i64>,
}

impl Loyalty {
    /// Records a movement. A credit expires after `points_valid_days` (or when the movement
    /// says); a debit spends the credits expiring first and, when `covered`, never takes the
    /// balance below zero. None: nothing recorded (a once-only credit already made, or a
    /// covered debit the balance cannot pay: the caller rolls back).
    pub(super) async fn record(
        &self,
        tx: &mut Tx,
        movement: Movement<'_>,
        covered: bool,
    ) -> Result<Option<Recorded>> {
        let entry_id = kernel::new_id();
        if movement.points == 0 {
            return Ok(Some(Recorded {
                entry_id,
                earliest_spent: None,
            }));
        }
        let now = Timestamp::now().millis();
        store::ensure_account(tx, movement.customer_id, &self.lowest_tier()?.code, now).await?;
        let credit = movement.points > 0;
        let expires_at = movement
            .expires_at
            .unwrap_or(now + self.config.points_valid_days * DAY_MS);
        let entry = NewEntry {
            id: entry_id,
            customer_id: movement.customer_id,
            kind: movement.kind.as_str(),
            points: movement.points,
            expires_at: credit.then_some(expires_at),
            qualifying: movement.qualifying,
            reference: movement.reference,
            reason: movement.reason,
            actor_id: movement.actor_id,
        };
        if !store::write_entry(tx, &entry, covered && !credit, now).await? {
            return Ok(None);
        }
        let earliest_spent = if credit {
            None
        } else {
            store::consume_lots(tx, movement.customer_id, -movement.points).await?
        };
        if movement.qualifying != 0 {
            self.evaluate_tier(tx, movement.customer_id).await?;
        }
        Ok(Some(Recorded {
            entry_id,
            earliest_spent,
        }))
    }

    /// Moves the customer to the tier their qualifying points of the last 365 days reach,
    /// up or down, and says so.
    pub(super) async fn evaluate_tier(&self, tx: &mut Tx, customer_id: Uuid) -> Result<()> {
        let now = Timestamp::now().millis();
        let Some(account) = store::account_in(tx, customer_id).await? else {
            return Ok(());
        };
        let qualifying = store::qualifying(tx, customer_id, now - QUALIFYING_WINDOW_MS).await?;
        let Some(tier) = domain::tier_for(&self.config.tiers, qualifying) else {
            return Ok(());
        };
        if tier.code == account.tier {
            return Ok(());
        }
        store::set_tier(tx, customer_id, &tier.code, now).await?;
        bus::publish(
            tx,
            SOURCE,
            &TierChanged {
                customer_id,
                from: account.tier,
                to: tier.code.clone(),
                to_name: tier.name.clone(),
                qualifying_points: qualifying,
            },
        )
        .await?;
        Ok(())
    }

    /// Nightly: customers above the lowest tier whose purchase points rolled out of the
    /// window move down.
    pub async fn reevaluate_tiers(&self) -> Result<usize> {
        let lowest = self.lowest_tier()?.code.clone();
        let mut moved = 0;
        for customer_id in store::accounts_above(&self.ctx.db, &lowest).await? {
            let mut tx = self.ctx.db.begin().await?;
            let before = store::account_in(&mut tx, customer_id)
                .await?
                .map(|a| a.tier);
            self.evaluate_tier(&mut tx, customer_id).await?;
            let after = store::account_in(&mut tx, customer_id)
                .await?
                .map(|a| a.tier);
            tx.commit().await?;
            if before != after {
                moved += 1;
            }
        }
        Ok(moved)
    }
}
