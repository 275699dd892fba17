//! Payments' facts that move orders: a succeeded payment pays them, a refund is recorded.
//! Read by type name (payments depends on orders' client, so not the other way round).

use std::sync::Arc;

use async_trait::async_trait;
use kernel::EventEnvelope;
use platform::bus::{BoxError, EventHandler, Subscription};
use platform::db::Tx;

use crate::service::{Orders, PaymentRefunded, PaymentSucceeded};

const PAYMENT_SUCCEEDED: &str = "payment.succeeded";
const PAYMENT_REFUNDED: &str = "payment.refunded";

pub fn subscriptions(orders: Arc<Orders>) -> Vec<Subscription> {
    vec![Subscription {
        event_types: vec![PAYMENT_SUCCEEDED, PAYMENT_REFUNDED],
        handler: Arc::new(Payments(orders)),
    }]
}

struct Payments(Arc<Orders>);

#[async_trait]
impl EventHandler for Payments {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        match event.event_type.as_str() {
            PAYMENT_SUCCEEDED => {
                let payment: PaymentSucceeded = serde_json::from_value(event.payload.clone())?;
                self.0.on_payment_succeeded(tx, &payment).await?;
            }
            PAYMENT_REFUNDED => {
                let refund: PaymentRefunded = serde_json::from_value(event.payload.clone())?;
                self.0.on_payment_refunded(tx, &refund).await?;
            }
            _ => {}
        }
        Ok(())
    }
}
