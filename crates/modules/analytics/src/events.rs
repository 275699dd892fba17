//! The facts analytics rolls up, decoded with their producers' own types: orders paid,
//! refunded, delivered and returned; vouchers sold, redeemed and expired; fraud cases opened
//! and decided; payouts; accounts
//! registered; merchant applications and decisions. Each is applied in the transaction that
//! records it in the platform's inbox, so a redelivery changes nothing.

use std::sync::Arc;

use async_trait::async_trait;
use identity_contract::UserRegistered;
use kernel::{DomainEvent, EventEnvelope};
use ledger_contract::{PayoutFailed, PayoutPaid};
use merchants_contract::{MerchantApplied, MerchantApproved, MerchantRejected};
use orders_contract::{OrderDelivered, OrderPaid, OrderRefunded, OrderReturned};
use platform::bus::{BoxError, EventHandler, Subscription};
use platform::db::Tx;
use vouchers_contract::{
    FraudCaseClosed, FraudCaseOpened, VoucherExpired, VoucherIssued, VoucherRedeemed,
};

use crate::service::Analytics;

pub fn subscriptions(analytics: Arc<Analytics>) -> Vec<Subscription> {
    vec![Subscription {
        event_types: vec![
            OrderPaid::TYPE,
            OrderRefunded::TYPE,
            OrderDelivered::TYPE,
            OrderReturned::TYPE,
            VoucherIssued::TYPE,
            VoucherRedeemed::TYPE,
            VoucherExpired::TYPE,
            FraudCaseOpened::TYPE,
            FraudCaseClosed::TYPE,
            PayoutPaid::TYPE,
            PayoutFailed::TYPE,
            UserRegistered::TYPE,
            MerchantApplied::TYPE,
            MerchantApproved::TYPE,
            MerchantRejected::TYPE,
        ],
        handler: Arc::new(Events(analytics)),
    }]
}

struct Events(Arc<Analytics>);

#[async_trait]
impl EventHandler for Events {
    async fn handle(&self, tx: &mut Tx, event: &EventEnvelope) -> Result<(), BoxError> {
        let a = &self.0;
        let at = event.occurred_at;
        if let Some(e) = event.decode::<OrderPaid>() {
            a.on_order_paid(tx, &e?.0, at).await?;
        } else if let Some(e) = event.decode::<OrderRefunded>() {
            a.on_order_refunded(tx, &e?.0, at).await?;
        } else if let Some(e) = event.decode::<OrderDelivered>() {
            a.on_order_delivered(tx, &e?.0, at).await?;
        } else if let Some(e) = event.decode::<OrderReturned>() {
            a.on_order_returned(tx, &e?.0, at).await?;
        } else if let Some(e) = event.decode::<VoucherIssued>() {
            a.on_voucher_issued(tx, &e?, at).await?;
        } else if let Some(e) = event.decode::<VoucherRedeemed>() {
            a.on_voucher_redeemed(tx, &e?, at).await?;
        } else if let Some(e) = event.decode::<VoucherExpired>() {
            a.on_voucher_expired(tx, &e?, at).await?;
        } else if let Some(e) = event.decode::<FraudCaseOpened>() {
            let e = e?;
            a.on_fraud_case(tx, e.case_id, e.merchant_id, true, at)
                .await?;
        } else if let Some(e) = event.decode::<FraudCaseClosed>() {
            let e = e?;
            a.on_fraud_case(tx, e.case_id, e.merchant_id, false, at)
                .await?;
        } else if let Some(e) = event.decode::<PayoutPaid>() {
            a.on_payout(tx, &e?.0, true, at).await?;
        } else if let Some(e) = event.decode::<PayoutFailed>() {
            a.on_payout(tx, &e?.0, false, at).await?;
        } else if let Some(e) = event.decode::<UserRegistered>() {
            e?;
            a.on_user_registered(tx, at).await?;
        } else if let Some(e) = event.decode::<MerchantApplied>() {
            a.on_application(tx, e?.0.merchant_id, "PENDING", at)
                .await?;
        } else if let Some(e) = event.decode::<MerchantApproved>() {
            a.on_application(tx, e?.0.merchant_id, "APPROVED", at)
                .await?;
        } else if let Some(e) = event.decode::<MerchantRejected>() {
            a.on_application(tx, e?.0.merchant_id, "REJECTED", at)
                .await?;
        }
        Ok(())
    }
}
