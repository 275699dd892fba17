//! A checkout's use of its promotions: reserved (uses, the code, the customer's uses and the
//! campaign's budget, all or nothing, in one transaction) before its orders exist; counted
//! when an order is paid; given back when its orders close unpaid or are refunded in full
//! (a partial refund keeps it used).
//!
//! Only limited counters are taken (a promotion's uses with a usage limit, a code's with its
//! own limit, a customer's with a per-customer limit, a campaign's with a budget), so an
//! unlimited promotion puts no row every checkout must lock; each usage records which it took,
//! and exactly those come back. Locks are always taken in one order, so two transactions never
//! wait on each other: the checkout's own row, then promotions (with their code and customer
//! rows) by id, then campaigns by id. Taking and giving back both follow it.

use std::collections::BTreeMap;

use orders_contract::OrderFact;
use platform::bus;
use platform::db::Tx;
use uuid::Uuid;

use super::*;
use crate::store::{self, CheckoutClaim, UsageRow};

/// What ended usages give back, applied in the lock order once every move is made.
#[derive(Default)]
struct GiveBack {
    /// Per promotion: the usages that ended.
    uses: BTreeMap<Uuid, Vec<UsageRow>>,
    /// Per campaign whose counters were taken: (spend, uses).
    campaigns: BTreeMap<Uuid, (i64, i64)>,
}

impl GiveBack {
    fn spend(&mut self, usage: &UsageRow, amount: i64) {
        if usage.took_campaign {
            self.campaigns.entry(usage.campaign_id).or_default().0 += amount;
        }
    }

    async fn apply(self, tx: &mut Tx) -> Result<()> {
        for usages in self.uses.values() {
            for usage in usages {
                store::give_back_uses(tx, usage).await?;
            }
        }
        for (campaign, (amount, uses)) in &self.campaigns {
            if *amount != 0 || *uses != 0 {
                store::give_back_budget(tx, *campaign, *amount, *uses).await?;
            }
        }
        Ok(())
    }
}

impl Promotions {
    /// Takes every limit and budget the checkout was priced with, or nothing
    /// (`Unavailable` names what ran out). Retried with the same group, it changes nothing;
    /// after the group was released (the checkout was compensated), it takes nothing.
    pub async fn reserve(&self, request: &ReservePromotions) -> Result<PromotionReservation> {
        let now = now().millis();
        let answer = PromotionReservation {
            group_id: request.group_id,
            reserved: request.promotions.len(),
        };
        let mut tx = self.ctx.db.begin().await?;
        match store::claim_checkout(&mut tx, request.group_id, now).await? {
            CheckoutClaim::Claimed => {}
            CheckoutClaim::Reserved => return Ok(answer),
            CheckoutClaim::Released => return Err(PromotionsError::Unavailable(Vec::new())),
        }
        let mut wanted: Vec<&ReservedPromotion> = request.promotions.iter().collect();
        wanted.sort_by_key(|p| p.promotion_id);
        let mut failed = Vec::new();
        let mut taken = Vec::new();
        let mut campaigns: BTreeMap<Uuid, (i64, Vec<Uuid>)> = BTreeMap::new();
        for reserved in wanted {
            let Some(promotion) = store::live_promotion_in(&mut tx, reserved.promotion_id).await?
            else {
                failed.push(reserved.promotion_id);
                continue;
            };
            let took_promotion = promotion.usage_limit.is_some();
            let took_customer = promotion.per_customer_limit.is_some();
            let took_code = match reserved.code.as_deref() {
                Some(code) => match store::code_limit(&mut tx, code, promotion.id).await? {
                    None => {
                        failed.push(promotion.id);
                        continue;
                    }
                    Some(limit) => limit.is_some(),
                },
                None => false,
            };
            let took = (!took_promotion
                || store::take_promotion_use(&mut tx, promotion.id).await?)
                && (!took_code
                    || match reserved.code.as_deref() {
                        Some(code) => store::take_code_use(&mut tx, code, promotion.id).await?,
                        None => true,
                    })
                && (!took_customer
                    || store::take_customer_use(
                        &mut tx,
                        promotion.id,
                        request.customer_id,
                        promotion.per_customer_limit,
                    )
                    .await?);
            if !took {
                failed.push(promotion.id);
                continue;
            }
            let campaign = campaigns.entry(promotion.campaign_id).or_default();
            campaign.0 += reserved.amount;
            campaign.1.push(promotion.id);
            taken.push((
                promotion.campaign_id,
                reserved,
                took_promotion,
                took_code,
                took_customer,
            ));
        }
        // A checkout is one use of each budgeted campaign, whatever number of its promotions.
        let mut budgeted = Vec::new();
        for (campaign_id, (amount, promotions)) in &campaigns {
            let took = match store::campaign_state(&mut tx, *campaign_id).await? {
                Some((status, _)) if status != CampaignStatus::Active.as_str() => false,
                Some((_, true)) => {
                    budgeted.push(*campaign_id);
                    store::take_budget(&mut tx, *campaign_id, *amount).await?
                }
                Some((_, false)) => true,
                None => false,
            };
            if !took {
                failed.extend(promotions);
            }
        }
        if !failed.is_empty() {
            // Dropped unfinished: every take above is rolled back.
            return Err(PromotionsError::Unavailable(failed));
        }
        for (campaign_id, reserved, took_promotion, took_code, took_customer) in taken {
            store::insert_usage(
                &mut tx,
                &UsageRow {
                    group_id: request.group_id,
                    promotion_id: reserved.promotion_id,
                    campaign_id,
                    code: reserved.code.clone(),
                    customer_id: request.customer_id,
                    currency: request.currency.code().into(),
                    amount: reserved.amount,
                    platform_funded: reserved.orders.iter().map(|o| o.platform_funded).sum(),
                    state: UsageState::Reserved.as_str().into(),
                    took_promotion,
                    took_code,
                    took_customer,
                    took_campaign: budgeted.contains(&campaign_id),
                    created_at: now,
                    updated_at: now,
                },
            )
            .await?;
            for share in &reserved.orders {
                store::insert_usage_order(
                    &mut tx,
                    share.order_id,
                    reserved.promotion_id,
                    request.group_id,
                    share.amount,
                    share.platform_funded,
                )
                .await?;
            }
        }
        for campaign_id in budgeted {
            if store::budget_exhausted(&mut tx, campaign_id).await? {
                self.announce_exhausted(&mut tx, campaign_id).await?;
            }
        }
        self.ctx.commit(tx).await?;
        Ok(answer)
    }

    async fn announce_exhausted(&self, tx: &mut Tx, campaign_id: Uuid) -> Result<()> {
        let Some(row) = store::campaign_in(tx, campaign_id).await? else {
            return Ok(());
        };
        let campaign = super::campaigns::campaign_view(&row)?;
        let Some(budget) = campaign.budget else {
            return Ok(());
        };
        tracing::info!(campaign = %campaign_id, "campaign budget used up");
        bus::publish(
            tx,
            SOURCE,
            &CampaignBudgetExhausted {
                campaign_id,
                merchant_id: campaign.merchant_id,
                budget,
                spent: campaign.spent,
                uses: campaign.uses,
            },
        )
        .await?;
        Ok(())
    }

    /// Gives back what a checkout that never created its orders reserved, and remembers the
    /// checkout as released, so a reservation still on its way takes nothing. Idempotent.
    pub async fn release(&self, group_id: Uuid) -> Result<PromotionReservation> {
        let mut tx = self.ctx.db.begin().await?;
        store::release_checkout(&mut tx, group_id, now().millis()).await?;
        let closed = store::close_open_shares_of_group(&mut tx, group_id).await?;
        let usages = store::usages_of_group(&mut tx, group_id).await?;
        let mut give_back = GiveBack::default();
        for (promotion_id, amount) in closed {
            if let Some(usage) = usages.iter().find(|u| u.promotion_id == promotion_id) {
                give_back.spend(usage, amount);
            }
        }
        let mut released = 0;
        for usage in &usages {
            if self
                .end_usage(&mut tx, usage, UsageState::Released, &mut give_back)
                .await?
                .is_some()
            {
                released += 1;
            }
        }
        self.campaign_uses_back(&mut tx, group_id, &usages, &mut give_back)
            .await?;
        give_back.apply(&mut tx).await?;
        self.ctx.commit(tx).await?;
        Ok(PromotionReservation {
            group_id,
            reserved: released,
        })
    }

    /// Ends a live usage as `to`: its use of the promotion, code and customer is queued to
    /// come back, and a code's release is announced. The state it was in, if it moved.
    async fn end_usage(
        &self,
        tx: &mut Tx,
        usage: &UsageRow,
        to: UsageState,
        give_back: &mut GiveBack,
    ) -> Result<Option<UsageState>> {
        let Some(from) = store::end_usage(
            tx,
            usage.group_id,
            usage.promotion_id,
            to.as_str(),
            now().millis(),
        )
        .await?
        else {
            return Ok(None);
        };
        let from = parsed(&from, UsageState::parse)?;
        give_back
            .uses
            .entry(usage.promotion_id)
            .or_default()
            .push(usage.clone());
        if let Some(code) = &usage.code {
            bus::publish(
                tx,
                SOURCE,
                &CouponReleased {
                    code: code.clone(),
                    promotion_id: usage.promotion_id,
                    group_id: usage.group_id,
                    customer_id: usage.customer_id,
                    state: to,
                },
            )
            .await?;
        }
        Ok(Some(from))
    }

    /// A campaign's use by a checkout comes back once none of the checkout's usages of it is
    /// live.
    async fn campaign_uses_back(
        &self,
        tx: &mut Tx,
        group_id: Uuid,
        usages: &[UsageRow],
        give_back: &mut GiveBack,
    ) -> Result<()> {
        let ended: Vec<Uuid> = usages
            .iter()
            .filter(|u| u.took_campaign && give_back.uses.contains_key(&u.promotion_id))
            .map(|u| u.campaign_id)
            .collect();
        for campaign_id in ended {
            let entry = give_back.campaigns.entry(campaign_id).or_default();
            if entry.1 == 0 && store::live_usages_of_campaign(tx, group_id, campaign_id).await? == 0
            {
                entry.1 = 1;
            }
        }
        Ok(())
    }

    /// An order was paid: its shares count, and the checkout's usages are redeemed with the
    /// first paid order of the group.
    pub async fn on_order_paid(&self, tx: &mut Tx, order: &OrderFact) -> Result<()> {
        store::count_paid_order(tx, order.customer_id).await?;
        let mut paid = store::move_order_shares(tx, order.order_id, &["OPEN"], "PAID").await?;
        if paid.is_empty() {
            return Ok(());
        }
        paid.sort_by_key(|s| s.promotion_id);
        let usages = store::usages_of_group(tx, order.group_id).await?;
        let now = now().millis();
        for share in paid {
            let Some(usage) = usages.iter().find(|u| u.promotion_id == share.promotion_id) else {
                continue;
            };
            let merchant = self.merchant_of(tx, share.promotion_id).await?;
            let redeemed = store::move_usage(
                tx,
                usage.group_id,
                share.promotion_id,
                UsageState::Reserved.as_str(),
                UsageState::Redeemed.as_str(),
                now,
            )
            .await?;
            store::add_stats(
                tx,
                share.promotion_id,
                usage.campaign_id,
                merchant,
                &usage.currency,
                i64::from(redeemed),
                share.platform_funded,
                share.amount - share.platform_funded,
                order.total,
            )
            .await?;
            self.count_for_campaign(tx, usage, merchant, order, &share)
                .await?;
            if !redeemed {
                continue;
            }
            store::count_customer(tx, share.promotion_id, usage.customer_id).await?;
            bus::publish(
                tx,
                SOURCE,
                &PromotionApplied {
                    promotion_id: share.promotion_id,
                    campaign_id: usage.campaign_id,
                    merchant_id: merchant,
                    group_id: usage.group_id,
                    customer_id: usage.customer_id,
                    currency: order.currency,
                    amount: usage.amount,
                    platform_funded: usage.platform_funded,
                    code: usage.code.clone(),
                },
            )
            .await?;
            if let Some(code) = &usage.code {
                bus::publish(
                    tx,
                    SOURCE,
                    &CouponRedeemed {
                        code: code.clone(),
                        promotion_id: share.promotion_id,
                        group_id: usage.group_id,
                        customer_id: usage.customer_id,
                        amount: usage.amount,
                        currency: order.currency,
                    },
                )
                .await?;
            }
        }
        Ok(())
    }

    /// An order expired or was cancelled before payment: its shares of budget come back, and
    /// a usage none of whose orders can still be paid is released.
    pub async fn on_order_closed_unpaid(&self, tx: &mut Tx, order: &OrderFact) -> Result<()> {
        let closed = store::move_order_shares(tx, order.order_id, &["OPEN"], "CLOSED").await?;
        self.settle(tx, order.group_id, closed).await
    }

    /// Nothing is left to refund of a paid order (refunded in full, or there was nothing to
    /// pay): its shares come back, and a usage whose paid orders are all refunded is returned
    /// (a partial refund keeps it used). Shares still open (the payment's event not handled
    /// yet) end here too, so a late `order.paid` counts nothing.
    pub async fn on_order_refunded(&self, tx: &mut Tx, order: &OrderFact) -> Result<()> {
        if order.refunded < order.total {
            return Ok(());
        }
        let refunded =
            store::move_order_shares(tx, order.order_id, &["OPEN", "PAID"], "REFUNDED").await?;
        let usages = store::usages_of_group(tx, order.group_id).await?;
        for share in refunded.iter().filter(|s| s.from == "PAID") {
            let Some(usage) = usages.iter().find(|u| u.promotion_id == share.promotion_id) else {
                continue;
            };
            let merchant = self.merchant_of(tx, share.promotion_id).await?;
            store::add_stats(
                tx,
                share.promotion_id,
                usage.campaign_id,
                merchant,
                &usage.currency,
                0,
                -share.platform_funded,
                -(share.amount - share.platform_funded),
                -order.total,
            )
            .await?;
            let revenue = if store::unmark(tx, usage.campaign_id, "ORDER", order.order_id).await? {
                -order.total
            } else {
                0
            };
            store::add_campaign_stats(
                tx,
                usage.campaign_id,
                &usage.currency,
                merchant,
                0,
                0,
                -share.platform_funded,
                -(share.amount - share.platform_funded),
                revenue,
            )
            .await?;
        }
        self.settle(tx, order.group_id, refunded).await
    }

    /// After shares of an order closed (unpaid) or were refunded: the budget they held comes
    /// back, and each usage with no share left open or paid ends (released when it was never
    /// paid, returned when it was refunded).
    async fn settle(
        &self,
        tx: &mut Tx,
        group_id: Uuid,
        moved: Vec<store::MovedShare>,
    ) -> Result<()> {
        if moved.is_empty() {
            return Ok(());
        }
        let usages = store::usages_of_group(tx, group_id).await?;
        let mut give_back = GiveBack::default();
        let mut promotions: Vec<Uuid> = Vec::new();
        for share in &moved {
            if let Some(usage) = usages.iter().find(|u| u.promotion_id == share.promotion_id) {
                give_back.spend(usage, share.amount);
                if !promotions.contains(&share.promotion_id) {
                    promotions.push(share.promotion_id);
                }
            }
        }
        promotions.sort();
        for promotion_id in promotions {
            let Some(usage) = usages.iter().find(|u| u.promotion_id == promotion_id) else {
                continue;
            };
            let states = store::share_states(tx, group_id, promotion_id).await?;
            if states.iter().any(|s| s == "OPEN" || s == "PAID") {
                continue;
            }
            let to = if states.iter().any(|s| s == "REFUNDED") {
                UsageState::Returned
            } else {
                UsageState::Released
            };
            let was = self.end_usage(tx, usage, to, &mut give_back).await?;
            if was == Some(UsageState::Redeemed) {
                // It was counted when paid: the figures take the use back.
                let merchant = self.merchant_of(tx, promotion_id).await?;
                store::add_stats(
                    tx,
                    promotion_id,
                    usage.campaign_id,
                    merchant,
                    &usage.currency,
                    -1,
                    0,
                    0,
                    0,
                )
                .await?;
                if store::unmark(tx, usage.campaign_id, "GROUP", group_id).await? {
                    store::add_campaign_stats(
                        tx,
                        usage.campaign_id,
                        &usage.currency,
                        merchant,
                        -1,
                        0,
                        0,
                        0,
                        0,
                    )
                    .await?;
                }
            }
        }
        self.campaign_uses_back(tx, group_id, &usages, &mut give_back)
            .await?;
        give_back.apply(tx).await
    }

    /// A paid order's share of one promotion in its campaign's figures: the discount, and the
    /// checkout, the order (its revenue) and the customer the first time each is seen.
    async fn count_for_campaign(
        &self,
        tx: &mut Tx,
        usage: &UsageRow,
        merchant: Option<Uuid>,
        order: &OrderFact,
        share: &store::MovedShare,
    ) -> Result<()> {
        let campaign = usage.campaign_id;
        let new = store::mark_all(
            tx,
            campaign,
            usage.group_id,
            order.order_id,
            usage.customer_id,
        )
        .await?;
        let seen = |kind: &str| i64::from(new.iter().any(|k| k == kind));
        let (uses, customers) = (seen("GROUP"), seen("CUSTOMER"));
        let revenue = seen("ORDER") * order.total;
        store::add_campaign_stats(
            tx,
            campaign,
            &usage.currency,
            merchant,
            uses,
            customers,
            share.platform_funded,
            share.amount - share.platform_funded,
            revenue,
        )
        .await?;
        Ok(())
    }

    async fn merchant_of(&self, tx: &mut Tx, promotion_id: Uuid) -> Result<Option<Uuid>> {
        // Promotions' merchants never change: asked once per process.
        if let Some(known) = self
            .merchants_of
            .read()
            .ok()
            .and_then(|m| m.get(&promotion_id).copied())
        {
            return Ok(known);
        }
        let merchant = store::promotion_in(tx, promotion_id)
            .await?
            .and_then(|p| p.merchant_id);
        if let Ok(mut cache) = self.merchants_of.write() {
            if cache.len() >= 100_000 {
                cache.clear();
            }
            cache.insert(promotion_id, merchant);
        }
        Ok(merchant)
    }
}
