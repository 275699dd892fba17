//! What others add to a public review: helpful votes (one per user, not on one's own review;
//! voting again changes nothing) and the reviewed merchant's response (one per review, by its
//! staff who manage the merchant's profile).

use kernel::MerchantPermission;

use super::*;
use crate::domain::{self, RESPONSE_MAX};
use crate::store;

impl Reviews {
    pub async fn helpful(&self, actor: &Actor, id: Uuid) -> Result<HelpfulVote> {
        let customer_id = customer(actor)?;
        let row = self.public_review(id).await?;
        if row.customer_id == customer_id {
            return Err(ReviewsError::OwnReview);
        }
        let mut tx = self.ctx.db.begin().await?;
        let (helpful_count, counted) = store::vote(&mut tx, id, customer_id, now()).await?;
        tx.commit().await?;
        Ok(HelpfulVote {
            review_id: id,
            helpful_count,
            counted,
        })
    }

    pub async fn respond(
        &self,
        actor: &Actor,
        id: Uuid,
        input: MerchantResponseInput,
    ) -> Result<Review> {
        let row = self.public_review(id).await?;
        actor.require_staff(row.merchant_id, MerchantPermission::ManageProfile)?;
        let mut errors = Vec::new();
        let text = domain::required_text("text", &input.text, RESPONSE_MAX, &mut errors);
        invalid(errors)?;
        let mut tx = self.ctx.db.begin().await?;
        if !store::respond(&mut tx, id, row.merchant_id, actor.user_id, &text, now()).await? {
            return Err(ReviewsError::ResponseExists);
        }
        platform::bus::publish(
            &mut tx,
            SOURCE,
            &ReviewResponded {
                review_id: id,
                customer_id: row.customer_id,
                subject_kind: kind_of(&row)?,
                subject_id: row.subject_id,
                merchant_id: row.merchant_id,
            },
        )
        .await?;
        let after = self.reread(&mut tx, id).await?;
        tx.commit().await?;
        self.view(Some(actor), &after)
    }

    /// An APPROVED review that is not deleted.
    async fn public_review(&self, id: Uuid) -> Result<ReviewRow> {
        match store::review(&self.ctx.db, id).await? {
            Some(row) if row.deleted_at.is_none() && status_of(&row)? == ReviewStatus::Approved => {
                Ok(row)
            }
            _ => Err(ReviewsError::NotFound),
        }
    }
}
