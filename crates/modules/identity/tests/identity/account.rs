//! Sessions list/revoke and password change.

use serde_json::json;
use testkit::{on_both_backends, Backend, TestApp, PASSWORD};

on_both_backends!(
    sessions_are_listed_and_revocable_only_by_their_owner,
    change_password_needs_the_current_one_and_signs_out_other_sessions,
    wrong_current_passwords_count_towards_lockout,
);

async fn sessions_are_listed_and_revocable_only_by_their_owner(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register("devices").await;
    let phone = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/login"))
                .header("user-agent", "PasarApp/2.1 (Android 14)")
                .json(&json!({"email": user.email, "password": PASSWORD})),
        )
        .await;
    let phone_access = phone.body["accessToken"].as_str().unwrap().to_owned();
    let phone_refresh = phone.body["refreshToken"].as_str().unwrap().to_owned();
    let list = app
        .get("/api/v1/auth/sessions", Some(&user.access_token))
        .await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    let sessions = list.body.as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(other["userAgent"], "PasarApp/2.1 (Android 14)");
    assert_eq!(other["ip"], "127.0.0.1");
    let other_id = other["id"].as_str().unwrap();

    // Another user cannot see or end it.
    let stranger = app.register("stranger").await;
    let theirs = app
        .get("/api/v1/auth/sessions", Some(&stranger.access_token))
        .await;
    assert_eq!(theirs.body.as_array().unwrap().len(), 1);
    let steal = app
        .send(
            app.client
                .delete(app.url(&format!("/api/v1/auth/sessions/{other_id}")))
                .bearer_auth(&stranger.access_token),
        )
        .await;
    assert_eq!(steal.status, 404);
    assert_eq!(
        app.get("/api/v1/users/me", Some(&phone_access))
            .await
            .status,
        200
    );

    let revoke = app
        .send(
            app.client
                .delete(app.url(&format!("/api/v1/auth/sessions/{other_id}")))
                .bearer_auth(&user.access_token),
        )
        .await;
    assert_eq!(revoke.status, 204);
    assert_eq!(
        app.get("/api/v1/users/me", Some(&phone_access))
            .await
            .status,
        401
    );
    let refresh = app
        .post(
            "/api/v1/auth/refresh",
            json!({"refreshToken": phone_refresh}),
            None,
        )
        .await;
    assert_eq!(refresh.status, 401);
    let again = app
        .send(
            app.client
                .delete(app.url(&format!("/api/v1/auth/sessions/{other_id}")))
                .bearer_auth(&user.access_token),
        )
        .await;
    assert_eq!(again.status, 404);
    let list = app
        .get("/api/v1/auth/sessions", Some(&user.access_token))
        .await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    app.stop().await;
}

async fn change_password_needs_the_current_one_and_signs_out_other_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register("changer").await;
    let other = app.login(&user.email, PASSWORD).await;
    let other_access = other.body["accessToken"].as_str().unwrap().to_owned();
    let token = Some(user.access_token.as_str());
    let new_password = "N3w!Passphrase";

    let wrong = app
        .post(
            "/api/v1/auth/change-password",
            json!({"currentPassword": "Wr0ng!Password", "newPassword": new_password}),
            token,
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert_eq!(wrong.body["errors"][0]["field"], "currentPassword");
    let weak = app
        .post(
            "/api/v1/auth/change-password",
            json!({"currentPassword": PASSWORD, "newPassword": "weak"}),
            token,
        )
        .await;
    assert_eq!(weak.status, 422);
    assert_eq!(weak.body["errors"][0]["field"], "newPassword");
    let same = app
        .post(
            "/api/v1/auth/change-password",
            json!({"currentPassword": PASSWORD, "newPassword": PASSWORD}),
            token,
        )
        .await;
    assert_eq!(same.status, 422);
    // Nothing changed so far.
    assert_eq!(app.login(&user.email, PASSWORD).await.status, 200);

    let changed = app
        .post(
            "/api/v1/auth/change-password",
            json!({"currentPassword": PASSWORD, "newPassword": new_password}),
            token,
        )
        .await;
    assert_eq!(changed.status, 204, "{:?}", changed.body);
    assert_eq!(app.login(&user.email, PASSWORD).await.status, 401);
    assert_eq!(app.login(&user.email, new_password).await.status, 200);
    // This session continues, the others are signed out.
    assert_eq!(app.get("/api/v1/users/me", token).await.status, 200);
    assert_eq!(
        app.get("/api/v1/users/me", Some(&other_access))
            .await
            .status,
        401
    );
    let anonymous = app
        .post(
            "/api/v1/auth/change-password",
            json!({"currentPassword": new_password, "newPassword": "An0ther!Pass"}),
            None,
        )
        .await;
    assert_eq!(anonymous.status, 401);
    app.stop().await;
}

async fn wrong_current_passwords_count_towards_lockout(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register("guesser").await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let resp = app
            .post(
                "/api/v1/auth/change-password",
                json!({"currentPassword": "Wr0ng!Password", "newPassword": "N3w!Passphrase"}),
                Some(&user.access_token),
            )
            .await;
        statuses.push(resp.status);
    }
    assert_eq!(statuses, vec![422, 422, 422, 422, 423]);
    assert_eq!(app.login(&user.email, PASSWORD).await.status, 423);
    app.stop().await;
}
