//! SKUs from catalog's product events; locations from merchants' outlet events; reservations
//! settled by orders' events (the reservation id is the order id).

use std::sync::Arc;

use async_trait::async_trait;
use catalog_contract::{ProductCreated, ProductFact, ProductUpdated};
use kernel::{DomainEvent, EventEnvelope};
use merchants_contract::{OutletRemoved, OutletSaved};
use orders_contract::{OrderCancelled, OrderExpired, OrderFact, OrderPaid, OrderReturned};
use platform::bus::{BoxError, EventHandler, Subscription};
use platform::db::Tx;

use crate::api::ReservationStatus;
use crate::domain::Step;
use crate::service::{Inventory, InventoryError};

pub fn subscriptions(inventory: Arc<Inventory>) -> Vec<Subscription> {
    vec![
        Subscription {
            event_types: vec![
                ProductCreated::TYPE,
                ProductUpdated::TYPE,
                OutletSaved::TYPE,
                OutletRemoved::TYPE,
            ],
            handler: Arc::new(Facts(inventory.clone())),
        },
        Subscription {
            event_types: vec![
                OrderPaid::TYPE,
                OrderCancelled::TYPE,
                OrderExpired::TYPE,
                OrderReturned::TYPE,
            ],
            handler: Arc::new(OrderSettlement(inventory)),
        },
    ]
}

/// Paid orders sell their reserved units; cancelled and expired ones give them back (or put
/// sold units back on hand); returned ones put them back on hand.
struct OrderSettlement(Arc<Inventory>);

#[async_trait]
impl EventHandler for OrderSettlement {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        // Every order event carries the order; the reservation id is the order id.
        let order: OrderFact = serde_json::from_value(event.payload.clone())?;
        let id = order.order_id;
        let outcome = match event.event_type.as_str() {
            OrderPaid::TYPE => self.0.step_in(tx, id, Step::Confirm).await,
            OrderExpired::TYPE => self.0.step_in(tx, id, Step::Release).await,
            OrderReturned::TYPE => self.0.step_in(tx, id, Step::Return).await,
            OrderCancelled::TYPE => match self.0.step_in(tx, id, Step::Release).await {
                Err(InventoryError::NotActive(ReservationStatus::Confirmed)) => {
                    self.0.step_in(tx, id, Step::Return).await
                }
                other => other,
            },
            _ => return Ok(()),
        };
        match outcome {
            Ok(_) => Ok(()),
            Err(InventoryError::NotActive(status)) => {
                // Retrying cannot change this: record it for an operator, do not block the log.
                tracing::error!(order = %id, event = %event.event_type, status = status.as_str(),
                    "order event does not fit its stock reservation");
                metrics::counter!("pasar_inventory_settlement_mismatch_total").increment(1);
                Ok(())
            }
            Err(InventoryError::ReservationNotFound) => {
                tracing::warn!(order = %id, event = %event.event_type, "order has no stock reservation");
                Ok(())
            }
            Err(err) => Err(err.into()),
        }
    }
}

struct Facts(Arc<Inventory>);

#[async_trait]
impl EventHandler for Facts {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        match event.event_type.as_str() {
            ProductCreated::TYPE | ProductUpdated::TYPE => {
                let fact: ProductFact = serde_json::from_value(event.payload.clone())?;
                let variants: Vec<_> = fact
                    .variants
                    .into_iter()
                    .map(|v| (v.variant_id, v.sku))
                    .collect();
                self.0
                    .register_skus(tx, fact.merchant_id, fact.product_id, &variants)
                    .await?;
            }
            OutletSaved::TYPE => {
                let e: OutletSaved = serde_json::from_value(event.payload.clone())?;
                self.0
                    .location_saved(tx, e.merchant_id, e.outlet_id, &e.name)
                    .await?;
            }
            OutletRemoved::TYPE => {
                let e: OutletRemoved = serde_json::from_value(event.payload.clone())?;
                self.0.location_removed(tx, e.outlet_id).await?;
            }
            _ => {}
        }
        Ok(())
    }
}
