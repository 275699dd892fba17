//! notifications' states and kinds, as its API and events carry them.

use kernel::text_enum;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = NotificationCategory)]
pub enum Category {
    Account,
    /// Codes, resets, password changes: always delivered, whatever the preferences.
    Security,
    Order,
    Promotion,
    Chat,
    System,
}

impl Category {
    pub const SWITCHABLE: [Category; 5] = [
        Category::Account,
        Category::Order,
        Category::Promotion,
        Category::Chat,
        Category::System,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Account => "account",
            Category::Security => "security",
            Category::Order => "order",
            Category::Promotion => "promotion",
            Category::Chat => "chat",
            Category::System => "system",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Category::Security]
            .into_iter()
            .chain(Category::SWITCHABLE)
            .find(|c| c.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    InApp,
    Email,
    Sms,
    Push,
}

impl Channel {
    pub const ALL: [Channel; 4] = [Channel::InApp, Channel::Email, Channel::Sms, Channel::Push];

    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::InApp => "in_app",
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Push => "push",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Channel::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// Who a scheduled message goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Audience {
    /// The listed users.
    Users,
    /// Everyone who can be reached.
    Everyone,
}

text_enum!(Audience { Users => "USERS", Everyone => "EVERYONE" });

/// SCHEDULED → SENDING → SENT, or SCHEDULED → CANCELLED. Only a SCHEDULED message can be
/// cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScheduledStatus {
    Scheduled,
    Sending,
    Sent,
    Cancelled,
}

text_enum!(ScheduledStatus {
    Scheduled => "SCHEDULED",
    Sending => "SENDING",
    Sent => "SENT",
    Cancelled => "CANCELLED",
});
