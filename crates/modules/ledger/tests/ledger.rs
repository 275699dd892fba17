//! The ledger through the real money path: goods earned on delivery and reversed on return,
//! a voucher refunded, a voucher expired into breakage, and a payout the bank refuses. After
//! every step each currency sums to zero.

use std::time::Duration;

use serde_json::json;
use testkit::{eventually, on_both_backends, uuid_of, Backend, TestApp, OUTLET_LOCATION};

on_both_backends!(goods_are_earned_on_delivery_and_reversed_on_return);
on_both_backends!(refunds_breakage_and_failed_payouts_keep_the_books_balanced);

const USD: &str = "USD";

async fn goods_are_earned_on_delivery_and_reversed_on_return(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let shop = app.merchant("Silk Weavers").await;
    let manager = app.staff(&shop, "manager").await;
    let cashier = app.staff(&shop, "cashier").await;
    let category = app.category(&admin, "textiles", None).await;
    let (_, variant) = app
        .listed_product(&shop, &admin, category, "Krama scarf", "KRAMA", 10_000, 5)
        .await;
    let customer = app.customer("vanna").await;
    let order = app.paid_order(&customer, variant, 1).await;
    let order_id = uuid_of(&order["id"]);
    let payable = format!("merchant_payable:{}", shop.id);
    app.account_reaches(&admin, USD, "customer_clearing", 10_000)
        .await;
    assert_eq!(
        app.account_balance(&admin, USD, &payable).await,
        0,
        "not earned before delivery"
    );

    let owner = shop.owner.access_token.clone();
    for to in ["PROCESSING", "SHIPPED", "DELIVERED"] {
        let moved = app
            .patch(
                &format!("/api/v1/orders/{order_id}/status"),
                json!({"status": to}),
                Some(&owner),
            )
            .await;
        assert_eq!(moved.status, 200, "{to}: {:?}", moved.body);
    }
    app.account_reaches(&admin, USD, &payable, 9_000).await;
    assert_eq!(
        app.account_balance(&admin, USD, "platform_revenue").await,
        1_000
    );
    assert_eq!(
        app.account_balance(&admin, USD, "customer_clearing").await,
        0
    );
    // Managers see the balance and statement; cashiers and other merchants do not.
    let balance = app
        .get(
            &format!("/api/v1/merchants/{}/balance", shop.id),
            Some(&manager.access_token),
        )
        .await;
    assert_eq!(
        balance.body["balances"][0]["available"], 9_000,
        "{:?}",
        balance.body
    );
    for token in [&cashier.access_token, &customer.access_token] {
        let denied = app
            .get(
                &format!("/api/v1/merchants/{}/balance", shop.id),
                Some(token),
            )
            .await;
        assert_eq!(denied.status, 403);
    }
    let bad = app
        .get(
            &format!("/api/v1/merchants/{}/statement?from=yesterday", shop.id),
            Some(&owner),
        )
        .await;
    assert_eq!(bad.status, 422, "{:?}", bad.body);
    let window = app
        .get(
            &format!(
                "/api/v1/merchants/{}/statement?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z",
                shop.id
            ),
            Some(&owner),
        )
        .await;
    assert_eq!(
        window.body["currencies"].as_array().map(Vec::len),
        Some(0),
        "{:?}",
        window.body
    );

    // Returned: the earning is reversed and the refund takes the money back to the gateway.
    let returned = app
        .patch(
            &format!("/api/v1/orders/{order_id}/status"),
            json!({"status": "RETURNED", "note": "wrong colour"}),
            Some(&owner),
        )
        .await;
    assert_eq!(returned.status, 200, "{:?}", returned.body);
    app.order_reaches(&customer, order_id, "REFUNDED").await;
    app.account_reaches(&admin, USD, "gateway_receivable", 0)
        .await;
    for account in [payable.as_str(), "platform_revenue", "customer_clearing"] {
        assert_eq!(
            app.account_balance(&admin, USD, account).await,
            0,
            "{account}"
        );
    }
    let statement = app
        .get(
            &format!("/api/v1/merchants/{}/statement", shop.id),
            Some(&owner),
        )
        .await;
    let kinds: Vec<&str> = statement.body["currencies"][0]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(kinds, vec!["ORDER_EARNED", "ORDER_RETURNED"]);
    app.trial_balance(&admin).await;
    app.stop().await;
}

async fn refunds_breakage_and_failed_payouts_keep_the_books_balanced(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        |c| {
            c.jobs.retry_base_ms = 20;
            // Every voucher here (valid 90 days) is inside the reminder horizon.
            c.edit_section(|v: &mut vouchers::config::VouchersConfig| v.reminder_days = 100)
                .expect("vouchers section");
        },
        Vec::new(),
    )
    .await;
    let admin = app.admin().await;
    let shop = app.merchant("Tuk Tuk Tours").await;
    let cashier = app.staff(&shop, "cashier").await;
    let category = app.category(&admin, "tours", None).await;
    let outlet = app.outlet(&shop, "Pier", OUTLET_LOCATION).await;
    let (_, variant) = app
        .voucher_offer(
            &shop,
            &admin,
            category,
            "TOUR-1",
            3_000,
            10,
            json!({"kind": "ITEM"}),
        )
        .await;
    let customer = app.customer("rith").await;
    app.paid_order(&customer, variant, 3).await;
    let wallet = app.wallet_with(&customer, "ACTIVE", 3).await;
    let ids: Vec<_> = wallet.iter().map(|v| uuid_of(&v["id"])).collect();
    app.account_reaches(&admin, USD, "customer_clearing", 9_000)
        .await;

    // An unused voucher is refunded to the payment; it can no longer be used.
    let refunded = app
        .post(
            &format!("/api/v1/wallet/{}/refund", ids[0]),
            json!({}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(refunded.status, 200, "{:?}", refunded.body);
    assert_eq!(refunded.body["status"], "REFUNDED");
    app.account_reaches(&admin, USD, "customer_clearing", 6_000)
        .await;
    assert_eq!(
        app.account_balance(&admin, USD, "gateway_receivable").await,
        -6_000
    );
    let again = app
        .post(
            &format!("/api/v1/wallet/{}/refund", ids[0]),
            json!({}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!((again.status, again.code()), (409, "not_refundable"));

    // Expiry reminders: once per live voucher, never twice.
    let vouchers = vouchers::Vouchers::new(app.ctx().clone());
    assert_eq!(vouchers.remind_due().await.expect("reminders"), 2);
    assert_eq!(vouchers.remind_due().await.expect("reminders"), 0);
    assert_eq!(app.list_events("voucher.expiring").await.len(), 2);

    // One expires unused: its value is breakage.
    platform::on_db!(&app.ctx().db, pool => sqlx::query(
        "UPDATE vouchers_instances SET expires_at = 0 WHERE id = $1"
    ).bind(ids[1]).execute(pool).await.map(|r| r.rows_affected()))
    .expect("back-date the voucher");
    let expired = vouchers.expire_due().await.expect("expiry");
    assert_eq!(expired, 1);
    app.account_reaches(&admin, USD, "breakage", 3_000).await;
    let token = app
        .get(
            &format!("/api/v1/wallet/{}/qr?format=token", ids[1]),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(
        (token.status, token.code()),
        (409, "voucher_not_redeemable")
    );

    // One is redeemed; the merchant has no bank account, so after its retries the payout
    // fails and the money goes back to the balance.
    let live = app.qr_token(&customer, ids[2], false).await;
    let redeemed = app
        .redeem(&cashier, outlet, "till-1", json!({"token": live}), None)
        .await;
    assert_eq!(redeemed.body["status"], "APPROVED", "{:?}", redeemed.body);
    let payable = format!("merchant_payable:{}", shop.id);
    app.account_reaches(&admin, USD, &payable, 2_700).await;
    let run = app
        .post(
            "/api/v1/admin/payouts/run",
            json!({"period": "2026-W10"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(run.status, 201, "{:?}", run.body);
    let bad_period = app
        .post(
            "/api/v1/admin/payouts/run",
            json!({"period": "next week"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(bad_period.status, 422);
    let failed = eventually(Duration::from_secs(20), "payout failed", || async {
        let resp = app
            .get(
                &format!("/api/v1/payouts?merchantId={}&status=FAILED", shop.id),
                Some(&shop.owner.access_token),
            )
            .await;
        resp.body["items"]
            .as_array()
            .filter(|i| i.len() == 1)
            .cloned()
    })
    .await;
    assert_eq!(failed[0]["attempts"], 5);
    let reason = failed[0]["failureReason"].as_str().unwrap_or_default();
    assert!(reason.contains("no bank account"), "{failed:?}");
    assert_eq!(app.account_balance(&admin, USD, &payable).await, 2_700);
    assert_eq!(
        app.account_balance(&admin, USD, &format!("payouts_in_transit:{}", shop.id))
            .await,
        0
    );
    assert_eq!(app.list_events("payout.failed").await.len(), 1);
    app.trial_balance(&admin).await;

    // With a bank account on file the next run pays it.
    let account = app
        .put(
            &format!("/api/v1/merchants/{}/bank-account", shop.id),
            json!({"bankName": "ABA Bank", "accountName": "Tuk Tuk Tours", "accountNumber": "000123456"}),
            Some(&shop.owner.access_token),
        )
        .await;
    assert_eq!(account.status, 200, "{:?}", account.body);
    let run = app
        .post(
            "/api/v1/admin/payouts/run",
            json!({"period": "2026-W11"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(run.body["payouts"][0]["amount"], 2_700, "{:?}", run.body);
    let paid = eventually(Duration::from_secs(10), "payout paid", || async {
        let resp = app
            .get(
                &format!("/api/v1/payouts?merchantId={}&status=PAID", shop.id),
                Some(&shop.owner.access_token),
            )
            .await;
        resp.body["items"]
            .as_array()
            .filter(|i| i.len() == 1)
            .cloned()
    })
    .await;
    assert!(paid[0]["providerReference"]
        .as_str()
        .unwrap_or_default()
        .starts_with("SIM-"));
    assert_eq!(app.account_balance(&admin, USD, &payable).await, 0);
    app.trial_balance(&admin).await;
    app.stop().await;
}
