//! Payments' facts that move orders: a succeeded payment pays them, a refund is recorded;
//! and shipping's: a delivered shipment delivers its order.

use std::sync::Arc;

use async_trait::async_trait;
use kernel::{DomainEvent, EventEnvelope};
use payments_contract::{PaymentRefunded, PaymentSucceeded};
use platform::bus::{BoxError, EventHandler, Subscription};
use platform::db::Tx;
use shipping_contract::ShipmentDelivered;

use crate::service::Orders;

pub fn subscriptions(orders: Arc<Orders>) -> Vec<Subscription> {
    vec![
        Subscription {
            event_types: vec![PaymentSucceeded::TYPE, PaymentRefunded::TYPE],
            handler: Arc::new(Payments(orders.clone())),
        },
        Subscription {
            event_types: vec![ShipmentDelivered::TYPE],
            handler: Arc::new(Shipments(orders)),
        },
    ]
}

struct Payments(Arc<Orders>);

#[async_trait]
impl EventHandler for Payments {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        if let Some(payment) = event.decode::<PaymentSucceeded>() {
            self.0.on_payment_succeeded(tx, &payment?).await?;
        } else if let Some(refund) = event.decode::<PaymentRefunded>() {
            self.0.on_payment_refunded(tx, &refund?).await?;
        }
        Ok(())
    }
}

struct Shipments(Arc<Orders>);

#[async_trait]
impl EventHandler for Shipments {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        if let Some(delivered) = event.decode::<ShipmentDelivered>() {
            self.0.on_shipment_delivered(tx, &delivered?.0).await?;
        }
        Ok(())
    }
}
