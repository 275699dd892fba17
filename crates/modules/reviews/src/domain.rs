//! reviews' rules without I/O: input checks, banned words, what moderation makes of a new or
//! edited review, and how a change moves the aggregates.

use kernel::FieldError;

use crate::api::ReviewStatus;

pub const TITLE_MAX: usize = 120;
pub const TEXT_MAX: usize = 5_000;
pub const REASON_MAX: usize = 500;
pub const RESPONSE_MAX: usize = 2_000;

/// Why a PENDING review is held (kept with it; decides what an edit does).
pub const HELD_BANNED_WORDS: &str = "BANNED_WORDS";
pub const HELD_REPORTS: &str = "REPORTS";
pub const HELD_EDIT: &str = "EDIT";

/// Trims an optional text; empty becomes None. Adds an error when it is longer than `max`.
pub fn optional_text(
    field: &str,
    value: Option<&str>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    if value.chars().count() > max {
        errors.push(FieldError {
            field: field.into(),
            message: format!("must be at most {max} characters"),
        });
    }
    Some(value.to_owned())
}

/// A required text of 1 to `max` characters, trimmed.
pub fn required_text(field: &str, value: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let value = value.trim();
    if value.is_empty() {
        errors.push(FieldError {
            field: field.into(),
            message: "is required".into(),
        });
    } else if value.chars().count() > max {
        errors.push(FieldError {
            field: field.into(),
            message: format!("must be at most {max} characters"),
        });
    }
    value.to_owned()
}

pub fn check_rating(rating: i32, errors: &mut Vec<FieldError>) {
    if !(1..=5).contains(&rating) {
        errors.push(FieldError {
            field: "rating".into(),
            message: "must be 1 to 5".into(),
        });
    }
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether any banned word (or phrase: its words in a row) occurs in `texts` as whole words,
/// whatever the case.
pub fn has_banned_word<'a>(banned: &[String], texts: impl IntoIterator<Item = &'a str>) -> bool {
    let phrases: Vec<Vec<String>> = banned
        .iter()
        .map(|b| words(b))
        .filter(|p| !p.is_empty())
        .collect();
    if phrases.is_empty() {
        return false;
    }
    texts.into_iter().any(|text| {
        let words = words(text);
        phrases
            .iter()
            .any(|phrase| words.windows(phrase.len()).any(|w| w == phrase.as_slice()))
    })
}

/// What moderation makes of a review's new content: (status, why held).
pub fn moderate(
    banned: bool,
    current: Option<(ReviewStatus, Option<&str>)>,
) -> (ReviewStatus, Option<&'static str>) {
    if banned {
        return (ReviewStatus::Pending, Some(HELD_BANNED_WORDS));
    }
    match current {
        // New, approved, or held only for words the edit removed: public.
        None | Some((ReviewStatus::Approved, _)) => (ReviewStatus::Approved, None),
        Some((ReviewStatus::Pending, Some(HELD_BANNED_WORDS))) => (ReviewStatus::Approved, None),
        // Held by reports or by an admin's decision: an admin looks at the new text.
        Some((ReviewStatus::Pending, Some(held))) if held == HELD_REPORTS => {
            (ReviewStatus::Pending, Some(HELD_REPORTS))
        }
        Some(_) => (ReviewStatus::Pending, Some(HELD_EDIT)),
    }
}

/// The rating a review adds to its aggregates: its rating when APPROVED and not deleted.
pub fn counted(status: ReviewStatus, deleted: bool, rating: i32) -> Option<i32> {
    (status == ReviewStatus::Approved && !deleted).then_some(rating)
}

/// "Dara K." from a first and last name.
pub fn display_name(first: &str, last: &str) -> Option<String> {
    let first = first.trim();
    let initial = last.trim().chars().next();
    match (first.is_empty(), initial) {
        (true, None) => None,
        (true, Some(i)) => Some(format!("{i}.")),
        (false, None) => Some(first.to_owned()),
        (false, Some(i)) => Some(format!("{first} {}.", i.to_uppercase())),
    }
}

/// A change of an aggregate: count, sum of stars, and stars 1-5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Delta {
    pub count: i64,
    pub sum: i64,
    pub histogram: [i64; 5],
}

/// How a review going from `before` to `after` (counted ratings) moves its aggregates; None
/// when it does not.
pub fn delta(before: Option<i32>, after: Option<i32>) -> Option<Delta> {
    if before == after {
        return None;
    }
    let mut d = Delta::default();
    for (rating, sign) in [(before, -1), (after, 1)] {
        if let Some(r) = rating {
            d.count += sign;
            d.sum += sign * i64::from(r);
            if let Some(slot) = usize::try_from(r - 1)
                .ok()
                .and_then(|i| d.histogram.get_mut(i))
            {
                *slot += sign;
            }
        }
    }
    Some(d)
}

pub fn average(count: i64, sum: i64) -> Option<f64> {
    (count > 0).then(|| sum as f64 / count as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banned_words_match_whole_words_in_any_case() {
        let banned = vec!["scam".to_owned(), "Rip Off".to_owned()];
        assert!(has_banned_word(&banned, ["What a SCAM!"]));
        assert!(has_banned_word(&banned, ["fine", "a total rip-off"]));
        assert!(!has_banned_word(&banned, ["scampi was great"]));
        assert!(!has_banned_word(&banned, ["rip the off switch"]));
        assert!(!has_banned_word(&[], ["scam"]));
    }

    #[test]
    fn edits_rerun_moderation_without_undoing_an_admin() {
        use ReviewStatus::*;
        assert_eq!(moderate(false, None), (Approved, None));
        assert_eq!(moderate(true, None), (Pending, Some(HELD_BANNED_WORDS)));
        assert_eq!(moderate(false, Some((Approved, None))), (Approved, None));
        assert_eq!(
            moderate(false, Some((Pending, Some(HELD_BANNED_WORDS)))),
            (Approved, None)
        );
        assert_eq!(
            moderate(false, Some((Pending, Some(HELD_REPORTS)))),
            (Pending, Some(HELD_REPORTS))
        );
        assert_eq!(
            moderate(false, Some((Rejected, None))),
            (Pending, Some(HELD_EDIT))
        );
    }

    #[test]
    fn deltas_move_count_sum_and_histogram() {
        assert_eq!(delta(None, None), None);
        assert_eq!(delta(Some(4), Some(4)), None);
        assert_eq!(
            delta(None, Some(5)),
            Some(Delta {
                count: 1,
                sum: 5,
                histogram: [0, 0, 0, 0, 1]
            })
        );
        assert_eq!(
            delta(Some(2), Some(5)),
            Some(Delta {
                count: 0,
                sum: 3,
                histogram: [0, -1, 0, 0, 1]
            })
        );
        assert_eq!(
            delta(Some(1), None),
            Some(Delta {
                count: -1,
                sum: -1,
                histogram: [-1, 0, 0, 0, 0]
            })
        );
        assert_eq!(average(0, 0), None);
        assert_eq!(average(4, 14), Some(3.5));
    }

    #[test]
    fn display_names_keep_an_initial() {
        assert_eq!(display_name("Dara", "kim").as_deref(), Some("Dara K."));
        assert_eq!(display_name("Dara", "").as_deref(), Some("Dara"));
        assert_eq!(display_name(" ", " "), None);
    }
}
