//! analytics through the real app, on SQLite and PostgreSQL: a seeded marketplace whose
//! dashboards reconcile with orders and the ledger (`story`), and who may read them, bad
//! periods and CSV (`access`), days in named time zones (`zones`).

mod access;
mod story;
mod zones;

use chrono::{Duration, Utc};
use serde_json::Value;
use testkit::{Session, TestApp};

/// `?from=..&to=..` around today (UTC), so an event at midnight is still inside.
pub fn around_today() -> String {
    let today = Utc::now().date_naive();
    format!(
        "from={}&to={}",
        today - Duration::days(1),
        today + Duration::days(1)
    )
}

/// A dashboard read that must succeed.
pub async fn dashboard(app: &TestApp, who: &Session, path: &str) -> Value {
    let resp = app.get(path, Some(&who.access_token)).await;
    assert_eq!(resp.status, 200, "{path}: {:?}", resp.body);
    resp.body
}

/// The entry of `currency` in a report's `currencies`.
pub fn currency<'a>(report: &'a Value, currency: &str) -> &'a Value {
    report["currencies"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["currency"] == currency))
        .unwrap_or(&Value::Null)
}
