//! Orders' and payments' events: the customer hears of an order placed, paid, cancelled or
//! expired, a payment that failed and a refund sent; the merchant's staff hear of a new paid
//! order.

use std::sync::Arc;

use async_trait::async_trait;
use kernel::{format_amount, DomainEvent, EventEnvelope};
use orders_contract::{OrderCancelled, OrderCreated, OrderExpired, OrderFact, OrderPaid};
use payments_contract::{PaymentFailed, PaymentRefunded};
use platform::bus::{BoxError, EventHandler};
use platform::db::Tx;
use serde_json::json;

use super::{decode, staff_copy, tell_staff};
use crate::domain::Category;
use crate::service::{reach, Message, Notifications};
use crate::store;

pub(super) struct OrderEvents(pub(super) Arc<Notifications>);

#[async_trait]
impl EventHandler for OrderEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let (template, order): (&'static str, OrderFact) = match event.event_type.as_str() {
            OrderCreated::TYPE => ("order_placed", decode::<OrderCreated>(event)?.0),
            OrderPaid::TYPE => ("order_paid", decode::<OrderPaid>(event)?.0),
            OrderCancelled::TYPE => ("order_cancelled", decode::<OrderCancelled>(event)?.0),
            OrderExpired::TYPE => ("order_expired", decode::<OrderExpired>(event)?.0),
            _ => return Ok(()),
        };
        let business_name = store::merchant_owner(tx, order.merchant_id)
            .await?
            .map(|(_, name)| name);
        let context = json!({
            "order_number": order.number,
            "business_name": business_name,
            "total": format_amount(order.total, order.currency),
            "digital_only": order.digital_only,
            "reason": order.reason,
            "items": order.lines.iter().map(|l| l.quantity).sum::<i64>(),
        });
        let message = Message {
            event_id: event.id,
            user_id: Some(order.customer_id),
            category: Category::Order,
            template,
            context: context.clone(),
            targets: reach(tx, order.customer_id).await?,
        };
        self.0.plan(tx, message).await?;
        if template == "order_paid" {
            tell_staff(
                &self.0,
                tx,
                order.merchant_id,
                staff_copy(event.id),
                Category::Order,
                "staff_new_order",
                context,
            )
            .await?;
        }
        Ok(())
    }
}

pub(super) struct PaymentEvents(pub(super) Arc<Notifications>);

#[async_trait]
impl EventHandler for PaymentEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let (customer_id, template, context) = match event.event_type.as_str() {
            PaymentFailed::TYPE => {
                let e: PaymentFailed = decode(event)?;
                (
                    e.customer_id,
                    "payment_failed",
                    json!({ "method": e.method }),
                )
            }
            PaymentRefunded::TYPE => {
                let e: PaymentRefunded = decode(event)?;
                let Some(customer_id) = e.customer_id else {
                    return Ok(());
                };
                (
                    customer_id,
                    "refund_issued",
                    json!({
                        "amount": format_amount(e.amount, e.currency),
                        "reason": Some(e.reason).filter(|r| !r.trim().is_empty()),
                    }),
                )
            }
            _ => return Ok(()),
        };
        let message = Message {
            event_id: event.id,
            user_id: Some(customer_id),
            category: Category::Order,
            template,
            context,
            targets: reach(tx, customer_id).await?,
        };
        self.0.plan(tx, message).await?;
        Ok(())
    }
}
