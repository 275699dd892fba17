//! Checkout and orders over HTTP on both backends: the split per merchant, commission,
//! reservations, idempotency, concurrency, access, the status machine, expiry, invoices.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{json, Value};
use testkit::{on_both_backends, uuid_of, Backend, MerchantFixture, Session, TestApp};
use uuid::Uuid;

on_both_backends!(
    checkout_splits_per_merchant_with_commission_and_reserves,
    checkout_is_idempotent_and_never_oversells,
    a_checkout_retried_after_it_emptied_the_cart_gets_its_order,
    a_late_checkout_event_removes_only_the_lines_it_ordered,
    orders_are_visible_only_to_their_people,
    status_machine_cancel_and_expiry_release_stock,
    invoice_is_printable_as_html_and_pdf,
);

struct Shop {
    admin: Session,
    kopi: MerchantFixture,
    batik: MerchantFixture,
    latte: Uuid,
    scarf: Uuid,
}

async fn shop(app: &TestApp, latte_stock: i64) -> Shop {
    let admin = app.admin().await;
    let kopi = app.merchant("Kopi").await;
    let batik = app.merchant("Batik").await;
    let food = app.category(&admin, "food", None).await;
    let (_, latte) = app
        .listed_product(&kopi, &admin, food, "Latte", "LATTE", 1_005, latte_stock)
        .await;
    let (_, scarf) = app
        .listed_product(&batik, &admin, food, "Scarf", "SCARF", 2_500, 20)
        .await;
    Shop {
        admin,
        kopi,
        batik,
        latte,
        scarf,
    }
}

fn order_of<'a>(group: &'a Value, merchant: &MerchantFixture) -> &'a Value {
    group["orders"]
        .as_array()
        .and_then(|orders| {
            orders
                .iter()
                .find(|o| uuid_of(&o["merchantId"]) == merchant.id)
        })
        .expect("order of merchant")
}

async fn checkout_splits_per_merchant_with_commission_and_reserves(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    // Kopi pays 7.5 % on everything; Batik the platform default (10 %).
    let rate = app
        .put(
            &format!("/api/v1/admin/merchants/{}/commission", shop.kopi.id),
            json!({"rateBps": 750}),
            Some(&shop.admin.access_token),
        )
        .await;
    assert_eq!(rate.status, 200, "{:?}", rate.body);
    let customer = app.customer("shopper").await;
    app.add_to_cart(&customer, shop.latte, 3).await;
    app.add_to_cart(&customer, shop.scarf, 1).await;

    let resp = app.checkout(&customer, json!({}), Some("first")).await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    let group = resp.body;
    assert_eq!(group["orders"].as_array().map(Vec::len), Some(2));
    assert_eq!(group["currency"], "USD");
    assert_eq!(group["total"], 3 * 1_005 + 2_500);
    assert_eq!(group["amountDue"], group["total"]);
    let kopi_order = order_of(&group, &shop.kopi);
    assert_eq!(kopi_order["status"], "PENDING_PAYMENT");
    assert_eq!(kopi_order["total"], 3_015);
    // 3015 × 7.5 % = 226.125 → 226 (per line, half away from zero).
    assert_eq!(kopi_order["commission"], 226);
    assert_eq!(kopi_order["lines"][0]["commissionBps"], 750);
    // Physical goods: shipped (the test kit picks the simulator's free service).
    assert_eq!(kopi_order["shippingQuoted"], true);
    assert_eq!(kopi_order["shipping"], 0);
    assert_eq!(order_of(&group, &shop.batik)["commission"], 250);

    // Stock is held for the order; the ordered lines left the cart.
    assert_eq!(app.stock_of(&shop.kopi, "LATTE").await, (10, 3));
    assert_eq!(app.stock_of(&shop.batik, "SCARF").await, (20, 1));
    testkit::eventually(
        Duration::from_secs(10),
        "ordered lines leave the cart",
        || async {
            let cart = app.get("/api/v1/cart", Some(&customer.access_token)).await;
            (cart.body["itemCount"] == 0).then_some(())
        },
    )
    .await;

    // Explicit lines; prices always come from the catalog.
    let priced = app
        .checkout(
            &customer,
            json!({"lines": [{"variantId": shop.latte, "quantity": 1, "price": 1}]}),
            None,
        )
        .await;
    assert_eq!(
        (priced.status, priced.code()),
        (422, "validation_failed"),
        "client prices are refused"
    );
    let explicit = app
        .checkout(
            &customer,
            json!({"lines": [{"variantId": shop.latte, "quantity": 2}]}),
            None,
        )
        .await;
    assert_eq!(explicit.status, 201);
    assert_eq!(explicit.body["total"], 2_010);

    // What cannot be ordered is refused and changes nothing.
    let empty = app.checkout(&customer, json!({}), None).await;
    assert_eq!((empty.status, empty.code()), (422, "empty_order"));
    let too_many = app
        .checkout(
            &customer,
            json!({"lines": [{"variantId": shop.latte, "quantity": 6}]}),
            None,
        )
        .await;
    assert_eq!(
        (too_many.status, too_many.code()),
        (409, "insufficient_stock"),
        "{:?}",
        too_many.body
    );
    assert_eq!(too_many.body["shortages"][0]["sku"], "LATTE");
    let unknown = app
        .checkout(
            &customer,
            json!({"lines": [{"variantId": Uuid::nil(), "quantity": 1}]}),
            None,
        )
        .await;
    assert_eq!((unknown.status, unknown.code()), (409, "items_unavailable"));
    assert_eq!(app.stock_of(&shop.kopi, "LATTE").await, (10, 5));

    // Events tell the rest of the platform.
    let created = app.list_events("order.created").await;
    assert_eq!(created.len(), 3);
    app.stop().await;
}

async fn checkout_is_idempotent_and_never_oversells(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 3).await;
    let customer = app.customer("shopper").await;
    let body = json!({"lines": [{"variantId": shop.scarf, "quantity": 1}]});

    // The same key fired 20 times at once: one order group.
    let attempts =
        join_all((0..20).map(|_| app.checkout(&customer, body.clone(), Some("same-key")))).await;
    let created: Vec<&Value> = attempts
        .iter()
        .filter(|r| r.status == 201)
        .map(|r| &r.body)
        .collect();
    assert!(!created.is_empty());
    assert!(
        attempts
            .iter()
            .all(|r| r.status == 201 || (r.status, r.code()) == (409, "idempotency_key_in_use")),
        "{:?}",
        attempts
            .iter()
            .map(|r| (r.status, r.code().to_owned()))
            .collect::<Vec<_>>()
    );
    let ids: std::collections::HashSet<_> = created
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "one group for one key");
    assert_eq!(app.stock_of(&shop.batik, "SCARF").await, (20, 1));
    let replay = app
        .checkout(&customer, body.clone(), Some("same-key"))
        .await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert!(ids.contains(replay.body["id"].as_str().unwrap()));
    let other = app
        .checkout(
            &customer,
            json!({"lines": [{"variantId": shop.scarf, "quantity": 2}]}),
            Some("same-key"),
        )
        .await;
    assert_eq!(
        (other.status, other.code()),
        (422, "idempotency_key_reused")
    );
    // Keys are per user: another customer's same key is a different request.
    let someone = app.customer("someone").await;
    let theirs = app.checkout(&someone, body.clone(), Some("same-key")).await;
    assert_eq!(theirs.status, 201);
    assert_ne!(theirs.body["id"], replay.body["id"]);

    // Ten customers race for the last three lattes: exactly three orders.
    let mut buyers = Vec::new();
    for i in 0..10 {
        buyers.push(app.customer(&format!("buyer{i}")).await);
    }
    let one_latte = json!({"lines": [{"variantId": shop.latte, "quantity": 1}]});
    let results = join_all(
        buyers
            .iter()
            .map(|b| app.checkout(b, one_latte.clone(), None)),
    )
    .await;
    let won = results.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        won,
        3,
        "{:?}",
        results
            .iter()
            .map(|r| (r.status, r.code().to_owned()))
            .collect::<Vec<_>>()
    );
    assert!(results
        .iter()
        .filter(|r| r.status != 201)
        .all(|r| r.code() == "insufficient_stock"));
    assert_eq!(app.stock_of(&shop.kopi, "LATTE").await, (3, 3));
    app.stop().await;
}

async fn cart_lines(app: &TestApp, customer: &Session) -> Vec<Value> {
    let cart = app.get("/api/v1/cart", Some(&customer.access_token)).await;
    assert_eq!(cart.status, 200, "{:?}", cart.body);
    cart.body["items"].as_array().cloned().unwrap_or_default()
}

/// Publishes `event` as orders would and waits until `consumer` has applied it.
async fn publish_applied<E: kernel::DomainEvent>(app: &TestApp, consumer: &str, event: E) {
    let ctx = app.ctx();
    let mut tx = ctx.db.begin().await.expect("tx");
    let envelope = platform::bus::publish(&mut tx, "orders", &event)
        .await
        .expect("publish");
    ctx.commit(tx).await.expect("commit");
    testkit::eventually(Duration::from_secs(10), "event applied", || async {
        let seen: i64 = platform::on_db!(&ctx.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM platform_inbox WHERE consumer = $1 AND event_id = $2"
        ).bind(consumer).bind(envelope.id).fetch_one(pool).await)
        .expect("inbox");
        (seen == 1).then_some(())
    })
    .await;
}

async fn a_checkout_retried_after_it_emptied_the_cart_gets_its_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.customer("retrier").await;
    assert_eq!(app.add_to_cart(&customer, shop.latte, 2).await.status, 200);
    // The same body both times: its shipping fields are fixed now, not from the emptied cart.
    let body = app
        .shipping_for(&customer, &[shop.latte])
        .await
        .expect("the latte ships");
    let first = app
        .checkout(&customer, body.clone(), Some("cart-key"))
        .await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    testkit::eventually(Duration::from_secs(10), "cart emptied", || async {
        cart_lines(&app, &customer).await.is_empty().then_some(())
    })
    .await;
    // The answer was lost; the client sends the same request again: its order, not "empty".
    let replay = app.checkout(&customer, body, Some("cart-key")).await;
    assert_eq!(replay.status, 201, "{:?}", replay.body);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.body["id"], first.body["id"]);
    assert_eq!(app.stock_of(&shop.kopi, "LATTE").await, (10, 2));
    // Without the key, an empty cart is still nothing to order.
    let fresh = app.checkout(&customer, json!({}), None).await;
    assert_eq!((fresh.status, fresh.code()), (422, "empty_order"));
    app.stop().await;
}

async fn a_late_checkout_event_removes_only_the_lines_it_ordered(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.customer("readder").await;
    assert_eq!(app.add_to_cart(&customer, shop.latte, 2).await.status, 200);
    let ordered = cart_lines(&app, &customer).await;
    let ordered_line = uuid_of(&ordered[0]["id"]);
    // The customer removes the line and adds the same item again before the checkout's
    // event arrives: the new line is not the one that was ordered.
    let removed = app
        .delete(
            &format!("/api/v1/cart/items/{ordered_line}"),
            Some(&customer.access_token),
        )
        .await;
    assert!(removed.status < 300, "{:?}", removed.body);
    assert_eq!(app.add_to_cart(&customer, shop.latte, 2).await.status, 200);
    let readded = uuid_of(&cart_lines(&app, &customer).await[0]["id"]);
    assert_ne!(readded, ordered_line);
    let late = |line: Uuid| orders::api::CheckoutCompleted {
        group_id: kernel::new_id(),
        customer_id: customer.user_id,
        from_cart: true,
        lines: vec![orders::api::CheckoutLine {
            variant_id: shop.latte,
            quantity: 2,
        }],
        cart_lines: vec![cart_contract::CartContentLine {
            variant_id: shop.latte,
            quantity: 2,
            line_id: Some(line),
        }],
        coupon_codes: Vec::new(),
    };
    publish_applied(&app, "cart", late(ordered_line)).await;
    let lines = cart_lines(&app, &customer).await;
    assert_eq!(lines.len(), 1, "the line added again stays");
    assert_eq!(uuid_of(&lines[0]["id"]), readded);
    // The same event naming the line as it is now removes it.
    publish_applied(&app, "cart", late(readded)).await;
    assert!(cart_lines(&app, &customer).await.is_empty());
    app.stop().await;
}

async fn orders_are_visible_only_to_their_people(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let alice = app.customer("alice").await;
    let bob = app.customer("bob").await;
    let group = app
        .checkout(&alice, json!({"lines": [{"variantId": shop.latte, "quantity": 1}, {"variantId": shop.scarf, "quantity": 1}]}), None)
        .await
        .body;
    let kopi_order = uuid_of(&order_of(&group, &shop.kopi)["id"]);
    let group_id = uuid_of(&group["id"]);

    assert_eq!(
        app.get(
            &format!("/api/v1/orders/{kopi_order}"),
            Some(&alice.access_token)
        )
        .await
        .status,
        200
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/orders/groups/{group_id}"),
            Some(&alice.access_token)
        )
        .await
        .status,
        200
    );
    // Bob and Batik's staff see nothing of it: 404, not 403.
    for (who, token) in [
        ("bob", &bob.access_token),
        ("batik", &shop.batik.owner.access_token),
    ] {
        let resp = app
            .get(&format!("/api/v1/orders/{kopi_order}"), Some(token))
            .await;
        assert_eq!(
            (resp.status, resp.code()),
            (404, "order_not_found"),
            "{who}"
        );
        let timeline = app
            .get(
                &format!("/api/v1/orders/{kopi_order}/timeline"),
                Some(token),
            )
            .await;
        assert_eq!(timeline.status, 404, "{who}");
    }
    assert_eq!(
        app.get(
            &format!("/api/v1/orders/groups/{group_id}"),
            Some(&bob.access_token)
        )
        .await
        .status,
        404
    );
    let bob_list = app.get("/api/v1/orders", Some(&bob.access_token)).await;
    assert_eq!(bob_list.body["items"].as_array().map(Vec::len), Some(0));
    let bob_cancel = app
        .post(
            &format!("/api/v1/orders/{kopi_order}/cancel"),
            json!({}),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(bob_cancel.status, 404);

    // Merchant staff list their own orders; a cashier sees but may not move them.
    let kopi_list = app
        .get(
            &format!("/api/v1/orders?merchantId={}", shop.kopi.id),
            Some(&shop.kopi.owner.access_token),
        )
        .await;
    assert_eq!(kopi_list.status, 200);
    let listed: Vec<Uuid> = kopi_list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| uuid_of(&o["id"]))
        .collect();
    assert_eq!(listed, vec![kopi_order]);
    let spy = app
        .get(
            &format!("/api/v1/orders?merchantId={}", shop.kopi.id),
            Some(&shop.batik.owner.access_token),
        )
        .await;
    assert_eq!(spy.status, 403);
    let cashier = app.staff(&shop.kopi, "cashier").await;
    assert_eq!(
        app.get(
            &format!("/api/v1/orders/{kopi_order}"),
            Some(&cashier.access_token)
        )
        .await
        .status,
        200
    );
    let cashier_cancel = app
        .post(
            &format!("/api/v1/orders/{kopi_order}/cancel"),
            json!({}),
            Some(&cashier.access_token),
        )
        .await;
    assert_eq!(cashier_cancel.status, 403);
    let alice_list = app
        .get("/api/v1/orders?limit=1", Some(&alice.access_token))
        .await;
    assert_eq!(alice_list.body["items"].as_array().map(Vec::len), Some(1));
    let cursor = alice_list.body["nextCursor"]
        .as_str()
        .expect("a second page");
    let page2 = app
        .get(
            &format!("/api/v1/orders?limit=1&cursor={cursor}"),
            Some(&alice.access_token),
        )
        .await;
    assert_eq!(page2.body["items"].as_array().map(Vec::len), Some(1));
    assert!(page2.body["nextCursor"].is_null());
    app.stop().await;
}

async fn status_machine_cancel_and_expiry_release_stock(backend: Backend) {
    let app = TestApp::spawn_with_payment_window(backend, 2).await;
    let shop = shop(&app, 10).await;
    let customer = app.customer("shopper").await;
    let one = json!({"lines": [{"variantId": shop.latte, "quantity": 2}]});

    // Unpaid orders cannot be shipped: 409 with the allowed next states.
    let group = app.checkout(&customer, one.clone(), None).await.body;
    let order = uuid_of(&group["orders"][0]["id"]);
    let ship = app
        .patch(
            &format!("/api/v1/orders/{order}/status"),
            json!({"status": "SHIPPED"}),
            Some(&shop.kopi.owner.access_token),
        )
        .await;
    assert_eq!((ship.status, ship.code()), (409, "illegal_transition"));
    assert_eq!(ship.body["allowedNextStates"], json!(["CANCELLED"]));
    let paid = app
        .patch(
            &format!("/api/v1/orders/{order}/status"),
            json!({"status": "PAID"}),
            Some(&shop.admin.access_token),
        )
        .await;
    assert_eq!(paid.status, 409, "only a payment pays an order");

    // The customer cancels: the stock comes back.
    let cancelled = app
        .post(
            &format!("/api/v1/orders/{order}/cancel"),
            json!({"reason": "changed my mind"}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    assert_eq!(cancelled.body["status"], "CANCELLED");
    app.stock_reaches(&shop.kopi, "LATTE", (10, 0)).await;
    let again = app
        .post(
            &format!("/api/v1/orders/{order}/cancel"),
            json!({}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!((again.status, again.code()), (409, "illegal_transition"));
    let timeline = app
        .get(
            &format!("/api/v1/orders/{order}/timeline"),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(
        app.timeline_statuses(&customer, order).await,
        ["PENDING_PAYMENT", "CANCELLED"]
    );
    assert_eq!(timeline.body[1]["by"], "customer");
    assert_eq!(timeline.body[1]["note"], "changed my mind");

    // Unpaid past the window: EXPIRED, and the stock comes back.
    let group = app.checkout(&customer, one, None).await.body;
    let order = uuid_of(&group["orders"][0]["id"]);
    assert_eq!(app.stock_of(&shop.kopi, "LATTE").await, (10, 2));
    app.order_reaches(&customer, order, "EXPIRED").await;
    app.stock_reaches(&shop.kopi, "LATTE", (10, 0)).await;
    assert_eq!(app.list_events("order.expired").await.len(), 1);
    app.stop().await;
}

async fn invoice_is_printable_as_html_and_pdf(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let customer = app.customer("shopper").await;
    let group = app
        .checkout(
            &customer,
            json!({"lines": [{"variantId": shop.latte, "quantity": 2}]}),
            None,
        )
        .await
        .body;
    let order = &group["orders"][0];
    let id = uuid_of(&order["id"]);
    let html = app
        .send(
            app.client
                .get(app.url(&format!("/api/v1/orders/{id}/invoice")))
                .bearer_auth(&customer.access_token),
        )
        .await;
    assert_eq!(html.status, 200);
    assert!(html
        .header("content-type")
        .unwrap_or_default()
        .starts_with("text/html"));
    let pdf = app
        .client
        .get(app.url(&format!("/api/v1/orders/{id}/invoice?format=pdf")))
        .bearer_auth(&customer.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let bytes = pdf.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains(order["number"].as_str().unwrap()),
        "the PDF names the order"
    );
    assert!(text.contains("20.10 USD"));
    let page = app
        .client
        .get(app.url(&format!("/api/v1/orders/{id}/invoice")))
        .bearer_auth(&customer.access_token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(order["number"].as_str().unwrap()));
    assert!(
        page.contains("Latte")
            && page.contains("20.10 USD")
            && page.contains("Shipping (Pasar Simulator")
    );
    let stranger = app.customer("stranger").await;
    assert_eq!(
        app.get(
            &format!("/api/v1/orders/{id}/invoice"),
            Some(&stranger.access_token)
        )
        .await
        .status,
        404
    );
    let bad = app
        .get(
            &format!("/api/v1/orders/{id}/invoice?format=docx"),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(bad.status, 422);
    app.stop().await;
}
