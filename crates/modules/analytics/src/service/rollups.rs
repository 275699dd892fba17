//! The rollups, kept from other modules' events: each `on_*` runs inside the transaction that
//! records the event as consumed, so a redelivered event changes nothing.

use std::collections::BTreeMap;

use kernel::Timestamp;
use ledger_contract::PayoutFact;
use orders_contract::OrderFact;
use platform::db::Tx;
use uuid::Uuid;
use vouchers_contract::{VoucherExpired, VoucherIssued, VoucherRedeemed};

use super::{Analytics, Result};
use crate::domain;
use crate::store::{self, MerchantHour, PlatformHour};

/// The product types whose earning the ledger recognizes on delivery (vouchers are earned when
/// redeemed).
const PHYSICAL: &str = "PHYSICAL";
const PURCHASE: &str = "PURCHASE";

impl Analytics {
    /// A paid order: counted once, in the hour it was paid.
    pub async fn on_order_paid(&self, tx: &mut Tx, order: &OrderFact, at: Timestamp) -> Result<()> {
        let currency = order.currency.code();
        if !store::record_sale(
            tx,
            order.order_id,
            order.merchant_id,
            currency,
            at.millis(),
            order.refunded,
        )
        .await?
        {
            return Ok(());
        }
        let hour = domain::hour_of(at.millis());
        let delta = MerchantHour {
            orders: 1,
            gross: order.total,
            commission: order.commission,
            ..MerchantHour::default()
        };
        store::add_merchant_hour(tx, order.merchant_id, currency, hour, &delta).await?;
        // One row per product of the order (a product on two lines is one order of it).
        let mut products: BTreeMap<Uuid, (String, i64, i64)> = BTreeMap::new();
        for line in &order.lines {
            let entry = products
                .entry(line.product_id)
                .or_insert_with(|| (line.sku.clone(), 0, 0));
            entry.1 += line.quantity;
            entry.2 += line.line_total - line.discount;
        }
        for (product_id, (sku, quantity, revenue)) in products {
            store::add_product_hour(
                tx,
                order.merchant_id,
                product_id,
                currency,
                hour,
                &sku,
                quantity,
                revenue,
            )
            .await?;
        }
        Ok(())
    }

    /// A refund of an order: its events carry the running total, so the refund is what grew
    /// since the last one seen (a repeat or an older event adds nothing).
    pub async fn on_order_refunded(
        &self,
        tx: &mut Tx,
        order: &OrderFact,
        at: Timestamp,
    ) -> Result<()> {
        let known = self.order_row(tx, order, at).await?;
        let delta = order.refunded - known.refunded;
        if delta <= 0 {
            return Ok(());
        }
        store::set_refunded(tx, order.order_id, order.refunded).await?;
        let bucket = MerchantHour {
            refunds: delta,
            refund_count: 1,
            ..MerchantHour::default()
        };
        self.add(tx, order.merchant_id, order.currency.code(), at, &bucket)
            .await
    }

    /// Delivered goods earn their commission (as the ledger books it).
    pub async fn on_order_delivered(
        &self,
        tx: &mut Tx,
        order: &OrderFact,
        at: Timestamp,
    ) -> Result<()> {
        let commission: i64 = order
            .lines
            .iter()
            .filter(|l| l.product_type == PHYSICAL)
            .map(|l| l.commission)
            .sum();
        let known = self.order_row(tx, order, at).await?;
        if commission <= 0 || known.delivered_commission != 0 {
            return Ok(());
        }
        store::set_delivered_commission(tx, order.order_id, commission).await?;
        let bucket = MerchantHour {
            delivered_commission: commission,
            ..MerchantHour::default()
        };
        self.add(tx, order.merchant_id, order.currency.code(), at, &bucket)
            .await
    }

    /// Returned goods give their delivery's commission back.
    pub async fn on_order_returned(
        &self,
        tx: &mut Tx,
        order: &OrderFact,
        at: Timestamp,
    ) -> Result<()> {
        let known = self.order_row(tx, order, at).await?;
        if known.delivered_commission <= 0 {
            return Ok(());
        }
        store::set_delivered_commission(tx, order.order_id, 0).await?;
        let bucket = MerchantHour {
            delivered_commission: -known.delivered_commission,
            ..MerchantHour::default()
        };
        self.add(tx, order.merchant_id, order.currency.code(), at, &bucket)
            .await
    }

    /// The order's row, recorded (without sales) when its payment came before analytics did.
    async fn order_row(
        &self,
        tx: &mut Tx,
        order: &OrderFact,
        at: Timestamp,
    ) -> Result<store::OrderRow> {
        if let Some(row) = store::order_for_update(tx, order.order_id).await? {
            return Ok(row);
        }
        store::insert_order_placeholder(
            tx,
            order.order_id,
            order.merchant_id,
            order.currency.code(),
            at.millis(),
        )
        .await?;
        Ok(store::OrderRow {
            refunded: 0,
            delivered_commission: 0,
        })
    }

    pub async fn on_voucher_issued(
        &self,
        tx: &mut Tx,
        v: &VoucherIssued,
        at: Timestamp,
    ) -> Result<()> {
        if v.source != PURCHASE {
            return Ok(());
        }
        let bucket = MerchantHour {
            vouchers_sold: 1,
            vouchers_sold_value: v.face_value,
            ..MerchantHour::default()
        };
        self.add(tx, v.merchant_id, v.currency.code(), at, &bucket)
            .await
    }

    pub async fn on_voucher_redeemed(
        &self,
        tx: &mut Tx,
        v: &VoucherRedeemed,
        at: Timestamp,
    ) -> Result<()> {
        let bucket = MerchantHour {
            redemptions: 1,
            redeemed_value: v.amount,
            // As the ledger books it: never more than what was earned.
            redemption_commission: v.commission.clamp(0, v.earned.max(0)),
            ..MerchantHour::default()
        };
        self.add(tx, v.merchant_id, v.currency.code(), at, &bucket)
            .await
    }

    pub async fn on_voucher_expired(
        &self,
        tx: &mut Tx,
        v: &VoucherExpired,
        at: Timestamp,
    ) -> Result<()> {
        let bucket = MerchantHour {
            vouchers_expired: 1,
            expired_value: v.balance,
            ..MerchantHour::default()
        };
        self.add(tx, v.merchant_id, v.currency.code(), at, &bucket)
            .await
    }

    pub async fn on_payout(
        &self,
        tx: &mut Tx,
        p: &PayoutFact,
        paid: bool,
        at: Timestamp,
    ) -> Result<()> {
        let bucket = if paid {
            MerchantHour {
                payouts_paid: p.amount,
                payouts_paid_count: 1,
                ..MerchantHour::default()
            }
        } else {
            MerchantHour {
                payouts_failed: p.amount,
                payouts_failed_count: 1,
                ..MerchantHour::default()
            }
        };
        self.add(tx, p.merchant_id, &p.currency, at, &bucket).await
    }

    async fn add(
        &self,
        tx: &mut Tx,
        merchant_id: Uuid,
        currency: &str,
        at: Timestamp,
        bucket: &MerchantHour,
    ) -> Result<()> {
        store::add_merchant_hour(
            tx,
            merchant_id,
            currency,
            domain::hour_of(at.millis()),
            bucket,
        )
        .await?;
        Ok(())
    }

    pub async fn on_user_registered(&self, tx: &mut Tx, at: Timestamp) -> Result<()> {
        let d = PlatformHour {
            new_customers: 1,
            ..PlatformHour::default()
        };
        store::add_platform_hour(tx, domain::hour_of(at.millis()), d).await?;
        Ok(())
    }

    /// `status`: PENDING (applied), APPROVED or REJECTED.
    pub async fn on_application(
        &self,
        tx: &mut Tx,
        merchant_id: Uuid,
        status: &str,
        at: Timestamp,
    ) -> Result<()> {
        store::set_application(tx, merchant_id, status, at.millis()).await?;
        let d = match status {
            "PENDING" => PlatformHour {
                applications: 1,
                ..PlatformHour::default()
            },
            "APPROVED" => PlatformHour {
                new_merchants: 1,
                ..PlatformHour::default()
            },
            _ => return Ok(()),
        };
        store::add_platform_hour(tx, domain::hour_of(at.millis()), d).await?;
        Ok(())
    }

    pub async fn on_fraud_case(
        &self,
        tx: &mut Tx,
        case_id: Uuid,
        merchant_id: Uuid,
        open: bool,
        at: Timestamp,
    ) -> Result<()> {
        if open {
            store::open_fraud_case(tx, case_id, merchant_id, at.millis()).await?;
        } else {
            store::close_fraud_case(tx, case_id, merchant_id, at.millis()).await?;
        }
        Ok(())
    }
}
