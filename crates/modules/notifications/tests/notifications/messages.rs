//! Notifications end to end: events in, messages out through real SMTP and HTTP receivers.

use std::time::Duration;

use identity::api::UserRegistered;
use platform::{bus, on_db};
use serde_json::json;
use testkit::{eventually, on_both_backends, Backend, TestApp, PASSWORD};

on_both_backends!(
    in_app_inbox_counts_and_marks_read,
    preferences_filter_channels_and_choose_the_language,
    push_goes_to_registered_devices,
    smtp_down_means_retries_then_a_dead_letter,
    redelivered_events_send_nothing_twice,
);

async fn unread(app: &TestApp, token: &str) -> i64 {
    app.get("/api/v1/notifications/unread-count", Some(token))
        .await
        .body["unread"]
        .as_i64()
        .unwrap()
}

async fn wait_unread(app: &TestApp, token: &str, n: i64) {
    eventually(Duration::from_secs(15), "in-app messages", || async move {
        (unread(app, token).await == n).then_some(())
    })
    .await;
}

async fn in_app_inbox_counts_and_marks_read(backend: Backend) {
    let (app, smtp, _http) = TestApp::spawn_with_messaging(backend, Vec::new()).await;
    let user = app.register("inboxer").await;
    let token = user.access_token.as_str();
    wait_unread(&app, token, 1).await;
    let list = app.get("/api/v1/notifications", Some(token)).await;
    assert_eq!(list.status, 200);
    let welcome = &list.body["items"][0];
    assert_eq!(welcome["category"], "account");
    assert!(welcome["title"]
        .as_str()
        .unwrap()
        .starts_with("Welcome to Pasar, inboxer"));
    assert_eq!(welcome["read"], false);
    let mail = eventually(Duration::from_secs(15), "welcome email", || {
        let mail = smtp.messages_to(&user.email).into_iter().next();
        async move { mail }
    })
    .await;
    assert!(mail.subject.starts_with("Welcome to Pasar"));

    let id = welcome["id"].as_str().unwrap();
    let stranger = app.register("stranger").await;
    let theirs = app
        .put(
            &format!("/api/v1/notifications/{id}/read"),
            json!({}),
            Some(&stranger.access_token),
        )
        .await;
    assert_eq!(theirs.status, 404);
    assert_eq!(unread(&app, token).await, 1);
    let read = app
        .put(
            &format!("/api/v1/notifications/{id}/read"),
            json!({}),
            Some(token),
        )
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["read"], true);
    assert_eq!(unread(&app, token).await, 0);

    // Two more (a password change), then read-all.
    let changed = app
        .post(
            "/api/v1/auth/change-password",
            json!({"currentPassword": PASSWORD, "newPassword": "N3w!Passphrase"}),
            Some(token),
        )
        .await;
    assert_eq!(changed.status, 204);
    wait_unread(&app, token, 1).await;
    let all = app
        .put("/api/v1/notifications/read-all", json!({}), Some(token))
        .await;
    assert_eq!(all.status, 200);
    assert_eq!(unread(&app, token).await, 0);
    let page = app.get("/api/v1/notifications?limit=1", Some(token)).await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 1);
    let next = page.body["nextCursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/api/v1/notifications?limit=1&cursor={next}"),
            Some(token),
        )
        .await;
    assert_eq!(rest.body["items"][0]["category"], "account");
    assert_eq!(app.get("/api/v1/notifications", None).await.status, 401);
    app.stop().await;
}

async fn preferences_filter_channels_and_choose_the_language(backend: Backend) {
    let (app, smtp, _http) = TestApp::spawn_with_messaging(backend, Vec::new()).await;
    let user = app.register("picky").await;
    let token = Some(user.access_token.as_str());
    wait_unread(&app, &user.access_token, 1).await;
    let defaults = app.get("/api/v1/notifications/preferences", token).await;
    assert_eq!(defaults.body["locale"], "en");
    let promo_sms = defaults.body["choices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "promotion" && c["channel"] == "sms")
        .unwrap();
    assert_eq!(promo_sms["enabled"], false);

    let bad_locale = app
        .put(
            "/api/v1/notifications/preferences",
            json!({"locale": "fr"}),
            token,
        )
        .await;
    assert_eq!(bad_locale.status, 422);
    let security = app
        .put(
            "/api/v1/notifications/preferences",
            json!({"choices": [{"category": "security", "channel": "email", "enabled": false}]}),
            token,
        )
        .await;
    assert_eq!(security.status, 422);
    let updated = app
        .put(
            "/api/v1/notifications/preferences",
            json!({"locale": "km", "choices": [{"category": "account", "channel": "email", "enabled": false}]}),
            token,
        )
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(updated.body["locale"], "km");

    // Another account message for this user: in-app (in Khmer) but no email.
    eventually(Duration::from_secs(15), "the first welcome email", || {
        let arrived = smtp.messages_to(&user.email).len() == 1;
        async move { arrived.then_some(()) }
    })
    .await;
    let emails_before = 1;
    let mut tx = app.ctx().db.begin().await.unwrap();
    bus::publish(
        &mut tx,
        "identity",
        &UserRegistered {
            user_id: user.user_id,
            email: user.email.clone(),
            phone: None,
            first_name: "Dara".into(),
            last_name: "Sok".into(),
        },
    )
    .await
    .unwrap();
    app.ctx().commit(tx).await.unwrap();
    wait_unread(&app, &user.access_token, 2).await;
    let list = app.get("/api/v1/notifications", token).await;
    assert!(list.body["items"][0]["title"]
        .as_str()
        .unwrap()
        .starts_with("សូមស្វាគមន៍"));

    // Security messages ignore preferences and come in the chosen language.
    assert_eq!(
        app.post("/api/v1/users/verify-email", json!({}), token)
            .await
            .status,
        202
    );
    let code_mail = eventually(Duration::from_secs(15), "Khmer code email", || {
        let mail = smtp
            .messages_to(&user.email)
            .into_iter()
            .find(|m| m.subject.contains("លេខកូដ"));
        async move { mail }
    })
    .await;
    assert!(code_mail.body.contains("លេខកូដផ្ទៀងផ្ទាត់របស់អ្នកគឺ"));
    assert_eq!(
        smtp.messages_to(&user.email).len(),
        emails_before + 1,
        "no account email was sent"
    );
    app.stop().await;
}

async fn push_goes_to_registered_devices(backend: Backend) {
    let (app, _smtp, http) = TestApp::spawn_with_messaging(backend, Vec::new()).await;
    let user = app.register("pushed").await;
    let token = Some(user.access_token.as_str());
    let bad = app
        .post(
            "/api/v1/notifications/devices",
            json!({"token": "t", "platform": "nokia"}),
            token,
        )
        .await;
    assert_eq!(bad.status, 422);
    let registered = app
        .post(
            "/api/v1/notifications/devices",
            json!({"token": "fcm-token-1", "platform": "android"}),
            token,
        )
        .await;
    assert_eq!(registered.status, 204);
    let changed = app
        .post(
            "/api/v1/auth/change-password",
            json!({"currentPassword": PASSWORD, "newPassword": "N3w!Passphrase"}),
            token,
        )
        .await;
    assert_eq!(changed.status, 204);
    let push = eventually(Duration::from_secs(15), "a push", || {
        let found = http
            .received()
            .into_iter()
            .find(|r| r.body["message"]["token"] == "fcm-token-1");
        async move { found }
    })
    .await;
    assert_eq!(push.headers["authorization"], "Bearer push-key");
    assert_eq!(
        push.body["message"]["notification"]["title"],
        "Your Pasar password was changed"
    );
    assert_eq!(push.body["message"]["data"]["template"], "password_changed");
    let removed = app
        .send(
            app.client
                .delete(app.url("/api/v1/notifications/devices/fcm-token-1"))
                .bearer_auth(&user.access_token),
        )
        .await;
    assert_eq!(removed.status, 204);
    app.stop().await;
}

async fn smtp_down_means_retries_then_a_dead_letter(backend: Backend) {
    let (app, mut smtp, _http) = TestApp::spawn_with_messaging(backend, Vec::new()).await;
    let admin = app.admin().await;
    smtp.stop();
    let user = app.register("unlucky").await;
    let failed = eventually(Duration::from_secs(20), "a failed delivery", || {
        let app = &app;
        let token = admin.access_token.clone();
        let email = user.email.clone();
        async move {
            let resp = app
                .get(
                    "/api/v1/admin/notifications/deliveries?status=FAILED",
                    Some(&token),
                )
                .await;
            resp.body["items"].as_array().and_then(|items| {
                items
                    .iter()
                    .find(|d| d["destination"] == email.as_str())
                    .cloned()
            })
        }
    })
    .await;
    assert_eq!(failed["channel"], "email");
    assert_eq!(failed["destination"], user.email.as_str());
    assert_eq!(failed["attempts"], 3);
    assert!(failed["lastError"].as_str().is_some_and(|e| !e.is_empty()));
    let customer = app
        .get(
            "/api/v1/admin/notifications/deliveries",
            Some(&user.access_token),
        )
        .await;
    assert_eq!(customer.status, 403);

    // Back up: later messages go out.
    smtp.resume();
    assert_eq!(
        app.post(
            "/api/v1/users/verify-email",
            json!({}),
            Some(&user.access_token)
        )
        .await
        .status,
        202
    );
    eventually(Duration::from_secs(15), "code email after recovery", || {
        let found = !smtp.messages_to(&user.email).is_empty();
        async move { found.then_some(()) }
    })
    .await;
    app.stop().await;
}

async fn redelivered_events_send_nothing_twice(backend: Backend) {
    let (app, smtp, _http) = TestApp::spawn_with_messaging(backend, Vec::new()).await;
    let user = app.register("replayed").await;
    wait_unread(&app, &user.access_token, 1).await;
    eventually(Duration::from_secs(15), "welcome email", || {
        let found = smtp.messages_to(&user.email).len() == 1;
        async move { found.then_some(()) }
    })
    .await;
    // Forget that notifications ever saw these events: the whole log is delivered again.
    for sql in [
        "DELETE FROM platform_inbox WHERE consumer = 'notifications'",
        "DELETE FROM platform_consumer_positions WHERE consumer = 'notifications'",
    ] {
        on_db!(&app.ctx().db, pool => sqlx::query(sql).execute(pool).await.map(|_| ())).unwrap();
    }
    let replayed = eventually(Duration::from_secs(15), "the replay", || {
        let db = app.ctx().db.clone();
        async move {
            let n: i64 = on_db!(&db, pool => sqlx::query_scalar(
                "SELECT COUNT(*) FROM platform_inbox WHERE consumer = 'notifications'"
            ).fetch_one(pool).await)
            .unwrap();
            (n > 0).then_some(n)
        }
    })
    .await;
    assert!(replayed >= 1);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(smtp.messages_to(&user.email).len(), 1, "no second email");
    assert_eq!(
        unread(&app, &user.access_token).await,
        1,
        "no second in-app message"
    );
    app.stop().await;
}
