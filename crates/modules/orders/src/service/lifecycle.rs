//! Orders moving through their status machine: staff fulfilment, cancellation, expiry of
//! unpaid orders, the reactions to payments' events (paid, refunded), and delivery reported
//! by the courier (shipping's `shipment.delivered`).

use kernel::{Actor, DomainEvent, MerchantPermission, Permission, Timestamp};
use payments_contract::{PaymentRefunded, PaymentSucceeded, RefundReason, RequestedRefund};
use platform::bus;
use platform::db::Tx;
use shipping_contract::ShipmentFact;
use uuid::Uuid;

use super::*;

impl Orders {
    /// Who the actor acts as when moving the order; None: they may not move it.
    fn mover_of(actor: &Actor, order: &OrderRow) -> Option<Mover> {
        if actor.can(Permission::AdminOrders) {
            Some(Mover::Admin)
        } else if actor.is_staff_with(order.merchant_id, MerchantPermission::FulfilOrders) {
            Some(Mover::Merchant)
        } else if actor.kind == kernel::ActorKind::User && actor.user_id == order.customer_id {
            Some(Mover::Customer)
        } else {
            None
        }
    }

    /// A move by `PATCH /orders/{id}/status`: staff ship and deliver, customers confirm
    /// receipt, anyone allowed cancels.
    pub async fn change_status(
        &self,
        actor: &Actor,
        id: Uuid,
        change: StatusChange,
    ) -> Result<Order> {
        let (row, _) = self.visible_order(actor, id).await?;
        // What each mover may do is the status machine's business (a customer may confirm
        // delivery or cancel); staff without fulfilment rights (cashiers) may not move orders.
        let mover = Self::mover_of(actor, &row).ok_or(OrdersError::Forbidden(
            "Only the merchant's owner or managers move its orders",
        ))?;
        let tracking = change
            .tracking_number
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        if tracking.as_ref().is_some_and(|t| t.len() > 100) {
            return Err(invalid("trackingNumber", "must be at most 100 characters"));
        }
        if tracking.is_some() && change.status != OrderStatus::Shipped {
            return Err(invalid("trackingNumber", "is only given with SHIPPED"));
        }
        self.transition(
            row,
            change.status,
            mover,
            Some(actor.user_id),
            change.note.as_deref(),
            tracking.as_deref(),
        )
        .await
    }

    /// Cancel by the customer (until shipped), the merchant (until shipped) or an admin (also
    /// shipped). A paid order gets its money back and its stock returned.
    pub async fn cancel(&self, actor: &Actor, id: Uuid, reason: Option<String>) -> Result<Order> {
        let (row, _) = self.visible_order(actor, id).await?;
        let mover = Self::mover_of(actor, &row)
            .ok_or(OrdersError::Forbidden("You may not cancel this order"))?;
        let reason = reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
            return Err(invalid("reason", "must be at most 500 characters"));
        }
        self.transition(
            row,
            OrderStatus::Cancelled,
            mover,
            Some(actor.user_id),
            reason.as_deref(),
            None,
        )
        .await
    }

    async fn transition(
        &self,
        row: OrderRow,
        to: OrderStatus,
        mover: Mover,
        actor_id: Option<Uuid>,
        note: Option<&str>,
        tracking: Option<&str>,
    ) -> Result<Order> {
        let from = parse_status(&row.status)?;
        if !domain::may_move(from, to, mover, row.digital_only) {
            return Err(OrdersError::IllegalTransition {
                from,
                to,
                allowed: domain::allowed_next(from, mover, row.digital_only),
            });
        }
        let mut tx = self.ctx.db.begin().await?;
        let moved = self
            .apply_move(&mut tx, &row, from, to, mover, actor_id, note, tracking)
            .await?;
        if moved && from == OrderStatus::PendingPayment && to == OrderStatus::Cancelled {
            self.cancel_discounted_checkout(&mut tx, &row, mover, actor_id)
                .await?;
        }
        if !moved {
            drop(tx);
            // Someone else moved it first: answer from where it is now.
            let current = store::order(&self.ctx.db, row.id)
                .await?
                .ok_or(OrdersError::NotFound)?;
            let now = parse_status(&current.status)?;
            return Err(OrdersError::IllegalTransition {
                from: now,
                to,
                allowed: domain::allowed_next(now, mover, current.digital_only),
            });
        }
        self.ctx.commit(tx).await?;
        let current = store::order(&self.ctx.db, row.id)
            .await?
            .ok_or(OrdersError::NotFound)?;
        let lines = store::lines_of(&self.ctx.db, &[row.id]).await?;
        order_view(&current, &lines, mover)
    }

    /// An unpaid checkout priced with promotions was priced as a whole (a minimum spend, the
    /// cheapest unit free): cancelling one of its orders cancels the others still unpaid, so
    /// no order keeps a discount it no longer earns.
    async fn cancel_discounted_checkout(
        &self,
        tx: &mut Tx,
        cancelled: &OrderRow,
        mover: Mover,
        actor_id: Option<Uuid>,
    ) -> Result<()> {
        let siblings = store::orders_of_group_in(tx, cancelled.group_id).await?;
        if siblings.iter().all(|o| o.discount == 0) {
            return Ok(());
        }
        let note = format!(
            "cancelled with {}: the checkout was priced as a whole",
            cancelled.number
        );
        for sibling in siblings
            .iter()
            .filter(|o| o.id != cancelled.id && o.status == OrderStatus::PendingPayment.as_str())
        {
            self.apply_move(
                tx,
                sibling,
                OrderStatus::PendingPayment,
                OrderStatus::Cancelled,
                mover,
                actor_id,
                Some(&note),
                None,
            )
            .await?;
        }
        Ok(())
    }

    /// One move in `tx`: conditional update, timeline, the event, and a refund request when
    /// money must go back. False when the order was no longer in `from`.
    #[allow(clippy::too_many_arguments)]
    async fn apply_move(
        &self,
        tx: &mut Tx,
        row: &OrderRow,
        from: OrderStatus,
        to: OrderStatus,
        mover: Mover,
        actor_id: Option<Uuid>,
        note: Option<&str>,
        tracking: Option<&str>,
    ) -> Result<bool> {
        let now = Timestamp::now();
        if !store::move_order(tx, row.id, from.as_str(), to.as_str(), tracking, now).await? {
            return Ok(false);
        }
        store::insert_timeline(
            tx,
            row.id,
            to.as_str(),
            Some(from.as_str()),
            mover.as_str(),
            actor_id,
            note,
            now,
        )
        .await?;
        let lines = store::lines_in(tx, row.id).await?;
        let mut moved = row.clone();
        if let Some(t) = tracking {
            moved.tracking_number = Some(t.to_owned());
        }
        let fact = fact(&moved, &lines, to, Some(from), note)?;
        match to {
            OrderStatus::Paid => publish(tx, OrderPaid(fact)).await?,
            OrderStatus::Processing => publish(tx, OrderProcessing(fact)).await?,
            OrderStatus::Shipped => publish(tx, OrderShipped(fact)).await?,
            OrderStatus::Delivered => publish(tx, OrderDelivered(fact)).await?,
            OrderStatus::Completed => publish(tx, OrderCompleted(fact)).await?,
            OrderStatus::Expired => publish(tx, OrderExpired(fact)).await?,
            OrderStatus::Cancelled => publish(tx, OrderCancelled(fact)).await?,
            OrderStatus::Returned => publish(tx, OrderReturned(fact)).await?,
            OrderStatus::Refunded => publish(tx, OrderRefunded(fact)).await?,
            OrderStatus::PendingPayment => {}
        }
        let refund_reason = match to {
            OrderStatus::Cancelled if from.is_paid() => Some(RefundReason::OrderCancelled),
            OrderStatus::Returned => Some(RefundReason::OrderReturned),
            _ => None,
        };
        if let (Some(reason), Some(payment_id)) = (refund_reason, row.payment_id) {
            // The goods only: vouchers voids the order's unused vouchers when it hears of the
            // move and asks for exactly their unused value, so value already delivered (a
            // voucher redeemed) is never paid back. Payments caps each part.
            let amount = row.total - voucher_value(&lines);
            if amount > 0 {
                request_refund(
                    tx,
                    payment_id,
                    row.group_id,
                    Some(row.id),
                    amount,
                    &row.currency,
                    reason,
                )
                .await?;
            }
        }
        Ok(true)
    }

    /// Expires unpaid orders past their window; returns how many.
    pub async fn expire_due(&self) -> Result<usize> {
        let due = store::due_expiries(&self.ctx.db, Timestamp::now(), 200).await?;
        let mut expired = 0;
        for id in due {
            let mut tx = self.ctx.db.begin().await?;
            let Some(row) = store::order_in(&mut tx, id).await? else {
                continue;
            };
            if self
                .apply_move(
                    &mut tx,
                    &row,
                    OrderStatus::PendingPayment,
                    OrderStatus::Expired,
                    Mover::System,
                    None,
                    Some("not paid within the payment window"),
                    None,
                )
                .await?
            {
                expired += 1;
            }
            self.ctx.commit(tx).await?;
        }
        Ok(expired)
    }

    /// A payment succeeded: its orders still awaiting payment become PAID (digital-only ones
    /// COMPLETED); money for orders that expired or were cancelled meanwhile, or a second
    /// payment of a paid group, is sent back. Idempotent: the inbox runs it once per event,
    /// and every move is conditional.
    pub async fn on_payment_succeeded(
        &self,
        tx: &mut Tx,
        payment: &PaymentSucceeded,
    ) -> Result<()> {
        let currency = payment.currency.code();
        if !store::set_group_payment(tx, payment.order_group_id, payment.payment_id).await? {
            // Another payment already paid this group: this one goes back whole.
            request_refund(
                tx,
                payment.payment_id,
                payment.order_group_id,
                None,
                payment.amount,
                currency,
                RefundReason::DuplicatePayment,
            )
            .await?;
            return Ok(());
        }
        for paid in &payment.orders {
            let Some(mut row) = store::order_in(tx, paid.order_id).await? else {
                return Err(OrdersError::Corrupt(format!(
                    "payment for unknown order {}",
                    paid.order_id
                )));
            };
            row.payment_id = Some(payment.payment_id);
            let status = parse_status(&row.status)?;
            if status == OrderStatus::PendingPayment
                && self
                    .apply_move(
                        tx,
                        &row,
                        status,
                        OrderStatus::Paid,
                        Mover::System,
                        None,
                        None,
                        None,
                    )
                    .await?
            {
                if row.digital_only {
                    row.status = OrderStatus::Paid.as_str().to_owned();
                    self.apply_move(
                        tx,
                        &row,
                        OrderStatus::Paid,
                        OrderStatus::Completed,
                        Mover::System,
                        None,
                        Some("digital order complete on payment"),
                        None,
                    )
                    .await?;
                }
                continue;
            }
            // Paid too late (expired) or after a cancellation: never a silent paid-but-dead order.
            let reason = if status == OrderStatus::Expired {
                RefundReason::PaidAfterExpiry
            } else {
                RefundReason::OrderNotPayable
            };
            let now = Timestamp::now();
            store::insert_timeline(
                tx,
                row.id,
                status.as_str(),
                Some(status.as_str()),
                Mover::System.as_str(),
                None,
                Some("payment received after the order closed; refunding"),
                now,
            )
            .await?;
            request_refund(
                tx,
                payment.payment_id,
                row.group_id,
                Some(row.id),
                paid.amount,
                currency,
                reason,
            )
            .await?;
        }
        Ok(())
    }

    /// The courier delivered the order's parcel: a SHIPPED order becomes DELIVERED, moved by
    /// the system (the staff's move of the same step stays possible). Idempotent: the inbox
    /// runs it once per event, and the move is conditional; an order already past SHIPPED
    /// (delivered by its staff, cancelled by an admin) stays where it is.
    pub async fn on_shipment_delivered(&self, tx: &mut Tx, shipment: &ShipmentFact) -> Result<()> {
        let Some(row) = store::order_in(tx, shipment.order_id).await? else {
            return Ok(());
        };
        if parse_status(&row.status)? != OrderStatus::Shipped {
            return Ok(());
        }
        let note = format!(
            "delivered by {} (tracking {})",
            shipment.courier_name, shipment.tracking_number
        );
        self.apply_move(
            tx,
            &row,
            OrderStatus::Shipped,
            OrderStatus::Delivered,
            Mover::System,
            None,
            Some(&note),
            None,
        )
        .await?;
        Ok(())
    }

    /// A refund went through: recorded on the order; a returned order becomes REFUNDED.
    pub async fn on_payment_refunded(&self, tx: &mut Tx, refund: &PaymentRefunded) -> Result<()> {
        let Some(order_id) = refund.order_id else {
            return Ok(());
        };
        let Some(row) = store::order_in(tx, order_id).await? else {
            return Ok(());
        };
        let now = Timestamp::now();
        if !store::add_refunded(tx, order_id, refund.amount, now).await? {
            tracing::error!(order = %order_id, amount = refund.amount, "refund exceeds the order total");
            return Ok(());
        }
        let status = parse_status(&row.status)?;
        let note = format!("refunded {} {}", refund.amount, row.currency);
        // Its events carry what has been refunded now, this refund included.
        let mut row = row;
        row.refunded += refund.amount;
        if status == OrderStatus::Returned {
            self.apply_move(
                tx,
                &row,
                status,
                OrderStatus::Refunded,
                Mover::System,
                None,
                Some(&note),
                None,
            )
            .await?;
        } else {
            store::insert_timeline(
                tx,
                order_id,
                status.as_str(),
                Some(status.as_str()),
                Mover::System.as_str(),
                None,
                Some(&note),
                now,
            )
            .await?;
            let lines = store::lines_in(tx, order_id).await?;
            publish(
                tx,
                OrderRefunded(fact(&row, &lines, status, Some(status), Some(&note))?),
            )
            .await?;
        }
        Ok(())
    }
}

async fn publish<E: DomainEvent>(tx: &mut Tx, event: E) -> Result<()> {
    bus::publish(tx, SOURCE, &event).await?;
    Ok(())
}

async fn request_refund(
    tx: &mut Tx,
    payment_id: Uuid,
    group_id: Uuid,
    order_id: Option<Uuid>,
    amount: i64,
    currency: &str,
    reason: RefundReason,
) -> Result<()> {
    let currency = parse_currency(currency)?;
    publish(
        tx,
        RefundRequested(RequestedRefund {
            request_id: kernel::new_id(),
            payment_id,
            group_id,
            order_id,
            amount,
            currency,
            reason,
        }),
    )
    .await
}
