//! Sales and their items: set up by a merchant for its variants or by admins, changed freely
//! before the start and only ended early after it; listed publicly with countdowns.

use std::collections::HashMap;

use kernel::{Actor, Permission, Timestamp};
use uuid::Uuid;

use super::*;
use crate::domain::{self, field, Clocked};
use crate::store::{self, ItemRow, SaleRow};

impl FlashSales {
    pub async fn create_sale(&self, actor: &Actor, input: FlashSaleInput) -> Result<FlashSale> {
        self.check_manager(actor, input.merchant_id, input.platform_funded)?;
        let now = Timestamp::now();
        let errors = domain::check_input(&input, now);
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        let id = kernel::new_id();
        let items = self.item_rows(id, input.merchant_id, &input.items).await?;
        let row = SaleRow {
            id,
            merchant_id: input.merchant_id,
            title: text_json(&input.title)?,
            starts_at: input.starts_at.millis(),
            ends_at: input.ends_at.millis(),
            ended_early: false,
            platform_funded: input.platform_funded,
            created_by: actor.user_id,
            created_at: now.millis(),
            updated_at: now.millis(),
        };
        let mut tx = self.ctx.db.begin().await?;
        self.refuse_overlaps(&mut tx, &row, &items).await?;
        store::insert_sale(&mut tx, &row).await?;
        for item in &items {
            store::insert_item(&mut tx, item).await?;
        }
        tx.commit().await?;
        self.gate.invalidate();
        self.view(row, items, now.millis())
    }

    /// Before the start: anything. After it: only `endsAt`, brought forward (now or earlier
    /// ends it at once).
    pub async fn update_sale(
        &self,
        actor: &Actor,
        id: Uuid,
        update: FlashSaleUpdate,
    ) -> Result<FlashSale> {
        let sale = self.managed_sale(actor, id).await?;
        let now = Timestamp::now();
        if domain::status(clocked(&sale, false), now.millis()) == FlashSaleStatus::Ended {
            return Err(FlashSalesError::Ended);
        }
        if sale.starts_at <= now.millis() {
            return self.shorten_running(actor, sale, update, now).await;
        }
        // A sale the platform funds (or would) is the platform's to change: a merchant
        // repricing it would spend the platform's money.
        if sale.platform_funded || update.platform_funded == Some(true) {
            self.check_manager(actor, sale.merchant_id, true)?;
        }
        let current = self.items(&[sale.id]).await?;
        let input = FlashSaleInput {
            title: match update.title {
                Some(title) => title,
                None => text_of(&sale.title)?,
            },
            merchant_id: sale.merchant_id,
            starts_at: update
                .starts_at
                .unwrap_or(Timestamp::from_millis(sale.starts_at)),
            ends_at: update
                .ends_at
                .unwrap_or(Timestamp::from_millis(sale.ends_at)),
            platform_funded: update.platform_funded.unwrap_or(sale.platform_funded),
            items: match &update.items {
                Some(items) => items.clone(),
                None => current
                    .iter()
                    .map(|i| FlashSaleItemInput {
                        variant_id: i.variant_id,
                        sale_price: i.sale_price,
                        allotment: i.allotment,
                        per_customer_limit: i.per_customer_limit,
                    })
                    .collect(),
            },
        };
        let errors = domain::check_input(&input, now);
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        let items = match update.items {
            Some(_) => {
                self.item_rows(sale.id, sale.merchant_id, &input.items)
                    .await?
            }
            None => current,
        };
        let row = SaleRow {
            title: text_json(&input.title)?,
            starts_at: input.starts_at.millis(),
            ends_at: input.ends_at.millis(),
            platform_funded: input.platform_funded,
            updated_at: now.millis(),
            ..sale
        };
        let mut tx = self.ctx.db.begin().await?;
        self.refuse_overlaps(&mut tx, &row, &items).await?;
        if !store::replace_sale(&mut tx, &row, now.millis()).await? {
            return Err(FlashSalesError::Started);
        }
        if update.items.is_some() {
            // Nothing can be taken before the start, so the items are replaced whole.
            store::delete_items(&mut tx, row.id).await?;
            for item in &items {
                store::insert_item(&mut tx, item).await?;
            }
        }
        tx.commit().await?;
        self.gate.invalidate();
        self.view(row, items, now.millis())
    }

    async fn shorten_running(
        &self,
        actor: &Actor,
        sale: SaleRow,
        update: FlashSaleUpdate,
        now: Timestamp,
    ) -> Result<FlashSale> {
        let others = update.title.is_some()
            || update.starts_at.is_some()
            || update.platform_funded.is_some()
            || update.items.is_some();
        let Some(ends_at) = update.ends_at.filter(|_| !others) else {
            return Err(FlashSalesError::Started);
        };
        if ends_at.millis() > sale.ends_at {
            return Err(invalid(vec![field(
                "endsAt",
                "a sale that has started can only end earlier",
            )]));
        }
        if ends_at.millis() <= now.millis() {
            return self.end_sale(actor, sale.id).await;
        }
        let mut tx = self.ctx.db.begin().await?;
        let moved = store::shorten(&mut tx, sale.id, ends_at.millis(), now.millis()).await?;
        tx.commit().await?;
        if !moved {
            return Err(FlashSalesError::Ended);
        }
        self.gate.invalidate();
        self.sale_view(sale.id).await
    }

    /// Ends a scheduled or running sale now; units held by checkouts stay theirs.
    pub async fn end_sale(&self, actor: &Actor, id: Uuid) -> Result<FlashSale> {
        let sale = self.managed_sale(actor, id).await?;
        let mut tx = self.ctx.db.begin().await?;
        let ended = store::end_now(&mut tx, sale.id, Timestamp::now().millis()).await?;
        tx.commit().await?;
        if !ended {
            return Err(FlashSalesError::Ended);
        }
        self.gate.invalidate();
        self.sale_view(sale.id).await
    }

    /// One sale: public while not ended; managers see theirs always.
    pub async fn sale(&self, actor: Option<&Actor>, id: Uuid) -> Result<FlashSale> {
        let sale = store::sale(&self.ctx.db, id)
            .await?
            .ok_or(FlashSalesError::NotFound)?;
        let now = Timestamp::now().millis();
        let managed = actor.is_some_and(|a| may_manage(a, sale.merchant_id));
        if !managed && domain::status(clocked(&sale, false), now) == FlashSaleStatus::Ended {
            return Err(FlashSalesError::NotFound);
        }
        let items = self.items(&[sale.id]).await?;
        self.view(sale, items, now)
    }

    /// The public list (live and upcoming, or one status of them), or a manager's sales.
    pub async fn sales(
        &self,
        actor: Option<&Actor>,
        query: &FlashSaleQuery,
    ) -> Result<Vec<FlashSale>> {
        let now = Timestamp::now().millis();
        let rows = if query.managed {
            let actor = actor.ok_or(FlashSalesError::Forbidden(
                "Sign in to see the sales you manage",
            ))?;
            let merchant = match query.merchant_id {
                Some(m) if may_manage(actor, Some(m)) => Some(m),
                None if actor.can(Permission::AdminPromotions) => None,
                _ => {
                    return Err(FlashSalesError::Forbidden(
                        "You do not manage this merchant's flash sales",
                    ))
                }
            };
            store::sales(&self.ctx.db, merchant, None).await?
        } else {
            store::sales(&self.ctx.db, query.merchant_id, Some(now)).await?
        };
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let mut items_by_sale: HashMap<Uuid, Vec<ItemRow>> = HashMap::new();
        for item in self.items(&ids).await? {
            items_by_sale.entry(item.sale_id).or_default().push(item);
        }
        let mut out = Vec::new();
        for row in rows {
            let items = items_by_sale.remove(&row.id).unwrap_or_default();
            let sale = self.view(row, items, now)?;
            if query.status.is_none_or(|s| s == sale.status) {
                out.push(sale);
            }
        }
        Ok(out)
    }

    /// What is left of a running or upcoming sale, per item.
    pub async fn availability(&self, id: Uuid) -> Result<FlashSaleAvailability> {
        let sale = self.sale(None, id).await?;
        Ok(FlashSaleAvailability {
            flash_sale_id: sale.id,
            status: sale.status,
            server_time: Timestamp::now(),
            starts_at: sale.starts_at,
            ends_at: sale.ends_at,
            seconds_left: sale.seconds_left,
            items: sale
                .items
                .iter()
                .map(|i| FlashSaleItemAvailability {
                    item_id: i.id,
                    variant_id: i.variant_id,
                    sale_price: i.sale_price,
                    allotment: i.allotment,
                    remaining: i.remaining,
                    per_customer_limit: i.per_customer_limit,
                })
                .collect(),
        })
    }

    async fn sale_view(&self, id: Uuid) -> Result<FlashSale> {
        let sale = store::sale(&self.ctx.db, id)
            .await?
            .ok_or(FlashSalesError::NotFound)?;
        let items = self.items(&[id]).await?;
        self.view(sale, items, Timestamp::now().millis())
    }

    /// A sale its manager may change (others: not found).
    async fn managed_sale(&self, actor: &Actor, id: Uuid) -> Result<SaleRow> {
        store::sale(&self.ctx.db, id)
            .await?
            .filter(|s| may_manage(actor, s.merchant_id))
            .ok_or(FlashSalesError::NotFound)
    }

    fn check_manager(
        &self,
        actor: &Actor,
        merchant: Option<Uuid>,
        platform_funded: bool,
    ) -> Result<()> {
        if !may_manage(actor, merchant) {
            return Err(FlashSalesError::Forbidden(match merchant {
                Some(_) => "Flash sales are set up by the merchant's owner or managers, and admins",
                None => "Platform flash sales are set up by admins",
            }));
        }
        if platform_funded && !actor.can(Permission::AdminPromotions) {
            return Err(FlashSalesError::Forbidden(
                "Only admins have the platform fund a sale's price cut",
            ));
        }
        Ok(())
    }

    /// The items as stored, priced and owned as catalog says now.
    async fn item_rows(
        &self,
        sale_id: Uuid,
        merchant: Option<Uuid>,
        items: &[FlashSaleItemInput],
    ) -> Result<Vec<ItemRow>> {
        let quotes = self
            .catalog
            .variants(items.iter().map(|i| i.variant_id).collect())
            .await?;
        let mut errors = Vec::new();
        let mut rows = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let Some(q) = quotes
                .iter()
                .find(|q| q.variant_id == item.variant_id && q.sellable)
            else {
                errors.push(field(
                    &format!("items[{i}].variantId"),
                    "is not a variant for sale",
                ));
                continue;
            };
            if merchant.is_some_and(|m| m != q.merchant_id) {
                errors.push(field(
                    &format!("items[{i}].variantId"),
                    "belongs to another merchant",
                ));
                continue;
            }
            if item.sale_price >= q.price {
                errors.push(field(
                    &format!("items[{i}].salePrice"),
                    &format!("must be below the list price ({})", q.price),
                ));
                continue;
            }
            rows.push(ItemRow {
                id: kernel::new_id(),
                sale_id,
                variant_id: q.variant_id,
                product_id: q.product_id,
                merchant_id: q.merchant_id,
                currency: q.currency.code().to_owned(),
                list_price: q.price,
                sale_price: item.sale_price,
                allotment: item.allotment,
                per_customer_limit: item.per_customer_limit,
                taken: 0,
                sold: 0,
            });
        }
        if !errors.is_empty() {
            return Err(invalid(errors));
        }
        Ok(rows)
    }

    async fn refuse_overlaps(
        &self,
        tx: &mut platform::db::Tx,
        sale: &SaleRow,
        items: &[ItemRow],
    ) -> Result<()> {
        let variants: Vec<Uuid> = items.iter().map(|i| i.variant_id).collect();
        let taken =
            store::overlapping(tx, &variants, sale.starts_at, sale.ends_at, sale.id).await?;
        if taken.is_empty() {
            Ok(())
        } else {
            Err(FlashSalesError::Overlap(taken))
        }
    }

    async fn items(&self, sale_ids: &[Uuid]) -> Result<Vec<ItemRow>> {
        Ok(store::items_of(&self.ctx.db, sale_ids).await?)
    }

    fn view(&self, row: SaleRow, items: Vec<ItemRow>, now: i64) -> Result<FlashSale> {
        let all_taken = !items.is_empty() && items.iter().all(|i| i.taken >= i.allotment);
        let clock = clocked(&row, all_taken);
        let items = items
            .into_iter()
            .map(|i| {
                Ok(FlashSaleItem {
                    id: i.id,
                    variant_id: i.variant_id,
                    product_id: i.product_id,
                    merchant_id: i.merchant_id,
                    currency: kernel::Currency::parse(&i.currency).ok_or_else(|| {
                        FlashSalesError::Corrupt(format!("currency {}", i.currency))
                    })?,
                    list_price: i.list_price,
                    sale_price: i.sale_price,
                    allotment: i.allotment,
                    per_customer_limit: i.per_customer_limit,
                    remaining: i.allotment - i.taken,
                    sold: i.sold,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(FlashSale {
            id: row.id,
            merchant_id: row.merchant_id,
            title: text_of(&row.title)?,
            status: domain::status(clock, now),
            starts_at: Timestamp::from_millis(row.starts_at),
            ends_at: Timestamp::from_millis(row.ends_at),
            seconds_left: domain::seconds_left(clock, now),
            platform_funded: row.platform_funded,
            items,
            created_at: Timestamp::from_millis(row.created_at),
            updated_at: Timestamp::from_millis(row.updated_at),
        })
    }
}

fn clocked(row: &SaleRow, all_taken: bool) -> Clocked {
    Clocked {
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        ended_early: row.ended_early,
        all_taken,
    }
}
