//! The public face of analytics: merchant dashboards and the admin summary, kept as rollups of
//! other modules' events.

mod errors;
pub use errors::AnalyticsCode;
