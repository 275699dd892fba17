//! Wallet: issuance on payment and by claim, the holder's views and QR codes, gifts,
//! refunds of unused vouchers, expiry and reminders.

use std::collections::HashMap;

use kernel::{Actor, ActorKind, Page, Timestamp};
use platform::db::Tx;
use uuid::Uuid;

use super::*;
use crate::domain::{self, TokenClaims, TOKEN_TYPE};
use crate::store::{self, GiftRow};

pub use orders_contract::OrderFact;

/// Splits a line's amount (commission, what was paid, a funded discount) over its units; the
/// first units take the remainder.
fn unit_commission(total: i64, quantity: i64, unit: i64) -> i64 {
    let base = total / quantity;
    base + i64::from(unit < total % quantity)
}

impl Vouchers {
    /// Issues one instance per voucher unit of a paid order. Idempotent: each unit has an
    /// issue key, so a redelivered `order.paid` issues nothing more.
    pub async fn issue_for_order(&self, tx: &mut Tx, order: &OrderFact) -> Result<usize> {
        let now = Timestamp::now();
        if store::order_voided(tx, order.order_id).await? {
            // The cancellation was handled first (events of one order can be redelivered out
            // of order): nothing was delivered, so the vouchers' whole value goes back.
            let paid = order
                .lines
                .iter()
                .filter(|l| l.product_type == "VOUCHER")
                .map(|l| l.line_total - l.discount)
                .sum();
            request_order_refund(tx, order, paid).await?;
            return Ok(0);
        }
        let mut issued = 0;
        for line in order.lines.iter().filter(|l| l.product_type == "VOUCHER") {
            let Some(offer) = store::offer_by_variant(tx, line.variant_id).await? else {
                tracing::error!(order = %order.order_id, variant = %line.variant_id,
                    "a voucher product was paid for but has no offer: nothing issued");
                continue;
            };
            let expires_at = domain::expiry(
                now.millis(),
                offer.valid_until,
                offer.valid_days.map(i64::from),
            );
            let mut count = 0;
            for unit in 0..line.quantity {
                // What the customer paid for the unit, after promotions' discounts.
                let mut row = new_instance(
                    &offer,
                    order.customer_id,
                    "PURCHASE",
                    unit_commission(line.line_total - line.discount, line.quantity, unit),
                    unit_commission(line.commission, line.quantity, unit),
                    expires_at,
                    now,
                )?;
                row.platform_funded = unit_commission(line.platform_discount, line.quantity, unit);
                row.issue_key = Some(format!("{}:{}:{unit}", order.order_id, line.variant_id));
                row.order_id = Some(order.order_id);
                row.group_id = Some(order.group_id);
                row.payment_id = order.payment_id;
                if store::insert_instance(tx, &row).await? {
                    publish_issued(tx, &row, &offer).await?;
                    count += 1;
                }
            }
            if count > 0 {
                store::count_issued(tx, offer.id, count, false).await?;
                store::count_holding(tx, offer.id, order.customer_id, count, None).await?;
                issued += count as usize;
            }
        }
        Ok(issued)
    }

    /// A paid order was cancelled or returned. Orders refunds its goods only; here its
    /// vouchers that the buyer still holds, and gifts not yet accepted, are voided (each by a
    /// conditional move, so a redemption at the same moment either happened first and keeps
    /// its value, or finds the voucher void), and payments is asked for exactly the value
    /// they voided unused. Value already delivered (redeemed, or a gift accepted) is not paid
    /// back. The order is remembered, so its vouchers are never issued after this.
    pub async fn void_for_order(&self, tx: &mut Tx, order: &OrderFact) -> Result<usize> {
        let now = Timestamp::now();
        if !store::mark_order_voided(tx, order.order_id, now).await? {
            return Ok(0);
        }
        let mut voided = 0;
        let mut unused = 0;
        for row in store::instances_of_order(tx, order.order_id).await? {
            let closed = match status(&row.status)? {
                InstanceStatus::Active | InstanceStatus::PartiallyRedeemed
                    if row.source == "PURCHASE" =>
                {
                    store::close_instance(
                        tx,
                        row.id,
                        row.version,
                        &["ACTIVE", "PARTIALLY_REDEEMED"],
                        "REFUNDED",
                        now,
                    )
                    .await?
                }
                InstanceStatus::Transferred => match store::pending_gift_of(tx, row.id).await? {
                    Some(gift) => {
                        store::decide_gift(tx, gift.id, "CANCELLED", None, None, now).await?
                            && store::close_instance(
                                tx,
                                row.id,
                                row.version,
                                &["TRANSFERRED"],
                                "REFUNDED",
                                now,
                            )
                            .await?
                    }
                    None => false,
                },
                _ => false,
            };
            if closed {
                voided += 1;
                unused += domain::unused_value(row.paid_amount, row.earned);
            }
        }
        request_order_refund(tx, order, unused).await?;
        Ok(voided)
    }

    /// A free voucher, within the offer's total and per-customer caps (both enforced by
    /// conditional statements, so parallel claims cannot pass them).
    pub async fn claim(&self, actor: &Actor, offer_id: Uuid) -> Result<WalletItem> {
        let customer = customer_of(actor)?;
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let offer = store::offer_in(&mut tx, offer_id)
            .await?
            .ok_or(VouchersError::OfferNotFound)?;
        let view = super::offers::offer_view(&offer, now, None)?;
        if !view.visible && offer.total_cap.is_none_or(|c| offer.issued < c) {
            return Err(VouchersError::OfferNotFound);
        }
        if !offer.claimable {
            return Err(VouchersError::NotClaimable);
        }
        if !store::count_holding(&mut tx, offer.id, customer, 1, offer.per_customer_cap).await? {
            return Err(VouchersError::CapReached);
        }
        if !store::count_issued(&mut tx, offer.id, 1, true).await? {
            return Err(VouchersError::SoldOut);
        }
        let expires_at = domain::expiry(
            now.millis(),
            offer.valid_until,
            offer.valid_days.map(i64::from),
        );
        let row = new_instance(&offer, customer, "CLAIM", 0, 0, expires_at, now)?;
        store::insert_instance(&mut tx, &row).await?;
        publish_issued(&mut tx, &row, &offer).await?;
        self.ctx.commit(tx).await?;
        wallet_item(&row, &offer, false)
    }

    pub async fn wallet(&self, actor: &Actor, q: &WalletQuery) -> Result<Page<WalletItem>> {
        let customer = customer_of(actor)?;
        let (after, limit) = page_of(q.limit, &q.cursor)?;
        let rows = store::wallet(
            &self.ctx.db,
            customer,
            q.status.map(InstanceStatus::as_str),
            after,
            i64::from(limit) + 1,
        )
        .await?;
        let pending = store::pending_reviews_of(&self.ctx.db, customer).await?;
        let mut offers: HashMap<Uuid, OfferRow> = HashMap::new();
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            if let std::collections::hash_map::Entry::Vacant(slot) = offers.entry(row.offer_id) {
                let offer = store::offer(&self.ctx.db, row.offer_id)
                    .await?
                    .ok_or_else(|| corrupt("offer of instance", &row.id.to_string()))?;
                slot.insert(offer);
            }
            items.push(wallet_item(
                row,
                &offers[&row.offer_id],
                pending.contains(&row.id),
            )?);
        }
        Ok(Page::from_overfetch(items, limit, |i| i.id.to_string()))
    }

    /// One of the caller's vouchers; anyone else's is not found.
    pub(super) async fn own(&self, actor: &Actor, id: Uuid) -> Result<(InstanceRow, OfferRow)> {
        let row = store::instance(&self.ctx.db, id)
            .await?
            .filter(|r| actor.kind == ActorKind::User && r.owner_id == actor.user_id)
            .ok_or(VouchersError::VoucherNotFound)?;
        let offer = store::offer(&self.ctx.db, row.offer_id)
            .await?
            .ok_or_else(|| corrupt("offer of instance", &row.id.to_string()))?;
        Ok((row, offer))
    }

    pub async fn item(&self, actor: &Actor, id: Uuid) -> Result<WalletItem> {
        let (row, offer) = self.own(actor, id).await?;
        let pending = store::has_pending_review(&self.ctx.db, id).await?;
        wallet_item(&row, &offer, pending)
    }

    /// A signed token for the voucher's QR code: rotating (on screen) or printed.
    pub async fn qr_token(&self, actor: &Actor, id: Uuid, printed: bool) -> Result<QrToken> {
        let (row, _) = self.own(actor, id).await?;
        let status = status(&row.status)?;
        if !status.is_live() {
            return Err(VouchersError::NotRedeemable(status));
        }
        let now = Timestamp::now();
        if row.expires_at <= now.millis() {
            return Err(VouchersError::Expired);
        }
        let step_secs = self.config.qr_step_secs.max(1);
        let step = (!printed).then(|| domain::time_step(now.seconds(), step_secs));
        let claims = TokenClaims {
            typ: TOKEN_TYPE.into(),
            sub: row.id,
            ver: row.version,
            mer: row.merchant_id,
            exp: row.expires_at / 1000,
            step,
        };
        let token = crate::qr::sign(&self.ctx.code_keyring, &claims).map_err(crypto)?;
        Ok(QrToken {
            token,
            kid: self.ctx.code_keyring.current_kid().unwrap_or_default(),
            refresh_at: step.map(|s| Timestamp::from_millis((s + 1) * step_secs * 1000)),
        })
    }

    /// Gives a voucher away: it leaves the giver's wallet at once (its version changes, so
    /// the giver's codes stop working) and waits for the recipient to accept.
    pub async fn gift(&self, actor: &Actor, id: Uuid, input: GiftInput) -> Result<(Gift, String)> {
        let (row, offer) = self.own(actor, id).await?;
        let email = input
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty());
        let phone = input
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty());
        let message = input
            .message
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty());
        let mut errors = Vec::new();
        let mut fail = |field: &str, message: &str| {
            errors.push(kernel::FieldError {
                field: field.into(),
                message: message.into(),
            })
        };
        let (to_email, to_phone) = match (email, phone) {
            (Some(e), None) => match kernel::contact::normalize_email(e) {
                Some(e) => (Some(e), None),
                None => {
                    fail("email", "is not an email address");
                    (None, None)
                }
            },
            (None, Some(p)) => match kernel::contact::normalize_phone(p) {
                Some(p) => (None, Some(p)),
                None => {
                    fail("phone", "must be in international form, e.g. +85512345678");
                    (None, None)
                }
            },
            _ => {
                fail("email", "give exactly one of email and phone");
                (None, None)
            }
        };
        if message.is_some_and(|m| m.chars().count() > 500) {
            errors.push(kernel::FieldError {
                field: "message".into(),
                message: "at most 500 characters".into(),
            });
        }
        if !errors.is_empty() {
            return Err(VouchersError::Invalid(errors));
        }
        let current = status(&row.status)?;
        if !current.is_live() {
            return Err(VouchersError::NotRedeemable(current));
        }
        if row.expires_at <= Timestamp::now().millis() {
            return Err(VouchersError::Expired);
        }
        if store::has_pending_review(&self.ctx.db, id).await? {
            return Err(VouchersError::PendingReview);
        }
        let token = platform::secrets::random_token().map_err(crypto)?;
        let now = Timestamp::now();
        let gift = GiftRow {
            id: kernel::new_id(),
            instance_id: id,
            from_customer: actor.user_id,
            to_email,
            to_phone,
            message: message.map(str::to_owned),
            status: "PENDING".into(),
            new_instance_id: None,
            created_at: now.millis(),
        };
        let mut tx = self.ctx.db.begin().await?;
        if !store::close_instance(
            &mut tx,
            id,
            row.version,
            &["ACTIVE", "PARTIALLY_REDEEMED"],
            "TRANSFERRED",
            now,
        )
        .await?
        {
            return Err(self.why_not_live(id).await);
        }
        store::insert_gift(&mut tx, &gift, &hash_token(&token)).await?;
        platform::bus::publish(
            &mut tx,
            SOURCE,
            &VoucherGifted {
                gift_id: gift.id,
                instance_id: id,
                from_customer_id: actor.user_id,
                to_email: gift.to_email.clone(),
                to_phone: gift.to_phone.clone(),
                message: gift.message.clone(),
                title: text_of(&offer.title)?.en,
                token: self.ctx.sealer.seal(&token).map_err(crypto)?,
                expires_at: Timestamp::from_millis(row.expires_at),
            },
        )
        .await?;
        self.ctx.commit(tx).await?;
        Ok((gift_view(&gift), token))
    }

    /// The recipient takes the gift: a new voucher with its own code and PIN, same value and
    /// expiry.
    pub async fn accept_gift(&self, actor: &Actor, token: &str) -> Result<WalletItem> {
        let customer = customer_of(actor)?;
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let gift = store::gift_by_token(&mut tx, &hash_token(token.trim()))
            .await?
            .filter(|g| g.status == "PENDING")
            .ok_or(VouchersError::GiftNotFound)?;
        if gift.from_customer == customer {
            return Err(invalid(
                "token",
                "you cannot accept your own gift; cancel it instead",
            ));
        }
        let old = store::instance_in(&mut tx, gift.instance_id)
            .await?
            .ok_or_else(|| corrupt("instance of gift", &gift.id.to_string()))?;
        let offer = store::offer_in(&mut tx, old.offer_id)
            .await?
            .ok_or_else(|| corrupt("offer of instance", &old.id.to_string()))?;
        let mut row = new_instance(
            &offer,
            customer,
            "GIFT",
            old.paid_amount,
            old.commission,
            old.expires_at,
            now,
        )?;
        row.balance = old.balance;
        row.earned = old.earned;
        row.commission_earned = old.commission_earned;
        row.platform_funded = old.platform_funded;
        row.status = if old.balance == old.face_value {
            "ACTIVE"
        } else {
            "PARTIALLY_REDEEMED"
        }
        .into();
        row.order_id = old.order_id;
        row.group_id = old.group_id;
        row.payment_id = old.payment_id;
        row.gifted_from = Some(old.id);
        if !store::decide_gift(
            &mut tx,
            gift.id,
            "ACCEPTED",
            Some(customer),
            Some(row.id),
            now,
        )
        .await?
        {
            return Err(VouchersError::GiftNotFound);
        }
        store::insert_instance(&mut tx, &row).await?;
        publish_issued(&mut tx, &row, &offer).await?;
        self.ctx.commit(tx).await?;
        wallet_item(&row, &offer, false)
    }

    /// The giver takes a gift back before it is accepted.
    pub async fn cancel_gift(&self, actor: &Actor, gift_id: Uuid) -> Result<Gift> {
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let gift = store::gift_in(&mut tx, gift_id)
            .await?
            .filter(|g| actor.kind == ActorKind::User && g.from_customer == actor.user_id)
            .ok_or(VouchersError::GiftNotFound)?;
        let instance = store::instance_in(&mut tx, gift.instance_id)
            .await?
            .ok_or_else(|| corrupt("instance of gift", &gift.id.to_string()))?;
        if !store::decide_gift(&mut tx, gift.id, "CANCELLED", None, None, now).await? {
            return Err(VouchersError::GiftNotFound);
        }
        let back = if instance.balance == instance.face_value {
            "ACTIVE"
        } else {
            "PARTIALLY_REDEEMED"
        };
        if !store::close_instance(
            &mut tx,
            instance.id,
            instance.version,
            &["TRANSFERRED"],
            back,
            now,
        )
        .await?
        {
            return Err(VouchersError::Contended);
        }
        self.ctx.commit(tx).await?;
        let mut view = gift_view(&gift);
        view.status = "CANCELLED".into();
        Ok(view)
    }

    pub async fn gifts_sent(&self, actor: &Actor) -> Result<Vec<Gift>> {
        let customer = customer_of(actor)?;
        Ok(store::gifts_from(&self.ctx.db, customer)
            .await?
            .iter()
            .map(gift_view)
            .collect())
    }

    /// Returns an unused bought voucher within the refund window: it is void at once and
    /// payments refunds what it cost.
    pub async fn refund(&self, actor: &Actor, id: Uuid) -> Result<WalletItem> {
        let (row, offer) = self.own(actor, id).await?;
        let window = self.config.refund_window_days * 86_400_000;
        let now = Timestamp::now();
        let (Some(payment_id), Some(group_id)) = (row.payment_id, row.group_id) else {
            return Err(VouchersError::NotRefundable(
                "only bought vouchers are refunded",
            ));
        };
        if row.source != "PURCHASE" {
            return Err(VouchersError::NotRefundable(
                "a voucher received as a gift is refunded only to its buyer",
            ));
        }
        if row.status != "ACTIVE" || row.balance != row.face_value {
            return Err(VouchersError::NotRefundable(
                "only unused vouchers are refunded",
            ));
        }
        if now.millis() > row.created_at + window || row.expires_at <= now.millis() {
            return Err(VouchersError::NotRefundable("the refund window has passed"));
        }
        let mut tx = self.ctx.db.begin().await?;
        if !store::close_instance(&mut tx, id, row.version, &["ACTIVE"], "REFUNDED", now).await? {
            return Err(self.why_not_live(id).await);
        }
        let purchase = Purchase {
            payment_id,
            group_id,
            order_id: row.order_id,
            currency: currency(&row.currency)?,
        };
        request_refund(&mut tx, row.id, &purchase, row.paid_amount).await?;
        self.ctx.commit(tx).await?;
        let mut after = row;
        after.status = "REFUNDED".into();
        after.version += 1;
        wallet_item(&after, &offer, false)
    }

    /// Expires live vouchers past their date (`voucher.expired` carries the unearned value).
    pub async fn expire_due(&self) -> Result<usize> {
        let now = Timestamp::now();
        let mut expired = 0;
        for row in store::expired_candidates(&self.ctx.db, now, 500).await? {
            let mut tx = self.ctx.db.begin().await?;
            if store::expire(&mut tx, row.id, now).await? {
                platform::bus::publish(
                    &mut tx,
                    SOURCE,
                    &VoucherExpired {
                        instance_id: row.id,
                        code: row.code.clone(),
                        merchant_id: row.merchant_id,
                        owner_id: row.owner_id,
                        balance: row.balance,
                        currency: currency(&row.currency)?,
                        unearned: row.paid_amount - row.earned,
                    },
                )
                .await?;
                expired += 1;
            }
            self.ctx.commit(tx).await?;
        }
        Ok(expired)
    }

    /// `voucher.expiring`, once per voucher, `vouchers.reminder_days` before it expires.
    pub async fn remind_due(&self) -> Result<usize> {
        let horizon = Timestamp::now().plus_seconds(self.config.reminder_days * 86_400);
        let mut reminded = 0;
        for row in store::reminder_candidates(&self.ctx.db, horizon, 500).await? {
            let Some(offer) = store::offer(&self.ctx.db, row.offer_id).await? else {
                continue;
            };
            let mut tx = self.ctx.db.begin().await?;
            if store::mark_reminded(&mut tx, row.id).await? {
                platform::bus::publish(
                    &mut tx,
                    SOURCE,
                    &VoucherExpiring {
                        instance_id: row.id,
                        owner_id: row.owner_id,
                        title: text_of(&offer.title)?.en,
                        balance: row.balance,
                        currency: currency(&row.currency)?,
                        expires_at: Timestamp::from_millis(row.expires_at),
                    },
                )
                .await?;
                reminded += 1;
            }
            self.ctx.commit(tx).await?;
        }
        Ok(reminded)
    }

    /// Why a conditional change of a voucher found nothing to change.
    pub(super) async fn why_not_live(&self, id: Uuid) -> VouchersError {
        match store::instance(&self.ctx.db, id).await {
            Ok(Some(row)) => match status(&row.status) {
                Ok(s) if !s.is_live() => VouchersError::NotRedeemable(s),
                Ok(_) => VouchersError::Contended,
                Err(e) => e,
            },
            Ok(None) => VouchersError::VoucherNotFound,
            Err(e) => e.into(),
        }
    }
}

/// Asks payments for `amount` of `order`'s payment: the value of its vouchers that were never
/// delivered.
async fn request_order_refund(tx: &mut Tx, order: &OrderFact, amount: i64) -> Result<()> {
    match order.payment_id {
        Some(payment_id) => {
            let purchase = Purchase {
                payment_id,
                group_id: order.group_id,
                order_id: Some(order.order_id),
                currency: order.currency,
            };
            request_refund(tx, kernel::new_id(), &purchase, amount).await
        }
        None => Ok(()),
    }
}

fn customer_of(actor: &Actor) -> Result<Uuid> {
    if actor.kind != ActorKind::User {
        return Err(VouchersError::Forbidden(
            "wallets belong to signed-in people",
        ));
    }
    Ok(actor.user_id)
}

pub(super) async fn publish_issued(tx: &mut Tx, row: &InstanceRow, offer: &OfferRow) -> Result<()> {
    platform::bus::publish(
        tx,
        SOURCE,
        &VoucherIssued {
            instance_id: row.id,
            offer_id: row.offer_id,
            merchant_id: row.merchant_id,
            owner_id: row.owner_id,
            source: row.source.clone(),
            title: Some(text_of(&offer.title)?),
            face_value: row.face_value,
            currency: currency(&row.currency)?,
            expires_at: Timestamp::from_millis(row.expires_at),
        },
    )
    .await?;
    Ok(())
}

fn hash_token(token: &str) -> String {
    platform::secrets::token_hash(token)
}

fn gift_view(g: &GiftRow) -> Gift {
    Gift {
        id: g.id,
        instance_id: g.instance_id,
        to_email: g.to_email.clone(),
        to_phone: g.to_phone.clone(),
        message: g.message.clone(),
        status: g.status.clone(),
        new_instance_id: g.new_instance_id,
        created_at: Timestamp::from_millis(g.created_at),
    }
}

#[cfg(test)]
mod tests {
    use super::unit_commission;

    #[test]
    fn commission_splits_over_units_without_loss() {
        let parts: Vec<i64> = (0..3).map(|u| unit_commission(100, 3, u)).collect();
        assert_eq!(parts, vec![34, 33, 33]);
        assert_eq!(parts.iter().sum::<i64>(), 100);
    }
}
