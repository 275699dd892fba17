//! The rating aggregates: every change of what a review counts moves its subject's and its
//! merchant's aggregate in the change's transaction (one atomic upsert each, subject first
//! then merchant, so concurrent changes neither lose counts nor deadlock), and publishes the
//! aggregates after it.

use platform::bus;
use platform::db::Tx;

use super::*;
use crate::domain;
use crate::store::{self, AggregateRow};

impl Reviews {
    /// Moves the aggregates of `row`'s subject and merchant from the rating it counted
    /// (`before`) to the one it counts now (`after`).
    pub(super) async fn recount(
        &self,
        tx: &mut Tx,
        row: &ReviewRow,
        before: Option<i32>,
        after: Option<i32>,
    ) -> Result<()> {
        let Some(delta) = domain::delta(before, after) else {
            return Ok(());
        };
        let kind = kind_of(row)?;
        for (kind, subject_id) in [
            (kind, row.subject_id),
            (ReviewSubjectKind::Merchant, row.merchant_id),
        ] {
            let aggregate = store::add_to_aggregate(
                tx,
                kind.as_str(),
                subject_id,
                row.merchant_id,
                delta.count,
                delta.sum,
                delta.histogram,
                now(),
            )
            .await?;
            let summary = summary_of(&aggregate);
            bus::publish(
                tx,
                SOURCE,
                &ReviewRatingChanged {
                    subject_kind: kind,
                    subject_id,
                    merchant_id: row.merchant_id,
                    average: summary.average,
                    count: summary.count,
                    histogram: summary.histogram,
                    version: aggregate.version,
                },
            )
            .await?;
        }
        Ok(())
    }

    pub async fn summary(
        &self,
        kind: ReviewSubjectKind,
        subject_id: Uuid,
    ) -> Result<RatingSummary> {
        Ok(store::aggregate(&self.ctx.db, kind.as_str(), subject_id)
            .await?
            .map(|a| summary_of(&a))
            .unwrap_or_default())
    }
}

pub(super) fn summary_of(a: &AggregateRow) -> RatingSummary {
    RatingSummary {
        average: domain::average(a.review_count, a.rating_sum),
        count: a.review_count,
        histogram: [a.r1, a.r2, a.r3, a.r4, a.r5],
    }
}
