//! Refunds of orders that bought vouchers never pay back value already delivered: cancelling
//! (or returning) a paid order refunds its goods and only the unused value of its vouchers
//! (item, discount and gift-card vouchers, partly used balances too), an admin's refund cannot
//! reach the vouchers' part, a cancellation racing a redemption at the counter settles one way
//! or the other, and the ledger's customer clearing ends at exactly zero.

use std::time::Duration;

use serde_json::{json, Value};
use testkit::{
    eventually, on_both_backends, uuid_of, Backend, MerchantFixture, Session, TestApp,
    OUTLET_LOCATION,
};
use uuid::Uuid;

on_both_backends!(
    cancelling_a_mixed_order_refunds_only_what_was_not_delivered,
    returning_an_order_keeps_redeemed_vouchers_paid,
    a_cancellation_racing_a_redemption_settles_once,
);

const USD: &str = "USD";

struct Shop {
    admin: Session,
    merchant: MerchantFixture,
    cashier: Session,
    outlet: Uuid,
    mug: Uuid,
    item: Uuid,
    card: Uuid,
    discount: Uuid,
}

async fn shop(app: &TestApp) -> Shop {
    let admin = app.admin().await;
    let merchant = app.merchant("Warung Refund").await;
    let cashier = app.staff(&merchant, "cashier").await;
    let category = app.category(&admin, "refund-goods", None).await;
    let outlet = app.outlet(&merchant, "Counter", OUTLET_LOCATION).await;
    let (_, mug) = app
        .listed_product(&merchant, &admin, category, "Mug", "MUG-R", 2_000, 10)
        .await;
    let (_, item) = app
        .voucher_offer(
            &merchant,
            &admin,
            category,
            "ITEM-R",
            10_000,
            10,
            json!({"kind": "ITEM"}),
        )
        .await;
    let (_, card) = app
        .voucher_offer(&merchant, &admin, category, "CARD-R", 10_000, 10, json!({}))
        .await;
    let (_, discount) = app
        .voucher_offer(
            &merchant,
            &admin,
            category,
            "DISC-R",
            1_000,
            10,
            json!({"kind": "DISCOUNT", "discountBps": 2000}),
        )
        .await;
    Shop {
        admin,
        merchant,
        cashier,
        outlet,
        mug,
        item,
        card,
        discount,
    }
}

/// Checks out `lines`, pays by signed webhook, and waits until the order is PAID and its
/// `vouchers` vouchers are in the wallet. Returns (order, payment id, wallet).
async fn paid(
    app: &TestApp,
    customer: &Session,
    lines: Value,
    vouchers: usize,
) -> (Value, Uuid, Vec<Value>) {
    let group = app
        .checkout(customer, json!({ "lines": lines }), None)
        .await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    let payment = app
        .pay(customer, uuid_of(&group.body["id"]), "simulator", None)
        .await;
    assert_eq!(payment.status, 201, "{:?}", payment.body);
    let payment_id = uuid_of(&payment.body["id"]);
    let amount = payment.body["amount"].as_i64().unwrap();
    let hook = app
        .simulator_webhook(
            &format!("evt-{payment_id}"),
            payment_id,
            "SUCCEEDED",
            amount,
            USD,
        )
        .await;
    assert_eq!(hook.status, 200, "{:?}", hook.body);
    let order_id = uuid_of(&group.body["orders"][0]["id"]);
    let order = app.order_reaches(customer, order_id, "PAID").await;
    let wallet = app.wallet_with(customer, "ACTIVE", vouchers).await;
    (order, payment_id, wallet)
}

fn of_kind<'a>(wallet: &'a [Value], kind: &str) -> Vec<&'a Value> {
    wallet.iter().filter(|v| v["kind"] == kind).collect()
}

async fn redeem(app: &TestApp, shop: &Shop, voucher: &Value, amount: Option<i64>) -> u16 {
    let mut presented = json!({"code": voucher["code"], "pin": voucher["pin"]});
    if let Some(amount) = amount {
        presented["amount"] = json!(amount);
    }
    let device = format!("till-{}", Uuid::new_v4().simple());
    app.redeem(&shop.cashier, shop.outlet, &device, presented, None)
        .await
        .status
}

/// Waits until the payment's refunds add up to `expected`; returns the payment.
async fn refunded_reaches(
    app: &TestApp,
    customer: &Session,
    payment: Uuid,
    expected: i64,
) -> Value {
    let last = std::sync::Mutex::new(Value::Null);
    let found = tokio::time::timeout(
        Duration::from_secs(10),
        eventually(Duration::from_secs(10), "refunds settled", || async {
            let resp = app
                .get(
                    &format!("/api/v1/payments/{payment}"),
                    Some(&customer.access_token),
                )
                .await;
            *last.lock().unwrap() = resp.body.clone();
            (resp.body["refunded"] == expected && resp.body["refundPending"] == 0)
                .then_some(resp.body)
        }),
    )
    .await;
    found.unwrap_or_else(|_| panic!("payment never refunded {expected}: {:?}", last.lock()))
}

async fn cancelling_a_mixed_order_refunds_only_what_was_not_delivered(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app).await;
    let customer = app.customer("mixed").await;
    // 2,000 of goods; two item vouchers, a gift card and a discount voucher: 33,000 in all.
    let lines = json!([
        {"variantId": shop.mug, "quantity": 1},
        {"variantId": shop.item, "quantity": 2},
        {"variantId": shop.card, "quantity": 1},
        {"variantId": shop.discount, "quantity": 1},
    ]);
    let (order, payment, wallet) = paid(&app, &customer, lines, 4).await;
    assert_eq!(order["total"], 33_000);
    let order_id = uuid_of(&order["id"]);

    // At the counter: one item voucher redeemed whole, 4,000 of the gift card.
    let items = of_kind(&wallet, "ITEM");
    assert_eq!(redeem(&app, &shop, items[0], None).await, 201);
    let card = of_kind(&wallet, "GIFT_CARD")[0];
    assert_eq!(redeem(&app, &shop, card, Some(4_000)).await, 201);
    let delivered = 10_000 + 4_000;
    let payable = format!("merchant_payable:{}", shop.merchant.id);
    // 10% commission on what was earned.
    app.account_reaches(&shop.admin, USD, &payable, delivered * 9 / 10)
        .await;

    let cancelled = app
        .post(
            &format!("/api/v1/orders/{order_id}/cancel"),
            json!({"reason": "changed my mind"}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    assert_eq!(cancelled.body["status"], "CANCELLED");

    // The goods and the unused value go back: never the redeemed voucher or the used part.
    let refund = 33_000 - delivered;
    let paid = refunded_reaches(&app, &customer, payment, refund).await;
    assert_eq!(paid["status"], "PARTIALLY_REFUNDED");
    eventually(
        Duration::from_secs(10),
        "order records its refunds",
        || async {
            let resp = app
                .get(
                    &format!("/api/v1/orders/{order_id}"),
                    Some(&customer.access_token),
                )
                .await;
            (resp.body["refunded"] == refund).then_some(())
        },
    )
    .await;
    let voided = app.wallet_with(&customer, "REFUNDED", 3).await;
    assert_eq!(
        voided.len(),
        3,
        "the unused item, the gift card and the discount"
    );
    let redeemed = app.wallet_with(&customer, "REDEEMED", 1).await;
    assert_eq!(redeemed[0]["id"], items[0]["id"]);
    // A voided voucher cannot be redeemed any more.
    assert_eq!(redeem(&app, &shop, items[1], None).await, 409);

    // An admin's refund cannot reach the vouchers' value either.
    let admin_refund = app
        .post(
            &format!("/api/v1/payments/{payment}/refund"),
            json!({"reason": "goodwill", "orderId": order_id}),
            Some(&shop.admin.access_token),
        )
        .await;
    assert_eq!(admin_refund.status, 409, "{:?}", admin_refund.body);
    assert_eq!(admin_refund.code(), "refund_exceeds_captured");
    assert_eq!(admin_refund.body["refundable"], 0);
    let whole = app
        .post(
            &format!("/api/v1/payments/{payment}/refund"),
            json!({"reason": "goodwill"}),
            Some(&shop.admin.access_token),
        )
        .await;
    assert_eq!(whole.status, 422, "{:?}", whole.body);
    assert_eq!(whole.body["errors"][0]["field"], "orderId");

    // The ledger is exact: what the customer paid is either earned or refunded.
    app.account_reaches(&shop.admin, USD, "customer_clearing", 0)
        .await;
    app.account_reaches(&shop.admin, USD, &payable, delivered * 9 / 10)
        .await;
    app.trial_balance(&shop.admin).await;
    app.stop().await;
}

async fn returning_an_order_keeps_redeemed_vouchers_paid(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app).await;
    let customer = app.customer("returner").await;
    let lines = json!([
        {"variantId": shop.mug, "quantity": 2},
        {"variantId": shop.discount, "quantity": 2},
    ]);
    let (order, payment, wallet) = paid(&app, &customer, lines, 2).await;
    let order_id = uuid_of(&order["id"]);
    assert_eq!(redeem(&app, &shop, &wallet[0], None).await, 201);
    for status in ["PROCESSING", "SHIPPED", "DELIVERED", "RETURNED"] {
        let body = if status == "SHIPPED" {
            json!({"status": status, "trackingNumber": "JNE-1"})
        } else {
            json!({ "status": status })
        };
        let moved = app
            .patch(
                &format!("/api/v1/orders/{order_id}/status"),
                body,
                Some(&shop.merchant.owner.access_token),
            )
            .await;
        assert_eq!(moved.status, 200, "{status}: {:?}", moved.body);
    }
    // The mugs (4,000) and the unused discount voucher (1,000): not the redeemed one.
    refunded_reaches(&app, &customer, payment, 5_000).await;
    app.order_reaches(&customer, order_id, "REFUNDED").await;
    app.account_reaches(&shop.admin, USD, "customer_clearing", 0)
        .await;
    app.trial_balance(&shop.admin).await;
    app.stop().await;
}

async fn a_cancellation_racing_a_redemption_settles_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app).await;
    for round in 0..4 {
        let customer = app.customer(&format!("racer{round}")).await;
        let lines = json!([
            {"variantId": shop.mug, "quantity": 1},
            {"variantId": shop.item, "quantity": 1},
        ]);
        let (order, payment, wallet) = paid(&app, &customer, lines, 1).await;
        let order_id = uuid_of(&order["id"]);
        let path = format!("/api/v1/orders/{order_id}/cancel");
        let cancel = app.post(&path, json!({}), Some(&customer.access_token));
        let (cancelled, redeemed) = tokio::join!(cancel, redeem(&app, &shop, &wallet[0], None));
        assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
        // Whichever came first, the voucher is either delivered and kept by the merchant, or
        // voided and refunded: never both, never neither.
        let refund = if redeemed == 201 { 2_000 } else { 12_000 };
        refunded_reaches(&app, &customer, payment, refund).await;
        let status = if redeemed == 201 {
            "REDEEMED"
        } else {
            "REFUNDED"
        };
        app.wallet_with(&customer, status, 1).await;
    }
    app.account_reaches(&shop.admin, USD, "customer_clearing", 0)
        .await;
    app.trial_balance(&shop.admin).await;
    app.stop().await;
}
