//! Refund requests: money goes back for cancelled, returned or late-paid orders, for second
//! payments of a group, and for unused vouchers returned by their buyer.

use std::sync::Arc;

use async_trait::async_trait;
use kernel::{DomainEvent, EventEnvelope};
use orders_contract::RefundRequested;
use payments_contract::RequestedRefund;
use platform::bus::{BoxError, EventHandler, Subscription};
use platform::db::Tx;
use vouchers_contract::VoucherRefundRequested;

use crate::service::Payments;

pub fn subscriptions(payments: Arc<Payments>) -> Vec<Subscription> {
    vec![Subscription {
        event_types: vec![RefundRequested::TYPE, VoucherRefundRequested::TYPE],
        handler: Arc::new(Refunds(payments)),
    }]
}

struct Refunds(Arc<Payments>);

#[async_trait]
impl EventHandler for Refunds {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        // Both events carry one `RequestedRefund`.
        if event.event_type == RefundRequested::TYPE
            || event.event_type == VoucherRefundRequested::TYPE
        {
            let request: RequestedRefund = serde_json::from_value(event.payload.clone())?;
            self.0.on_refund_requested(tx, &request).await?;
        }
        Ok(())
    }
}
