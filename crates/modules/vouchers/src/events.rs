//! What vouchers reacts to: paid orders issue vouchers, refunded orders void them; product
//! moderation and merchant status decide what the public sees; outlets give locations.

use std::sync::Arc;

use async_trait::async_trait;
use catalog_contract::{ProductDeleted, ProductStatusChanged};
use kernel::{DomainEvent, EventEnvelope, Timestamp};
use merchants_contract::{
    MerchantClosed, MerchantReactivated, MerchantSuspended, OutletRemoved, OutletSaved,
};
use orders_contract::{OrderCancelled, OrderPaid, OrderReturned};
use platform::bus::{BoxError, EventHandler, Subscription};
use platform::db::Tx;
use reviews_contract::{ReviewRatingChanged, ReviewSubjectKind};

use crate::service::{OrderFact, Vouchers};
use crate::store;

pub fn subscriptions(vouchers: Arc<Vouchers>) -> Vec<Subscription> {
    vec![
        Subscription {
            event_types: vec![OrderPaid::TYPE, OrderCancelled::TYPE, OrderReturned::TYPE],
            handler: Arc::new(Orders(vouchers.clone())),
        },
        Subscription {
            event_types: vec![
                ProductStatusChanged::TYPE,
                ProductDeleted::TYPE,
                MerchantSuspended::TYPE,
                MerchantReactivated::TYPE,
                MerchantClosed::TYPE,
                OutletSaved::TYPE,
                OutletRemoved::TYPE,
            ],
            handler: Arc::new(Listings),
        },
        Subscription {
            event_types: vec![ReviewRatingChanged::TYPE],
            handler: Arc::new(Ratings),
        },
    ]
}

/// Offers' ratings, as reviews publishes them (each event carries the whole aggregate).
struct Ratings;

#[async_trait]
impl EventHandler for Ratings {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        if let Some(e) = event.decode::<ReviewRatingChanged>() {
            let e = e?;
            if e.subject_kind == ReviewSubjectKind::Voucher {
                let count = i32::try_from(e.count).unwrap_or(i32::MAX);
                store::set_rating(tx, e.subject_id, e.average, count, e.version).await?;
            }
        }
        Ok(())
    }
}

struct Orders(Arc<Vouchers>);

#[async_trait]
impl EventHandler for Orders {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        // Every order event carries the order.
        let order: OrderFact = serde_json::from_value(event.payload.clone())?;
        if !order.lines.iter().any(|l| l.product_type == "VOUCHER") {
            return Ok(());
        }
        match event.event_type.as_str() {
            OrderPaid::TYPE => {
                let issued = self.0.issue_for_order(tx, &order).await?;
                tracing::debug!(order = %order.order_id, issued, "vouchers issued");
            }
            // Only a paid order has vouchers, and its money goes back when it is cancelled or
            // returned.
            _ if order.payment_id.is_some() => {
                let voided = self.0.void_for_order(tx, &order).await?;
                tracing::debug!(order = %order.order_id, voided, "vouchers voided");
            }
            _ => {}
        }
        Ok(())
    }
}

struct Listings;

#[async_trait]
impl EventHandler for Listings {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let now = Timestamp::now();
        if let Some(e) = event.decode::<ProductStatusChanged>() {
            let e = e?;
            store::set_product_status(tx, e.product_id, e.to.as_str(), now).await?;
        } else if let Some(e) = event.decode::<ProductDeleted>() {
            store::set_product_status(tx, e?.product_id, "DELETED", now).await?;
        } else if let Some(e) = event.decode::<MerchantSuspended>() {
            store::set_merchant_active(tx, e?.0.merchant_id, false, now).await?;
        } else if let Some(e) = event.decode::<MerchantClosed>() {
            store::set_merchant_active(tx, e?.0.merchant_id, false, now).await?;
        } else if let Some(e) = event.decode::<MerchantReactivated>() {
            store::set_merchant_active(tx, e?.0.merchant_id, true, now).await?;
        } else if let Some(e) = event.decode::<OutletSaved>() {
            let e = e?;
            store::save_outlet(
                tx,
                e.outlet_id,
                e.merchant_id,
                e.location.latitude,
                e.location.longitude,
            )
            .await?;
        } else if let Some(e) = event.decode::<OutletRemoved>() {
            store::remove_outlet(tx, e?.outlet_id).await?;
        }
        Ok(())
    }
}
