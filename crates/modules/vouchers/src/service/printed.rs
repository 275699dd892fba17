//! Printed vouchers (voucher books): free-to-claim offers only (a paid offer's vouchers are
//! sold through stock, never given away on paper), issued by the books module against the
//! offer's total cap, held by no account (a voucher's owner is itself: velocity rules and
//! messages about its holder see one voucher, not the whole book), redeemed at the counter
//! with the printed QR or code and the PIN.

use kernel::Timestamp;
use uuid::Uuid;

use super::wallet::publish_issued;
use super::*;
use crate::domain::{self, TokenClaims, TOKEN_TYPE};
use crate::store;

/// A book prints at most this many vouchers per call.
pub const MAX_PRINTED_PER_CALL: usize = 1_000;

impl Vouchers {
    /// Issues one voucher per issue key, all or none: the new ones together must fit the
    /// offer's total cap. A key issued before returns its voucher again (a regenerated book
    /// prints the same codes). Each carries its printed QR token (no time step; the PIN is
    /// needed), signed once here so every rendering of the book is the same.
    pub async fn issue_printed(&self, request: &PrintedIssue) -> Result<Vec<PrintedVoucher>> {
        if request.issue_keys.is_empty() || request.issue_keys.len() > MAX_PRINTED_PER_CALL {
            return Err(invalid("issueKeys", "between 1 and 1000 keys"));
        }
        if request
            .issue_keys
            .iter()
            .any(|k| k.is_empty() || k.len() > 200 || !k.starts_with("book:"))
        {
            return Err(invalid(
                "issueKeys",
                "each is `book:...`, at most 200 characters",
            ));
        }
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let offer = store::offer_in(&mut tx, request.offer_id)
            .await?
            .ok_or(VouchersError::OfferNotFound)?;
        if !offer.claimable {
            return Err(VouchersError::NotClaimable);
        }
        // Printed ahead of its month is fine; withdrawn, unapproved or over is not.
        let printable = offer.product_status == "ACTIVE"
            && offer.merchant_active
            && offer.valid_until.is_none_or(|u| u > now.millis());
        let mut rows = Vec::with_capacity(request.issue_keys.len());
        let mut fresh = Vec::new();
        for key in &request.issue_keys {
            if let Some(existing) = store::instance_by_issue_key(&mut tx, key).await? {
                if existing.offer_id != offer.id {
                    return Err(invalid("issueKeys", "a key was issued for another offer"));
                }
                rows.push(existing);
                continue;
            }
            if !printable {
                return Err(VouchersError::OfferNotFound);
            }
            let expires_at = domain::expiry(
                now.millis(),
                offer.valid_until,
                offer.valid_days.map(i64::from),
            );
            let mut row = new_instance(&offer, Uuid::nil(), "CLAIM", 0, 0, expires_at, now)?;
            row.owner_id = row.id;
            row.issue_key = Some(key.clone());
            if !store::insert_instance(&mut tx, &row).await? {
                return Err(VouchersError::Contended);
            }
            fresh.push(rows.len());
            rows.push(row);
        }
        if !fresh.is_empty() {
            let count = i32::try_from(fresh.len()).unwrap_or(i32::MAX);
            if !store::count_issued(&mut tx, offer.id, count, true).await? {
                return Err(VouchersError::SoldOut);
            }
            for index in &fresh {
                publish_issued(&mut tx, &rows[*index], &offer).await?;
            }
        }
        let printed = rows
            .iter()
            .map(|row| self.printed_view(row))
            .collect::<Result<Vec<_>>>()?;
        self.ctx.commit(tx).await?;
        Ok(printed)
    }

    fn printed_view(&self, row: &InstanceRow) -> Result<PrintedVoucher> {
        let claims = TokenClaims {
            typ: TOKEN_TYPE.into(),
            sub: row.id,
            ver: row.version,
            mer: row.merchant_id,
            exp: row.expires_at / 1000,
            step: None,
        };
        Ok(PrintedVoucher {
            issue_key: row.issue_key.clone().unwrap_or_default(),
            instance_id: row.id,
            code: row.code.clone(),
            pin: row.pin.clone(),
            token: crate::qr::sign(&self.ctx.code_keyring, &claims).map_err(crypto)?,
            face_value: row.face_value,
            currency: currency(&row.currency)?,
            expires_at: Timestamp::from_millis(row.expires_at),
        })
    }
}
