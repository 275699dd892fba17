//! Turning facts into messages, and sending them.
//!
//! An event handler plans a message inside the event's transaction: one delivery row per
//! (event, channel, destination), so a redelivered event plans nothing twice. In-app messages
//! are stored right there; other channels get a persisted job that sends, retries with backoff
//! and finally marks the delivery FAILED (the dead letters admins can list).

mod delivery;
mod inbox;
mod scheduled;

use kernel::{ApiError, Timestamp};
use platform::db::Tx;
use platform::jobs;
use platform::Context;
use serde_json::json;
use uuid::Uuid;

use crate::channels::{EmailSender, HttpSender};
use crate::domain::{self, Category, Channel};
use crate::store;
use crate::templates::{TemplateError, Templates};

pub use scheduled::SEND_SCHEDULED_JOB;

pub const DELIVER_JOB: &str = "notifications.deliver";

#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    #[error("invalid input: {0}")]
    Invalid(&'static str, String),
    #[error("message not found")]
    NotFound,
    #[error("scheduled message not found")]
    ScheduledNotFound,
    #[error("the scheduled message can no longer be cancelled")]
    ScheduledClosed,
    #[error("corrupt row: {0}")]
    Corrupt(String),
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
            NotificationError::ScheduledNotFound => {
                ApiError::not_found("scheduled_message_not_found", "No such scheduled message")
            }
            NotificationError::ScheduledClosed => ApiError::conflict(
                "scheduled_message_closed",
                "The message is being sent, was sent or was cancelled",
            ),
            NotificationError::Database(_)
            | NotificationError::Template(_)
            | NotificationError::Corrupt(_) => {
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

/// The user's in-app inbox, email and devices.
pub(crate) async fn reach(tx: &mut Tx, user_id: Uuid) -> Result<Vec<Target>> {
    let mut targets = vec![Target::InApp(user_id)];
    if let Some(email) = store::recipient(tx, user_id).await?.and_then(|r| r.email) {
        targets.push(Target::Email(email));
    }
    for token in store::device_tokens(tx, user_id).await? {
        targets.push(Target::Push(token));
    }
    Ok(targets)
}

/// What to say, to whom, about which event. `event_id` keys the deliveries: a second
/// message about one event needs its own key.
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
}
