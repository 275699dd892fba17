//! Points spent at checkout: the terms checkout prices with, the taking (per order, all or
//! none, never more than the balance), and giving them back when a checkout does not go
//! through or its order is cancelled, expires or is refunded in full.

use std::collections::HashMap;

use kernel::Timestamp;
use platform::db::Tx;
use uuid::Uuid;

use super::ledger::Movement;
use super::*;
use crate::store;

impl Loyalty {
    pub async fn terms(&self, request: &TermsRequest) -> Result<RedemptionTerms> {
        let balance = store::account(&self.ctx.db, request.customer_id)
            .await?
            .map_or(0, |a| a.balance);
        Ok(RedemptionTerms {
            customer_id: request.customer_id,
            balance,
            currency: request.currency,
            minor_per_point: self.point_value(request.currency),
            min_points: self.config.min_redeem_points,
            max_order_bps: self.config.max_redeem_bps,
        })
    }

    /// Takes a checkout's points; idempotent per checkout. A checkout undone before its
    /// redemption arrives takes nothing (`insufficient_points`): its claim row says so.
    pub async fn redeem(&self, request: &RedeemRequest) -> Result<PointsRedemption> {
        let points: i64 = request.orders.iter().map(|o| o.points).sum();
        if request.orders.iter().any(|o| o.points <= 0) {
            return Err(invalid("orders", "points must be positive"));
        }
        if points < self.config.min_redeem_points {
            return Err(LoyaltyError::BelowMinimum(self.config.min_redeem_points));
        }
        let now = Timestamp::now().millis();
        let mut tx = self.ctx.db.begin().await?;
        match store::claim_checkout(&mut tx, request.group_id, now).await? {
            Some(true) => {}
            Some(false) => {
                // Taken already (a retried call): the same answer.
                tx.rollback().await?;
                return Ok(PointsRedemption {
                    group_id: request.group_id,
                    points: store::redeemed_points(&self.ctx.db, request.group_id).await?,
                });
            }
            None => {
                tx.rollback().await?;
                return Err(LoyaltyError::InsufficientPoints);
            }
        }
        for order in &request.orders {
            store::insert_redemption(
                &mut tx,
                request.group_id,
                order.order_id,
                request.customer_id,
                order.points,
                now,
            )
            .await?;
        }
        let reference = request.group_id.to_string();
        let recorded = self
            .record(
                &mut tx,
                Movement {
                    customer_id: request.customer_id,
                    kind: EntryKind::Redeem,
                    points: -points,
                    qualifying: 0,
                    reference: Some(&reference),
                    reason: None,
                    actor_id: None,
                    expires_at: None,
                },
                true,
            )
            .await?;
        let Some(recorded) = recorded else {
            tx.rollback().await?;
            return Err(LoyaltyError::InsufficientPoints);
        };
        store::set_checkout_expiry(&mut tx, request.group_id, recorded.earliest_spent).await?;
        tx.commit().await?;
        Ok(PointsRedemption {
            group_id: request.group_id,
            points,
        })
    }

    /// Gives back every point a checkout took (it did not complete), and marks it undone so a
    /// redemption still on its way takes nothing; idempotent.
    pub async fn give_back(&self, group_id: Uuid) -> Result<PointsRedemption> {
        let mut tx = self.ctx.db.begin().await?;
        store::release_checkout(&mut tx, group_id, Timestamp::now().millis()).await?;
        let points = self.return_points(&mut tx, group_id, None).await?;
        tx.commit().await?;
        Ok(PointsRedemption { group_id, points })
    }

    /// An order that will not be paid for, or was refunded in full: its points come back.
    pub async fn on_order_undone(&self, tx: &mut Tx, group_id: Uuid, order_id: Uuid) -> Result<()> {
        self.return_points(tx, group_id, Some(order_id)).await?;
        Ok(())
    }

    async fn return_points(
        &self,
        tx: &mut Tx,
        group_id: Uuid,
        order_id: Option<Uuid>,
    ) -> Result<i64> {
        let now = Timestamp::now().millis();
        let mut by_customer: HashMap<Uuid, i64> = HashMap::new();
        for (customer, points) in store::return_redemptions(tx, group_id, order_id, now).await? {
            *by_customer.entry(customer).or_default() += points;
        }
        let reference = group_id.to_string();
        // They expire when the earliest of the credits they came from would have: giving
        // points back never extends them.
        let expires_at = store::checkout_expiry(tx, group_id).await?;
        let mut total = 0;
        for (customer_id, points) in by_customer {
            self.record(
                tx,
                Movement {
                    customer_id,
                    kind: EntryKind::RedeemReturned,
                    points,
                    qualifying: 0,
                    reference: Some(&reference),
                    reason: None,
                    actor_id: None,
                    expires_at,
                },
                false,
            )
            .await?;
            total += points;
        }
        Ok(total)
    }
}
