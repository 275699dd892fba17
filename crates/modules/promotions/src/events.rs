//! Orders' events move a checkout's use of its promotions: paid counts it, closed unpaid
//! releases it, refunded in full returns it.

use std::sync::Arc;

use async_trait::async_trait;
use kernel::{DomainEvent, EventEnvelope};
use orders_contract::{
    OrderCancelled, OrderExpired, OrderPaid, OrderRefunded, OrderReturned, OrderStatus,
};
use platform::bus::{BoxError, EventHandler, Subscription};
use platform::db::Tx;

use crate::service::Promotions;

pub fn subscriptions(promotions: Arc<Promotions>) -> Vec<Subscription> {
    vec![Subscription {
        event_types: vec![
            OrderPaid::TYPE,
            OrderExpired::TYPE,
            OrderCancelled::TYPE,
            OrderReturned::TYPE,
            OrderRefunded::TYPE,
        ],
        handler: Arc::new(OrderEvents(promotions)),
    }]
}

struct OrderEvents(Arc<Promotions>);

#[async_trait]
impl EventHandler for OrderEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let promotions = &self.0;
        if let Some(paid) = event.decode::<OrderPaid>() {
            promotions.on_order_paid(tx, &paid?.0).await?;
        } else if let Some(expired) = event.decode::<OrderExpired>() {
            promotions.on_order_closed_unpaid(tx, &expired?.0).await?;
        } else if let Some(cancelled) = event.decode::<OrderCancelled>() {
            let order = cancelled?.0;
            // A paid order cancelled is refunded, and `order.refunded` settles it; one with
            // nothing to refund (discounted to nothing) is settled now.
            if order.previous_status == Some(OrderStatus::PendingPayment) {
                promotions.on_order_closed_unpaid(tx, &order).await?;
            } else {
                promotions.on_order_refunded(tx, &order).await?;
            }
        } else if let Some(returned) = event.decode::<OrderReturned>() {
            promotions.on_order_refunded(tx, &returned?.0).await?;
        } else if let Some(refunded) = event.decode::<OrderRefunded>() {
            promotions.on_order_refunded(tx, &refunded?.0).await?;
        }
        Ok(())
    }
}
