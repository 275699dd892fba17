//! Pure rules of chat: what a message may hold, how a topic is keyed, and the per-connection
//! frame budget.

use std::time::{Duration, Instant};

use chat_contract::{Topic, TopicKind};
use uuid::Uuid;

/// Why a message is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageProblem {
    Empty,
    TooLong,
}

/// The text of a message, trimmed; None when there is none. Needs text or an image.
pub fn message_text(
    text: Option<&str>,
    has_media: bool,
    max_chars: usize,
) -> Result<Option<String>, MessageProblem> {
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    match text {
        None if !has_media => Err(MessageProblem::Empty),
        Some(t) if t.chars().count() > max_chars => Err(MessageProblem::TooLong),
        other => Ok(other.map(str::to_owned)),
    }
}

/// A client's id for a message: 1 to 64 printable ASCII characters.
pub fn valid_client_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// The stored key of a topic: `''`, `PRODUCT:<id>` or `ORDER:<id>`.
pub fn topic_key(topic: Option<Topic>) -> String {
    topic.map_or_else(String::new, |t| format!("{}:{}", t.kind.as_str(), t.id))
}

pub fn topic_of(key: &str) -> Option<Topic> {
    let (kind, id) = key.split_once(':')?;
    Some(Topic {
        kind: TopicKind::parse(kind)?,
        id: Uuid::parse_str(id).ok()?,
    })
}

/// The start of a text for previews in notifications.
pub fn preview(text: Option<&str>, max_chars: usize) -> String {
    let text = text.unwrap_or_default();
    let mut preview: String = text.chars().take(max_chars).collect();
    if text.chars().count() > max_chars {
        preview.push('…');
    }
    preview
}

/// A token bucket: `per_second` frames a second on average, `burst` at once.
#[derive(Debug)]
pub struct FrameBudget {
    tokens: f64,
    per_second: f64,
    burst: f64,
    last: Instant,
}

impl FrameBudget {
    pub fn new(per_second: u32, burst: u32) -> Self {
        Self {
            tokens: f64::from(burst),
            per_second: f64::from(per_second),
            burst: f64::from(burst),
            last: Instant::now(),
        }
    }

    /// Spends one frame at `now`; false when the budget is empty.
    pub fn spend(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last);
        self.last = now;
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.per_second).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// How long until a token expiring at `expires_at` (epoch seconds) runs out, from `now_secs`.
pub fn until_expiry(expires_at: i64, now_secs: i64) -> Duration {
    Duration::from_secs(u64::try_from(expires_at - now_secs).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_need_text_or_an_image_within_the_limit() {
        assert_eq!(
            message_text(Some("  hi "), false, 10),
            Ok(Some("hi".into()))
        );
        assert_eq!(
            message_text(Some("   "), false, 10),
            Err(MessageProblem::Empty)
        );
        assert_eq!(message_text(None, true, 10), Ok(None));
        assert_eq!(
            message_text(Some("ក".repeat(11).as_str()), false, 10),
            Err(MessageProblem::TooLong)
        );
        assert_eq!(
            message_text(Some("ក".repeat(10).as_str()), false, 10)
                .map(|t| t.map(|t| t.chars().count())),
            Ok(Some(10))
        );
    }

    #[test]
    fn client_ids_are_short_printable_ascii() {
        assert!(valid_client_id("m-1"));
        assert!(!valid_client_id(""));
        assert!(!valid_client_id("has space"));
        assert!(!valid_client_id(&"x".repeat(65)));
    }

    #[test]
    fn topics_round_trip() {
        let topic = Topic {
            kind: TopicKind::Order,
            id: Uuid::from_u128(7),
        };
        assert_eq!(topic_of(&topic_key(Some(topic))), Some(topic));
        assert_eq!(topic_key(None), "");
        assert_eq!(topic_of(""), None);
        assert_eq!(topic_of("SHIP:00000000-0000-0000-0000-000000000007"), None);
    }

    #[test]
    fn previews_are_cut_on_characters() {
        assert_eq!(preview(Some("សួស្តី"), 3), "សួស…");
        assert_eq!(preview(Some("ok"), 3), "ok");
        assert_eq!(preview(None, 3), "");
    }

    #[test]
    fn the_budget_refills_at_its_rate_up_to_the_burst() {
        let start = Instant::now();
        let mut budget = FrameBudget::new(2, 3);
        budget.last = start;
        assert!((0..3).all(|_| budget.spend(start)));
        assert!(!budget.spend(start));
        assert!(budget.spend(start + Duration::from_millis(500)));
        assert!(!budget.spend(start + Duration::from_millis(500)));
        let later = start + Duration::from_secs(60);
        assert_eq!((0..5).filter(|_| budget.spend(later)).count(), 3);
    }
}
