//! Midtrans and Xendit against a stand-in of their APIs on a local port: hosted-page redirects,
//! webhook signatures (SHA-512 for Midtrans, callback token for Xendit) and refunds.

use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use testkit::{on_both_backends, uuid_of, Backend, TestApp};

on_both_backends!(midtrans_and_xendit_webhooks_are_verified);

const SERVER_KEY: &str = "SB-Mid-server-test-key";
const CALLBACK_TOKEN: &str = "xnd-callback-token";

/// The provider endpoints Pasar calls, answering like the sandboxes do.
async fn fake_gateways() -> String {
    let app = Router::new()
        .route("/snap/v1/transactions", post(|| async {
            Json(json!({"token": "snap-token", "redirect_url": "https://app.sandbox.midtrans.com/snap/v4/redirection/snap-token"}))
        }))
        .route("/v2/{order}/refund", post(|| async { Json(json!({"status_code": "200", "status_message": "Success"})) }))
        .route("/v2/invoices", post(|Json(body): Json<Value>| async move {
            Json(json!({"id": format!("inv-{}", body["external_id"].as_str().unwrap_or_default()),
                "invoice_url": "https://checkout-staging.xendit.co/web/inv"}))
        }))
        .route("/refunds", post(|| async { Json(json!({"status": "SUCCEEDED"})) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn sha512_hex(text: &str) -> String {
    ring::digest::digest(&ring::digest::SHA512, text.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn midtrans_and_xendit_webhooks_are_verified(backend: Backend) {
    let gateways = fake_gateways().await;
    let app = TestApp::spawn_with(
        backend,
        |c| {
            c.edit_section(|p: &mut payments::config::PaymentsConfig| {
                p.midtrans.server_key = Some(SERVER_KEY.into());
                p.midtrans.snap_url = gateways.clone();
                p.midtrans.api_url = gateways.clone();
                p.xendit.secret_key = Some("xnd_development_key".into());
                p.xendit.callback_token = Some(CALLBACK_TOKEN.into());
                p.xendit.api_url = gateways.clone();
            })
            .expect("payments section")
        },
        Vec::new(),
    )
    .await;
    let admin = app.admin().await;
    let warung = app.merchant("Warung").await;
    let food = app.category(&admin, "food", None).await;
    let created = app
        .post(
            "/api/v1/products",
            json!({"merchantId": warung.id, "name": {"en": "Nasi"}, "categoryId": food, "type": "PHYSICAL", "weightGrams": 400,
                "variants": [{"sku": "NASI", "price": 15000, "currency": "IDR"}]}),
            Some(&warung.owner.access_token),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    app.activate_product(&warung, &admin, uuid_of(&created.body["id"]))
        .await;
    app.set_stock(&warung, "NASI", 10).await;
    let variant = uuid_of(&created.body["variants"][0]["id"]);
    let customer = app.customer("budi").await;
    let order_one = |_: ()| {
        app.checkout(
            &customer,
            json!({"lines": [{"variantId": variant, "quantity": 1}]}),
            None,
        )
    };

    // Midtrans: Snap's redirect, then a notification signed with SHA-512.
    let group = order_one(()).await.body;
    let payment = app
        .pay(&customer, uuid_of(&group["id"]), "midtrans", None)
        .await;
    assert_eq!(payment.status, 201, "{:?}", payment.body);
    assert_eq!(payment.body["amount"], 15000);
    let payment_id = payment.body["id"].as_str().unwrap().to_owned();
    let instructions = app
        .get(
            &format!("/api/v1/payments/{payment_id}/instructions"),
            Some(&customer.access_token),
        )
        .await;
    assert!(instructions.body["redirectUrl"]
        .as_str()
        .unwrap()
        .contains("snap-token"));
    let notification = |status: &str, signature: String| {
        json!({"order_id": payment_id, "status_code": "200", "gross_amount": "15000.00", "currency": "IDR",
            "transaction_status": status, "transaction_id": "mt-1", "fraud_status": "accept",
            "signature_key": signature})
    };
    let forged = app
        .post(
            "/api/v1/payments/webhook/midtrans",
            notification("settlement", "0".repeat(128)),
            None,
        )
        .await;
    assert_eq!((forged.status, forged.code()), (401, "invalid_signature"));
    let signature = sha512_hex(&format!("{payment_id}20015000.00{SERVER_KEY}"));
    let settled = app
        .post(
            "/api/v1/payments/webhook/midtrans",
            notification("settlement", signature.clone()),
            None,
        )
        .await;
    assert_eq!(settled.body["outcome"], "applied", "{:?}", settled.body);
    let again = app
        .post(
            "/api/v1/payments/webhook/midtrans",
            notification("settlement", signature),
            None,
        )
        .await;
    assert_eq!(again.body["outcome"], "duplicate");
    app.order_reaches(&customer, uuid_of(&group["orders"][0]["id"]), "PAID")
        .await;
    // A refund goes through Midtrans' refund API.
    let refund = app
        .post(
            &format!("/api/v1/payments/{payment_id}/refund"),
            json!({"amount": 5000, "reason": "partial"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(refund.status, 202, "{:?}", refund.body);
    let partly = app
        .payment_reaches(&customer, payment_id.parse().unwrap(), "PARTIALLY_REFUNDED")
        .await;
    assert_eq!(partly["refunded"], 5000);

    // Xendit: the invoice URL, then callbacks that must carry the callback token.
    let group = order_one(()).await.body;
    let payment = app
        .pay(&customer, uuid_of(&group["id"]), "xendit", None)
        .await;
    assert_eq!(payment.status, 201, "{:?}", payment.body);
    let payment_id = payment.body["id"].as_str().unwrap().to_owned();
    let callback = json!({"id": format!("inv-{payment_id}"), "external_id": payment_id, "status": "PAID",
        "paid_amount": 15000, "currency": "IDR"});
    let no_token = app
        .post("/api/v1/payments/webhook/xendit", callback.clone(), None)
        .await;
    assert_eq!(no_token.status, 401);
    let wrong = app
        .send(
            app.client
                .post(app.url("/api/v1/payments/webhook/xendit"))
                .header("x-callback-token", "nope")
                .json(&callback),
        )
        .await;
    assert_eq!(wrong.status, 401);
    let paid = app
        .send(
            app.client
                .post(app.url("/api/v1/payments/webhook/xendit"))
                .header("x-callback-token", CALLBACK_TOKEN)
                .json(&callback),
        )
        .await;
    assert_eq!(paid.body["outcome"], "applied", "{:?}", paid.body);
    app.order_reaches(&customer, uuid_of(&group["orders"][0]["id"]), "PAID")
        .await;
    app.stop().await;
}
