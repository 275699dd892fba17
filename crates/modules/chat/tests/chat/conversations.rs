//! Conversations over HTTP: opened once per topic, only by customers, seen only by their two
//! sides; history pages; resent messages stay one; offline recipients are notified.

use std::time::Duration;

use serde_json::json;
use testkit::{eventually, on_both_backends, uuid_of, Backend, Session, TestApp};

on_both_backends!(conversations_are_private_paged_and_notify_the_offline_side);

async fn inbox_titles(app: &TestApp, who: &Session) -> Vec<String> {
    let resp = app
        .get("/api/v1/notifications?limit=100", Some(&who.access_token))
        .await;
    resp.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|m| m["title"].as_str().map(str::to_owned))
        .collect()
}

async fn conversations_are_private_paged_and_notify_the_offline_side(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let toko = app.merchant("Toko Obrolan").await;
    let manager = app.staff(&toko, "manager").await;
    let customer = app.customer("bunga").await;
    let outsider = app.customer("orang-lain").await;
    let start = |body: serde_json::Value, who: &Session| {
        let token = who.access_token.clone();
        let app = &app;
        async move { app.post("/api/v1/conversations", body, Some(&token)).await }
    };

    // Refused, and nothing opened.
    let unknown = start(json!({"merchantId": uuid::Uuid::nil()}), &customer).await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (404, "merchant_not_found")
    );
    let own = start(json!({"merchantId": toko.id}), &manager).await;
    assert_eq!((own.status, own.code()), (422, "own_merchant"));
    let blank = start(json!({"merchantId": toko.id, "text": "   "}), &customer).await;
    assert_eq!((blank.status, blank.code()), (422, "empty_message"));
    let long = start(
        json!({"merchantId": toko.id, "text": "x".repeat(4_001)}),
        &customer,
    )
    .await;
    assert_eq!((long.status, long.code()), (422, "message_too_long"));
    let both = start(
        json!({"merchantId": toko.id, "productId": uuid::Uuid::nil(), "orderId": uuid::Uuid::nil()}),
        &customer,
    )
    .await;
    assert_eq!(both.status, 422, "{:?}", both.body);
    let extra = start(json!({"merchantId": toko.id, "mood": "happy"}), &customer).await;
    assert_eq!(extra.status, 422);
    let none = app
        .get(
            &format!("/api/v1/conversations?merchantId={}", toko.id),
            Some(&manager.access_token),
        )
        .await;
    assert_eq!(none.body["items"].as_array().map(Vec::len), Some(0));

    // Opened with a first message; opening again finds it.
    let opened = start(
        json!({"merchantId": toko.id, "text": "Is the batik in stock?"}),
        &customer,
    )
    .await;
    assert_eq!(opened.status, 201, "{:?}", opened.body);
    assert_eq!(opened.body["lastSeq"], 1);
    let id = uuid_of(&opened.body["id"]);
    let again = start(json!({"merchantId": toko.id}), &customer).await;
    assert_eq!((again.status, uuid_of(&again.body["id"])), (200, id));
    let about = start(
        json!({"merchantId": toko.id, "productId": uuid::Uuid::nil()}),
        &customer,
    )
    .await;
    assert_eq!(about.status, 201, "another topic is another conversation");
    assert_eq!(about.body["topic"]["kind"], "PRODUCT");

    // Only the two sides see it.
    let path = format!("/api/v1/conversations/{id}");
    for who in [&outsider] {
        assert_eq!(
            app.get(&path, Some(&who.access_token)).await.code(),
            "conversation_not_found"
        );
        let sent = app
            .post(
                &format!("{path}/messages"),
                json!({"text": "hi"}),
                Some(&who.access_token),
            )
            .await;
        assert_eq!(sent.status, 404);
        assert_eq!(
            app.get(&format!("{path}/messages"), Some(&who.access_token))
                .await
                .status,
            404
        );
    }
    assert_eq!(app.get(&path, None).await.status, 401);
    let foreign = app
        .get(
            &format!("/api/v1/conversations?merchantId={}", toko.id),
            Some(&outsider.access_token),
        )
        .await;
    assert_eq!(foreign.status, 403);
    let staff_list = app
        .get(
            &format!("/api/v1/conversations?merchantId={}", toko.id),
            Some(&manager.access_token),
        )
        .await;
    let listed = staff_list.body["items"].as_array().expect("items").clone();
    assert_eq!(listed.len(), 2);
    let ours = listed
        .iter()
        .find(|c| uuid_of(&c["id"]) == id)
        .expect("listed");
    assert_eq!(ours["unread"], 1);

    // A reply sent twice with one client id is one message.
    let reply = json!({"clientId": "r-1", "text": "Yes, three left."});
    let first = app
        .post(
            &format!("{path}/messages"),
            reply.clone(),
            Some(&manager.access_token),
        )
        .await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(
        (
            first.body["seq"].as_i64(),
            first.body["senderSide"].as_str()
        ),
        (Some(2), Some("MERCHANT"))
    );
    let repeat = app
        .post(
            &format!("{path}/messages"),
            reply,
            Some(&manager.access_token),
        )
        .await;
    assert_eq!(
        (repeat.status, &repeat.body["id"]),
        (200, &first.body["id"])
    );
    let mine = app.get(&path, Some(&customer.access_token)).await;
    assert_eq!(
        (mine.body["lastSeq"].as_i64(), mine.body["unread"].as_i64()),
        (Some(2), Some(1))
    );

    // History pages back by sequence number.
    for n in 3..=7 {
        let sent = app
            .post(
                &format!("{path}/messages"),
                json!({"text": format!("note {n}")}),
                Some(&customer.access_token),
            )
            .await;
        assert_eq!(sent.body["seq"], n);
    }
    let page = app
        .get(
            &format!("{path}/messages?limit=3"),
            Some(&customer.access_token),
        )
        .await;
    let seqs: Vec<i64> = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![7, 6, 5]);
    let cursor = page.body["nextCursor"].as_str().expect("more").to_owned();
    let rest = app
        .get(
            &format!("{path}/messages?limit=10&cursor={cursor}"),
            Some(&customer.access_token),
        )
        .await;
    let seqs: Vec<i64> = rest.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![4, 3, 2, 1]);
    assert!(rest.body["nextCursor"].is_null());
    let bad = app
        .get(
            &format!("{path}/messages?cursor=abc"),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(bad.status, 422);

    // Read receipts clear the count.
    let read = app
        .post(
            &format!("{path}/read"),
            json!({"seq": 99}),
            Some(&manager.access_token),
        )
        .await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    assert_eq!(
        (
            read.body["unread"].as_i64(),
            read.body["merchantReadSeq"].as_i64()
        ),
        (Some(0), Some(7))
    );

    // Nobody was connected: each side was notified of the other's messages.
    eventually(Duration::from_secs(20), "the reply notified", || async {
        inbox_titles(&app, &customer)
            .await
            .contains(&"Toko Obrolan sent you a message".to_owned())
            .then_some(())
    })
    .await;
    for staff in [&toko.owner, &manager] {
        eventually(Duration::from_secs(20), "the question notified", || async {
            inbox_titles(&app, staff)
                .await
                .iter()
                .any(|t| t == "New message for Toko Obrolan")
                .then_some(())
        })
        .await;
    }
    app.stop().await;
}
