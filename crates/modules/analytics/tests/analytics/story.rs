//! A marketplace in two currencies: a café sells gift vouchers in USD (one redeemed in part,
//! one returned for a refund) and a rice cooker in KHR (delivered), a second shop sells in USD;
//! payouts run. The dashboards reconcile with the orders API and the ledger: orders, gross,
//! refunds and commission per currency, earned commission = `platform_revenue`, payouts = the
//! ledger's paid payouts; the same facts published again count nothing twice. Then an order
//! moved to 23:00 UTC lands on the next local day at +07:00.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};
use testkit::{eventually, on_both_backends, uuid_of, Backend, TestApp, OUTLET_LOCATION};
use uuid::Uuid;

use crate::{around_today, currency, dashboard};
use kernel::DomainEvent;
use orders_contract::{OrderPaid, OrderRefunded};
use vouchers_contract::{FraudCaseClosed, FraudCaseOpened};

/// Publishes `event` as orders would and waits until analytics has applied it.
async fn publish_applied<E: DomainEvent>(app: &TestApp, event: E) {
    let ctx = app.ctx();
    let mut tx = ctx.db.begin().await.expect("tx");
    let envelope = platform::bus::publish(&mut tx, "orders", &event)
        .await
        .expect("publish");
    ctx.commit(tx).await.expect("commit");
    eventually(Duration::from_secs(10), "event applied", || async {
        let seen: i64 = platform::on_db!(&ctx.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM platform_inbox WHERE consumer = 'analytics' AND event_id = $1"
        ).bind(envelope.id).fetch_one(pool).await)
        .expect("inbox");
        (seen == 1).then_some(())
    })
    .await;
}

on_both_backends!(dashboards_reconcile_with_orders_and_the_ledger);

/// Per currency, (orders, gross, refunded, commission) of a merchant's paid orders, from the
/// orders API.
async fn orders_of(
    app: &TestApp,
    owner: &testkit::Session,
    merchant: Uuid,
) -> BTreeMap<String, (i64, i64, i64, i64)> {
    let resp = app
        .get(
            &format!("/api/v1/orders?merchantId={merchant}&limit=100"),
            Some(&owner.access_token),
        )
        .await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    let mut out: BTreeMap<String, (i64, i64, i64, i64)> = BTreeMap::new();
    for order in resp.body["items"].as_array().cloned().unwrap_or_default() {
        let status = order["status"].as_str().unwrap_or_default();
        if matches!(status, "PENDING_PAYMENT" | "EXPIRED") {
            continue;
        }
        let entry = out
            .entry(order["currency"].as_str().unwrap_or_default().to_owned())
            .or_default();
        entry.0 += 1;
        entry.1 += order["total"].as_i64().unwrap_or_default();
        entry.2 += order["refunded"].as_i64().unwrap_or_default();
        entry.3 += order["commission"].as_i64().unwrap_or_default();
    }
    out
}

async fn dashboards_reconcile_with_orders_and_the_ledger(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let cafe = app.merchant("Kafe Dara").await;
    let manager = app.staff(&cafe, "manager").await;
    let cashier = app.staff(&cafe, "cashier").await;
    let outlet = app.outlet(&cafe, "Riverside", OUTLET_LOCATION).await;
    let shop = app.merchant("Psar Thmei Goods").await;
    let dining = app.category(&admin, "dining", None).await;
    let home = app.category(&admin, "home", None).await;
    let (_, voucher) = app
        .voucher_offer(&cafe, &admin, dining, "KD-1250", 1_250, 50, json!({}))
        .await;
    let (cooker_product, cooker) = app
        .draft_product_in(&cafe, home, "Rice cooker", "COOK-KHR", 40_000, "KHR")
        .await;
    app.activate_product(&cafe, &admin, cooker_product).await;
    app.set_stock(&cafe, "COOK-KHR", 10).await;
    let (_, basket) = app
        .listed_product(&shop, &admin, home, "Basket", "BASKET", 2_000, 10)
        .await;

    // Sales: two vouchers (USD), two cookers (KHR) at the café; three baskets (USD) elsewhere.
    let sophea = app.customer("sophea").await;
    let dara = app.customer("dara").await;
    let voucher_order = app.paid_order(&sophea, voucher, 2).await;
    let cooker_order = app.paid_order(&dara, cooker, 2).await;
    app.paid_order(&dara, basket, 3).await;

    // One voucher redeemed in part, the other returned for a refund.
    let wallet = app.wallet_with(&sophea, "ACTIVE", 2).await;
    let (first, second) = (uuid_of(&wallet[0]["id"]), uuid_of(&wallet[1]["id"]));
    let token = app.qr_token(&sophea, first, false).await;
    let redeemed = app
        .redeem(
            &cashier,
            outlet,
            "till-1",
            json!({"token": token, "amount": 500}),
            None,
        )
        .await;
    assert_eq!(redeemed.body["status"], "APPROVED", "{:?}", redeemed.body);
    let refund = app
        .post(
            &format!("/api/v1/wallet/{second}/refund"),
            json!({}),
            Some(&sophea.access_token),
        )
        .await;
    assert_eq!(refund.status, 200, "{:?}", refund.body);
    let voucher_order_id = uuid_of(&voucher_order["id"]);
    eventually(Duration::from_secs(20), "refund on the order", || async {
        let resp = app
            .get(
                &format!("/api/v1/orders/{voucher_order_id}"),
                Some(&sophea.access_token),
            )
            .await;
        (resp.body["refunded"] == 1_250).then_some(())
    })
    .await;

    // The cookers are delivered: their commission is earned.
    let cooker_id = uuid_of(&cooker_order["id"]);
    for to in ["PROCESSING", "SHIPPED", "DELIVERED"] {
        let moved = app
            .patch(
                &format!("/api/v1/orders/{cooker_id}/status"),
                json!({"status": to}),
                Some(&cafe.owner.access_token),
            )
            .await;
        assert_eq!(moved.status, 200, "{to}: {:?}", moved.body);
    }
    app.account_reaches(&admin, "KHR", "platform_revenue", 8_000)
        .await;

    // Payouts: the café has a bank account and is paid; the shop has none and its payout fails.
    let account = app
        .put(
            &format!("/api/v1/merchants/{}/bank-account", cafe.id),
            json!({"bankName": "ABA Bank", "accountName": "Kafe Dara", "accountNumber": "000123456"}),
            Some(&cafe.owner.access_token),
        )
        .await;
    assert_eq!(account.status, 200, "{:?}", account.body);
    let run = app
        .post(
            "/api/v1/admin/payouts/run",
            json!({"period": "2026-W10"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(run.status, 201, "{:?}", run.body);
    let paid: Vec<Value> = eventually(Duration::from_secs(20), "café paid", || async {
        let resp = app
            .get(
                &format!("/api/v1/payouts?merchantId={}&status=PAID", cafe.id),
                Some(&cafe.owner.access_token),
            )
            .await;
        resp.body["items"]
            .as_array()
            .filter(|i| i.len() == 2)
            .cloned()
    })
    .await;
    let mut paid_by_currency: BTreeMap<String, i64> = BTreeMap::new();
    for p in &paid {
        *paid_by_currency
            .entry(p["currency"].as_str().unwrap_or_default().to_owned())
            .or_default() += p["amount"].as_i64().unwrap_or_default();
    }
    assert_eq!(paid_by_currency.get("USD"), Some(&450), "{paid:?}");
    assert_eq!(paid_by_currency.get("KHR"), Some(&72_000), "{paid:?}");

    // ---- the café's sales reconcile with its orders, per currency ----
    let range = around_today();
    let sales_path = format!("/api/v1/merchants/{}/analytics/sales?{range}", cafe.id);
    let truth = orders_of(&app, &cafe.owner, cafe.id).await;
    let sales = eventually(Duration::from_secs(20), "sales rolled up", || async {
        let s = dashboard(&app, &manager, &sales_path).await;
        let all = truth
            .iter()
            .all(|(cur, (orders, gross, refunded, commission))| {
                let c = currency(&s, cur);
                c["orders"] == *orders
                    && c["gross"] == *gross
                    && c["refunds"] == *refunded
                    && c["commission"] == *commission
            });
        all.then_some(s)
    })
    .await;
    assert_eq!(truth.len(), 2, "two currencies: {truth:?}");
    assert_eq!(
        sales["currencies"].as_array().map(Vec::len),
        Some(2),
        "{sales}"
    );
    let usd = currency(&sales, "USD");
    assert_eq!(
        (
            usd["orders"].as_i64(),
            usd["gross"].as_i64(),
            usd["refunds"].as_i64()
        ),
        (Some(1), Some(2_500), Some(1_250)),
        "{usd}"
    );
    assert_eq!(usd["net"], 1_250);
    assert_eq!(usd["refundCount"], 1);
    assert_eq!(usd["averageOrderValue"], 2_500);
    let khr = currency(&sales, "KHR");
    assert_eq!(
        (khr["orders"].as_i64(), khr["gross"].as_i64()),
        (Some(1), Some(80_000)),
        "{khr}"
    );
    // Never added across currencies: each point sums to its own currency's total.
    for c in sales["currencies"].as_array().unwrap() {
        let points = c["points"].as_array().unwrap();
        assert_eq!(points.len(), 3, "one point per day: {c}");
        let sum: i64 = points.iter().map(|p| p["gross"].as_i64().unwrap()).sum();
        assert_eq!(sum, c["gross"].as_i64().unwrap());
    }

    // ---- products, vouchers and payouts ----
    let products = dashboard(
        &app,
        &cafe.owner,
        &format!("/api/v1/merchants/{}/analytics/products?{range}", cafe.id),
    )
    .await;
    let top = &currency(&products, "KHR")["products"][0];
    assert_eq!(top["productId"], cooker_product.to_string(), "{products}");
    assert_eq!(
        (top["quantity"].as_i64(), top["revenue"].as_i64()),
        (Some(2), Some(80_000))
    );
    assert_eq!(currency(&products, "USD")["products"][0]["quantity"], 2);

    let vouchers = dashboard(
        &app,
        &cafe.owner,
        &format!("/api/v1/merchants/{}/analytics/vouchers?{range}", cafe.id),
    )
    .await;
    let v = currency(&vouchers, "USD");
    assert_eq!(
        (
            v["sold"].as_i64(),
            v["soldValue"].as_i64(),
            v["redemptions"].as_i64(),
            v["redeemedValue"].as_i64()
        ),
        (Some(2), Some(2_500), Some(1), Some(500)),
        "{vouchers}"
    );
    assert_eq!(v["redemptionRate"], 0.2);
    assert_eq!(v["commission"], 50);

    let payouts = eventually(Duration::from_secs(20), "payouts rolled up", || async {
        let p = dashboard(
            &app,
            &cafe.owner,
            &format!("/api/v1/merchants/{}/analytics/payouts?{range}", cafe.id),
        )
        .await;
        paid_by_currency
            .iter()
            .all(|(cur, amount)| currency(&p, cur)["paid"] == *amount)
            .then_some(p)
    })
    .await;
    assert_eq!(currency(&payouts, "KHR")["paidCount"], 1, "{payouts}");

    // ---- the admin summary reconciles with every merchant's orders and the ledger ----
    let mut platform = orders_of(&app, &admin, cafe.id).await;
    for (cur, (o, g, r, c)) in orders_of(&app, &admin, shop.id).await {
        let e = platform.entry(cur).or_default();
        *e = (e.0 + o, e.1 + g, e.2 + r, e.3 + c);
    }
    let registered = app.list_events("user.registered").await.len() as i64;
    let summary = eventually(Duration::from_secs(20), "summary complete", || async {
        let s = dashboard(
            &app,
            &admin,
            &format!("/api/v1/admin/analytics/summary?{range}"),
        )
        .await;
        let shop_failed =
            s["newCustomers"] == registered && currency(&s, "USD")["orders"] == platform["USD"].0;
        shop_failed.then_some(s)
    })
    .await;
    for (cur, (orders, gross, refunded, commission)) in &platform {
        let c = currency(&summary, cur);
        assert_eq!(c["orders"], *orders, "{cur}: {summary}");
        assert_eq!(c["gmv"], *gross, "{cur}: {summary}");
        assert_eq!(c["refunds"], *refunded, "{cur}: {summary}");
        assert_eq!(c["net"], *gross - *refunded, "{cur}: {summary}");
        assert_eq!(c["commission"], *commission, "{cur}: {summary}");
        let revenue = app.account_balance(&admin, cur, "platform_revenue").await;
        assert_eq!(c["platformRevenue"], revenue, "{cur}: {summary}");
    }
    assert_eq!(currency(&summary, "USD")["gmv"], 2_500 + 6_000);
    assert_eq!(currency(&summary, "USD")["platformRevenue"], 50);
    assert_eq!(currency(&summary, "KHR")["platformRevenue"], 8_000);
    assert_eq!(summary["newMerchants"], 2, "{summary}");
    assert_eq!(summary["applications"], 2, "{summary}");
    assert_eq!(summary["pendingApplications"], 0, "{summary}");

    // An application waiting for a decision.
    let hopeful = app.customer("hopeful").await;
    let applied = app
        .post(
            "/api/v1/merchants",
            testkit::merchant_application("Hopeful Noodles"),
            Some(&hopeful.access_token),
        )
        .await;
    assert_eq!(applied.status, 201, "{:?}", applied.body);
    eventually(Duration::from_secs(20), "application pending", || async {
        let s = dashboard(
            &app,
            &admin,
            &format!("/api/v1/admin/analytics/summary?{range}"),
        )
        .await;
        (s["pendingApplications"] == 1 && s["applications"] == 3).then_some(())
    })
    .await;
    app.trial_balance(&admin).await;

    // The same facts again (a producer retrying with new envelopes): nothing counts twice.
    let paid_again: Vec<OrderPaid> = app
        .list_events(OrderPaid::TYPE)
        .await
        .into_iter()
        .filter_map(|p| serde_json::from_value(p).ok())
        .collect();
    let refunded_again: Vec<OrderRefunded> = app
        .list_events(OrderRefunded::TYPE)
        .await
        .into_iter()
        .filter_map(|p| serde_json::from_value(p).ok())
        .collect();
    assert!(!paid_again.is_empty() && !refunded_again.is_empty());
    let template = paid_again[0].0.clone();
    for event in paid_again {
        publish_applied(&app, event).await;
    }
    for event in refunded_again {
        publish_applied(&app, event).await;
    }
    let again = dashboard(&app, &manager, &sales_path).await;
    assert_eq!(again["currencies"], sales["currencies"], "counted twice");
    let summary_again = dashboard(
        &app,
        &admin,
        &format!("/api/v1/admin/analytics/summary?{range}"),
    )
    .await;
    assert_eq!(
        summary_again["currencies"], summary["currencies"],
        "counted twice"
    );

    // Out of order: an order's refund applied before its payment (the payment's first
    // delivery failed and was retried) still counts the sale, once.
    let mut late_order = template;
    late_order.order_id = Uuid::new_v4();
    late_order.merchant_id = cafe.id;
    let mut refunded_first = late_order.clone();
    refunded_first.refunded = late_order.total.min(100);
    publish_applied(&app, OrderRefunded(refunded_first)).await;
    publish_applied(&app, OrderPaid(late_order.clone())).await;
    publish_applied(&app, OrderPaid(late_order.clone())).await;
    let after = dashboard(&app, &manager, &sales_path).await;
    let code = late_order.currency.code();
    let (before, now) = (currency(&sales, code), currency(&after, code));
    for (field, added) in [
        ("orders", 1),
        ("gross", late_order.total),
        ("refunds", late_order.total.min(100)),
    ] {
        assert_eq!(
            now[field].as_i64().unwrap_or_default() - before[field].as_i64().unwrap_or_default(),
            added,
            "{field} after a refund applied before its payment"
        );
    }

    // ---- open fraud cases: counted until decided; a decision applied before its opening
    // leaves the case closed ----
    let summary_path = format!("/api/v1/admin/analytics/summary?{range}");
    let open_before = dashboard(&app, &admin, &summary_path).await["openFraudCases"]
        .as_i64()
        .expect("openFraudCases");
    let case = |id: Uuid| FraudCaseOpened {
        case_id: id,
        redemption_id: Uuid::new_v4(),
        merchant_id: cafe.id,
        outlet_id: Uuid::new_v4(),
        redemption_status: "PENDING_REVIEW".into(),
        amount: 500,
        currency: kernel::Currency::Usd,
        score: 65,
    };
    let decided = |opened: &FraudCaseOpened| FraudCaseClosed {
        case_id: opened.case_id,
        redemption_id: opened.redemption_id,
        merchant_id: opened.merchant_id,
        decision: "REJECTED".into(),
        decided_by: Uuid::new_v4(),
    };
    let (waiting, answered, early) = (
        case(Uuid::new_v4()),
        case(Uuid::new_v4()),
        case(Uuid::new_v4()),
    );
    publish_applied(&app, waiting.clone()).await;
    publish_applied(&app, answered.clone()).await;
    publish_applied(&app, decided(&answered)).await;
    publish_applied(&app, decided(&early)).await;
    publish_applied(&app, early.clone()).await;
    publish_applied(&app, waiting.clone()).await;
    assert_eq!(
        dashboard(&app, &admin, &summary_path).await["openFraudCases"],
        open_before + 1
    );

    // ---- time zones: the cooker order, moved to 23:00 UTC on 2026-03-01 ----
    let late = chrono::NaiveDate::from_ymd_opt(2026, 3, 1)
        .and_then(|d| d.and_hms_opt(23, 0, 0))
        .expect("time")
        .and_utc()
        .timestamp_millis();
    let moved: u64 = platform::on_db!(&app.ctx().db, pool => sqlx::query(
        "UPDATE analytics_merchant_hours SET hour = $1 WHERE merchant_id = $2 AND currency = 'KHR' AND orders > 0"
    ).bind(late).bind(cafe.id).execute(pool).await.map(|r| r.rows_affected()))
    .expect("moved");
    assert_eq!(moved, 1);
    let day = |from: &str, to: &str, tz: &str, granularity: &str| {
        format!(
            "/api/v1/merchants/{}/analytics/sales?from={from}&to={to}&tz={tz}&granularity={granularity}",
            cafe.id
        )
    };
    let orders_on = |report: &Value| currency(report, "KHR")["orders"].as_i64().unwrap_or(0);
    let east = dashboard(
        &app,
        &cafe.owner,
        &day("2026-03-02", "2026-03-02", "%2B07:00", "day"),
    )
    .await;
    assert_eq!(
        orders_on(&east),
        1,
        "23:00 UTC is the next morning at +07:00: {east}"
    );
    assert_eq!(east["period"]["tz"], "+07:00");
    let utc_next = dashboard(
        &app,
        &cafe.owner,
        &day("2026-03-02", "2026-03-02", "UTC", "day"),
    )
    .await;
    assert_eq!(orders_on(&utc_next), 0, "{utc_next}");
    let utc = dashboard(
        &app,
        &cafe.owner,
        &day("2026-03-01", "2026-03-01", "UTC", "day"),
    )
    .await;
    assert_eq!(orders_on(&utc), 1, "{utc}");
    let west = dashboard(
        &app,
        &cafe.owner,
        &day("2026-03-01", "2026-03-01", "-05:00", "day"),
    )
    .await;
    assert_eq!(orders_on(&west), 1, "{west}");
    let east_before = dashboard(
        &app,
        &cafe.owner,
        &day("2026-03-01", "2026-03-01", "%2B07:00", "day"),
    )
    .await;
    assert_eq!(orders_on(&east_before), 0, "{east_before}");
    // In weeks at +07:00: Monday 2026-03-02 starts the week it falls in.
    let weeks = dashboard(
        &app,
        &cafe.owner,
        &day("2026-02-23", "2026-03-08", "%2B07:00", "week"),
    )
    .await;
    let points = currency(&weeks, "KHR")["points"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let periods: Vec<(&str, i64)> = points
        .iter()
        .map(|p| {
            (
                p["period"].as_str().unwrap_or_default(),
                p["orders"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        periods,
        vec![("2026-02-23", 0), ("2026-03-02", 1)],
        "{weeks}"
    );
    let months = dashboard(
        &app,
        &cafe.owner,
        &day("2026-01-15", "2026-03-31", "UTC", "month"),
    )
    .await;
    assert_eq!(
        currency(&months, "KHR")["points"][2]["gross"],
        80_000,
        "{months}"
    );
    app.stop().await;
}
