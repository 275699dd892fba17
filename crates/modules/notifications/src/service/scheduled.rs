//! Messages an admin writes now for a time later: planned when the time comes, page by page,
//! for the listed users or everyone reachable; cancellable until sending starts.

use kernel::{Actor, LocalizedText, Timestamp};
use platform::bus::BoxError;
use platform::jobs::{self, JobRun};
use serde_json::json;
use uuid::Uuid;

use super::{Message, NotificationError, Notifications, Result};
use crate::api::*;
use crate::domain::{self, Category};
use crate::store::{self, ScheduledRow};

pub const SEND_SCHEDULED_JOB: &str = "notifications.send_scheduled";

/// Recipients planned per transaction.
const PAGE: usize = 200;
/// Pages per run of the job: a large audience is sent by a chain of runs, each well within
/// the job's lease.
const PAGES_PER_RUN: usize = 25;

impl Notifications {
    pub async fn schedule(
        &self,
        actor: &Actor,
        input: ScheduleMessage,
    ) -> Result<ScheduledMessage> {
        let now = Timestamp::now();
        let user_ids = domain::check_schedule(&input, now).map_err(invalid)?;
        let row = ScheduledRow {
            id: kernel::new_id(),
            category: input.category.as_str().to_owned(),
            audience: input.audience.as_str().to_owned(),
            user_ids: to_json(&user_ids)?,
            title: to_json(&input.title)?,
            body: to_json(&input.body)?,
            send_at: input.send_at.millis(),
            status: ScheduledStatus::Scheduled.as_str().to_owned(),
            cursor_user_id: None,
            recipients: 0,
            created_by: actor.user_id,
            created_at: now.millis(),
            sent_at: None,
            cancelled_at: None,
        };
        let mut tx = self.ctx.db.begin().await?;
        store::insert_scheduled(&mut tx, &row).await?;
        jobs::enqueue(
            &mut tx,
            SEND_SCHEDULED_JOB,
            &json!({ "scheduledId": row.id }),
            input.send_at,
            self.max_attempts,
        )
        .await?;
        tx.commit().await?;
        scheduled_view(&row)
    }

    pub async fn scheduled(&self, id: Uuid) -> Result<ScheduledMessage> {
        let row = store::scheduled(&self.ctx.db, id)
            .await?
            .ok_or(NotificationError::ScheduledNotFound)?;
        scheduled_view(&row)
    }

    pub async fn scheduled_list(
        &self,
        status: Option<ScheduledStatus>,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<ScheduledMessage>> {
        store::scheduled_list(
            &self.ctx.db,
            status.map(ScheduledStatus::as_str),
            before,
            limit,
        )
        .await?
        .iter()
        .map(scheduled_view)
        .collect()
    }

    pub async fn cancel_scheduled(&self, id: Uuid) -> Result<ScheduledMessage> {
        let mut tx = self.ctx.db.begin().await?;
        let Some(row) = store::cancel_scheduled(&mut tx, id, Timestamp::now().millis()).await?
        else {
            tx.rollback().await?;
            return Err(match store::scheduled(&self.ctx.db, id).await? {
                Some(_) => NotificationError::ScheduledClosed,
                None => NotificationError::ScheduledNotFound,
            });
        };
        tx.commit().await?;
        scheduled_view(&row)
    }

    /// The job: plans the message for its recipients, one page per transaction. The cursor
    /// lets a retry resume, and deliveries keyed by the message id keep a page planned twice
    /// from sending twice.
    pub async fn send_scheduled(&self, job: &JobRun) -> std::result::Result<(), BoxError> {
        let id: Uuid = serde_json::from_value(job.payload["scheduledId"].clone())?;
        let mut tx = self.ctx.db.begin().await?;
        let Some(row) = store::claim_scheduled(&mut tx, id).await? else {
            return Ok(()); // cancelled before its time
        };
        tx.commit().await?;
        let category = Category::parse(&row.category).ok_or("unknown category")?;
        let audience = Audience::parse(&row.audience).ok_or("unknown audience")?;
        let mut listed: Vec<Uuid> = serde_json::from_str(&row.user_ids)?;
        listed.sort_unstable();
        let context = json!({
            "title": serde_json::from_str::<serde_json::Value>(&row.title)?,
            "body": serde_json::from_str::<serde_json::Value>(&row.body)?,
        });
        let mut cursor = row.cursor_user_id;
        for _ in 0..PAGES_PER_RUN {
            let mut tx = self.ctx.db.begin().await?;
            let page = match audience {
                Audience::Everyone => store::recipients_after(&mut tx, cursor, PAGE as i64).await?,
                Audience::Users => {
                    let next: Vec<Uuid> = listed
                        .iter()
                        .filter(|u| cursor.is_none_or(|c| **u > c))
                        .take(PAGE)
                        .copied()
                        .collect();
                    let known = store::known_recipients(&mut tx, &next).await?;
                    if let (Some(last), true) = (next.last(), known.is_empty()) {
                        // A page of unknown users still moves the cursor.
                        if !store::advance_scheduled(&mut tx, id, cursor, *last, 0).await? {
                            tx.rollback().await?;
                            return Ok(()); // another run has it
                        }
                        tx.commit().await?;
                        cursor = Some(*last);
                        continue;
                    }
                    known
                }
            };
            let Some(last) = page.last().copied() else {
                store::finish_scheduled(&mut tx, id, Timestamp::now().millis()).await?;
                tx.commit().await?;
                return Ok(());
            };
            for user_id in &page {
                let message = Message {
                    event_id: id,
                    user_id: Some(*user_id),
                    category,
                    template: "scheduled",
                    context: context.clone(),
                    // Built at send time: an address or device added since scheduling counts.
                    targets: super::reach(&mut tx, *user_id).await?,
                };
                self.plan(&mut tx, message).await?;
            }
            if !store::advance_scheduled(&mut tx, id, cursor, last, page.len() as i64).await? {
                // Another run planned this page: undo ours (its deliveries are keyed alike).
                tx.rollback().await?;
                return Ok(());
            }
            tx.commit().await?;
            cursor = Some(last);
        }
        // More to go: the next run picks up at the cursor.
        let mut tx = self.ctx.db.begin().await?;
        jobs::enqueue(
            &mut tx,
            SEND_SCHEDULED_JOB,
            &json!({ "scheduledId": id }),
            Timestamp::now(),
            self.max_attempts,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn invalid((field, message): (&'static str, String)) -> NotificationError {
    NotificationError::Invalid(field, message)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| NotificationError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| NotificationError::Corrupt(e.to_string()))
}

fn scheduled_view(row: &ScheduledRow) -> Result<ScheduledMessage> {
    let corrupt = |what: &str| NotificationError::Corrupt(format!("{what} of {}", row.id));
    Ok(ScheduledMessage {
        id: row.id,
        category: Category::parse(&row.category).ok_or_else(|| corrupt("category"))?,
        audience: Audience::parse(&row.audience).ok_or_else(|| corrupt("audience"))?,
        user_ids: from_json(&row.user_ids)?,
        title: from_json::<LocalizedText>(&row.title)?,
        body: from_json::<LocalizedText>(&row.body)?,
        send_at: Timestamp::from_millis(row.send_at),
        status: ScheduledStatus::parse(&row.status).ok_or_else(|| corrupt("status"))?,
        recipients: row.recipients,
        created_by: row.created_by,
        created_at: Timestamp::from_millis(row.created_at),
        sent_at: row.sent_at.map(Timestamp::from_millis),
        cancelled_at: row.cancelled_at.map(Timestamp::from_millis),
    })
}
