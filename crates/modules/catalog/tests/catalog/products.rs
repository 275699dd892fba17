//! Products: lifecycle and moderation, bad input, the authorization matrix, suspension.

use std::time::Duration;

use catalog::api::CatalogClient;
use serde_json::{json, Value};
use testkit::{eventually, on_both_backends, Backend, MerchantFixture, Session, TestApp};
use uuid::Uuid;

on_both_backends!(
    taxonomy_is_admin_managed,
    products_move_through_moderation,
    bad_input_changes_nothing,
    staff_act_only_within_their_merchant,
    suspension_hides_the_merchants_listings,
);

async fn taxonomy_is_admin_managed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let customer = app.register("shopper").await;
    let body = json!({"slug": "food", "name": {"en": "Food", "km": "អាហារ", "id": "Makanan"}});
    assert_eq!(
        app.post(
            "/api/v1/categories",
            body.clone(),
            Some(&customer.access_token)
        )
        .await
        .status,
        403
    );
    let food = app
        .post(
            "/api/v1/categories",
            body.clone(),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(food.status, 201, "{:?}", food.body);
    let food = Uuid::parse_str(food.body["id"].as_str().unwrap()).unwrap();
    let coffee = app.category(&admin, "coffee", Some(food)).await;
    let beans = app.category(&admin, "beans", Some(coffee)).await;
    let again = app
        .post("/api/v1/categories", body, Some(&admin.access_token))
        .await;
    assert_eq!((again.status, again.code()), (409, "slug_taken"));
    let orphan = app
        .post(
            "/api/v1/categories",
            json!({"slug": "x", "parentId": Uuid::now_v7(), "name": {"en": "X"}}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(orphan.body["errors"][0]["field"], "parentId");

    let mut parent = beans;
    for level in 3..5 {
        parent = app
            .category(&admin, &format!("level-{level}"), Some(parent))
            .await;
    }
    let too_deep = app
        .post(
            "/api/v1/categories",
            json!({"slug": "level-5", "parentId": parent, "name": {"en": "L5"}}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(too_deep.status, 422);

    let roots = app.get("/api/v1/categories", None).await;
    assert_eq!(roots.body.as_array().unwrap().len(), 1);
    assert_eq!(roots.body[0]["name"]["km"], "អាហារ");
    let children = app
        .get(&format!("/api/v1/categories/{food}/children"), None)
        .await;
    assert_eq!(children.body[0]["slug"], "coffee");
    let detail = app.get(&format!("/api/v1/categories/{beans}"), None).await;
    assert_eq!(detail.body["level"], 2);
    assert_eq!(detail.body["path"], json!([food, coffee, beans]));
    let renamed = app
        .put(
            &format!("/api/v1/categories/{coffee}"),
            json!({"name": {"en": "Coffee & Tea"}}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(renamed.body["name"]["en"], "Coffee & Tea");

    // Moving a subtree rewrites paths and levels below it; a cycle or too deep a tree is refused.
    let drinks = app.category(&admin, "drinks", None).await;
    let moved = app
        .put(
            &format!("/api/v1/categories/{coffee}"),
            json!({"parentId": drinks}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    assert_eq!(moved.body["path"], json!([drinks, coffee]));
    let beans_now = app.get(&format!("/api/v1/categories/{beans}"), None).await;
    assert_eq!(beans_now.body["path"], json!([drinks, coffee, beans]));
    assert_eq!(beans_now.body["level"], 2);
    let cycle = app
        .put(
            &format!("/api/v1/categories/{coffee}"),
            json!({"parentId": beans}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(cycle.body["errors"][0]["field"], "parentId");
    let to_root = app
        .put(
            &format!("/api/v1/categories/{coffee}"),
            json!({"parentId": null}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(
        (
            to_root.body["level"].as_i64(),
            to_root.body["parentId"].is_null()
        ),
        (Some(0), true)
    );
    // coffee's subtree spans 4 levels: under a level-1 category it would reach level 5.
    let juices = app.category(&admin, "juices", Some(drinks)).await;
    let too_deep = app
        .put(
            &format!("/api/v1/categories/{coffee}"),
            json!({"parentId": juices}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(
        too_deep.body["errors"][0]["message"],
        "categories nest at most 5 levels"
    );
    let one_up = app
        .put(
            &format!("/api/v1/categories/{coffee}"),
            json!({"parentId": drinks}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(one_up.status, 200, "a depth of exactly 5 levels fits");

    // Deleting: only leaves without products.
    let in_use = app
        .delete(
            &format!("/api/v1/categories/{coffee}"),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!((in_use.status, in_use.code()), (409, "category_in_use"));
    let shop = app.merchant("Taxonomy Shop").await;
    app.draft_product(&shop, juices, "Juice", "JUICE-1", 200)
        .await;
    let with_product = app
        .delete(
            &format!("/api/v1/categories/{juices}"),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(
        (with_product.status, with_product.code()),
        (409, "category_in_use"),
        "a leaf with a product stays"
    );
    assert_eq!(
        app.delete(
            &format!("/api/v1/categories/{parent}"),
            Some(&customer.access_token)
        )
        .await
        .status,
        403
    );
    assert_eq!(
        app.delete(
            &format!("/api/v1/categories/{parent}"),
            Some(&admin.access_token)
        )
        .await
        .status,
        204
    );
    assert_eq!(
        app.get(&format!("/api/v1/categories/{parent}"), None)
            .await
            .status,
        404
    );

    let brand = app
        .post(
            "/api/v1/brands",
            json!({"slug": "kampot", "name": "Kampot"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(brand.status, 201);
    assert_eq!(
        app.get("/api/v1/brands", None).await.body["items"][0]["slug"],
        "kampot"
    );
    let attribute = app
        .post("/api/v1/attributes", json!({"code": "roast", "name": {"en": "Roast"}, "kind": "SELECT", "options": ["light", "dark"]}), Some(&admin.access_token))
        .await;
    assert_eq!(attribute.status, 201, "{:?}", attribute.body);
    let no_options = app
        .post(
            "/api/v1/attributes",
            json!({"code": "origin", "name": {"en": "Origin"}, "kind": "SELECT"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(no_options.status, 422);
}

fn product_body(merchant: Uuid, category: Uuid) -> Value {
    json!({
        "merchantId": merchant,
        "name": {"en": "Kampot Pepper", "km": "ម្រេចកំពត"},
        "description": {"en": "Black pepper from Kampot"},
        "categoryId": category,
        "type": "PHYSICAL",
        "weightGrams": 100,
        "dimensions": {"lengthMm": 100, "widthMm": 60, "heightMm": 30},
        "attributes": {"organic": true}
    })
}

async fn products_move_through_moderation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let shop = app.merchant("Pepper House").await;
    let owner = Some(shop.owner.access_token.as_str());
    let spices = app.category(&admin, "spices", None).await;

    let created = app
        .post("/api/v1/products", product_body(shop.id, spices), owner)
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["status"], "DRAFT");
    assert!(created.body["slug"]
        .as_str()
        .unwrap()
        .starts_with("kampot-pepper-"));
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/products/{id}");
    let status_path = format!("{path}/status");

    // A draft is the merchant's business only.
    assert_eq!(app.get(&path, None).await.status, 404);
    assert_eq!(app.get(&path, owner).await.status, 200);
    let empty = app
        .patch(&status_path, json!({"status": "PENDING_REVIEW"}), owner)
        .await;
    assert_eq!(empty.status, 422, "no variant yet: {:?}", empty.body);

    let variants = app
        .post(&format!("{path}/variants"), json!([
            {"sku": "PEP-100", "options": {"size": "100g"}, "price": 450, "compareAtPrice": 500, "currency": "USD"},
            {"sku": "PEP-250", "options": {"size": "250g"}, "price": 990, "currency": "USD"}
        ]), owner)
        .await;
    assert_eq!(variants.status, 201, "{:?}", variants.body);
    let submitted = app
        .patch(&status_path, json!({"status": "PENDING_REVIEW"}), owner)
        .await;
    assert_eq!(submitted.body["status"], "PENDING_REVIEW");
    let self_approve = app
        .patch(&status_path, json!({"status": "ACTIVE"}), owner)
        .await;
    assert_eq!(self_approve.status, 403);
    let queue = app
        .get(
            "/api/v1/products?status=PENDING_REVIEW",
            Some(&admin.access_token),
        )
        .await;
    assert!(queue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == id));
    let approved = app
        .patch(
            &status_path,
            json!({"status": "ACTIVE"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(approved.body["status"], "ACTIVE");

    let public = eventually(Duration::from_secs(10), "listed", || async {
        let resp = app.get(&path, None).await;
        (resp.status == 200).then_some(resp)
    })
    .await;
    assert_eq!(
        public.body["price"],
        json!({"currency": "USD", "min": 450, "max": 990})
    );
    assert_eq!(public.body["merchantName"], "Pepper House");
    assert_eq!(public.body["variants"][0]["compareAtPrice"], 500);
    assert_eq!(
        app.get(&format!("{path}/variants"), None)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Price edits by the merchant keep it ACTIVE and are visible at once (cache invalidated).
    let variant_id = public.body["variants"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let repriced = app
        .put(
            &format!("{path}/variants/{variant_id}"),
            json!({"price": 400}),
            owner,
        )
        .await;
    assert_eq!(repriced.status, 200, "{:?}", repriced.body);
    let after = app.get(&path, None).await;
    assert_eq!(after.body["status"], "ACTIVE");
    assert_eq!(after.body["price"]["min"], 400);
    let renamed = app
        .put(&path, json!({"name": {"en": "Kampot Black Pepper"}}), owner)
        .await;
    assert_eq!(renamed.body["status"], "ACTIVE");
    assert_eq!(
        app.get(&path, None).await.body["name"]["en"],
        "Kampot Black Pepper"
    );

    // Moderation takes it down with a reason only the merchant and admins see.
    let no_reason = app
        .patch(
            &status_path,
            json!({"status": "REJECTED"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(no_reason.status, 422);
    let rejected = app
        .patch(
            &status_path,
            json!({"status": "REJECTED", "reason": "Counterfeit brand"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(rejected.body["status"], "REJECTED");
    assert_eq!(app.get(&path, None).await.status, 404);
    assert_eq!(
        app.get(&path, owner).await.body["statusReason"],
        "Counterfeit brand"
    );
    let illegal = app
        .patch(&status_path, json!({"status": "DRAFT"}), owner)
        .await;
    assert_eq!(
        (illegal.status, illegal.code()),
        (409, "invalid_transition")
    );
    assert_eq!(
        illegal.body["allowedNextStates"],
        json!(["PENDING_REVIEW", "ARCHIVED"])
    );

    // Soft delete: gone for everyone, and the SKU is free again.
    assert_eq!(app.delete(&path, owner).await.status, 204);
    assert_eq!(app.get(&path, owner).await.status, 404);
    let (_, _) = app
        .draft_product(&shop, spices, "Pepper again", "PEP-100", 100)
        .await;

    let types: Vec<String> = outbox_types(&app, &id).await;
    for expected in [
        "product.created",
        "product.updated",
        "product.status_changed",
        "product.deleted",
    ] {
        assert!(
            types.iter().any(|t| t == expected),
            "{expected} in {types:?}"
        );
    }

    // Checkout's typed client prices variants from the catalog.
    let client = CatalogClient::new(app.ctx().services.clone(), "orders");
    let (other, other_variant) = app
        .draft_product(&shop, spices, "Sambal", "SMB-1", 300)
        .await;
    app.activate_product(&shop, &admin, other).await;
    let quotes = client
        .variants(vec![other_variant, Uuid::now_v7()])
        .await
        .unwrap();
    assert_eq!(quotes.len(), 1);
    assert_eq!((quotes[0].price, quotes[0].sellable), (300, true));
    assert_eq!(quotes[0].category_path, vec![spices]);
}

async fn outbox_types(app: &TestApp, aggregate: &str) -> Vec<String> {
    platform::on_db!(&app.ctx().db, pool => sqlx::query_scalar(
        "SELECT event_type FROM platform_outbox WHERE aggregate_id = $1 ORDER BY seq"
    ).bind(aggregate).fetch_all(pool).await)
    .unwrap()
}

async fn merchant_products(app: &TestApp, shop: &MerchantFixture) -> Value {
    let resp = app
        .get(
            &format!("/api/v1/products?merchantId={}", shop.id),
            Some(&shop.owner.access_token),
        )
        .await;
    assert_eq!(resp.status, 200);
    resp.body["items"].clone()
}

async fn bad_input_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let shop = app.merchant("Careful Shop").await;
    let other = app.merchant("Other Shop").await;
    let owner = Some(shop.owner.access_token.as_str());
    let category = app.category(&admin, "tools", None).await;

    let cases: Vec<(Value, u16, &str)> = vec![
        (
            {
                let mut b = product_body(shop.id, Uuid::now_v7());
                b["variants"] = json!([]);
                b
            },
            422,
            "categoryId",
        ),
        (
            {
                let mut b = product_body(shop.id, category);
                b["variants"] = json!([{"sku": "A", "price": -1, "currency": "USD"}]);
                b
            },
            422,
            "variants[0].price",
        ),
        (
            {
                let mut b = product_body(shop.id, category);
                b["variants"] = json!([{"sku": "A", "price": 1, "currency": "USD"}, {"sku": "B", "price": 1, "currency": "KHR"}]);
                b
            },
            422,
            "variants[1].currency",
        ),
        (
            {
                let mut b = product_body(shop.id, category);
                b["name"]["en"] = json!("x".repeat(201));
                b
            },
            422,
            "name.en",
        ),
        (
            {
                let mut b = product_body(shop.id, category);
                b["status"] = json!("ACTIVE");
                b
            },
            422,
            "status",
        ),
        (
            {
                let mut b = product_body(shop.id, category);
                b["rating"] = json!(5);
                b
            },
            422,
            "rating",
        ),
        (
            {
                let mut b = product_body(shop.id, category);
                b["type"] = json!("VOUCHER");
                b
            },
            422,
            "weightGrams",
        ),
        (
            {
                let mut b = product_body(shop.id, category);
                b["variants"] = json!([{"sku": "A", "price": 1, "currency": "EUR"}]);
                b
            },
            422,
            "variants[0].currency",
        ),
        (product_body(other.id, category), 403, ""),
    ];
    for (body, status, field) in cases {
        let resp = app.post("/api/v1/products", body, owner).await;
        assert_eq!(resp.status, status, "{field}: {:?}", resp.body);
        if !field.is_empty() {
            assert_eq!(resp.body["errors"][0]["field"], field, "{:?}", resp.body);
        }
    }
    assert_eq!(merchant_products(&app, &shop).await, json!([]));
    assert_eq!(merchant_products(&app, &other).await, json!([]));

    // Edits: a SKU already used by this merchant, an unknown brand, a merchant switch.
    let (id, _) = app
        .draft_product(&shop, category, "Hammer", "HAM-1", 1000)
        .await;
    let before = app.get(&format!("/api/v1/products/{id}"), owner).await.body;
    let dup = app
        .post(
            &format!("/api/v1/products/{id}/variants"),
            json!([{"sku": "HAM-1", "price": 5, "currency": "USD"}]),
            owner,
        )
        .await;
    assert_eq!(dup.status, 422);
    let khr = app
        .post(
            &format!("/api/v1/products/{id}/variants"),
            json!([{"sku": "HAM-2", "price": 5, "currency": "KHR"}]),
            owner,
        )
        .await;
    assert_eq!(khr.body["errors"][0]["field"], "variants[0].currency");
    let brand = app
        .put(
            &format!("/api/v1/products/{id}"),
            json!({"brandId": Uuid::now_v7()}),
            owner,
        )
        .await;
    assert_eq!(brand.body["errors"][0]["field"], "brandId");
    let moved = app
        .put(
            &format!("/api/v1/products/{id}"),
            json!({"merchantId": other.id}),
            owner,
        )
        .await;
    assert_eq!(moved.status, 422);
    let activate = app
        .patch(
            &format!("/api/v1/products/{id}/status"),
            json!({"status": "ACTIVE"}),
            owner,
        )
        .await;
    assert_eq!(activate.status, 403);
    assert_eq!(
        app.get(&format!("/api/v1/products/{id}"), owner).await.body,
        before
    );
    // The same SKU is fine at another merchant.
    app.draft_product(&other, category, "Hammer", "HAM-1", 900)
        .await;
}

/// Who may do what, and that a refused attempt changes nothing.
async fn staff_act_only_within_their_merchant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let shop = app.merchant("Shop A").await;
    let rival = app.merchant("Shop B").await;
    let cashier = app.staff(&shop, "cashier").await;
    let manager = app.staff(&shop, "manager").await;
    let customer = app.register("customer").await;
    let category = app.category(&admin, "home", None).await;
    let (id, variant) = app
        .draft_product(&shop, category, "Lamp", "LAMP-1", 2500)
        .await;
    let path = format!("/api/v1/products/{id}");

    let actors: Vec<(&str, &Session, bool)> = vec![
        ("customer", &customer, false),
        ("cashier", &cashier, false),
        ("rival owner", &rival.owner, false),
        ("admin", &admin, false),
        ("manager", &manager, true),
        ("owner", &shop.owner, true),
    ];
    for (who, session, allowed) in actors {
        let token = Some(session.access_token.as_str());
        let before = app.get(&path, Some(&shop.owner.access_token)).await.body;
        // Reading a draft: the merchant's staff (cashiers included) and admins.
        let read = app.get(&path, token).await.status;
        let may_read = allowed || who == "cashier" || who == "admin";
        assert_eq!(
            read,
            if may_read { 200 } else { 404 },
            "{who} reads the draft"
        );
        let list = app
            .get(&format!("/api/v1/products?merchantId={}", shop.id), token)
            .await;
        let sees_draft = list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == id.to_string());
        assert_eq!(
            sees_draft,
            allowed || who == "cashier",
            "{who} lists drafts"
        );

        let writes = [
            app.post("/api/v1/products", product_body(shop.id, category), token)
                .await
                .status,
            app.put(
                &path,
                json!({"name": {"en": format!("Lamp by {who}")}}),
                token,
            )
            .await
            .status,
            app.post(
                &format!("{path}/variants"),
                json!([{"sku": format!("L-{}", who.len()), "price": 1, "currency": "USD"}]),
                token,
            )
            .await
            .status,
            app.put(
                &format!("{path}/variants/{variant}"),
                json!({"price": 1}),
                token,
            )
            .await
            .status,
            app.patch(
                &format!("{path}/status"),
                json!({"status": "ARCHIVED"}),
                token,
            )
            .await
            .status,
        ];
        if allowed {
            assert!(
                writes.iter().all(|s| (200..300).contains(s)),
                "{who}: {writes:?}"
            );
            // Undo the archive so the next actor starts from a draft.
            let back = app
                .patch(&format!("{path}/status"), json!({"status": "DRAFT"}), token)
                .await;
            assert_eq!(back.status, 200);
        } else {
            assert!(writes.iter().all(|s| *s == 403), "{who}: {writes:?}");
            assert_eq!(
                app.get(&path, Some(&shop.owner.access_token)).await.body,
                before,
                "{who} changed nothing"
            );
            assert_eq!(
                app.delete(&format!("{path}/variants/{variant}"), token)
                    .await
                    .status,
                403
            );
            assert_eq!(app.delete(&path, token).await.status, 403);
        }
    }
    let anonymous = app
        .post("/api/v1/products", product_body(shop.id, category), None)
        .await;
    assert_eq!(anonymous.status, 401);
}

async fn suspension_hides_the_merchants_listings(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let shop = app.merchant("Suspended Shop").await;
    let category = app.category(&admin, "gifts", None).await;
    let (id, _) = app
        .draft_product(&shop, category, "Candle", "CAN-1", 700)
        .await;
    app.activate_product(&shop, &admin, id).await;
    assert!(is_listed(&app, category, id).await);

    let suspend = app
        .post(
            &format!("/api/v1/admin/merchants/{}/suspend", shop.id),
            json!({"reason": "Fraud check"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(suspend.status, 200);
    eventually(Duration::from_secs(10), "hidden", || async {
        (app.get(&format!("/api/v1/products/{id}"), None)
            .await
            .status
            == 404)
            .then_some(())
    })
    .await;
    assert!(!is_listed(&app, category, id).await);
    // The merchant still sees it, ACTIVE but unlisted.
    let own = app
        .get(
            &format!("/api/v1/products/{id}"),
            Some(&shop.owner.access_token),
        )
        .await;
    assert_eq!(own.body["status"], "ACTIVE");

    app.post(
        &format!("/api/v1/admin/merchants/{}/reactivate", shop.id),
        json!({}),
        Some(&admin.access_token),
    )
    .await;
    eventually(Duration::from_secs(10), "listed again", || async {
        (app.get(&format!("/api/v1/products/{id}"), None)
            .await
            .status
            == 200)
            .then_some(())
    })
    .await;
    assert!(is_listed(&app, category, id).await);
}

async fn is_listed(app: &TestApp, category: Uuid, id: Uuid) -> bool {
    let list = app
        .get(&format!("/api/v1/products?categoryId={category}"), None)
        .await;
    list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == id.to_string())
}
