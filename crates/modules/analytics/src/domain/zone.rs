//! Time zones of dashboards: a fixed offset or an IANA zone, and the stretches of a period in
//! which its offset does not change (one for a fixed offset or a zone without daylight saving,
//! more where a clock change falls in the period). The rollups are hourly, so every stretch's
//! offset must be a whole number of hours.

use chrono::{Datelike, LocalResult, NaiveDate, Offset, TimeZone};
use chrono_tz::Tz;

use super::{DAY_MS, HOUR_MS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// Seconds east of UTC.
    Fixed(i64),
    Named(Tz),
}

/// A stretch `[start_ms, end_ms)` of a period at one offset (seconds east of UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start_ms: i64,
    pub end_ms: i64,
    pub offset_secs: i64,
}

const EXPECTED: &str =
    "must be UTC, an offset such as +07:00, or an IANA zone such as Asia/Phnom_Penh";

impl Zone {
    /// Reads `UTC`, `Z`, `+07:00`, `-05:00`, `+07`, `+0700` (whole hours within ±14), or an
    /// IANA name.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("utc") || raw == "Z" || raw.eq_ignore_ascii_case("gmt") {
            return Ok(Self::Fixed(0));
        }
        let (sign, rest) = match raw.as_bytes().first() {
            Some(b'+') => (1, &raw[1..]),
            Some(b'-') => (-1, &raw[1..]),
            _ => return raw.parse::<Tz>().map(Self::Named).map_err(|_| EXPECTED),
        };
        let digits: String = rest.chars().filter(|c| *c != ':').collect();
        if !(digits.len() == 2 || digits.len() == 4) || !digits.chars().all(|c| c.is_ascii_digit())
        {
            return Err(EXPECTED);
        }
        let hours: i64 = digits[..2].parse().map_err(|_| EXPECTED)?;
        let minutes: i64 = match digits.get(2..) {
            Some(m) if !m.is_empty() => m.parse().map_err(|_| EXPECTED)?,
            _ => 0,
        };
        if minutes != 0 {
            return Err("only whole-hour offsets are supported (the rollups are hourly)");
        }
        if hours > 14 {
            return Err("must be within ±14:00");
        }
        Ok(Self::Fixed(sign * hours * 3600))
    }

    /// How the zone is written back: its IANA name, or the offset as `+07:00`.
    pub fn label(&self) -> String {
        match self {
            Self::Fixed(secs) => format_offset(*secs),
            Self::Named(tz) => tz.name().to_owned(),
        }
    }

    /// The offset in force at an instant (UTC milliseconds).
    pub fn offset_at(&self, ms: i64) -> i64 {
        match self {
            Self::Fixed(secs) => *secs,
            Self::Named(tz) => match tz.timestamp_millis_opt(ms) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                    i64::from(t.offset().fix().local_minus_utc())
                }
                LocalResult::None => 0,
            },
        }
    }

    /// The local day of an instant.
    pub fn day_of(&self, ms: i64) -> NaiveDate {
        epoch_day((ms + self.offset_at(ms) * 1000).div_euclid(DAY_MS))
    }

    /// The instant `day` starts (UTC milliseconds). Where a clock change skips midnight, the
    /// day starts at the first local time that exists.
    pub fn midnight_ms(&self, day: NaiveDate) -> i64 {
        match self {
            Self::Fixed(secs) => days_since_epoch(day) * DAY_MS - secs * 1000,
            Self::Named(tz) => (0..24)
                .find_map(
                    |hour| match tz.from_local_datetime(&day.and_hms_opt(hour, 0, 0)?) {
                        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                            Some(t.timestamp_millis())
                        }
                        LocalResult::None => None,
                    },
                )
                .unwrap_or_else(|| days_since_epoch(day) * DAY_MS),
        }
    }

    /// `[start_ms, end_ms)` cut where the offset changes, or why the rollups cannot answer in
    /// this zone.
    pub fn spans(&self, start_ms: i64, end_ms: i64) -> Result<Vec<Span>, String> {
        let mut spans = Vec::new();
        let mut start = start_ms;
        let mut offset = self.offset_at(start);
        // Clock changes are days apart: look once a day, then find the hour it happened.
        let mut probe = start;
        while probe < end_ms {
            let next = (probe + DAY_MS).min(end_ms - HOUR_MS);
            if next <= probe {
                break;
            }
            if self.offset_at(next) != offset {
                let (mut before, mut after) = (probe, next);
                while after - before > HOUR_MS {
                    let mid = before + ((after - before) / 2).div_euclid(HOUR_MS) * HOUR_MS;
                    let mid = if mid == before { before + HOUR_MS } else { mid };
                    if self.offset_at(mid) == offset {
                        before = mid;
                    } else {
                        after = mid;
                    }
                }
                spans.push(Span {
                    start_ms: start,
                    end_ms: after,
                    offset_secs: offset,
                });
                start = after;
                offset = self.offset_at(after);
            }
            probe = next;
        }
        spans.push(Span {
            start_ms: start,
            end_ms,
            offset_secs: offset,
        });
        if spans
            .iter()
            .any(|s| s.offset_secs % 3600 != 0 || s.start_ms % HOUR_MS != 0)
        {
            return Err(format!(
                "{} is not a whole number of hours from UTC in this period (the rollups are hourly)",
                self.label()
            ));
        }
        Ok(spans)
    }
}

pub fn format_offset(offset_secs: i64) -> String {
    let sign = if offset_secs < 0 { '-' } else { '+' };
    let abs = offset_secs.abs();
    format!("{sign}{:02}:{:02}", abs / 3600, (abs % 3600) / 60)
}

pub fn days_since_epoch(day: NaiveDate) -> i64 {
    i64::from(day.num_days_from_ce()) - 719_163 // 1970-01-01
}

/// The date `days` after 1970-01-01.
pub fn epoch_day(days: i64) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(days + 719_163).unwrap_or(i32::MAX))
        .unwrap_or(NaiveDate::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn ms(rfc3339: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(rfc3339)
            .expect("instant")
            .timestamp_millis()
    }

    #[test]
    fn offsets_and_names_are_read() {
        assert_eq!(Zone::parse("+07:00"), Ok(Zone::Fixed(7 * 3600)));
        assert_eq!(Zone::parse("-05"), Ok(Zone::Fixed(-5 * 3600)));
        assert_eq!(Zone::parse("+0900"), Ok(Zone::Fixed(9 * 3600)));
        assert_eq!(Zone::parse("UTC"), Ok(Zone::Fixed(0)));
        assert!(Zone::parse("+05:30").is_err());
        assert!(Zone::parse("+15:00").is_err());
        assert!(Zone::parse("Mars/Olympus").is_err());
        assert_eq!(
            Zone::parse("Asia/Phnom_Penh").map(|z| z.label()),
            Ok("Asia/Phnom_Penh".to_owned())
        );
        assert_eq!(format_offset(-5 * 3600), "-05:00");
    }

    #[test]
    fn a_zone_without_clock_changes_is_one_span() {
        let zone = Zone::parse("Asia/Jakarta").expect("zone");
        let start = zone.midnight_ms(day("2026-01-01"));
        assert_eq!(start, ms("2025-12-31T17:00:00Z"));
        let end = zone.midnight_ms(day("2027-01-01"));
        assert_eq!(
            zone.spans(start, end),
            Ok(vec![Span {
                start_ms: start,
                end_ms: end,
                offset_secs: 7 * 3600
            }])
        );
    }

    #[test]
    fn clock_changes_cut_the_period_at_the_hour_they_happen() {
        let zone = Zone::parse("America/New_York").expect("zone");
        let start = zone.midnight_ms(day("2026-03-01"));
        let end = zone.midnight_ms(day("2026-12-01"));
        let spans = zone.spans(start, end).expect("spans");
        // Summer time from 2026-03-08 02:00 EST (07:00Z) to 2026-11-01 02:00 EDT (06:00Z).
        assert_eq!(
            spans,
            vec![
                Span {
                    start_ms: start,
                    end_ms: ms("2026-03-08T07:00:00Z"),
                    offset_secs: -5 * 3600
                },
                Span {
                    start_ms: ms("2026-03-08T07:00:00Z"),
                    end_ms: ms("2026-11-01T06:00:00Z"),
                    offset_secs: -4 * 3600
                },
                Span {
                    start_ms: ms("2026-11-01T06:00:00Z"),
                    end_ms: end,
                    offset_secs: -5 * 3600
                },
            ]
        );
        // 00:30 on 9 March in New York is 04:30Z: a fixed -05:00 would call it the 8th.
        assert_eq!(zone.day_of(ms("2026-03-09T04:30:00Z")), day("2026-03-09"));
        assert_eq!(
            zone.midnight_ms(day("2026-03-09")) - zone.midnight_ms(day("2026-03-08")),
            23 * HOUR_MS
        );
    }

    #[test]
    fn half_hour_zones_are_refused() {
        let zone = Zone::parse("Asia/Kolkata").expect("zone");
        let start = zone.midnight_ms(day("2026-01-01"));
        assert!(zone.spans(start, start + DAY_MS).is_err());
    }
}
