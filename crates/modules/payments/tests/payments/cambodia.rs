//! ABA PayWay, Wing and Pi Pay against a stand-in of their APIs on a local port. The stand-in
//! checks every hash Pasar sends, rebuilt here from the providers' documented constructions,
//! and answers with the documented shapes; the tests sign (or seal) callbacks as each provider
//! does. Per provider: the payment page, a forged callback, a confirmed success, a duplicate, a
//! failure after the success, a refund, a decline, a late success, a timeout; then polling.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aes::Aes256;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use md5::{Digest, Md5};
use ring::{digest, hmac};
use rsa::pkcs8::DecodePrivateKey;
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey};
use serde_json::{json, Map, Value};
use testkit::{on_both_backends, uuid_of, Backend, Resp, Session, TestApp};
use uuid::Uuid;

on_both_backends!(
    aba_payway_counts_pushbacks_that_check_transaction_confirms,
    wing_counts_callbacks_that_its_inquiry_confirms,
    pipay_counts_returns_that_verify_transaction_confirms,
    cambodian_gateways_settle_open_payments_by_polling,
);

const MERCHANT: &str = "ec000002";
const ABA_KEY: &str = "aba-test-api-key";
const WING_USER: &str = "online.pasar";
const WING_KEY: &str = "wing-rest-api-key";
const WING_PASSWORD: &str = "0123456789abcdef0123456789abcdef";
const WING_BILLER: &str = "5140";
const PIPAY_MID: &str = "110247";
const PIPAY_SID: &str = "239635";
const PIPAY_DID: &str = "240593";

/// A 1024-bit test key pair: Pasar encrypts PayWay's `merchant_auth` with the public half, the
/// stand-in decrypts it with the private half.
const RSA_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDZwxGvpGZgm88nFf0JWbbkiD1Z
1VK89regFPgLeilF6a+X1mhzIZ/bjxmLhepsOUrXnZPB+dmq78pVe/t7R3cHNsrR
ClkS+MYs1Jd9Pwj20cMH4hIZB4taYWRphzLTNmintGowuZojvPr9fatbP9G1Cr1M
/4qc1TCB3hIIkPjhQQIDAQAB
-----END PUBLIC KEY-----";
const RSA_PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIICeAIBADANBgkqhkiG9w0BAQEFAASCAmIwggJeAgEAAoGBANnDEa+kZmCbzycV
/QlZtuSIPVnVUrz2t6AU+At6KUXpr5fWaHMhn9uPGYuF6mw5Stedk8H52arvylV7
+3tHdwc2ytEKWRL4xizUl30/CPbRwwfiEhkHi1phZGmHMtM2aKe0ajC5miO8+v19
q1s/0bUKvUz/ipzVMIHeEgiQ+OFBAgMBAAECgYEAoEkMSJua27tz9BIkSXCmxXpe
pjP2Da8QJB2rIk+N9671l66y/SOf1e1z4RX2IijdpO2Q5/OvOzn7VYbH6csFmYa0
vLqBfVAh9Z79cbpzhh90GxQ9WhSw+5Eum/CdpzrqMOHwLPHai3IOgwGxL3LdiRrj
Qk+D49chrwa2+hFTqv0CQQD4zQOq812qShvxUfU3PtMLih8ngoRL3Bid/kPAkW11
jp4K0T9WsXFwJURmLLpdG0xDBYorOZhBnMBdV/6xIBq3AkEA4BAiozEg2mUA4eWS
xay/PYaVYGj8yRWOivLP1alqwpGkV6BpDTynz3xi29VWWYuAyqqhdfFRBbs3myJF
0dPLxwJBAOkYak9HIoHgXL2CY5MWsPMmvHlvtjK8SfP7u842ca6ppzfLQuQd6oF+
6M4xKYkBgjlof0Jv+029ZhwNzPh1c5ECQDhd9sjFKDWo6TLrFSRjk+y/eb66SrWv
lZ+A/CYNK81s5EIjGap50uGQsjIJlmKKhMj3ag0Iu1BMy+1cDuJ9fKsCQQC+7V4t
X91T4JsEXKgTmqRN89PyjuE8x2ntB0RsQvbm9pMofvBnGzOJJcOgcfNvZeEoJ+OZ
+noWy+Et8D5wFv0V
-----END PRIVATE KEY-----";

// ---- the providers' constructions, written from their documentation ----

fn hmac_b64(key: &str, text: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA512, key.as_bytes());
    STANDARD.encode(hmac::sign(&key, text.as_bytes()).as_ref())
}

/// A flat pushback's signed text: its values sorted by key, concatenated.
fn pushback_text(body: &Value) -> String {
    let fields = body.as_object().expect("an object");
    let mut keys: Vec<&String> = fields.keys().collect();
    keys.sort();
    keys.into_iter()
        .map(|key| fields[key.as_str()].as_str().expect("text values"))
        .collect()
}

fn padded<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let n = bytes.len().min(N);
    out[..n].copy_from_slice(&bytes[..n]);
    out
}

fn aes_seal(key: &[u8], iv: &[u8], plain: &[u8]) -> Vec<u8> {
    cbc::Encryptor::<Aes256>::new_from_slices(&padded::<32>(key), &padded::<16>(iv))
        .expect("lengths")
        .encrypt_padded_vec_mut::<Pkcs7>(plain)
}

fn aes_open(key: &[u8], iv: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    cbc::Decryptor::<Aes256>::new_from_slices(&padded::<32>(key), &padded::<16>(iv))
        .ok()?
        .decrypt_padded_vec_mut::<Pkcs7>(sealed)
        .ok()
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, bytes).as_ref().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A Wing callback's `contents`: sealed with SHA-256 of the REST API key, zero IV.
fn wing_contents(rest_api_key: &str, callback: &Value) -> String {
    let key = sha256(rest_api_key.as_bytes());
    STANDARD.encode(aes_seal(&key, &[0; 16], callback.to_string().as_bytes()))
}

fn md5_hex(text: &str) -> String {
    hex(&Md5::digest(text.as_bytes()))
}

fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).expect("pem")
}

/// `application/x-www-form-urlencoded` escaping of base64 text.
fn form_escape(text: &str) -> String {
    text.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

fn usd(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

// ---- the stand-in ----

#[derive(Clone, Debug)]
struct Txn {
    status: String,
    amount: String,
    currency: String,
}

#[derive(Default)]
struct Stand {
    /// By provider reference (tran_id, order_reference_no, orderID).
    txns: Mutex<HashMap<String, Txn>>,
    /// Every call sleeps past Pasar's timeout while set.
    slow: AtomicBool,
    purchases: Mutex<Vec<HashMap<String, String>>>,
    refunds: Mutex<Vec<Value>>,
}

impl Stand {
    async fn pause_if_slow(&self) {
        if self.slow.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
    }

    fn txn(&self, reference: &str) -> Option<Txn> {
        self.txns.lock().unwrap().get(reference).cloned()
    }

    fn record(&self, reference: &str, amount: &str, currency: &str) {
        self.txns.lock().unwrap().insert(
            reference.to_owned(),
            Txn {
                status: "PENDING".into(),
                amount: amount.into(),
                currency: currency.into(),
            },
        );
    }

    fn set(&self, reference: &str, status: &str) {
        let mut txns = self.txns.lock().unwrap();
        let txn = txns
            .get_mut(reference)
            .expect("a transaction the stand-in knows");
        txn.status = status.into();
    }
}

type Shared = State<Arc<Stand>>;

fn number(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_default()
}

/// PayWay's Purchase: checks `hash` over the documented field order.
async fn aba_purchase(State(stand): Shared, mut form: Multipart) -> (StatusCode, Json<Value>) {
    stand.pause_if_slow().await;
    let mut fields = HashMap::new();
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        fields.insert(name, field.text().await.unwrap_or_default());
    }
    const ORDER: [&str; 24] = [
        "req_time",
        "merchant_id",
        "tran_id",
        "amount",
        "items",
        "shipping",
        "firstname",
        "lastname",
        "email",
        "phone",
        "type",
        "payment_option",
        "return_url",
        "cancel_url",
        "continue_success_url",
        "return_deeplink",
        "currency",
        "custom_fields",
        "return_params",
        "payout",
        "lifetime",
        "additional_params",
        "google_pay_token",
        "skip_success_page",
    ];
    let text: String = ORDER
        .iter()
        .map(|name| fields.get(*name).map(String::as_str).unwrap_or_default())
        .collect();
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    if field("hash") != hmac_b64(ABA_KEY, &text) || field("merchant_id") != MERCHANT {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"status": {"code": "1", "message": "Wrong Hash."}})),
        );
    }
    let tran = field("tran_id");
    stand.record(&tran, &field("amount"), &field("currency"));
    stand.purchases.lock().unwrap().push(fields);
    (
        StatusCode::OK,
        Json(json!({
            "status": {"code": "00", "message": "Success!", "tran_id": tran},
            "qr_string": format!("00020101021230510016abaakhppxxx@abaa0115{tran}6304ABCD"),
            "abapay_deeplink": format!("abamobilebank://ababank.com?type=payway&qrcode={tran}"),
            "checkout_qr_url": format!("https://checkout-sandbox.payway.com.kh/{tran}"),
        })),
    )
}

/// PayWay's Check Transaction: `hash` over `req_time merchant_id tran_id`.
async fn aba_check(State(stand): Shared, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    stand.pause_if_slow().await;
    let text = |name: &str| body[name].as_str().unwrap_or_default().to_owned();
    let signed = format!(
        "{}{}{}",
        text("req_time"),
        text("merchant_id"),
        text("tran_id")
    );
    if text("hash") != hmac_b64(ABA_KEY, &signed) {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"status": {"code": "1", "message": "Wrong Hash."}})),
        );
    }
    let tran = text("tran_id");
    let Some(txn) = stand.txn(&tran) else {
        return (
            StatusCode::OK,
            Json(json!({"status": {"code": "6", "message": "tran_id not found", "tran_id": tran}})),
        );
    };
    (
        StatusCode::OK,
        Json(json!({
            "data": {
                "payment_status": txn.status,
                "total_amount": number(&txn.amount),
                "original_amount": number(&txn.amount),
                "payment_amount": number(&txn.amount),
                "refund_amount": 0,
                "payment_currency": txn.currency,
                "apv": "123456",
                "transaction_date": "2026-01-02 03:04:05",
            },
            "status": {"code": "00", "message": "Success!", "tran_id": tran},
        })),
    )
}

/// PayWay's refund: `hash` over `request_time merchant_id merchant_auth`, and `merchant_auth`
/// opened with the private key, block by block.
async fn aba_refund(State(stand): Shared, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    stand.pause_if_slow().await;
    let text = |name: &str| body[name].as_str().unwrap_or_default().to_owned();
    let auth = text("merchant_auth");
    let signed = format!("{}{}{auth}", text("request_time"), text("merchant_id"));
    if text("hash") != hmac_b64(ABA_KEY, &signed) {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"status": {"code": "PTL02", "message": "Wrong hash"}})),
        );
    }
    let key = RsaPrivateKey::from_pkcs8_der(&pem_der(RSA_PRIVATE_PEM)).expect("test key");
    let sealed = STANDARD.decode(auth).expect("base64 merchant_auth");
    let mut plain = Vec::new();
    for block in sealed.chunks(128) {
        plain.extend(key.decrypt(Pkcs1v15Encrypt, block).expect("an RSA block"));
    }
    let auth: Value = serde_json::from_slice(&plain).expect("JSON merchant_auth");
    stand.refunds.lock().unwrap().push(auth.clone());
    (
        StatusCode::OK,
        Json(json!({
            "grand_total": 1.5,
            "total_refunded": number(auth["refund_amount"].as_str().unwrap_or_default()),
            "currency": "USD",
            "transaction_status": "REFUNDED",
            "status": {"code": "00", "message": "Success!"},
        })),
    )
}

/// Wing's authorization: the payload opened with the password, the hash rebuilt from it.
async fn wing_authorize(
    State(stand): Shared,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Json<Value> {
    stand.pause_if_slow().await;
    let refuse = |code: &str, text: &str| Json(json!({"errorCode": code, "errorText": text}));
    if body["username"] != WING_USER || body["rest_api_key"] != WING_KEY {
        return refuse("00066", "User not found.");
    }
    let referer = headers
        .get("referer")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| STANDARD.decode(v).ok());
    if referer.is_none() {
        return refuse("000030", "General Fail Exception.");
    }
    let sealed = STANDARD
        .decode(body["payload"].as_str().unwrap_or_default())
        .unwrap_or_default();
    let Some(payload) = aes_open(WING_PASSWORD.as_bytes(), WING_PASSWORD.as_bytes(), &sealed)
        .and_then(|plain| serde_json::from_slice::<Value>(&plain).ok())
    else {
        return refuse("000030", "Cannot decrypt the payload.");
    };
    let text = |name: &str| payload[name].as_str().unwrap_or_default().to_owned();
    let joined = [
        WING_USER.to_owned(),
        WING_KEY.to_owned(),
        text("bill_till_number"),
        text("amount"),
        text("order_reference_no"),
        text("rand_str"),
        text("timestamp"),
    ]
    .join("#");
    let inner = STANDARD.encode(joined);
    let outer = aes_seal(
        WING_PASSWORD.as_bytes(),
        text("rand_str").as_bytes(),
        inner.as_bytes(),
    );
    let expected = hex(&sha256(STANDARD.encode(outer).as_bytes())).to_uppercase();
    if body["hash"] != expected.as_str() || text("bill_till_number") != WING_BILLER {
        return refuse("000030", "Invalid hash.");
    }
    let order = text("order_reference_no");
    stand.record(&order, &text("amount"), "USD");
    Json(json!({"errorCode": "200", "errorText": "Success", "token": format!("tok-{order}")}))
}

/// Wing's inquiry: paid, declined (E0204) or not found (006035).
async fn wing_inquiry(State(stand): Shared, Json(body): Json<Value>) -> Json<Value> {
    stand.pause_if_slow().await;
    if body["username"] != WING_USER || body["rest_api_key"] != WING_KEY {
        return Json(json!({"errorCode": "00066", "errorText": "User not found."}));
    }
    let order = body["order_reference_no"].as_str().unwrap_or_default();
    match stand.txn(order) {
        Some(txn) if txn.status == "PAID" => Json(json!({
            "errorCode": "200",
            "errorText": "Success",
            "transaction_id": format!("ONL{}", &order[..6]),
            "amount": txn.amount,
            "currency": txn.currency,
        })),
        Some(txn) if txn.status == "DECLINED" => Json(json!({
            "errorCode": "E0204",
            "errorText": "ERROR: Not enough wallet balance to do transactions.",
        })),
        _ => Json(json!({"errorCode": "006035", "errorText": "Transaction not found"})),
    }
}

/// Pi Pay's verifyTransaction by order.
async fn pipay_verify(State(stand): Shared, Json(body): Json<Value>) -> Json<Value> {
    stand.pause_if_slow().await;
    let data = &body["data"];
    if data["mid"] != PIPAY_MID || data["sid"] != PIPAY_SID {
        return Json(json!({"resultCode": "0007"}));
    }
    let order = data["orderID"].as_str().unwrap_or_default();
    match stand.txn(order) {
        Some(txn) if txn.status == "PAID" => Json(json!({
            "resultCode": "0000",
            "data": {
                "processorResponseCode": "OK",
                "amount": number(&txn.amount),
                "currency": txn.currency,
                "processorID": format!("P{}", &order[..6]),
            },
        })),
        _ => Json(json!({"resultCode": "0004", "data": {}})),
    }
}

struct Gateways {
    url: String,
    stand: Arc<Stand>,
}

async fn gateways() -> Gateways {
    let stand = Arc::new(Stand::default());
    let app = Router::new()
        .route(
            "/api/payment-gateway/v1/payments/purchase",
            post(aba_purchase),
        )
        .route(
            "/api/payment-gateway/v1/payments/check-transaction-2",
            post(aba_check),
        )
        .route(
            "/api/merchant-portal/merchant-access/online-transaction/refund",
            post(aba_refund),
        )
        .route(
            "/wing/v1/online/payment/authorization",
            post(wing_authorize),
        )
        .route("/wing/v1/online/payment/inquiry", post(wing_inquiry))
        .route("/pipay/rest-api/verifyTransaction", post(pipay_verify))
        .with_state(stand.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Gateways { url, stand }
}

/// An app whose three Cambodian gateways are the stand-in, with a 1 s timeout.
async fn app_with(backend: Backend, gateways: &Gateways, poll: bool) -> TestApp {
    let url = gateways.url.clone();
    TestApp::spawn_with(
        backend,
        move |c| {
            c.edit_section(|p: &mut payments::config::PaymentsConfig| {
                p.aba_payway.merchant_id = Some(MERCHANT.into());
                p.aba_payway.api_key = Some(ABA_KEY.into());
                p.aba_payway.rsa_public_key = Some(RSA_PUBLIC_PEM.into());
                p.aba_payway.api_url = url.clone();
                p.aba_payway.poll = poll;
                p.aba_payway.timeout_secs = 1;
                p.wing.username = Some(WING_USER.into());
                p.wing.rest_api_key = Some(WING_KEY.into());
                p.wing.password = Some(WING_PASSWORD.into());
                p.wing.bill_till_number = Some(WING_BILLER.into());
                p.wing.api_url = format!("{url}/wing");
                p.wing.poll = poll;
                p.wing.timeout_secs = 1;
                p.pipay.mid = Some(PIPAY_MID.into());
                p.pipay.sid = Some(PIPAY_SID.into());
                p.pipay.did = Some(PIPAY_DID.into());
                p.pipay.api_url = format!("{url}/pipay");
                p.pipay.poll = poll;
                p.pipay.timeout_secs = 1;
            })
            .expect("payments section")
        },
        Vec::new(),
    )
    .await
}

// ---- the shop ----

struct Shop {
    admin: Session,
    teh: Uuid,
}

async fn shop(app: &TestApp) -> Shop {
    let admin = app.admin().await;
    let kedai = app.merchant("Kedai").await;
    let drinks = app.category(&admin, "drinks", None).await;
    let (_, teh) = app
        .listed_product(&kedai, &admin, drinks, "Teh", "TEH", 1_250, 50)
        .await;
    Shop { admin, teh }
}

/// A group of one order; returns (group, order, total in cents).
async fn ordered(app: &TestApp, shop: &Shop, customer: &Session) -> (Uuid, Uuid, i64) {
    let resp = app
        .checkout(
            customer,
            json!({"lines": [{"variantId": shop.teh, "quantity": 1}]}),
            None,
        )
        .await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    (
        uuid_of(&resp.body["id"]),
        uuid_of(&resp.body["orders"][0]["id"]),
        resp.body["total"].as_i64().unwrap(),
    )
}

/// Pays a group through `method`; returns (payment id, provider reference).
async fn pay(app: &TestApp, customer: &Session, group: Uuid, method: &str) -> (Uuid, String) {
    let paid = app.pay(customer, group, method, None).await;
    assert_eq!(paid.status, 201, "{:?}", paid.body);
    let reference = paid.body["providerReference"].as_str().unwrap().to_owned();
    (uuid_of(&paid.body["id"]), reference)
}

async fn status_of(app: &TestApp, customer: &Session, path: String) -> Value {
    app.get(&path, Some(&customer.access_token)).await.body["status"].clone()
}

/// An admin refund of `amount`: 202, and its id.
async fn refund(app: &TestApp, shop: &Shop, payment: Uuid, amount: i64) -> String {
    let refund = app
        .post(
            &format!("/api/v1/payments/{payment}/refund"),
            json!({"amount": amount, "reason": "one cup spilled"}),
            Some(&shop.admin.access_token),
        )
        .await;
    assert_eq!(refund.status, 202, "{:?}", refund.body);
    refund.body["refundId"].as_str().unwrap().to_owned()
}

/// A refund an operator made by hand, recorded.
async fn settle(app: &TestApp, shop: &Shop, payment: Uuid, refund_id: &str) {
    let settled = app
        .post(
            &format!("/api/v1/payments/{payment}/refunds/{refund_id}/settle"),
            json!({"reference": "TRF-0001"}),
            Some(&shop.admin.access_token),
        )
        .await;
    assert_eq!(settled.status, 200, "{:?}", settled.body);
}

async fn pushback(app: &TestApp, body: &Value, signature: &str) -> Resp {
    app.send(
        app.client
            .post(app.url("/api/v1/payments/webhook/aba_payway"))
            .header("x-payway-hmac-sha512", signature)
            .json(body),
    )
    .await
}

fn aba_body(tran: &str, status: &str, apv: &str) -> Value {
    json!({"tran_id": tran, "apv": apv, "status": status, "return_params": ""})
}

async fn aba_payway_counts_pushbacks_that_check_transaction_confirms(backend: Backend) {
    let gateways = gateways().await;
    let app = app_with(backend, &gateways, false).await;
    let shop = shop(&app).await;
    let customer = app.customer("sokha").await;
    let token = customer.access_token.clone();

    // The purchase: the stand-in accepted Pasar's hash, rebuilt from the documented order.
    let (group, order, total) = ordered(&app, &shop, &customer).await;
    let (payment, tran) = pay(&app, &customer, group, "aba_payway").await;
    assert_eq!(tran.len(), 20);
    let sent = gateways
        .stand
        .purchases
        .lock()
        .unwrap()
        .last()
        .cloned()
        .unwrap();
    assert_eq!(sent["amount"], usd(total));
    assert_eq!(sent["currency"], "USD");
    assert_eq!(sent["payment_option"], "abapay_khqr_deeplink");
    assert_eq!(sent["req_time"].len(), 14);
    let return_url = String::from_utf8(STANDARD.decode(&sent["return_url"]).unwrap()).unwrap();
    assert!(return_url.ends_with("/api/v1/payments/webhook/aba_payway"));
    let instructions = app
        .get(
            &format!("/api/v1/payments/{payment}/instructions"),
            Some(&token),
        )
        .await;
    assert_eq!(
        instructions.body["redirectUrl"],
        format!("https://checkout-sandbox.payway.com.kh/{tran}")
    );
    assert!(instructions.body["qrPayload"]
        .as_str()
        .unwrap()
        .contains(&tran));
    assert!(instructions.body["qrSvg"]
        .as_str()
        .unwrap()
        .contains("<svg"));

    // Pushbacks not signed with the API key are refused.
    let paid = aba_body(&tran, "0", "123456");
    assert_eq!(pushback_text(&paid), format!("1234560{tran}"));
    let forged = pushback(&app, &paid, &hmac_b64("not-the-key", &pushback_text(&paid))).await;
    assert_eq!((forged.status, forged.code()), (401, "invalid_signature"));
    let unsigned = app
        .post("/api/v1/payments/webhook/aba_payway", paid.clone(), None)
        .await;
    assert_eq!(unsigned.status, 401);

    // A signed pushback counts once Check Transaction says APPROVED, and only once.
    gateways.stand.set(&tran, "APPROVED");
    let signature = hmac_b64(ABA_KEY, &pushback_text(&paid));
    let applied = pushback(&app, &paid, &signature).await;
    assert_eq!(applied.body["outcome"], "applied", "{:?}", applied.body);
    app.order_reaches(&customer, order, "PAID").await;
    let settled = app.payment_reaches(&customer, payment, "SUCCEEDED").await;
    assert_eq!(settled["captured"], total);
    // The same pushback again: the payment is settled, so PayWay is not asked again.
    let again = pushback(&app, &paid, &signature).await;
    assert_eq!(again.body["outcome"], "ignored");

    // A failure reported after the success changes nothing.
    gateways.stand.set(&tran, "DECLINED");
    let failed = aba_body(&tran, "3", "");
    let late = pushback(&app, &failed, &hmac_b64(ABA_KEY, &pushback_text(&failed))).await;
    assert_eq!(late.body["outcome"], "ignored", "{:?}", late.body);
    let path = format!("/api/v1/payments/{payment}");
    assert_eq!(status_of(&app, &customer, path).await, "SUCCEEDED");
    gateways.stand.set(&tran, "APPROVED");

    // A partial refund through PayWay's refund API; merchant_auth opens with the private key.
    refund(&app, &shop, payment, 500).await;
    let partly = app
        .payment_reaches(&customer, payment, "PARTIALLY_REFUNDED")
        .await;
    assert_eq!(partly["refunded"], 500);
    let auth = gateways
        .stand
        .refunds
        .lock()
        .unwrap()
        .last()
        .cloned()
        .unwrap();
    assert_eq!(
        auth,
        json!({"mc_id": MERCHANT, "tran_id": tran, "refund_amount": "5.00"})
    );

    // A decline: the payment fails and the order still waits; then the money comes after all.
    let (group, order, _) = ordered(&app, &shop, &customer).await;
    let (payment, tran) = pay(&app, &customer, group, "aba_payway").await;
    gateways.stand.set(&tran, "DECLINED");
    let declined = aba_body(&tran, "3", "");
    let applied = pushback(
        &app,
        &declined,
        &hmac_b64(ABA_KEY, &pushback_text(&declined)),
    )
    .await;
    assert_eq!(applied.body["outcome"], "applied", "{:?}", applied.body);
    app.payment_reaches(&customer, payment, "FAILED").await;
    let path = format!("/api/v1/orders/{order}");
    assert_eq!(status_of(&app, &customer, path).await, "PENDING_PAYMENT");
    gateways.stand.set(&tran, "APPROVED");
    let paid = aba_body(&tran, "0", "654321");
    let late = pushback(&app, &paid, &hmac_b64(ABA_KEY, &pushback_text(&paid))).await;
    assert_eq!(late.body["outcome"], "applied", "{:?}", late.body);
    app.order_reaches(&customer, order, "PAID").await;

    // PayWay slower than the timeout: a clear 502, no payment, the order still waits.
    let (group, order, _) = ordered(&app, &shop, &customer).await;
    gateways.stand.slow.store(true, Ordering::SeqCst);
    let slow = app.pay(&customer, group, "aba_payway", None).await;
    gateways.stand.slow.store(false, Ordering::SeqCst);
    assert_eq!(
        (slow.status, slow.code()),
        (502, "provider_failed"),
        "{:?}",
        slow.body
    );
    let listed = app
        .get(
            &format!("/api/v1/payments?orderGroupId={group}"),
            Some(&token),
        )
        .await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(0));
    let path = format!("/api/v1/orders/{order}");
    assert_eq!(status_of(&app, &customer, path).await, "PENDING_PAYMENT");
    app.stop().await;
}

async fn wing_callback(app: &TestApp, contents: &str) -> Resp {
    app.post(
        "/api/v1/payments/webhook/wing",
        json!({ "contents": contents }),
        None,
    )
    .await
}

async fn wing_counts_callbacks_that_its_inquiry_confirms(backend: Backend) {
    let gateways = gateways().await;
    let app = app_with(backend, &gateways, false).await;
    let shop = shop(&app).await;
    let customer = app.customer("dara").await;
    let token = customer.access_token.clone();

    // The authorization: payload and hash checked by the stand-in; the payer goes to Wing's
    // page with the token.
    let (group, order, total) = ordered(&app, &shop, &customer).await;
    let (payment, reference) = pay(&app, &customer, group, "wing").await;
    assert_eq!(gateways.stand.txn(&reference).unwrap().amount, usd(total));
    let instructions = app
        .get(
            &format!("/api/v1/payments/{payment}/instructions"),
            Some(&token),
        )
        .await;
    let page = reqwest::Url::parse(instructions.body["redirectUrl"].as_str().unwrap()).unwrap();
    assert_eq!(page.path(), "/wing/v1/online/payment/confirm");
    let (_, sent_token) = page.query_pairs().find(|(k, _)| k == "token").unwrap();
    assert_eq!(
        STANDARD.decode(sent_token.as_bytes()).unwrap(),
        format!("tok-{reference}").as_bytes()
    );

    // Callbacks not sealed with the REST API key's hash are refused.
    let callback = json!({"order_reference_no": reference, "transaction_id": "ONL1",
        "amount": usd(total), "currency": "USD"});
    let forged = wing_callback(&app, &wing_contents("another-key", &callback)).await;
    assert_eq!((forged.status, forged.code()), (401, "invalid_signature"));
    let garbage = wing_callback(&app, "bm90IHNlYWxlZA==").await;
    assert_eq!(garbage.status, 401);

    // A sealed callback counts once the inquiry says paid, and only once.
    gateways.stand.set(&reference, "PAID");
    let contents = wing_contents(WING_KEY, &callback);
    let applied = wing_callback(&app, &contents).await;
    assert_eq!(applied.body["outcome"], "applied", "{:?}", applied.body);
    app.order_reaches(&customer, order, "PAID").await;
    let settled = app.payment_reaches(&customer, payment, "SUCCEEDED").await;
    assert_eq!(settled["captured"], total);
    // Again: the payment is settled, so Wing is not asked again.
    assert_eq!(
        wing_callback(&app, &contents).await.body["outcome"],
        "ignored"
    );

    // A refusal reported after the success changes nothing.
    gateways.stand.set(&reference, "DECLINED");
    let late = wing_callback(&app, &contents).await;
    assert_eq!(late.body["outcome"], "ignored", "{:?}", late.body);
    let path = format!("/api/v1/payments/{payment}");
    assert_eq!(status_of(&app, &customer, path).await, "SUCCEEDED");
    gateways.stand.set(&reference, "PAID");

    // Wing has no refund API: the refund waits for an operator, who records it.
    let refund_id = refund(&app, &shop, payment, 500).await;
    settle(&app, &shop, payment, &refund_id).await;
    let partly = app
        .payment_reaches(&customer, payment, "PARTIALLY_REFUNDED")
        .await;
    assert_eq!(partly["refunded"], 500);

    // A decline, then a late success, its callback in a form body.
    let (group, order, total) = ordered(&app, &shop, &customer).await;
    let (payment, reference) = pay(&app, &customer, group, "wing").await;
    gateways.stand.set(&reference, "DECLINED");
    let callback = json!({"order_reference_no": reference, "transaction_id": "ONL2",
        "amount": usd(total), "currency": "USD"});
    let contents = wing_contents(WING_KEY, &callback);
    let declined = wing_callback(&app, &contents).await;
    assert_eq!(declined.body["outcome"], "applied", "{:?}", declined.body);
    app.payment_reaches(&customer, payment, "FAILED").await;
    let path = format!("/api/v1/orders/{order}");
    assert_eq!(status_of(&app, &customer, path).await, "PENDING_PAYMENT");
    gateways.stand.set(&reference, "PAID");
    let late = app
        .send(
            app.client
                .post(app.url("/api/v1/payments/webhook/wing"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("contents={}", form_escape(&contents))),
        )
        .await;
    assert_eq!(late.body["outcome"], "applied", "{:?}", late.body);
    app.order_reaches(&customer, order, "PAID").await;

    // Wing slower than the timeout: a clear 502, no payment.
    let (group, _, _) = ordered(&app, &shop, &customer).await;
    gateways.stand.slow.store(true, Ordering::SeqCst);
    let slow = app.pay(&customer, group, "wing", None).await;
    gateways.stand.slow.store(false, Ordering::SeqCst);
    assert_eq!(
        (slow.status, slow.code()),
        (502, "provider_failed"),
        "{:?}",
        slow.body
    );
    let listed = app
        .get(
            &format!("/api/v1/payments?orderGroupId={group}"),
            Some(&token),
        )
        .await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(0));
    app.stop().await;
}

/// Pi Pay's return to `confirmURL` (a GET with the outcome in the query).
async fn pipay_return(
    app: &TestApp,
    reference: &str,
    status: &str,
    trans: &str,
    digest: Option<String>,
) -> Resp {
    let processor = format!("P{}", &reference[..6]);
    let digest = digest.unwrap_or_else(|| md5_hex(&format!("{trans}{reference}{processor}")));
    app.get(
        &format!(
            "/api/v1/payments/webhook/pipay?status={status}&orderID={reference}&transID={trans}&processorID={processor}&digest={digest}"
        ),
        None,
    )
    .await
}

async fn pipay_counts_returns_that_verify_transaction_confirms(backend: Backend) {
    let gateways = gateways().await;
    let app = app_with(backend, &gateways, false).await;
    let shop = shop(&app).await;
    let customer = app.customer("chantha").await;

    // The redirect to Pi Pay's page carries the documented fields and digest.
    let (group, order, total) = ordered(&app, &shop, &customer).await;
    let (payment, reference) = pay(&app, &customer, group, "pipay").await;
    let instructions = app
        .get(
            &format!("/api/v1/payments/{payment}/instructions"),
            Some(&customer.access_token),
        )
        .await;
    let page = reqwest::Url::parse(instructions.body["redirectUrl"].as_str().unwrap()).unwrap();
    assert_eq!(page.path(), "/pipay/starttransaction");
    let form: Map<String, Value> = page
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    assert_eq!(form["mid"], PIPAY_MID);
    assert_eq!(form["sid"], PIPAY_SID);
    assert_eq!(form["did"], PIPAY_DID);
    assert_eq!(form["orderid"], reference.as_str());
    assert_eq!(form["orderAmount"], usd(total));
    assert_eq!(form["currency"], "USD");
    assert!(form["confirmURL"]
        .as_str()
        .unwrap()
        .ends_with("/api/v1/payments/webhook/pipay"));
    assert_eq!(
        form["digest"],
        md5_hex(&format!("{PIPAY_MID}{reference}{}", usd(total)))
    );
    gateways.stand.record(&reference, &usd(total), "USD");

    // A wrong digest is refused; a right one is no proof: until Pi Pay agrees, only pending.
    let forged = pipay_return(&app, &reference, "0000", "T1", Some("0".repeat(32))).await;
    assert_eq!((forged.status, forged.code()), (401, "invalid_signature"));
    let unconfirmed = pipay_return(&app, &reference, "0000", "T1", None).await;
    assert_eq!(
        unconfirmed.body["outcome"], "applied",
        "{:?}",
        unconfirmed.body
    );
    app.payment_reaches(&customer, payment, "PENDING").await;
    let path = format!("/api/v1/orders/{order}");
    assert_eq!(status_of(&app, &customer, path).await, "PENDING_PAYMENT");

    // Once verifyTransaction says paid, the return counts, once.
    gateways.stand.set(&reference, "PAID");
    let applied = pipay_return(&app, &reference, "0000", "T1", None).await;
    assert_eq!(applied.body["outcome"], "applied", "{:?}", applied.body);
    app.order_reaches(&customer, order, "PAID").await;
    let settled = app.payment_reaches(&customer, payment, "SUCCEEDED").await;
    assert_eq!(settled["captured"], total);
    // The same return again: the payment is settled, so Pi Pay is not asked again.
    let again = pipay_return(&app, &reference, "0000", "T1", None).await;
    assert_eq!(again.body["outcome"], "ignored");

    // A failure returned after the success changes nothing.
    gateways.stand.set(&reference, "DECLINED");
    let late = pipay_return(&app, &reference, "0004", "T2", None).await;
    assert_eq!(late.body["outcome"], "ignored", "{:?}", late.body);
    let path = format!("/api/v1/payments/{payment}");
    assert_eq!(status_of(&app, &customer, path).await, "SUCCEEDED");
    gateways.stand.set(&reference, "PAID");

    // No public refund API: an operator refunds and records it.
    let refund_id = refund(&app, &shop, payment, 500).await;
    settle(&app, &shop, payment, &refund_id).await;
    app.payment_reaches(&customer, payment, "PARTIALLY_REFUNDED")
        .await;

    // A decline, then a late success returned as a form body.
    let (group, order, total) = ordered(&app, &shop, &customer).await;
    let (payment, reference) = pay(&app, &customer, group, "pipay").await;
    gateways.stand.record(&reference, &usd(total), "USD");
    // Anyone can compute a return's digest, so a declined return is only pending: a forged
    // one must not fail a payment the payer may still complete.
    let declined = pipay_return(&app, &reference, "0004", "T3", None).await;
    assert_eq!(declined.body["outcome"], "applied", "{:?}", declined.body);
    app.payment_reaches(&customer, payment, "PENDING").await;
    let forged = pipay_return(&app, &reference, "0004", "T3-forged", None).await;
    assert_eq!(forged.body["outcome"], "duplicate", "{:?}", forged.body);
    let path = format!("/api/v1/orders/{order}");
    assert_eq!(status_of(&app, &customer, path).await, "PENDING_PAYMENT");
    gateways.stand.set(&reference, "PAID");
    let processor = format!("P{}", &reference[..6]);
    let digest = md5_hex(&format!("T4{reference}{processor}"));
    let late = app
        .send(
            app.client
                .post(app.url("/api/v1/payments/webhook/pipay"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!(
                    "status=0000&orderID={reference}&transID=T4&processorID={processor}&digest={digest}"
                )),
        )
        .await;
    assert_eq!(late.body["outcome"], "applied", "{:?}", late.body);
    app.order_reaches(&customer, order, "PAID").await;

    // Pi Pay's page needs no call to start; a verifyTransaction slower than the timeout: a
    // clear 502, and the payment stays unpaid.
    let (group, order, total) = ordered(&app, &shop, &customer).await;
    let (payment, reference) = pay(&app, &customer, group, "pipay").await;
    gateways.stand.record(&reference, &usd(total), "USD");
    gateways.stand.set(&reference, "PAID");
    gateways.stand.slow.store(true, Ordering::SeqCst);
    let slow = pipay_return(&app, &reference, "0000", "T5", None).await;
    gateways.stand.slow.store(false, Ordering::SeqCst);
    assert_eq!(
        (slow.status, slow.code()),
        (502, "provider_failed"),
        "{:?}",
        slow.body
    );
    let path = format!("/api/v1/payments/{payment}");
    assert_eq!(status_of(&app, &customer, path).await, "INITIATED");
    let path = format!("/api/v1/orders/{order}");
    assert_eq!(status_of(&app, &customer, path).await, "PENDING_PAYMENT");
    app.stop().await;
}

async fn cambodian_gateways_settle_open_payments_by_polling(backend: Backend) {
    let gateways = gateways().await;
    let app = app_with(backend, &gateways, true).await;
    let shop = shop(&app).await;
    let customer = app.customer("bopha").await;
    // No callback at all: the poll job asks each provider about its open payments.
    let mut orders = Vec::new();
    for method in ["aba_payway", "wing", "pipay"] {
        let (group, order, total) = ordered(&app, &shop, &customer).await;
        let (_, reference) = pay(&app, &customer, group, method).await;
        if method == "pipay" {
            gateways.stand.record(&reference, &usd(total), "USD");
        }
        let status = if method == "aba_payway" {
            "APPROVED"
        } else {
            "PAID"
        };
        gateways.stand.set(&reference, status);
        orders.push(order);
    }
    for order in orders {
        app.order_reaches(&customer, order, "PAID").await;
    }
    app.stop().await;
}
