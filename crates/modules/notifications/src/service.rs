//! Turning facts into messages, and sending them.
//!
//! An event handler plans a message inside the event's transaction: one delivery row per
//! (event, channel, destination), so a redelivered event plans nothing twice. In-app messages
//! are stored right there; other channels get a persisted job that sends, retries with backoff
//! and finally marks the delivery FAILED (the dead letters admins can list).

use kernel::{ApiError, Timestamp};
use platform::bus::BoxError;
use platform::db::Tx;
use platform::jobs::{self, JobRun};
use platform::Context;
use serde_json::json;
use uuid::Uuid;

use crate::api::*;
use crate::channels::{EmailSender, HttpSender, Outbound, SendError, Sender};
use crate::domain::{self, Category, Channel};
use crate::store;
use crate::templates::{TemplateError, Templates};

pub const DELIVER_JOB: &str = "notifications.deliver";

#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    #[error("invalid input: {0}")]
    Invalid(&'static str, String),
    #[error("message not found")]
    NotFound,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("template: {0}")]
    Template(#[from] TemplateError),
}

impl From<NotificationError> for ApiError {
    fn from(err: NotificationError) -> Self {
        match err {
            NotificationError::Invalid(field, message) => ApiError::validation_one(field, &message),
            NotificationError::NotFound => {
                ApiError::not_found("notification_not_found", "No such notification")
            }
            NotificationError::Database(_) | NotificationError::Template(_) => {
                tracing::error!(error = %err, "notifications failure");
                ApiError::internal()
            }
        }
    }
}

type Result<T> = std::result::Result<T, NotificationError>;

/// Where one copy of a message goes.
#[derive(Debug, Clone)]
pub enum Target {
    InApp(Uuid),
    Email(String),
    Sms(String),
    /// A device push token.
    Push(String),
}

impl Target {
    fn channel(&self) -> Channel {
        match self {
            Target::InApp(_) => Channel::InApp,
            Target::Email(_) => Channel::Email,
            Target::Sms(_) => Channel::Sms,
            Target::Push(_) => Channel::Push,
        }
    }

    fn destination(&self) -> String {
        match self {
            Target::InApp(user) => user.to_string(),
            Target::Email(d) | Target::Sms(d) | Target::Push(d) => d.clone(),
        }
    }
}

/// What to say, to whom, about which event.
pub struct Message {
    pub event_id: Uuid,
    pub user_id: Option<Uuid>,
    pub category: Category,
    pub template: &'static str,
    pub context: serde_json::Value,
    pub targets: Vec<Target>,
}

pub struct Notifications {
    pub ctx: Context,
    templates: Templates,
    email: std::result::Result<EmailSender, String>,
    sms: std::result::Result<HttpSender, String>,
    push: std::result::Result<HttpSender, String>,
    max_attempts: i32,
}

impl Notifications {
    pub fn new(ctx: Context) -> Self {
        let config: crate::config::NotificationsConfig = ctx.config.section_or_default();
        let email =
            EmailSender::new(&config.email, &ctx.config.data_dir).map_err(|e| e.to_string());
        let sms = HttpSender::new(&config.sms).map_err(|e| e.to_string());
        let push = HttpSender::new(&config.push).map_err(|e| e.to_string());
        for (channel, problem) in [
            ("email", email.as_ref().err()),
            ("sms", sms.as_ref().err()),
            ("push", push.as_ref().err()),
        ] {
            if let Some(problem) = problem {
                tracing::error!(
                    channel,
                    problem,
                    "notification channel misconfigured; its messages will fail"
                );
            }
        }
        Self {
            max_attempts: config.max_attempts.max(1),
            ctx,
            templates: Templates::new(),
            email,
            sms,
            push,
        }
    }

    /// Plans `message` in the caller's transaction (the consumer's, with its inbox row).
    pub async fn plan(&self, tx: &mut Tx, message: Message) -> Result<()> {
        let (locale, choices) = match message.user_id {
            Some(user_id) => {
                let locale = store::recipient(tx, user_id)
                    .await?
                    .map_or_else(|| "en".to_owned(), |r| r.locale);
                let choices = store::choices(tx, user_id)
                    .await?
                    .into_iter()
                    .filter_map(|(cat, ch, on)| {
                        Some((Category::parse(&cat)?, Channel::parse(&ch)?, on))
                    })
                    .collect::<Vec<_>>();
                (locale, choices)
            }
            None => ("en".to_owned(), Vec::new()),
        };
        let rendered = self
            .templates
            .render(message.template, &locale, &message.context)?;
        let now = Timestamp::now();
        for target in &message.targets {
            let channel = target.channel();
            if !domain::allowed(message.category, channel, &choices) {
                continue;
            }
            let id = kernel::new_id();
            let in_app = matches!(target, Target::InApp(_));
            let destination = target.destination();
            let inserted = store::insert_delivery(
                tx,
                &store::NewDelivery {
                    id,
                    event_id: message.event_id,
                    user_id: message.user_id,
                    channel: channel.as_str(),
                    destination: &destination,
                    template: message.template,
                    locale: &rendered.locale,
                    title: &rendered.title,
                    body: &rendered.body,
                    status: if in_app { "SENT" } else { "PENDING" },
                    now,
                },
            )
            .await?;
            if !inserted {
                continue;
            }
            match target {
                Target::InApp(user_id) => {
                    store::insert_inbox(
                        tx,
                        kernel::new_id(),
                        *user_id,
                        message.category.as_str(),
                        &rendered.title,
                        &rendered.body,
                        now,
                    )
                    .await?;
                }
                _ => {
                    jobs::enqueue(
                        tx,
                        DELIVER_JOB,
                        &json!({ "deliveryId": id }),
                        now,
                        self.max_attempts,
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }

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

    pub async fn inbox(
        &self,
        user_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<InAppMessage>> {
        Ok(store::inbox(&self.ctx.db, user_id, before, limit)
            .await?
            .into_iter()
            .map(in_app_view)
            .collect())
    }

    pub async fn unread(&self, user_id: Uuid) -> Result<i64> {
        Ok(store::unread_count(&self.ctx.db, user_id).await?)
    }

    pub async fn mark_read(&self, user_id: Uuid, id: Uuid) -> Result<InAppMessage> {
        store::mark_read(&self.ctx.db, user_id, id, Timestamp::now())
            .await?
            .map(in_app_view)
            .ok_or(NotificationError::NotFound)
    }

    pub async fn mark_all_read(&self, user_id: Uuid) -> Result<u64> {
        Ok(store::mark_all_read(&self.ctx.db, user_id, Timestamp::now()).await?)
    }

    pub async fn preferences(&self, user_id: Uuid) -> Result<Preferences> {
        let locale = store::locale_of(&self.ctx.db, user_id)
            .await?
            .unwrap_or_else(|| "en".to_owned());
        let stored = store::choices_of(&self.ctx.db, user_id).await?;
        let mut choices = Vec::new();
        for category in Category::SWITCHABLE {
            for channel in Channel::ALL {
                let enabled = stored
                    .iter()
                    .find(|(c, ch, _)| c == category.as_str() && ch == channel.as_str())
                    .map_or_else(
                        || domain::default_enabled(category, channel),
                        |(_, _, on)| *on,
                    );
                choices.push(ChannelChoice {
                    category,
                    channel,
                    enabled,
                });
            }
        }
        Ok(Preferences { locale, choices })
    }

    pub async fn update_preferences(
        &self,
        user_id: Uuid,
        update: UpdatePreferences,
    ) -> Result<Preferences> {
        if let Some(locale) = &update.locale {
            if !domain::valid_locale(locale) {
                return Err(NotificationError::Invalid(
                    "locale",
                    "must be en, km or id".into(),
                ));
            }
        }
        if update
            .choices
            .iter()
            .any(|c| c.category == Category::Security)
        {
            return Err(NotificationError::Invalid(
                "choices",
                "security messages cannot be switched off".into(),
            ));
        }
        let mut tx = self.ctx.db.begin().await?;
        if let Some(locale) = &update.locale {
            store::set_locale(&mut tx, user_id, locale, Timestamp::now()).await?;
        }
        for choice in &update.choices {
            store::set_choice(
                &mut tx,
                user_id,
                choice.category.as_str(),
                choice.channel.as_str(),
                choice.enabled,
            )
            .await?;
        }
        tx.commit().await?;
        self.preferences(user_id).await
    }

    pub async fn register_device(&self, user_id: Uuid, device: RegisterDevice) -> Result<()> {
        let token = device.token.trim();
        if token.is_empty() || token.len() > 4096 {
            return Err(NotificationError::Invalid(
                "token",
                "must be 1 to 4096 characters".into(),
            ));
        }
        if !matches!(device.platform.as_str(), "android" | "ios" | "web") {
            return Err(NotificationError::Invalid(
                "platform",
                "must be android, ios or web".into(),
            ));
        }
        store::register_device(
            &self.ctx.db,
            user_id,
            token,
            &device.platform,
            Timestamp::now(),
        )
        .await?;
        Ok(())
    }

    pub async fn remove_device(&self, user_id: Uuid, token: &str) -> Result<()> {
        match store::remove_device(&self.ctx.db, user_id, token).await? {
            0 => Err(NotificationError::NotFound),
            _ => Ok(()),
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

fn in_app_view(row: store::InboxRow) -> InAppMessage {
    InAppMessage {
        id: row.id,
        category: row.category,
        title: row.title,
        body: row.body,
        read: row.read_at.is_some(),
        read_at: row.read_at.map(Timestamp::from_millis),
        created_at: Timestamp::from_millis(row.created_at),
    }
}
