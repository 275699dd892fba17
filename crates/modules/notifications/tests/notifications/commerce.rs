//! Commerce news end to end: a customer who reads Khmer buys a voucher, pays, has it redeemed,
//! refunds another, fails a payment, cancels an order, reviews the shop and gets an answer;
//! the merchant's owner and manager (not the cashier) hear of the paid order, the redemption,
//! the review and the payout. Every message arrives once, in its reader's language, and an
//! email switched off for orders stays unsent.

use std::time::Duration;

use serde_json::{json, Value};
use testkit::{eventually, on_both_backends, uuid_of, Backend, Session, TestApp, OUTLET_LOCATION};

on_both_backends!(commerce_news_reaches_customers_and_staff_once_in_their_language);

const PRICE: i64 = 1_250;

async fn inbox(app: &TestApp, who: &Session) -> Vec<Value> {
    let resp = app
        .get("/api/v1/notifications?limit=100", Some(&who.access_token))
        .await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    resp.body["items"].as_array().cloned().unwrap_or_default()
}

fn titled<'a>(items: &'a [Value], part: &str) -> Vec<&'a Value> {
    items
        .iter()
        .filter(|m| m["title"].as_str().is_some_and(|t| t.contains(part)))
        .collect()
}

/// Waits for a message whose title contains `part`; returns it.
async fn message(app: &TestApp, who: &Session, part: &str) -> Value {
    eventually(Duration::from_secs(20), part, || async {
        titled(&inbox(app, who).await, part)
            .first()
            .map(|m| (*m).clone())
    })
    .await
}

async fn commerce_news_reaches_customers_and_staff_once_in_their_language(backend: Backend) {
    let (app, smtp, _http) = TestApp::spawn_with_messaging(backend, Vec::new()).await;
    let admin = app.admin().await;
    let kafe = app.merchant("Kafe Dara").await;
    let manager = app.staff(&kafe, "manager").await;
    let cashier = app.staff(&kafe, "cashier").await;
    let outlet = app.outlet(&kafe, "Riverside", OUTLET_LOCATION).await;
    let dining = app.category(&admin, "dining", None).await;
    let (offer, variant) = app
        .voucher_offer(&kafe, &admin, dining, "KD-1250", PRICE, 50, json!({}))
        .await;

    // The customer reads Khmer and wants no order emails.
    let customer = app.customer("sophea").await;
    let prefs = app
        .put(
            "/api/v1/notifications/preferences",
            json!({"locale": "km", "choices": [{"category": "order", "channel": "email", "enabled": false}]}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(prefs.status, 200, "{:?}", prefs.body);

    // Bought and paid: placed, paid, and one "in your wallet" per voucher, in Khmer.
    let order = app.paid_order(&customer, variant, 2).await;
    let number = order["number"].as_str().expect("order number").to_owned();
    let placed = message(&app, &customer, &format!("ការបញ្ជាទិញ {number} ត្រូវបានដាក់")).await;
    assert!(
        placed["body"].as_str().unwrap().contains("25.00 USD"),
        "{placed:?}"
    );
    let paid = message(
        &app,
        &customer,
        &format!("បានទទួលការបង់ប្រាក់សម្រាប់ការបញ្ជាទិញ {number}"),
    )
    .await;
    assert_eq!(paid["category"], "order");
    eventually(
        Duration::from_secs(20),
        "two vouchers announced",
        || async {
            (titled(&inbox(&app, &customer).await, "ស្ថិតនៅក្នុងកាបូបរបស់អ្នក").len() == 2).then_some(())
        },
    )
    .await;

    // The owner and the manager hear of the paid order, in English; the cashier does not.
    for staff in [&kafe.owner, &manager] {
        let news = message(&app, staff, &format!("New order {number}: 25.00 USD")).await;
        assert!(
            news["body"].as_str().unwrap().contains("Kafe Dara"),
            "{news:?}"
        );
    }

    // Redeemed at the counter: the holder hears where and what is left; the staff hear too.
    let wallet = app.wallet_with(&customer, "ACTIVE", 2).await;
    let (first, second) = (uuid_of(&wallet[0]["id"]), uuid_of(&wallet[1]["id"]));
    let token = app.qr_token(&customer, first, false).await;
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
    let used = message(&app, &customer, "ត្រូវបានប្រើប្រាស់").await;
    let body = used["body"].as_str().unwrap();
    assert!(
        body.contains("5.00 USD") && body.contains("Riverside") && body.contains("7.50 USD"),
        "{used:?}"
    );
    for staff in [&kafe.owner, &manager] {
        message(&app, staff, "Voucher redeemed: 5.00 USD").await;
    }

    // The other voucher is returned: the refund is announced with its amount.
    let refund = app
        .post(
            &format!("/api/v1/wallet/{second}/refund"),
            json!({}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(refund.status, 200, "{:?}", refund.body);
    message(&app, &customer, "បានសងប្រាក់វិញចំនួន 12.50 USD").await;

    // A second order: the payment fails, then the customer cancels.
    let again = app
        .checkout(
            &customer,
            json!({"lines": [{"variantId": variant, "quantity": 1}]}),
            None,
        )
        .await;
    assert_eq!(again.status, 201, "{:?}", again.body);
    let second_number = again.body["orders"][0]["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let payment = app
        .pay(&customer, uuid_of(&again.body["id"]), "simulator", None)
        .await;
    assert_eq!(payment.status, 201, "{:?}", payment.body);
    let failed = app
        .simulator_webhook(
            "evt-declined",
            uuid_of(&payment.body["id"]),
            "FAILED",
            PRICE,
            "USD",
        )
        .await;
    assert_eq!(failed.status, 200, "{:?}", failed.body);
    message(&app, &customer, "ការបង់ប្រាក់របស់អ្នកមិនបានសម្រេច").await;
    let order_id = uuid_of(&again.body["orders"][0]["id"]);
    let cancelled = app
        .post(
            &format!("/api/v1/orders/{order_id}/cancel"),
            json!({"reason": "changed my mind"}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    let gone = message(
        &app,
        &customer,
        &format!("ការបញ្ជាទិញ {second_number} ត្រូវបានលុបចោល"),
    )
    .await;
    assert!(gone["body"].as_str().unwrap().contains("changed my mind"));

    // A review: the owner and manager hear of it; the owner answers and the author hears.
    let written = eventually(
        Duration::from_secs(20),
        "the purchase reaches reviews",
        || async {
            let resp = app
                .post(
                    &format!("/api/v1/vouchers/{offer}/reviews"),
                    json!({"rating": 4, "text": "Good coffee, slow service."}),
                    Some(&customer.access_token),
                )
                .await;
            (resp.code() != "not_a_buyer").then_some(resp)
        },
    )
    .await;
    assert_eq!(written.status, 201, "{:?}", written.body);
    for staff in [&kafe.owner, &manager] {
        message(&app, staff, "New 4-star review for Kafe Dara").await;
    }
    let answer = app
        .post(
            &format!("/api/v1/reviews/{}/response", uuid_of(&written.body["id"])),
            json!({"text": "Thank you, we are hiring!"}),
            Some(&kafe.owner.access_token),
        )
        .await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    message(&app, &customer, "Kafe Dara បានឆ្លើយតបការវាយតម្លៃរបស់អ្នក").await;

    // The payout run pays the owner, who hears of it.
    let account = app
        .put(
            &format!("/api/v1/merchants/{}/bank-account", kafe.id),
            json!({"bankName": "ABA Bank", "accountName": "Kafe Dara", "accountNumber": "000123456"}),
            Some(&kafe.owner.access_token),
        )
        .await;
    assert_eq!(account.status, 200, "{:?}", account.body);
    app.account_reaches(&admin, "USD", &format!("merchant_payable:{}", kafe.id), 450)
        .await;
    let run = app
        .post(
            "/api/v1/admin/payouts/run",
            json!({"period": "2026-W49"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(run.status, 201, "{:?}", run.body);
    let payout = message(&app, &kafe.owner, "Payout of 4.50 USD sent").await;
    assert!(payout["body"].as_str().unwrap().contains("2026-W49"));

    // Once each, whatever else happened since; none to the cashier.
    let mine = inbox(&app, &customer).await;
    for part in [
        format!("ការបញ្ជាទិញ {number} ត្រូវបានដាក់"),
        format!("បានទទួលការបង់ប្រាក់សម្រាប់ការបញ្ជាទិញ {number}"),
        "ត្រូវបានប្រើប្រាស់".to_owned(),
        "បានសងប្រាក់វិញ".to_owned(),
        "ការបង់ប្រាក់របស់អ្នកមិនបានសម្រេច".to_owned(),
        format!("ការបញ្ជាទិញ {second_number} ត្រូវបានលុបចោល"),
        "បានឆ្លើយតបការវាយតម្លៃ".to_owned(),
    ] {
        assert_eq!(titled(&mine, &part).len(), 1, "{part}: {mine:#?}");
    }
    let owners = inbox(&app, &kafe.owner).await;
    for part in [
        "New order",
        "Voucher redeemed",
        "New 4-star review",
        "Payout of",
    ] {
        assert_eq!(titled(&owners, part).len(), 1, "{part}: {owners:#?}");
    }
    let cashiers = inbox(&app, &cashier).await;
    assert!(
        titled(&cashiers, "New order").is_empty()
            && titled(&cashiers, "Voucher redeemed").is_empty()
    );

    // Emails: order news was switched off; the review answer (account news) was not.
    let mails = smtp.messages_to(&customer.email);
    assert!(
        mails.iter().all(|m| !m.subject.contains(&number)),
        "{:?}",
        mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    eventually(Duration::from_secs(20), "the answer by email", || async {
        smtp.messages_to(&customer.email)
            .into_iter()
            .find(|m| m.subject.contains("បានឆ្លើយតប"))
    })
    .await;
    app.stop().await;
}
