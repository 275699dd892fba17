//! The public face of notifications: bodies of its endpoints.

mod errors;
pub use errors::NotificationsCode;

mod states;
pub use states::*;

use kernel::{LocalizedText, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub const SOURCE: &str = "notifications";

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InAppMessage {
    pub id: Uuid,
    pub category: String,
    pub title: String,
    pub body: String,
    pub read: bool,
    pub read_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnreadCount {
    pub unread: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChannelChoice {
    pub category: Category,
    pub channel: Channel,
    pub enabled: bool,
}

/// Language of messages and which categories reach the user on which channels. Security
/// messages (codes, resets) are always sent and are not listed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Preferences {
    /// `en`, `km` or `id`.
    pub locale: String,
    pub choices: Vec<ChannelChoice>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdatePreferences {
    pub locale: Option<String>,
    #[serde(default)]
    pub choices: Vec<ChannelChoice>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterDevice {
    /// The push token of the device (FCM registration token).
    pub token: String,
    /// `android`, `ios` or `web`.
    pub platform: String,
}

/// A message on its way, as admins see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    pub id: Uuid,
    pub event_id: Uuid,
    pub user_id: Option<Uuid>,
    pub channel: String,
    pub destination: String,
    pub template: String,
    pub locale: String,
    /// `PENDING`, `SENT` or `FAILED`.
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    /// `PENDING`, `SENT` or `FAILED`.
    pub status: Option<String>,
}

/// A message an admin writes now and the platform sends later, in each recipient's language
/// (English when the recipient's is missing), on the channels their preferences allow.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduleMessage {
    /// Any category but `security`: recipients' preferences decide the channels.
    pub category: Category,
    pub audience: Audience,
    /// The recipients when `audience` is `USERS` (1 to 1,000); empty for `EVERYONE`.
    #[serde(default)]
    pub user_ids: Vec<Uuid>,
    pub title: LocalizedText,
    pub body: LocalizedText,
    /// When to send: in the future, at most a year ahead.
    pub send_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledMessage {
    pub id: Uuid,
    pub category: Category,
    pub audience: Audience,
    pub user_ids: Vec<Uuid>,
    pub title: LocalizedText,
    pub body: LocalizedText,
    pub send_at: Timestamp,
    pub status: ScheduledStatus,
    /// People the message was planned for so far.
    pub recipients: i64,
    pub created_by: Uuid,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub cancelled_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScheduledFilter {
    /// `SCHEDULED`, `SENDING`, `SENT` or `CANCELLED`.
    pub status: Option<ScheduledStatus>,
}
