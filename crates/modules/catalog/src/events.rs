//! Merchants' status and name, kept so suspended or closed merchants' listings are hidden;
//! products' ratings, kept from reviews' aggregates.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kernel::{DomainEvent, EventEnvelope};
use merchants_contract::{
    MerchantApplied, MerchantApproved, MerchantClosed, MerchantReactivated, MerchantRejected,
    MerchantStatusFact, MerchantSuspended, MerchantUpdated,
};
use platform::bus::{BoxError, EventHandler, Subscription};
use platform::db::Tx;
use reviews_contract::{ReviewRatingChanged, ReviewSubjectKind};

use crate::service::Catalog;

pub fn subscriptions(catalog: Arc<Catalog>) -> Vec<Subscription> {
    vec![
        Subscription {
            event_types: vec![
                MerchantApplied::TYPE,
                MerchantApproved::TYPE,
                MerchantRejected::TYPE,
                MerchantSuspended::TYPE,
                MerchantReactivated::TYPE,
                MerchantClosed::TYPE,
                MerchantUpdated::TYPE,
            ],
            handler: Arc::new(MerchantEvents(catalog.clone())),
        },
        Subscription {
            event_types: vec![ReviewRatingChanged::TYPE],
            handler: Arc::new(RatingEvents(catalog)),
        },
    ]
}

struct RatingEvents(Arc<Catalog>);

#[async_trait]
impl EventHandler for RatingEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let Some(changed) = event.decode::<ReviewRatingChanged>() else {
            return Ok(());
        };
        let changed = changed?;
        if changed.subject_kind != ReviewSubjectKind::Product {
            return Ok(());
        }
        self.0
            .rating_changed(
                tx,
                changed.subject_id,
                changed.average,
                changed.count,
                changed.version,
            )
            .await?;
        // As for merchants' events: invalidate again once the dispatcher has committed.
        let catalog = self.0.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(250)).await;
            catalog.invalidate();
        });
        Ok(())
    }
}

struct MerchantEvents(Arc<Catalog>);

#[async_trait]
impl EventHandler for MerchantEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        if event.event_type == MerchantUpdated::TYPE {
            let e: MerchantUpdated = serde_json::from_value(event.payload.clone())?;
            self.0
                .merchant_changed(tx, e.merchant_id, None, &e.business_name)
                .await?;
        } else {
            let fact: MerchantStatusFact = serde_json::from_value(event.payload.clone())?;
            self.0
                .merchant_changed(
                    tx,
                    fact.merchant_id,
                    Some(fact.status.as_str()),
                    &fact.business_name,
                )
                .await?;
        }
        // The dispatcher commits after this returns: invalidate again once it has, so a page
        // read between the first invalidation and the commit is not served for the TTL.
        let catalog = self.0.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(250)).await;
            catalog.invalidate();
        });
        Ok(())
    }
}
