//! Pure rules of notifications: categories, channels, and whether a user receives a message.

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

/// What a user gets when they have not chosen: everything but promotional SMS.
pub fn default_enabled(category: Category, channel: Channel) -> bool {
    !(category == Category::Promotion && channel == Channel::Sms)
}

/// Whether a message of `category` goes out on `channel`, given the user's stored choices.
pub fn allowed(
    category: Category,
    channel: Channel,
    choices: &[(Category, Channel, bool)],
) -> bool {
    if category == Category::Security {
        return true;
    }
    choices
        .iter()
        .find(|(c, ch, _)| *c == category && *ch == channel)
        .map_or_else(|| default_enabled(category, channel), |(_, _, on)| *on)
}

pub const LOCALES: [&str; 3] = ["en", "km", "id"];

pub fn valid_locale(locale: &str) -> bool {
    LOCALES.contains(&locale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_messages_ignore_preferences() {
        let off = [(Category::Security, Channel::Email, false)];
        assert!(allowed(Category::Security, Channel::Email, &off));
    }

    #[test]
    fn choices_override_defaults() {
        let choices = [
            (Category::Order, Channel::Email, false),
            (Category::Promotion, Channel::Sms, true),
        ];
        assert!(!allowed(Category::Order, Channel::Email, &choices));
        assert!(allowed(Category::Order, Channel::Push, &choices));
        assert!(allowed(Category::Promotion, Channel::Sms, &choices));
        assert!(!allowed(Category::Promotion, Channel::Sms, &[]));
    }

    #[test]
    fn names_round_trip() {
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()), Some(channel));
        }
        assert_eq!(Category::parse("security"), Some(Category::Security));
        assert_eq!(Category::parse("order"), Some(Category::Order));
        assert_eq!(Category::parse("nope"), None);
        assert!(valid_locale("km") && !valid_locale("fr"));
    }
}
