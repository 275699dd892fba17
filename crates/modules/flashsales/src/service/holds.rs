//! The units checkouts take: priced from the in-memory index, taken by conditional updates
//! behind the gate, confirmed by the order's events, and given back when a checkout fails or
//! its order closes unpaid. A paid unit stays sold (a refund returns stock, not a sale slot).

use std::collections::HashMap;
use std::sync::Arc;

use kernel::Timestamp;
use orders_contract::{OrderFact, OrdersCode};
use platform::db::Tx;
use uuid::Uuid;

use super::*;
use crate::domain;
use crate::store::{self, LiveItemRow};

impl FlashSales {
    /// The index of sales not ended, from memory when fresh.
    async fn index(&self) -> Result<Arc<HashMap<Uuid, LiveItemRow>>> {
        if let Some(index) = self.gate.index() {
            return Ok(index);
        }
        let now = Timestamp::now().millis();
        let rows = store::live_items(&self.ctx.db, now).await?;
        Ok(self.gate.store_index(rows, now))
    }

    /// The running sale items of these variants.
    async fn running(&self, variant_ids: &[Uuid]) -> Result<Vec<LiveItemRow>> {
        let index = self.index().await?;
        let now = Timestamp::now().millis();
        Ok(variant_ids
            .iter()
            .filter_map(|v| index.get(v))
            .filter(|i| domain::is_running(i.starts_at, i.ends_at, false, now))
            .cloned()
            .collect())
    }

    pub async fn live_prices(&self, variant_ids: &[Uuid]) -> Result<Vec<LivePrice>> {
        self.running(variant_ids)
            .await?
            .iter()
            .map(live_price)
            .collect()
    }

    /// Takes the sale units of a checkout's lines, all or none. Buyers of an item known to be
    /// short are refused from memory; the rest take turns at the database.
    pub async fn take(&self, request: &TakeRequest) -> Result<Taken> {
        let quantities: HashMap<Uuid, i64> = request
            .lines
            .iter()
            .map(|l| (l.variant_id, l.quantity))
            .collect();
        let ids: Vec<Uuid> = quantities.keys().copied().collect();
        let mut items = self.running(&ids).await?;
        if items.is_empty() {
            return Ok(Taken {
                group_id: request.group_id,
                prices: Vec::new(),
            });
        }
        let quantity = |item: &LiveItemRow| quantities.get(&item.variant_id).copied().unwrap_or(0);
        if let Some(bad) = items.iter().find(|i| quantity(i) < 1) {
            return Err(invalid(vec![domain::field(
                "lines",
                &format!("quantity of {} must be positive", bad.variant_id),
            )]));
        }
        let over_limit: Vec<Uuid> = items
            .iter()
            .filter(|i| quantity(i) > i.per_customer_limit)
            .map(|i| i.variant_id)
            .collect();
        if !over_limit.is_empty() {
            return Err(FlashSalesError::Limit(over_limit));
        }
        let short = |items: &[LiveItemRow]| -> Vec<Uuid> {
            items
                .iter()
                .filter(|i| self.gate.known_short(i.item_id, quantity(i)))
                .map(|i| i.variant_id)
                .collect()
        };
        let known_short = short(&items);
        if !known_short.is_empty() {
            return Err(FlashSalesError::SoldOut(known_short));
        }
        let Some(_turn) = self.gate.turn().await else {
            return Err(FlashSalesError::Busy);
        };
        // Others may have found it sold out while this buyer waited.
        let known_short = short(&items);
        if !known_short.is_empty() {
            return Err(FlashSalesError::SoldOut(known_short));
        }
        let mut order: Vec<(Uuid, i64)> = items.iter().map(|i| (i.item_id, quantity(i))).collect();
        domain::lock_order(&mut order);
        items.sort_by_key(|i| i.item_id);
        let now = Timestamp::now().millis();
        let mut tx = self.ctx.db.begin().await?;
        for item in &items {
            let q = quantity(item);
            if !store::insert_hold(
                &mut tx,
                request.group_id,
                item.item_id,
                request.customer_id,
                q,
                now,
            )
            .await?
            {
                // This checkout took already (a retried call): the same answer again.
                tx.rollback().await?;
                return self.taken_before(request.group_id).await;
            }
            if !store::count_buyer(
                &mut tx,
                item.item_id,
                request.customer_id,
                q,
                item.per_customer_limit,
            )
            .await?
            {
                tx.rollback().await?;
                return Err(FlashSalesError::Limit(vec![item.variant_id]));
            }
            // Last, so the hot row is locked for as short a time as possible.
            if !store::take_units(&mut tx, item.item_id, q, now).await? {
                tx.rollback().await?;
                return Err(self.why_not_taken(item, q).await?);
            }
        }
        tx.commit().await?;
        Ok(Taken {
            group_id: request.group_id,
            prices: items.iter().map(live_price).collect::<Result<_>>()?,
        })
    }

    async fn taken_before(&self, group_id: Uuid) -> Result<Taken> {
        Ok(Taken {
            group_id,
            prices: store::holds_of(&self.ctx.db, group_id)
                .await?
                .iter()
                .map(live_price)
                .collect::<Result<_>>()?,
        })
    }

    /// Sold out (noting what is left for the buyers after) or ended.
    async fn why_not_taken(&self, item: &LiveItemRow, quantity: i64) -> Result<FlashSalesError> {
        match store::item_state(&self.ctx.db, item.item_id, Timestamp::now().millis()).await? {
            Some((left, true)) if left < quantity => {
                self.gate.note_left(item.item_id, left);
                Ok(FlashSalesError::SoldOut(vec![item.variant_id]))
            }
            Some((_, true)) => Ok(FlashSalesError::SoldOut(vec![item.variant_id])),
            _ => {
                self.gate.invalidate();
                Ok(FlashSalesError::EndedFor(vec![item.variant_id]))
            }
        }
    }

    /// Gives back everything a checkout holds (it failed before its order existed, or was
    /// compensated); idempotent.
    pub async fn release(&self, group_id: Uuid) -> Result<Released> {
        let mut tx = self.ctx.db.begin().await?;
        let units = self.give_back(&mut tx, group_id, None).await?;
        tx.commit().await?;
        Ok(Released { group_id, units })
    }

    async fn give_back(
        &self,
        tx: &mut Tx,
        group_id: Uuid,
        variants: Option<&[Uuid]>,
    ) -> Result<i64> {
        let now = Timestamp::now().millis();
        let moved =
            store::move_holds(tx, group_id, variants, &["HELD", "PLACED"], "RELEASED", now).await?;
        let mut units = 0;
        for (item, customer, quantity) in moved {
            store::give_back(tx, item, customer, quantity).await?;
            self.gate.forget_left(item);
            units += quantity;
        }
        Ok(units)
    }

    /// The checkout's order exists: its holds wait for payment.
    pub async fn on_checkout_completed(&self, tx: &mut Tx, group_id: Uuid) -> Result<()> {
        store::move_holds(
            tx,
            group_id,
            None,
            &["HELD"],
            "PLACED",
            Timestamp::now().millis(),
        )
        .await?;
        Ok(())
    }

    pub async fn on_order_paid(&self, tx: &mut Tx, order: &OrderFact) -> Result<()> {
        let variants: Vec<Uuid> = order.lines.iter().map(|l| l.variant_id).collect();
        let now = Timestamp::now().millis();
        let sold = store::move_holds(
            tx,
            order.group_id,
            Some(&variants),
            &["HELD", "PLACED"],
            "SOLD",
            now,
        )
        .await?;
        for (item, _, quantity) in sold {
            store::count_sold(tx, item, quantity).await?;
        }
        Ok(())
    }

    /// An order closed unpaid (expired, or cancelled before payment): its units go back.
    pub async fn on_order_closed_unpaid(&self, tx: &mut Tx, order: &OrderFact) -> Result<()> {
        let variants: Vec<Uuid> = order.lines.iter().map(|l| l.variant_id).collect();
        self.give_back(tx, order.group_id, Some(&variants)).await?;
        Ok(())
    }

    /// Holds never confirmed by an order: the checkout died before it recorded itself (its
    /// saga's recovery releases the rest). Orders is asked; a checkout it does not know is
    /// given back.
    pub async fn sweep_stale_holds(&self) -> Result<usize> {
        let before = Timestamp::now().millis() - self.config.stale_hold_secs * 1000;
        let mut released = 0;
        for group_id in store::stale_holds(&self.ctx.db, before).await? {
            match self.orders.payable(group_id).await {
                Ok(_) => {
                    let mut tx = self.ctx.db.begin().await?;
                    self.on_checkout_completed(&mut tx, group_id).await?;
                    tx.commit().await?;
                }
                Err(err) if err.is(OrdersCode::OrderNotFound) => {
                    self.release(group_id).await?;
                    released += 1;
                }
                Err(err) => {
                    tracing::warn!(%group_id, error = %err.detail, "cannot look up a stale flash-sale hold; will retry");
                }
            }
        }
        Ok(released)
    }
}

fn live_price(item: &LiveItemRow) -> Result<LivePrice> {
    Ok(LivePrice {
        variant_id: item.variant_id,
        flash_sale_id: item.sale_id,
        item_id: item.item_id,
        title: text_of(&item.title)?,
        sale_price: item.sale_price,
        list_price: item.list_price,
        platform_funded: item.platform_funded,
        per_customer_limit: item.per_customer_limit,
    })
}
