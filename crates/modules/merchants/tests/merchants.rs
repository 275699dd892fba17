//! Merchant applications, review, staff, outlets, bank account and commission.

use merchants::api::MerchantsClient;
use serde_json::json;
use testkit::{merchant_application, on_both_backends, Backend, TestApp};
use uuid::Uuid;

on_both_backends!(
    application_is_reviewed_and_audited,
    bad_applications_change_nothing,
    staff_join_by_invitation_and_act_by_role,
    bank_account_is_masked_except_for_owners,
    outlets_are_managed_by_staff_and_public_when_active,
    suspension_and_closing_follow_the_status_machine,
    commission_resolves_category_overrides,
    internal_routes_take_only_internal_service_tokens,
);

async fn application_is_reviewed_and_audited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("owner").await;
    let token = Some(owner.access_token.as_str());
    let resp = app
        .post(
            "/api/v1/merchants",
            merchant_application("Kopi Pagi"),
            token,
        )
        .await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    assert_eq!(resp.body["status"], "PENDING_REVIEW");
    assert_eq!(resp.body["myRole"], "owner");
    assert_eq!(resp.body["commissionBps"], 1000);
    let id = resp.body["id"].as_str().unwrap().to_owned();

    // Not public until approved; a second open application is refused.
    assert_eq!(
        app.get(&format!("/api/v1/merchants/{id}"), None)
            .await
            .status,
        404
    );
    let again = app
        .post("/api/v1/merchants", merchant_application("Kopi Dua"), token)
        .await;
    assert_eq!((again.status, again.code()), (409, "application_pending"));
    let mine = app.get("/api/v1/merchants/mine", token).await;
    assert_eq!(mine.body[0]["role"], "owner");
    assert_eq!(mine.body[0]["status"], "PENDING_REVIEW");

    // Only admins review.
    let approve = format!("/api/v1/admin/merchants/{id}/approve");
    assert_eq!(app.post(&approve, json!({}), token).await.status, 403);
    let admin = app.admin().await;
    let admin_token = Some(admin.access_token.as_str());
    let queue = app
        .get("/api/v1/admin/merchants?status=PENDING_REVIEW", admin_token)
        .await;
    assert_eq!(queue.status, 200);
    assert!(queue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == id));
    let approved = app.post(&approve, json!({}), admin_token).await;
    assert_eq!(approved.status, 200, "{:?}", approved.body);
    assert_eq!(approved.body["status"], "ACTIVE");
    let again = app.post(&approve, json!({}), admin_token).await;
    assert_eq!((again.status, again.code()), (409, "invalid_transition"));
    assert_eq!(
        again.body["allowedNextStates"],
        json!(["SUSPENDED", "CLOSED"])
    );

    // Public now, without private fields.
    let public = app.get(&format!("/api/v1/merchants/{id}"), None).await;
    assert_eq!(public.status, 200);
    assert_eq!(public.body["businessName"], "Kopi Pagi");
    assert!(public.body.get("taxId").is_none());
    assert!(public.body.get("bankAccount").is_none());
    let list = app.get("/api/v1/merchants?category=cafe", None).await;
    assert!(list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == id));

    let audit = app
        .get(&format!("/api/v1/admin/merchants/{id}/audit"), admin_token)
        .await;
    let actions: Vec<(&str, &str)> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actorId"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            ("applied", owner.user_id.to_string().as_str()),
            ("approve", admin.user_id.to_string().as_str())
        ]
    );
}

async fn bad_applications_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register("owner").await;
    let token = Some(owner.access_token.as_str());
    let mut body = merchant_application("K");
    body["location"]["latitude"] = json!(123.0);
    body["contactPhone"] = json!("012 345");
    let resp = app.post("/api/v1/merchants", body, token).await;
    assert_eq!((resp.status, resp.code()), (422, "validation_failed"));
    let fields: Vec<&str> = resp.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec!["businessName", "contactPhone", "location.latitude"]
    );

    // Mass assignment: status and commission are not the applicant's to set.
    let mut body = merchant_application("Sneaky");
    body["status"] = json!("ACTIVE");
    let resp = app.post("/api/v1/merchants", body, token).await;
    assert_eq!(resp.status, 422);
    assert_eq!(resp.body["errors"][0]["field"], "status");
    let mut body = merchant_application("Sneaky");
    body["commissionBps"] = json!(0);
    assert_eq!(app.post("/api/v1/merchants", body, token).await.status, 422);

    assert_eq!(
        app.get("/api/v1/merchants/mine", token).await.body,
        json!([])
    );
    let anonymous = app
        .post("/api/v1/merchants", merchant_application("Anon"), None)
        .await;
    assert_eq!(anonymous.status, 401);
}

async fn staff_join_by_invitation_and_act_by_role(backend: Backend) {
    let (app, smtp, _http) = TestApp::spawn_with_messaging(backend, Vec::new()).await;
    let shop = app.merchant("Toko Budi").await;
    let owner = Some(shop.owner.access_token.as_str());
    let members_path = format!("/api/v1/merchants/{}/members", shop.id);

    // The invitation is emailed with a one-time token.
    let invitee = app.register("cashier").await;
    let resp = app
        .post(
            &format!("/api/v1/merchants/{}/invitations", shop.id),
            json!({"email": invitee.email.to_uppercase(), "role": "cashier"}),
            owner,
        )
        .await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    assert!(
        resp.body.get("token").is_none(),
        "the token goes to the invitee only"
    );
    let mail = testkit::eventually(
        std::time::Duration::from_secs(10),
        "invitation email",
        || async {
            smtp.messages_to(&invitee.email)
                .into_iter()
                .find(|m| m.subject.contains("Toko Budi"))
        },
    )
    .await;
    let token = mail.body.lines().last().unwrap().trim().to_owned();
    assert_eq!(token, app.invitation_token(&invitee.email).await);
    // The event log keeps the token sealed only.
    let event = app.list_events("merchant.member_invited").await;
    assert!(!event[0].to_string().contains(&token), "{}", event[0]);

    // A forwarded or leaked link grants nothing to anyone else, verified or not.
    let app_ref = &app;
    let accept_as = |access_token: String| {
        let body = json!({ "token": token });
        async move {
            let app = app_ref;
            app.post(
                "/api/v1/merchants/invitations/accept",
                body,
                Some(&access_token),
            )
            .await
        }
    };
    let stranger = app.customer("forwarded").await;
    let stolen = accept_as(stranger.access_token.clone()).await;
    assert_eq!(
        (stolen.status, stolen.code()),
        (403, "invitation_not_for_you"),
        "{:?}",
        stolen.body
    );
    // The invited address itself must be verified first.
    let unverified = accept_as(invitee.access_token.clone()).await;
    assert_eq!(
        (unverified.status, unverified.code()),
        (403, "verification_required"),
        "{:?}",
        unverified.body
    );
    identity::Identity::new(app.ctx().clone())
        .mark_email_verified(invitee.user_id)
        .await
        .expect("verify email");
    let accept = app
        .post(
            "/api/v1/merchants/invitations/accept",
            json!({ "token": token }),
            Some(&invitee.access_token),
        )
        .await;
    assert_eq!(accept.status, 200, "{:?}", accept.body);
    assert_eq!(accept.body["role"], "cashier");
    let reuse = app
        .post(
            "/api/v1/merchants/invitations/accept",
            json!({ "token": token }),
            Some(&app.register("thief").await.access_token),
        )
        .await;
    assert_eq!((reuse.status, reuse.code()), (410, "invitation_invalid"));

    // The cashier's existing token now carries the membership, with cashier powers only.
    let cashier = Some(invitee.access_token.as_str());
    assert_eq!(app.get(&members_path, cashier).await.status, 200);
    let edit = app
        .put(
            &format!("/api/v1/merchants/{}", shop.id),
            json!({"description": "x"}),
            cashier,
        )
        .await;
    assert_eq!(edit.status, 403);
    let invite = app
        .post(
            &format!("/api/v1/merchants/{}/invitations", shop.id),
            json!({"email": "x@example.com", "role": "manager"}),
            cashier,
        )
        .await;
    assert_eq!(invite.status, 403);

    let manager = app.staff(&shop, "manager").await;
    let edit = app
        .put(
            &format!("/api/v1/merchants/{}", shop.id),
            json!({"description": "Best coffee in town"}),
            Some(&manager.access_token),
        )
        .await;
    assert_eq!(edit.status, 200, "{:?}", edit.body);
    assert_eq!(edit.body["myRole"], "manager");
    let owner_invite = app
        .post(
            &format!("/api/v1/merchants/{}/invitations", shop.id),
            json!({"email": "boss@example.com", "role": "owner"}),
            owner,
        )
        .await;
    assert_eq!(owner_invite.status, 422);

    // Staff of another merchant see nothing private here.
    let other = app.merchant("Other Shop").await;
    let foreign = app
        .get(&members_path, Some(&other.owner.access_token))
        .await;
    assert_eq!(foreign.status, 403);

    // Removal takes effect on the next request; the owner cannot be removed.
    let remove = app
        .delete(&format!("{members_path}/{}", invitee.user_id), owner)
        .await;
    assert_eq!(remove.status, 204);
    assert_eq!(app.get(&members_path, cashier).await.status, 403);
    let remove_owner = app
        .delete(
            &format!("{members_path}/{}", shop.owner.user_id),
            Some(&manager.access_token),
        )
        .await;
    assert_eq!(remove_owner.status, 403);
    let remove_owner = app
        .delete(&format!("{members_path}/{}", shop.owner.user_id), owner)
        .await;
    assert_eq!(
        (remove_owner.status, remove_owner.code()),
        (409, "owner_cannot_be_removed")
    );
    let members = app.get(&members_path, owner).await;
    let roles: Vec<&str> = members
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, vec!["owner", "manager"]);
}

async fn bank_account_is_masked_except_for_owners(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = app.merchant("Bank Shop").await;
    let manager = app.staff(&shop, "manager").await;
    let path = format!("/api/v1/merchants/{}/bank-account", shop.id);
    let account = json!({"bankName": "ABA Bank", "accountName": "Bank Shop", "accountNumber": "000 123 456 789"});
    assert_eq!(
        app.put(&path, account.clone(), Some(&manager.access_token))
            .await
            .status,
        403
    );
    let resp = app
        .put(&path, account, Some(&shop.owner.access_token))
        .await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    assert_eq!(resp.body["accountNumber"], "000123456789");
    let bad = app
        .put(
            &path,
            json!({"bankName": "ABA", "accountName": "X Y", "accountNumber": "12"}),
            Some(&shop.owner.access_token),
        )
        .await;
    assert_eq!(bad.status, 422);

    let merchant_path = format!("/api/v1/merchants/{}", shop.id);
    let as_owner = app
        .get(&merchant_path, Some(&shop.owner.access_token))
        .await;
    assert_eq!(
        as_owner.body["bankAccount"]["accountNumber"],
        "000123456789"
    );
    assert_eq!(as_owner.body["bankAccount"]["masked"], false);
    let as_manager = app.get(&merchant_path, Some(&manager.access_token)).await;
    assert_eq!(as_manager.body["bankAccount"]["accountNumber"], "••••6789");
    let admin = app.admin().await;
    let as_admin = app.get(&merchant_path, Some(&admin.access_token)).await;
    assert_eq!(as_admin.body["bankAccount"]["masked"], true);
    let public = app.get(&merchant_path, None).await;
    assert!(public.body.get("bankAccount").is_none());
}

async fn outlets_are_managed_by_staff_and_public_when_active(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = app.merchant("Outlet Shop").await;
    let cashier = app.staff(&shop, "cashier").await;
    let path = format!("/api/v1/merchants/{}/outlets", shop.id);
    let outlet = json!({
        "name": "Riverside",
        "address": {"line1": "Sisowath Quay 5", "city": "Phnom Penh", "country": "KH"},
        "location": {"latitude": 11.57, "longitude": 104.93},
        "openingHours": [{"day": "mon", "opens": "07:00", "closes": "22:00"},
                         {"day": "sat", "opens": "18:00", "closes": "02:00"}]
    });
    assert_eq!(
        app.post(&path, outlet.clone(), Some(&cashier.access_token))
            .await
            .status,
        403
    );
    let created = app
        .post(&path, outlet.clone(), Some(&shop.owner.access_token))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let outlet_id = created.body["id"].as_str().unwrap().to_owned();
    let mut bad = outlet.clone();
    bad["openingHours"][0]["closes"] = json!("7pm");
    let resp = app.post(&path, bad, Some(&shop.owner.access_token)).await;
    assert_eq!(resp.body["errors"][0]["field"], "openingHours[0].closes");

    let mut renamed = outlet.clone();
    renamed["name"] = json!("Riverside Deluxe");
    let updated = app
        .put(
            &format!("{path}/{outlet_id}"),
            renamed,
            Some(&shop.owner.access_token),
        )
        .await;
    assert_eq!(updated.body["name"], "Riverside Deluxe");
    let public = app.get(&path, None).await;
    assert_eq!(public.status, 200);
    assert_eq!(public.body.as_array().unwrap().len(), 1);
    assert_eq!(public.body[0]["openingHours"][1]["closes"], "02:00");

    let other = app.merchant("Other").await;
    let foreign = app
        .delete(
            &format!("{path}/{outlet_id}"),
            Some(&other.owner.access_token),
        )
        .await;
    assert_eq!(foreign.status, 403);
    let cross = app
        .delete(
            &format!("/api/v1/merchants/{}/outlets/{outlet_id}", other.id),
            Some(&other.owner.access_token),
        )
        .await;
    assert_eq!(
        cross.status, 404,
        "an outlet of another merchant is not found through mine"
    );
    assert_eq!(
        app.delete(
            &format!("{path}/{outlet_id}"),
            Some(&shop.owner.access_token)
        )
        .await
        .status,
        204
    );
    assert_eq!(app.get(&path, None).await.body, json!([]));
}

async fn suspension_and_closing_follow_the_status_machine(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = app.merchant("Status Shop").await;
    let manager = app.staff(&shop, "manager").await;
    let admin = app.admin().await;
    let admin_token = Some(admin.access_token.as_str());
    let base = format!("/api/v1/admin/merchants/{}", shop.id);

    let no_reason = app
        .post(
            &format!("{base}/suspend"),
            json!({"reason": " "}),
            admin_token,
        )
        .await;
    assert_eq!(no_reason.status, 422);
    let suspended = app
        .post(
            &format!("{base}/suspend"),
            json!({"reason": "Unpaid fees"}),
            admin_token,
        )
        .await;
    assert_eq!(suspended.body["status"], "SUSPENDED");
    assert_eq!(suspended.body["statusReason"], "Unpaid fees");
    assert_eq!(
        app.get(&format!("/api/v1/merchants/{}", shop.id), None)
            .await
            .status,
        404
    );
    // Staff still see their merchant while suspended.
    let own = app
        .get(
            &format!("/api/v1/merchants/{}", shop.id),
            Some(&manager.access_token),
        )
        .await;
    assert_eq!(own.body["status"], "SUSPENDED");
    let reject = app
        .post(
            &format!("{base}/reject"),
            json!({"reason": "Too late"}),
            admin_token,
        )
        .await;
    assert_eq!(reject.status, 409);
    assert_eq!(
        reject.body["allowedNextStates"],
        json!(["ACTIVE", "CLOSED"])
    );
    let reactivated = app
        .post(&format!("{base}/reactivate"), json!({}), admin_token)
        .await;
    assert_eq!(reactivated.body["status"], "ACTIVE");

    // Managers cannot close; the owner can, and staff powers end with it.
    let close = format!("/api/v1/merchants/{}/close", shop.id);
    assert_eq!(
        app.post(&close, json!({}), Some(&manager.access_token))
            .await
            .status,
        403
    );
    let closed = app
        .post(&close, json!({}), Some(&shop.owner.access_token))
        .await;
    assert_eq!(closed.body["status"], "CLOSED");
    let edit = app
        .put(
            &format!("/api/v1/merchants/{}", shop.id),
            json!({"description": "x"}),
            Some(&manager.access_token),
        )
        .await;
    assert_eq!(edit.status, 403);
    let mine = app
        .get("/api/v1/merchants/mine", Some(&shop.owner.access_token))
        .await;
    assert_eq!(mine.body, json!([]));
}

async fn commission_resolves_category_overrides(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = app.merchant("Rate Shop").await;
    let manager = app.staff(&shop, "manager").await;
    let admin = app.admin().await;
    let admin_token = Some(admin.access_token.as_str());
    let (leaf, parent) = (Uuid::now_v7(), Uuid::now_v7());

    let base = format!("/api/v1/admin/merchants/{}/commission", shop.id);
    let resp = app.put(&base, json!({"rateBps": 800}), admin_token).await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    assert_eq!(resp.body["effectiveRateBps"], 800);
    assert_eq!(
        app.put(&base, json!({"rateBps": 10001}), admin_token)
            .await
            .status,
        422
    );
    assert_eq!(
        app.put(
            &base,
            json!({"rateBps": 500}),
            Some(&shop.owner.access_token)
        )
        .await
        .status,
        403
    );
    let resp = app
        .put(
            &format!("{base}/categories/{parent}"),
            json!({"rateBps": 500}),
            admin_token,
        )
        .await;
    assert_eq!(resp.body["categoryOverrides"][0]["rateBps"], 500);

    let view = format!("/api/v1/merchants/{}/commission", shop.id);
    assert_eq!(
        app.get(&view, Some(&shop.owner.access_token)).await.body["ownRateBps"],
        800
    );
    assert_eq!(
        app.get(&view, Some(&manager.access_token)).await.status,
        403
    );

    // Checkout's typed client: the override of the nearest category wins.
    let client = MerchantsClient::new(app.ctx().services.clone(), "orders");
    let quote = client
        .commission(shop.id, vec![leaf, parent])
        .await
        .unwrap();
    assert_eq!(quote.rate_bps, 500);
    assert_eq!(
        client
            .commission(shop.id, vec![leaf])
            .await
            .unwrap()
            .rate_bps,
        800
    );
    let missing = client.commission(Uuid::now_v7(), vec![]).await.unwrap_err();
    assert_eq!(
        (missing.status, missing.code.as_str()),
        (404, "merchant_not_found")
    );

    // The internal route is not for end users.
    let direct = app
        .post(
            &format!("/internal/v1/merchants/{}/commission", shop.id),
            json!({"categoryPath": []}),
            admin_token,
        )
        .await;
    assert_eq!(direct.status, 403);
}

/// Internal routes answer processes of this deployment only: a token with the internal
/// audience, signed by the shared keyring. Not a user, not an admin, not an OAuth2 client,
/// even one that somehow holds a scope named `internal`; and admins cannot create such a client.
async fn internal_routes_take_only_internal_service_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let shop = app.merchant("Internal Shop").await;
    let path = format!("/internal/v1/merchants/memberships/{}", shop.owner.user_id);

    let (internal, _) = app.ctx().authenticator.issue_internal("orders").unwrap();
    let resp = app.get(&path, Some(&internal)).await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    assert_eq!(resp.body, json!([{"merchantId": shop.id, "role": "owner"}]));

    let (client_token, _) = app
        .ctx()
        .authenticator
        .issue_service("settlement", "internal orders:read")
        .unwrap();
    for token in [&client_token, &admin.access_token, &shop.owner.access_token] {
        assert_eq!(app.get(&path, Some(token)).await.status, 403);
    }
    assert_eq!(app.get(&path, None).await.status, 401);

    let refused = app
        .post(
            "/api/v1/admin/oauth/clients",
            json!({"name": "Sneaky", "grantTypes": ["client_credentials"], "scopes": ["internal"]}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_eq!(refused.body["errors"][0]["field"], "scopes");
}
