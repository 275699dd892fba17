//! Pure rules of analytics: reading a period (days, time zone, granularity), the UTC hours it
//! spans, and which day, ISO week or month a local day falls in. No I/O.

mod zone;

use chrono::{Datelike, Duration, NaiveDate};
use kernel::FieldError;

pub use zone::{epoch_day, Span, Zone};

pub const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// The longest period a dashboard covers, in days (a leap year and a little).
pub const MAX_DAYS: i64 = 400;
pub const DEFAULT_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Granularity {
    Day,
    Week,
    Month,
}

impl Granularity {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "day" => Some(Self::Day),
            "week" => Some(Self::Week),
            "month" => Some(Self::Month),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }

    /// The first day of the period `day` falls in.
    pub fn start_of(self, day: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => day,
            Self::Week => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
            Self::Month => day.with_day(1).unwrap_or(day),
        }
    }

    /// The first day of the period after the one starting on `start`.
    fn next(self, start: NaiveDate) -> Option<NaiveDate> {
        match self {
            Self::Day => start.succ_opt(),
            Self::Week => start.checked_add_signed(Duration::days(7)),
            Self::Month => {
                let (y, m) = if start.month() == 12 {
                    (start.year() + 1, 1)
                } else {
                    (start.year(), start.month() + 1)
                };
                NaiveDate::from_ymd_opt(y, m, 1)
            }
        }
    }
}

/// A period resolved: local days `[from, to]` in a time zone, as UTC milliseconds
/// `[start_ms, end_ms)` on whole hours, cut where the zone's offset changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub zone: Zone,
    pub granularity: Granularity,
    pub start_ms: i64,
    pub end_ms: i64,
    pub spans: Vec<Span>,
}

fn parse_day(raw: &str, field: &str, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    // Years far from now would overflow the date arithmetic of periods.
    match NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
        Ok(day) if (2000..=2100).contains(&day.year()) => Some(day),
        _ => {
            errors.push(FieldError {
                field: field.into(),
                message: "must be a date YYYY-MM-DD between 2000 and 2100".into(),
            });
            None
        }
    }
}

/// The start of the UTC hour of `ms`.
pub fn hour_of(ms: i64) -> i64 {
    ms.div_euclid(HOUR_MS) * HOUR_MS
}

/// Resolves a dashboard's query against `now_ms`: every problem is a field error.
pub fn period(
    granularity: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    tz: Option<&str>,
    now_ms: i64,
) -> Result<Period, Vec<FieldError>> {
    let mut errors = Vec::new();
    let granularity = match granularity.map(str::trim).filter(|g| !g.is_empty()) {
        None => Some(Granularity::Day),
        Some(raw) => Granularity::parse(raw).or_else(|| {
            errors.push(FieldError {
                field: "granularity".into(),
                message: "must be day, week or month".into(),
            });
            None
        }),
    };
    let zone = match tz.map(str::trim).filter(|t| !t.is_empty()) {
        None => Some(Zone::Fixed(0)),
        Some(raw) => match Zone::parse(raw) {
            Ok(zone) => Some(zone),
            Err(message) => {
                errors.push(FieldError {
                    field: "tz".into(),
                    message: message.into(),
                });
                None
            }
        },
    };
    let from = from.and_then(|raw| parse_day(raw, "from", &mut errors));
    let to = to.and_then(|raw| parse_day(raw, "to", &mut errors));
    let (Some(granularity), Some(zone)) = (granularity, zone) else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let to = to.unwrap_or_else(|| zone.day_of(now_ms));
    let from = from.unwrap_or_else(|| to - Duration::days(DEFAULT_DAYS - 1));
    if from > to {
        return Err(vec![FieldError {
            field: "from".into(),
            message: "must not be after to".into(),
        }]);
    }
    if (to - from).num_days() + 1 > MAX_DAYS {
        return Err(vec![FieldError {
            field: "to".into(),
            message: format!("a period covers at most {MAX_DAYS} days"),
        }]);
    }
    let end_day = to.succ_opt().unwrap_or(to);
    let (start_ms, end_ms) = (zone.midnight_ms(from), zone.midnight_ms(end_day));
    let spans = zone.spans(start_ms, end_ms).map_err(|message| {
        vec![FieldError {
            field: "tz".into(),
            message,
        }]
    })?;
    Ok(Period {
        from,
        to,
        zone,
        granularity,
        start_ms,
        end_ms,
        spans,
    })
}

impl Period {
    /// The first day of the period a local day falls in.
    pub fn bucket_of(&self, day: NaiveDate) -> NaiveDate {
        self.granularity.start_of(day)
    }

    /// Every period's first day, in order (the first one may start before `from`).
    pub fn buckets(&self) -> Vec<NaiveDate> {
        let mut out = Vec::new();
        let mut at = Some(self.granularity.start_of(self.from));
        while let Some(day) = at.filter(|d| *d <= self.to) {
            out.push(day);
            at = self.granularity.next(day);
        }
        out
    }
}

/// `total / count`, rounded down, 0 without a count.
pub fn average(total: i64, count: i64) -> i64 {
    if count > 0 {
        total / count
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn dates_far_from_now_are_refused_not_overflowed() {
        let mut errors = Vec::new();
        assert_eq!(parse_day("-262144-01-01", "to", &mut errors), None);
        assert_eq!(parse_day("9999-12-31", "from", &mut errors), None);
        assert_eq!(
            parse_day("2026-03-01", "from", &mut errors),
            Some(day("2026-03-01"))
        );
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].field, "to");
    }

    #[test]
    fn a_late_utc_hour_is_the_next_local_day_east_of_utc() {
        // 2026-03-01T23:30Z is 2026-03-02 06:30 at +07:00.
        let at = Zone::Fixed(0).midnight_ms(day("2026-03-01")) + 23 * HOUR_MS + 30 * 60_000;
        assert_eq!(Zone::Fixed(0).day_of(at), day("2026-03-01"));
        assert_eq!(Zone::Fixed(7 * 3600).day_of(at), day("2026-03-02"));
        assert_eq!(Zone::Fixed(-5 * 3600).day_of(at), day("2026-03-01"));
        let p = period(
            None,
            Some("2026-03-02"),
            Some("2026-03-02"),
            Some("+07:00"),
            0,
        )
        .expect("period");
        assert!(p.start_ms <= hour_of(at) && hour_of(at) < p.end_ms);
        assert_eq!(p.end_ms - p.start_ms, DAY_MS);
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let p = period(
            Some("week"),
            Some("2026-03-04"),
            Some("2026-03-20"),
            None,
            0,
        )
        .expect("p");
        assert_eq!(
            p.buckets(),
            vec![day("2026-03-02"), day("2026-03-09"), day("2026-03-16")]
        );
        let m = period(
            Some("month"),
            Some("2025-12-15"),
            Some("2026-02-01"),
            None,
            0,
        )
        .expect("m");
        assert_eq!(
            m.buckets(),
            vec![day("2025-12-01"), day("2026-01-01"), day("2026-02-01")]
        );
        assert_eq!(m.bucket_of(day("2026-01-31")), day("2026-01-01"));
    }

    #[test]
    fn bad_periods_are_field_errors() {
        assert!(period(Some("hour"), None, None, None, 0).is_err());
        assert!(period(None, Some("2026-03-05"), Some("2026-03-01"), None, 0).is_err());
        assert!(period(None, Some("2025-01-01"), Some("2026-03-01"), None, 0).is_err());
        assert!(period(None, Some("yesterday"), None, None, 0).is_err());
        let year = period(None, Some("2025-03-02"), Some("2026-03-01"), None, 0).expect("year");
        assert_eq!(year.buckets().len(), 365);
    }
}
