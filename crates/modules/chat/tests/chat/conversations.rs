//! Conversations over HTTP: opened once per topic (the merchant's product, or the caller's
//! order with it), only by customers, seen only by their two sides, listed by latest activity;
//! history pages; resent messages stay one; offline recipients are notified once per burst.

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

    // A topic is the merchant's own product, or an order between the caller and the merchant.
    let admin = app.admin().await;
    let category = app.category(&admin, "obrolan", None).await;
    let (batik, batik_variant) = app
        .listed_product(&toko, &admin, category, "Batik", "BATIK-1", 2_500, 10)
        .await;
    let other_shop = app.merchant("Toko Lain").await;
    let (elsewhere, _) = app
        .listed_product(&other_shop, &admin, category, "Kain", "KAIN-1", 1_000, 10)
        .await;
    for product in [uuid::Uuid::nil(), elsewhere] {
        let refused = start(
            json!({"merchantId": toko.id, "productId": product}),
            &customer,
        )
        .await;
        assert_eq!(
            (refused.status, refused.code()),
            (404, "product_not_found"),
            "{:?}",
            refused.body
        );
    }
    let placed = app
        .checkout(
            &outsider,
            json!({"lines": [{"variantId": batik_variant, "quantity": 1}]}),
            None,
        )
        .await;
    assert_eq!(placed.status, 201, "{:?}", placed.body);
    let outsiders_order = uuid_of(&placed.body["orders"][0]["id"]);
    for (who, order) in [(&customer, outsiders_order), (&customer, uuid::Uuid::nil())] {
        let refused = start(json!({"merchantId": toko.id, "orderId": order}), who).await;
        assert_eq!(
            (refused.status, refused.code()),
            (404, "order_not_found"),
            "someone else's order is not a topic: {:?}",
            refused.body
        );
    }
    let wrong_merchant = start(
        json!({"merchantId": other_shop.id, "orderId": outsiders_order}),
        &outsider,
    )
    .await;
    assert_eq!(wrong_merchant.code(), "order_not_found");
    let about_order = start(
        json!({"merchantId": toko.id, "orderId": outsiders_order}),
        &outsider,
    )
    .await;
    assert_eq!(about_order.status, 201, "{:?}", about_order.body);
    assert_eq!(about_order.body["topic"]["kind"], "ORDER");
    let about = start(
        json!({"merchantId": toko.id, "productId": batik}),
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
    let listed_ids: Vec<uuid::Uuid> = listed.iter().map(|c| uuid_of(&c["id"])).collect();
    assert_eq!(
        listed_ids,
        vec![
            uuid_of(&about.body["id"]),
            uuid_of(&about_order.body["id"]),
            id
        ],
        "latest opened first"
    );
    assert_eq!(
        listed
            .iter()
            .map(|c| c["unread"].as_i64())
            .collect::<Vec<_>>(),
        vec![Some(0), Some(0), Some(1)]
    );

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

    // A message moves its conversation to the top; pages follow that order.
    let staff_page = |query: String| {
        let token = manager.access_token.clone();
        let app = &app;
        async move {
            let resp = app
                .get(
                    &format!("/api/v1/conversations?merchantId={}{query}", toko.id),
                    Some(&token),
                )
                .await;
            assert_eq!(resp.status, 200, "{:?}", resp.body);
            resp.body
        }
    };
    let first_page = staff_page("&limit=2".into()).await;
    let top: Vec<uuid::Uuid> = first_page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| uuid_of(&c["id"]))
        .collect();
    assert_eq!(
        top,
        vec![id, uuid_of(&about.body["id"])],
        "the replied one first"
    );
    let cursor = first_page["nextCursor"].as_str().expect("a second page");
    let second_page = staff_page(format!("&limit=2&cursor={cursor}")).await;
    assert_eq!(
        second_page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| uuid_of(&c["id"]))
            .collect::<Vec<_>>(),
        vec![uuid_of(&about_order.body["id"])]
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

    // Read, the customer writes again: a new burst.
    let after_read = app
        .post(
            &format!("{path}/messages"),
            json!({"text": "One more thing"}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(after_read.status, 201);

    // Nobody was connected: each side was notified of the other's messages, once per burst
    // (the question; not notes 3 to 7, sent while it was unread; then the one after reading).
    eventually(Duration::from_secs(20), "the reply notified", || async {
        inbox_titles(&app, &customer)
            .await
            .contains(&"Toko Obrolan sent you a message".to_owned())
            .then_some(())
    })
    .await;
    for staff in [&toko.owner, &manager] {
        eventually(
            Duration::from_secs(20),
            "the last burst notified",
            || async {
                let resp = app
                    .get("/api/v1/notifications?limit=100", Some(&staff.access_token))
                    .await;
                let bodies: Vec<String> = resp.body["items"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|m| m["body"].as_str().map(str::to_owned))
                    .collect();
                bodies
                    .iter()
                    .any(|b| b.ends_with("One more thing"))
                    .then_some(())
            },
        )
        .await;
        let titles = inbox_titles(&app, staff).await;
        assert_eq!(
            titles
                .iter()
                .filter(|t| *t == "New message for Toko Obrolan")
                .count(),
            2,
            "{titles:?}"
        );
    }
    app.stop().await;
}
