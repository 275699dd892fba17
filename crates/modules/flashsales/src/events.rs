//! Orders' events move a checkout's sale units: its order placed confirms them, paid sells
//! them, closed unpaid gives them back.

use std::sync::Arc;

use async_trait::async_trait;
use kernel::{DomainEvent, EventEnvelope};
use orders_contract::{CheckoutCompleted, OrderCancelled, OrderExpired, OrderPaid, OrderStatus};
use platform::bus::{BoxError, EventHandler, Subscription};
use platform::db::Tx;

use crate::service::FlashSales;

pub fn subscriptions(sales: Arc<FlashSales>) -> Vec<Subscription> {
    vec![Subscription {
        event_types: vec![
            CheckoutCompleted::TYPE,
            OrderPaid::TYPE,
            OrderExpired::TYPE,
            OrderCancelled::TYPE,
        ],
        handler: Arc::new(OrderEvents(sales)),
    }]
}

struct OrderEvents(Arc<FlashSales>);

#[async_trait]
impl EventHandler for OrderEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let sales = &self.0;
        if let Some(completed) = event.decode::<CheckoutCompleted>() {
            sales.on_checkout_completed(tx, completed?.group_id).await?;
        } else if let Some(paid) = event.decode::<OrderPaid>() {
            sales.on_order_paid(tx, &paid?.0).await?;
        } else if let Some(expired) = event.decode::<OrderExpired>() {
            sales.on_order_closed_unpaid(tx, &expired?.0).await?;
        } else if let Some(cancelled) = event.decode::<OrderCancelled>() {
            let order = cancelled?.0;
            // A paid order cancelled is refunded: its units stay sold.
            if order.previous_status == Some(OrderStatus::PendingPayment) {
                sales.on_order_closed_unpaid(tx, &order).await?;
            }
        }
        Ok(())
    }
}
