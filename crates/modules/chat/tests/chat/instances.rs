//! Two instances on one database with Redis: the customer on one, the merchant's staff on the
//! other, see each other's messages, typing, receipts and presence live.

use std::time::Duration;

use serde_json::json;
use testkit::{uuid_of, Backend, TestApp};

use crate::client::{connect, Auth};

#[tokio::test]
async fn two_instances_serve_the_two_sides_live() {
    let prefix = format!("chat-{}", uuid::Uuid::new_v4().simple());
    let first = TestApp::spawn_with(
        Backend::Postgres,
        |c| {
            c.cache.url = Some("redis://127.0.0.1:6379".into());
            c.cache.prefix = prefix.clone();
            // Both instances unseal the signing keys they share through the database.
            c.keyring.master_key = Some("Y2hhdC10ZXN0LW1hc3Rlci1rZXktMzItYnl0ZXMhISE=".into());
        },
        Vec::new(),
    )
    .await;
    let mut config = first.config.clone();
    config.http.addr = "127.0.0.1:0".into();
    let second = TestApp::attach(Backend::Postgres, config, testkit::default_modules()).await;

    let toko = first.merchant("Toko Dua").await;
    let manager = first.staff(&toko, "manager").await;
    let customer = first.customer("eka").await;
    let opened = first
        .post(
            "/api/v1/conversations",
            json!({"merchantId": toko.id}),
            Some(&customer.access_token),
        )
        .await;
    let id = uuid_of(&opened.body["id"]);

    let mut buyer = connect(&first, Auth::Header(&customer.access_token)).await;
    let mut shop = connect(&second, Auth::Header(&manager.access_token)).await;
    // Presence crosses processes.
    buyer
        .send(json!({"type": "presence", "conversationId": id}))
        .await;
    assert_eq!(buyer.next("presence").await["online"], true);

    for n in 1..=5 {
        buyer
            .send(json!({"type": "send", "conversationId": id, "clientId": format!("b-{n}"), "text": format!("question {n}")}))
            .await;
        buyer.next("ack").await;
    }
    let mut seen = Vec::new();
    while seen.len() < 5 {
        seen.push(
            shop.next("message").await["message"]["seq"]
                .as_i64()
                .unwrap_or(0),
        );
    }
    assert_eq!(
        seen,
        vec![1, 2, 3, 4, 5],
        "each once, in order, on the other instance"
    );

    shop.send(json!({"type": "typing", "conversationId": id}))
        .await;
    buyer.next("typing").await;
    shop.send(
        json!({"type": "send", "conversationId": id, "clientId": "m-1", "text": "All in stock."}),
    )
    .await;
    assert_eq!(buyer.next("message").await["message"]["seq"], 6);
    buyer
        .send(json!({"type": "read", "conversationId": id, "seq": 6}))
        .await;
    assert_eq!(shop.next("receipt").await["customerReadSeq"], 6);
    // Nothing arrives twice (the instance that stored it hears its own Redis echo).
    let (extra, _) = shop.drain(Duration::from_millis(500)).await;
    assert!(extra.iter().all(|f| f["type"] != "message"), "{extra:?}");
    buyer.close().await;
    shop.close().await;
    second.stop().await;
    first.stop().await;
}
