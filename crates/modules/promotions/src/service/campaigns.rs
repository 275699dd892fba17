//! Campaigns: created as drafts, scheduled by their manager, started and ended by the clock
//! (the `promotions.campaign_clock` job), paused and resumed, ended early.

use kernel::Actor;
use uuid::Uuid;

use super::*;
use crate::domain;
use crate::store::{self, CampaignRow};

impl Promotions {
    pub async fn create_campaign(&self, actor: &Actor, input: CampaignInput) -> Result<Campaign> {
        if !may_manage(actor, input.merchant_id) {
            return Err(PromotionsError::Forbidden(match input.merchant_id {
                Some(_) => "Only the merchant's owner or managers run its campaigns",
                None => "Platform campaigns are run by admins",
            }));
        }
        let errors = domain::check_campaign(&input);
        if !errors.is_empty() {
            return Err(PromotionsError::Invalid(errors));
        }
        let now = now().millis();
        let mut row = CampaignRow {
            id: kernel::new_id(),
            merchant_id: input.merchant_id,
            title: String::new(),
            description: None,
            status: CampaignStatus::Draft.as_str().into(),
            starts_at: 0,
            ends_at: None,
            budget_kind: None,
            budget_limit: None,
            budget_currency: None,
            spent: 0,
            uses: 0,
            created_by: actor.user_id,
            created_at: now,
            updated_at: now,
        };
        apply_input(&mut row, &input)?;
        let mut tx = self.ctx.db.begin().await?;
        store::insert_campaign(&mut tx, &row).await?;
        tx.commit().await?;
        campaign_view(&row)
    }

    /// The campaign, if the actor manages it.
    pub(super) async fn managed_campaign(&self, actor: &Actor, id: Uuid) -> Result<CampaignRow> {
        let row = store::campaign(&self.ctx.db, id)
            .await?
            .ok_or(PromotionsError::CampaignNotFound)?;
        if !may_manage(actor, row.merchant_id) {
            // Not telling strangers what exists.
            return Err(PromotionsError::CampaignNotFound);
        }
        Ok(row)
    }

    pub async fn campaign(&self, actor: &Actor, id: Uuid) -> Result<Campaign> {
        self.with_figures(&self.managed_campaign(actor, id).await?)
            .await
    }

    pub async fn campaigns(&self, actor: &Actor, query: &CampaignQuery) -> Result<Vec<Campaign>> {
        let (merchant, platform_only) = listing_scope(actor, query.merchant_id)?;
        let rows = store::campaigns(
            &self.ctx.db,
            merchant,
            platform_only,
            query.status.map(CampaignStatus::as_str),
        )
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(self.with_figures(row).await?);
        }
        Ok(out)
    }

    /// The campaign as its managers see it: a budgeted campaign's counters are its budget's;
    /// one without a budget counts no hot row per checkout, so its figures come from the
    /// usages.
    async fn with_figures(&self, row: &CampaignRow) -> Result<Campaign> {
        let mut campaign = campaign_view(row)?;
        if campaign.budget.is_none() {
            (campaign.spent, campaign.uses) =
                store::live_figures_of_campaign(&self.ctx.db, row.id).await?;
        }
        Ok(campaign)
    }

    /// Edits a campaign that has not ended. Its merchant cannot change, and a budget cannot
    /// go below what was already given.
    pub async fn update_campaign(
        &self,
        actor: &Actor,
        id: Uuid,
        input: CampaignInput,
    ) -> Result<Campaign> {
        let mut row = self.managed_campaign(actor, id).await?;
        if input.merchant_id != row.merchant_id {
            return Err(invalid("merchantId", "a campaign's merchant cannot change"));
        }
        let errors = domain::check_campaign(&input);
        if !errors.is_empty() {
            return Err(PromotionsError::Invalid(errors));
        }
        apply_input(&mut row, &input)?;
        row.updated_at = now().millis();
        let mut tx = self.ctx.db.begin().await?;
        if let Some(currency) = input.budget.as_ref().and_then(|b| b.currency) {
            let others: Vec<String> = store::currencies_of_campaign(&mut tx, id)
                .await?
                .into_iter()
                .filter(|c| c != currency.code())
                .collect();
            if !others.is_empty() {
                return Err(invalid(
                    "budget.currency",
                    "must be the currency of the campaign's promotions",
                ));
            }
        }
        if !store::update_campaign(&mut tx, &row).await? {
            let current = store::campaign_in(&mut tx, id)
                .await?
                .ok_or(PromotionsError::CampaignNotFound)?;
            if current.status == CampaignStatus::Ended.as_str() {
                return Err(PromotionsError::CampaignEnded);
            }
            return Err(invalid(
                "budget.limit",
                &format!(
                    "must not be below what was already used ({} spent, {} uses)",
                    current.spent, current.uses
                ),
            ));
        }
        let fresh = store::campaign_in(&mut tx, id)
            .await?
            .ok_or(PromotionsError::CampaignNotFound)?;
        tx.commit().await?;
        self.with_figures(&fresh).await
    }

    pub async fn move_campaign(
        &self,
        actor: &Actor,
        id: Uuid,
        to: CampaignStatus,
    ) -> Result<Campaign> {
        let row = self.managed_campaign(actor, id).await?;
        let from = parsed(&row.status, CampaignStatus::parse)?;
        if !from.may_move_to(to) {
            return Err(PromotionsError::InvalidTransition {
                from,
                to,
                allowed: domain::allowed_next(from),
            });
        }
        let now = now().millis();
        // A campaign scheduled once its start passed runs at once, not at the clock's next tick.
        let to = if to == CampaignStatus::Scheduled
            && row.starts_at <= now
            && row.ends_at.is_none_or(|end| end > now)
        {
            CampaignStatus::Active
        } else {
            to
        };
        let mut tx = self.ctx.db.begin().await?;
        if !store::move_campaign(&mut tx, id, from.as_str(), to.as_str(), now).await? {
            // Moved meanwhile (the clock or another manager): answer with where it is now.
            let current = store::campaign_in(&mut tx, id)
                .await?
                .ok_or(PromotionsError::CampaignNotFound)?;
            let now_at = parsed(&current.status, CampaignStatus::parse)?;
            return Err(PromotionsError::InvalidTransition {
                from: now_at,
                to,
                allowed: domain::allowed_next(now_at),
            });
        }
        let fresh = store::campaign_in(&mut tx, id)
            .await?
            .ok_or(PromotionsError::CampaignNotFound)?;
        tx.commit().await?;
        self.with_figures(&fresh).await
    }

    /// Starts scheduled campaigns whose time came and ends those whose end passed; returns
    /// how many moved.
    pub async fn campaign_clock(&self) -> Result<usize> {
        let now = now().millis();
        let mut moved = 0;
        for (id, status, ends_at) in store::campaigns_due(&self.ctx.db, now).await? {
            let to = if ends_at.is_some_and(|end| end <= now) {
                CampaignStatus::Ended
            } else {
                CampaignStatus::Active
            };
            let mut tx = self.ctx.db.begin().await?;
            if store::move_campaign(&mut tx, id, &status, to.as_str(), now).await? {
                moved += 1;
            }
            tx.commit().await?;
        }
        Ok(moved)
    }
}

fn apply_input(row: &mut CampaignRow, input: &CampaignInput) -> Result<()> {
    row.title = text_json(&input.title)?;
    row.description = input.description.as_ref().map(text_json).transpose()?;
    row.starts_at = input.starts_at.millis();
    row.ends_at = input.ends_at.map(|t| t.millis());
    row.budget_kind = input.budget.as_ref().map(|b| b.kind.as_str().to_owned());
    row.budget_limit = input.budget.as_ref().map(|b| b.limit);
    row.budget_currency = input
        .budget
        .as_ref()
        .and_then(|b| b.currency)
        .map(|c| c.code().to_owned());
    Ok(())
}

pub(super) fn campaign_view(row: &CampaignRow) -> Result<Campaign> {
    let status = parsed(&row.status, CampaignStatus::parse)?;
    let budget = match (&row.budget_kind, row.budget_limit) {
        (Some(kind), Some(limit)) => Some(Budget {
            kind: parsed(kind, BudgetKind::parse)?,
            limit,
            currency: row.budget_currency.as_deref().map(currency).transpose()?,
        }),
        _ => None,
    };
    Ok(Campaign {
        id: row.id,
        merchant_id: row.merchant_id,
        title: from_json(&row.title)?,
        description: row.description.as_deref().map(from_json).transpose()?,
        status,
        starts_at: Timestamp::from_millis(row.starts_at),
        ends_at: row.ends_at.map(Timestamp::from_millis),
        budget,
        spent: row.spent,
        uses: row.uses,
        allowed_next_statuses: domain::allowed_next(status),
        created_at: Timestamp::from_millis(row.created_at),
        updated_at: Timestamp::from_millis(row.updated_at),
    })
}
