//! Who may review what, from other modules' facts: a delivered or completed order makes its
//! physical products reviewable by its customer; a redeemed voucher makes its offer
//! reviewable by the voucher's owner. An order line of a VOUCHER product is not a purchase to
//! review: the voucher is reviewed through its offer once redeemed. Authors' names come from
//! registrations; a deleted account's reviews become anonymous.

use std::collections::BTreeSet;

use catalog_contract::ProductType;
use orders_contract::OrderFact;
use platform::db::Tx;
use vouchers_contract::VoucherRedeemed;

use super::*;
use crate::domain;
use crate::store::{self, PurchaseRow};

impl Reviews {
    pub async fn on_order_received(&self, tx: &mut Tx, order: &OrderFact) -> Result<()> {
        let products: BTreeSet<Uuid> = order
            .lines
            .iter()
            .filter(|l| l.product_type != ProductType::Voucher.as_str())
            .map(|l| l.product_id)
            .collect();
        for product_id in products {
            store::insert_purchase(
                tx,
                &PurchaseRow {
                    id: kernel::new_id(),
                    customer_id: order.customer_id,
                    subject_kind: ReviewSubjectKind::Product.as_str().into(),
                    subject_id: product_id,
                    merchant_id: order.merchant_id,
                    source_id: order.order_id,
                    purchased_at: now(),
                },
            )
            .await?;
        }
        Ok(())
    }

    pub async fn on_voucher_redeemed(&self, tx: &mut Tx, redeemed: &VoucherRedeemed) -> Result<()> {
        // Redemptions published before offers were named on the event cannot be placed.
        if redeemed.offer_id.is_nil() {
            return Ok(());
        }
        store::insert_purchase(
            tx,
            &PurchaseRow {
                id: kernel::new_id(),
                customer_id: redeemed.owner_id,
                subject_kind: ReviewSubjectKind::Voucher.as_str().into(),
                subject_id: redeemed.offer_id,
                merchant_id: redeemed.merchant_id,
                source_id: redeemed.instance_id,
                purchased_at: now(),
            },
        )
        .await?;
        Ok(())
    }

    pub async fn on_user_registered(
        &self,
        tx: &mut Tx,
        user_id: Uuid,
        first_name: &str,
        last_name: &str,
    ) -> Result<()> {
        let name = domain::display_name(first_name, last_name);
        store::save_author(tx, user_id, name.as_deref(), now()).await?;
        Ok(())
    }

    pub async fn on_user_deleted(&self, tx: &mut Tx, user_id: Uuid) -> Result<()> {
        store::erase_author(tx, user_id, now()).await?;
        Ok(())
    }
}
