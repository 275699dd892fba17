//! Shipments through the public API on both backends: an order marked SHIPPED gets its
//! shipment (the tracking number given, or one the courier's adapter generates), seen only
//! by its customer, the merchant's staff and admins; signed courier webhooks move it forward
//! only, once per event, and its delivery delivers the order; the simulator courier; the A6
//! label, rendered and scanned: its Code 128 barcode and QR code both read the tracking
//! number.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use futures_util::future::join_all;
use kernel::{DomainEvent, Timestamp};
use orders_contract::{OrderFact, OrderShipped};
use serde_json::{json, Value};
use shipping::api::ShipmentCreated;
use shipping::domain::tracking;
use testkit::{
    eventually, on_both_backends, uuid_of, Backend, MerchantFixture, Resp, Session, TestApp,
};
use uuid::Uuid;

on_both_backends!(
    courier_reports_move_a_shipment_forward_once_and_deliver_its_order,
    labels_carry_the_tracking_number_as_code128_and_qr_and_the_simulator_delivers,
);

const WAIT: Duration = Duration::from_secs(20);
const SIMULATOR_SECRET: &str = "simulator-webhook-secret";
const JNT_SECRET: &str = "jnt-webhook-secret";

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(
        backend,
        |c| {
            c.edit_section(|s: &mut shipping::config::ShippingConfig| {
                s.simulator.enabled = true;
                s.webhook_tolerance_secs = 300;
                s.webhook_secrets
                    .insert("SIMULATOR".into(), SIMULATOR_SECRET.into());
                s.webhook_secrets.insert("JNT_KH".into(), JNT_SECRET.into());
            })
            .expect("shipping section")
        },
        Vec::new(),
    )
    .await
}

struct Shop {
    admin: Session,
    kopi: MerchantFixture,
    lamp: Uuid,
}

/// Kopi (Phnom Penh) sells a 250 g lamp.
async fn shop(app: &TestApp) -> Shop {
    let admin = app.admin().await;
    let kopi = app.merchant("Kopi").await;
    let category = app.category(&admin, "home", None).await;
    let (_, lamp) = app
        .listed_product(&kopi, &admin, category, "Lamp", "LAMP", 1_000, 1_000)
        .await;
    Shop { admin, kopi, lamp }
}

/// A customer with a saved address in Phnom Penh.
async fn customer(app: &TestApp, name: &str) -> Session {
    let customer = app.customer(name).await;
    let saved = app
        .post(
            "/api/v1/users/me/addresses",
            json!({"recipient": name, "phone": "+85512345678", "street": "St. 310, No. 5",
                "city": "Phnom Penh", "postalCode": "12000", "country": "KH"}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(saved.status, 201, "{:?}", saved.body);
    customer
}

/// A paid order of `quantity` lamps that the merchant moved to SHIPPED; its id and number.
async fn shipped(
    app: &TestApp,
    shop: &Shop,
    customer: &Session,
    quantity: i64,
    tracking: Option<&str>,
) -> (Uuid, String) {
    let group = app
        .checkout(
            customer,
            json!({"lines": [{"variantId": shop.lamp, "quantity": quantity}]}),
            Some(&Uuid::now_v7().to_string()),
        )
        .await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    app.pay_in_full(customer, &group.body).await;
    let order = uuid_of(&group.body["orders"][0]["id"]);
    let number = group.body["orders"][0]["number"]
        .as_str()
        .expect("number")
        .to_owned();
    let path = format!("/api/v1/orders/{order}/status");
    let token = Some(shop.kopi.owner.access_token.as_str());
    let processing = app
        .patch(&path, json!({"status": "PROCESSING"}), token)
        .await;
    assert_eq!(processing.status, 200, "{:?}", processing.body);
    let mut body = json!({"status": "SHIPPED"});
    if let Some(tracking) = tracking {
        body["trackingNumber"] = json!(tracking);
    }
    let moved = app.patch(&path, body, token).await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    (order, number)
}

/// The order's shipment, once shipping has heard of the shipped order.
async fn shipment_of(app: &TestApp, session: &Session, order: Uuid) -> Value {
    let path = format!("/api/v1/orders/{order}/shipment");
    eventually(WAIT, "the shipment", || async {
        let resp = app.get(&path, Some(&session.access_token)).await;
        (resp.status == 200).then_some(resp.body)
    })
    .await
}

async fn shipment(app: &TestApp, session: &Session, id: Uuid) -> Value {
    let resp = app
        .get(
            &format!("/api/v1/shipments/{id}"),
            Some(&session.access_token),
        )
        .await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    resp.body
}

fn report(event: &str, tracking: &str, status: &str, at: Timestamp) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "eventId": event, "trackingNumber": tracking, "status": status,
        "occurredAt": at.to_rfc3339(), "location": "Phnom Penh hub", "carrierExtra": {"any": 1}
    }))
    .expect("json")
}

/// A webhook as the courier sends it; `signature`: the header, or None for none.
async fn webhook(app: &TestApp, courier: &str, body: Vec<u8>, signature: Option<String>) -> Resp {
    let mut request = app
        .client
        .post(app.url(&format!("/api/v1/shipping/webhook/{courier}")))
        .header("content-type", "application/json")
        .body(body);
    if let Some(signature) = signature {
        request = request.header("X-Pasar-Signature", signature);
    }
    app.send(request).await
}

async fn signed(app: &TestApp, courier: &str, secret: &str, body: Vec<u8>) -> Resp {
    let signature = shipping::domain::signature(secret, Timestamp::now().seconds(), &body);
    webhook(app, courier, body, Some(signature)).await
}

async fn inbox_titles(app: &TestApp, session: &Session) -> Vec<String> {
    let resp = app
        .get("/api/v1/notifications", Some(&session.access_token))
        .await;
    resp.body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|m| m["title"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn courier_reports_move_a_shipment_forward_once_and_deliver_its_order(backend: Backend) {
    let app = spawn(backend).await;
    let shop = shop(&app).await;
    let dara = customer(&app, "Dara").await;
    // Checked out with the simulator courier (testkit's checkout picks it), shipped with the
    // number the merchant wrote on the parcel.
    let number = "PP-0042-KH";
    let (order, order_number) = shipped(&app, &shop, &dara, 2, Some(number)).await;

    let created = shipment_of(&app, &dara, order).await;
    let id = uuid_of(&created["id"]);
    assert_eq!(created["courierCode"], "SIMULATOR");
    assert_eq!(created["courierName"], "Pasar Simulator");
    assert_eq!(created["service"], "REGULAR");
    assert_eq!(created["trackingNumber"], number);
    assert_eq!(created["status"], "LABEL_CREATED");
    assert_eq!(created["orderNumber"], order_number.as_str());
    assert_eq!(created["weightGrams"], 500, "two lamps of 250 g");
    assert_eq!(created["chargeableWeightGrams"], 500);
    // The simulator's REGULAR service ships for free.
    assert_eq!(
        (
            created["shippingAmount"].as_i64(),
            created["currency"].as_str()
        ),
        (Some(0), Some("USD"))
    );
    assert_eq!(
        created["recipient"]["recipient"], "Dara",
        "the address of the checkout"
    );
    assert_eq!(created["recipient"]["city"], "Phnom Penh");
    assert_eq!(created["sender"]["name"], "Kopi");

    // The customer, the merchant's staff and admins see it; anyone else gets 404.
    let stranger = app.customer("stranger").await;
    for path in [
        format!("/api/v1/shipments/{id}"),
        format!("/api/v1/orders/{order}/shipment"),
        format!("/api/v1/shipments/{id}/tracking"),
        format!("/api/v1/shipments/{id}/label"),
    ] {
        let hidden = app.get(&path, Some(&stranger.access_token)).await;
        assert_eq!(
            (hidden.status, hidden.code()),
            (404, "shipment_not_found"),
            "{path}"
        );
        assert_eq!(app.get(&path, None).await.status, 401, "{path}");
    }
    assert_eq!(
        shipment(&app, &shop.kopi.owner, id).await["id"],
        created["id"]
    );
    assert_eq!(shipment(&app, &shop.admin, id).await["id"], created["id"]);
    let label = app
        .get(
            &format!("/api/v1/shipments/{id}/label"),
            Some(&dara.access_token),
        )
        .await;
    assert_eq!(label.status, 403, "customers do not print labels");

    // Not signed, signed with another secret, or signed an hour ago: refused, nothing changed.
    let picked = report("sim-1", number, "PICKED_UP", Timestamp::now());
    let unsigned = webhook(&app, "SIMULATOR", picked.clone(), None).await;
    assert_eq!(
        (unsigned.status, unsigned.code()),
        (401, "invalid_signature")
    );
    let forged = signed(&app, "SIMULATOR", JNT_SECRET, picked.clone()).await;
    assert_eq!((forged.status, forged.code()), (401, "invalid_signature"));
    let old = Timestamp::now().seconds() - 3_600;
    let stale_signature = shipping::domain::signature(SIMULATOR_SECRET, old, &picked);
    let stale = webhook(&app, "SIMULATOR", picked.clone(), Some(stale_signature)).await;
    assert_eq!((stale.status, stale.code()), (401, "stale_signature"));
    assert_eq!(shipment(&app, &dara, id).await["status"], "LABEL_CREATED");
    // Couriers without a secret here, and unknown ones.
    let unconfigured = signed(&app, "JNE", JNT_SECRET, picked.clone()).await;
    assert_eq!(
        (unconfigured.status, unconfigured.code()),
        (404, "webhooks_not_configured")
    );
    let unknown = signed(&app, "NOPE", JNT_SECRET, picked.clone()).await;
    assert_eq!((unknown.status, unknown.code()), (404, "courier_not_found"));
    let malformed = signed(
        &app,
        "SIMULATOR",
        SIMULATOR_SECRET,
        b"{\"eventId\": ".to_vec(),
    )
    .await;
    assert_eq!(
        (malformed.status, malformed.code()),
        (400, "malformed_json")
    );

    // Signed right: applied once; a replay of the same event changes nothing.
    let applied = signed(&app, "simulator", SIMULATOR_SECRET, picked.clone()).await;
    assert_eq!(
        (applied.status, applied.body["outcome"].as_str()),
        (200, Some("applied")),
        "{:?}",
        applied.body
    );
    assert_eq!(shipment(&app, &dara, id).await["status"], "PICKED_UP");
    let replay = signed(&app, "SIMULATOR", SIMULATOR_SECRET, picked).await;
    assert_eq!(replay.body["outcome"], "duplicate");

    // The same report delivered six times at once is applied once.
    let transit = report("sim-2", number, "IN_TRANSIT", Timestamp::now());
    let outcomes: Vec<String> =
        join_all((0..6).map(|_| signed(&app, "SIMULATOR", SIMULATOR_SECRET, transit.clone())))
            .await
            .into_iter()
            .map(|r| {
                assert_eq!(r.status, 200, "{:?}", r.body);
                r.body["outcome"].as_str().unwrap_or_default().to_owned()
            })
            .collect();
    assert_eq!(
        outcomes.iter().filter(|o| *o == "applied").count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| *o == "duplicate").count(),
        5,
        "{outcomes:?}"
    );

    // Delivered; then a late IN_TRANSIT (stamped even later) is kept but moves nothing back.
    let delivered_at = Timestamp::now();
    let delivered = signed(
        &app,
        "SIMULATOR",
        SIMULATOR_SECRET,
        report("sim-3", number, "DELIVERED", delivered_at),
    )
    .await;
    assert_eq!(delivered.body["outcome"], "applied", "{:?}", delivered.body);
    let late = signed(
        &app,
        "SIMULATOR",
        SIMULATOR_SECRET,
        report(
            "sim-4",
            number,
            "IN_TRANSIT",
            Timestamp::now().plus_seconds(1),
        ),
    )
    .await;
    assert_eq!(late.body["outcome"], "recorded", "{:?}", late.body);
    let now = shipment(&app, &dara, id).await;
    assert_eq!(now["status"], "DELIVERED");
    assert!(now["deliveredAt"].is_string());
    let timeline = app
        .get(
            &format!("/api/v1/shipments/{id}/tracking"),
            Some(&dara.access_token),
        )
        .await;
    assert_eq!(timeline.status, 200, "{:?}", timeline.body);
    let events = timeline.body["events"].as_array().expect("events");
    let seen: Vec<(&str, bool)> = events
        .iter()
        .map(|e| {
            (
                e["status"].as_str().unwrap_or_default(),
                e["applied"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("LABEL_CREATED", true),
            ("PICKED_UP", true),
            ("IN_TRANSIT", true),
            ("DELIVERED", true),
            ("IN_TRANSIT", false)
        ]
    );
    assert_eq!(events[1]["location"], "Phnom Penh hub");
    assert_eq!(events[1]["source"], "courier");
    let stray = signed(
        &app,
        "SIMULATOR",
        SIMULATOR_SECRET,
        report("sim-5", "NOT-OURS", "DELIVERED", Timestamp::now()),
    )
    .await;
    assert_eq!(stray.body["outcome"], "unknown_shipment");

    // The courier's delivery delivers the order, moved by the system.
    app.order_reaches(&dara, order, "DELIVERED").await;
    let history = app
        .get(
            &format!("/api/v1/orders/{order}/timeline"),
            Some(&dara.access_token),
        )
        .await;
    let last = history
        .body
        .as_array()
        .and_then(|t| t.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (last["status"].as_str(), last["by"].as_str()),
        (Some("DELIVERED"), Some("system"))
    );
    // And the customer heard of both ends of the journey.
    let shipped_title = format!("Order {order_number} is on its way");
    let delivered_title = format!("Order {order_number} was delivered");
    eventually(WAIT, "the customer's messages", || async {
        let titles = inbox_titles(&app, &dara).await;
        (titles.contains(&shipped_title) && titles.contains(&delivered_title)).then_some(())
    })
    .await;

    // order.shipped handled again (a redelivery past the inbox) makes no second shipment.
    let payload = app
        .list_events(OrderShipped::TYPE)
        .await
        .into_iter()
        .find(|e| e["orderId"] == order.to_string())
        .expect("order.shipped");
    let fact: OrderFact = serde_json::from_value(payload).expect("an order fact");
    assert!(
        fact.shipping.is_some(),
        "the order carries its shipping line"
    );
    let service = shipping::Shipping::new(app.ctx().clone());
    let handle = |fact: OrderFact| {
        let (service, app) = (service.clone(), &app);
        async move {
            let mut tx = app.ctx().db.begin().await.expect("tx");
            service
                .on_order_shipped(&mut tx, &fact)
                .await
                .expect("handled");
            tx.commit().await.expect("commit");
        }
    };
    handle(fact.clone()).await;
    let created_events = |order: Uuid| {
        let app = &app;
        async move {
            app.list_events(ShipmentCreated::TYPE)
                .await
                .into_iter()
                .filter(|e| e["orderId"] == order.to_string())
                .count()
        }
    };
    assert_eq!(created_events(order).await, 1);
    assert_eq!(shipment_of(&app, &dara, order).await["id"], created["id"]);

    // Orders shipped before checkout quoted shipping carry no courier and no address: the
    // courier is the one whose numbers the given one looks like, else the merchant's first
    // courier with a regular service; the address is the customer's saved one.
    let mut legacy = fact.clone();
    legacy.order_id = Uuid::now_v7();
    legacy.number = "LEGACY-1".into();
    legacy.shipping = None;
    legacy.tracking_number = Some(tracking::tracking_number("VET", 77));
    handle(legacy.clone()).await;
    let by_number = shipment_of(&app, &dara, legacy.order_id).await;
    assert_eq!(by_number["courierCode"], "VET");
    assert_eq!(by_number["recipient"]["recipient"], "Dara");
    assert!(by_number["shippingAmount"].is_null());
    let mut unnumbered = legacy.clone();
    unnumbered.order_id = Uuid::now_v7();
    unnumbered.tracking_number = None;
    handle(unnumbered.clone()).await;
    let guessed = shipment_of(&app, &dara, unnumbered.order_id).await;
    assert_eq!(
        (guessed["courierCode"].as_str(), guessed["service"].as_str()),
        (Some("JNT_KH"), Some("REGULAR"))
    );
    assert!(tracking::is_generated(
        "JTK",
        guessed["trackingNumber"].as_str().unwrap_or_default()
    ));
    // A merchant reusing a tracking number still gets a shipment, with its own number.
    let mut reused = legacy;
    reused.order_id = Uuid::now_v7();
    handle(reused.clone()).await;
    let second = shipment_of(&app, &dara, reused.order_id).await;
    assert_eq!(second["courierCode"], "VET");
    assert_ne!(second["trackingNumber"], by_number["trackingNumber"]);
    assert!(tracking::is_generated(
        "VET",
        second["trackingNumber"].as_str().unwrap_or_default()
    ));
    app.stop().await;
}

/// (pdfinfo, pdftotext, the barcodes found) of a PDF label, rendered at 300 dpi.
fn inspect(dir: &Path, pdf: &[u8]) -> (String, String, Value) {
    let file = dir.join("label.pdf");
    std::fs::write(&file, pdf).expect("write the label");
    let pdftoppm = testkit::tools::pdftoppm();
    let info =
        testkit::tools::run_tool(Command::new(testkit::tools::poppler("pdfinfo")).arg(&file));
    let text = testkit::tools::run_tool(
        Command::new(testkit::tools::poppler("pdftotext"))
            .arg(&file)
            .arg("-"),
    );
    testkit::tools::run_tool(
        Command::new(pdftoppm)
            .args(["-r", "300", "-gray", "-singlefile"])
            .arg(&file)
            .arg(dir.join("label")),
    );
    (info, text, testkit::tools::barcodes(&dir.join("label.pgm")))
}

async fn labels_carry_the_tracking_number_as_code128_and_qr_and_the_simulator_delivers(
    backend: Backend,
) {
    let app = spawn(backend).await;
    let shop = shop(&app).await;
    let sokha = customer(&app, "Sokha").await;
    let owner = shop.kopi.owner.access_token.as_str();
    let chosen = app
        .put(
            &format!("/api/v1/merchants/{}/shipping/couriers", shop.kopi.id),
            json!({"couriers": ["SIMULATOR"]}),
            Some(owner),
        )
        .await;
    assert_eq!(chosen.status, 200, "{:?}", chosen.body);
    // No tracking number given: the courier's adapter generates one.
    let (order, order_number) = shipped(&app, &shop, &sokha, 1, None).await;
    let created = shipment_of(&app, &sokha, order).await;
    let id = uuid_of(&created["id"]);
    let number = created["trackingNumber"]
        .as_str()
        .expect("tracking")
        .to_owned();
    assert_eq!(created["courierCode"], "SIMULATOR");
    assert!(tracking::is_generated("SIM", &number), "{number}");

    let response = app
        .client
        .get(app.url(&format!("/api/v1/shipments/{id}/label")))
        .bearer_auth(owner)
        .send()
        .await
        .expect("label");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let pdf = response.bytes().await.expect("label bytes").to_vec();
    assert!(pdf.starts_with(b"%PDF-"));
    let dir = tempfile::tempdir().expect("temp dir");
    let dir_path = dir.path().to_path_buf();
    let (info, text, found) = tokio::task::spawn_blocking(move || inspect(&dir_path, &pdf))
        .await
        .expect("inspect the label");
    assert!(
        info.lines()
            .any(|l| l.starts_with("Pages:") && l.trim_end().ends_with(" 1")),
        "{info}"
    );
    // A6: 105 × 148 mm in points.
    let size: Vec<f64> = info
        .lines()
        .find_map(|l| l.strip_prefix("Page size:"))
        .map(|rest| {
            rest.split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        size.len() >= 2 && (size[0] - 297.64).abs() < 0.1 && (size[1] - 419.53).abs() < 0.1,
        "{info}"
    );
    for expected in [
        number.as_str(),
        order_number.as_str(),
        "Pasar Simulator",
        "Sokha",
        "St. 310, No. 5",
        "Kopi",
    ] {
        assert!(
            text.contains(expected),
            "{expected} in the label's text: {text}"
        );
    }
    let found = found.as_array().expect("decoded");
    let format_of = |kind: &str| {
        found
            .iter()
            .find(|f| {
                let name = f[0]
                    .as_str()
                    .unwrap_or_default()
                    .to_lowercase()
                    .replace(' ', "");
                name.contains(kind)
            })
            .map(|f| f[1].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(
        format_of("code128").as_deref(),
        Some(number.as_str()),
        "{found:?}"
    );
    assert_eq!(
        format_of("qr").as_deref(),
        Some(number.as_str()),
        "{found:?}"
    );
    drop(dir);

    // The simulator courier takes it the rest of the way; nobody may move a courier's own.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let advanced = app
            .post(
                &format!("/api/v1/shipping/simulator/{id}/advance"),
                json!({}),
                None,
            )
            .await;
        assert_eq!(advanced.status, 200, "{:?}", advanced.body);
        statuses.push(
            advanced.body["status"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    assert_eq!(
        statuses,
        ["PICKED_UP", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"]
    );
    let finished = app
        .post(
            &format!("/api/v1/shipping/simulator/{id}/advance"),
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        (finished.status, finished.code()),
        (409, "shipment_finished")
    );
    app.order_reaches(&sokha, order, "DELIVERED").await;
    let arriving = format!("Order {order_number} arrives today");
    eventually(WAIT, "the out-for-delivery message", || async {
        inbox_titles(&app, &sokha)
            .await
            .contains(&arriving)
            .then_some(())
    })
    .await;
    app.stop().await;
}
