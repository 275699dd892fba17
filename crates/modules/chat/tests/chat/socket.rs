//! The WebSocket with a real client: send and ack, live delivery, typing, receipts, presence;
//! outsiders and bad frames refused; reconnect and resume with nothing lost or doubled; a
//! flood closed.

use std::time::Duration;

use serde_json::{json, Value};
use testkit::{on_both_backends, uuid_of, Backend, TestApp};

use crate::client::{connect, try_connect, Auth};

on_both_backends!(websocket_delivers_receipts_typing_and_resumes_without_loss);

fn seqs(frames: &[Value]) -> Vec<i64> {
    frames.iter().filter_map(|m| m["seq"].as_i64()).collect()
}

async fn websocket_delivers_receipts_typing_and_resumes_without_loss(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        |c| {
            c.edit_section(|chat: &mut chat::config::ChatConfig| {
                chat.frame_burst = 15;
                chat.frames_per_second = 5;
                chat.max_refusals = 10;
                // Tokens and roles are checked again at every heartbeat.
                chat.heartbeat_secs = 1;
            })
            .expect("chat section")
        },
        Vec::new(),
    )
    .await;
    let toko = app.merchant("Toko Soket").await;
    let cashier = app.staff(&toko, "cashier").await;
    let customer = app.customer("citra").await;
    let outsider = app.customer("dodi").await;
    let opened = app
        .post(
            "/api/v1/conversations",
            json!({"merchantId": toko.id}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(opened.status, 201, "{:?}", opened.body);
    let id = uuid_of(&opened.body["id"]);

    // Anonymous and forged tokens are refused before the upgrade.
    assert_eq!(try_connect(&app, None).await.err(), Some(401));
    assert_eq!(
        try_connect(&app, Some(Auth::Subprotocol("not.a.jwt")))
            .await
            .err(),
        Some(401)
    );

    let mut buyer = connect(&app, Auth::Header(&customer.access_token)).await;
    let mut shop = connect(&app, Auth::Subprotocol(&cashier.access_token)).await;

    // Stored, acknowledged, delivered live to the shop.
    buyer
        .send(json!({"type": "send", "conversationId": id, "clientId": "c-1", "text": "Halo, ada ukuran M?"}))
        .await;
    let ack = buyer.next("ack").await;
    assert_eq!(
        (ack["clientId"].as_str(), ack["message"]["seq"].as_i64()),
        (Some("c-1"), Some(1))
    );
    let live = shop.next("message").await;
    assert_eq!(live["message"]["id"], ack["message"]["id"]);
    assert_eq!(live["message"]["senderSide"], "CUSTOMER");

    // Typing reaches the other side only; receipts reach both.
    shop.send(json!({"type": "typing", "conversationId": id}))
        .await;
    let typing = buyer.next("typing").await;
    assert_eq!(
        (typing["side"].as_str(), uuid_of(&typing["userId"])),
        (Some("MERCHANT"), cashier.user_id)
    );
    shop.send(json!({"type": "read", "conversationId": id, "seq": 1}))
        .await;
    for side in [&mut buyer, &mut shop] {
        let receipt = side.next("receipt").await;
        assert_eq!(
            (
                receipt["merchantReadSeq"].as_i64(),
                receipt["merchantDeliveredSeq"].as_i64()
            ),
            (Some(1), Some(1))
        );
    }
    buyer
        .send(json!({"type": "presence", "conversationId": id}))
        .await;
    assert_eq!(buyer.next("presence").await["online"], true);
    buyer.send(json!({"type": "ping"})).await;
    buyer.next("pong").await;

    // An outsider learns nothing, and receives nothing.
    let mut stranger = connect(&app, Auth::Header(&outsider.access_token)).await;
    for frame in [
        json!({"type": "send", "conversationId": id, "clientId": "x", "text": "let me in"}),
        json!({"type": "typing", "conversationId": id}),
        json!({"type": "resume", "conversationId": id, "afterSeq": 0}),
        json!({"type": "presence", "conversationId": id}),
    ] {
        stranger.send(frame).await;
        let refused = stranger.next("error").await;
        assert_eq!(refused["code"], "conversation_not_found", "{refused:?}");
    }
    // Bad frames are refused one by one, the connection stays.
    stranger.send(json!({"type": "shout"})).await;
    assert_eq!(stranger.next("error").await["code"], "bad_frame");
    stranger.send_binary().await;
    assert_eq!(stranger.next("error").await["code"], "bad_frame");
    stranger
        .send(json!({"type": "send", "conversationId": id, "clientId": "has space", "text": "x"}))
        .await;
    assert_eq!(
        stranger.next("error").await["code"],
        "conversation_not_found"
    );
    stranger.close().await;

    // The buyer drops; the shop writes three messages meanwhile.
    buyer.close().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    for n in 1..=3 {
        shop.send(json!({"type": "send", "conversationId": id, "clientId": format!("s-{n}"), "text": format!("reply {n}")}))
            .await;
        shop.next("ack").await;
    }
    // Back with the last sequence it saw: exactly the three, in order. Its lost send, sent
    // again with the same client id, is the same message.
    let mut buyer = connect(&app, Auth::Header(&customer.access_token)).await;
    buyer
        .send(json!({"type": "resume", "conversationId": id, "afterSeq": 1}))
        .await;
    let history = buyer.next("history").await;
    let messages = history["messages"].as_array().expect("messages").clone();
    assert_eq!(seqs(&messages), vec![2, 3, 4]);
    assert_eq!(history["more"], false);
    buyer
        .send(json!({"type": "send", "conversationId": id, "clientId": "c-1", "text": "Halo, ada ukuran M?"}))
        .await;
    let again = buyer.next("ack").await;
    assert_eq!(again["message"]["id"], ack["message"]["id"]);
    let all = app
        .get(
            &format!("/api/v1/conversations/{id}/messages?limit=100"),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(
        seqs(all.body["items"].as_array().unwrap()),
        vec![4, 3, 2, 1]
    );
    let unread = app
        .get(
            &format!("/api/v1/conversations/{id}"),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(unread.body["unread"], 3);

    // Refused messages: empty and too long.
    buyer
        .send(json!({"type": "send", "conversationId": id, "clientId": "c-2", "text": " "}))
        .await;
    let empty = buyer.next("error").await;
    assert_eq!(
        (empty["code"].as_str(), empty["clientId"].as_str()),
        (Some("empty_message"), Some("c-2"))
    );

    // A flood is slowed, then closed.
    for _ in 0..40 {
        shop.send(json!({"type": "ping"})).await;
    }
    let (frames, closed) = shop.drain(Duration::from_secs(2)).await;
    assert!(
        frames.iter().any(|f| f["code"] == "slow_down"),
        "{frames:?}"
    );
    assert_eq!(closed, Some(1008));

    // Removed from the merchant, the cashier's connection ends at the next heartbeat, and a
    // new one cannot act for the merchant any more.
    let mut shop = connect(&app, Auth::Header(&cashier.access_token)).await;
    let removed = app
        .delete(
            &format!("/api/v1/merchants/{}/members/{}", toko.id, cashier.user_id),
            Some(&toko.owner.access_token),
        )
        .await;
    assert!(removed.status < 300, "{:?}", removed.body);
    let (_, closed) = shop.drain(Duration::from_secs(5)).await;
    assert_eq!(closed, Some(4003));
    let mut former = connect(&app, Auth::Header(&cashier.access_token)).await;
    former
        .send(json!({"type": "typing", "conversationId": id}))
        .await;
    assert_eq!(former.next("error").await["code"], "conversation_not_found");
    former.close().await;

    // Notified once per burst, counting from what the recipient was told: a message seen live
    // (not notified) and left unread does not silence the next one after they leave.
    // Closed by the server, a connection leaves once its client answers the close or a second
    // has passed.
    buyer.wait_for_presence(id, false).await;
    let mut owner = Some(connect(&app, Auth::Header(&toko.owner.access_token)).await);
    buyer.wait_for_presence(id, true).await;
    for (n, owner_there) in [(3, true), (4, false), (5, false)] {
        if !owner_there {
            if let Some(connection) = owner.take() {
                connection.close().await;
                buyer.wait_for_presence(id, false).await;
            }
        }
        buyer
            .send(json!({"type": "send", "conversationId": id, "clientId": format!("c-{n}"), "text": format!("question {n}")}))
            .await;
        buyer.next("ack").await;
    }
    let posted = app.list_events("chat.message_posted").await;
    let flags: Vec<(bool, bool)> = posted[posted.len() - 3..]
        .iter()
        .map(|e| {
            (
                e["recipientOnline"].as_bool().unwrap_or_default(),
                e["notify"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        flags,
        vec![(true, false), (false, true), (false, false)],
        "seen live, then the first while away, then not again until read"
    );
    buyer.close().await;
    app.stop().await;
}
