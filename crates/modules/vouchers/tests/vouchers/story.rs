//! The whole voucher story over HTTP: a merchant publishes an offer, an admin approves it, a
//! customer buys two and pays, gifts one, the recipient accepts, the giver's old QR fails, the
//! cashier redeems both, and the payout run pays the merchant face value minus commission.
//! The ledger balances to zero at every step.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use testkit::{eventually, on_both_backends, uuid_of, Backend, TestApp, OUTLET_LOCATION};

on_both_backends!(voucher_story_from_offer_to_payout);

const PRICE: i64 = 2_500;
const COMMISSION: i64 = 250; // the default 10 %

/// Decodes a QR PNG the way a counter's scanner would (an independent decoder).
fn decode_qr_png(png_bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("png header");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).expect("png frame");
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let (w, h) = (info.width as usize, info.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    let (_, content) = grids[0].decode().expect("QR decodes");
    content
}

/// Verifies a voucher token with nothing but the public JWKS, as an offline counter would.
fn verify_with_jwks(token: &str, jwks: &Value) -> Value {
    let kid = jsonwebtoken::decode_header(token)
        .expect("header")
        .kid
        .expect("kid");
    let key = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("the token's kid is in the JWKS");
    let decoding = DecodingKey::from_ec_components(
        key["x"].as_str().expect("x"),
        key["y"].as_str().expect("y"),
    )
    .expect("EC key");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &decoding, &validation)
        .expect("signature verifies with the JWKS")
        .claims
}

async fn voucher_story_from_offer_to_payout(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let kafe = app.merchant("Kafe Sovanna").await;
    let cashier = app.staff(&kafe, "cashier").await;
    let dining = app.category(&admin, "dining", None).await;
    let outlet = app.outlet(&kafe, "Riverside", OUTLET_LOCATION).await;
    let usd = "USD";
    let payable = format!("merchant_payable:{}", kafe.id);

    // The merchant publishes an offer; it stays hidden until the admin approves the product.
    let created = app
        .post(
            "/api/v1/products",
            json!({"merchantId": kafe.id, "name": {"en": "Coffee card $25", "km": "កាតកាហ្វេ"},
                   "categoryId": dining, "type": "VOUCHER",
                   "variants": [{"sku": "KAFE-25", "price": PRICE, "currency": "USD"}]}),
            Some(&kafe.owner.access_token),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let product = uuid_of(&created.body["id"]);
    let variant = uuid_of(&created.body["variants"][0]["id"]);
    // Bad terms are refused field by field, and nothing is created.
    let bad = app
        .post(
            "/api/v1/vouchers",
            json!({"variantId": variant, "kind": "ITEM", "faceValue": 0, "discountBps": 500,
                   "claimable": true, "perCustomerCap": 9, "totalCap": 3}),
            Some(&kafe.owner.access_token),
        )
        .await;
    assert_eq!(bad.status, 422, "{:?}", bad.body);
    let fields: Vec<&str> = bad.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    for field in [
        "faceValue",
        "discountBps",
        "claimable",
        "validUntil",
        "perCustomerCap",
    ] {
        assert!(fields.contains(&field), "{field} missing in {fields:?}");
    }
    let stranger = app.merchant("Other Kafe").await;
    let foreign = app
        .post(
            "/api/v1/vouchers",
            json!({"variantId": variant, "kind": "GIFT_CARD", "faceValue": PRICE, "validDays": 90}),
            Some(&stranger.owner.access_token),
        )
        .await;
    assert_eq!(
        foreign.status, 403,
        "only the product's merchant publishes its offer"
    );
    let offer = app
        .post(
            "/api/v1/vouchers",
            json!({"variantId": variant, "kind": "GIFT_CARD", "faceValue": PRICE, "validDays": 90,
                   "perCustomerCap": 5, "outlets": [outlet],
                   "terms": {"en": "Any drink or pastry", "id": "Minuman atau kue apa saja"}}),
            Some(&kafe.owner.access_token),
        )
        .await;
    assert_eq!(offer.status, 201, "{:?}", offer.body);
    assert_eq!(offer.body["visible"], false);
    let offer_id = uuid_of(&offer.body["id"]);
    assert_eq!(
        app.get(&format!("/api/v1/vouchers/{offer_id}"), None)
            .await
            .status,
        404
    );
    app.activate_product(&kafe, &admin, product).await;
    app.set_stock(&kafe, "KAFE-25", 100).await;
    eventually(Duration::from_secs(10), "offer approved", || async {
        let resp = app.get(&format!("/api/v1/vouchers/{offer_id}"), None).await;
        (resp.status == 200 && resp.body["visible"] == true).then_some(())
    })
    .await;
    let near = app
        .get(
            &format!(
                "/api/v1/vouchers?near={},{}&radiusKm=5&sort=distance",
                OUTLET_LOCATION.0, OUTLET_LOCATION.1
            ),
            None,
        )
        .await;
    assert_eq!(
        near.body["items"][0]["id"],
        offer_id.to_string(),
        "{:?}",
        near.body
    );
    let far = app
        .get("/api/v1/vouchers?near=-6.2,106.8&radiusKm=50", None)
        .await;
    assert_eq!(
        far.body["items"].as_array().map(Vec::len),
        Some(0),
        "Jakarta is not near Phnom Penh"
    );

    // The customer buys two and pays through the simulator.
    let sokha = app.customer("sokha").await;
    let order = app.paid_order(&sokha, variant, 2).await;
    assert_eq!(
        order["status"], "COMPLETED",
        "a voucher-only order completes on payment"
    );
    let wallet = app.wallet_with(&sokha, "ACTIVE", 2).await;
    // Terms can change, but the cap cannot drop below what is issued.
    let capped = app
        .put(
            &format!("/api/v1/vouchers/{offer_id}"),
            json!({"totalCap": 1}),
            Some(&kafe.owner.access_token),
        )
        .await;
    assert_eq!(capped.status, 422, "{:?}", capped.body);
    let edited = app
        .put(
            &format!("/api/v1/vouchers/{offer_id}"),
            json!({"terms": {"en": "Any drink, pastry or sandwich"}}),
            Some(&kafe.owner.access_token),
        )
        .await;
    assert_eq!(edited.status, 200, "{:?}", edited.body);
    assert_eq!(edited.body["terms"]["en"], "Any drink, pastry or sandwich");
    assert_eq!(edited.body["totalCap"], serde_json::Value::Null);
    app.account_reaches(&admin, usd, "gateway_receivable", -2 * PRICE)
        .await;
    assert_eq!(
        app.account_balance(&admin, usd, "customer_clearing").await,
        2 * PRICE
    );
    let (first, second) = (uuid_of(&wallet[0]["id"]), uuid_of(&wallet[1]["id"]));
    // Redelivery of order.paid issues nothing more (one instance per unit).
    assert_eq!(app.list_events("voucher.issued").await.len(), 2);
    // The per-customer cap (5) holds at checkout: 2 held, 4 more refused, nothing reserved.
    let over = app
        .checkout(
            &sokha,
            json!({"lines": [{"variantId": variant, "quantity": 4}]}),
            None,
        )
        .await;
    assert_eq!(
        (over.status, over.code()),
        (409, "voucher_not_purchasable"),
        "{:?}",
        over.body
    );
    assert_eq!(over.body["lines"][0]["reason"], "per_customer_cap_reached");
    assert_eq!(over.body["lines"][0]["remaining"], 3);
    app.stock_reaches(&kafe, "KAFE-25", (98, 0)).await;
    // A voucher product without an offer cannot be bought (nothing could be issued).
    let (bare, bare_variant) = {
        let resp = app
            .post(
                "/api/v1/products",
                json!({"merchantId": kafe.id, "name": {"en": "No terms"}, "categoryId": dining,
                       "type": "VOUCHER", "variants": [{"sku": "KAFE-X", "price": 100, "currency": "USD"}]}),
                Some(&kafe.owner.access_token),
            )
            .await;
        (
            uuid_of(&resp.body["id"]),
            uuid_of(&resp.body["variants"][0]["id"]),
        )
    };
    app.activate_product(&kafe, &admin, bare).await;
    app.set_stock(&kafe, "KAFE-X", 10).await;
    let no_offer = app
        .checkout(
            &sokha,
            json!({"lines": [{"variantId": bare_variant, "quantity": 1}]}),
            None,
        )
        .await;
    assert_eq!(
        no_offer.body["lines"][0]["reason"], "no_offer",
        "{:?}",
        no_offer.body
    );

    // The QR image decodes to a token that verifies with only the JWKS.
    let png = app
        .send(
            app.client
                .get(app.url(&format!("/api/v1/wallet/{first}/qr")))
                .bearer_auth(&sokha.access_token),
        )
        .await;
    assert_eq!(png.status, 200);
    assert_eq!(png.header("content-type"), Some("image/png"));
    let raw = app
        .client
        .get(app.url(&format!("/api/v1/wallet/{first}/qr")))
        .bearer_auth(&sokha.access_token)
        .send()
        .await
        .expect("qr")
        .bytes()
        .await
        .expect("png bytes");
    let scanned = decode_qr_png(&raw);
    let jwks = app.get("/.well-known/jwks.json", None).await.body;
    let claims = verify_with_jwks(&scanned, &jwks);
    assert_eq!(claims["sub"], first.to_string());
    assert_eq!(claims["mer"], kafe.id.to_string());
    assert!(
        claims["step"].is_i64(),
        "on-screen codes carry their time step"
    );
    let svg = app
        .client
        .get(app.url(&format!("/api/v1/wallet/{first}/qr?format=svg")))
        .bearer_auth(&sokha.access_token)
        .send()
        .await
        .expect("svg");
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");

    // Gifting: the old QR stops working at once; the recipient accepts with the emailed token.
    let old_token = app.qr_token(&sokha, first, false).await;
    let gift = app
        .post(
            &format!("/api/v1/wallet/{first}/gift"),
            json!({"email": "dara@example.com", "message": "Happy birthday!"}),
            Some(&sokha.access_token),
        )
        .await;
    assert_eq!(gift.status, 201, "{:?}", gift.body);
    let stale = app
        .redeem(
            &cashier,
            outlet,
            "till-1",
            json!({"token": old_token}),
            None,
        )
        .await;
    assert_eq!(
        (stale.status, stale.code()),
        (409, "token_superseded"),
        "{:?}",
        stale.body
    );
    let gifted = app.list_events("voucher.gifted").await;
    assert!(
        !gifted[0]["token"].as_str().unwrap_or_default().is_empty(),
        "the event carries the token sealed"
    );
    let token = app.unseal(&gifted[0]["token"]);
    let dara = app.customer("dara").await;
    let accepted = app
        .post(
            "/api/v1/wallet/gifts/accept",
            json!({"token": token}),
            Some(&dara.access_token),
        )
        .await;
    assert_eq!(accepted.status, 201, "{:?}", accepted.body);
    assert_eq!(accepted.body["balance"], PRICE);
    let again = app
        .post(
            "/api/v1/wallet/gifts/accept",
            json!({"token": token}),
            Some(&dara.access_token),
        )
        .await;
    assert_eq!((again.status, again.code()), (404, "gift_not_found"));
    let daras = uuid_of(&accepted.body["id"]);
    assert_ne!(
        accepted.body["code"], wallet[0]["code"],
        "the recipient gets a new code"
    );
    let giver_view = app
        .get(
            &format!("/api/v1/wallet/{first}"),
            Some(&sokha.access_token),
        )
        .await;
    assert_eq!(giver_view.body["status"], "TRANSFERRED");
    // Neither can see the other's voucher.
    assert_eq!(
        app.get(
            &format!("/api/v1/wallet/{daras}"),
            Some(&sokha.access_token)
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/wallet/{second}"),
            Some(&dara.access_token)
        )
        .await
        .status,
        404
    );
    app.trial_balance(&admin).await;

    // The cashier redeems both: Sokha's by live QR, Dara's by code and PIN.
    let live = app.qr_token(&sokha, second, false).await;
    let by_qr = app
        .redeem(
            &cashier,
            outlet,
            "till-1",
            json!({"token": live}),
            Some("scan-1"),
        )
        .await;
    assert_eq!(by_qr.status, 201, "{:?}", by_qr.body);
    assert_eq!(by_qr.body["status"], "APPROVED", "{:?}", by_qr.body);
    assert_eq!(by_qr.body["balanceAfter"], 0);
    // The same scan retried answers the same redemption.
    let retried = app
        .redeem(
            &cashier,
            outlet,
            "till-1",
            json!({"token": live}),
            Some("scan-1"),
        )
        .await;
    assert_eq!(retried.body["id"], by_qr.body["id"]);
    assert_eq!(retried.header("idempotent-replayed"), Some("true"));
    let by_code = app
        .redeem(
            &cashier,
            outlet,
            "till-1",
            json!({"code": accepted.body["code"].as_str().map(str::to_lowercase), "pin": accepted.body["pin"]}),
            None,
        )
        .await;
    assert_eq!(by_code.status, 201, "{:?}", by_code.body);
    assert_eq!(by_code.body["status"], "APPROVED", "{:?}", by_code.body);
    let twice = app
        .redeem(&cashier, outlet, "till-1", json!({"token": live}), None)
        .await;
    assert_eq!(
        (twice.status, twice.code()),
        (409, "voucher_not_redeemable")
    );
    app.account_reaches(&admin, usd, &payable, 2 * (PRICE - COMMISSION))
        .await;
    assert_eq!(
        app.account_balance(&admin, usd, "platform_revenue").await,
        2 * COMMISSION
    );
    assert_eq!(
        app.account_balance(&admin, usd, "customer_clearing").await,
        0
    );

    // The merchant's balance and statement (owner and manager only).
    let balance = app
        .get(
            &format!("/api/v1/merchants/{}/balance", kafe.id),
            Some(&kafe.owner.access_token),
        )
        .await;
    assert_eq!(
        balance.body["balances"][0]["available"],
        2 * (PRICE - COMMISSION),
        "{:?}",
        balance.body
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/merchants/{}/balance", kafe.id),
            Some(&cashier.access_token)
        )
        .await
        .status,
        403
    );
    let statement = app
        .get(
            &format!("/api/v1/merchants/{}/statement", kafe.id),
            Some(&kafe.owner.access_token),
        )
        .await;
    let usd_statement = &statement.body["currencies"][0];
    assert_eq!(
        usd_statement["entries"].as_array().map(Vec::len),
        Some(2),
        "{:?}",
        statement.body
    );
    assert_eq!(usd_statement["closingBalance"], 2 * (PRICE - COMMISSION));

    // The payout run pays face value minus commission, once per period, to the bank account
    // on file.
    let account = app
        .put(
            &format!("/api/v1/merchants/{}/bank-account", kafe.id),
            json!({"bankName": "ACLEDA", "accountName": "Kafe Sovanna", "accountNumber": "1234567890"}),
            Some(&kafe.owner.access_token),
        )
        .await;
    assert_eq!(account.status, 200, "{:?}", account.body);
    let run = app
        .post(
            "/api/v1/admin/payouts/run",
            json!({}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(run.status, 201, "{:?}", run.body);
    let payouts = run.body["payouts"].as_array().cloned().unwrap_or_default();
    assert_eq!(payouts.len(), 1, "{:?}", run.body);
    assert_eq!(payouts[0]["amount"], 2 * (PRICE - COMMISSION));
    let again = app
        .post(
            "/api/v1/admin/payouts/run",
            json!({}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!((again.status, again.code()), (409, "payout_run_exists"));
    eventually(Duration::from_secs(15), "payout paid", || async {
        let resp = app
            .get(
                &format!("/api/v1/payouts?merchantId={}", kafe.id),
                Some(&kafe.owner.access_token),
            )
            .await;
        (resp.body["items"][0]["status"] == "PAID").then_some(())
    })
    .await;
    assert_eq!(app.account_balance(&admin, usd, &payable).await, 0);
    assert_eq!(
        app.account_balance(&admin, usd, &format!("payouts_in_transit:{}", kafe.id))
            .await,
        0
    );
    // What is left at the gateway is the platform's commission.
    assert_eq!(
        app.account_balance(&admin, usd, "gateway_receivable").await,
        -2 * COMMISSION
    );
    app.trial_balance(&admin).await;
    app.stop().await;
}
