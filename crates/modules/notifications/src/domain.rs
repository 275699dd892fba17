//! Pure rules of notifications: categories, channels, and whether a user receives a message.

pub use notifications_contract::{Category, Channel};

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
