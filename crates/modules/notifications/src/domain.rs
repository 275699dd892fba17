//! Pure rules of notifications: categories, channels, and whether a user receives a message.

use kernel::{FieldError, Timestamp};
use notifications_contract::{Audience, ScheduleMessage};
use uuid::Uuid;

pub use notifications_contract::{Category, Channel};

pub const MAX_SCHEDULED_USERS: usize = 1_000;
const TITLE_MAX: usize = 200;
const BODY_MAX: usize = 4_000;
const YEAR_MILLIS: i64 = 366 * 24 * 3600 * 1000;

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

/// Checks a message to schedule; returns its recipients without repeats (empty for
/// EVERYONE) or the first field at fault.
pub fn check_schedule(
    input: &ScheduleMessage,
    now: Timestamp,
) -> Result<Vec<Uuid>, (&'static str, String)> {
    if input.category == Category::Security {
        return Err(("category", "security messages cannot be scheduled".into()));
    }
    let mut users = input.user_ids.clone();
    users.sort_unstable();
    users.dedup();
    match input.audience {
        Audience::Users if users.is_empty() || users.len() > MAX_SCHEDULED_USERS => {
            return Err((
                "userIds",
                format!("must list 1 to {MAX_SCHEDULED_USERS} users"),
            ))
        }
        Audience::Everyone if !users.is_empty() => {
            return Err((
                "userIds",
                "must be empty when the audience is EVERYONE".into(),
            ))
        }
        _ => {}
    }
    let mut errors: Vec<FieldError> = Vec::new();
    input.title.check("title", true, TITLE_MAX, &mut errors);
    input.body.check("body", true, BODY_MAX, &mut errors);
    if let Some(first) = errors.into_iter().next() {
        let field = if first.field.starts_with("title") {
            "title"
        } else {
            "body"
        };
        return Err((field, format!("{}: {}", first.field, first.message)));
    }
    let ahead = input.send_at.millis() - now.millis();
    if ahead <= 0 || ahead > YEAR_MILLIS {
        return Err((
            "sendAt",
            "must be in the future, at most a year ahead".into(),
        ));
    }
    Ok(users)
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

    fn schedule(audience: Audience, users: Vec<Uuid>, ahead_ms: i64) -> ScheduleMessage {
        ScheduleMessage {
            category: Category::Promotion,
            audience,
            user_ids: users,
            title: kernel::LocalizedText {
                en: "Sale".into(),
                km: None,
                id: None,
            },
            body: kernel::LocalizedText {
                en: "Half price".into(),
                km: None,
                id: None,
            },
            send_at: Timestamp::from_millis(1_000_000 + ahead_ms),
        }
    }

    #[test]
    fn schedules_are_checked() {
        let now = Timestamp::from_millis(1_000_000);
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        let users = check_schedule(&schedule(Audience::Users, vec![b, a, b], 60_000), now);
        assert_eq!(users, Ok(vec![a, b]));
        let field = |input: ScheduleMessage| check_schedule(&input, now).unwrap_err().0;
        assert_eq!(field(schedule(Audience::Users, vec![], 60_000)), "userIds");
        assert_eq!(
            field(schedule(Audience::Everyone, vec![a], 60_000)),
            "userIds"
        );
        assert_eq!(field(schedule(Audience::Users, vec![a], 0)), "sendAt");
        assert_eq!(
            field(schedule(Audience::Users, vec![a], YEAR_MILLIS + 1)),
            "sendAt"
        );
        let mut security = schedule(Audience::Everyone, vec![], 60_000);
        security.category = Category::Security;
        assert_eq!(field(security), "category");
        let mut blank = schedule(Audience::Everyone, vec![], 60_000);
        blank.body.en = " ".into();
        assert_eq!(field(blank), "body");
        let too_many = (0..=MAX_SCHEDULED_USERS as u128)
            .map(Uuid::from_u128)
            .collect();
        assert_eq!(
            field(schedule(Audience::Users, too_many, 60_000)),
            "userIds"
        );
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
