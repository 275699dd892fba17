//! Merchants' events (applications, staff, outlets), and what merchants hear about their
//! business: low stock, payouts.

use std::sync::Arc;

use async_trait::async_trait;
use inventory_contract::InventoryLow;
use kernel::{format_amount, Currency, DomainEvent, EventEnvelope};
use ledger_contract::{PayoutFact, PayoutFailed, PayoutPaid};
use merchants_contract::{
    MemberAdded, MemberInvited, MemberRemoved, MerchantApplied, MerchantApproved, MerchantRejected,
    MerchantStatusFact, MerchantSuspended, MerchantUpdated, OutletSaved,
};
use platform::bus::{BoxError, EventHandler};
use platform::db::Tx;
use serde_json::json;

use super::decode;
use crate::domain::Category;
use crate::service::{reach, Message, Notifications, Target};
use crate::store;

/// Merchant invitations and the owner's news about their application; who the staff are and
/// what the outlets are called.
pub(super) struct MerchantEvents(pub(super) Arc<Notifications>);

#[async_trait]
impl EventHandler for MerchantEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let status_message = |template: &'static str, fact: MerchantStatusFact| Message {
            event_id: event.id,
            user_id: Some(fact.owner_user_id),
            category: Category::Account,
            template,
            context: json!({ "business_name": fact.business_name, "reason": fact.reason }),
            targets: Vec::new(),
        };
        let mut message = match event.event_type.as_str() {
            MemberInvited::TYPE => {
                let e: MemberInvited = decode(event)?;
                Message {
                    event_id: event.id,
                    user_id: None,
                    category: Category::Account,
                    template: "merchant_invitation",
                    context: json!({
                        "business_name": e.business_name,
                        "role": e.role.as_str(),
                        "token": self.0.ctx.sealer.open(&e.token)?,
                        "expires_at": e.expires_at.to_rfc3339(),
                    }),
                    targets: vec![Target::Email(e.email)],
                }
            }
            MemberAdded::TYPE => {
                let e: MemberAdded = decode(event)?;
                store::upsert_member(tx, e.merchant_id, e.user_id, e.role.as_str()).await?;
                return Ok(());
            }
            MemberRemoved::TYPE => {
                let e: MemberRemoved = decode(event)?;
                store::remove_member(tx, e.merchant_id, e.user_id).await?;
                return Ok(());
            }
            MerchantUpdated::TYPE => {
                let e: MerchantUpdated = decode(event)?;
                store::rename_merchant(tx, e.merchant_id, &e.business_name).await?;
                return Ok(());
            }
            OutletSaved::TYPE => {
                let e: OutletSaved = decode(event)?;
                store::upsert_outlet(tx, e.outlet_id, e.merchant_id, &e.name).await?;
                return Ok(());
            }
            MerchantApplied::TYPE => {
                let fact = decode::<MerchantApplied>(event)?.0;
                store::upsert_merchant_owner(
                    tx,
                    fact.merchant_id,
                    fact.owner_user_id,
                    &fact.business_name,
                )
                .await?;
                return Ok(());
            }
            MerchantApproved::TYPE => {
                status_message("merchant_approved", decode::<MerchantApproved>(event)?.0)
            }
            MerchantRejected::TYPE => {
                status_message("merchant_rejected", decode::<MerchantRejected>(event)?.0)
            }
            MerchantSuspended::TYPE => {
                status_message("merchant_suspended", decode::<MerchantSuspended>(event)?.0)
            }
            _ => return Ok(()),
        };
        if let Some(owner) = message.user_id.filter(|_| message.targets.is_empty()) {
            message.targets = reach(tx, owner).await?;
        }
        self.0.plan(tx, message).await?;
        Ok(())
    }
}

/// Low-stock alerts, to the merchant's owner.
pub(super) struct StockEvents(pub(super) Arc<Notifications>);

#[async_trait]
impl EventHandler for StockEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let e: InventoryLow = decode(event)?;
        let Some((owner, business_name)) = store::merchant_owner(tx, e.merchant_id).await? else {
            return Ok(());
        };
        let message = Message {
            event_id: event.id,
            user_id: Some(owner),
            category: Category::System,
            template: "inventory_low",
            context: json!({
                "business_name": business_name,
                "sku": e.sku,
                "available": e.available,
                "threshold": e.threshold,
            }),
            targets: reach(tx, owner).await?,
        };
        self.0.plan(tx, message).await?;
        Ok(())
    }
}

/// Payouts sent or failed, to the merchant's owner.
pub(super) struct PayoutEvents(pub(super) Arc<Notifications>);

#[async_trait]
impl EventHandler for PayoutEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let (template, fact): (&'static str, PayoutFact) = match event.event_type.as_str() {
            PayoutPaid::TYPE => ("payout_paid", decode::<PayoutPaid>(event)?.0),
            PayoutFailed::TYPE => ("payout_failed", decode::<PayoutFailed>(event)?.0),
            _ => return Ok(()),
        };
        let Some((owner, business_name)) = store::merchant_owner(tx, fact.merchant_id).await?
        else {
            return Ok(());
        };
        let amount = match Currency::parse(&fact.currency) {
            Some(currency) => format_amount(fact.amount, currency),
            None => format!("{} {}", fact.amount, fact.currency),
        };
        let message = Message {
            event_id: event.id,
            user_id: Some(owner),
            category: Category::System,
            template,
            context: json!({
                "business_name": business_name,
                "amount": amount,
                "period": fact.period,
                "reason": fact.reason,
            }),
            targets: reach(tx, owner).await?,
        };
        self.0.plan(tx, message).await?;
        Ok(())
    }
}
