//! Reviews written by verified buyers (one per purchase), edited by their author within the
//! edit window (moderation runs again), and deleted by their author or an admin.

use platform::bus;
use platform::db::{is_unique_violation, Tx};

use super::*;
use crate::domain::{self, REASON_MAX, TEXT_MAX, TITLE_MAX};
use crate::store::{self, NewReview};

/// A review's content after checks.
struct Content {
    rating: i32,
    title: Option<String>,
    text: Option<String>,
    anonymous: bool,
}

fn content(
    rating: i32,
    title: Option<&str>,
    text: Option<&str>,
    anonymous: bool,
    mut errors: Vec<kernel::FieldError>,
) -> Result<Content> {
    domain::check_rating(rating, &mut errors);
    let title = domain::optional_text("title", title, TITLE_MAX, &mut errors);
    let text = domain::optional_text("text", text, TEXT_MAX, &mut errors);
    invalid(errors)?;
    Ok(Content {
        rating,
        title,
        text,
        anonymous,
    })
}

impl Reviews {
    fn banned(&self, content: &Content) -> bool {
        domain::has_banned_word(
            &self.config.banned_words,
            content
                .title
                .iter()
                .chain(content.text.iter())
                .map(String::as_str),
        )
    }

    /// A review of a product or voucher offer the caller bought.
    pub async fn create(
        &self,
        actor: &Actor,
        kind: ReviewSubjectKind,
        subject_id: Uuid,
        input: ReviewInput,
    ) -> Result<Review> {
        let customer_id = customer(actor)?;
        let mut errors = Vec::new();
        let source = match kind {
            ReviewSubjectKind::Product => {
                if input.voucher_id.is_some() {
                    errors.push(field("voucherId", "is for voucher offers"));
                }
                input.order_id
            }
            _ => {
                if input.order_id.is_some() {
                    errors.push(field("orderId", "is for products"));
                }
                input.voucher_id
            }
        };
        let content = content(
            input.rating,
            input.title.as_deref(),
            input.text.as_deref(),
            input.anonymous,
            errors,
        )?;
        let (status, held) = domain::moderate(self.banned(&content), None);

        let mut tx = self.ctx.db.begin().await?;
        let purchase = match source {
            Some(source) => {
                match store::purchase_from(&mut tx, customer_id, kind.as_str(), subject_id, source)
                    .await?
                {
                    None => return Err(ReviewsError::NotABuyer),
                    Some((_, true)) => return Err(ReviewsError::Exists),
                    Some((purchase, false)) => purchase,
                }
            }
            None => match store::oldest_unreviewed(&mut tx, customer_id, kind.as_str(), subject_id)
                .await?
            {
                Some(c) if !c.reviewed => c.purchase,
                Some(_) => return Err(ReviewsError::Exists),
                None => return Err(ReviewsError::NotABuyer),
            },
        };
        let id = kernel::new_id();
        let written = store::insert_review(
            &mut tx,
            &NewReview {
                id,
                purchase_id: purchase.id,
                customer_id,
                subject_kind: kind.as_str(),
                subject_id,
                merchant_id: purchase.merchant_id,
                rating: content.rating,
                title: content.title.as_deref(),
                body: content.text.as_deref(),
                anonymous: content.anonymous,
                status: status.as_str(),
                held_reason: held,
                now: now(),
            },
        )
        .await;
        match written {
            Err(err) if is_unique_violation(&err) => return Err(ReviewsError::Exists),
            other => other?,
        }
        let row = self.reread(&mut tx, id).await?;
        bus::publish(
            &mut tx,
            SOURCE,
            &ReviewCreated {
                review_id: id,
                customer_id,
                subject_kind: kind,
                subject_id,
                merchant_id: row.merchant_id,
                rating: row.rating,
                status,
            },
        )
        .await?;
        self.after_change(&mut tx, &row, None).await?;
        tx.commit().await?;
        self.view(Some(actor), &row)
    }

    /// The author's edit, within the edit window: moderation runs again on the new content,
    /// and the aggregates follow the new rating and status.
    pub async fn edit(&self, actor: &Actor, id: Uuid, input: ReviewEdit) -> Result<Review> {
        let customer_id = customer(actor)?;
        let content = content(
            input.rating,
            input.title.as_deref(),
            input.text.as_deref(),
            input.anonymous,
            Vec::new(),
        )?;
        let banned = self.banned(&content);
        let mut tx = self.ctx.db.begin().await?;
        let before = self.take(&mut tx, id).await?;
        if before.customer_id != customer_id {
            return Err(if status_of(&before)? == ReviewStatus::Approved {
                ReviewsError::Forbidden("Only its author edits a review")
            } else {
                ReviewsError::NotFound
            });
        }
        if now() >= before.created_at.saturating_add(self.edit_window_ms()) {
            return Err(ReviewsError::EditWindowClosed);
        }
        let (status, held) = domain::moderate(
            banned,
            Some((status_of(&before)?, before.held_reason.as_deref())),
        );
        store::write_content(
            &mut tx,
            id,
            content.rating,
            content.title.as_deref(),
            content.text.as_deref(),
            content.anonymous,
            status.as_str(),
            held,
            now(),
        )
        .await?;
        let after = self.reread(&mut tx, id).await?;
        self.after_change(&mut tx, &after, Some(&before)).await?;
        tx.commit().await?;
        self.view(Some(actor), &after)
    }

    /// Deleted by its author or an admin: it leaves the lists and the aggregates; its
    /// purchase stays reviewed.
    pub async fn delete(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let moderator = is_moderator(Some(actor));
        let mut tx = self.ctx.db.begin().await?;
        let before = self.take(&mut tx, id).await?;
        if before.customer_id != actor.user_id && !moderator {
            return Err(if status_of(&before)? == ReviewStatus::Approved {
                ReviewsError::Forbidden("Only its author or an admin deletes a review")
            } else {
                ReviewsError::NotFound
            });
        }
        store::mark_deleted(&mut tx, id, now()).await?;
        let after = self.reread(&mut tx, id).await?;
        self.after_change(&mut tx, &after, Some(&before)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes a review that is not deleted for a change (see [`store::take_review`]).
    pub(super) async fn take(&self, tx: &mut Tx, id: Uuid) -> Result<ReviewRow> {
        match store::take_review(tx, id).await? {
            Some(row) if row.deleted_at.is_none() => Ok(row),
            _ => Err(ReviewsError::NotFound),
        }
    }

    pub(super) async fn reread(&self, tx: &mut Tx, id: Uuid) -> Result<ReviewRow> {
        store::review_in(tx, id)
            .await?
            .ok_or_else(|| ReviewsError::Corrupt(format!("review {id} vanished")))
    }

    /// After any change of a review (`before`: None for a new one): the aggregates follow
    /// what it counts now, and `review.approved` tells that it became public.
    pub(super) async fn after_change(
        &self,
        tx: &mut Tx,
        after: &ReviewRow,
        before: Option<&ReviewRow>,
    ) -> Result<()> {
        let counted = |row: &ReviewRow| -> Result<Option<i32>> {
            Ok(domain::counted(
                status_of(row)?,
                row.deleted_at.is_some(),
                row.rating,
            ))
        };
        let was = before.map(counted).transpose()?.flatten();
        let is = counted(after)?;
        self.recount(tx, after, was, is).await?;
        let was_public = before
            .is_some_and(|b| b.deleted_at.is_none() && b.status == ReviewStatus::Approved.as_str());
        if is.is_some() && !was_public {
            bus::publish(
                tx,
                SOURCE,
                &ReviewApproved {
                    review_id: after.id,
                    customer_id: after.customer_id,
                    subject_kind: kind_of(after)?,
                    subject_id: after.subject_id,
                    merchant_id: after.merchant_id,
                    rating: after.rating,
                },
            )
            .await?;
        }
        Ok(())
    }
}

pub(super) fn field(name: &str, message: &str) -> kernel::FieldError {
    kernel::FieldError {
        field: name.into(),
        message: message.into(),
    }
}

/// A required reason (reject, report), trimmed, at most 500 characters.
pub(super) fn reason(field: &str, value: &str) -> Result<String> {
    let mut errors = Vec::new();
    let value = domain::required_text(field, value, REASON_MAX, &mut errors);
    invalid(errors)?;
    Ok(value)
}
