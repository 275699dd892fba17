//! Redemption at the counter: verify the scan or code + PIN, score it against the fraud
//! rules, then take the value in one conditional statement. Held and blocked redemptions go
//! to the admins' case queue.

use axum::http::StatusCode;
use kernel::{Actor, MerchantPermission, Page, Permission, Timestamp};
use platform::idempotency::{self, Attempt};
use uuid::Uuid;

use super::*;
use crate::domain::{self, Band, RedemptionStatus, RuleSet, Signals};
use crate::store::{self, RedemptionRow};

/// How the voucher was presented.
enum Presented {
    /// A rotating on-screen QR: possession of the live screen is the proof.
    Screen,
    /// A printed QR (no time step): needs the PIN as well.
    Printed,
    /// Code typed with its PIN.
    Code,
}

impl Presented {
    fn method(&self) -> &'static str {
        match self {
            Presented::Screen => "QR",
            Presented::Printed => "PRINTED_QR",
            Presented::Code => "CODE",
        }
    }
}

impl Vouchers {
    /// Redeems a voucher; answers the redemption (APPROVED, PENDING_REVIEW or BLOCKED).
    pub async fn redeem(
        &self,
        actor: &Actor,
        input: RedeemInput,
        attempt: Option<&Attempt>,
    ) -> Result<Redemption> {
        let device = input.device_id.trim();
        if device.is_empty() || device.len() > 200 {
            return Err(invalid("deviceId", "is required (at most 200 characters)"));
        }
        if let Some(l) = input.location {
            if !(-90.0..=90.0).contains(&l.latitude) || !(-180.0..=180.0).contains(&l.longitude) {
                return Err(invalid("location", "latitude -90..90, longitude -180..180"));
            }
        }
        let (merchant_id, outlet_lat, outlet_lon) = store::outlet(&self.ctx.db, input.outlet_id)
            .await?
            .ok_or(VouchersError::UnknownOutlet)?;
        if !actor.is_staff_with(merchant_id, MerchantPermission::Redeem) {
            return Err(VouchersError::Forbidden(
                "only the outlet's merchant staff redeem there",
            ));
        }
        let now = Timestamp::now();
        let (row, presented) = self.identify(merchant_id, device, &input, now).await?;
        if matches!(presented, Presented::Printed | Presented::Code) {
            self.check_pin(&row, merchant_id, device, input.pin.as_deref(), now)
                .await?;
        }
        let current = status(&row.status)?;
        if !current.is_live() {
            return Err(VouchersError::NotRedeemable(current));
        }
        if row.expires_at <= now.millis() {
            return Err(VouchersError::Expired);
        }
        let offer = store::offer(&self.ctx.db, row.offer_id)
            .await?
            .ok_or_else(|| corrupt("offer of instance", &row.id.to_string()))?;
        let outlets: Vec<Uuid> = serde_json::from_str(&offer.outlets)
            .map_err(|e| VouchersError::Corrupt(e.to_string()))?;
        if !outlets.is_empty() && !outlets.contains(&input.outlet_id) {
            return Err(VouchersError::OutletNotEligible);
        }
        let amount = match (kind(&row.kind)?, input.amount) {
            (VoucherKind::GiftCard, Some(a)) if a <= 0 => {
                return Err(invalid("amount", "must be positive"))
            }
            (VoucherKind::GiftCard, Some(a)) if a > row.balance => {
                return Err(VouchersError::InsufficientBalance(row.balance))
            }
            (VoucherKind::GiftCard, Some(a)) => a,
            (_, Some(a)) if a != row.balance => {
                return Err(invalid("amount", "only gift cards are redeemed in parts"))
            }
            _ => row.balance,
        };

        let (rule_version, rules) = self.current_rules().await?;
        let signals = self
            .signals(
                &rules,
                &row,
                merchant_id,
                device,
                &input,
                (outlet_lat, outlet_lon),
                amount,
                now,
            )
            .await?;
        let (score, hits, band) = domain::score(&rules, &signals);
        let earning = domain::earning_of(
            amount,
            row.balance,
            row.face_value,
            row.paid_amount,
            row.commission,
            row.earned,
            row.commission_earned,
        );
        let redemption = RedemptionRow {
            id: kernel::new_id(),
            instance_id: row.id,
            merchant_id,
            outlet_id: input.outlet_id,
            owner_id: row.owner_id,
            cashier_id: actor.user_id,
            device_id: device.to_owned(),
            latitude: input.location.map(|l| l.latitude),
            longitude: input.location.map(|l| l.longitude),
            method: presented.method().into(),
            amount,
            earned: earning.earned,
            commission: earning.commission,
            promotion_funded: domain::funded_share(
                row.platform_funded,
                row.face_value,
                row.balance,
                amount,
            ),
            status: match band {
                Band::Approve => RedemptionStatus::Approved,
                Band::Review => RedemptionStatus::PendingReview,
                Band::Block => RedemptionStatus::Blocked,
            }
            .as_str()
            .into(),
            score,
            hits: to_json(&hits)?,
            rule_version,
            created_at: now.millis(),
            decided_at: (band == Band::Approve).then_some(now.millis()),
        };

        let mut tx = self.ctx.db.begin().await?;
        // Approved and held redemptions take the value now, conditionally on the state the
        // checks saw; a blocked one takes nothing until an admin approves it.
        if band != Band::Block
            && !store::take_balance(
                &mut tx,
                row.id,
                row.version,
                row.balance,
                amount,
                earning.earned,
                earning.commission,
                now,
            )
            .await?
        {
            tx.rollback().await?;
            return Err(self.why_not_taken(row.id, amount).await);
        }
        store::insert_redemption(&mut tx, &redemption).await?;
        if row.failed_pins > 0 {
            store::reset_wrong_pins(&mut tx, row.id).await?;
        }
        let mut case_id = None;
        match band {
            Band::Approve => {
                publish_redeemed(&mut tx, &redemption, &row, &offer, row.balance - amount).await?;
            }
            Band::Review | Band::Block => {
                let id = kernel::new_id();
                store::insert_case(&mut tx, id, &redemption, now).await?;
                let note = format!("score {score} under rules v{rule_version}");
                store::log_case(&mut tx, id, None, "OPENED", Some(&note), now).await?;
                platform::bus::publish(
                    &mut tx,
                    SOURCE,
                    &FraudCaseOpened {
                        case_id: id,
                        redemption_id: redemption.id,
                        merchant_id,
                        outlet_id: redemption.outlet_id,
                        redemption_status: redemption.status.clone(),
                        amount,
                        currency: currency(&row.currency)?,
                        score: score.into(),
                    },
                )
                .await?;
                case_id = Some(id);
            }
        }
        let balance_after = if band == Band::Block {
            row.balance
        } else {
            row.balance - amount
        };
        let view = redemption_view(&redemption, &offer, balance_after, case_id)?;
        if let Some(attempt) = attempt {
            if !idempotency::complete(&mut tx, attempt, StatusCode::CREATED, &view).await? {
                return Err(VouchersError::Contended);
            }
        }
        self.ctx.commit(tx).await?;
        Ok(view)
    }

    /// Finds the voucher from a scanned token or a typed code. A voucher of another merchant
    /// is reported exactly like an unknown one.
    async fn identify(
        &self,
        merchant_id: Uuid,
        device: &str,
        input: &RedeemInput,
        now: Timestamp,
    ) -> Result<(InstanceRow, Presented)> {
        let db = &self.ctx.db;
        match (&input.token, &input.code) {
            (Some(token), None) => {
                let claims = match crate::qr::verify(&self.ctx.code_keyring, token.trim()) {
                    Ok(claims) => claims,
                    Err(_) => {
                        store::record_attempt(db, merchant_id, device, None, "invalid_token", now)
                            .await?;
                        return Err(VouchersError::InvalidToken);
                    }
                };
                let row = store::instance(db, claims.sub)
                    .await?
                    .filter(|r| claims.mer == merchant_id && r.merchant_id == merchant_id)
                    .ok_or(VouchersError::VoucherNotFound)?;
                if claims.ver != row.version {
                    store::record_attempt(
                        db,
                        merchant_id,
                        device,
                        Some(row.id),
                        "superseded_token",
                        now,
                    )
                    .await?;
                    return Err(VouchersError::Superseded);
                }
                match claims.step {
                    Some(step) => {
                        let current = domain::time_step(now.seconds(), self.config.qr_step_secs);
                        if !domain::step_is_fresh(step, current) {
                            store::record_attempt(
                                db,
                                merchant_id,
                                device,
                                Some(row.id),
                                "stale_token",
                                now,
                            )
                            .await?;
                            return Err(VouchersError::StaleToken);
                        }
                        Ok((row, Presented::Screen))
                    }
                    None => Ok((row, Presented::Printed)),
                }
            }
            (None, Some(code)) => {
                let found = match domain::normalize_code(code) {
                    Some(code) => store::instance_by_code(db, &code).await?,
                    None => None,
                };
                match found.filter(|r| r.merchant_id == merchant_id) {
                    Some(row) => Ok((row, Presented::Code)),
                    None => {
                        store::record_attempt(db, merchant_id, device, None, "unknown_code", now)
                            .await?;
                        Err(VouchersError::VoucherNotFound)
                    }
                }
            }
            _ => Err(invalid(
                "token",
                "give either a scanned token or a code with its PIN",
            )),
        }
    }

    async fn check_pin(
        &self,
        row: &InstanceRow,
        merchant_id: Uuid,
        device: &str,
        pin: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        if row.locked {
            return Err(VouchersError::Locked);
        }
        let pin = pin.map(str::trim).ok_or(VouchersError::PinRequired)?;
        let limit = self.config.pin_attempts.max(1);
        let failed = match store::check_pin(&self.ctx.db, row.id, pin, limit, now).await? {
            store::PinCheck::Right => return Ok(()),
            store::PinCheck::Locked => return Err(VouchersError::Locked),
            store::PinCheck::Wrong(failed) => failed,
        };
        store::record_attempt(
            &self.ctx.db,
            merchant_id,
            device,
            Some(row.id),
            "wrong_pin",
            now,
        )
        .await?;
        if failed >= limit {
            return Err(VouchersError::Locked);
        }
        Err(VouchersError::WrongPin {
            remaining: limit - failed,
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn signals(
        &self,
        rules: &RuleSet,
        row: &InstanceRow,
        merchant_id: Uuid,
        device: &str,
        input: &RedeemInput,
        outlet: (f64, f64),
        amount: i64,
        now: Timestamp,
    ) -> Result<Signals> {
        let window = |rule: &domain::VelocityRule| store::Window {
            since: now.plus_seconds(-rule.window_secs).millis(),
            cap: rule.max.saturating_add(1),
        };
        let counts = store::signal_counts(
            &self.ctx.db,
            merchant_id,
            device,
            input.outlet_id,
            row.owner_id,
            row.id,
            window(&rules.device_velocity),
            window(&rules.outlet_velocity),
            window(&rules.customer_velocity),
            window(&rules.failed_attempts),
            rules.unusual_amount.min_history.max(1),
        )
        .await?;
        Ok(Signals {
            device_redemptions: counts.device_recent,
            outlet_redemptions: counts.outlet_recent,
            customer_redemptions: counts.owner_recent,
            distance_km: input
                .location
                .map(|l| domain::distance_km((l.latitude, l.longitude), outlet)),
            device_has_location: input.location.is_some(),
            failed_attempts: counts.failed_recent,
            device_known: counts.device_known > 0,
            amount,
            merchant_average: counts.average.unwrap_or(0.0),
            merchant_history: counts.history,
            minutes_since_received: (now.millis() - row.received_at) / 60_000,
        })
    }

    pub(super) async fn why_not_taken(&self, id: Uuid, amount: i64) -> VouchersError {
        match store::instance(&self.ctx.db, id).await {
            Ok(Some(row)) => match status(&row.status) {
                Ok(s) if !s.is_live() => VouchersError::NotRedeemable(s),
                Ok(_) if row.balance < amount => VouchersError::InsufficientBalance(row.balance),
                Ok(_) if row.expires_at <= Timestamp::now().millis() => VouchersError::Expired,
                Ok(_) => VouchersError::Contended,
                Err(e) => e,
            },
            Ok(None) => VouchersError::VoucherNotFound,
            Err(e) => e.into(),
        }
    }

    /// Redemptions: a merchant's (its staff), or the caller's own vouchers' (customers).
    pub async fn redemptions(
        &self,
        actor: &Actor,
        q: &RedemptionQuery,
    ) -> Result<Page<Redemption>> {
        let (merchant, owner) = match q.merchant_id {
            Some(m)
                if actor.can(Permission::AdminVouchers)
                    || actor.is_staff_with(m, MerchantPermission::ViewInternal) =>
            {
                (Some(m), None)
            }
            Some(_) => {
                return Err(VouchersError::Forbidden(
                    "only the merchant's staff see its redemptions",
                ))
            }
            None => (None, Some(actor.user_id)),
        };
        let (after, limit) = page_of(q.limit, &q.cursor)?;
        let rows = store::redemptions(
            &self.ctx.db,
            merchant,
            owner,
            q.status.map(RedemptionStatus::as_str),
            after,
            i64::from(limit) + 1,
        )
        .await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            items.push(self.redemption_of(row).await?);
        }
        Ok(Page::from_overfetch(items, limit, |r| r.id.to_string()))
    }

    pub(super) async fn redemption_of(&self, row: &RedemptionRow) -> Result<Redemption> {
        let instance = store::instance(&self.ctx.db, row.instance_id)
            .await?
            .ok_or_else(|| corrupt("instance of redemption", &row.id.to_string()))?;
        let offer = store::offer(&self.ctx.db, instance.offer_id)
            .await?
            .ok_or_else(|| corrupt("offer of instance", &instance.id.to_string()))?;
        let case_id = store::case_of_redemption(&self.ctx.db, row.id).await?;
        redemption_view(row, &offer, instance.balance, case_id)
    }

    // --- fraud cases and rules (admins) ---
}

pub(super) async fn publish_redeemed(
    tx: &mut platform::db::Tx,
    redemption: &RedemptionRow,
    instance: &InstanceRow,
    offer: &OfferRow,
    balance_after: i64,
) -> Result<()> {
    platform::bus::publish(
        tx,
        SOURCE,
        &VoucherRedeemed {
            redemption_id: redemption.id,
            instance_id: instance.id,
            offer_id: instance.offer_id,
            code: instance.code.clone(),
            title: Some(text_of(&offer.title)?),
            merchant_id: redemption.merchant_id,
            outlet_id: redemption.outlet_id,
            owner_id: instance.owner_id,
            amount: redemption.amount,
            currency: currency(&instance.currency)?,
            earned: redemption.earned,
            commission: redemption.commission,
            promotion_funded: redemption.promotion_funded,
            balance_after,
        },
    )
    .await?;
    Ok(())
}

fn redemption_view(
    row: &RedemptionRow,
    offer: &OfferRow,
    balance_after: i64,
    case_id: Option<Uuid>,
) -> Result<Redemption> {
    Ok(Redemption {
        id: row.id,
        instance_id: row.instance_id,
        merchant_id: row.merchant_id,
        outlet_id: row.outlet_id,
        title: text_of(&offer.title)?,
        kind: kind(&offer.kind)?,
        status: RedemptionStatus::parse(&row.status)
            .ok_or_else(|| corrupt("redemption status", &row.status))?,
        amount: row.amount,
        currency: currency(&offer.currency)?,
        balance_after,
        score: row.score,
        hits: serde_json::from_str(&row.hits).map_err(|e| VouchersError::Corrupt(e.to_string()))?,
        case_id,
        created_at: Timestamp::from_millis(row.created_at),
        decided_at: row.decided_at.map(Timestamp::from_millis),
    })
}
