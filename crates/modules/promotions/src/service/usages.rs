//! A checkout's use of its promotions: reserved (uses, the code, the customer's uses and the
//! campaign's budget, all or nothing, in one transaction) before its orders exist; counted
//! when an order is paid; given back when its orders close unpaid or are refunded in full
//! (a partial refund keeps it used).

use orders_contract::OrderFact;
use platform::bus;
use platform::db::Tx;
use uuid::Uuid;

use super::*;
use crate::store::{self, UsageRow};

impl Promotions {
    /// Takes every limit and budget the checkout was priced with, or nothing
    /// (`Unavailable` names what ran out). Retried with the same group, it changes nothing.
    pub async fn reserve(&self, request: &ReservePromotions) -> Result<PromotionReservation> {
        let now = now().millis();
        let mut tx = self.ctx.db.begin().await?;
        if !store::usages_of_group(&mut tx, request.group_id)
            .await?
            .is_empty()
        {
            return Ok(PromotionReservation {
                group_id: request.group_id,
                reserved: request.promotions.len(),
            });
        }
        // One order of locks for every checkout, so two cannot wait on each other.
        let mut wanted: Vec<&ReservedPromotion> = request.promotions.iter().collect();
        wanted.sort_by_key(|p| p.promotion_id);
        let mut failed = Vec::new();
        let mut campaigns = Vec::new();
        for reserved in wanted {
            let Some(promotion) = store::promotion_in(&mut tx, reserved.promotion_id).await? else {
                failed.push(reserved.promotion_id);
                continue;
            };
            let code = reserved.code.as_deref();
            let platform_funded: i64 = reserved.orders.iter().map(|o| o.platform_funded).sum();
            let took = store::take_promotion_use(&mut tx, promotion.id).await?
                && match code {
                    Some(code) => store::take_code_use(&mut tx, code, promotion.id).await?,
                    None => true,
                }
                && store::take_customer_use(
                    &mut tx,
                    promotion.id,
                    request.customer_id,
                    promotion.per_customer_limit,
                )
                .await?
                && store::take_budget(&mut tx, promotion.campaign_id, reserved.amount).await?;
            if !took {
                failed.push(promotion.id);
                continue;
            }
            store::insert_usage(
                &mut tx,
                &UsageRow {
                    group_id: request.group_id,
                    promotion_id: promotion.id,
                    campaign_id: promotion.campaign_id,
                    code: reserved.code.clone(),
                    customer_id: request.customer_id,
                    currency: request.currency.code().into(),
                    amount: reserved.amount,
                    platform_funded,
                    state: UsageState::Reserved.as_str().into(),
                    created_at: now,
                    updated_at: now,
                },
            )
            .await?;
            for share in &reserved.orders {
                store::insert_usage_order(
                    &mut tx,
                    share.order_id,
                    promotion.id,
                    request.group_id,
                    share.amount,
                    share.platform_funded,
                )
                .await?;
            }
            if !campaigns.contains(&promotion.campaign_id) {
                campaigns.push(promotion.campaign_id);
            }
        }
        if !failed.is_empty() {
            // Dropped unfinished: every take above is rolled back.
            return Err(PromotionsError::Unavailable(failed));
        }
        for campaign_id in campaigns {
            if store::budget_exhausted(&mut tx, campaign_id).await? {
                self.announce_exhausted(&mut tx, campaign_id).await?;
            }
        }
        self.ctx.commit(tx).await?;
        Ok(PromotionReservation {
            group_id: request.group_id,
            reserved: request.promotions.len(),
        })
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

    /// Gives back what a checkout that never created its orders reserved. Idempotent.
    pub async fn release(&self, group_id: Uuid) -> Result<PromotionReservation> {
        let mut tx = self.ctx.db.begin().await?;
        let mut released = 0;
        store::close_open_shares_of_group(&mut tx, group_id).await?;
        for usage in store::usages_of_group(&mut tx, group_id).await? {
            if self
                .end_usage(&mut tx, &usage, UsageState::Released)
                .await?
            {
                store::give_back_budget(&mut tx, usage.campaign_id, usage.amount, 0).await?;
                released += 1;
            }
        }
        self.ctx.commit(tx).await?;
        Ok(PromotionReservation {
            group_id,
            reserved: released,
        })
    }

    /// Moves a usage from its live state to `to` (RELEASED from RESERVED, RETURNED from
    /// REDEEMED) and gives back its use of the promotion, code, customer and campaign.
    async fn end_usage(&self, tx: &mut Tx, usage: &UsageRow, to: UsageState) -> Result<bool> {
        let from = match to {
            UsageState::Released => UsageState::Reserved,
            _ => UsageState::Redeemed,
        };
        let now = now().millis();
        if !store::move_usage(
            tx,
            usage.group_id,
            usage.promotion_id,
            from.as_str(),
            to.as_str(),
            now,
        )
        .await?
        {
            return Ok(false);
        }
        store::give_back_uses(
            tx,
            usage.promotion_id,
            usage.code.as_deref(),
            usage.customer_id,
        )
        .await?;
        store::give_back_budget(tx, usage.campaign_id, 0, 1).await?;
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
        Ok(true)
    }

    /// An order was paid: its shares count, and the checkout's usages are redeemed with the
    /// first paid order of the group.
    pub async fn on_order_paid(&self, tx: &mut Tx, order: &OrderFact) -> Result<()> {
        store::count_paid_order(tx, order.customer_id).await?;
        let paid = store::move_order_shares(tx, order.order_id, &["OPEN"], "PAID").await?;
        if paid.is_empty() {
            return Ok(());
        }
        let usages = store::usages_of_group(tx, order.group_id).await?;
        let now = now().millis();
        for (promotion_id, amount, platform) in paid {
            let Some(usage) = usages.iter().find(|u| u.promotion_id == promotion_id) else {
                continue;
            };
            let merchant = self.merchant_of(tx, promotion_id).await?;
            let redeemed = store::move_usage(
                tx,
                usage.group_id,
                promotion_id,
                UsageState::Reserved.as_str(),
                UsageState::Redeemed.as_str(),
                now,
            )
            .await?;
            store::add_stats(
                tx,
                promotion_id,
                usage.campaign_id,
                merchant,
                &usage.currency,
                i64::from(redeemed),
                platform,
                amount - platform,
                order.total,
            )
            .await?;
            self.count_for_campaign(tx, usage, merchant, order, amount, platform)
                .await?;
            if !redeemed {
                continue;
            }
            store::count_customer(tx, promotion_id, usage.customer_id).await?;
            bus::publish(
                tx,
                SOURCE,
                &PromotionApplied {
                    promotion_id,
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
                        promotion_id,
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
        self.settle(tx, order.group_id, closed, UsageState::Released)
            .await
    }

    /// A refund went through: an order refunded in full gives its shares back, and a usage
    /// whose paid orders are all refunded is returned (a partial refund keeps it used).
    pub async fn on_order_refunded(&self, tx: &mut Tx, order: &OrderFact) -> Result<()> {
        if order.refunded < order.total {
            return Ok(());
        }
        let refunded = store::move_order_shares(tx, order.order_id, &["PAID"], "REFUNDED").await?;
        for (promotion_id, amount, platform) in &refunded {
            let usages = store::usages_of_group(tx, order.group_id).await?;
            if let Some(usage) = usages.iter().find(|u| u.promotion_id == *promotion_id) {
                let merchant = self.merchant_of(tx, *promotion_id).await?;
                store::add_stats(
                    tx,
                    *promotion_id,
                    usage.campaign_id,
                    merchant,
                    &usage.currency,
                    0,
                    -platform,
                    -(amount - platform),
                    -order.total,
                )
                .await?;
                let revenue =
                    if store::unmark(tx, usage.campaign_id, "ORDER", order.order_id).await? {
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
                    -platform,
                    -(amount - platform),
                    revenue,
                )
                .await?;
            }
        }
        self.settle(tx, order.group_id, refunded, UsageState::Returned)
            .await
    }

    /// After shares of an order closed (unpaid) or were refunded: the budget they held comes
    /// back, and each usage with no share left that is open or paid ends as `to`.
    async fn settle(
        &self,
        tx: &mut Tx,
        group_id: Uuid,
        moved: Vec<(Uuid, i64, i64)>,
        to: UsageState,
    ) -> Result<()> {
        if moved.is_empty() {
            return Ok(());
        }
        let usages = store::usages_of_group(tx, group_id).await?;
        for (promotion_id, amount, _) in moved {
            let Some(usage) = usages.iter().find(|u| u.promotion_id == promotion_id) else {
                continue;
            };
            store::give_back_budget(tx, usage.campaign_id, amount, 0).await?;
            let states = store::share_states(tx, group_id, promotion_id).await?;
            let live = states.iter().any(|s| s == "OPEN" || s == "PAID");
            if live {
                continue;
            }
            // Unpaid to the end: released; paid and then all refunded: returned.
            let ends_as = if states.iter().any(|s| s == "REFUNDED") {
                UsageState::Returned
            } else {
                to
            };
            if ends_as == UsageState::Returned {
                let merchant = self.merchant_of(tx, promotion_id).await?;
                if self.end_usage(tx, usage, UsageState::Returned).await? {
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
            } else {
                self.end_usage(tx, usage, UsageState::Released).await?;
            }
        }
        Ok(())
    }

    /// A paid order's share of one promotion in its campaign's figures: the discount, and the
    /// checkout, the order (its revenue) and the customer the first time each is seen.
    async fn count_for_campaign(
        &self,
        tx: &mut Tx,
        usage: &UsageRow,
        merchant: Option<Uuid>,
        order: &OrderFact,
        amount: i64,
        platform: i64,
    ) -> Result<()> {
        let campaign = usage.campaign_id;
        let uses = i64::from(store::mark(tx, campaign, "GROUP", usage.group_id).await?);
        let customers = i64::from(store::mark(tx, campaign, "CUSTOMER", usage.customer_id).await?);
        let revenue = if store::mark(tx, campaign, "ORDER", order.order_id).await? {
            order.total
        } else {
            0
        };
        store::add_campaign_stats(
            tx,
            campaign,
            &usage.currency,
            merchant,
            uses,
            customers,
            platform,
            amount - platform,
            revenue,
        )
        .await?;
        Ok(())
    }

    async fn merchant_of(&self, tx: &mut Tx, promotion_id: Uuid) -> Result<Option<Uuid>> {
        Ok(store::promotion_in(tx, promotion_id)
            .await?
            .and_then(|p| p.merchant_id))
    }
}
