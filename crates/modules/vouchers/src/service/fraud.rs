//! Fraud review: the case queue, approving or rejecting a held redemption, and the rule set
//! that scores redemptions.

use kernel::{Actor, Page, Permission};
use platform::db::Tx;
use uuid::Uuid;

use super::redemptions::publish_redeemed;
use super::*;
use crate::domain::{self, RedemptionStatus, RuleSet};
use crate::store::{self, RedemptionRow};

impl Vouchers {
    pub async fn cases(&self, actor: &Actor, q: &CaseQuery) -> Result<Page<FraudCase>> {
        require_admin(actor)?;
        let (after, limit) = page_of(q.limit, &q.cursor)?;
        let rows = store::cases(
            &self.ctx.db,
            q.status.map(CaseStatus::as_str),
            after,
            i64::from(limit) + 1,
        )
        .await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            items.push(self.case_view(row).await?);
        }
        Ok(Page::from_overfetch(items, limit, |c| c.id.to_string()))
    }

    pub async fn case(&self, actor: &Actor, id: Uuid) -> Result<FraudCase> {
        require_admin(actor)?;
        let row = store::case(&self.ctx.db, id)
            .await?
            .ok_or(VouchersError::CaseNotFound)?;
        self.case_view(row).await
    }

    pub(super) async fn case_view(&self, row: store::CaseRow) -> Result<FraudCase> {
        let redemption = store::redemption(&self.ctx.db, row.redemption_id)
            .await?
            .ok_or_else(|| corrupt("redemption of case", &row.id.to_string()))?;
        let log = store::case_log(&self.ctx.db, row.id)
            .await?
            .into_iter()
            .map(|(actor_id, action, note, at)| CaseEntry {
                actor_id,
                action,
                note,
                at: Timestamp::from_millis(at),
            })
            .collect();
        Ok(FraudCase {
            id: row.id,
            status: CaseStatus::parse(&row.status)
                .ok_or_else(|| corrupt("case status", &row.status))?,
            score: row.score,
            redemption: self.redemption_of(&redemption).await?,
            log,
            created_at: Timestamp::from_millis(row.created_at),
            decided_at: row.decided_at.map(Timestamp::from_millis),
        })
    }

    /// Approves a case: a held redemption completes; a blocked one is carried out now (if the
    /// voucher still has the value).
    pub async fn approve_case(&self, actor: &Actor, id: Uuid, note: &str) -> Result<FraudCase> {
        require_admin(actor)?;
        let note = decision_note(note)?;
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let case = store::case_in(&mut tx, id)
            .await?
            .ok_or(VouchersError::CaseNotFound)?;
        let mut redemption = store::redemption_in(&mut tx, case.redemption_id)
            .await?
            .ok_or_else(|| corrupt("redemption of case", &id.to_string()))?;
        if !store::decide_case(&mut tx, id, CaseStatus::Approved.as_str(), now).await? {
            return Err(VouchersError::CaseClosed);
        }
        let instance = store::instance_in(&mut tx, redemption.instance_id)
            .await?
            .ok_or_else(|| corrupt("instance of redemption", &redemption.id.to_string()))?;
        let balance_after = if redemption.status == RedemptionStatus::Blocked.as_str() {
            let earning = domain::earning_of(
                redemption.amount,
                instance.balance,
                instance.face_value,
                instance.paid_amount,
                instance.commission,
                instance.earned,
                instance.commission_earned,
            );
            if !store::take_balance(
                &mut tx,
                instance.id,
                instance.version,
                instance.balance,
                redemption.amount,
                earning.earned,
                earning.commission,
                now,
            )
            .await?
            {
                tx.rollback().await?;
                return Err(self.why_not_taken(instance.id, redemption.amount).await);
            }
            let funded = domain::funded_share(
                instance.platform_funded,
                instance.face_value,
                instance.balance,
                redemption.amount,
            );
            store::set_redemption_earning(
                &mut tx,
                redemption.id,
                earning.earned,
                earning.commission,
                funded,
            )
            .await?;
            redemption.earned = earning.earned;
            redemption.commission = earning.commission;
            redemption.promotion_funded = funded;
            instance.balance - redemption.amount
        } else {
            instance.balance
        };
        if !store::decide_redemption(&mut tx, redemption.id, &redemption.status, "APPROVED", now)
            .await?
        {
            return Err(VouchersError::CaseClosed);
        }
        let offer = store::offer_in(&mut tx, instance.offer_id)
            .await?
            .ok_or_else(|| corrupt("offer of instance", &instance.id.to_string()))?;
        publish_redeemed(&mut tx, &redemption, &instance, &offer, balance_after).await?;
        store::log_case(
            &mut tx,
            id,
            Some(actor.user_id),
            "APPROVED",
            Some(note),
            now,
        )
        .await?;
        publish_closed(&mut tx, id, &redemption, "APPROVED", actor).await?;
        self.ctx.commit(tx).await?;
        self.case(actor, id).await
    }

    /// A rejected held redemption whose voucher closed meanwhile: if the voucher was voided
    /// with its order (which refunded only what was not held), the held part goes back to the
    /// buyer now.
    pub(super) async fn held_value_not_restored(
        &self,
        tx: &mut Tx,
        redemption: &RedemptionRow,
    ) -> Result<()> {
        let instance = store::instance_in(tx, redemption.instance_id)
            .await?
            .ok_or_else(|| corrupt("instance of redemption", &redemption.id.to_string()))?;
        match Purchase::of(&instance)? {
            Some(purchase) if instance.status == InstanceStatus::Refunded.as_str() => {
                request_refund(tx, redemption.id, &purchase, redemption.earned).await
            }
            _ => {
                tracing::warn!(redemption = %redemption.id, status = %instance.status,
                    "held value could not go back on the voucher");
                Ok(())
            }
        }
    }

    /// Rejects a case: a held amount goes back on the voucher.
    pub async fn reject_case(&self, actor: &Actor, id: Uuid, note: &str) -> Result<FraudCase> {
        require_admin(actor)?;
        let note = decision_note(note)?;
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let case = store::case_in(&mut tx, id)
            .await?
            .ok_or(VouchersError::CaseNotFound)?;
        let redemption = store::redemption_in(&mut tx, case.redemption_id)
            .await?
            .ok_or_else(|| corrupt("redemption of case", &id.to_string()))?;
        if !store::decide_case(&mut tx, id, CaseStatus::Rejected.as_str(), now).await? {
            return Err(VouchersError::CaseClosed);
        }
        if redemption.status == RedemptionStatus::PendingReview.as_str()
            && !store::restore_balance(
                &mut tx,
                redemption.instance_id,
                redemption.amount,
                redemption.earned,
                redemption.commission,
                now,
            )
            .await?
        {
            self.held_value_not_restored(&mut tx, &redemption).await?;
        }
        if !store::decide_redemption(&mut tx, redemption.id, &redemption.status, "REJECTED", now)
            .await?
        {
            return Err(VouchersError::CaseClosed);
        }
        store::log_case(
            &mut tx,
            id,
            Some(actor.user_id),
            "REJECTED",
            Some(note),
            now,
        )
        .await?;
        publish_closed(&mut tx, id, &redemption, "REJECTED", actor).await?;
        self.ctx.commit(tx).await?;
        self.case(actor, id).await
    }

    /// The rule set in force: the latest stored version, or the built-in default (version 0).
    pub async fn current_rules(&self) -> Result<(i64, RuleSet)> {
        match store::latest_rules(&self.ctx.db).await? {
            Some((version, json, _)) => Ok((
                version,
                serde_json::from_str(&json).map_err(|e| VouchersError::Corrupt(e.to_string()))?,
            )),
            None => Ok((0, RuleSet::default())),
        }
    }

    pub async fn rules(&self, actor: &Actor) -> Result<RuleSetVersion> {
        require_admin(actor)?;
        let latest = store::latest_rules(&self.ctx.db).await?;
        let (version, rules) = self.current_rules().await?;
        Ok(RuleSetVersion {
            version,
            rules,
            created_at: latest.map(|(_, _, at)| Timestamp::from_millis(at)),
        })
    }

    /// Stores a new version of the rules; redemptions from now on are scored with it.
    pub async fn set_rules(&self, actor: &Actor, rules: RuleSet) -> Result<RuleSetVersion> {
        require_admin(actor)?;
        let errors = rules.check();
        if !errors.is_empty() {
            return Err(VouchersError::Invalid(errors));
        }
        let (version, _) = self.current_rules().await?;
        let now = Timestamp::now();
        if !store::insert_rules(
            &self.ctx.db,
            version + 1,
            &to_json(&rules)?,
            actor.user_id,
            now,
        )
        .await?
        {
            return Err(VouchersError::Contended);
        }
        Ok(RuleSetVersion {
            version: version + 1,
            rules,
            created_at: Some(now),
        })
    }
}

async fn publish_closed(
    tx: &mut Tx,
    case_id: Uuid,
    redemption: &RedemptionRow,
    decision: &str,
    actor: &Actor,
) -> Result<()> {
    platform::bus::publish(
        tx,
        SOURCE,
        &FraudCaseClosed {
            case_id,
            redemption_id: redemption.id,
            merchant_id: redemption.merchant_id,
            decision: decision.to_owned(),
            decided_by: actor.user_id,
        },
    )
    .await?;
    Ok(())
}

pub(super) fn require_admin(actor: &Actor) -> Result<()> {
    if actor.can(Permission::AdminVouchers) {
        Ok(())
    } else {
        Err(VouchersError::Forbidden("fraud review is for admins"))
    }
}

pub(super) fn decision_note(note: &str) -> Result<&str> {
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 2_000 {
        return Err(invalid("note", "is required (at most 2000 characters)"));
    }
    Ok(note)
}
