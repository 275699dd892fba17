//! Who reads the dashboards (the merchant's owner and managers, admins; not its cashier,
//! another merchant, a customer or anyone anonymous), bad periods as 422 `invalid_range`,
//! and CSV exports with their content type and header row.

use std::time::Duration;

use serde_json::json;
use testkit::{eventually, on_both_backends, Backend, TestApp};

use crate::{around_today, currency, dashboard};

on_both_backends!(only_staff_and_admins_read_and_bad_periods_are_refused);

const KINDS: [&str; 4] = ["sales", "products", "vouchers", "payouts"];

async fn only_staff_and_admins_read_and_bad_periods_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let cafe = app.merchant("Kafe Dara").await;
    let manager = app.staff(&cafe, "manager").await;
    let cashier = app.staff(&cafe, "cashier").await;
    let rival = app.merchant("Rival Roasters").await;
    let customer = app.customer("sophea").await;
    let dining = app.category(&admin, "dining", None).await;
    let (_, voucher) = app
        .voucher_offer(&cafe, &admin, dining, "KD-900", 900, 10, json!({}))
        .await;
    app.paid_order(&customer, voucher, 1).await;
    let range = around_today();

    // The owner, a manager and an admin read every dashboard.
    for kind in KINDS {
        let path = format!("/api/v1/merchants/{}/analytics/{kind}?{range}", cafe.id);
        for who in [&cafe.owner, &manager, &admin] {
            dashboard(&app, who, &path).await;
        }
        // Not the cashier, another merchant's owner or a customer; not anonymously.
        for who in [&cashier, &rival.owner, &customer] {
            let denied = app.get(&path, Some(&who.access_token)).await;
            assert_eq!(denied.status, 403, "{kind}: {:?}", denied.body);
        }
        assert_eq!(app.get(&path, None).await.status, 401, "{kind}");
    }
    let summary = format!("/api/v1/admin/analytics/summary?{range}");
    dashboard(&app, &admin, &summary).await;
    for who in [&cafe.owner, &customer] {
        assert_eq!(app.get(&summary, Some(&who.access_token)).await.status, 403);
    }
    assert_eq!(app.get(&summary, None).await.status, 401);

    // Bad periods: 422 with the stable code and the field at fault.
    let sales = format!("/api/v1/merchants/{}/analytics/sales", cafe.id);
    for (query, field) in [
        ("granularity=hour", "granularity"),
        ("from=2026-03-05&to=2026-03-01", "from"),
        ("from=2024-01-01&to=2026-03-01", "to"),
        ("from=yesterday", "from"),
        ("tz=Asia/Nowhere", "tz"),
        ("tz=Asia/Kathmandu", "tz"),
        ("tz=%2B05:30", "tz"),
        ("format=xml", "format"),
        ("limit=0", "limit"),
    ] {
        let path = if field == "limit" {
            format!("/api/v1/merchants/{}/analytics/products?{query}", cafe.id)
        } else {
            format!("{sales}?{query}")
        };
        let bad = app.get(&path, Some(&cafe.owner.access_token)).await;
        assert_eq!(
            (bad.status, bad.code()),
            (422, "invalid_range"),
            "{query}: {:?}",
            bad.body
        );
        assert_eq!(
            bad.body["errors"][0]["field"], field,
            "{query}: {:?}",
            bad.body
        );
        assert!(
            bad.header("content-type")
                .is_some_and(|t| t.starts_with("application/problem+json")),
            "{query}"
        );
    }
    let bad = app
        .get(
            &format!("{summary}&granularity=year"),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (422, "invalid_range"));

    // CSV by `format=csv` and by `Accept: text/csv`: a header row, then one row per day.
    eventually(Duration::from_secs(20), "sale rolled up", || async {
        let s = dashboard(&app, &cafe.owner, &format!("{sales}?{range}")).await;
        (currency(&s, "USD")["gross"] == 900).then_some(())
    })
    .await;
    let by_format = app
        .client
        .get(app.url(&format!("{sales}?{range}&format=csv")))
        .bearer_auth(&cafe.owner.access_token)
        .send()
        .await
        .expect("csv");
    let by_accept = app
        .client
        .get(app.url(&format!("{sales}?{range}")))
        .bearer_auth(&manager.access_token)
        .header("Accept", "text/csv")
        .send()
        .await
        .expect("csv");
    for resp in [by_format, by_accept] {
        assert_eq!(resp.status(), 200);
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(content_type.starts_with("text/csv"), "{content_type}");
        let text = resp.text().await.expect("body");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "period,currency,orders,gross,refunds,net,commission,average_order_value"
        );
        assert_eq!(lines.len(), 4, "{text}");
        assert!(
            lines.iter().any(|l| l.ends_with(",USD,1,900,0,900,90,900")),
            "{text}"
        );
    }
    for kind in ["products", "vouchers", "payouts"] {
        let resp = app
            .client
            .get(app.url(&format!(
                "/api/v1/merchants/{}/analytics/{kind}?{range}&format=csv",
                cafe.id
            )))
            .bearer_auth(&cafe.owner.access_token)
            .send()
            .await
            .expect("csv");
        assert_eq!(resp.status(), 200, "{kind}");
        let text = resp.text().await.expect("body");
        assert!(
            text.lines().next().is_some_and(|h| h.contains("currency")),
            "{kind}: {text}"
        );
    }
    let resp = app
        .client
        .get(app.url(&format!("{summary}&format=csv")))
        .bearer_auth(&admin.access_token)
        .send()
        .await
        .expect("csv");
    let text = resp.text().await.expect("body");
    assert!(text.starts_with("currency,gmv,orders,"), "{text}");
    app.stop().await;
}
