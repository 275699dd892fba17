//! Sending a planned delivery on its channel, and the admin view of deliveries.

use kernel::Timestamp;
use platform::bus::BoxError;
use platform::jobs::JobRun;
use serde_json::json;
use uuid::Uuid;

use super::{NotificationError, Notifications, Result};
use crate::api::*;
use crate::channels::{Outbound, SendError, Sender};
use crate::domain::Channel;
use crate::store;

impl Notifications {
    fn sender(&self, channel: Channel) -> std::result::Result<&dyn Sender, SendError> {
        fn usable<S: Sender>(
            sender: &std::result::Result<S, String>,
        ) -> std::result::Result<&dyn Sender, SendError> {
            sender
                .as_ref()
                .map(|s| s as &dyn Sender)
                .map_err(|e| SendError::Invalid(e.clone()))
        }
        match channel {
            Channel::Email => usable(&self.email),
            Channel::Sms => usable(&self.sms),
            Channel::Push => usable(&self.push),
            Channel::InApp => Err(SendError::Invalid("in-app messages are not sent".into())),
        }
    }

    /// The job: sends one planned delivery. Failing makes the job runner retry with backoff;
    /// the last failure marks the delivery FAILED.
    pub async fn deliver(&self, job: &JobRun) -> std::result::Result<(), BoxError> {
        let id: Uuid = serde_json::from_value(job.payload["deliveryId"].clone())?;
        let Some(delivery) = store::delivery(&self.ctx.db, id).await? else {
            return Ok(()); // erased with its user
        };
        if delivery.status != "PENDING" {
            return Ok(());
        }
        let channel = Channel::parse(&delivery.channel).ok_or("unknown channel")?;
        let outbound = Outbound {
            destination: delivery.destination.clone(),
            title: delivery.title.clone(),
            body: delivery.body.clone(),
            data: json!({ "template": delivery.template, "eventId": delivery.event_id }),
        };
        let result = match self.sender(channel) {
            Ok(sender) => sender.send(&outbound).await,
            Err(err) => Err(err),
        };
        let now = Timestamp::now();
        match result {
            Ok(()) => {
                store::record_attempt(&self.ctx.db, id, "SENT", None, now).await?;
                metrics::counter!("pasar_notifications_sent_total", "channel" => channel.as_str())
                    .increment(1);
                Ok(())
            }
            Err(err) => {
                let message = err.to_string();
                let final_attempt = job.attempt >= self.max_attempts;
                let status = if final_attempt { "FAILED" } else { "PENDING" };
                store::record_attempt(&self.ctx.db, id, status, Some(&message), now).await?;
                if final_attempt {
                    metrics::counter!("pasar_notifications_failed_total", "channel" => channel.as_str()).increment(1);
                }
                Err(message.into())
            }
        }
    }

    pub async fn deliveries(
        &self,
        status: Option<&str>,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<DeliveryView>> {
        if status.is_some_and(|s| !matches!(s, "PENDING" | "SENT" | "FAILED")) {
            return Err(NotificationError::Invalid(
                "status",
                "must be PENDING, SENT or FAILED".into(),
            ));
        }
        Ok(store::deliveries(&self.ctx.db, status, before, limit)
            .await?
            .into_iter()
            .map(|d| DeliveryView {
                id: d.id,
                event_id: d.event_id,
                user_id: d.user_id,
                channel: d.channel,
                destination: d.destination,
                template: d.template,
                locale: d.locale,
                status: d.status,
                attempts: d.attempts,
                last_error: d.last_error,
                created_at: Timestamp::from_millis(d.created_at),
                sent_at: d.sent_at.map(Timestamp::from_millis),
            })
            .collect())
    }
}
