//! Account deletion and data export.

use std::time::Duration;

use platform::on_db;
use serde_json::json;
use testkit::{eventually, on_both_backends, Backend, TestApp, PASSWORD};

on_both_backends!(export_holds_everything_and_deletion_erases_it);

async fn export_holds_everything_and_deletion_erases_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = app.register("leaving").await;
    let token = Some(user.access_token.as_str());
    app.put("/api/v1/users/me", json!({"phone": "+85517000111"}), token)
        .await;
    let address = json!({"recipient": "Leaving Test", "phone": "+85517000111", "street": "St 1",
                         "city": "Phnom Penh", "country": "KH"});
    assert_eq!(
        app.post("/api/v1/users/me/addresses", address, token)
            .await
            .status,
        201
    );

    let export = app.get("/api/v1/users/me/export", token).await;
    assert_eq!(export.status, 200);
    assert!(export
        .header("content-disposition")
        .unwrap()
        .contains("attachment"));
    assert_eq!(export.body["user"]["email"], user.email.as_str());
    assert_eq!(export.body["user"]["phone"], "+85517000111");
    assert_eq!(export.body["addresses"][0]["street"], "St 1");
    assert!(!export.body["sessions"].as_array().unwrap().is_empty());
    assert!(
        export.body.get("passwordHash").is_none()
            && export.body["user"].get("passwordHash").is_none()
    );

    let wrong = app
        .send(
            app.client
                .delete(app.url("/api/v1/users/me"))
                .bearer_auth(&user.access_token)
                .json(&json!({"password": "Wr0ng!Password"})),
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert_eq!(
        app.get("/api/v1/users/me", token).await.status,
        200,
        "nothing happened"
    );

    let deleted = app
        .send(
            app.client
                .delete(app.url("/api/v1/users/me"))
                .bearer_auth(&user.access_token)
                .json(&json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(deleted.status, 204, "{:?}", deleted.body);
    assert_eq!(app.get("/api/v1/users/me", token).await.status, 401);
    assert_eq!(app.login(&user.email, PASSWORD).await.status, 401);
    let refresh = app
        .post(
            "/api/v1/auth/refresh",
            json!({"refreshToken": user.refresh_token}),
            None,
        )
        .await;
    assert_eq!(refresh.status, 401);

    // The row remains, anonymous, for references held elsewhere.
    let listed = app
        .get(
            "/api/v1/admin/users?status=DELETED",
            Some(&admin.access_token),
        )
        .await;
    let row = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == user.user_id.to_string())
        .cloned()
        .expect("deleted user still listed");
    assert!(row["email"].as_str().unwrap().ends_with("@deleted.invalid"));
    assert!(row["phone"].is_null());
    assert_eq!(row["firstName"], "Deleted");
    let db = &app.ctx().db;
    let addresses: i64 = on_db!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM identity_addresses WHERE user_id = $1"
    ).bind(user.user_id).fetch_one(pool).await)
    .unwrap();
    assert_eq!(addresses, 0);
    // Notifications erase their copy on user.deleted.
    eventually(Duration::from_secs(10), "notifications erasure", || {
        let db = db.clone();
        let id = user.user_id;
        async move {
            let left: i64 = on_db!(&db, pool => sqlx::query_scalar(
                "SELECT (SELECT COUNT(*) FROM notifications_recipients WHERE user_id = $1)
                      + (SELECT COUNT(*) FROM notifications_inbox WHERE user_id = $1)"
            ).bind(id).fetch_one(pool).await)
            .unwrap();
            (left == 0).then_some(())
        }
    })
    .await;
    // The email address is free again.
    let again = app
        .post(
            "/api/v1/auth/register",
            json!({"email": user.email, "password": PASSWORD, "firstName": "New", "lastName": "Me"}),
            None,
        )
        .await;
    assert_eq!(again.status, 201);
    app.stop().await;
}
