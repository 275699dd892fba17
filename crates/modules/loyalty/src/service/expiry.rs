//! Credits expire what is left of them `points_valid_days` after they were made, oldest
//! first; customers hear of it `expiry_reminder_days` before.

use kernel::Timestamp;
use platform::bus;

use super::*;
use crate::store::{self, NewEntry};

impl Loyalty {
    /// Takes what is left of expired credits, batch after batch; how many credits expired.
    pub async fn expire_points(&self) -> Result<usize> {
        let mut expired = 0;
        loop {
            let (found, done) = self.expire_batch().await?;
            expired += done;
            if found < store::EXPIRY_BATCH || done == 0 {
                return Ok(expired);
            }
        }
    }

    /// One batch: how many expired credits were found, and how many expired.
    async fn expire_batch(&self) -> Result<(usize, usize)> {
        let now = Timestamp::now().millis();
        let mut expired = 0;
        let lots = store::expired_lots(&self.ctx.db, now).await?;
        for (id, customer_id, remaining) in lots.iter().copied() {
            let mut tx = self.ctx.db.begin().await?;
            let reference = id.to_string();
            let entry = NewEntry {
                id: kernel::new_id(),
                customer_id,
                kind: EntryKind::Expiry.as_str(),
                points: -remaining,
                expires_at: None,
                qualifying: 0,
                reference: Some(&reference),
                reason: None,
                actor_id: None,
            };
            // The entry first: it takes the account's row, as every debit does before it
            // touches credits, so a redemption of the same customer waits.
            store::write_entry(&mut tx, &entry, false, now).await?;
            if !store::expire_lot(&mut tx, id, remaining).await? {
                // Spent meanwhile: the next pass sees what is left.
                tx.rollback().await?;
                continue;
            }
            tx.commit().await?;
            expired += 1;
        }
        Ok((lots.len(), expired))
    }

    /// Tells customers whose points expire within the reminder window, once per credit.
    pub async fn remind_expiring(&self) -> Result<usize> {
        let now = Timestamp::now().millis();
        let before = now + self.config.expiry_reminder_days * DAY_MS;
        let due = store::lots_to_remind(&self.ctx.db, now, before).await?;
        for (customer_id, points, first) in &due {
            let mut tx = self.ctx.db.begin().await?;
            store::mark_reminded(&mut tx, *customer_id, now, before).await?;
            bus::publish(
                &mut tx,
                SOURCE,
                &PointsExpiring {
                    customer_id: *customer_id,
                    points: *points,
                    expires_at: Timestamp::from_millis(*first),
                },
            )
            .await?;
            tx.commit().await?;
        }
        Ok(due.len())
    }
}
