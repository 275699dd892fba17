//! The problem codes analytics answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem analytics answers with.
    pub enum AnalyticsCode {
        InvalidRange => ("invalid_range", UNPROCESSABLE_ENTITY, "The period is not a valid range: `from` after `to`, longer than allowed, or an unknown granularity or time zone."),
    }
}
