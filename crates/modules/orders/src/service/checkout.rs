//! Checkout as a saga persisted in `orders_checkouts`:
//!
//! 0. Flash-sale units are taken, before any other work (`discounts`).
//! 1. STARTED: the plan, priced with promotions and points, is recorded (order ids are the
//!    reservation ids).
//! 2. Stock is reserved per order through inventory, then promotions' uses and the points;
//!    RESERVED is recorded.
//! 3. COMPLETED: the group, orders, lines, timeline, `order.created` and `checkout.completed`
//!    events and the stored idempotent answer commit in one transaction, conditional on the saga
//!    still being RESERVED. Cart removes the ordered lines when it hears `checkout.completed`.
//!
//! Any failure compensates (releases every reservation of the plan, then COMPENSATED). A
//! process that dies mid-way leaves the saga open; the recovery job compensates it once it is
//! older than `orders.saga_timeout_secs`. Conditional state moves decide between a late
//! original and the recovery job. Payment happens later and never inside a database lock.

use std::collections::HashMap;

use axum::http::StatusCode;
use catalog_contract::VariantQuote;
use flashsales_contract::LivePrice;
use inventory_contract::{InventoryCode, ReserveLine, ReserveRequest, Shortage};
use kernel::{Actor, ActorKind, Timestamp};
use platform::bus;
use platform::idempotency::{self, Attempt};
use uuid::Uuid;
use vouchers_contract::{PurchaseCheck, PurchaseLine};

use super::*;
use crate::domain::{Plan, PlanError, SagaState};

const NOTE_MAX: usize = 500;

/// What a checkout starts from, its flash-sale units already taken.
struct Start {
    group_id: Uuid,
    lines: Vec<CheckoutLine>,
    note: Option<String>,
    cart_lines: Option<Vec<cart_contract::CartContentLine>>,
    /// Given with the checkout (strict), or absent: the cart's.
    codes: Option<Vec<String>>,
    redeem_points: Option<i64>,
    cart_codes: Vec<String>,
    sale_prices: HashMap<Uuid, LivePrice>,
    shipping_address_id: Option<Uuid>,
    shipping_address: Option<ShippingAddress>,
    shipping: Vec<ShippingChoice>,
}

impl Orders {
    /// Aborts the process at a named step when configured to (crash-recovery tests only).
    fn fail_point(&self, name: &str) {
        if self.config.fail_point.as_deref() == Some(name) {
            tracing::error!(
                fail_point = name,
                "fail point reached: aborting the process"
            );
            std::process::abort();
        }
    }

    /// Checks out. Under an Idempotency-Key (claimed by the caller before this runs), the
    /// answer is stored with the orders, in the transaction that creates them.
    pub async fn checkout(
        &self,
        actor: &Actor,
        request: CheckoutRequest,
        attempt: Option<&Attempt>,
    ) -> Result<OrderGroup> {
        if actor.kind != ActorKind::User {
            return Err(OrdersError::NotACustomer);
        }
        let note = request
            .note
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty());
        if note.as_ref().is_some_and(|n| n.chars().count() > NOTE_MAX) {
            return Err(invalid("note", "must be at most 500 characters"));
        }
        if let Some(codes) = &request.coupon_codes {
            if codes.len() > MAX_COUPONS {
                return Err(invalid("couponCodes", "at most 5 coupon codes"));
            }
        }
        let mut cart_codes = Vec::new();
        let (requested, cart_lines) = match request.lines {
            Some(lines) => (lines, None),
            None => {
                let contents = self.cart.contents(actor.user_id).await?;
                cart_codes = contents.coupon_codes.clone();
                let lines = contents
                    .lines
                    .iter()
                    .map(|l| CheckoutLine {
                        variant_id: l.variant_id,
                        quantity: l.quantity,
                    })
                    .collect();
                (lines, Some(contents.lines))
            }
        };
        let lines = domain::normalize_lines(&requested).map_err(plan_error)?;
        let group_id = kernel::new_id();
        // First, before any other work: a sold-out flash-sale item is answered at once.
        let sale_prices = self
            .take_sale_units(group_id, actor.user_id, &lines)
            .await?;
        let start = Start {
            group_id,
            lines,
            note,
            cart_lines,
            codes: request.coupon_codes,
            redeem_points: request.redeem_points,
            cart_codes,
            sale_prices,
            shipping_address_id: request.shipping_address_id,
            shipping_address: request.shipping_address,
            shipping: request.shipping.unwrap_or_default(),
        };
        let taken = !start.sale_prices.is_empty();
        let plan = match self.start(actor, start).await {
            Ok(plan) => plan,
            Err(err) => {
                if taken {
                    self.release_sale_units(group_id).await;
                }
                return Err(err);
            }
        };
        self.fail_point("after_start");
        self.run_saga(&plan, actor, attempt).await
    }

    /// Prices the checkout and records its saga (STARTED): from here on, its recovery undoes
    /// whatever it took.
    async fn start(&self, actor: &Actor, start: Start) -> Result<Plan> {
        let quotes: HashMap<Uuid, VariantQuote> = self
            .catalog
            .variants(start.lines.iter().map(|l| l.variant_id).collect())
            .await?
            .into_iter()
            .map(|q| (q.variant_id, q))
            .collect();
        self.check_vouchers(actor.user_id, &start.lines, &quotes)
            .await?;
        let rates = self.commission_rates(&quotes).await?;
        let now = Timestamp::now();
        let number = domain::group_number(
            start.group_id,
            &now.to_datetime().format("%Y%m%d").to_string(),
        );
        let mut plan = domain::plan(
            start.group_id,
            number,
            actor.user_id,
            &start.lines,
            &quotes,
            |q| rates.get(&rate_key(q)).copied().unwrap_or(0),
            kernel::new_id,
        )
        .map_err(plan_error)?;
        plan.note = start.note;
        // Quoted again here: a price the client sends is never used.
        let address = super::shipping::AddressChoice {
            saved: start.shipping_address_id,
            given: start.shipping_address,
        };
        self.quote_shipping(&mut plan, address, &start.shipping)
            .await?;
        plan.from_cart = start.cart_lines.is_some();
        plan.cart_lines = start.cart_lines.unwrap_or_default();
        plan.flash_sale = !start.sale_prices.is_empty();
        let strict = start.codes.is_some();
        let codes = start.codes.unwrap_or(start.cart_codes);
        let points = self.points_to_redeem(&plan, start.redeem_points).await?;
        let min_points = points.as_ref().map(|(_, min)| *min);
        self.price_promotions(
            &mut plan,
            &quotes,
            codes,
            strict,
            &start.sale_prices,
            points.map(|(p, _)| p),
        )
        .await?;
        // The order's share may leave fewer points than the smallest redemption: refused now,
        // before anything is reserved.
        let redeemed: i64 = plan.points.iter().map(|p| p.points).sum();
        if let Some(min) = min_points.filter(|min| redeemed < *min) {
            return Err(OrdersError::PointsBelowMinimum(min));
        }
        if plan.total == 0 {
            // Payments collects a positive amount; a free checkout would only expire.
            return Err(OrdersError::NothingToPay);
        }

        let plan_json =
            serde_json::to_string(&plan).map_err(|e| OrdersError::Corrupt(e.to_string()))?;
        let mut tx = self.ctx.db.begin().await?;
        store::insert_checkout(&mut tx, &plan, &plan_json, now).await?;
        tx.commit().await?;
        Ok(plan)
    }

    /// Reserve, then create; compensating on failure.
    async fn run_saga(
        &self,
        plan: &Plan,
        actor: &Actor,
        attempt: Option<&Attempt>,
    ) -> Result<OrderGroup> {
        if let Err(err) = self.reserve_all(plan).await {
            self.compensate(plan, &err.to_string()).await?;
            return Err(err);
        }
        if let Err(err) = self.reserve_promotions(plan).await {
            self.compensate(plan, &err.to_string()).await?;
            return Err(err);
        }
        if let Err(err) = self.redeem_points(plan).await {
            self.compensate(plan, &err.to_string()).await?;
            return Err(err);
        }
        {
            let mut tx = self.ctx.db.begin().await?;
            let moved = store::move_checkout(
                &mut tx,
                plan.group_id,
                &[SagaState::Started],
                SagaState::Reserved,
                None,
                Timestamp::now(),
            )
            .await?;
            tx.commit().await?;
            if !moved {
                return Err(OrdersError::Abandoned);
            }
        }
        self.fail_point("after_reserve");

        let group = match self.create(plan, actor, attempt).await {
            Ok(group) => group,
            Err(err) => {
                self.compensate(plan, &err.to_string()).await?;
                return Err(err);
            }
        };
        self.fail_point("after_create");
        Ok(group)
    }

    /// Commission rate per (merchant, category) of the quotes, asked once per pair.
    async fn commission_rates(
        &self,
        quotes: &HashMap<Uuid, VariantQuote>,
    ) -> Result<HashMap<(Uuid, Option<Uuid>), i64>> {
        let mut rates = HashMap::new();
        for quote in quotes.values().filter(|q| q.sellable) {
            let key = rate_key(quote);
            if rates.contains_key(&key) {
                continue;
            }
            let rate = self
                .merchants
                .commission(quote.merchant_id, quote.category_path.clone())
                .await?;
            rates.insert(key, i64::from(rate.rate_bps));
        }
        Ok(rates)
    }

    /// One reservation per order, all or none: a failure releases the ones already taken (by
    /// the caller's compensation).
    async fn reserve_all(&self, plan: &Plan) -> Result<()> {
        let ttl = self.config.payment_window_secs + RESERVATION_MARGIN_SECS;
        for order in &plan.orders {
            let request = ReserveRequest {
                reservation_id: order.id,
                reference: Some(order.number.clone()),
                lines: order
                    .lines
                    .iter()
                    .map(|l| ReserveLine {
                        merchant_id: order.merchant_id,
                        sku: l.sku.clone(),
                        quantity: l.quantity,
                    })
                    .collect(),
                ttl_seconds: Some(ttl),
            };
            match self.inventory.reserve(&request).await {
                Ok(_) => {}
                Err(err) if err.is(InventoryCode::InsufficientStock) => {
                    let shortages: Vec<Shortage> =
                        serde_json::from_value(err.problem["shortages"].clone())
                            .unwrap_or_default();
                    return Err(OrdersError::Insufficient(shortages));
                }
                Err(err) if err.is(InventoryCode::SkuNotFound) => {
                    let ids = order.lines.iter().map(|l| l.variant_id).collect();
                    return Err(OrdersError::Unavailable(ids));
                }
                Err(err) => return Err(err.into()),
            }
        }
        Ok(())
    }

    /// The orders of the plan, in one transaction with the saga's completion and the stored
    /// idempotent answer.
    async fn create(
        &self,
        plan: &Plan,
        actor: &Actor,
        attempt: Option<&Attempt>,
    ) -> Result<OrderGroup> {
        let now = Timestamp::now();
        let expires_at = now.plus_seconds(self.config.payment_window_secs);
        let mut tx = self.ctx.db.begin().await?;
        if !store::move_checkout(
            &mut tx,
            plan.group_id,
            &[SagaState::Reserved],
            SagaState::Completed,
            None,
            now,
        )
        .await?
        {
            return Err(OrdersError::Abandoned);
        }
        store::insert_group(&mut tx, plan, expires_at, now).await?;
        let mut rows = Vec::with_capacity(plan.orders.len());
        let mut all_lines = Vec::new();
        for order in &plan.orders {
            store::insert_order(&mut tx, plan, order, expires_at, now).await?;
            for (position, line) in order.lines.iter().enumerate() {
                store::insert_line(&mut tx, order.id, position, line).await?;
            }
            store::insert_timeline(
                &mut tx,
                order.id,
                OrderStatus::PendingPayment.as_str(),
                None,
                Mover::Customer.as_str(),
                Some(actor.user_id),
                None,
                now,
            )
            .await?;
            let row = planned_row(plan, order, expires_at, now);
            let lines = planned_lines(order);
            bus::publish(
                &mut tx,
                SOURCE,
                &OrderCreated(fact(&row, &lines, OrderStatus::PendingPayment, None, None)?),
            )
            .await?;
            rows.push(row);
            all_lines.extend(lines);
        }
        let group_row = GroupRow {
            id: plan.group_id,
            number: plan.number.clone(),
            customer_id: plan.customer_id,
            currency: plan.currency.code().to_owned(),
            subtotal: plan.subtotal,
            total: plan.total,
            payment_id: None,
            expires_at: expires_at.millis(),
            created_at: now.millis(),
            discount: plan.discount,
        };
        bus::publish(
            &mut tx,
            SOURCE,
            &CheckoutCompleted {
                group_id: plan.group_id,
                customer_id: plan.customer_id,
                from_cart: plan.from_cart,
                lines: plan.requested.clone(),
                cart_lines: plan.cart_lines.clone(),
                coupon_codes: plan.coupon_codes.clone(),
            },
        )
        .await?;
        let group = group_view(&group_row, &rows, &all_lines, Mover::Customer)?;
        if let Some(attempt) = attempt {
            if !idempotency::complete(&mut tx, attempt, StatusCode::CREATED, &group).await? {
                // The key's lease ran out and a retry holds it now: this attempt yields.
                return Err(OrdersError::Abandoned);
            }
        }
        self.ctx.commit(tx).await?;
        Ok(group)
    }

    /// Releases every reservation of the plan (idempotent) and closes the saga.
    async fn compensate(&self, plan: &Plan, failure: &str) -> Result<()> {
        {
            let mut tx = self.ctx.db.begin().await?;
            let open = store::move_checkout(
                &mut tx,
                plan.group_id,
                &[
                    SagaState::Started,
                    SagaState::Reserved,
                    SagaState::Compensating,
                ],
                SagaState::Compensating,
                Some(failure),
                Timestamp::now(),
            )
            .await?;
            tx.commit().await?;
            if !open {
                // Completed or already compensated: nothing to undo.
                return Ok(());
            }
        }
        for order in &plan.orders {
            match self.inventory.release(order.id).await {
                Ok(_) => {}
                Err(err) if err.is(InventoryCode::ReservationNotFound) => {}
                Err(err) => return Err(err.into()),
            }
        }
        if !plan.promotions.is_empty() {
            // Idempotent, and harmless when nothing was reserved yet.
            self.promotions.release(plan.group_id).await?;
        }
        if plan.flash_sale {
            self.flashsales.release(plan.group_id).await?;
        }
        if !plan.points.is_empty() {
            self.loyalty.give_back(plan.group_id).await?;
        }
        let mut tx = self.ctx.db.begin().await?;
        store::move_checkout(
            &mut tx,
            plan.group_id,
            &[SagaState::Compensating],
            SagaState::Compensated,
            None,
            Timestamp::now(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Compensates sagas left open by a process that died; returns how many.
    pub async fn recover_checkouts(&self) -> Result<usize> {
        let before = Timestamp::now().plus_seconds(-self.config.saga_timeout_secs);
        let stale = store::stale_checkouts(&self.ctx.db, before, 100).await?;
        for (id, plan_json) in &stale {
            let plan: Plan = serde_json::from_str(plan_json)
                .map_err(|e| OrdersError::Corrupt(format!("checkout {id}: {e}")))?;
            tracing::warn!(checkout = %id, "compensating an abandoned checkout");
            self.compensate(&plan, "abandoned: the process running it stopped")
                .await?;
        }
        Ok(stale.len())
    }
}

/// Reservations outlive the payment window, so the order's expiry releases them first.
const RESERVATION_MARGIN_SECS: i64 = 600;

/// Coupon codes one checkout may carry.
const MAX_COUPONS: usize = 5;

impl Orders {
    /// Voucher lines need an offer on sale and room under the customer's cap; asked before
    /// any stock is taken.
    async fn check_vouchers(
        &self,
        customer_id: Uuid,
        lines: &[CheckoutLine],
        quotes: &HashMap<Uuid, VariantQuote>,
    ) -> Result<()> {
        let voucher_lines: Vec<PurchaseLine> = lines
            .iter()
            .filter(|l| {
                quotes
                    .get(&l.variant_id)
                    .is_some_and(|q| q.product_type == catalog_contract::ProductType::Voucher)
            })
            .map(|l| PurchaseLine {
                variant_id: l.variant_id,
                quantity: l.quantity,
            })
            .collect();
        if voucher_lines.is_empty() {
            return Ok(());
        }
        let refused = self
            .vouchers
            .purchase_check(&PurchaseCheck {
                customer_id,
                lines: voucher_lines,
            })
            .await?;
        if refused.is_empty() {
            Ok(())
        } else {
            Err(OrdersError::VouchersRefused(refused))
        }
    }
}

fn rate_key(quote: &VariantQuote) -> (Uuid, Option<Uuid>) {
    (quote.merchant_id, quote.category_path.first().copied())
}

pub(super) fn plan_error(err: PlanError) -> OrdersError {
    match err {
        PlanError::Empty => OrdersError::Empty,
        PlanError::TooManyLines => invalid("lines", "at most 100 different items per order"),
        PlanError::Quantity(_) => invalid("lines", "each quantity must be between 1 and 999"),
        PlanError::Unavailable(ids) => OrdersError::Unavailable(ids),
        PlanError::MixedCurrencies => OrdersError::MixedCurrencies,
        PlanError::TooLarge => OrdersError::TooLarge,
    }
}

fn planned_row(
    plan: &Plan,
    order: &domain::PlannedOrder,
    expires_at: Timestamp,
    now: Timestamp,
) -> OrderRow {
    OrderRow {
        id: order.id,
        group_id: plan.group_id,
        number: order.number.clone(),
        merchant_id: order.merchant_id,
        customer_id: plan.customer_id,
        status: OrderStatus::PendingPayment.as_str().to_owned(),
        currency: plan.currency.code().to_owned(),
        subtotal: order.subtotal,
        total: order.total,
        commission: order.commission,
        refunded: 0,
        discount: order.discount,
        discounts: serde_json::to_string(&order.promotions).unwrap_or_else(|_| "[]".into()),
        digital_only: order.digital_only,
        shipping: order.shipping_charge(),
        shipping_details: order
            .shipping
            .as_ref()
            .and_then(|s| serde_json::to_string(s).ok()),
        tracking_number: None,
        note: plan.note.clone(),
        payment_id: None,
        expires_at: expires_at.millis(),
        created_at: now.millis(),
        updated_at: now.millis(),
    }
}

fn planned_lines(order: &domain::PlannedOrder) -> Vec<LineRow> {
    order
        .lines
        .iter()
        .map(|l| LineRow {
            id: l.id,
            order_id: order.id,
            variant_id: l.variant_id,
            product_id: l.product_id,
            sku: l.sku.clone(),
            product_name: serde_json::to_string(&l.product_name).unwrap_or_default(),
            product_type: l.product_type.clone(),
            quantity: l.quantity,
            unit_price: l.unit_price,
            line_total: l.line_total,
            commission_bps: l.commission_bps,
            commission: l.commission,
            discount: l.discount,
            platform_discount: l.platform_discount,
        })
        .collect()
}
