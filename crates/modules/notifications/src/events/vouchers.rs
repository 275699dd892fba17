//! Vouchers' events.

use std::sync::Arc;

use async_trait::async_trait;
use kernel::{format_amount, DomainEvent, EventEnvelope};
use platform::bus::{BoxError, EventHandler};
use platform::db::Tx;
use serde_json::json;
use vouchers_contract::{VoucherExpiring, VoucherGifted, VoucherIssued, VoucherRedeemed};

use super::{decode, staff_copy, tell_staff};
use crate::domain::Category;
use crate::service::{reach, Message, Notifications, Target};
use crate::store;

/// Gifts reach their recipient (who may not have an account yet); the holder hears of a
/// voucher bought or received, redeemed (where and when: a redemption they did not make is
/// fraud they must report), and about to expire; the merchant's staff hear of redemptions.
pub(super) struct VoucherEvents(pub(super) Arc<Notifications>);

#[async_trait]
impl EventHandler for VoucherEvents {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let message = match event.event_type.as_str() {
            VoucherGifted::TYPE => {
                let e: VoucherGifted = decode(event)?;
                let target = match (e.to_email, e.to_phone) {
                    (Some(email), _) => Target::Email(email),
                    (None, Some(phone)) => Target::Sms(phone),
                    (None, None) => return Ok(()),
                };
                Message {
                    event_id: event.id,
                    user_id: None,
                    category: Category::Account,
                    template: "voucher_gift",
                    context: json!({
                        "title": e.title,
                        "message": e.message,
                        "token": self.0.ctx.sealer.open(&e.token)?,
                        "expires_at": e.expires_at.to_rfc3339(),
                    }),
                    targets: vec![target],
                }
            }
            VoucherExpiring::TYPE => {
                let e: VoucherExpiring = decode(event)?;
                // A printed voucher (voucher books) is held by no account: nobody to tell.
                if store::recipient(tx, e.owner_id).await?.is_none() {
                    return Ok(());
                }
                Message {
                    event_id: event.id,
                    user_id: Some(e.owner_id),
                    category: Category::Account,
                    template: "voucher_expiring",
                    context: json!({
                        "title": e.title,
                        "balance": format_amount(e.balance, e.currency),
                        "expires_at": e.expires_at.to_display(),
                    }),
                    targets: reach(tx, e.owner_id).await?,
                }
            }
            VoucherIssued::TYPE => {
                let e: VoucherIssued = decode(event)?;
                let template = match e.source.as_str() {
                    "PURCHASE" => "voucher_purchased",
                    // The holder claimed it themselves a moment ago.
                    "CLAIM" => return Ok(()),
                    _ => "voucher_received",
                };
                let Some(title) = e.title else {
                    return Ok(());
                };
                Message {
                    event_id: event.id,
                    user_id: Some(e.owner_id),
                    category: Category::Order,
                    template,
                    context: json!({
                        "title": title,
                        "expires_at": e.expires_at.to_display(),
                    }),
                    targets: reach(tx, e.owner_id).await?,
                }
            }
            VoucherRedeemed::TYPE => return self.redeemed(tx, event).await,
            _ => return Ok(()),
        };
        self.0.plan(tx, message).await?;
        Ok(())
    }
}

impl VoucherEvents {
    async fn redeemed(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let e: VoucherRedeemed = decode(event)?;
        let Some(title) = e.title else {
            return Ok(());
        };
        let context = json!({
            "title": title,
            "amount": format_amount(e.amount, e.currency),
            "balance": format_amount(e.balance_after, e.currency),
            "balance_left": e.balance_after > 0,
            "outlet": store::outlet_name(tx, e.outlet_id).await?,
            "redeemed_at": event.occurred_at.to_display(),
        });
        // A printed voucher (voucher books) is held by no account: only the staff hear of it.
        if store::recipient(tx, e.owner_id).await?.is_some() {
            let message = Message {
                event_id: event.id,
                user_id: Some(e.owner_id),
                category: Category::Order,
                template: "voucher_redeemed",
                context: context.clone(),
                targets: reach(tx, e.owner_id).await?,
            };
            self.0.plan(tx, message).await?;
        }
        tell_staff(
            &self.0,
            tx,
            e.merchant_id,
            staff_copy(event.id),
            Category::Order,
            "staff_redemption",
            context,
        )
        .await
    }
}
