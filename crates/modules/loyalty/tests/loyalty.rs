//! Loyalty through the public API on both backends: points earned, credited and taken back,
//! redeemed at checkout and given back, never overdrawn under concurrency, expired oldest
//! first, tiers up and down, achievements once, admins' adjustments; the balance always the
//! sum of the entries.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{json, Value};
use testkit::{eventually, on_both_backends, uuid_of, Backend, MerchantFixture, Session, TestApp};
use uuid::Uuid;

on_both_backends!(
    points_are_earned_on_completion_and_a_returned_order_earns_none,
    points_redeem_at_checkout_come_back_on_cancel_and_never_overdraw,
    points_expire_oldest_first_and_customers_are_reminded,
    tiers_move_up_and_down_with_qualifying_points,
    achievements_are_awarded_once_and_admins_adjust_with_a_reason,
);

struct Shop {
    admin: Session,
    kopi: MerchantFixture,
    lamp: Uuid,
    mug: Uuid,
}

/// Kopi sells a lamp (100.00) and a mug (4.00).
async fn shop(app: &TestApp) -> Shop {
    let admin = app.admin().await;
    let kopi = app.merchant("Kopi").await;
    let home = app.category(&admin, "home", None).await;
    let (_, lamp) = app
        .listed_product(&kopi, &admin, home, "Lamp", "LAMP", 10_000, 100)
        .await;
    let (_, mug) = app
        .listed_product(&kopi, &admin, home, "Mug", "MUG", 400, 100)
        .await;
    Shop {
        admin,
        kopi,
        lamp,
        mug,
    }
}

async fn spawn(
    backend: Backend,
    edit: impl FnOnce(&mut loyalty::config::LoyaltyConfig) + Send + 'static,
) -> TestApp {
    TestApp::spawn_with(
        backend,
        move |c| {
            c.edit_section(|l: &mut loyalty::config::LoyaltyConfig| edit(l))
                .expect("loyalty section")
        },
        Vec::new(),
    )
    .await
}

async fn account(app: &TestApp, customer: &Session) -> Value {
    let account = app
        .get("/api/v1/rewards/account", Some(&customer.access_token))
        .await;
    assert_eq!(account.status, 200, "{:?}", account.body);
    account.body
}

async fn balance_reaches(app: &TestApp, customer: &Session, balance: i64) -> Value {
    eventually(
        Duration::from_secs(15),
        &format!("balance {balance}"),
        || async {
            let account = account(app, customer).await;
            (account["balance"] == balance).then_some(account)
        },
    )
    .await
}

/// The entries, checked to sum to the balance.
async fn entries(app: &TestApp, customer: &Session) -> Vec<Value> {
    let listed = app
        .get(
            "/api/v1/rewards/transactions?limit=100",
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    let entries = listed.body.as_array().unwrap().clone();
    let sum: i64 = entries.iter().map(|e| e["points"].as_i64().unwrap()).sum();
    assert_eq!(
        sum,
        account(app, customer).await["balance"],
        "the balance is the sum of the entries"
    );
    entries
}

fn kinds(entries: &[Value]) -> Vec<(String, i64)> {
    let mut kinds: Vec<(String, i64)> = entries
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["points"].as_i64().unwrap(),
            )
        })
        .collect();
    kinds.sort();
    kinds
}

async fn buy(
    app: &TestApp,
    customer: &Session,
    variant: Uuid,
    quantity: i64,
    points: Option<i64>,
) -> testkit::Resp {
    app.checkout(
        customer,
        json!({"lines": [{"variantId": variant, "quantity": quantity}], "redeemPoints": points}),
        Some(&Uuid::now_v7().to_string()),
    )
    .await
}

/// An admin's adjustment of the customer's points.
async fn adjust(
    app: &TestApp,
    admin: &str,
    customer: &Session,
    points: i64,
    reason: &str,
) -> testkit::Resp {
    app.post(
        &format!(
            "/api/v1/admin/rewards/accounts/{}/adjustments",
            customer.user_id
        ),
        json!({"points": points, "reason": reason}),
        Some(admin),
    )
    .await
}

async fn move_order(app: &TestApp, shop: &Shop, order: Uuid, path: &[&str]) {
    for to in path {
        let moved = app
            .patch(
                &format!("/api/v1/orders/{order}/status"),
                json!({"status": to}),
                Some(&shop.kopi.owner.access_token),
            )
            .await;
        assert_eq!(moved.status, 200, "{to}: {:?}", moved.body);
    }
}

async fn points_are_earned_on_completion_and_a_returned_order_earns_none(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    let shop = shop(&app).await;
    let customer = app.customer("earner").await;
    balance_reaches(&app, &customer, 100).await;

    // $100 paid: 100 points pending until the order completes; the first order's achievement
    // comes with the payment.
    let group = buy(&app, &customer, shop.lamp, 1, None).await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    app.pay_in_full(&customer, &group.body).await;
    let order = uuid_of(&group.body["orders"][0]["id"]);
    // Signup 100 + first order 50, and 100 pending.
    eventually(Duration::from_secs(15), "pending", || async {
        let account = account(&app, &customer).await;
        (account["pendingPoints"] == 100 && account["balance"] == 150).then_some(())
    })
    .await;
    move_order(
        &app,
        &shop,
        order,
        &["PROCESSING", "SHIPPED", "DELIVERED", "COMPLETED"],
    )
    .await;
    let credited = balance_reaches(&app, &customer, 250).await;
    assert_eq!(credited["pendingPoints"], 0);
    assert_eq!(credited["qualifyingPoints"], 100);
    assert_eq!(credited["tier"]["code"], "BRONZE");
    assert_eq!(credited["pointsToNextTier"], 400);

    // Delivered and returned before it completed: its points are never credited.
    let group = buy(&app, &customer, shop.lamp, 1, None).await;
    app.pay_in_full(&customer, &group.body).await;
    let order = uuid_of(&group.body["orders"][0]["id"]);
    eventually(Duration::from_secs(15), "pending again", || async {
        (account(&app, &customer).await["pendingPoints"] == 100).then_some(())
    })
    .await;
    move_order(
        &app,
        &shop,
        order,
        &["PROCESSING", "SHIPPED", "DELIVERED", "RETURNED"],
    )
    .await;
    app.order_reaches(&customer, order, "REFUNDED").await;
    eventually(Duration::from_secs(15), "pending gone", || async {
        (account(&app, &customer).await["pendingPoints"] == 0).then_some(())
    })
    .await;
    assert_eq!(
        kinds(&entries(&app, &customer).await),
        [
            ("ACHIEVEMENT".into(), 50),
            ("EARN".into(), 100),
            ("SIGNUP".into(), 100)
        ]
    );
    app.stop().await;
}

async fn points_redeem_at_checkout_come_back_on_cancel_and_never_overdraw(backend: Backend) {
    let app = spawn(backend, |l| l.signup_bonus = 1_000).await;
    let shop = shop(&app).await;
    let customer = app.customer("saver").await;
    balance_reaches(&app, &customer, 1_000).await;

    // Bad asks take nothing.
    let below = buy(&app, &customer, shop.lamp, 1, Some(50)).await;
    assert_eq!(
        (below.status, below.code()),
        (422, "points_below_minimum"),
        "{:?}",
        below.body
    );
    let above = buy(&app, &customer, shop.lamp, 1, Some(5_000)).await;
    assert_eq!(
        (above.status, above.code()),
        (409, "insufficient_points"),
        "{:?}",
        above.body
    );
    let negative = buy(&app, &customer, shop.lamp, 1, Some(-5)).await;
    assert_eq!(negative.status, 422, "{:?}", negative.body);

    // 500 points are 5.00 off the lamp, shown as a points discount on the order.
    let group = buy(&app, &customer, shop.lamp, 1, Some(500)).await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    assert_eq!(group.body["discount"], 500);
    assert_eq!(group.body["total"], 9_500);
    let order = &group.body["orders"][0];
    assert_eq!(order["discounts"][0]["source"], "POINTS");
    assert_eq!(order["discounts"][0]["amount"], 500);
    assert_eq!(account(&app, &customer).await["balance"], 500);
    // Cancelled before payment: they come back.
    let cancelled = app
        .post(
            &format!("/api/v1/orders/{}/cancel", uuid_of(&order["id"])),
            json!({}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    balance_reaches(&app, &customer, 1_000).await;

    // At most half of what is left to pay: 1,000 points asked on a 4.00 mug use 200.
    let capped = buy(&app, &customer, shop.mug, 1, Some(1_000)).await;
    assert_eq!(capped.status, 201, "{:?}", capped.body);
    assert_eq!(capped.body["total"], 200);
    assert_eq!(account(&app, &customer).await["balance"], 800);

    // Ten checkouts at once each spending all 800: exactly one gets them.
    let attempts = join_all((0..10).map(|_| buy(&app, &customer, shop.lamp, 1, Some(800)))).await;
    let won = attempts.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        won,
        1,
        "{:?}",
        attempts
            .iter()
            .map(|r| (r.status, r.code().to_owned()))
            .collect::<Vec<_>>()
    );
    for lost in attempts.iter().filter(|r| r.status != 201) {
        assert_eq!(
            (lost.status, lost.code()),
            (409, "insufficient_points"),
            "{:?}",
            lost.body
        );
    }
    assert_eq!(account(&app, &customer).await["balance"], 0);
    entries(&app, &customer).await;

    // A redemption arriving after its checkout was undone takes nothing.
    let adjusted = adjust(
        &app,
        &shop.admin.access_token,
        &customer,
        300,
        "late redemption check",
    )
    .await;
    assert_eq!(adjusted.status, 201, "{:?}", adjusted.body);
    let loyalty = loyalty::Loyalty::new(app.ctx().clone());
    let group = Uuid::now_v7();
    loyalty.give_back(group).await.unwrap();
    let late = loyalty
        .redeem(&loyalty_contract::RedeemRequest {
            group_id: group,
            customer_id: customer.user_id,
            orders: vec![loyalty_contract::OrderPoints {
                order_id: Uuid::now_v7(),
                points: 200,
            }],
        })
        .await;
    assert!(
        matches!(late, Err(loyalty::LoyaltyError::InsufficientPoints)),
        "{late:?}"
    );
    assert_eq!(account(&app, &customer).await["balance"], 300);
    entries(&app, &customer).await;
    app.stop().await;
}

async fn points_expire_oldest_first_and_customers_are_reminded(backend: Backend) {
    let app = spawn(backend, |l| {
        l.points_valid_days = 10;
        l.expiry_reminder_days = 30;
    })
    .await;
    let shop = shop(&app).await;
    let customer = app.customer("forgetful").await;
    balance_reaches(&app, &customer, 100).await;
    let credit = adjust(
        &app,
        &shop.admin.access_token,
        &customer,
        300,
        "welcome back",
    )
    .await;
    assert_eq!(credit.status, 201, "{:?}", credit.body);
    // 150 spent: all 100 of the signup bonus (it expires first), 50 of the adjustment.
    let group = buy(&app, &customer, shop.lamp, 1, Some(150)).await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    assert_eq!(account(&app, &customer).await["nextExpiry"]["points"], 250);

    let loyalty = loyalty::Loyalty::new(app.ctx().clone());
    // Every account's credits expire within the reminder window (the merchant owner's signup
    // bonus too): each customer is told once.
    assert!(loyalty.remind_expiring().await.unwrap() >= 1);
    assert_eq!(loyalty.remind_expiring().await.unwrap(), 0, "reminded once");
    let reminders: Vec<Value> = app
        .list_events("loyalty.points_expiring")
        .await
        .into_iter()
        .filter(|e| uuid_of(&e["customerId"]) == customer.user_id)
        .collect();
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0]["points"], 250);

    // Past their expiry: what is left of them goes.
    platform::on_db!(&app.ctx().db, pool => sqlx::query(
        "UPDATE loyalty_entries SET expires_at = 0 WHERE customer_id = $1"
    ).bind(customer.user_id).execute(pool).await.map(|r| r.rows_affected()))
    .unwrap();
    assert_eq!(
        loyalty.expire_points().await.unwrap(),
        1,
        "only the adjustment had points left"
    );
    assert_eq!(account(&app, &customer).await["balance"], 0);
    assert!(kinds(&entries(&app, &customer).await).contains(&("EXPIRY".into(), -250)));
    app.stop().await;
}

async fn tiers_move_up_and_down_with_qualifying_points(backend: Backend) {
    let app = spawn(backend, |l| l.credit_on = "paid".into()).await;
    let shop = shop(&app).await;
    let tiers = app.get("/api/v1/rewards/tiers", None).await;
    assert_eq!(tiers.status, 200);
    assert_eq!(tiers.body.as_array().unwrap().len(), 5);
    let customer = app.customer("climber").await;
    balance_reaches(&app, &customer, 100).await;
    // A promotion for Silver members and up: a tier that does not exist is refused.
    let admin = shop.admin.access_token.clone();
    let campaign = app
        .post(
            "/api/v1/campaigns",
            json!({"title": {"en": "Members"}, "startsAt": "2026-01-01T00:00:00Z"}),
            Some(&admin),
        )
        .await;
    assert_eq!(campaign.status, 201, "{:?}", campaign.body);
    let campaign = uuid_of(&campaign.body["id"]);
    let scheduled = app
        .post(
            &format!("/api/v1/campaigns/{campaign}/status"),
            json!({"status": "SCHEDULED"}),
            Some(&admin),
        )
        .await;
    assert_eq!(scheduled.status, 200, "{:?}", scheduled.body);
    let members = |tiers: Value| {
        json!({"campaignId": campaign, "name": {"en": "Members' 10 %"}, "kind": "AUTOMATIC",
            "currency": "USD", "bearer": "PLATFORM",
            "rules": {"conditions": {"tiers": tiers},
                "effect": {"type": "PERCENT_OFF", "percentBps": 1000, "target": "ORDER"}}})
    };
    let unknown = app
        .post(
            "/api/v1/promotions",
            members(json!(["GOLDEN"])),
            Some(&admin),
        )
        .await;
    assert_eq!(unknown.status, 422, "{:?}", unknown.body);
    assert_eq!(unknown.body["errors"][0]["field"], "rules.conditions.tiers");
    let created = app
        .post(
            "/api/v1/promotions",
            members(json!(["SILVER", "GOLD", "PLATINUM", "DIAMOND"])),
            Some(&admin),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(app.add_to_cart(&customer, shop.mug, 1).await.status, 200);
    let summary = app
        .get("/api/v1/cart/summary", Some(&customer.access_token))
        .await;
    assert_eq!(
        summary.body["discount"], 0,
        "a Bronze member: {:?}",
        summary.body
    );
    // $500 paid and credited at once: 500 qualifying points reach Silver.
    let group = buy(&app, &customer, shop.lamp, 5, None).await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    app.pay_in_full(&customer, &group.body).await;
    let silver = eventually(Duration::from_secs(15), "silver", || async {
        let account = account(&app, &customer).await;
        (account["tier"]["code"] == "SILVER").then_some(account)
    })
    .await;
    assert_eq!(silver["balance"], 100 + 50 + 500);
    assert_eq!(silver["nextTier"]["code"], "GOLD");
    let summary = app
        .get("/api/v1/cart/summary", Some(&customer.access_token))
        .await;
    assert_eq!(
        summary.body["discount"], 40,
        "a Silver member: {:?}",
        summary.body
    );
    // Every point spent on another lamp (10 % members' discount, then 6.50 of points).
    let spent = buy(&app, &customer, shop.lamp, 1, Some(650)).await;
    assert_eq!(spent.status, 201, "{:?}", spent.body);
    assert_eq!(spent.body["total"], 10_000 - 1_000 - 650);
    assert_eq!(account(&app, &customer).await["balance"], 0);
    // Returned and refunded: the points are taken back, and the tier with them.
    let order = uuid_of(&group.body["orders"][0]["id"]);
    move_order(
        &app,
        &shop,
        order,
        &["PROCESSING", "SHIPPED", "DELIVERED", "RETURNED"],
    )
    .await;
    app.order_reaches(&customer, order, "REFUNDED").await;
    let bronze = eventually(Duration::from_secs(15), "bronze", || async {
        let account = account(&app, &customer).await;
        (account["tier"]["code"] == "BRONZE").then_some(account)
    })
    .await;
    // The refunded order's points were spent: the balance goes below zero, and a later credit
    // first fills that hole (only what lifts the balance above zero can be spent or expire).
    assert_eq!(bronze["balance"], -500);
    assert_eq!(bronze["qualifyingPoints"], 0);
    let credit = adjust(&app, &admin, &customer, 600, "goodwill").await;
    assert_eq!(credit.status, 201, "{:?}", credit.body);
    let after = account(&app, &customer).await;
    assert_eq!(after["balance"], 100);
    assert_eq!(after["nextExpiry"]["points"], 100);
    assert!(kinds(&entries(&app, &customer).await).contains(&("REVERSAL".into(), -500)));
    let changes = app.list_events("loyalty.tier_changed").await;
    let moves: Vec<(&str, &str)> = changes
        .iter()
        .map(|c| (c["from"].as_str().unwrap(), c["to"].as_str().unwrap()))
        .collect();
    assert_eq!(moves, [("BRONZE", "SILVER"), ("SILVER", "BRONZE")]);
    // The customer is told each time, in the app.
    eventually(Duration::from_secs(15), "tier notifications", || async {
        let inbox = app
            .get("/api/v1/notifications", Some(&customer.access_token))
            .await;
        let titles: Vec<String> = inbox.body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n["title"].as_str().map(str::to_owned))
            .filter(|t| t.starts_with("Your rewards tier is now"))
            .collect();
        (titles.len() == 2).then_some(())
    })
    .await;
    app.stop().await;
}

async fn achievements_are_awarded_once_and_admins_adjust_with_a_reason(backend: Backend) {
    let app = spawn(backend, |_| {}).await;
    let shop = shop(&app).await;
    let customer = app.customer("collector").await;
    balance_reaches(&app, &customer, 100).await;
    for _ in 0..2 {
        let group = buy(&app, &customer, shop.mug, 1, None).await;
        assert_eq!(group.status, 201, "{:?}", group.body);
        app.pay_in_full(&customer, &group.body).await;
    }
    balance_reaches(&app, &customer, 150).await;
    let achievements = app
        .get("/api/v1/rewards/achievements", Some(&customer.access_token))
        .await;
    assert_eq!(achievements.status, 200);
    let first = achievements
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "first_order")
        .cloned()
        .unwrap();
    assert!(first["awardedAt"].is_string());
    assert_eq!(first["progress"], 1);
    let awarded: Vec<(String, i64)> = kinds(&entries(&app, &customer).await)
        .into_iter()
        .filter(|(k, _)| k == "ACHIEVEMENT")
        .collect();
    assert_eq!(awarded, [("ACHIEVEMENT".into(), 50)], "awarded once");

    // Admins only, with a reason; a debit never overdraws.
    let path = format!("/api/v1/admin/rewards/accounts/{}", customer.user_id);
    assert_eq!(
        app.get(&path, Some(&customer.access_token)).await.status,
        403
    );
    let adjust = format!("{path}/adjustments");
    let by_customer = app
        .post(
            &adjust,
            json!({"points": 1000, "reason": "free points"}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(by_customer.status, 403);
    let admin = shop.admin.access_token.clone();
    let huge = app
        .post(
            &adjust,
            json!({"points": i64::MIN, "reason": "overflow"}),
            Some(&admin),
        )
        .await;
    assert_eq!(huge.status, 422, "{:?}", huge.body);
    let no_reason = app
        .post(&adjust, json!({"points": 10, "reason": " "}), Some(&admin))
        .await;
    assert_eq!(no_reason.status, 422, "{:?}", no_reason.body);
    let overdraw = app
        .post(
            &adjust,
            json!({"points": -151, "reason": "clawback"}),
            Some(&admin),
        )
        .await;
    assert_eq!(
        (overdraw.status, overdraw.code()),
        (409, "insufficient_points")
    );
    let credit = app
        .post(
            &adjust,
            json!({"points": 25, "reason": "goodwill"}),
            Some(&admin),
        )
        .await;
    assert_eq!(credit.status, 201, "{:?}", credit.body);
    assert_eq!(credit.body["kind"], "ADJUSTMENT");
    assert_eq!(credit.body["reason"], "goodwill");
    let seen = app.get(&path, Some(&admin)).await;
    assert_eq!(seen.status, 200, "{:?}", seen.body);
    assert_eq!(seen.body["account"]["balance"], 175);
    assert_eq!(seen.body["entries"].as_array().unwrap().len(), 3);
    entries(&app, &customer).await;
    app.stop().await;
}
