//! What customers, merchants and admins read: public reviews of a product, voucher offer or
//! merchant with its rating (and the caller's own reviews in any status), one review, and the
//! admins' moderation queue. Anonymous reviews show no author to others.

use kernel::{Cursor, Page, PageQuery, Timestamp};

use super::*;
use crate::store::{self, ListFilter, Order, Scope};

impl Reviews {
    pub(super) fn view(&self, viewer: Option<&Actor>, row: &ReviewRow) -> Result<Review> {
        let moderator = is_moderator(viewer);
        let author = viewer.is_some_and(|v| v.user_id == row.customer_id && !v.user_id.is_nil());
        let privileged = author || moderator;
        Ok(Review {
            id: row.id,
            subject_kind: kind_of(row)?,
            subject_id: row.subject_id,
            merchant_id: row.merchant_id,
            rating: row.rating,
            title: row.title.clone(),
            text: row.body.clone(),
            anonymous: row.anonymous,
            author: (!row.anonymous || privileged).then(|| ReviewAuthor {
                customer_id: row.customer_id,
                display_name: row
                    .author_name
                    .clone()
                    .unwrap_or_else(|| "Customer".to_owned()),
            }),
            status: status_of(row)?,
            moderation_note: row.moderation_note.clone().filter(|_| privileged),
            helpful_count: row.helpful_count,
            response: match (
                row.response_merchant_id,
                &row.response_body,
                row.response_at,
            ) {
                (Some(merchant_id), Some(text), Some(at)) => Some(MerchantResponse {
                    merchant_id,
                    text: text.clone(),
                    created_at: Timestamp::from_millis(at),
                }),
                _ => None,
            },
            editable_until: author.then(|| {
                Timestamp::from_millis(row.created_at.saturating_add(self.edit_window_ms()))
            }),
            created_at: Timestamp::from_millis(row.created_at),
            updated_at: Timestamp::from_millis(row.updated_at),
            edited_at: row.edited_at.map(Timestamp::from_millis),
        })
    }

    /// Who wrote a review that is not deleted (internal).
    pub async fn authorship(&self, id: Uuid) -> Result<ReviewAuthorship> {
        let row = store::review(&self.ctx.db, id)
            .await?
            .filter(|r| r.deleted_at.is_none())
            .ok_or(ReviewsError::NotFound)?;
        Ok(ReviewAuthorship {
            review_id: row.id,
            author_id: row.customer_id,
            merchant_id: row.merchant_id,
            public: row.status == ReviewStatus::Approved.as_str(),
        })
    }

    /// One review: public ones to anyone, others to their author and admins.
    pub async fn get(&self, actor: Option<&Actor>, id: Uuid) -> Result<Review> {
        let row = store::review(&self.ctx.db, id)
            .await?
            .filter(|r| r.deleted_at.is_none())
            .ok_or(ReviewsError::NotFound)?;
        let visible = row.status == ReviewStatus::Approved.as_str()
            || is_moderator(actor)
            || actor.is_some_and(|a| a.user_id == row.customer_id);
        if !visible {
            return Err(ReviewsError::NotFound);
        }
        self.view(actor, &row)
    }

    /// Reviews of a product or voucher offer (`kind`), or of a merchant's products and offers
    /// (`Merchant`), with the subject's rating.
    pub async fn list(
        &self,
        actor: Option<&Actor>,
        kind: ReviewSubjectKind,
        subject_id: Uuid,
        query: &ReviewQuery,
    ) -> Result<ReviewPage> {
        let page = PageQuery {
            limit: query.limit,
            cursor: query.cursor.clone(),
        };
        let limit = page.limit();
        let sort = query.sort.unwrap_or_default();
        if let Some(rating) = query.rating {
            let mut errors = Vec::new();
            crate::domain::check_rating(rating, &mut errors);
            invalid(errors)?;
        }
        let after = page
            .cursor()?
            .map(|cursor| parse_cursor(&cursor, sort))
            .transpose()?;
        let scope = match kind {
            ReviewSubjectKind::Product => {
                Scope::Subject(ReviewSubjectKind::Product.as_str(), subject_id)
            }
            ReviewSubjectKind::Voucher => {
                Scope::Subject(ReviewSubjectKind::Voucher.as_str(), subject_id)
            }
            ReviewSubjectKind::Merchant => Scope::Merchant(subject_id),
        };
        let rows = store::list(
            &self.ctx.db,
            &ListFilter {
                scope,
                viewer: actor.map(|a| a.user_id).filter(|id| !id.is_nil()),
                rating: query.rating,
                order: match sort {
                    ReviewSort::Newest => Order::Newest,
                    ReviewSort::Helpful => Order::Helpful,
                    ReviewSort::RatingDesc => Order::RatingDesc,
                    ReviewSort::RatingAsc => Order::RatingAsc,
                },
                after,
                limit: i64::from(limit) + 1,
            },
        )
        .await?;
        let items = rows
            .iter()
            .map(|row| self.view(actor, row))
            .collect::<Result<Vec<_>>>()?;
        let page = Page::from_overfetch(items, limit, |r| cursor_of(r, sort));
        Ok(ReviewPage {
            items: page.items,
            next_cursor: page.next_cursor,
            summary: self.summary(kind, subject_id).await?,
        })
    }

    /// Reviews by status, newest first (admins).
    pub async fn admin_list(
        &self,
        actor: &Actor,
        query: &AdminReviewQuery,
    ) -> Result<Page<Review>> {
        actor.require(Permission::AdminCatalog)?;
        let page = PageQuery {
            limit: query.limit,
            cursor: query.cursor.clone(),
        };
        let limit = page.limit();
        let rows = store::list_admin(
            &self.ctx.db,
            query.status.map(ReviewStatus::as_str),
            page.id_cursor()?,
            i64::from(limit) + 1,
        )
        .await?;
        let items = rows
            .iter()
            .map(|row| self.view(Some(actor), row))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, limit, |r| r.id.to_string()))
    }
}

fn cursor_of(review: &Review, sort: ReviewSort) -> String {
    let key = match sort {
        ReviewSort::Newest => 0,
        ReviewSort::Helpful => review.helpful_count,
        ReviewSort::RatingDesc | ReviewSort::RatingAsc => i64::from(review.rating),
    };
    Cursor::keyed(key, review.id)
}

fn parse_cursor(cursor: &Cursor, _sort: ReviewSort) -> Result<(i64, Uuid)> {
    cursor.keyed_parts().ok_or_else(|| {
        ReviewsError::Invalid(vec![super::writing::field(
            "cursor",
            "is not a valid cursor",
        )])
    })
}
