//! Promotions through the public API on both backends: who manages what, rules refused on
//! write, the cart summary and the order agreeing to the minor unit, limits and budgets under
//! concurrency, uses given back, the ledger after each cost bearer, and the figures.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{json, Value};
use testkit::{eventually, on_both_backends, uuid_of, Backend, MerchantFixture, Session, TestApp};
use uuid::Uuid;

on_both_backends!(
    campaigns_and_promotions_belong_to_their_managers_and_bad_rules_store_nothing,
    the_cart_summary_and_the_order_agree_to_the_minor_unit,
    a_coupon_limited_to_10_uses_is_used_by_exactly_10_of_100_concurrent_checkouts,
    a_spend_budget_is_never_overspent_under_concurrency,
    a_uses_budget_counts_checkouts_and_a_released_checkout_takes_nothing,
    a_checkout_priced_as_a_whole_is_cancelled_as_a_whole,
    cancellation_releases_a_use_and_a_full_refund_gives_it_back,
    an_expired_checkout_releases_its_use_and_budget,
    riel_and_rupiah_carts_agree_with_their_orders,
    the_ledger_pays_each_bearer_as_documented_and_balances,
);

struct Shop {
    admin: Session,
    kopi: MerchantFixture,
    batik: MerchantFixture,
    food: Uuid,
    latte: Uuid,
    latte_product: Uuid,
    mocha: Uuid,
    scarf: Uuid,
    scarf_product: Uuid,
}

/// Kopi sells a latte (10.05) and a mocha (4.00) under drinks < food; Batik a scarf (25.00).
async fn shop(app: &TestApp, stock: i64) -> Shop {
    let admin = app.admin().await;
    let kopi = app.merchant("Kopi").await;
    let batik = app.merchant("Batik").await;
    let food = app.category(&admin, "food", None).await;
    let drinks = app.category(&admin, "drinks", Some(food)).await;
    let textiles = app.category(&admin, "textiles", None).await;
    let (latte_product, latte) = app
        .listed_product(&kopi, &admin, drinks, "Latte", "LATTE", 1_005, stock)
        .await;
    let (_, mocha) = app
        .listed_product(&kopi, &admin, drinks, "Mocha", "MOCHA", 400, stock)
        .await;
    let (scarf_product, scarf) = app
        .listed_product(&batik, &admin, textiles, "Scarf", "SCARF", 2_500, stock)
        .await;
    Shop {
        admin,
        kopi,
        batik,
        food,
        latte,
        latte_product,
        mocha,
        scarf,
        scarf_product,
    }
}

fn campaign_body(merchant: Option<Uuid>, budget: Option<Value>) -> Value {
    json!({
        "title": {"en": "Monsoon sale", "km": "លក់ពិសេស", "id": "Obral musim hujan"},
        "merchantId": merchant,
        "startsAt": "2026-01-01T00:00:00Z",
        "endsAt": "2036-01-01T00:00:00Z",
        "budget": budget,
    })
}

/// A running campaign (created, then scheduled: its start has passed, so it is ACTIVE).
async fn running_campaign(
    app: &TestApp,
    token: &str,
    merchant: Option<Uuid>,
    budget: Option<Value>,
) -> Uuid {
    let created = app
        .post(
            "/api/v1/campaigns",
            campaign_body(merchant, budget),
            Some(token),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["status"], "DRAFT");
    let id = uuid_of(&created.body["id"]);
    let moved = app
        .post(
            &format!("/api/v1/campaigns/{id}/status"),
            json!({"status": "SCHEDULED"}),
            Some(token),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    assert_eq!(moved.body["status"], "ACTIVE");
    id
}

async fn end_campaign(app: &TestApp, token: &str, id: Uuid) {
    let ended = app
        .post(
            &format!("/api/v1/campaigns/{id}/status"),
            json!({"status": "ENDED"}),
            Some(token),
        )
        .await;
    assert_eq!(ended.status, 200, "{:?}", ended.body);
}

fn promotion_body(
    campaign: Uuid,
    kind: &str,
    code: Option<&str>,
    rules: Value,
    bearer: &str,
) -> Value {
    json!({
        "campaignId": campaign,
        "name": {"en": format!("{kind} {}", code.unwrap_or("auto"))},
        "kind": kind,
        "code": code,
        "currency": "USD",
        "rules": rules,
        "bearer": bearer,
    })
}

async fn promotion(app: &TestApp, token: &str, body: Value) -> Value {
    let created = app.post("/api/v1/promotions", body, Some(token)).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    created.body
}

fn field_of(resp: &testkit::Resp) -> Vec<String> {
    resp.body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["field"].as_str().map(str::to_owned))
        .collect()
}

async fn campaigns_and_promotions_belong_to_their_managers_and_bad_rules_store_nothing(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let admin = shop.admin.access_token.clone();
    let kopi = shop.kopi.owner.access_token.clone();
    let batik = shop.batik.owner.access_token.clone();
    let customer = app.customer("dara").await;
    let cashier = app.staff(&shop.kopi, "cashier").await;

    // Platform campaigns are admins'; a merchant's are its owner's and managers'.
    let denied = app
        .post("/api/v1/campaigns", campaign_body(None, None), Some(&kopi))
        .await;
    assert_eq!(denied.status, 403);
    for token in [&customer.access_token, &cashier.access_token, &batik] {
        let denied = app
            .post(
                "/api/v1/campaigns",
                campaign_body(Some(shop.kopi.id), None),
                Some(token),
            )
            .await;
        assert_eq!(denied.status, 403, "{:?}", denied.body);
    }
    let platform = running_campaign(&app, &admin, None, None).await;
    let own = running_campaign(&app, &kopi, Some(shop.kopi.id), None).await;
    let hidden = app
        .get(&format!("/api/v1/campaigns/{own}"), Some(&batik))
        .await;
    assert_eq!((hidden.status, hidden.code()), (404, "campaign_not_found"));
    let listed = app.get("/api/v1/campaigns", Some(&kopi)).await;
    assert_eq!(
        listed.body.as_array().map(Vec::len),
        Some(1),
        "{:?}",
        listed.body
    );
    let all = app.get("/api/v1/campaigns", Some(&admin)).await;
    assert_eq!(all.body.as_array().map(Vec::len), Some(2));

    // Moves: paused and resumed; an ended campaign moves no more.
    let paused = app
        .post(
            &format!("/api/v1/campaigns/{own}/status"),
            json!({"status": "PAUSED"}),
            Some(&kopi),
        )
        .await;
    assert_eq!(paused.body["status"], "PAUSED");
    let resumed = app
        .post(
            &format!("/api/v1/campaigns/{own}/status"),
            json!({"status": "ACTIVE"}),
            Some(&kopi),
        )
        .await;
    assert_eq!(resumed.body["status"], "ACTIVE");
    let draft = app
        .post(
            &format!("/api/v1/campaigns/{own}/status"),
            json!({"status": "DRAFT"}),
            Some(&kopi),
        )
        .await;
    assert_eq!((draft.status, draft.code()), (409, "invalid_transition"));

    // Bad campaigns: end before start, a spend budget without currency.
    let mut bad = campaign_body(None, Some(json!({"kind": "SPEND", "limit": 0})));
    bad["endsAt"] = json!("2025-01-01T00:00:00Z");
    let refused = app.post("/api/v1/campaigns", bad, Some(&admin)).await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    let fields = field_of(&refused);
    for field in ["endsAt", "budget.limit", "budget.currency"] {
        assert!(fields.contains(&field.to_owned()), "{field} in {fields:?}");
    }

    // Bad rules, each refused with the field named; nothing is stored.
    let percent =
        |bps: i64| json!({"effect": {"type": "PERCENT_OFF", "percentBps": bps, "target": "ORDER"}});
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "above 100 %",
            promotion_body(platform, "AUTOMATIC", None, percent(10_001), "PLATFORM"),
            "rules.effect.percentBps",
        ),
        (
            "unknown category",
            promotion_body(
                platform,
                "AUTOMATIC",
                None,
                json!({
            "conditions": {"items": {"categoryIds": [Uuid::now_v7()]}},
            "effect": {"type": "AMOUNT_OFF", "amount": 100, "target": "LINES"}}),
                "PLATFORM",
            ),
            "rules.conditions.items.categoryIds",
        ),
        (
            "fixed price for nothing",
            promotion_body(
                platform,
                "AUTOMATIC",
                None,
                json!({"effect": {"type": "FIXED_PRICE", "unitPrice": 100}}),
                "PLATFORM",
            ),
            "rules.appliesTo",
        ),
        (
            "empty window",
            promotion_body(
                platform,
                "AUTOMATIC",
                None,
                json!({
            "conditions": {"timeWindow": {"fromHour": 9, "toHour": 9, "daysOfWeek": [1, 1]}},
            "effect": {"type": "FREE_SHIPPING"}}),
                "PLATFORM",
            ),
            "rules.conditions.timeWindow.toHour",
        ),
        (
            "ends before it starts",
            promotion_body(
                platform,
                "AUTOMATIC",
                None,
                json!({
            "effect": {"type": "PERCENT_OFF", "percentBps": 500, "target": "ORDER"},
            "startsAt": "2027-01-01T00:00:00Z", "endsAt": "2026-06-01T00:00:00Z"}),
                "PLATFORM",
            ),
            "rules.endsAt",
        ),
        (
            "a code on an automatic promotion",
            promotion_body(
                platform,
                "AUTOMATIC",
                Some("AUTO10"),
                percent(500),
                "PLATFORM",
            ),
            "code",
        ),
        (
            "shared without a share",
            promotion_body(platform, "AUTOMATIC", None, percent(500), "SHARED"),
            "merchantShareBps",
        ),
        (
            "a merchant making the platform pay",
            promotion_body(own, "AUTOMATIC", None, percent(500), "PLATFORM"),
            "bearer",
        ),
        (
            "a merchant discounting another's product",
            promotion_body(
                own,
                "AUTOMATIC",
                None,
                json!({
            "appliesTo": {"productIds": [shop.scarf_product]},
            "effect": {"type": "PERCENT_OFF", "percentBps": 500, "target": "LINES"}}),
                "MERCHANT",
            ),
            "rules.appliesTo.productIds",
        ),
    ];
    for (what, body, field) in cases {
        let token = if body["campaignId"] == json!(own) {
            &kopi
        } else {
            &admin
        };
        let refused = app.post("/api/v1/promotions", body, Some(token)).await;
        assert_eq!(refused.status, 422, "{what}: {:?}", refused.body);
        assert!(
            field_of(&refused).contains(&field.to_owned()),
            "{what}: {:?}",
            refused.body
        );
    }
    let none = app.get("/api/v1/promotions", Some(&admin)).await;
    assert_eq!(
        none.body.as_array().map(Vec::len),
        Some(0),
        "nothing stored: {:?}",
        none.body
    );

    // A merchant's promotion on its own product; its code is unique across promotions.
    let mine = promotion(
        &app,
        &kopi,
        json!({
        "campaignId": own, "name": {"en": "Latte days"}, "kind": "CODE", "code": "latte-days",
        "currency": "USD", "bearer": "MERCHANT",
        "rules": {"appliesTo": {"productIds": [shop.latte_product]},
            "effect": {"type": "PERCENT_OFF", "percentBps": 2000, "target": "LINES"}}}),
    )
    .await;
    assert_eq!(mine["code"], "LATTE-DAYS");
    assert_eq!(mine["merchantId"], json!(shop.kopi.id));
    let taken = app
        .post(
            "/api/v1/promotions",
            json!({
        "campaignId": platform, "name": {"en": "Copy"}, "kind": "CODE", "code": "LATTE-DAYS",
        "currency": "USD", "bearer": "PLATFORM",
        "rules": {"effect": {"type": "PERCENT_OFF", "percentBps": 500, "target": "ORDER"}}}),
            Some(&admin),
        )
        .await;
    assert_eq!((taken.status, taken.code()), (409, "coupon_code_taken"));
    let hidden = app
        .get(
            &format!("/api/v1/promotions/{}", mine["id"].as_str().unwrap()),
            Some(&batik),
        )
        .await;
    assert_eq!(hidden.status, 404);
    let hidden = app
        .get(
            &format!("/api/v1/promotions/{}", mine["id"].as_str().unwrap()),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(
        hidden.status, 404,
        "a customer never sees a promotion's rules"
    );

    // Bulk codes: unique, no ambiguous characters, exported as CSV by the owner only.
    let id = mine["id"].as_str().unwrap().to_owned();
    let generated = app
        .post(
            &format!("/api/v1/promotions/{id}/codes"),
            json!({"count": 50, "pattern": "KOPI-####-####", "usesPerCode": 1}),
            Some(&kopi),
        )
        .await;
    assert_eq!(generated.status, 201, "{:?}", generated.body);
    let codes: Vec<&str> = generated.body["codes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(codes.len(), 50);
    let unique: std::collections::HashSet<&&str> = codes.iter().collect();
    assert_eq!(unique.len(), 50);
    for code in &codes {
        assert!(code.starts_with("KOPI-") && code.len() == 14, "{code}");
        assert!(!code[5..].chars().any(|c| "01OIL".contains(c)), "{code}");
    }
    let csv = app
        .client
        .get(app.url(&format!("/api/v1/promotions/{id}/codes?format=csv")))
        .bearer_auth(&kopi)
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.status(), 200);
    assert!(csv
        .headers()
        .get("content-type")
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| c.starts_with("text/csv")));
    let text = csv.text().await.expect("csv text");
    assert_eq!(
        text.lines().count(),
        1 + 1 + 50,
        "header, the public code, 50 generated"
    );
    assert!(
        text.starts_with("code,usage_limit,uses\nLATTE-DAYS,,0\n"),
        "{text}"
    );
    let bad_pattern = app
        .post(
            &format!("/api/v1/promotions/{id}/codes"),
            json!({"count": 5, "pattern": "K-##"}),
            Some(&kopi),
        )
        .await;
    assert_eq!(bad_pattern.status, 422);
    let denied = app
        .get(&format!("/api/v1/promotions/{id}/codes"), Some(&batik))
        .await;
    assert_eq!(denied.status, 404);

    // Coupon validation tells why a code does not apply, with a stable reason.
    let check = |code: &str, cart: Option<Value>| {
        let body = json!({"code": code, "cart": cart});
        let token = customer.access_token.clone();
        let app = &app;
        async move {
            app.post("/api/v1/coupons/validate", body, Some(&token))
                .await
                .body
        }
    };
    assert_eq!(check("nope-nope", None).await["reason"], "not_found");
    let valid = check(
        "latte-days",
        Some(json!([{"variantId": shop.latte, "quantity": 2}])),
    )
    .await;
    assert_eq!(valid["valid"], true, "{valid:?}");
    assert_eq!(valid["discount"], 402, "20 % of 2 × 10.05");
    let elsewhere = check(
        "latte-days",
        Some(json!([{"variantId": shop.scarf, "quantity": 1}])),
    )
    .await;
    assert_eq!(elsewhere["reason"], "not_applicable", "{elsewhere:?}");
    end_campaign(&app, &kopi, own).await;
    assert_eq!(check("latte-days", None).await["reason"], "expired");
    let edit = app
        .put(
            &format!("/api/v1/promotions/{id}"),
            json!({
            "campaignId": own, "name": {"en": "Latte days"}, "kind": "CODE", "code": "LATTE-DAYS",
            "currency": "USD", "bearer": "MERCHANT",
            "rules": {"effect": {"type": "PERCENT_OFF", "percentBps": 500, "target": "ORDER"}}}),
            Some(&kopi),
        )
        .await;
    assert_eq!((edit.status, edit.code()), (409, "campaign_ended"));
    app.stop().await;
}

/// One rule case: what to set up, what to buy, which codes, and the discount per line.
struct Case {
    name: &'static str,
    promotions: Vec<Value>,
    lines: Vec<(Uuid, i64)>,
    codes: Vec<&'static str>,
    /// Expected discount per line, in the order of `lines`.
    discounts: Vec<i64>,
}

async fn the_cart_summary_and_the_order_agree_to_the_minor_unit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 100).await;
    let admin = shop.admin.access_token.clone();
    let rules = |effect: Value| json!({"effect": effect});
    let cases = |campaign: Uuid| -> Vec<Case> {
        let auto = |rules: Value, priority: i64, exclusive: bool| {
            let mut body = promotion_body(campaign, "AUTOMATIC", None, rules, "PLATFORM");
            body["priority"] = json!(priority);
            body["exclusive"] = json!(exclusive);
            body
        };
        vec![
            Case {
                name: "10 % off the order, floored and spread by line",
                promotions: vec![auto(
                    rules(json!({"type": "PERCENT_OFF", "percentBps": 1000, "target": "ORDER"})),
                    0,
                    false,
                )],
                lines: vec![(shop.latte, 3), (shop.scarf, 1)],
                codes: vec![],
                // 10 % of 5,515 = 551.5 → 551; 3,015 : 2,500 → 301.2 (+1 by remainder) and 249.8.
                discounts: vec![301, 250],
            },
            Case {
                name: "a category with its descendants, above a minimum quantity",
                promotions: vec![auto(
                    json!({
                    "conditions": {"items": {"categoryIds": [shop.food]}, "minQuantity": 3},
                    "effect": {"type": "AMOUNT_OFF", "amount": 700, "target": "LINES"}}),
                    0,
                    false,
                )],
                lines: vec![(shop.latte, 2), (shop.mocha, 1), (shop.scarf, 1)],
                codes: vec![],
                // 700 over 2,010 and 400: 583.8 → 584, 116.2 → 116.
                discounts: vec![584, 116, 0],
            },
            Case {
                name: "a code with a minimum spend, merchant-funded, on the merchant's lines",
                promotions: vec![{
                    let mut body = promotion_body(
                        campaign,
                        "CODE",
                        Some("KOPI300"),
                        json!({
                        "conditions": {"minSubtotal": 2000, "items": {"merchantIds": [shop.kopi.id]}},
                        "effect": {"type": "AMOUNT_OFF", "amount": 300, "target": "LINES"}}),
                        "MERCHANT",
                    );
                    body["perCustomerLimit"] = json!(1);
                    body
                }],
                lines: vec![(shop.latte, 2), (shop.scarf, 1)],
                codes: vec!["kopi300"],
                discounts: vec![300, 0],
            },
            Case {
                name: "buy 2 get 1 free, the cheapest of mixed prices",
                promotions: vec![auto(
                    json!({
                    "appliesTo": {"merchantIds": [shop.kopi.id]},
                    "effect": {"type": "BUY_X_GET_Y", "buy": 2, "get": 1, "percentBps": 10000}}),
                    0,
                    false,
                )],
                lines: vec![(shop.latte, 2), (shop.mocha, 1)],
                codes: vec![],
                discounts: vec![0, 400],
            },
            Case {
                name: "a fixed price for a product, capped",
                promotions: vec![auto(
                    json!({
                    "appliesTo": {"productIds": [shop.latte_product]},
                    "effect": {"type": "FIXED_PRICE", "unitPrice": 500},
                    "maxDiscount": 800}),
                    0,
                    false,
                )],
                lines: vec![(shop.latte, 2)],
                codes: vec![],
                discounts: vec![800],
            },
            Case {
                name: "stackable in priority order on what is left",
                promotions: vec![
                    auto(
                        rules(json!({"type": "AMOUNT_OFF", "amount": 1000, "target": "ORDER"})),
                        1,
                        false,
                    ),
                    auto(
                        rules(
                            json!({"type": "PERCENT_OFF", "percentBps": 5000, "target": "ORDER"}),
                        ),
                        9,
                        false,
                    ),
                ],
                lines: vec![(shop.scarf, 1)],
                codes: vec![],
                // 50 % of 2,500 first, then 1,000 of the 1,250 left.
                discounts: vec![2_250],
            },
            Case {
                name: "the best exclusive beats the stack",
                promotions: vec![
                    auto(
                        rules(json!({"type": "AMOUNT_OFF", "amount": 100, "target": "ORDER"})),
                        0,
                        false,
                    ),
                    auto(
                        rules(
                            json!({"type": "PERCENT_OFF", "percentBps": 3000, "target": "ORDER"}),
                        ),
                        0,
                        true,
                    ),
                    auto(
                        rules(
                            json!({"type": "PERCENT_OFF", "percentBps": 2000, "target": "ORDER"}),
                        ),
                        0,
                        true,
                    ),
                ],
                lines: vec![(shop.scarf, 1)],
                codes: vec![],
                discounts: vec![750],
            },
        ]
    };
    for (index, _) in cases(Uuid::nil()).iter().enumerate() {
        let campaign = running_campaign(&app, &admin, None, None).await;
        let case = cases(campaign).remove(index);
        for body in &case.promotions {
            promotion(&app, &admin, body.clone()).await;
        }
        let customer = app.customer(&format!("case{index}")).await;
        for (variant, quantity) in &case.lines {
            let added = app.add_to_cart(&customer, *variant, *quantity).await;
            assert_eq!(added.status, 200, "{}: {:?}", case.name, added.body);
        }
        for code in &case.codes {
            let entered = app
                .post(
                    "/api/v1/cart/coupons",
                    json!({"code": code}),
                    Some(&customer.access_token),
                )
                .await;
            assert_eq!(entered.status, 200, "{}: {:?}", case.name, entered.body);
        }
        let summary = app
            .get("/api/v1/cart/summary", Some(&customer.access_token))
            .await;
        assert_eq!(summary.status, 200, "{:?}", summary.body);
        let line_discount = |variant: Uuid| -> i64 {
            summary.body["merchants"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|m| m["lines"].as_array().unwrap().iter())
                .find(|l| uuid_of(&l["variantId"]) == variant)
                .and_then(|l| l["discount"].as_i64())
                .unwrap()
        };
        let seen: Vec<i64> = case.lines.iter().map(|(v, _)| line_discount(*v)).collect();
        assert_eq!(
            seen, case.discounts,
            "{}: summary {:?}",
            case.name, summary.body
        );
        let total: i64 = case.discounts.iter().sum();
        assert_eq!(summary.body["discount"], total, "{}", case.name);
        assert_eq!(
            summary.body["itemsTotal"].as_i64(),
            summary.body["subtotal"].as_i64().map(|s| s - total)
        );
        for coupon in summary.body["coupons"].as_array().unwrap() {
            assert_eq!(coupon["applied"], true, "{}: {coupon}", case.name);
        }

        let group = app.checkout(&customer, json!({}), None).await;
        assert_eq!(group.status, 201, "{}: {:?}", case.name, group.body);
        assert_eq!(group.body["discount"], total, "{}", case.name);
        assert_eq!(
            group.body["total"].as_i64(),
            group.body["subtotal"].as_i64().map(|s| s - total)
        );
        let ordered: Vec<i64> = case
            .lines
            .iter()
            .map(|(variant, _)| {
                group.body["orders"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|o| o["lines"].as_array().unwrap().iter())
                    .find(|l| uuid_of(&l["variantId"]) == *variant)
                    .and_then(|l| l["discount"].as_i64())
                    .unwrap()
            })
            .collect();
        assert_eq!(
            ordered, case.discounts,
            "{}: order {:?}",
            case.name, group.body
        );
        for order in group.body["orders"].as_array().unwrap() {
            let lines = order["lines"].as_array().unwrap();
            let discount: i64 = lines.iter().map(|l| l["discount"].as_i64().unwrap()).sum();
            assert_eq!(order["discount"], discount);
            let by_promotion: i64 = order["discounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["amount"].as_i64().unwrap())
                .sum();
            assert_eq!(by_promotion, discount, "{}: {order}", case.name);
            // Commission never exceeds what the customer pays for a line.
            for line in lines {
                let paid = line["lineTotal"].as_i64().unwrap() - line["discount"].as_i64().unwrap();
                assert!(line["commission"].as_i64().unwrap() <= paid, "{line}");
            }
        }
        app.pay_in_full(&customer, &group.body).await;
        end_campaign(&app, &admin, campaign).await;
    }

    // A code given with the checkout must apply; one on the cart that does not is shown
    // with its reason and left out.
    let campaign = running_campaign(&app, &admin, None, None).await;
    promotion(
        &app,
        &admin,
        promotion_body(
            campaign,
            "CODE",
            Some("BIGSPEND"),
            json!({
        "conditions": {"minSubtotal": 100000},
        "effect": {"type": "PERCENT_OFF", "percentBps": 1000, "target": "ORDER"}}),
            "PLATFORM",
        ),
    )
    .await;
    let customer = app.customer("picky").await;
    app.add_to_cart(&customer, shop.mocha, 1).await;
    let refused = app
        .checkout(&customer, json!({"couponCodes": ["BIGSPEND"]}), None)
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (422, "coupon_not_applicable"),
        "{:?}",
        refused.body
    );
    assert_eq!(refused.body["coupons"][0]["reason"], "minimum_spend");
    let summary = app
        .post(
            "/api/v1/cart/coupons",
            json!({"code": "bigspend"}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(
        summary.body["coupons"][0]["reason"], "minimum_spend",
        "{:?}",
        summary.body
    );
    assert_eq!(summary.body["discount"], 0);
    let bad = app
        .post(
            "/api/v1/cart/coupons",
            json!({"code": "no"}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!((bad.status, bad.code()), (422, "invalid_coupon"));
    let ordered = app.checkout(&customer, json!({}), None).await;
    assert_eq!(ordered.status, 201, "{:?}", ordered.body);
    assert_eq!(ordered.body["discount"], 0);
    app.stop().await;
}

/// Checks out one scarf with `codes` for `customer`, with an Idempotency-Key.
async fn checkout_with(
    app: &TestApp,
    customer: &Session,
    variant: Uuid,
    codes: &[&str],
) -> testkit::Resp {
    app.checkout(
        customer,
        json!({"lines": [{"variantId": variant, "quantity": 1}], "couponCodes": codes}),
        Some(&Uuid::now_v7().to_string()),
    )
    .await
}

async fn a_coupon_limited_to_10_uses_is_used_by_exactly_10_of_100_concurrent_checkouts(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 200).await;
    let admin = shop.admin.access_token.clone();
    let campaign = running_campaign(&app, &admin, None, None).await;
    let mut body = promotion_body(
        campaign,
        "CODE",
        Some("TEN"),
        json!({
        "effect": {"type": "AMOUNT_OFF", "amount": 500, "target": "ORDER"}}),
        "PLATFORM",
    );
    body["usageLimit"] = json!(10);
    let promo = promotion(&app, &admin, body).await;
    let mut customers = Vec::new();
    for i in 0..10 {
        customers.push(app.customer(&format!("rush{i}")).await);
    }
    let attempts = (0..100).map(|i| checkout_with(&app, &customers[i % 10], shop.scarf, &["TEN"]));
    let results = join_all(attempts).await;
    let won: Vec<&testkit::Resp> = results.iter().filter(|r| r.status == 201).collect();
    assert_eq!(
        won.len(),
        10,
        "exactly the limit: {:?}",
        results
            .iter()
            .map(|r| (r.status, r.code().to_owned()))
            .collect::<Vec<_>>()
    );
    for lost in results.iter().filter(|r| r.status != 201) {
        assert!(
            matches!(
                (lost.status, lost.code()),
                (422, "coupon_not_applicable") | (409, "promotion_unavailable")
            ),
            "{:?}",
            lost.body
        );
    }
    for order in &won {
        assert_eq!(order.body["discount"], 500);
    }
    let stored = app
        .get(
            &format!("/api/v1/promotions/{}", promo["id"].as_str().unwrap()),
            Some(&admin),
        )
        .await;
    assert_eq!(stored.body["uses"], 10);
    // Stock of the losers came back: only the winners hold a scarf.
    app.stock_reaches(&shop.batik, "SCARF", (200, 10)).await;
    // Paid, the uses count once each.
    for order in &won {
        let buyer = uuid_of(&order.body["customerId"]);
        let customer = customers
            .iter()
            .find(|c| c.user_id == buyer)
            .expect("buyer");
        app.pay_in_full(customer, &order.body).await;
    }
    let events = eventually(Duration::from_secs(10), "coupons redeemed", || async {
        let events = app.list_events("coupon.redeemed").await;
        (events.len() == 10).then_some(events)
    })
    .await;
    assert!(events.iter().all(|e| e["code"] == "TEN"));
    let after = app
        .get(
            &format!("/api/v1/promotions/{}", promo["id"].as_str().unwrap()),
            Some(&admin),
        )
        .await;
    assert_eq!(after.body["uses"], 10);
    app.stop().await;
}

async fn a_spend_budget_is_never_overspent_under_concurrency(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 200).await;
    let admin = shop.admin.access_token.clone();
    // 3,000 of budget; each checkout of one scarf gets 700 off: four fit (2,800), a fifth gets
    // only what is left (200), then nothing.
    let campaign = running_campaign(
        &app,
        &admin,
        None,
        Some(json!({"kind": "SPEND", "limit": 3000, "currency": "USD"})),
    )
    .await;
    promotion(
        &app,
        &admin,
        promotion_body(
            campaign,
            "AUTOMATIC",
            None,
            json!({
        "effect": {"type": "AMOUNT_OFF", "amount": 700, "target": "ORDER"}}),
            "PLATFORM",
        ),
    )
    .await;
    let mut customers = Vec::new();
    for i in 0..8 {
        customers.push(app.customer(&format!("budget{i}")).await);
    }
    let results =
        join_all((0..40).map(|i| checkout_with(&app, &customers[i % 8], shop.scarf, &[]))).await;
    let given: i64 = results
        .iter()
        .filter(|r| r.status == 201)
        .map(|r| r.body["discount"].as_i64().unwrap())
        .sum();
    for r in &results {
        assert!(
            r.status == 201 || (r.status, r.code()) == (409, "promotion_unavailable"),
            "{:?}",
            r.body
        );
    }
    let stored = app
        .get(&format!("/api/v1/campaigns/{campaign}"), Some(&admin))
        .await;
    assert_eq!(
        stored.body["spent"], given,
        "the campaign counts exactly what was given"
    );
    assert!(given <= 3_000, "never overspent: {given}");
    assert!(given >= 2_800, "the budget is used: {given}");
    // Spent in full, it stops applying at once, and says so.
    let more = checkout_with(&app, &customers[0], shop.scarf, &[]).await;
    if given == 3_000 {
        assert_eq!(more.body["discount"], 0, "{:?}", more.body);
        assert!(!app
            .list_events("campaign.budget_exhausted")
            .await
            .is_empty());
    }
    app.stop().await;
}

async fn cancellation_releases_a_use_and_a_full_refund_gives_it_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 20).await;
    let admin = shop.admin.access_token.clone();
    let campaign = running_campaign(&app, &admin, None, None).await;
    let mut body = promotion_body(
        campaign,
        "CODE",
        Some("ONCE"),
        json!({
        "effect": {"type": "PERCENT_OFF", "percentBps": 1000, "target": "ORDER"}}),
        "PLATFORM",
    );
    body["usageLimit"] = json!(1);
    let promo = promotion(&app, &admin, body).await;
    let path = format!("/api/v1/promotions/{}", promo["id"].as_str().unwrap());
    let uses = || async {
        app.get(&path, Some(&admin)).await.body["uses"]
            .as_i64()
            .unwrap()
    };
    let first = app.customer("first").await;
    let second = app.customer("second").await;

    let group = checkout_with(&app, &first, shop.scarf, &["ONCE"]).await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    assert_eq!(uses().await, 1);
    let taken = checkout_with(&app, &second, shop.scarf, &["ONCE"]).await;
    assert_eq!(taken.code(), "coupon_not_applicable");
    assert_eq!(taken.body["coupons"][0]["reason"], "exhausted");

    // Cancelled before payment: the use comes back.
    let order_id = uuid_of(&group.body["orders"][0]["id"]);
    let cancelled = app
        .post(
            &format!("/api/v1/orders/{order_id}/cancel"),
            json!({"reason": "changed my mind"}),
            Some(&first.access_token),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    eventually(Duration::from_secs(10), "use released", || async {
        (uses().await == 0).then_some(())
    })
    .await;
    assert_eq!(
        app.list_events("coupon.released").await[0]["state"],
        "RELEASED"
    );

    // Paid, then refunded in full (cancelled after payment): the use comes back again.
    let group = checkout_with(&app, &second, shop.scarf, &["ONCE"]).await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    assert_eq!(group.body["total"], 2_250);
    app.pay_in_full(&second, &group.body).await;
    assert_eq!(uses().await, 1);
    let order_id = uuid_of(&group.body["orders"][0]["id"]);
    let cancelled = app
        .post(
            &format!("/api/v1/orders/{order_id}/cancel"),
            json!({"reason": "too late"}),
            Some(&second.access_token),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    let refunded = eventually(Duration::from_secs(15), "refund", || async {
        let order = app
            .get(
                &format!("/api/v1/orders/{order_id}"),
                Some(&second.access_token),
            )
            .await;
        (order.body["refunded"] == order.body["total"]).then_some(order.body)
    })
    .await;
    assert_eq!(
        refunded["refunded"], 2_250,
        "the customer gets back what they paid"
    );
    eventually(Duration::from_secs(10), "use returned", || async {
        (uses().await == 0).then_some(())
    })
    .await;
    let released = app.list_events("coupon.released").await;
    assert_eq!(released.last().unwrap()["state"], "RETURNED");

    // Delivered, returned and refunded: the use comes back too.
    let third = app.customer("third").await;
    let group = checkout_with(&app, &third, shop.scarf, &["ONCE"]).await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    app.pay_in_full(&third, &group.body).await;
    let order_id = uuid_of(&group.body["orders"][0]["id"]);
    let owner = shop.batik.owner.access_token.clone();
    for to in ["PROCESSING", "SHIPPED", "DELIVERED", "RETURNED"] {
        let moved = app
            .patch(
                &format!("/api/v1/orders/{order_id}/status"),
                json!({"status": to}),
                Some(&owner),
            )
            .await;
        assert_eq!(moved.status, 200, "{to}: {:?}", moved.body);
    }
    app.order_reaches(&third, order_id, "REFUNDED").await;
    eventually(
        Duration::from_secs(10),
        "use returned after the return",
        || async { (uses().await == 0).then_some(()) },
    )
    .await;
    app.trial_balance(&shop.admin).await;

    // Discounted to nothing: refused before anything is taken (payments collects a positive
    // amount).
    let mut free = promotion_body(
        campaign,
        "CODE",
        Some("FREE"),
        json!({
        "effect": {"type": "PERCENT_OFF", "percentBps": 10000, "target": "ORDER"}}),
        "PLATFORM",
    );
    free["usageLimit"] = json!(5);
    promotion(&app, &admin, free).await;
    let before = app.stock_of(&shop.batik, "SCARF").await;
    let nothing = checkout_with(&app, &first, shop.scarf, &["FREE"]).await;
    assert_eq!(
        (nothing.status, nothing.code()),
        (422, "nothing_to_pay"),
        "{:?}",
        nothing.body
    );
    assert_eq!(app.stock_of(&shop.batik, "SCARF").await, before);

    // The figures follow: two uses paid and taken back.
    let figures = app
        .get("/api/v1/admin/analytics/promotions", Some(&admin))
        .await;
    assert_eq!(figures.status, 200);
    let mine = &figures.body["promotions"][0];
    assert_eq!(mine["uses"], 0, "{mine}");
    assert_eq!(mine["uniqueCustomers"], 2);
    assert_eq!(
        mine["revenue"], 0,
        "the refunded order's revenue is taken back"
    );
    let theirs = &figures.body["campaigns"][0];
    assert_eq!(
        (theirs["uses"].as_i64(), theirs["revenue"].as_i64()),
        (Some(0), Some(0)),
        "{theirs}"
    );
    assert_eq!(theirs["discountPlatform"], 0);
    let denied = app
        .get(
            "/api/v1/admin/analytics/promotions",
            Some(&first.access_token),
        )
        .await;
    assert_eq!(denied.status, 403);
    app.stop().await;
}

async fn the_ledger_pays_each_bearer_as_documented_and_balances(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 20).await;
    let admin = shop.admin.access_token.clone();
    let owner = shop.batik.owner.access_token.clone();
    let payable = format!("merchant_payable:{}", shop.batik.id);
    // Three scarves (25.00, commission 10 %), each bought with a code of a different bearer:
    // 20 % off = 500.
    let platform_campaign = running_campaign(&app, &admin, None, None).await;
    let merchant_campaign = running_campaign(&app, &owner, Some(shop.batik.id), None).await;
    let twenty = json!({"effect": {"type": "PERCENT_OFF", "percentBps": 2000, "target": "ORDER"}});
    promotion(
        &app,
        &admin,
        promotion_body(
            platform_campaign,
            "CODE",
            Some("PLATFORM20"),
            twenty.clone(),
            "PLATFORM",
        ),
    )
    .await;
    promotion(
        &app,
        &owner,
        promotion_body(
            merchant_campaign,
            "CODE",
            Some("BATIK20"),
            twenty.clone(),
            "MERCHANT",
        ),
    )
    .await;
    let mut shared = promotion_body(
        platform_campaign,
        "CODE",
        Some("SHARED20"),
        twenty,
        "SHARED",
    );
    shared["merchantShareBps"] = json!(4000);
    promotion(&app, &admin, shared).await;

    let mut expected_payable = 0;
    let mut expected_revenue = 0;
    let mut expected_expense = 0;
    for (code, platform_part, merchant_part) in [
        ("PLATFORM20", 500, 0),
        ("BATIK20", 0, 500),
        ("SHARED20", 300, 200),
    ] {
        let customer = app.customer(&code.to_lowercase()).await;
        let group = checkout_with(&app, &customer, shop.scarf, &[code]).await;
        assert_eq!(group.status, 201, "{code}: {:?}", group.body);
        let line = &group.body["orders"][0]["lines"][0];
        assert_eq!(line["discount"], 500);
        assert_eq!(line["platformDiscount"], platform_part, "{code}");
        // Commission on what the merchant sells for after its own discount.
        let commission = (2_500 - merchant_part) / 10;
        assert_eq!(line["commission"], commission, "{code}");
        app.pay_in_full(&customer, &group.body).await;
        let order_id = uuid_of(&group.body["orders"][0]["id"]);
        for to in ["PROCESSING", "SHIPPED", "DELIVERED"] {
            let moved = app
                .patch(
                    &format!("/api/v1/orders/{order_id}/status"),
                    json!({"status": to}),
                    Some(&owner),
                )
                .await;
            assert_eq!(moved.status, 200, "{code} {to}: {:?}", moved.body);
        }
        // The merchant gets what it sells for after its own discount, less commission.
        expected_payable += 2_500 - merchant_part - commission;
        expected_revenue += commission;
        expected_expense -= platform_part;
        app.account_reaches(&shop.admin, "USD", &payable, expected_payable)
            .await;
        assert_eq!(
            app.account_balance(&shop.admin, "USD", "platform_revenue")
                .await,
            expected_revenue,
            "{code}"
        );
        assert_eq!(
            app.account_balance(&shop.admin, "USD", "promotion_expense")
                .await,
            expected_expense,
            "{code}"
        );
        assert_eq!(
            app.account_balance(&shop.admin, "USD", "customer_clearing")
                .await,
            0,
            "{code}"
        );
        app.trial_balance(&shop.admin).await;
    }
    // Platform-funded: the merchant is whole (2,250 = 2,500 − 250 commission).
    assert_eq!(expected_payable, 2_250 + 1_800 + 2_070);

    // The figures, from the events: the platform's campaign had two paid checkouts (platform
    // and shared), the merchant's one; each checkout paid 2,000.
    let figures = app
        .get("/api/v1/admin/analytics/promotions", Some(&admin))
        .await;
    let campaign = |id: Uuid| {
        figures.body["campaigns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| uuid_of(&c["campaignId"]) == id)
            .cloned()
            .unwrap()
    };
    let platform = campaign(platform_campaign);
    assert_eq!(platform["uses"], 2, "{platform}");
    assert_eq!(platform["uniqueCustomers"], 2);
    assert_eq!(platform["discountPlatform"], 800);
    assert_eq!(platform["discountMerchant"], 200);
    assert_eq!(platform["revenue"], 4_000);
    assert_eq!(platform["roi"], 4.0);
    let own = app
        .get(
            &format!("/api/v1/merchants/{}/analytics/promotions", shop.batik.id),
            Some(&owner),
        )
        .await;
    assert_eq!(own.status, 200, "{:?}", own.body);
    assert_eq!(own.body["campaigns"].as_array().map(Vec::len), Some(1));
    assert_eq!(own.body["campaigns"][0]["discountMerchant"], 500);
    assert_eq!(own.body["promotions"][0]["uses"], 1);
    let other = app
        .get(
            &format!("/api/v1/merchants/{}/analytics/promotions", shop.batik.id),
            Some(&shop.kopi.owner.access_token),
        )
        .await;
    assert_eq!(other.status, 403);
    app.stop().await;
}

async fn an_expired_checkout_releases_its_use_and_budget(backend: Backend) {
    let app = TestApp::spawn_with_payment_window(backend, 2).await;
    let shop = shop(&app, 20).await;
    let admin = shop.admin.access_token.clone();
    let campaign = running_campaign(
        &app,
        &admin,
        None,
        Some(json!({"kind": "SPEND", "limit": 10000, "currency": "USD"})),
    )
    .await;
    let mut body = promotion_body(
        campaign,
        "CODE",
        Some("LATER"),
        json!({
        "effect": {"type": "AMOUNT_OFF", "amount": 700, "target": "ORDER"}}),
        "PLATFORM",
    );
    body["usageLimit"] = json!(1);
    let promo = promotion(&app, &admin, body).await;
    let path = format!("/api/v1/promotions/{}", promo["id"].as_str().unwrap());
    let customer = app.customer("slow").await;
    let group = checkout_with(&app, &customer, shop.scarf, &["LATER"]).await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    let stored = app
        .get(&format!("/api/v1/campaigns/{campaign}"), Some(&admin))
        .await;
    assert_eq!(
        (stored.body["spent"].as_i64(), stored.body["uses"].as_i64()),
        (Some(700), Some(1))
    );
    // Unpaid past the window: the order expires, the use and the budget come back.
    app.order_reaches(
        &customer,
        uuid_of(&group.body["orders"][0]["id"]),
        "EXPIRED",
    )
    .await;
    eventually(Duration::from_secs(10), "use released", || async {
        let uses = app.get(&path, Some(&admin)).await.body["uses"].as_i64();
        let campaign = app
            .get(&format!("/api/v1/campaigns/{campaign}"), Some(&admin))
            .await
            .body;
        (uses == Some(0) && campaign["spent"] == 0 && campaign["uses"] == 0).then_some(())
    })
    .await;
    let again = checkout_with(&app, &customer, shop.scarf, &["LATER"]).await;
    assert_eq!(again.status, 201, "usable again: {:?}", again.body);
    app.stop().await;
}

/// Currencies without a minor unit: the same rules, the same integers, summary and order equal.
async fn riel_and_rupiah_carts_agree_with_their_orders(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let warung = app.merchant("Warung").await;
    let category = app.category(&admin, "snacks", None).await;
    for (currency, first, second) in [("KHR", 4_100, 9_900), ("IDR", 15_500, 7_250)] {
        let sku = |n: u8| format!("{currency}-{n}");
        let (p1, v1) = app
            .draft_product_in(&warung, category, &sku(1), &sku(1), first, currency)
            .await;
        let (p2, v2) = app
            .draft_product_in(&warung, category, &sku(2), &sku(2), second, currency)
            .await;
        for (product, sku) in [(p1, sku(1)), (p2, sku(2))] {
            app.activate_product(&warung, &admin, product).await;
            app.set_stock(&warung, &sku, 50).await;
        }
        let campaign = running_campaign(&app, &admin.access_token, None, None).await;
        let mut body = promotion_body(
            campaign,
            "AUTOMATIC",
            None,
            json!({
            "effect": {"type": "PERCENT_OFF", "percentBps": 333, "target": "ORDER"}}),
            "PLATFORM",
        );
        body["currency"] = json!(currency);
        promotion(&app, &admin.access_token, body).await;
        let customer = app.customer(&format!("buyer-{currency}")).await;
        app.add_to_cart(&customer, v1, 3).await;
        app.add_to_cart(&customer, v2, 1).await;
        let summary = app
            .get("/api/v1/cart/summary", Some(&customer.access_token))
            .await;
        let subtotal = 3 * first + second;
        let expected = subtotal * 333 / 10_000;
        assert_eq!(
            summary.body["discount"], expected,
            "{currency}: {:?}",
            summary.body
        );
        let group = app.checkout(&customer, json!({}), None).await;
        assert_eq!(group.status, 201, "{:?}", group.body);
        assert_eq!(group.body["discount"], expected);
        assert_eq!(group.body["total"], subtotal - expected);
        let summary_lines: Vec<i64> = summary.body["merchants"][0]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["discount"].as_i64().unwrap())
            .collect();
        let order_lines: Vec<i64> = [v1, v2]
            .iter()
            .map(|v| {
                group.body["orders"][0]["lines"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|l| uuid_of(&l["variantId"]) == *v)
                    .and_then(|l| l["discount"].as_i64())
                    .unwrap()
            })
            .collect();
        assert_eq!(summary_lines, order_lines, "{currency}");
        end_campaign(&app, &admin.access_token, campaign).await;
    }
    app.stop().await;
}

async fn a_uses_budget_counts_checkouts_and_a_released_checkout_takes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 50).await;
    let admin = shop.admin.access_token.clone();
    // Two uses of budget, two automatic promotions: each checkout is one use of the campaign.
    let campaign = running_campaign(
        &app,
        &admin,
        None,
        Some(json!({"kind": "USES", "limit": 2})),
    )
    .await;
    for amount in [100, 200] {
        promotion(
            &app,
            &admin,
            promotion_body(
                campaign,
                "AUTOMATIC",
                None,
                json!({
            "effect": {"type": "AMOUNT_OFF", "amount": amount, "target": "ORDER"}}),
                "PLATFORM",
            ),
        )
        .await;
    }
    let customer = app.customer("counted").await;
    for _ in 0..2 {
        let group = checkout_with(&app, &customer, shop.scarf, &[]).await;
        assert_eq!(group.body["discount"], 300, "{:?}", group.body);
    }
    let stored = app
        .get(&format!("/api/v1/campaigns/{campaign}"), Some(&admin))
        .await;
    assert_eq!(stored.body["uses"], 2);
    let third = checkout_with(&app, &customer, shop.scarf, &[]).await;
    assert_eq!(third.status, 201);
    assert_eq!(third.body["discount"], 0, "the budget is used up");

    // A reservation that arrives after its checkout was released takes nothing.
    let campaign = running_campaign(&app, &admin, None, None).await;
    let promo = promotion(
        &app,
        &admin,
        promotion_body(
            campaign,
            "AUTOMATIC",
            None,
            json!({
        "effect": {"type": "AMOUNT_OFF", "amount": 100, "target": "ORDER"}}),
            "PLATFORM",
        ),
    )
    .await;
    let client = promotions_contract::PromotionsClient::new(app.ctx().services.clone(), "test");
    let group_id = Uuid::now_v7();
    client.release(group_id).await.expect("release");
    let late = client
        .reserve(&promotions_contract::ReservePromotions {
            group_id,
            customer_id: customer.user_id,
            currency: kernel::Currency::Usd,
            promotions: vec![promotions_contract::ReservedPromotion {
                promotion_id: uuid_of(&promo["id"]),
                code: None,
                amount: 100,
                orders: vec![],
            }],
        })
        .await;
    assert!(
        late.as_ref()
            .is_err_and(|e| e.is(promotions_contract::PromotionsCode::PromotionUnavailable)),
        "{late:?}"
    );
    let stored = app
        .get(
            &format!("/api/v1/promotions/{}", promo["id"].as_str().unwrap()),
            Some(&admin),
        )
        .await;
    assert_eq!(stored.body["uses"], 0);
    app.stop().await;
}

async fn a_checkout_priced_as_a_whole_is_cancelled_as_a_whole(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 20).await;
    let admin = shop.admin.access_token.clone();
    // 5.00 off from a subtotal of 30.00: Kopi's latte alone would not reach it.
    let campaign = running_campaign(&app, &admin, None, None).await;
    promotion(
        &app,
        &admin,
        promotion_body(
            campaign,
            "AUTOMATIC",
            None,
            json!({
        "conditions": {"minSubtotal": 3000},
        "effect": {"type": "AMOUNT_OFF", "amount": 500, "target": "ORDER"}}),
            "PLATFORM",
        ),
    )
    .await;
    let customer = app.customer("whole").await;
    let group = app
        .checkout(
            &customer,
            json!({"lines": [
            {"variantId": shop.latte, "quantity": 1}, {"variantId": shop.scarf, "quantity": 1}]}),
            None,
        )
        .await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    assert_eq!(group.body["discount"], 500);
    let orders: Vec<Uuid> = group.body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| uuid_of(&o["id"]))
        .collect();
    let cancelled = app
        .post(
            &format!("/api/v1/orders/{}/cancel", orders[0]),
            json!({}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    // The other order would keep a discount it no longer earns: it goes too.
    app.order_reaches(&customer, orders[1], "CANCELLED").await;
    app.stock_reaches(&shop.batik, "SCARF", (20, 0)).await;
    app.stock_reaches(&shop.kopi, "LATTE", (20, 0)).await;
    app.stop().await;
}
