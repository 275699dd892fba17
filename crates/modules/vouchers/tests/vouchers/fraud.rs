//! Fraud scoring through the real API: the bands route to approve, review (value held, case
//! opened) and block (nothing taken, case opened); admins decide cases and change the rules
//! without a deploy. Also PIN lockout, printed and stale QR codes, and what staff of another
//! merchant can learn.

use std::time::Duration;

use serde_json::{json, Value};
use testkit::{
    on_both_backends, uuid_of, Backend, MerchantFixture, Session, TestApp, OUTLET_LOCATION,
};
use uuid::Uuid;

on_both_backends!(score_bands_route_to_approve_review_and_block);
on_both_backends!(pins_lock_tokens_expire_and_other_merchants_learn_nothing);

/// A shop with a cashier, an outlet and a USD 10 gift-card offer; `count` bought by a
/// customer.
struct Shop {
    admin: Session,
    merchant: MerchantFixture,
    cashier: Session,
    outlet: Uuid,
    buyer: Session,
    vouchers: Vec<Value>,
}

async fn shop(app: &TestApp, name: &str, count: i64) -> Shop {
    let admin = app.admin().await;
    let merchant = app.merchant(name).await;
    let cashier = app.staff(&merchant, "cashier").await;
    let category = app
        .category(&admin, &format!("cat-{}", name.len()), None)
        .await;
    let outlet = app.outlet(&merchant, "Main", OUTLET_LOCATION).await;
    let sku = format!("GC-{}", name.len());
    let (_, variant) = app
        .voucher_offer(&merchant, &admin, category, &sku, 1_000, 50, json!({}))
        .await;
    let buyer = app.customer(&format!("buyer-{}", name.len())).await;
    app.paid_order(&buyer, variant, count).await;
    let vouchers = app.wallet_with(&buyer, "ACTIVE", count as usize).await;
    Shop {
        admin,
        merchant,
        cashier,
        outlet,
        buyer,
        vouchers,
    }
}

fn far_away(token: &str) -> Value {
    // Siem Reap, about 230 km from the outlet.
    json!({"token": token, "location": {"latitude": 13.3633, "longitude": 103.8564}})
}

async fn score_bands_route_to_approve_review_and_block(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = shop(&app, "Angkor Cafe", 3).await;
    let ids: Vec<Uuid> = s.vouchers.iter().map(|v| uuid_of(&v["id"])).collect();

    // Review: far from the outlet (40) + new device (10) + just bought (15) = 65.
    let token = app.qr_token(&s.buyer, ids[0], false).await;
    let held = app
        .redeem(&s.cashier, s.outlet, "tablet-9", far_away(&token), None)
        .await;
    assert_eq!(held.status, 201, "{:?}", held.body);
    assert_eq!(held.body["status"], "PENDING_REVIEW", "{:?}", held.body);
    assert_eq!(held.body["score"], 65);
    let rules: Vec<&str> = held.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["rule"].as_str())
        .collect();
    assert_eq!(rules, vec!["distance", "newDevice", "quickAfterIssue"]);
    let item = app
        .get(
            &format!("/api/v1/wallet/{}", ids[0]),
            Some(&s.buyer.access_token),
        )
        .await;
    assert_eq!(
        (
            item.body["balance"].as_i64(),
            item.body["pendingReview"].as_bool()
        ),
        (Some(0), Some(true))
    );
    assert!(
        app.list_events("voucher.redeemed").await.is_empty(),
        "held value is not earned yet"
    );
    let case = uuid_of(&held.body["caseId"]);
    let cashier_try = app
        .post(
            &format!("/api/v1/admin/fraud-cases/{case}/approve"),
            json!({"note": "ok"}),
            Some(&s.cashier.access_token),
        )
        .await;
    assert_eq!(cashier_try.status, 403);
    let approved = app
        .post(
            &format!("/api/v1/admin/fraud-cases/{case}/approve"),
            json!({"note": "customer called ahead"}),
            Some(&s.admin.access_token),
        )
        .await;
    assert_eq!(approved.status, 200, "{:?}", approved.body);
    assert_eq!(approved.body["redemption"]["status"], "APPROVED");
    let log: Vec<&str> = approved.body["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(log, vec!["OPENED", "APPROVED"]);
    let twice = app
        .post(
            &format!("/api/v1/admin/fraud-cases/{case}/reject"),
            json!({"note": "no"}),
            Some(&s.admin.access_token),
        )
        .await;
    assert_eq!((twice.status, twice.code()), (409, "case_closed"));
    // Each case opened and decided once, for the admin summary's count of open cases.
    let opened = app.list_events("voucher.fraud_case_opened").await;
    let closed = app.list_events("voucher.fraud_case_closed").await;
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!(
        (
            &opened[0]["caseId"],
            &opened[0]["redemptionStatus"],
            &opened[0]["score"]
        ),
        (
            &json!(case.to_string()),
            &json!("PENDING_REVIEW"),
            &json!(65)
        )
    );
    assert_eq!(closed.len(), 1, "{closed:?}");
    assert_eq!(
        (&closed[0]["caseId"], &closed[0]["decision"]),
        (&json!(case.to_string()), &json!("APPROVED"))
    );
    app.account_reaches(
        &s.admin,
        "USD",
        &format!("merchant_payable:{}", s.merchant.id),
        900,
    )
    .await;

    // Block: three wrong PINs (35) on top of the distance (40) and recency (15) = 90.
    let code = s.vouchers[1]["code"].as_str().unwrap();
    for _ in 0..3 {
        let wrong = app
            .redeem(
                &s.cashier,
                s.outlet,
                "tablet-9",
                json!({"code": code, "pin": "000000"}),
                None,
            )
            .await;
        assert_eq!(
            (wrong.status, wrong.code()),
            (403, "wrong_pin"),
            "{:?}",
            wrong.body
        );
    }
    let token = app.qr_token(&s.buyer, ids[1], false).await;
    let blocked = app
        .redeem(&s.cashier, s.outlet, "tablet-9", far_away(&token), None)
        .await;
    assert_eq!(blocked.body["status"], "BLOCKED", "{:?}", blocked.body);
    let item = app
        .get(
            &format!("/api/v1/wallet/{}", ids[1]),
            Some(&s.buyer.access_token),
        )
        .await;
    assert_eq!(
        item.body["balance"], 1_000,
        "a blocked redemption takes nothing"
    );
    let queue = app
        .get(
            "/api/v1/admin/fraud-cases?status=OPEN",
            Some(&s.admin.access_token),
        )
        .await;
    assert_eq!(
        queue.body["items"].as_array().map(Vec::len),
        Some(1),
        "{:?}",
        queue.body
    );
    let case = uuid_of(&blocked.body["caseId"]);
    let rejected = app
        .post(
            &format!("/api/v1/admin/fraud-cases/{case}/reject"),
            json!({"note": "device far away"}),
            Some(&s.admin.access_token),
        )
        .await;
    assert_eq!(
        rejected.body["redemption"]["status"], "REJECTED",
        "{:?}",
        rejected.body
    );
    let blank = app
        .post(
            &format!("/api/v1/admin/fraud-cases/{case}/approve"),
            json!({"note": " "}),
            Some(&s.admin.access_token),
        )
        .await;
    assert_eq!(blank.status, 422, "a decision needs a note");

    // Rules change without a deploy: a new version makes any new device a block.
    let current = app
        .get("/api/v1/admin/fraud-rules", Some(&s.admin.access_token))
        .await;
    assert_eq!(current.body["version"], 0);
    let mut rules = current.body["rules"].clone();
    rules["newDevice"]["points"] = json!(80);
    let saved = app
        .put(
            "/api/v1/admin/fraud-rules",
            rules.clone(),
            Some(&s.admin.access_token),
        )
        .await;
    assert_eq!(
        (saved.status, saved.body["version"].as_i64()),
        (200, Some(1)),
        "{:?}",
        saved.body
    );
    rules["blockAbove"] = json!(10);
    let bad = app
        .put(
            "/api/v1/admin/fraud-rules",
            rules,
            Some(&s.admin.access_token),
        )
        .await;
    assert_eq!(bad.status, 422, "bands must be ordered: {:?}", bad.body);
    let token = app.qr_token(&s.buyer, ids[2], false).await;
    let novel = app
        .redeem(
            &s.cashier,
            s.outlet,
            "phone-new",
            json!({"token": token}),
            None,
        )
        .await;
    assert_eq!(novel.body["status"], "BLOCKED", "{:?}", novel.body);
    // An approved-after-block redemption is carried out at approval.
    let case = uuid_of(&novel.body["caseId"]);
    let approved = app
        .post(
            &format!("/api/v1/admin/fraud-cases/{case}/approve"),
            json!({"note": "new till, verified"}),
            Some(&s.admin.access_token),
        )
        .await;
    assert_eq!(
        approved.body["redemption"]["balanceAfter"], 0,
        "{:?}",
        approved.body
    );
    app.account_reaches(
        &s.admin,
        "USD",
        &format!("merchant_payable:{}", s.merchant.id),
        1_800,
    )
    .await;
    app.trial_balance(&s.admin).await;
    app.stop().await;
}

async fn pins_lock_tokens_expire_and_other_merchants_learn_nothing(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        |c| {
            c.edit_section(|v: &mut vouchers::config::VouchersConfig| v.qr_step_secs = 1)
                .expect("vouchers section")
        },
        Vec::new(),
    )
    .await;
    let s = shop(&app, "Mekong Books", 3).await;
    let ids: Vec<Uuid> = s.vouchers.iter().map(|v| uuid_of(&v["id"])).collect();

    // A screen token older than one step is a screenshot.
    let token = app.qr_token(&s.buyer, ids[0], false).await;
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let stale = app
        .redeem(
            &s.cashier,
            s.outlet,
            "till-1",
            json!({"token": token}),
            None,
        )
        .await;
    assert_eq!(
        (stale.status, stale.code()),
        (409, "token_stale"),
        "{:?}",
        stale.body
    );
    let forged = app
        .redeem(
            &s.cashier,
            s.outlet,
            "till-1",
            json!({"token": format!("{token}x")}),
            None,
        )
        .await;
    assert_eq!((forged.status, forged.code()), (400, "invalid_token"));

    // A printed code does not rotate but needs the PIN.
    let printed = app.qr_token(&s.buyer, ids[0], true).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let no_pin = app
        .redeem(
            &s.cashier,
            s.outlet,
            "till-1",
            json!({"token": printed}),
            None,
        )
        .await;
    assert_eq!((no_pin.status, no_pin.code()), (422, "pin_required"));
    let with_pin = app
        .redeem(
            &s.cashier,
            s.outlet,
            "till-1",
            json!({"token": printed, "pin": s.vouchers[0]["pin"]}),
            None,
        )
        .await;
    assert_eq!(with_pin.status, 201, "{:?}", with_pin.body);

    // Five wrong PINs lock the code path; the live QR still works.
    let code = s.vouchers[1]["code"].as_str().unwrap();
    let mut last = None;
    for _ in 0..5 {
        last = Some(
            app.redeem(
                &s.cashier,
                s.outlet,
                "till-1",
                json!({"code": code, "pin": "999999"}),
                None,
            )
            .await,
        );
    }
    let last = last.unwrap();
    assert_eq!(
        (last.status, last.code()),
        (423, "voucher_locked"),
        "{:?}",
        last.body
    );
    let right_pin = app
        .redeem(
            &s.cashier,
            s.outlet,
            "till-1",
            json!({"code": code, "pin": s.vouchers[1]["pin"]}),
            None,
        )
        .await;
    assert_eq!(right_pin.status, 423, "locked even with the right PIN");
    let item = app
        .get(
            &format!("/api/v1/wallet/{}", ids[1]),
            Some(&s.buyer.access_token),
        )
        .await;
    assert_eq!(item.body["locked"], true);

    // A cashier of another merchant learns nothing about this voucher.
    let other = app.merchant("Other Shop").await;
    let their_cashier = app.staff(&other, "cashier").await;
    let their_outlet = app.outlet(&other, "Elsewhere", OUTLET_LOCATION).await;
    let code = s.vouchers[2]["code"].as_str().unwrap();
    let unknown = app
        .redeem(
            &their_cashier,
            their_outlet,
            "till-x",
            json!({"code": code, "pin": s.vouchers[2]["pin"]}),
            None,
        )
        .await;
    let nonsense = app
        .redeem(
            &their_cashier,
            their_outlet,
            "till-x",
            json!({"code": "ZZZZ-ZZZZ-ZZZZ", "pin": "123456"}),
            None,
        )
        .await;
    assert_eq!((unknown.status, unknown.code()), (404, "voucher_not_found"));
    assert_eq!(
        unknown.body["detail"], nonsense.body["detail"],
        "the same answer as for a code that does not exist"
    );
    let token = app.qr_token(&s.buyer, ids[2], false).await;
    let by_qr = app
        .redeem(
            &their_cashier,
            their_outlet,
            "till-x",
            json!({"token": token}),
            None,
        )
        .await;
    assert_eq!((by_qr.status, by_qr.code()), (404, "voucher_not_found"));
    let at_our_outlet = app
        .redeem(
            &their_cashier,
            s.outlet,
            "till-x",
            json!({"token": token}),
            None,
        )
        .await;
    assert_eq!(
        at_our_outlet.status, 403,
        "staff redeem only at their merchant's outlets"
    );
    let customer = app
        .redeem(&s.buyer, s.outlet, "phone", json!({"token": token}), None)
        .await;
    assert_eq!(customer.status, 403);
    let item = app
        .get(
            &format!("/api/v1/wallet/{}", ids[2]),
            Some(&s.buyer.access_token),
        )
        .await;
    assert_eq!(
        (item.body["status"].as_str(), item.body["balance"].as_i64()),
        (Some("ACTIVE"), Some(1_000))
    );
    // Their redemption list shows none of ours.
    let theirs = app
        .get(
            &format!("/api/v1/redemptions?merchantId={}", other.id),
            Some(&their_cashier.access_token),
        )
        .await;
    assert_eq!(theirs.body["items"].as_array().map(Vec::len), Some(0));
    let ours = app
        .get(
            &format!("/api/v1/redemptions?merchantId={}", s.merchant.id),
            Some(&their_cashier.access_token),
        )
        .await;
    assert_eq!(ours.status, 403);
    app.stop().await;
}
