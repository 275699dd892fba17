//! Other modules' events that move points: signups, orders paid, completed, refunded or
//! closed unpaid, vouchers redeemed, and reviews approved.

use std::sync::Arc;

use async_trait::async_trait;
use identity_contract::UserRegistered;
use kernel::{DomainEvent, EventEnvelope};
use orders_contract::{
    OrderCancelled, OrderCompleted, OrderExpired, OrderPaid, OrderRefunded, OrderReturned,
    OrderStatus,
};
use platform::bus::{BoxError, EventHandler, Subscription};
use platform::db::Tx;
use reviews_contract::ReviewApproved;
use vouchers_contract::VoucherRedeemed;

use crate::service::Loyalty;

pub fn subscriptions(loyalty: Arc<Loyalty>) -> Vec<Subscription> {
    vec![Subscription {
        event_types: vec![
            UserRegistered::TYPE,
            OrderPaid::TYPE,
            OrderCompleted::TYPE,
            OrderExpired::TYPE,
            OrderCancelled::TYPE,
            OrderReturned::TYPE,
            OrderRefunded::TYPE,
            VoucherRedeemed::TYPE,
            ReviewApproved::TYPE,
        ],
        handler: Arc::new(Events(loyalty)),
    }]
}

struct Events(Arc<Loyalty>);

#[async_trait]
impl EventHandler for Events {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let loyalty = &self.0;
        if let Some(registered) = event.decode::<UserRegistered>() {
            loyalty.on_user_registered(tx, registered?.user_id).await?;
        } else if let Some(paid) = event.decode::<OrderPaid>() {
            loyalty.on_order_paid(tx, &paid?.0).await?;
        } else if let Some(completed) = event.decode::<OrderCompleted>() {
            loyalty.on_order_completed(tx, &completed?.0).await?;
        } else if let Some(expired) = event.decode::<OrderExpired>() {
            let order = expired?.0;
            loyalty
                .on_order_undone(tx, order.group_id, order.order_id)
                .await?;
        } else if let Some(cancelled) = event.decode::<OrderCancelled>() {
            let order = cancelled?.0;
            loyalty
                .on_order_undone(tx, order.group_id, order.order_id)
                .await?;
            if order.previous_status != Some(OrderStatus::PendingPayment) {
                // A paid order cancelled is refunded whole: its points go with it.
                loyalty.on_order_refunded(tx, &order, true).await?;
            }
        } else if let Some(returned) = event.decode::<OrderReturned>() {
            let order = returned?.0;
            loyalty.on_order_refunded(tx, &order, false).await?;
        } else if let Some(refunded) = event.decode::<OrderRefunded>() {
            let order = refunded?.0;
            if order.refunded >= order.total {
                loyalty
                    .on_order_undone(tx, order.group_id, order.order_id)
                    .await?;
            }
            loyalty.on_order_refunded(tx, &order, false).await?;
        } else if let Some(redeemed) = event.decode::<VoucherRedeemed>() {
            loyalty.on_voucher_redeemed(tx, redeemed?.owner_id).await?;
        } else if let Some(approved) = event.decode::<ReviewApproved>() {
            let approved = approved?;
            loyalty
                .on_review_approved(tx, approved.customer_id, approved.review_id)
                .await?;
        }
        Ok(())
    }
}
