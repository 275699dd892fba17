//! Profile and admin user management.

use serde_json::json;
use testkit::{eventually, on_both_backends, Backend, Probe, ProbeBehaviour, TestApp};

on_both_backends!(
    profile_updates_only_editable_fields,
    admin_lists_filters_and_paginates,
    customers_cannot_administer,
    suspension_cuts_off_login_refresh_and_live_tokens,
    state_changes_emit_events,
);

async fn profile_updates_only_editable_fields(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register("editor").await;
    let token = Some(user.access_token.as_str());
    let updated = app
        .put(
            "/api/v1/users/me",
            json!({"firstName": " Srey ", "phone": "+855 11 222 333"}),
            token,
        )
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(updated.body["firstName"], "Srey");
    assert_eq!(updated.body["lastName"], "Test");
    assert_eq!(updated.body["phone"], "+85511222333");

    for forbidden in [
        json!({"email": "new@example.com"}),
        json!({"roles": ["admin"]}),
        json!({"status": "ACTIVE"}),
        json!({"firstName": "X", "id": "00000000-0000-0000-0000-000000000000"}),
    ] {
        let resp = app.put("/api/v1/users/me", forbidden.clone(), token).await;
        assert_eq!(resp.status, 422, "{forbidden} was not refused");
    }
    let me = app.get("/api/v1/users/me", token).await;
    assert_eq!(me.body["email"], user.email.as_str());
    assert_eq!(me.body["roles"], json!(["customer"]));
    assert_eq!(
        me.body["firstName"], "Srey",
        "refused bodies changed nothing"
    );

    let cleared = app
        .put("/api/v1/users/me", json!({"phone": null}), token)
        .await;
    assert_eq!(cleared.status, 200);
    assert!(cleared.body["phone"].is_null());

    let other = app.register("other").await;
    app.put("/api/v1/users/me", json!({"phone": "+85511222333"}), token)
        .await;
    let taken = app
        .put(
            "/api/v1/users/me",
            json!({"phone": "+85511222333"}),
            Some(&other.access_token),
        )
        .await;
    assert_eq!(taken.status, 409);
    assert_eq!(taken.code(), "phone_taken");
    let invalid = app
        .put("/api/v1/users/me", json!({"lastName": ""}), token)
        .await;
    assert_eq!(invalid.status, 422);
    assert_eq!(invalid.body["errors"][0]["field"], "lastName");
    app.stop().await;
}

async fn admin_lists_filters_and_paginates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    for i in 0..5 {
        app.register(&format!("pager{i}")).await;
    }
    let token = Some(admin.access_token.as_str());
    let first = app
        .get("/api/v1/admin/users?limit=2&email=PAGER", token)
        .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let mut seen: Vec<String> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect();
    let mut cursor = first.body["nextCursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let page = app
            .get(
                &format!("/api/v1/admin/users?limit=2&email=pager&cursor={c}"),
                token,
            )
            .await;
        assert_eq!(page.status, 200);
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["email"].as_str().unwrap().to_owned()),
        );
        cursor = page.body["nextCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len(), 5);
    assert!(seen.iter().all(|e| e.starts_with("pager")));
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 5, "pages overlap");
    // LIKE wildcards in the filter are literal.
    let wildcard = app.get("/api/v1/admin/users?email=%25", token).await;
    assert_eq!(wildcard.body["items"].as_array().unwrap().len(), 0);
    let bad_status = app.get("/api/v1/admin/users?status=GONE", token).await;
    assert_eq!(bad_status.status, 422);
    let bad_cursor = app.get("/api/v1/admin/users?cursor=!!", token).await;
    assert_eq!(bad_cursor.status, 422);
    app.stop().await;
}

async fn customers_cannot_administer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let customer = app.register("plain").await;
    let other = app.register("target").await;
    let token = Some(customer.access_token.as_str());
    let list = app.get("/api/v1/admin/users", token).await;
    assert_eq!(list.status, 403);
    assert_eq!(list.code(), "forbidden");
    let suspend = app
        .post(
            &format!("/api/v1/admin/users/{}/suspend", other.user_id),
            json!({}),
            token,
        )
        .await;
    assert_eq!(suspend.status, 403);
    assert_eq!(
        app.get("/api/v1/users/me", Some(&other.access_token))
            .await
            .status,
        200
    );
    let anonymous = app.get("/api/v1/admin/users", None).await;
    assert_eq!(anonymous.status, 401);
    app.stop().await;
}

async fn suspension_cuts_off_login_refresh_and_live_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = app.register("suspect").await;
    let token = Some(admin.access_token.as_str());
    let suspend_path = format!("/api/v1/admin/users/{}/suspend", user.user_id);
    let resp = app.post(&suspend_path, json!({}), token).await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    assert_eq!(resp.body["status"], "SUSPENDED");
    assert_eq!(
        app.get("/api/v1/users/me", Some(&user.access_token))
            .await
            .status,
        401
    );
    let login = app.login(&user.email, &user.password).await;
    assert_eq!(login.status, 403);
    assert_eq!(login.code(), "account_suspended");
    let refresh = app
        .post(
            "/api/v1/auth/refresh",
            json!({"refreshToken": user.refresh_token}),
            None,
        )
        .await;
    assert_eq!(refresh.status, 401);
    let again = app.post(&suspend_path, json!({}), token).await;
    assert_eq!(again.status, 409);
    let own = app
        .post(
            &format!("/api/v1/admin/users/{}/suspend", admin.user_id),
            json!({}),
            token,
        )
        .await;
    assert_eq!(own.status, 409);
    assert_eq!(own.code(), "cannot_suspend_self");
    let missing = app
        .post(
            &format!("/api/v1/admin/users/{}/suspend", uuid::Uuid::now_v7()),
            json!({}),
            token,
        )
        .await;
    assert_eq!(missing.status, 404);

    let reactivate = app
        .post(
            &format!("/api/v1/admin/users/{}/reactivate", user.user_id),
            json!({}),
            token,
        )
        .await;
    assert_eq!(reactivate.status, 200);
    assert_eq!(reactivate.body["status"], "ACTIVE");
    let login = app.login(&user.email, &user.password).await;
    assert_eq!(login.status, 200);
    let fresh = login.body["accessToken"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/users/me", Some(fresh)).await.status, 200);
    let suspended_only = app.get("/api/v1/admin/users?status=SUSPENDED", token).await;
    assert_eq!(suspended_only.body["items"].as_array().unwrap().len(), 0);
    app.stop().await;
}

async fn state_changes_emit_events(backend: Backend) {
    let probe = Probe::new(
        "probe",
        vec![
            "user.registered",
            "user.suspended",
            "user.reactivated",
            "user.updated",
            "user.logged_in",
            "session.revoked",
        ],
        ProbeBehaviour::Succeed,
    );
    let app = TestApp::spawn_with(backend, |_| {}, vec![probe.module()]).await;
    let admin = app.admin().await;
    let user = app.register("evented").await;
    let token = Some(admin.access_token.as_str());
    app.put(
        "/api/v1/users/me",
        json!({"lastName": "Changed"}),
        Some(&user.access_token),
    )
    .await;
    app.post(
        &format!("/api/v1/admin/users/{}/suspend", user.user_id),
        json!({}),
        token,
    )
    .await;
    app.post(
        &format!("/api/v1/admin/users/{}/reactivate", user.user_id),
        json!({}),
        token,
    )
    .await;
    let wanted = [
        "user.registered",
        "user.logged_in",
        "user.updated",
        "user.suspended",
        "session.revoked",
        "user.reactivated",
    ];
    let events = eventually(
        std::time::Duration::from_secs(10),
        "identity events",
        || {
            let events = probe.applied();
            let for_user: Vec<_> = events
                .into_iter()
                .filter(|e| {
                    e.aggregate_id == user.user_id.to_string()
                        || e.payload["userId"] == user.user_id.to_string()
                })
                .collect();
            let complete = wanted
                .iter()
                .all(|t| for_user.iter().any(|e| e.event_type == *t));
            async move { complete.then_some(for_user) }
        },
    )
    .await;
    let registered = events
        .iter()
        .find(|e| e.event_type == "user.registered")
        .unwrap();
    assert_eq!(registered.source, "identity");
    assert_eq!(registered.payload["email"], user.email.as_str());
    let suspended = events
        .iter()
        .find(|e| e.event_type == "user.suspended")
        .unwrap();
    assert_eq!(suspended.payload["by"], admin.user_id.to_string());
    app.stop().await;
}
