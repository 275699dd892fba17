//! Moderation: admins approve or reject (with a reason) any review; reports from other users
//! hold an approved review for an admin once its open reports reach `report_threshold`.

use super::writing::reason;
use super::*;
use crate::domain::HELD_REPORTS;
use crate::store;

impl Reviews {
    pub async fn approve(&self, actor: &Actor, id: Uuid) -> Result<Review> {
        actor.require(Permission::AdminCatalog)?;
        self.decide(actor, id, ReviewStatus::Approved, None).await
    }

    pub async fn reject(&self, actor: &Actor, id: Uuid, input: ReviewRejection) -> Result<Review> {
        actor.require(Permission::AdminCatalog)?;
        let reason = reason("reason", &input.reason)?;
        self.decide(actor, id, ReviewStatus::Rejected, Some(&reason))
            .await
    }

    async fn decide(
        &self,
        actor: &Actor,
        id: Uuid,
        status: ReviewStatus,
        note: Option<&str>,
    ) -> Result<Review> {
        let mut tx = self.ctx.db.begin().await?;
        let before = self.take(&mut tx, id).await?;
        store::decide(&mut tx, id, status.as_str(), note, actor.user_id, now()).await?;
        let after = self.reread(&mut tx, id).await?;
        self.after_change(&mut tx, &after, Some(&before)).await?;
        tx.commit().await?;
        self.view(Some(actor), &after)
    }

    /// Another user's report of a public review, once per user.
    pub async fn report(&self, actor: &Actor, id: Uuid, input: ReviewReportInput) -> Result<()> {
        let customer_id = customer(actor)?;
        let reason = reason("reason", &input.reason)?;
        let mut tx = self.ctx.db.begin().await?;
        let before = self.take(&mut tx, id).await?;
        if before.customer_id == customer_id {
            return Err(ReviewsError::OwnReview);
        }
        if status_of(&before)? != ReviewStatus::Approved {
            return Err(ReviewsError::NotFound);
        }
        let Some(open) = store::report(&mut tx, id, customer_id, &reason, now()).await? else {
            return Err(ReviewsError::AlreadyReported);
        };
        if open >= self.config.report_threshold.max(1)
            && store::hold(&mut tx, id, HELD_REPORTS, now()).await?
        {
            let after = self.reread(&mut tx, id).await?;
            self.after_change(&mut tx, &after, Some(&before)).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
