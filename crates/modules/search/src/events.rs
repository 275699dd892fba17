//! What other modules announce, written to the change log every search instance tails (and
//! units sold, ratings) in the transaction that marks the event handled: nothing is lost or
//! applied twice, whichever instance handles it.

use std::sync::Arc;

use async_trait::async_trait;
use catalog_contract::{
    MerchantListingsChanged, ProductCreated, ProductDeleted, ProductStatusChanged, ProductUpdated,
};
use inventory_contract::StockChanged;
use kernel::{DomainEvent, EventEnvelope};
use orders_contract::{OrderCancelled, OrderFact, OrderPaid, OrderRefunded, OrderStatus};
use platform::bus::{BoxError, EventHandler, Subscription};
use platform::db::Tx;
use reviews_contract::{ReviewRatingChanged, ReviewSubjectKind};
use vouchers_contract::{OfferSaved, VoucherIssued};

use crate::store;

pub fn subscriptions() -> Vec<Subscription> {
    vec![Subscription {
        event_types: vec![
            ProductCreated::TYPE,
            ProductUpdated::TYPE,
            ProductStatusChanged::TYPE,
            ProductDeleted::TYPE,
            MerchantListingsChanged::TYPE,
            OfferSaved::TYPE,
            VoucherIssued::TYPE,
            StockChanged::TYPE,
            OrderPaid::TYPE,
            OrderRefunded::TYPE,
            OrderCancelled::TYPE,
            ReviewRatingChanged::TYPE,
        ],
        handler: Arc::new(Changes),
    }]
}

struct Changes;

#[async_trait]
impl EventHandler for Changes {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        if let Some(e) = event.decode::<ProductCreated>() {
            store::record_change(tx, "PRODUCT", e?.0.product_id).await?;
        } else if let Some(e) = event.decode::<ProductUpdated>() {
            store::record_change(tx, "PRODUCT", e?.0.product_id).await?;
        } else if let Some(e) = event.decode::<ProductStatusChanged>() {
            store::record_change(tx, "PRODUCT", e?.product_id).await?;
        } else if let Some(e) = event.decode::<ProductDeleted>() {
            store::record_change(tx, "PRODUCT", e?.product_id).await?;
        } else if let Some(e) = event.decode::<MerchantListingsChanged>() {
            // From catalog, after it re-derived the merchant's listings: reading them now
            // sees the new status (merchants' own events could arrive before that).
            store::record_change(tx, "MERCHANT", e?.merchant_id).await?;
        } else if let Some(e) = event.decode::<OfferSaved>() {
            store::record_change(tx, "PRODUCT", e?.product_id).await?;
        } else if let Some(e) = event.decode::<VoucherIssued>() {
            store::record_change(tx, "OFFER", e?.offer_id).await?;
        } else if let Some(e) = event.decode::<StockChanged>() {
            store::record_change(tx, "VARIANT", e?.variant_id).await?;
        } else if let Some(e) = event.decode::<OrderPaid>() {
            sold(tx, &e?.0, 1).await?;
        } else if let Some(e) = event.decode::<OrderRefunded>() {
            // Partial refunds announce themselves too: only the move into REFUNDED unsells.
            let order = e?.0;
            if order.status == OrderStatus::Refunded
                && order.previous_status != Some(OrderStatus::Refunded)
            {
                sold(tx, &order, -1).await?;
            }
        } else if let Some(e) = event.decode::<OrderCancelled>() {
            let order = e?.0;
            let was_paid = order
                .previous_status
                .is_some_and(|s| s != OrderStatus::PendingPayment);
            if was_paid {
                sold(tx, &order, -1).await?;
            }
        } else if let Some(e) = event.decode::<ReviewRatingChanged>() {
            let e = e?;
            let kind = match e.subject_kind {
                ReviewSubjectKind::Product => "PRODUCT",
                ReviewSubjectKind::Voucher => "OFFER",
                // Merchants' ratings are not on hits.
                ReviewSubjectKind::Merchant => return Ok(()),
            };
            store::set_rating(tx, e.subject_id, e.average, e.count, e.version).await?;
            store::record_change(tx, kind, e.subject_id).await?;
        }
        Ok(())
    }
}

/// Units of physical lines count toward "best selling" (vouchers count what was issued).
async fn sold(tx: &mut Tx, order: &OrderFact, sign: i64) -> Result<(), BoxError> {
    for line in order.lines.iter().filter(|l| l.product_type == "PHYSICAL") {
        store::add_sold(tx, line.product_id, sign * line.quantity).await?;
        store::record_change(tx, "PRODUCT", line.product_id).await?;
    }
    Ok(())
}
