//! Scheduled messages: written by an admin in several languages, sent at their time to the
//! listed users or everyone, each in their language, once; cancelled ones never go out.

use std::time::Duration;

use kernel::Timestamp;
use serde_json::{json, Value};
use testkit::{eventually, on_both_backends, uuid_of, Backend, Session, TestApp};

on_both_backends!(scheduled_messages_go_out_at_their_time_or_not_at_all);

fn at(seconds: i64) -> String {
    Timestamp::now().plus_millis(seconds * 1000).to_rfc3339()
}

async fn titles(app: &TestApp, who: &Session) -> Vec<String> {
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

async fn sent(app: &TestApp, admin: &Session, id: &str) -> Value {
    eventually(
        Duration::from_secs(30),
        "scheduled message sent",
        || async {
            let resp = app
                .get(
                    &format!("/api/v1/admin/notifications/scheduled/{id}"),
                    Some(&admin.access_token),
                )
                .await;
            (resp.body["status"] == "SENT").then_some(resp.body)
        },
    )
    .await
}

async fn scheduled_messages_go_out_at_their_time_or_not_at_all(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let khmer = app.register("kanha").await;
    let english = app.register("emma").await;
    let set = app
        .put(
            "/api/v1/notifications/preferences",
            json!({"locale": "km"}),
            Some(&khmer.access_token),
        )
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    let schedule = |body: Value, token: String| {
        let app = &app;
        async move {
            app.post("/api/v1/admin/notifications/scheduled", body, Some(&token))
                .await
        }
    };
    let token = admin.access_token.clone();

    // Refused, and nothing scheduled: a customer; security news; the past; no recipients.
    let sale = json!({"category": "promotion", "audience": "USERS",
        "userIds": [khmer.user_id, english.user_id, uuid::Uuid::nil()],
        "title": {"en": "Weekend sale", "km": "ការលក់ចុងសប្តាហ៍"},
        "body": {"en": "Half price on coffee cards.", "km": "បញ្ចុះតម្លៃពាក់កណ្តាលលើកាតកាហ្វេ។"},
        "sendAt": at(2)});
    let by_customer = schedule(sale.clone(), khmer.access_token.clone()).await;
    assert_eq!(by_customer.status, 403, "{:?}", by_customer.body);
    for (field, value) in [
        ("category", json!("security")),
        ("sendAt", json!(at(-60))),
        ("userIds", json!([])),
    ] {
        let mut bad = sale.clone();
        bad[field] = value;
        let resp = schedule(bad, token.clone()).await;
        assert_eq!(resp.status, 422, "{field}: {:?}", resp.body);
        assert_eq!(resp.body["errors"][0]["field"], field, "{:?}", resp.body);
    }
    let list = app
        .get("/api/v1/admin/notifications/scheduled", Some(&token))
        .await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(0));

    // One to two users (and an unknown id), one to everyone, one cancelled in time.
    let to_users = schedule(sale, token.clone()).await;
    assert_eq!(to_users.status, 201, "{:?}", to_users.body);
    assert_eq!(to_users.body["status"], "SCHEDULED");
    let to_all = schedule(
        json!({"category": "system", "audience": "EVERYONE",
            "title": {"en": "Maintenance tonight"}, "body": {"en": "Pasar rests from 02:00 to 02:30."},
            "sendAt": at(3)}),
        token.clone(),
    )
    .await;
    assert_eq!(to_all.status, 201, "{:?}", to_all.body);
    let dropped = schedule(
        json!({"category": "promotion", "audience": "EVERYONE",
            "title": {"en": "Never sent"}, "body": {"en": "Cancelled in time."}, "sendAt": at(3)}),
        token.clone(),
    )
    .await;
    let dropped_id = dropped.body["id"].as_str().unwrap().to_owned();
    let cancel = format!("/api/v1/admin/notifications/scheduled/{dropped_id}/cancel");
    let cancelled = app.post(&cancel, json!({}), Some(&token)).await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    assert_eq!(cancelled.body["status"], "CANCELLED");
    let again = app.post(&cancel, json!({}), Some(&token)).await;
    assert_eq!(
        (again.status, again.code()),
        (409, "scheduled_message_closed")
    );
    let unknown = app
        .post(
            &format!(
                "/api/v1/admin/notifications/scheduled/{}/cancel",
                uuid::Uuid::nil()
            ),
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (404, "scheduled_message_not_found")
    );

    // At their time: each reader in their language; the unknown id skipped.
    let users_id = to_users.body["id"].as_str().unwrap().to_owned();
    let done = sent(&app, &admin, &users_id).await;
    assert_eq!(done["recipients"], 2, "{done:?}");
    let all_id = to_all.body["id"].as_str().unwrap().to_owned();
    let everyone = sent(&app, &admin, &all_id).await;
    let late = app
        .post(
            &format!("/api/v1/admin/notifications/scheduled/{users_id}/cancel"),
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(late.status, 409, "a sent message cannot be cancelled");
    let khmer_titles = titles(&app, &khmer).await;
    let english_titles = titles(&app, &english).await;
    assert_eq!(
        khmer_titles.iter().filter(|t| *t == "ការលក់ចុងសប្តាហ៍").count(),
        1
    );
    assert_eq!(
        english_titles
            .iter()
            .filter(|t| *t == "Weekend sale")
            .count(),
        1
    );
    for (who, list) in [("km", &khmer_titles), ("en", &english_titles)] {
        assert_eq!(
            list.iter().filter(|t| *t == "Maintenance tonight").count(),
            1,
            "{who}: English when the reader's language is missing"
        );
    }
    let admin_titles = titles(&app, &admin).await;
    assert!(admin_titles.contains(&"Maintenance tonight".to_owned()));
    let reachable: i64 = platform::on_db!(&app.ctx().db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications_recipients"
    ).fetch_one(pool).await)
    .expect("recipients");
    assert_eq!(everyone["recipients"], reachable);

    // The cancelled one never went out, and the list shows all three.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for who in [&khmer, &english, &admin] {
        assert!(!titles(&app, who).await.contains(&"Never sent".to_owned()));
    }
    let listed = app
        .get(
            "/api/v1/admin/notifications/scheduled?status=CANCELLED",
            Some(&token),
        )
        .await;
    let ids: Vec<_> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| uuid_of(&m["id"]))
        .collect();
    assert_eq!(ids, vec![uuid_of(&json!(dropped_id))]);
    app.stop().await;
}
