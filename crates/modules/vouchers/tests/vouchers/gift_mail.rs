//! A gift to someone without an account: the email arrives over real SMTP with the token, the
//! recipient registers afterwards and accepts it into their new wallet.

use std::time::Duration;

use serde_json::json;
use testkit::{eventually, on_both_backends, uuid_of, Backend, TestApp};

on_both_backends!(a_gift_waits_for_its_recipient_to_register);

async fn a_gift_waits_for_its_recipient_to_register(backend: Backend) {
    let (app, smtp, _http) = TestApp::spawn_with_messaging(backend, Vec::new()).await;
    let admin = app.admin().await;
    let shop = app.merchant("Flower Stall").await;
    let category = app.category(&admin, "flowers", None).await;
    let (_, variant) = app
        .voucher_offer(
            &shop,
            &admin,
            category,
            "BOUQUET",
            1_500,
            10,
            json!({"kind": "ITEM"}),
        )
        .await;
    let giver = app.customer("srey").await;
    app.paid_order(&giver, variant, 1).await;
    let voucher = uuid_of(&app.wallet_with(&giver, "ACTIVE", 1).await[0]["id"]);
    // A gift taken back before it is accepted: the voucher is the giver's again.
    let first = app
        .post(
            &format!("/api/v1/wallet/{voucher}/gift"),
            json!({"phone": "+6281234567890"}),
            Some(&giver.access_token),
        )
        .await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let cancelled = app
        .post(
            &format!(
                "/api/v1/wallet/gifts/{}/cancel",
                first.body["id"].as_str().unwrap_or_default()
            ),
            json!({}),
            Some(&giver.access_token),
        )
        .await;
    assert_eq!(
        cancelled.body["status"], "CANCELLED",
        "{:?}",
        cancelled.body
    );
    let back = app
        .get(
            &format!("/api/v1/wallet/{voucher}"),
            Some(&giver.access_token),
        )
        .await;
    assert_eq!(back.body["status"], "ACTIVE");
    let friend = format!("friend.{}@example.com", uuid::Uuid::new_v4().simple());
    let gift = app
        .post(
            &format!("/api/v1/wallet/{voucher}/gift"),
            json!({"email": friend, "message": "For your new shop"}),
            Some(&giver.access_token),
        )
        .await;
    assert_eq!(gift.status, 201, "{:?}", gift.body);
    assert!(
        gift.body.get("token").is_none(),
        "the giver never sees the token"
    );

    let mail = eventually(Duration::from_secs(15), "gift email", || async {
        smtp.messages_to(&friend).into_iter().next()
    })
    .await;
    assert!(mail.subject.contains("gift"), "{}", mail.subject);
    assert!(mail.body.contains("For your new shop"), "{}", mail.body);
    let token = mail
        .body
        .lines()
        .map(str::trim)
        .rfind(|line| !line.is_empty())
        .expect("the token closes the message")
        .to_owned();

    let registered = app
        .post(
            "/api/v1/auth/register",
            json!({"email": friend, "password": "Friend!Passw0rd", "firstName": "Friend", "lastName": "New"}),
            None,
        )
        .await;
    assert_eq!(registered.status, 201, "{:?}", registered.body);
    let access = registered.body["accessToken"]
        .as_str()
        .expect("access token");
    let accepted = app
        .post(
            "/api/v1/wallet/gifts/accept",
            json!({"token": token}),
            Some(access),
        )
        .await;
    assert_eq!(accepted.status, 201, "{:?}", accepted.body);
    assert_eq!(accepted.body["source"], "GIFT");
    let sent = app
        .get("/api/v1/wallet/gifts", Some(&giver.access_token))
        .await;
    assert_eq!(sent.body[0]["status"], "ACCEPTED", "{:?}", sent.body);
    app.stop().await;
}
