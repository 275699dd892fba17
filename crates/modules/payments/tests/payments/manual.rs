//! Bank transfers verified by an admin: the same effects as a provider's webhook, audited,
//! idempotent per bank reference, safe under concurrent verifications; the list of what waits
//! for an operator (transfers to verify, refunds to pay back by hand) and the admins'
//! reminder.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{json, Value};
use testkit::{eventually, on_both_backends, uuid_of, Backend, Session, TestApp};
use uuid::Uuid;

on_both_backends!(bank_transfers_are_verified_by_hand_once);

async fn bank_app(backend: Backend) -> TestApp {
    TestApp::spawn_with(
        backend,
        |c| {
            c.edit_section(|p: &mut payments::config::PaymentsConfig| {
                p.bank_transfer.enabled = true;
                p.bank_transfer.bank_name = "ABA Bank".into();
                p.bank_transfer.account_name = "Pasar Marketplace Co., Ltd.".into();
                p.bank_transfer.account_number = "000 123 456".into();
                // Anything waiting is due a reminder at once, and not again within the test.
                p.reminders.after_minutes = 0;
                p.reminders.every_minutes = 60;
            })
            .expect("payments section")
        },
        Vec::new(),
    )
    .await
}

async fn awaiting(app: &TestApp, admin: &Session, query: &str) -> Vec<Value> {
    let list = app
        .get(
            &format!("/api/v1/admin/payments/awaiting{query}"),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    list.body["items"].as_array().cloned().unwrap_or_default()
}

async fn bank_transfers_are_verified_by_hand_once(backend: Backend) {
    let app = bank_app(backend).await;
    let admin = app.admin().await;
    let kopi = app.merchant("Kopi").await;
    let food = app.category(&admin, "food", None).await;
    let (_, latte) = app
        .listed_product(&kopi, &admin, food, "Latte", "LATTE", 1_250, 20)
        .await;
    let customer = app.customer("transferer").await;
    let order_of = |quantity: i64| {
        let app = &app;
        let customer = &customer;
        async move {
            let resp = app
                .checkout(
                    customer,
                    json!({"lines": [{"variantId": latte, "quantity": quantity}]}),
                    None,
                )
                .await;
            assert_eq!(resp.status, 201, "{:?}", resp.body);
            (
                uuid_of(&resp.body["id"]),
                uuid_of(&resp.body["orders"][0]["id"]),
            )
        }
    };
    let pay_by_transfer = |group: Uuid| {
        let app = &app;
        let customer = &customer;
        async move {
            let payment = app.pay(customer, group, "bank_transfer", None).await;
            assert_eq!(payment.status, 201, "{:?}", payment.body);
            uuid_of(&payment.body["id"])
        }
    };

    // The customer is told where to send the money and what to quote.
    let (group, order) = order_of(2).await;
    let payment = pay_by_transfer(group).await;
    let instructions = app
        .get(
            &format!("/api/v1/payments/{payment}/instructions"),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(instructions.body["kind"], "bank_transfer");
    let details = &instructions.body["bankTransfer"];
    assert_eq!(details["accountNumber"], "000 123 456");
    let quoted = details["reference"]
        .as_str()
        .expect("a reference")
        .to_owned();
    assert!(quoted.len() > 7, "{quoted}");

    // It waits in the operators' list, which only admins read.
    let waiting = awaiting(&app, &admin, "?kind=verification").await;
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!(waiting[0]["paymentId"], payment.to_string());
    assert_eq!(waiting[0]["reference"], quoted.as_str());
    assert_eq!(waiting[0]["amount"], 2_500);
    let by_customer = app
        .get(
            "/api/v1/admin/payments/awaiting",
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(by_customer.status, 403);
    let bad_kind = app
        .get(
            "/api/v1/admin/payments/awaiting?kind=everything",
            Some(&admin.access_token),
        )
        .await;
    assert!(
        bad_kind.status == 400 || bad_kind.status == 422,
        "{bad_kind:?}"
    );

    // Refusals change nothing.
    let verify_path = format!("/api/v1/payments/{payment}/verify");
    let transfer = |reference: &str, amount: i64| json!({"bankReference": reference, "amount": amount, "currency": "USD", "note": "statement of 4 Dec"});
    let customer_try = app
        .post(
            &verify_path,
            transfer("FT-1", 2_500),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(customer_try.status, 404);
    let bad = app
        .post(
            &verify_path,
            json!({"bankReference": " ", "amount": 0, "currency": "USD"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (422, "validation_failed"),
        "{:?}",
        bad.body
    );
    let riel = app
        .post(
            &verify_path,
            json!({"bankReference": "FT-KHR-1", "amount": 2_500, "currency": "KHR"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(
        (riel.status, riel.code()),
        (422, "validation_failed"),
        "{:?}",
        riel.body
    );
    let unknown = app
        .post(
            &format!("/api/v1/payments/{}/verify", Uuid::new_v4()),
            transfer("FT-1", 2_500),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!((unknown.status, unknown.code()), (404, "payment_not_found"));
    let view = app.payment_reaches(&customer, payment, "INITIATED").await;
    assert_eq!(view["transactions"].as_array().unwrap().len(), 1);

    // Ten admins' clicks on the same transfer at once: one applies, the rest are duplicates.
    let clicks = join_all((0..10).map(|_| {
        app.post(
            &verify_path,
            transfer("ft-20261204-0001", 2_500),
            Some(&admin.access_token),
        )
    }))
    .await;
    let outcomes: Vec<String> = clicks
        .iter()
        .map(|c| {
            assert_eq!(c.status, 200, "{:?}", c.body);
            c.body["outcome"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| *o == "applied").count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes.iter().all(|o| o == "applied" || o == "duplicate"));
    app.order_reaches(&customer, order, "PAID").await;
    let paid = app.payment_reaches(&customer, payment, "SUCCEEDED").await;
    assert_eq!(paid["captured"], 2_500);
    let succeeded: Vec<Value> = app
        .list_events("payment.succeeded")
        .await
        .into_iter()
        .filter(|e| e["paymentId"] == payment.to_string())
        .collect();
    assert_eq!(
        succeeded.len(),
        1,
        "one payment.succeeded, as for a webhook"
    );
    assert_eq!(succeeded[0]["method"], "bank_transfer");
    // Case does not make it another transfer; another transfer for a settled payment is a
    // refund matter.
    let again = app
        .post(
            &verify_path,
            transfer("FT-20261204-0001", 2_500),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(again.body["outcome"], "duplicate", "{:?}", again.body);
    let second = app
        .post(
            &verify_path,
            transfer("FT-OTHER", 2_500),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(
        (second.status, second.code()),
        (409, "payment_already_settled")
    );
    assert!(awaiting(&app, &admin, "?kind=verification")
        .await
        .is_empty());

    // The audit says who verified which transfer, once.
    let audit = app
        .get(
            &format!("/api/v1/payments/{payment}/audit"),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(audit.status, 200, "{:?}", audit.body);
    let entries = audit.body.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["action"], "verified");
    assert_eq!(entries[0]["actorId"], admin.user_id.to_string());
    assert_eq!(entries[0]["detail"]["bankReference"], "ft-20261204-0001");
    assert_eq!(entries[0]["detail"]["note"], "statement of 4 Dec");
    let audit_by_customer = app
        .get(
            &format!("/api/v1/payments/{payment}/audit"),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(audit_by_customer.status, 404);

    // One transfer confirms one payment; too little money flags the payment for review.
    let (short_group, short_order) = order_of(1).await;
    let short = pay_by_transfer(short_group).await;
    let reused = app
        .post(
            &format!("/api/v1/payments/{short}/verify"),
            transfer("FT-20261204-0001", 1_250),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(
        (reused.status, reused.code()),
        (409, "bank_reference_in_use")
    );
    let underpaid = app
        .post(
            &format!("/api/v1/payments/{short}/verify"),
            transfer("FT-20261204-0002", 1_000),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(underpaid.body["outcome"], "flagged", "{:?}", underpaid.body);
    assert_eq!(underpaid.body["payment"]["status"], "NEEDS_REVIEW");
    let order_view = app
        .get(
            &format!("/api/v1/orders/{short_order}"),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(order_view.body["status"], "PENDING_PAYMENT");

    // Only bank transfers are verified by hand.
    let (sim_group, _) = order_of(1).await;
    let simulated = uuid_of(&app.pay(&customer, sim_group, "simulator", None).await.body["id"]);
    let not_by_hand = app
        .post(
            &format!("/api/v1/payments/{simulated}/verify"),
            transfer("FT-9", 1_250),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(
        (not_by_hand.status, not_by_hand.code()),
        (409, "payment_not_verifiable")
    );

    // No transfer came: the admin rejects the payment, which fails as a decline would. A
    // transfer found later still counts.
    let (late_group, late_order) = order_of(1).await;
    let late = pay_by_transfer(late_group).await;
    let reject_path = format!("/api/v1/payments/{late}/reject");
    let customer_reject = app
        .post(
            &reject_path,
            json!({"reason": "no transfer"}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(customer_reject.status, 404);
    let no_reason = app
        .post(
            &reject_path,
            json!({"reason": ""}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(no_reason.status, 422);
    let rejected = app
        .post(
            &reject_path,
            json!({"reason": "nothing on the statement after 3 days"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(rejected.body["outcome"], "applied", "{:?}", rejected.body);
    assert_eq!(rejected.body["payment"]["status"], "FAILED");
    let rejected_again = app
        .post(
            &reject_path,
            json!({"reason": "again"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(
        rejected_again.body["outcome"], "duplicate",
        "{:?}",
        rejected_again.body
    );
    assert!(app
        .list_events("payment.failed")
        .await
        .iter()
        .any(|e| e["paymentId"] == late.to_string()));
    assert!(awaiting(&app, &admin, "?kind=verification")
        .await
        .is_empty());
    let found_later = app
        .post(
            &format!("/api/v1/payments/{late}/verify"),
            transfer("FT-20261207-0003", 1_250),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(
        found_later.body["outcome"], "applied",
        "{:?}",
        found_later.body
    );
    app.order_reaches(&customer, late_order, "PAID").await;

    // A refund of a transfer is paid back by hand: it waits until an operator settles it.
    let refund = app
        .post(
            &format!("/api/v1/payments/{payment}/refund"),
            json!({"amount": 1_250, "reason": "one cup spilt"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(refund.status, 202, "{:?}", refund.body);
    let refund_id = refund.body["refundId"].as_str().unwrap().to_owned();
    let waiting = eventually(
        Duration::from_secs(15),
        "the refund waits for an operator",
        || async {
            let items = awaiting(&app, &admin, "?kind=refund").await;
            (!items.is_empty()).then_some(items)
        },
    )
    .await;
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0]["reference"], refund_id.as_str());
    assert_eq!(waiting[0]["amount"], 1_250);

    // Admins are reminded once of what waits, then not again within the interval. (The
    // scheduled job may have run first: either way there is exactly one reminder of it.)
    let payments = payments::Payments::new(app.ctx().clone());
    payments.remind_operators().await.expect("reminder");
    assert!(!payments
        .remind_operators()
        .await
        .expect("no second reminder"));
    let reminders: Vec<Value> = app
        .list_events("payment.awaiting_operator")
        .await
        .into_iter()
        .filter(|r| r["refunds"] == 1)
        .collect();
    assert_eq!(reminders.len(), 1, "{reminders:?}");
    assert_eq!(
        reminders[0]["verifications"], 0,
        "the flagged one left the list"
    );
    let inbox = eventually(Duration::from_secs(15), "the admin's reminder", || async {
        let list = app
            .get("/api/v1/notifications", Some(&admin.access_token))
            .await;
        list.body["items"].as_array().and_then(|items| {
            items
                .iter()
                .find(|m| m["title"] == "Payments are waiting for an operator")
                .cloned()
        })
    })
    .await;
    assert!(
        inbox["body"].as_str().unwrap().contains("1 refund(s)"),
        "{inbox:?}"
    );
    let customer_inbox = app
        .get("/api/v1/notifications", Some(&customer.access_token))
        .await;
    assert!(!customer_inbox
        .body
        .to_string()
        .contains("waiting for an operator"));

    let settled = app
        .post(
            &format!("/api/v1/payments/{payment}/refunds/{refund_id}/settle"),
            json!({"reference": "FT-BACK-77"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(settled.status, 200, "{:?}", settled.body);
    assert_eq!(settled.body["status"], "PARTIALLY_REFUNDED");
    assert!(awaiting(&app, &admin, "").await.is_empty());
    let audit = app
        .get(
            &format!("/api/v1/payments/{payment}/audit"),
            Some(&admin.access_token),
        )
        .await;
    let actions: Vec<&str> = audit
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["verified", "refund_settled"]);
    app.stop().await;
}
