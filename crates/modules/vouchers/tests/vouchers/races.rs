//! Races at the counter and in the wallet, decided by single conditional statements:
//! parallel redeems of one voucher, parallel claims against caps, a redeem against a gift,
//! and a payout run started twice.

use futures_util::future::join_all;
use serde_json::json;
use testkit::{on_both_backends, uuid_of, Backend, TestApp, OUTLET_LOCATION};

on_both_backends!(fifty_parallel_redeems_of_one_voucher_make_one_redemption);
on_both_backends!(parallel_claims_never_pass_the_caps);
on_both_backends!(redeem_and_gift_at_the_same_moment_one_wins);
on_both_backends!(a_burst_of_pin_guesses_is_compared_at_most_the_limit);

/// Thirty wrong PINs and the right one in one burst: the guesses are compared one after the
/// other, none once the fifth wrong one locked the voucher, so the right PIN redeems only if
/// it was compared before the lock, and no more than five wrong ones are ever compared.
async fn a_burst_of_pin_guesses_is_compared_at_most_the_limit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let shop = app.merchant("Kiosk Pin").await;
    let cashier = app.staff(&shop, "cashier").await;
    let category = app.category(&admin, "pins", None).await;
    let outlet = app.outlet(&shop, "Main", OUTLET_LOCATION).await;
    let (_, variant) = app
        .voucher_offer(&shop, &admin, category, "PIN-1", 1_000, 10, json!({}))
        .await;
    let buyer = app.customer("pinholder").await;
    app.paid_order(&buyer, variant, 3).await;
    let vouchers = app.wallet_with(&buyer, "ACTIVE", 3).await;
    for voucher in &vouchers {
        let right = voucher["pin"].as_str().unwrap().to_owned();
        let wrong = if right == "000000" {
            "111111"
        } else {
            "000000"
        };
        let guesses = (0..31).map(|i| {
            let pin = if i == 15 {
                right.clone()
            } else {
                wrong.to_owned()
            };
            let (app, cashier) = (&app, &cashier);
            async move {
                let presented = json!({"code": voucher["code"], "pin": pin});
                let answer = app
                    .redeem(cashier, outlet, &format!("till-{}", i % 4), presented, None)
                    .await;
                (i == 15, answer)
            }
        });
        let answers = join_all(guesses).await;
        let compared_wrong = answers
            .iter()
            .filter(|(right, a)| !right && a.code() == "wrong_pin")
            .count();
        // Four wrong PINs leave tries; the fifth locks. A right PIN resets the count.
        let redeemed = answers.iter().any(|(right, a)| *right && a.status == 201);
        let bound = if redeemed { 8 } else { 4 };
        assert!(
            compared_wrong <= bound,
            "{compared_wrong} wrong PINs compared"
        );
        for (is_right, answer) in &answers {
            let expected: &[u16] = if *is_right { &[201, 423] } else { &[403, 423] };
            assert!(expected.contains(&answer.status), "{:?}", answer.body);
        }
        let id = uuid_of(&voucher["id"]);
        let (failed, locked): (i32, bool) = platform::on_db!(&app.ctx().db, pool => sqlx::query_as(
            "SELECT failed_pins, locked FROM vouchers_instances WHERE id = $1"
        ).bind(id).fetch_one(pool).await)
        .expect("instance");
        assert!(failed <= 5, "{failed} wrong PINs were counted");
        assert!(locked, "five wrong PINs lock the voucher");
    }
    app.stop().await;
}

async fn fifty_parallel_redeems_of_one_voucher_make_one_redemption(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let shop = app.merchant("Spa Lotus").await;
    let cashier = app.staff(&shop, "cashier").await;
    let category = app.category(&admin, "wellness", None).await;
    let outlet = app.outlet(&shop, "Main", OUTLET_LOCATION).await;
    let (_, variant) = app
        .voucher_offer(
            &shop,
            &admin,
            category,
            "SPA-1",
            4_000,
            10,
            json!({"kind": "ITEM"}),
        )
        .await;
    let buyer = app.customer("mony").await;
    app.paid_order(&buyer, variant, 1).await;
    let voucher = uuid_of(&app.wallet_with(&buyer, "ACTIVE", 1).await[0]["id"]);
    let token = app.qr_token(&buyer, voucher, false).await;

    let attempts = (0..50).map(|i| {
        let (app, cashier, token) = (&app, &cashier, token.clone());
        async move {
            app.redeem(
                cashier,
                outlet,
                &format!("till-{}", i % 3),
                json!({"token": token}),
                None,
            )
            .await
        }
    });
    let results = join_all(attempts).await;
    let won: Vec<_> = results.iter().filter(|r| r.status == 201).collect();
    assert_eq!(
        won.len(),
        1,
        "exactly one redemption: {:?}",
        results
            .iter()
            .map(|r| (r.status, r.code().to_owned()))
            .collect::<Vec<_>>()
    );
    for lost in results.iter().filter(|r| r.status != 201) {
        assert_eq!(lost.status, 409, "{:?}", lost.body);
        assert!(
            matches!(lost.code(), "voucher_not_redeemable" | "concurrent_change"),
            "{:?}",
            lost.body
        );
    }
    let item = app
        .get(
            &format!("/api/v1/wallet/{voucher}"),
            Some(&buyer.access_token),
        )
        .await;
    assert_eq!(
        (item.body["status"].as_str(), item.body["balance"].as_i64()),
        (Some("REDEEMED"), Some(0))
    );
    assert_eq!(won[0].body["status"], "APPROVED", "{:?}", won[0].body);
    assert_eq!(app.list_events("voucher.redeemed").await.len(), 1);
    app.account_reaches(
        &admin,
        "USD",
        &format!("merchant_payable:{}", shop.id),
        3_600,
    )
    .await;
    app.trial_balance(&admin).await;

    // A payout run started twice at once runs once.
    let runs = join_all((0..2).map(|_| {
        app.post(
            "/api/v1/admin/payouts/run",
            json!({"period": "2026-W01"}),
            Some(&admin.access_token),
        )
    }))
    .await;
    let mut statuses: Vec<u16> = runs.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(
        statuses,
        vec![201, 409],
        "{:?}",
        runs.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    let payouts = app
        .get(
            &format!("/api/v1/payouts?merchantId={}", shop.id),
            Some(&shop.owner.access_token),
        )
        .await;
    assert_eq!(
        payouts.body["items"].as_array().map(Vec::len),
        Some(1),
        "{:?}",
        payouts.body
    );
    app.trial_balance(&admin).await;
    app.stop().await;
}

async fn parallel_claims_never_pass_the_caps(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let shop = app.merchant("Pika Mart").await;
    let category = app.category(&admin, "groceries", None).await;
    let (offer, _) = app
        .voucher_offer(
            &shop,
            &admin,
            category,
            "FREE-5",
            0,
            0,
            json!({"kind": "DISCOUNT", "faceValue": 500, "totalCap": 5, "perCustomerCap": 2}),
        )
        .await;
    let mut customers = Vec::new();
    for i in 0..8 {
        customers.push(app.customer(&format!("claimer{i}")).await);
    }
    // Every customer claims twice at once: 16 claims, room for 5.
    let path = format!("/api/v1/vouchers/{offer}/claim");
    let claims = join_all(
        customers
            .iter()
            .chain(customers.iter())
            .map(|c| app.post(&path, json!({}), Some(&c.access_token))),
    )
    .await;
    let granted = claims.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        granted,
        5,
        "{:?}",
        claims
            .iter()
            .map(|r| (r.status, r.code().to_owned()))
            .collect::<Vec<_>>()
    );
    for refused in claims.iter().filter(|r| r.status != 201) {
        assert!(
            matches!(refused.code(), "sold_out" | "per_customer_cap_reached"),
            "{:?}",
            refused.body
        );
    }
    let view = app
        .get(
            &format!("/api/v1/vouchers/{offer}?includeHidden=true"),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(view.body["issued"], 5, "{:?}", view.body);
    assert_eq!(view.body["remaining"], 0);

    // One customer alone against a per-customer cap of 2 on a fresh offer.
    let (roomy, _) = app
        .voucher_offer(
            &shop,
            &admin,
            category,
            "FREE-100",
            0,
            0,
            json!({"kind": "DISCOUNT", "faceValue": 100, "totalCap": 100, "perCustomerCap": 2}),
        )
        .await;
    let greedy = &customers[0];
    let path = format!("/api/v1/vouchers/{roomy}/claim");
    let mine =
        join_all((0..10).map(|_| app.post(&path, json!({}), Some(&greedy.access_token)))).await;
    assert_eq!(mine.iter().filter(|r| r.status == 201).count(), 2);
    assert!(mine
        .iter()
        .filter(|r| r.status != 201)
        .all(|r| r.code() == "per_customer_cap_reached"));
    // A paid offer cannot be claimed.
    let (paid, _) = app
        .voucher_offer(&shop, &admin, category, "PAID-1", 900, 5, json!({}))
        .await;
    let refused = app
        .post(
            &format!("/api/v1/vouchers/{paid}/claim"),
            json!({}),
            Some(&greedy.access_token),
        )
        .await;
    assert_eq!((refused.status, refused.code()), (409, "not_claimable"));
    app.stop().await;
}

async fn redeem_and_gift_at_the_same_moment_one_wins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let shop = app.merchant("Bakery Sen").await;
    let cashier = app.staff(&shop, "cashier").await;
    let category = app.category(&admin, "bakery", None).await;
    let outlet = app.outlet(&shop, "Market", OUTLET_LOCATION).await;
    let (_, variant) = app
        .voucher_offer(&shop, &admin, category, "BREAD-5", 500, 20, json!({}))
        .await;
    let buyer = app.customer("chenda").await;
    app.paid_order(&buyer, variant, 4).await;
    let wallet = app.wallet_with(&buyer, "ACTIVE", 4).await;
    for item in &wallet {
        let voucher = uuid_of(&item["id"]);
        let token = app.qr_token(&buyer, voucher, false).await;
        let gift_path = format!("/api/v1/wallet/{voucher}/gift");
        let (redeemed, gifted) = tokio::join!(
            app.redeem(&cashier, outlet, "till-1", json!({"token": token}), None),
            app.post(
                &gift_path,
                json!({"phone": "+85512345678"}),
                Some(&buyer.access_token)
            ),
        );
        let wins = [redeemed.status == 201, gifted.status == 201];
        assert_eq!(
            wins.iter().filter(|w| **w).count(),
            1,
            "redeem {:?} / gift {:?}",
            redeemed.body,
            gifted.body
        );
        let after = app
            .get(
                &format!("/api/v1/wallet/{voucher}"),
                Some(&buyer.access_token),
            )
            .await;
        let expected = if wins[0] { "REDEEMED" } else { "TRANSFERRED" };
        assert_eq!(after.body["status"], expected);
    }
    app.trial_balance(&admin).await;
    app.stop().await;
}
