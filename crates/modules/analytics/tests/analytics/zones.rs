//! Days in a named time zone follow its clock changes: New York's 23-hour day of 8 March 2026
//! gets exactly its hours, where a fixed -05:00 would move the first hour of 9 March onto the
//! 8th. Zones the hourly rollups cannot split are refused.

use serde_json::Value;
use testkit::{on_both_backends, Backend, TestApp};
use uuid::Uuid;

use crate::{currency, dashboard};

on_both_backends!(named_zones_follow_daylight_saving);

fn ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .expect("instant")
        .timestamp_millis()
}

async fn named_zones_follow_daylight_saving(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let merchant = Uuid::new_v4();
    // (UTC hour, orders): New York's clocks go from 02:00 EST to 03:00 EDT at 07:00Z on 8 March.
    let hours = [
        ("2026-03-08T04:00:00Z", 2_i64), // 7 March, 23:00 EST
        ("2026-03-08T06:00:00Z", 4),     // 8 March, 01:00 EST
        ("2026-03-08T07:00:00Z", 8),     // 8 March, 03:00 EDT
        ("2026-03-09T03:00:00Z", 16),    // 8 March, 23:00 EDT
        ("2026-03-09T04:00:00Z", 32),    // 9 March, 00:00 EDT
    ];
    for (hour, orders) in hours {
        platform::on_db!(&app.ctx().db, pool => sqlx::query(
            "INSERT INTO analytics_merchant_hours (merchant_id, currency, hour, orders, gross, commission)
             VALUES ($1, 'USD', $2, $3, $3 * 100, 0)"
        ).bind(merchant).bind(ms(hour)).bind(orders).execute(pool).await.map(|r| r.rows_affected()))
        .expect("seeded hour");
    }
    let orders_per_day = |report: &Value| -> Vec<(String, i64)> {
        currency(report, "USD")["points"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|p| {
                (
                    p["period"].as_str().unwrap_or_default().to_owned(),
                    p["orders"].as_i64().unwrap_or_default(),
                )
            })
            .collect()
    };
    let path = |tz: &str| {
        format!(
            "/api/v1/merchants/{merchant}/analytics/sales?from=2026-03-07&to=2026-03-09&tz={tz}"
        )
    };
    let named = dashboard(&app, &admin, &path("America/New_York")).await;
    assert_eq!(named["period"]["tz"], "America/New_York");
    assert_eq!(
        orders_per_day(&named),
        vec![
            ("2026-03-07".to_owned(), 2),
            ("2026-03-08".to_owned(), 4 + 8 + 16),
            ("2026-03-09".to_owned(), 32),
        ],
        "{named}"
    );
    // The same days by ISO week (7 and 8 March are a Saturday and a Sunday) and by month:
    // other answers, not the one kept for days.
    for (granularity, points) in [
        (
            "week",
            vec![("2026-03-02", 2 + 4 + 8 + 16), ("2026-03-09", 32)],
        ),
        ("month", vec![("2026-03-01", 62)]),
    ] {
        let report = dashboard(
            &app,
            &admin,
            &format!("{}&granularity={granularity}", path("America/New_York")),
        )
        .await;
        assert_eq!(report["period"]["granularity"], granularity);
        let expected: Vec<(String, i64)> =
            points.into_iter().map(|(p, n)| (p.to_owned(), n)).collect();
        assert_eq!(orders_per_day(&report), expected, "{report}");
        let csv = app
            .get(
                &format!(
                    "{}&granularity={granularity}&format=csv",
                    path("America/New_York")
                ),
                Some(&admin.access_token),
            )
            .await;
        assert_eq!(csv.status, 200);
    }
    let fixed = dashboard(&app, &admin, &path("-05:00")).await;
    assert_eq!(
        orders_per_day(&fixed),
        vec![
            ("2026-03-07".to_owned(), 2),
            ("2026-03-08".to_owned(), 4 + 8 + 16 + 32),
            ("2026-03-09".to_owned(), 0),
        ],
        "a fixed offset keeps standard time: {fixed}"
    );
    let phnom_penh = dashboard(&app, &admin, &path("Asia/Phnom_Penh")).await;
    assert_eq!(phnom_penh["period"]["tz"], "Asia/Phnom_Penh");
    assert_eq!(currency(&phnom_penh, "USD")["orders"], 2 + 4 + 8 + 16 + 32);

    for (tz, why) in [
        ("Asia/Kolkata", "half an hour from UTC"),
        ("Mars/Olympus", "no such zone"),
    ] {
        let refused = app.get(&path(tz), Some(&admin.access_token)).await;
        assert_eq!(refused.status, 422, "{tz} ({why}): {:?}", refused.body);
        assert_eq!(refused.code(), "invalid_range");
        assert_eq!(
            refused.body["errors"][0]["field"], "tz",
            "{:?}",
            refused.body
        );
    }
}
