//! The money path over HTTP on both backends: cart → order → payment → webhook → PAID → stock
//! sold; cancellation refunds; duplicate, concurrent, out-of-order and late webhooks; the
//! Idempotency-Key under fire; KHQR checked by an independent EMVCo parser.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{json, Value};
use testkit::{on_both_backends, uuid_of, Backend, MerchantFixture, Session, TestApp};
use uuid::Uuid;

on_both_backends!(
    full_path_pays_ships_and_refunds_a_cancellation,
    webhooks_apply_once_and_only_forward,
    idempotency_key_fired_twenty_times_makes_one_payment,
    payment_after_expiry_is_refunded_not_lost,
    khqr_payload_verifies_independently_and_polling_settles,
    nobody_pays_or_reads_anothers_payment,
    returns_are_refunded_and_digital_orders_complete_on_payment,
);

struct Shop {
    admin: Session,
    kopi: MerchantFixture,
    latte: Uuid,
}

async fn shop(app: &TestApp) -> Shop {
    let admin = app.admin().await;
    let kopi = app.merchant("Kopi").await;
    let food = app.category(&admin, "food", None).await;
    let (_, latte) = app
        .listed_product(&kopi, &admin, food, "Latte", "LATTE", 1_250, 10)
        .await;
    Shop { admin, kopi, latte }
}

/// A customer's group of one order of `quantity` lattes; returns (group id, order id, total).
async fn ordered(
    app: &TestApp,
    shop: &Shop,
    customer: &Session,
    quantity: i64,
) -> (Uuid, Uuid, i64) {
    let resp = app
        .checkout(
            customer,
            json!({"lines": [{"variantId": shop.latte, "quantity": quantity}]}),
            None,
        )
        .await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    (
        uuid_of(&resp.body["id"]),
        uuid_of(&resp.body["orders"][0]["id"]),
        resp.body["total"].as_i64().unwrap(),
    )
}

fn kinds(payment: &Value) -> Vec<String> {
    payment["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn full_path_pays_ships_and_refunds_a_cancellation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app).await;
    let customer = app.customer("shopper").await;
    assert_eq!(app.add_to_cart(&customer, shop.latte, 2).await.status, 200);
    let group = app.checkout(&customer, json!({}), Some("checkout-1")).await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    let group_id = uuid_of(&group.body["id"]);
    let order = uuid_of(&group.body["orders"][0]["id"]);

    // Pay through the simulator: its page approves and it sends a signed webhook over HTTP.
    let payment = app
        .pay(&customer, group_id, "simulator", Some("pay-1"))
        .await;
    assert_eq!(payment.status, 201, "{:?}", payment.body);
    assert_eq!(payment.body["amount"], 2_500, "the amount is the group's");
    assert_eq!(payment.body["status"], "INITIATED");
    let payment_id = uuid_of(&payment.body["id"]);
    let instructions = app
        .get(
            &format!("/api/v1/payments/{payment_id}/instructions"),
            Some(&customer.access_token),
        )
        .await;
    let redirect = instructions.body["redirectUrl"]
        .as_str()
        .expect("redirect")
        .to_owned();
    assert!(redirect.ends_with(&format!("/api/v1/payments/simulator/{payment_id}")));
    let page = app
        .client
        .get(&redirect)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Approve"));
    let approve = app
        .post(
            &format!("/api/v1/payments/simulator/{payment_id}/approve"),
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        approve.body["outcome"], "webhook_sent",
        "{:?}",
        approve.body
    );

    let paid = app.order_reaches(&customer, order, "PAID").await;
    assert_eq!(uuid_of(&paid["paymentId"]), payment_id);
    let settled = app
        .payment_reaches(&customer, payment_id, "SUCCEEDED")
        .await;
    assert_eq!(settled["captured"], 2_500);
    // The reservation is confirmed: the units are sold.
    app.stock_reaches(&shop.kopi, "LATTE", (8, 0)).await;
    assert_eq!(app.list_events("order.paid").await.len(), 1);
    assert_eq!(app.list_events("payment.succeeded").await.len(), 1);
    // A paid group is not paid again.
    let twice = app.pay(&customer, group_id, "simulator", None).await;
    assert_eq!((twice.status, twice.code()), (409, "already_paid"));

    // The merchant starts fulfilment; the customer cancels while it is processing.
    let processing = app
        .patch(
            &format!("/api/v1/orders/{order}/status"),
            json!({"status": "PROCESSING"}),
            Some(&shop.kopi.owner.access_token),
        )
        .await;
    assert_eq!(processing.status, 200, "{:?}", processing.body);
    let cancel = app
        .post(
            &format!("/api/v1/orders/{order}/cancel"),
            json!({"reason": "too late"}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(cancel.status, 200, "{:?}", cancel.body);

    // The money goes back through the provider and the units come back on hand.
    let refunded = app.payment_reaches(&customer, payment_id, "REFUNDED").await;
    assert_eq!(refunded["refunded"], 2_500);
    assert_eq!(
        kinds(&refunded),
        ["INITIATED", "SUCCEEDED", "REFUND_REQUESTED", "REFUNDED"]
    );
    app.stock_reaches(&shop.kopi, "LATTE", (10, 0)).await;
    let order_view = testkit::eventually(Duration::from_secs(10), "refund recorded", || async {
        let resp = app
            .get(
                &format!("/api/v1/orders/{order}"),
                Some(&customer.access_token),
            )
            .await;
        (resp.body["refunded"] == 2_500).then_some(resp.body)
    })
    .await;
    assert_eq!(order_view["status"], "CANCELLED");
    assert_eq!(app.list_events("payment.refunded").await.len(), 1);
    assert_eq!(app.list_events("order.refunded").await.len(), 1);

    // An admin cannot refund beyond what was captured.
    let more = app
        .post(
            &format!("/api/v1/payments/{payment_id}/refund"),
            json!({"amount": 1, "reason": "again"}),
            Some(&shop.admin.access_token),
        )
        .await;
    assert_eq!((more.status, more.code()), (409, "refund_exceeds_captured"));
    app.stop().await;
}

async fn webhooks_apply_once_and_only_forward(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app).await;
    let customer = app.customer("shopper").await;
    let (group, order, total) = ordered(&app, &shop, &customer, 1).await;
    let payment = uuid_of(&app.pay(&customer, group, "simulator", None).await.body["id"]);

    // A forged signature is refused and stores nothing.
    let forged = app
        .send(
            app.client
                .post(app.url("/api/v1/payments/webhook/simulator"))
                .header("x-simulator-signature", "sha256=AAAA")
                .body(serde_json::to_vec(&json!({"eventId": "x", "paymentId": payment, "status": "SUCCEEDED", "amount": total, "currency": "USD"})).unwrap()),
        )
        .await;
    assert_eq!((forged.status, forged.code()), (401, "invalid_signature"));

    // The same success fired ten times at once: applied once.
    let results = join_all(
        (0..10).map(|_| app.simulator_webhook("evt-success", payment, "SUCCEEDED", total, "USD")),
    )
    .await;
    let outcomes: Vec<&str> = results
        .iter()
        .map(|r| r.body["outcome"].as_str().unwrap_or("?"))
        .collect();
    assert!(results.iter().all(|r| r.status == 200), "{outcomes:?}");
    assert_eq!(
        outcomes.iter().filter(|o| **o == "applied").count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes
        .iter()
        .all(|o| *o == "applied" || *o == "duplicate"));
    // Other successes and a late "pending" change nothing.
    let late = app
        .simulator_webhook("evt-pending", payment, "PENDING", total, "USD")
        .await;
    assert_eq!(late.body["outcome"], "ignored");
    let failed = app
        .simulator_webhook("evt-failed", payment, "FAILED", total, "USD")
        .await;
    assert_eq!(failed.body["outcome"], "ignored");
    app.order_reaches(&customer, order, "PAID").await;
    let view = app
        .get(
            &format!("/api/v1/payments/{payment}"),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(kinds(&view.body), ["INITIATED", "SUCCEEDED"]);
    assert_eq!(app.list_events("payment.succeeded").await.len(), 1);
    assert_eq!(app.list_events("order.paid").await.len(), 1);

    // Out of order on another payment: success first, then its pending.
    let (group2, order2, total2) = ordered(&app, &shop, &customer, 2).await;
    let payment2 = uuid_of(&app.pay(&customer, group2, "simulator", None).await.body["id"]);
    assert_eq!(
        app.simulator_webhook("b-2", payment2, "SUCCEEDED", total2, "USD")
            .await
            .body["outcome"],
        "applied"
    );
    assert_eq!(
        app.simulator_webhook("b-1", payment2, "PENDING", total2, "USD")
            .await
            .body["outcome"],
        "ignored"
    );
    app.order_reaches(&customer, order2, "PAID").await;

    // Money that does not match the group is flagged for review, not paid.
    let (group3, order3, total3) = ordered(&app, &shop, &customer, 1).await;
    let payment3 = uuid_of(&app.pay(&customer, group3, "simulator", None).await.body["id"]);
    let short = app
        .simulator_webhook("c-1", payment3, "SUCCEEDED", total3 - 1, "USD")
        .await;
    assert_eq!(short.body["outcome"], "flagged");
    let review = app
        .get(
            &format!("/api/v1/payments/{payment3}"),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(review.body["status"], "NEEDS_REVIEW");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let still = app
        .get(
            &format!("/api/v1/orders/{order3}"),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(still.body["status"], "PENDING_PAYMENT");
    assert_eq!(app.list_events("payment.flagged").await.len(), 1);
    // A webhook for a payment nobody knows is acknowledged and recorded, nothing more.
    let unknown = app
        .simulator_webhook("d-1", Uuid::nil(), "SUCCEEDED", 1, "USD")
        .await;
    assert_eq!(
        (unknown.status, unknown.body["outcome"].as_str()),
        (200, Some("unknown_payment"))
    );
    app.stop().await;
}

async fn idempotency_key_fired_twenty_times_makes_one_payment(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app).await;
    let customer = app.customer("shopper").await;
    let (group, _, _) = ordered(&app, &shop, &customer, 1).await;
    let results =
        join_all((0..20).map(|_| app.pay(&customer, group, "simulator", Some("pay-once")))).await;
    let statuses: Vec<(u16, String)> = results
        .iter()
        .map(|r| (r.status, r.code().to_owned()))
        .collect();
    assert!(
        results
            .iter()
            .all(|r| r.status == 201 || (r.status, r.code()) == (409, "idempotency_key_in_use")),
        "{statuses:?}"
    );
    let ids: std::collections::HashSet<String> = results
        .iter()
        .filter(|r| r.status == 201)
        .map(|r| r.body["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1);
    let listed = app
        .get(
            &format!("/api/v1/payments?orderGroupId={group}"),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(
        listed.body.as_array().map(Vec::len),
        Some(1),
        "one payment exists"
    );
    let replay = app
        .pay(&customer, group, "simulator", Some("pay-once"))
        .await;
    assert_eq!(
        (replay.status, replay.header("idempotent-replayed")),
        (201, Some("true"))
    );
    let other = app.pay(&customer, group, "khqr", Some("pay-once")).await;
    assert_eq!(
        (other.status, other.code()),
        (422, "idempotency_key_reused")
    );
    let unknown = app.pay(&customer, group, "paypal", None).await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (422, "payment_method_unavailable")
    );
    app.stop().await;
}

async fn payment_after_expiry_is_refunded_not_lost(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        |c| {
            c.edit_section(|o: &mut orders::config::OrdersConfig| o.payment_window_secs = 3)
                .expect("orders section")
        },
        Vec::new(),
    )
    .await;
    let shop = shop(&app).await;
    let customer = app.customer("shopper").await;
    let (group, order, total) = ordered(&app, &shop, &customer, 1).await;
    let payment = uuid_of(&app.pay(&customer, group, "simulator", None).await.body["id"]);
    app.order_reaches(&customer, order, "EXPIRED").await;
    // The gateway confirms after the window: the money is sent back, the order stays expired.
    let late = app
        .simulator_webhook("late-1", payment, "SUCCEEDED", total, "USD")
        .await;
    assert_eq!(late.body["outcome"], "applied");
    let refunded = app.payment_reaches(&customer, payment, "REFUNDED").await;
    assert_eq!(refunded["refunded"], total);
    let view = app
        .get(
            &format!("/api/v1/orders/{order}"),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(view.body["status"], "EXPIRED");
    let requests = app.list_events("order.refund_requested").await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["reason"], "paid_after_expiry");
    app.stock_reaches(&shop.kopi, "LATTE", (10, 0)).await;
    // Paying an expired group is refused up front.
    let again = app.pay(&customer, group, "simulator", None).await;
    assert_eq!(again.status, 409);
    app.stop().await;
}

async fn khqr_payload_verifies_independently_and_polling_settles(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app).await;
    let customer = app.customer("shopper").await;
    let (group, order, _) = ordered(&app, &shop, &customer, 2).await;
    let payment = app.pay(&customer, group, "khqr", None).await;
    assert_eq!(payment.status, 201, "{:?}", payment.body);
    let payment_id = uuid_of(&payment.body["id"]);
    let instructions = app
        .get(
            &format!("/api/v1/payments/{payment_id}/instructions"),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(instructions.body["kind"], "qr");
    assert!(instructions.body["qrSvg"]
        .as_str()
        .unwrap_or_default()
        .starts_with("<?xml"));
    let payload = instructions.body["qrPayload"]
        .as_str()
        .expect("payload")
        .to_owned();

    // An independent EMVCo parser checks the CRC and reads the KHQR tags back.
    let qr = promptparse::parse(&payload, true, true).expect("CRC-valid EMVCo payload");
    assert_eq!(qr.get_tag_value("00", None), Some("01"));
    assert_eq!(qr.get_tag_value("01", None), Some("12"));
    assert_eq!(qr.get_tag_value("29", Some("00")), Some("pasar@devb"));
    assert_eq!(qr.get_tag_value("53", None), Some("840"));
    assert_eq!(qr.get_tag_value("54", None), Some("25"));
    assert_eq!(qr.get_tag_value("58", None), Some("KH"));
    assert!(qr
        .get_tag_value("62", Some("01"))
        .unwrap_or_default()
        .starts_with("PSR-"));
    let mut tampered = payload.clone();
    tampered.replace_range(
        tampered.len() - 1..,
        if payload.ends_with('0') { "1" } else { "0" },
    );
    assert!(
        promptparse::parse(&tampered, true, true).is_none(),
        "a wrong CRC is caught"
    );

    // KHQR has no webhooks: a forged one is refused. The simulator's Bakong stand-in reports
    // the transfer and the polling job settles the payment.
    let hook = app
        .post("/api/v1/payments/webhook/khqr", json!({}), None)
        .await;
    assert_eq!(hook.status, 422);
    let approve = app
        .post(
            &format!("/api/v1/payments/simulator/{payment_id}/approve"),
            json!({}),
            None,
        )
        .await;
    assert_eq!(approve.body["outcome"], "transfer_recorded");
    app.order_reaches(&customer, order, "PAID").await;
    let paid = app
        .payment_reaches(&customer, payment_id, "SUCCEEDED")
        .await;
    assert_eq!(paid["captured"], 2_500);

    // Bakong has no refund API: the refund waits for an operator to record the transfer.
    let refund = app
        .post(
            &format!("/api/v1/payments/{payment_id}/refund"),
            json!({"amount": 500, "reason": "one cup spilt"}),
            Some(&shop.admin.access_token),
        )
        .await;
    assert_eq!(refund.status, 202, "{:?}", refund.body);
    let refund_id = refund.body["refundId"].as_str().unwrap().to_owned();
    let pending = testkit::eventually(Duration::from_secs(10), "refund job ran", || async {
        let view = app
            .get(
                &format!("/api/v1/payments/{payment_id}"),
                Some(&customer.access_token),
            )
            .await;
        (view.body["refundPending"] == 500).then_some(view.body)
    })
    .await;
    assert_eq!(
        pending["status"], "SUCCEEDED",
        "nothing refunded until the operator says so"
    );
    let settle_path = format!("/api/v1/payments/{payment_id}/refunds/{refund_id}/settle");
    let by_customer = app
        .post(
            &settle_path,
            json!({"reference": "x"}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(by_customer.status, 404);
    let settled = app
        .post(
            &settle_path,
            json!({"reference": "ABA-TRX-889"}),
            Some(&shop.admin.access_token),
        )
        .await;
    assert_eq!(settled.status, 200, "{:?}", settled.body);
    assert_eq!(settled.body["status"], "PARTIALLY_REFUNDED");
    assert_eq!(settled.body["refunded"], 500);
    let twice = app
        .post(
            &settle_path,
            json!({"reference": "ABA-TRX-889"}),
            Some(&shop.admin.access_token),
        )
        .await;
    assert_eq!((twice.status, twice.code()), (409, "refund_not_pending"));
    assert_eq!(app.list_events("payment.refunded").await.len(), 1);
    app.stop().await;
}

async fn nobody_pays_or_reads_anothers_payment(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app).await;
    let alice = app.customer("alice").await;
    let bob = app.customer("bob").await;
    let (group, _, _) = ordered(&app, &shop, &alice, 1).await;
    let bob_pays = app.pay(&bob, group, "simulator", None).await;
    assert_eq!(
        (bob_pays.status, bob_pays.code()),
        (404, "order_group_not_found")
    );
    let payment = uuid_of(&app.pay(&alice, group, "simulator", None).await.body["id"]);
    for path in [
        format!("/api/v1/payments/{payment}"),
        format!("/api/v1/payments/{payment}/instructions"),
    ] {
        assert_eq!(app.get(&path, Some(&bob.access_token)).await.status, 404);
        assert_eq!(
            app.get(&path, Some(&shop.kopi.owner.access_token))
                .await
                .status,
            404
        );
        assert_eq!(
            app.get(&path, Some(&shop.admin.access_token)).await.status,
            200
        );
    }
    let listed = app
        .get(
            &format!("/api/v1/payments?orderGroupId={group}"),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(0));
    let refund = app
        .post(
            &format!("/api/v1/payments/{payment}/refund"),
            json!({"reason": "mine"}),
            Some(&alice.access_token),
        )
        .await;
    assert_eq!(refund.status, 404, "customers do not refund themselves");
    let unverified = app.register("fresh").await;
    let blocked = app
        .checkout(
            &unverified,
            json!({"lines": [{"variantId": shop.latte, "quantity": 1}]}),
            None,
        )
        .await;
    assert_eq!(
        (blocked.status, blocked.code()),
        (403, "verification_required")
    );
    let unverified_pays = app.pay(&unverified, group, "simulator", None).await;
    assert_eq!(
        (unverified_pays.status, unverified_pays.code()),
        (403, "verification_required")
    );
    app.stop().await;
}

/// Pays the group through a signed simulator webhook; returns the payment id.
async fn pay_now(app: &TestApp, customer: &Session, group: Uuid, total: i64) -> Uuid {
    let payment = uuid_of(&app.pay(customer, group, "simulator", None).await.body["id"]);
    let hook = app
        .simulator_webhook(
            &Uuid::new_v4().to_string(),
            payment,
            "SUCCEEDED",
            total,
            "USD",
        )
        .await;
    assert_eq!(hook.body["outcome"], "applied");
    payment
}

async fn returns_are_refunded_and_digital_orders_complete_on_payment(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app).await;
    let customer = app.customer("shopper").await;
    let owner = &shop.kopi.owner.access_token;

    // Delivered, then returned: the money goes back and the order ends REFUNDED.
    let (group, order, total) = ordered(&app, &shop, &customer, 3).await;
    let payment = pay_now(&app, &customer, group, total).await;
    app.order_reaches(&customer, order, "PAID").await;
    let app_ref = &app;
    let status = |to: &str, token: &str, extra: Value| {
        let mut body = json!({"status": to});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let path = format!("/api/v1/orders/{order}/status");
        let token = token.to_owned();
        async move { app_ref.patch(&path, body, Some(&token)).await }
    };
    let by_customer = status("SHIPPED", &customer.access_token, json!({})).await;
    assert_eq!(
        (by_customer.status, by_customer.code()),
        (409, "illegal_transition")
    );
    assert_eq!(by_customer.body["allowedNextStates"], json!(["CANCELLED"]));
    assert_eq!(status("PROCESSING", owner, json!({})).await.status, 200);
    let shipped = status("SHIPPED", owner, json!({"trackingNumber": "JNE-123"})).await;
    assert_eq!(shipped.body["trackingNumber"], "JNE-123");
    let late_cancel = app
        .post(
            &format!("/api/v1/orders/{order}/cancel"),
            json!({}),
            Some(owner),
        )
        .await;
    assert_eq!(
        late_cancel.status, 409,
        "merchants cannot cancel a shipped order"
    );
    assert_eq!(status("DELIVERED", owner, json!({})).await.status, 200);
    assert_eq!(
        status("RETURNED", owner, json!({"note": "damaged"}))
            .await
            .status,
        200
    );
    let refunded = app.order_reaches(&customer, order, "REFUNDED").await;
    assert_eq!(refunded["refunded"], total);
    assert_eq!(
        app.payment_reaches(&customer, payment, "REFUNDED").await["refunded"],
        total
    );
    app.stock_reaches(&shop.kopi, "LATTE", (10, 0)).await;
    assert_eq!(
        app.timeline_statuses(&customer, order).await,
        [
            "PENDING_PAYMENT",
            "PAID",
            "PROCESSING",
            "SHIPPED",
            "DELIVERED",
            "RETURNED",
            "REFUNDED"
        ]
    );

    // A voucher-only order has nothing to ship: it completes on payment.
    let food = app.category(&shop.admin, "gifts", None).await;
    let (_, gift_card) = app
        .voucher_offer(
            &shop.kopi,
            &shop.admin,
            food,
            "GIFT-10",
            1000,
            100,
            json!({}),
        )
        .await;
    let digital = app
        .checkout(
            &customer,
            json!({"lines": [{"variantId": gift_card, "quantity": 2}]}),
            None,
        )
        .await;
    assert_eq!(digital.status, 201, "{:?}", digital.body);
    assert_eq!(digital.body["orders"][0]["digitalOnly"], true);
    let digital_order = uuid_of(&digital.body["orders"][0]["id"]);
    pay_now(&app, &customer, uuid_of(&digital.body["id"]), 2000).await;
    app.order_reaches(&customer, digital_order, "COMPLETED")
        .await;
    let completed = app.list_events("order.completed").await;
    assert!(completed
        .iter()
        .any(|e| uuid_of(&e["orderId"]) == digital_order));
    app.stop().await;
}
