//! Points earned: a paid order's (at the customer's tier multiplier, pending until the order
//! completes unless configured to credit on payment, taken back in proportion to refunds),
//! the signup bonus, and achievements (counted from events, awarded once).

use kernel::Timestamp;
use orders_contract::OrderFact;
use platform::bus;
use platform::db::Tx;
use uuid::Uuid;

use super::ledger::Movement;
use super::*;
use crate::domain;
use crate::store::{self, EarningRow};

impl Loyalty {
    pub async fn on_user_registered(&self, tx: &mut Tx, user_id: Uuid) -> Result<()> {
        let points = self.config.signup_bonus;
        self.bonus(tx, user_id, EntryKind::Signup, points, &user_id.to_string())
            .await
    }

    /// A credit that buys nothing toward tiers (signup, reviews).
    async fn bonus(
        &self,
        tx: &mut Tx,
        customer_id: Uuid,
        kind: EntryKind,
        points: i64,
        reference: &str,
    ) -> Result<()> {
        self.record(
            tx,
            Movement {
                customer_id,
                kind,
                points,
                qualifying: 0,
                reference: Some(reference),
                reason: None,
                actor_id: None,
                expires_at: None,
            },
            false,
        )
        .await?;
        Ok(())
    }

    pub async fn on_order_paid(&self, tx: &mut Tx, order: &OrderFact) -> Result<()> {
        let now = Timestamp::now().millis();
        store::ensure_account(tx, order.customer_id, &self.lowest_tier()?.code, now).await?;
        let tier = match store::account_in(tx, order.customer_id).await? {
            Some(account) => self.tier(&account.tier)?.clone(),
            None => self.lowest_tier()?.clone(),
        };
        let base = domain::base_points(order.total, self.spend_per_point(order.currency));
        let earning = EarningRow {
            order_id: order.order_id,
            customer_id: order.customer_id,
            total: order.total,
            base_points: base,
            points: domain::with_multiplier(base, tier.earn_multiplier_bps),
            reversed: 0,
            state: "PENDING".into(),
        };
        // Once per order, whatever redelivers the event.
        if !store::insert_earning(tx, &earning, now).await? {
            return Ok(());
        }
        if earning.points > 0 && self.config.credit_on == "paid" {
            self.credit_earning(tx, order.order_id).await?;
        }
        self.count_toward(tx, order.customer_id, AchievementKind::OrdersPaid)
            .await
    }

    pub async fn on_order_completed(&self, tx: &mut Tx, order: &OrderFact) -> Result<()> {
        self.credit_earning(tx, order.order_id).await
    }

    /// Credits a pending earning, less what refunds already took back.
    async fn credit_earning(&self, tx: &mut Tx, order_id: Uuid) -> Result<()> {
        let now = Timestamp::now().millis();
        let Some(earning) = store::earning(tx, order_id).await? else {
            return Ok(());
        };
        if !store::move_earning(tx, order_id, "PENDING", "CREDITED", now).await? {
            return Ok(());
        }
        let points = earning.points - earning.reversed;
        let reference = order_id.to_string();
        self.record(
            tx,
            Movement {
                customer_id: earning.customer_id,
                kind: EntryKind::Earn,
                points,
                qualifying: share(earning.base_points, points, earning.points),
                reference: Some(&reference),
                reason: None,
                actor_id: None,
                expires_at: None,
            },
            false,
        )
        .await?;
        Ok(())
    }

    /// A refund (`refunded` so far of the order's total, or all of it when `whole`) takes
    /// back its share of the order's points: from the pending earning, or as a reversal of
    /// the credited one.
    pub async fn on_order_refunded(
        &self,
        tx: &mut Tx,
        order: &OrderFact,
        whole: bool,
    ) -> Result<()> {
        let now = Timestamp::now().millis();
        let Some(earning) = store::earning(tx, order.order_id).await? else {
            return Ok(());
        };
        let refunded = if whole { earning.total } else { order.refunded };
        let due = domain::reversal_due(earning.points, earning.total, refunded, earning.reversed);
        if due == 0 {
            return Ok(());
        }
        store::add_reversed(tx, order.order_id, due, now).await?;
        match earning.state.as_str() {
            "CREDITED" => {
                let reference = order.order_id.to_string();
                self.record(
                    tx,
                    Movement {
                        customer_id: earning.customer_id,
                        kind: EntryKind::Reversal,
                        points: -due,
                        qualifying: -share(earning.base_points, due, earning.points),
                        reference: Some(&reference),
                        reason: Some("refund"),
                        actor_id: None,
                        expires_at: None,
                    },
                    false,
                )
                .await?;
            }
            "PENDING" if earning.reversed + due >= earning.points => {
                store::move_earning(tx, order.order_id, "PENDING", "CANCELLED", now).await?;
            }
            _ => {}
        }
        Ok(())
    }

    pub async fn on_voucher_redeemed(&self, tx: &mut Tx, owner_id: Uuid) -> Result<()> {
        self.count_toward(tx, owner_id, AchievementKind::VouchersRedeemed)
            .await
    }

    /// A review became public: counted once per review, however often it is approved.
    pub async fn on_review_approved(
        &self,
        tx: &mut Tx,
        customer_id: Uuid,
        review_id: Uuid,
    ) -> Result<()> {
        let kind = AchievementKind::ReviewsApproved;
        let now = Timestamp::now().millis();
        let reference = review_id.to_string();
        if !store::count_once(tx, kind.as_str(), &reference, now).await? {
            return Ok(());
        }
        if self.config.review_bonus > 0 {
            store::ensure_account(tx, customer_id, &self.lowest_tier()?.code, now).await?;
            let points = self.config.review_bonus;
            self.bonus(tx, customer_id, EntryKind::Review, points, &reference)
                .await?;
        }
        self.count_toward(tx, customer_id, kind).await
    }

    /// One more of `kind`; awards the achievements whose target the count reaches, once.
    async fn count_toward(
        &self,
        tx: &mut Tx,
        customer_id: Uuid,
        kind: AchievementKind,
    ) -> Result<()> {
        let count = store::count(tx, customer_id, kind.as_str()).await?;
        let now = Timestamp::now().millis();
        for rule in self
            .config
            .achievements
            .iter()
            .filter(|a| a.kind == kind && count >= a.target)
        {
            if !store::award(tx, customer_id, &rule.code, now).await? {
                continue;
            }
            self.record(
                tx,
                Movement {
                    customer_id,
                    kind: EntryKind::Achievement,
                    points: rule.points,
                    qualifying: 0,
                    reference: Some(&rule.code),
                    reason: None,
                    actor_id: None,
                    expires_at: None,
                },
                false,
            )
            .await?;
            bus::publish(
                tx,
                SOURCE,
                &AchievementAwarded {
                    customer_id,
                    code: rule.code.clone(),
                    points: rule.points,
                },
            )
            .await?;
        }
        Ok(())
    }
}

/// `part` of `whole` points as base (qualifying) points, rounded down.
fn share(base: i64, part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        return 0;
    }
    (i128::from(base) * i128::from(part) / i128::from(whole)) as i64
}
