//! Merchants' names, as their events say: printed under each voucher.

use std::sync::Arc;

use async_trait::async_trait;
use kernel::{DomainEvent, EventEnvelope};
use merchants_contract::{MerchantApplied, MerchantApproved, MerchantUpdated};
use platform::bus::{BoxError, EventHandler, Subscription};
use platform::db::Tx;

use crate::store;

pub fn subscriptions() -> Vec<Subscription> {
    vec![Subscription {
        event_types: vec![
            MerchantApplied::TYPE,
            MerchantApproved::TYPE,
            MerchantUpdated::TYPE,
        ],
        handler: Arc::new(MerchantNames),
    }]
}

struct MerchantNames;

#[async_trait]
impl EventHandler for MerchantNames {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let (merchant_id, name) = if let Some(applied) = event.decode::<MerchantApplied>() {
            let fact = applied?.0;
            (fact.merchant_id, fact.business_name)
        } else if let Some(approved) = event.decode::<MerchantApproved>() {
            let fact = approved?.0;
            (fact.merchant_id, fact.business_name)
        } else if let Some(updated) = event.decode::<MerchantUpdated>() {
            let e = updated?;
            (e.merchant_id, e.business_name)
        } else {
            return Ok(());
        };
        store::set_merchant_name(tx, merchant_id, &name).await?;
        Ok(())
    }
}
