//! What customers read of their rewards (account, entries, tiers, achievements), and what
//! admins read and adjust.

use kernel::{Actor, ActorKind, Permission, Timestamp};
use uuid::Uuid;

use super::ledger::Movement;
use super::*;
use crate::domain;
use crate::store::{self, EntryRow};

const REASON_MAX: usize = 500;
const ADJUSTMENT_MAX: u64 = 10_000_000;

impl Loyalty {
    pub async fn my_account(&self, actor: &Actor) -> Result<RewardsAccount> {
        self.account_of(customer(actor)?).await
    }

    pub async fn account_of(&self, customer_id: Uuid) -> Result<RewardsAccount> {
        let db = &self.ctx.db;
        let stored = store::account(db, customer_id).await?;
        let (balance, tier) = match &stored {
            Some(a) => (a.balance, self.tier(&a.tier)?.clone()),
            None => (0, self.lowest_tier()?.clone()),
        };
        let now = Timestamp::now().millis();
        let qualifying = store::qualifying_db(db, customer_id, now - QUALIFYING_WINDOW_MS).await?;
        let next = domain::next_tier(&self.config.tiers, &tier).cloned();
        Ok(RewardsAccount {
            customer_id,
            balance,
            points_to_next_tier: next.as_ref().map(|n| (n.min_points - qualifying).max(0)),
            next_tier: next,
            tier,
            qualifying_points: qualifying,
            pending_points: store::pending_points(db, customer_id).await?,
            next_expiry: store::next_expiry(db, customer_id)
                .await?
                .map(|(points, at)| PointsExpiry {
                    points,
                    expires_at: Timestamp::from_millis(at),
                }),
        })
    }

    pub async fn my_entries(&self, actor: &Actor, query: &EntryQuery) -> Result<Vec<RewardsEntry>> {
        self.entries_of(customer(actor)?, query).await
    }

    async fn entries_of(&self, customer_id: Uuid, query: &EntryQuery) -> Result<Vec<RewardsEntry>> {
        let limit = query.limit.unwrap_or(50);
        if !(1..=100).contains(&limit) {
            return Err(invalid("limit", "must be 1 to 100"));
        }
        let before = match query.before {
            Some(id) => Some(
                store::entry_created_at(&self.ctx.db, customer_id, id)
                    .await?
                    .ok_or_else(|| invalid("before", "is not one of your entries"))?,
            ),
            None => None,
        };
        store::entries(&self.ctx.db, customer_id, before, limit)
            .await?
            .into_iter()
            .map(entry)
            .collect()
    }

    pub async fn tier_of(&self, customer_id: Uuid) -> Result<CustomerTier> {
        let tier = match store::account(&self.ctx.db, customer_id).await? {
            Some(account) => self.tier(&account.tier)?.code.clone(),
            None => self.lowest_tier()?.code.clone(),
        };
        Ok(CustomerTier { customer_id, tier })
    }

    pub fn tiers(&self) -> Vec<Tier> {
        let mut tiers = self.config.tiers.clone();
        tiers.sort_by_key(|t| t.min_points);
        tiers
    }

    pub async fn my_achievements(&self, actor: &Actor) -> Result<Vec<Achievement>> {
        let customer_id = customer(actor)?;
        let counters = store::counters(&self.ctx.db, customer_id).await?;
        let awards = store::awards(&self.ctx.db, customer_id).await?;
        Ok(self
            .config
            .achievements
            .iter()
            .map(|rule| Achievement {
                code: rule.code.clone(),
                name: rule.name.clone(),
                kind: rule.kind,
                target: rule.target,
                points: rule.points,
                progress: counters
                    .iter()
                    .find(|(k, _)| k == rule.kind.as_str())
                    .map_or(0, |(_, c)| (*c).min(rule.target)),
                awarded_at: awards
                    .iter()
                    .find(|(c, _)| *c == rule.code)
                    .map(|(_, at)| Timestamp::from_millis(*at)),
            })
            .collect())
    }

    pub async fn admin_account(&self, actor: &Actor, user_id: Uuid) -> Result<AdminRewardsAccount> {
        require_admin(actor)?;
        Ok(AdminRewardsAccount {
            account: self.account_of(user_id).await?,
            entries: self.entries_of(user_id, &EntryQuery::default()).await?,
        })
    }

    /// An admin's credit or debit, with the reason and the admin on the entry; a debit never
    /// takes the balance below zero.
    pub async fn adjust(
        &self,
        actor: &Actor,
        user_id: Uuid,
        input: AdjustmentInput,
    ) -> Result<RewardsEntry> {
        require_admin(actor)?;
        let reason = input.reason.trim();
        let mut errors = Vec::new();
        if input.points == 0 || input.points.unsigned_abs() > ADJUSTMENT_MAX {
            errors.push(field(
                "points",
                "must be non-zero and at most 10000000 either way",
            ));
        }
        if reason.chars().count() < 3 || reason.chars().count() > REASON_MAX {
            errors.push(field("reason", "must be 3 to 500 characters"));
        }
        if !errors.is_empty() {
            return Err(LoyaltyError::Invalid(errors));
        }
        let mut tx = self.ctx.db.begin().await?;
        let recorded = self
            .record(
                &mut tx,
                Movement {
                    customer_id: user_id,
                    kind: EntryKind::Adjustment,
                    points: input.points,
                    qualifying: 0,
                    reference: None,
                    reason: Some(reason),
                    actor_id: Some(actor.user_id),
                    expires_at: None,
                },
                true,
            )
            .await?;
        let Some(recorded) = recorded else {
            tx.rollback().await?;
            return Err(LoyaltyError::InsufficientPoints);
        };
        tx.commit().await?;
        tracing::info!(admin = %actor.user_id, customer = %user_id, points = input.points, reason, "rewards adjusted");
        store::entry(&self.ctx.db, recorded.entry_id)
            .await?
            .map(entry)
            .ok_or_else(|| LoyaltyError::Corrupt("adjustment not found".into()))?
    }
}

fn customer(actor: &Actor) -> Result<Uuid> {
    if actor.kind != ActorKind::User {
        return Err(LoyaltyError::Forbidden(
            "Rewards belong to signed-in people",
        ));
    }
    Ok(actor.user_id)
}

fn require_admin(actor: &Actor) -> Result<()> {
    if actor.can(Permission::AdminRewards) {
        Ok(())
    } else {
        Err(LoyaltyError::Forbidden(
            "Rewards accounts are managed by admins",
        ))
    }
}

fn field(name: &str, message: &str) -> FieldError {
    FieldError {
        field: name.into(),
        message: message.into(),
    }
}

fn entry(row: EntryRow) -> Result<RewardsEntry> {
    Ok(RewardsEntry {
        id: row.id,
        kind: EntryKind::parse(&row.kind)
            .ok_or_else(|| LoyaltyError::Corrupt(format!("entry kind {}", row.kind)))?,
        points: row.points,
        reference: row.reference,
        reason: row.reason,
        expires_at: row.expires_at.map(Timestamp::from_millis),
        created_at: Timestamp::from_millis(row.created_at),
    })
}
