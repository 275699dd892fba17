//! Refund requests: money goes back for cancelled, returned or late-paid orders, for second
//! payments of a group, and for unused vouchers returned by their buyer.

use std::sync::Arc;

use async_trait::async_trait;
use kernel::{DomainEvent, EventEnvelope, RefundRequest};
use orders::api::RefundRequested;
use platform::bus::{BoxError, EventHandler, Subscription};
use platform::db::Tx;

use crate::service::Payments;

/// Vouchers' refund requests carry the same `RefundRequest` (read by type name: payments
/// needs nothing else of vouchers).
const VOUCHER_REFUND_REQUESTED: &str = "voucher.refund_requested";

pub fn subscriptions(payments: Arc<Payments>) -> Vec<Subscription> {
    vec![Subscription {
        event_types: vec![RefundRequested::TYPE, VOUCHER_REFUND_REQUESTED],
        handler: Arc::new(Refunds(payments)),
    }]
}

struct Refunds(Arc<Payments>);

#[async_trait]
impl EventHandler for Refunds {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        if event.event_type == RefundRequested::TYPE || event.event_type == VOUCHER_REFUND_REQUESTED
        {
            let request: RefundRequest = serde_json::from_value(event.payload.clone())?;
            self.0.on_refund_requested(tx, &request).await?;
        }
        Ok(())
    }
}
