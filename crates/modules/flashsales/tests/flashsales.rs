//! Flash sales through the public API on both backends: who sets up what, bad input stores
//! nothing, a crowd buys exactly the allotment, units come back from cancelled and expired
//! orders, and the sale price reaches the cart summary and the order as a discount.

use std::time::Duration;

use futures_util::future::join_all;
use kernel::Timestamp;
use serde_json::{json, Value};
use testkit::{eventually, on_both_backends, uuid_of, Backend, MerchantFixture, Session, TestApp};
use uuid::Uuid;

on_both_backends!(
    managers_set_up_sales_and_bad_input_stores_nothing,
    a_crowd_buys_exactly_the_allotment_and_cancelled_units_come_back,
    the_sale_price_is_a_discount_in_the_cart_and_on_the_order,
    an_expired_order_gives_its_units_back,
);

struct Shop {
    admin: Session,
    kopi: MerchantFixture,
    batik: MerchantFixture,
    latte: Uuid,
    scarf: Uuid,
}

/// Kopi sells a latte (10.05), Batik a scarf (25.00).
async fn shop(app: &TestApp, stock: i64) -> Shop {
    let admin = app.admin().await;
    let kopi = app.merchant("Kopi").await;
    let batik = app.merchant("Batik").await;
    let drinks = app.category(&admin, "drinks", None).await;
    let (_, latte) = app
        .listed_product(&kopi, &admin, drinks, "Latte", "LATTE", 1_005, stock)
        .await;
    let (_, scarf) = app
        .listed_product(&batik, &admin, drinks, "Scarf", "SCARF", 2_500, stock)
        .await;
    Shop {
        admin,
        kopi,
        batik,
        latte,
        scarf,
    }
}

fn at(seconds_from_now: i64) -> String {
    Timestamp::now().plus_seconds(seconds_from_now).to_rfc3339()
}

fn sale_body(merchant: Option<Uuid>, items: Value, starts_in: i64) -> Value {
    json!({
        "title": {"en": "Midnight sale", "km": "លក់ពាក់កណ្ដាលអធ្រាត្រ", "id": "Obral tengah malam"},
        "merchantId": merchant,
        "startsAt": at(starts_in),
        "endsAt": at(starts_in + 3_600),
        "items": items,
    })
}

fn item(variant: Uuid, sale_price: i64, allotment: i64, limit: i64) -> Value {
    json!({"variantId": variant, "salePrice": sale_price, "allotment": allotment, "perCustomerLimit": limit})
}

/// A running sale of Kopi's latte.
async fn running_sale(
    app: &TestApp,
    shop: &Shop,
    sale_price: i64,
    allotment: i64,
    limit: i64,
) -> Uuid {
    let created = app
        .post(
            "/api/v1/flash-sales",
            sale_body(
                Some(shop.kopi.id),
                json!([item(shop.latte, sale_price, allotment, limit)]),
                -1,
            ),
            Some(&shop.kopi.owner.access_token),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["status"], "LIVE");
    uuid_of(&created.body["id"])
}

async fn buy(app: &TestApp, customer: &Session, variant: Uuid, quantity: i64) -> testkit::Resp {
    app.checkout(
        customer,
        json!({"lines": [{"variantId": variant, "quantity": quantity}]}),
        Some(&Uuid::now_v7().to_string()),
    )
    .await
}

async fn remaining(app: &TestApp, sale: Uuid) -> i64 {
    let availability = app
        .get(&format!("/api/v1/flash-sales/{sale}/availability"), None)
        .await;
    assert_eq!(availability.status, 200, "{:?}", availability.body);
    availability.body["items"][0]["remaining"].as_i64().unwrap()
}

async fn managers_set_up_sales_and_bad_input_stores_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 10).await;
    let owner = shop.kopi.owner.access_token.clone();
    let customer = app.customer("nosy").await;

    // Bad input, each named by its field, and nothing stored.
    for (body, field) in [
        (
            sale_body(
                Some(shop.kopi.id),
                json!([item(shop.latte, 1_005, 5, 1)]),
                60,
            ),
            "items[0].salePrice",
        ),
        (
            sale_body(Some(shop.kopi.id), json!([item(shop.scarf, 100, 5, 1)]), 60),
            "items[0].variantId",
        ),
        (
            sale_body(Some(shop.kopi.id), json!([item(shop.latte, 100, 5, 6)]), 60),
            "items[0].perCustomerLimit",
        ),
        (sale_body(Some(shop.kopi.id), json!([]), 60), "items"),
        (
            json!({"title": {"en": "Backwards"}, "merchantId": shop.kopi.id, "startsAt": at(60),
                   "endsAt": at(30), "items": [item(shop.latte, 100, 5, 1)]}),
            "endsAt",
        ),
    ] {
        let refused = app.post("/api/v1/flash-sales", body, Some(&owner)).await;
        assert_eq!(refused.status, 422, "{field}: {:?}", refused.body);
        assert!(
            refused.body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{field}: {:?}",
            refused.body
        );
    }
    let listed = app
        .get(
            "/api/v1/flash-sales?managed=true",
            Some(&shop.admin.access_token),
        )
        .await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(listed.body.as_array().unwrap().len(), 0, "nothing stored");

    // Who may set up what.
    let body = sale_body(Some(shop.kopi.id), json!([item(shop.latte, 800, 5, 1)]), 60);
    let by_customer = app
        .post(
            "/api/v1/flash-sales",
            body.clone(),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(by_customer.status, 403, "{:?}", by_customer.body);
    let by_other = app
        .post(
            "/api/v1/flash-sales",
            body.clone(),
            Some(&shop.batik.owner.access_token),
        )
        .await;
    assert_eq!(by_other.status, 403, "{:?}", by_other.body);
    let mut funded = body.clone();
    funded["platformFunded"] = json!(true);
    let funded_by_merchant = app.post("/api/v1/flash-sales", funded, Some(&owner)).await;
    assert_eq!(
        funded_by_merchant.status, 403,
        "{:?}",
        funded_by_merchant.body
    );
    let platform = sale_body(None, json!([item(shop.scarf, 2_000, 5, 1)]), 60);
    let platform_by_merchant = app
        .post("/api/v1/flash-sales", platform.clone(), Some(&owner))
        .await;
    assert_eq!(platform_by_merchant.status, 403);

    let created = app
        .post("/api/v1/flash-sales", body.clone(), Some(&owner))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["status"], "SCHEDULED");
    assert!(created.body["secondsLeft"].as_i64().unwrap() <= 60);
    assert_eq!(created.body["items"][0]["listPrice"], 1_005);
    assert_eq!(created.body["items"][0]["remaining"], 5);
    let id = uuid_of(&created.body["id"]);
    let by_admin = app
        .post(
            "/api/v1/flash-sales",
            platform,
            Some(&shop.admin.access_token),
        )
        .await;
    assert_eq!(by_admin.status, 201, "{:?}", by_admin.body);
    // A sale the platform funds is the platform's to change, even on a merchant's variants.
    let mut funded = sale_body(
        Some(shop.batik.id),
        json!([item(shop.scarf, 2_100, 5, 1)]),
        7_200,
    );
    funded["platformFunded"] = json!(true);
    let funded = app
        .post(
            "/api/v1/flash-sales",
            funded,
            Some(&shop.admin.access_token),
        )
        .await;
    assert_eq!(funded.status, 201, "{:?}", funded.body);
    let repriced_by_merchant = app
        .put(
            &format!("/api/v1/flash-sales/{}", uuid_of(&funded.body["id"])),
            json!({"items": [item(shop.scarf, 1, 1_000, 1_000)]}),
            Some(&shop.batik.owner.access_token),
        )
        .await;
    assert_eq!(
        repriced_by_merchant.status, 403,
        "{:?}",
        repriced_by_merchant.body
    );

    // One variant, one sale at a time.
    let overlap = app.post("/api/v1/flash-sales", body, Some(&owner)).await;
    assert_eq!(
        (overlap.status, overlap.code()),
        (409, "flash_sale_overlap"),
        "{:?}",
        overlap.body
    );

    // The public sees live and upcoming sales; another merchant cannot change this one.
    let public = app.get("/api/v1/flash-sales", None).await;
    assert_eq!(public.status, 200);
    assert_eq!(public.body.as_array().unwrap().len(), 3);
    let path = format!("/api/v1/flash-sales/{id}");
    let meddled = app
        .put(
            &path,
            json!({"title": {"en": "Mine"}}),
            Some(&shop.batik.owner.access_token),
        )
        .await;
    assert_eq!(meddled.status, 404);

    // Before the start anything changes; once started, only the end comes forward.
    let started = app
        .put(
            &path,
            json!({"startsAt": at(-1), "items": [item(shop.latte, 700, 3, 1)]}),
            Some(&owner),
        )
        .await;
    assert_eq!(started.status, 200, "{:?}", started.body);
    assert_eq!(started.body["status"], "LIVE");
    assert_eq!(started.body["items"][0]["salePrice"], 700);
    let repriced = app
        .put(
            &path,
            json!({"items": [item(shop.latte, 600, 3, 1)]}),
            Some(&owner),
        )
        .await;
    assert_eq!(
        (repriced.status, repriced.code()),
        (409, "flash_sale_started")
    );
    let longer = app
        .put(&path, json!({"endsAt": at(7_200)}), Some(&owner))
        .await;
    assert_eq!(longer.status, 422, "{:?}", longer.body);
    let ended = app
        .post(&format!("{path}/end"), json!({}), Some(&owner))
        .await;
    assert_eq!(ended.status, 200, "{:?}", ended.body);
    assert_eq!(ended.body["status"], "ENDED");
    assert_eq!(
        app.get(&path, None).await.status,
        404,
        "an ended sale leaves the public"
    );
    assert_eq!(
        app.get(&path, Some(&owner)).await.status,
        200,
        "its manager still sees it"
    );
    let again = app
        .post(&format!("{path}/end"), json!({}), Some(&owner))
        .await;
    assert_eq!((again.status, again.code()), (409, "flash_sale_ended"));
    app.stop().await;
}

async fn a_crowd_buys_exactly_the_allotment_and_cancelled_units_come_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 1_000).await;
    let sale = running_sale(&app, &shop, 500, 50, 1).await;

    let crowd: Vec<Session> = (0..2_000).map(|_| app.crowd_customer()).collect();
    let results = join_all(crowd.iter().map(|c| buy(&app, c, shop.latte, 1))).await;
    let won: Vec<&testkit::Resp> = results.iter().filter(|r| r.status == 201).collect();
    assert_eq!(won.len(), 50, "exactly the allotment");
    for lost in results.iter().filter(|r| r.status != 201) {
        assert!(
            matches!(
                (lost.status, lost.code()),
                (409, "sold_out") | (429, "flash_sale_busy")
            ),
            "{:?}",
            lost.body
        );
    }
    assert_eq!(remaining(&app, sale).await, 0);
    let stock = app.stock_of(&shop.kopi, "LATTE").await;
    assert_eq!(stock, (1_000, 50), "stock reserved for the winners only");

    // A winner cannot buy a second unit (a cap of one), even when units come back.
    let winners: Vec<(usize, Uuid)> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status == 201)
        .map(|(i, r)| (i, uuid_of(&r.body["orders"][0]["id"])))
        .collect();
    for (i, order) in winners.iter().take(10) {
        let cancelled = app
            .post(
                &format!("/api/v1/orders/{order}/cancel"),
                json!({}),
                Some(&crowd[*i].access_token),
            )
            .await;
        assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    }
    eventually(Duration::from_secs(10), "10 units back", || async {
        (remaining(&app, sale).await == 10).then_some(())
    })
    .await;
    let second = buy(&app, &crowd[winners[20].0], shop.latte, 1).await;
    assert_eq!(
        (second.status, second.code()),
        (409, "flash_sale_limit"),
        "{:?}",
        second.body
    );

    // Exactly 10 more of 100 new buyers get them.
    let late: Vec<Session> = (0..100).map(|_| app.crowd_customer()).collect();
    let results = join_all(late.iter().map(|c| buy(&app, c, shop.latte, 1))).await;
    assert_eq!(results.iter().filter(|r| r.status == 201).count(), 10);
    assert_eq!(remaining(&app, sale).await, 0);
    app.stock_reaches(&shop.kopi, "LATTE", (1_000, 50)).await;
    app.stop().await;
}

async fn the_sale_price_is_a_discount_in_the_cart_and_on_the_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app, 20).await;
    let sale = running_sale(&app, &shop, 800, 10, 2).await;
    let customer = app.customer("bargain").await;
    assert_eq!(app.add_to_cart(&customer, shop.latte, 2).await.status, 200);
    assert_eq!(app.add_to_cart(&customer, shop.scarf, 1).await.status, 200);
    let summary = app
        .get("/api/v1/cart/summary", Some(&customer.access_token))
        .await;
    assert_eq!(summary.status, 200, "{:?}", summary.body);
    // 2 × (1,005 − 800) off the lattes, nothing off the scarf.
    assert_eq!(summary.body["discount"], 410, "{:?}", summary.body);
    let promotions = summary.body["promotions"].as_array().unwrap();
    assert_eq!(promotions.len(), 1);
    assert_eq!(promotions[0]["source"], "FLASH_SALE");
    assert_eq!(uuid_of(&promotions[0]["promotionId"]), sale);
    assert_eq!(promotions[0]["amount"], 410);

    let group = app
        .checkout(&customer, json!({}), Some(&Uuid::now_v7().to_string()))
        .await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    assert_eq!(group.body["discount"], 410);
    assert_eq!(group.body["total"], 2 * 1_005 + 2_500 - 410);
    let kopi_order = group.body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| uuid_of(&o["merchantId"]) == shop.kopi.id)
        .cloned()
        .unwrap();
    assert_eq!(kopi_order["discount"], 410);
    assert_eq!(kopi_order["discounts"][0]["source"], "FLASH_SALE");
    assert_eq!(
        kopi_order["lines"][0]["unitPrice"], 1_005,
        "the list price stays the unit price"
    );
    assert_eq!(kopi_order["lines"][0]["discount"], 410);
    assert_eq!(remaining(&app, sale).await, 8);

    // The limit of two holds across checkouts.
    let third = buy(&app, &customer, shop.latte, 1).await;
    assert_eq!(
        (third.status, third.code()),
        (409, "flash_sale_limit"),
        "{:?}",
        third.body
    );
    let too_many = buy(&app, &app.customer("greedy").await, shop.latte, 3).await;
    assert_eq!(
        (too_many.status, too_many.code()),
        (409, "flash_sale_limit")
    );
    assert_eq!(remaining(&app, sale).await, 8, "refusals take nothing");
    app.stop().await;
}

async fn an_expired_order_gives_its_units_back(backend: Backend) {
    let app = TestApp::spawn_with_payment_window(backend, 2).await;
    let shop = shop(&app, 20).await;
    let sale = running_sale(&app, &shop, 800, 2, 2).await;
    let customer = app.customer("slow").await;
    let group = buy(&app, &customer, shop.latte, 2).await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    let sold_out = buy(&app, &app.customer("next").await, shop.latte, 1).await;
    assert_eq!((sold_out.status, sold_out.code()), (409, "sold_out"));
    let order = uuid_of(&group.body["orders"][0]["id"]);
    app.order_reaches(&customer, order, "EXPIRED").await;
    eventually(Duration::from_secs(10), "units back", || async {
        (remaining(&app, sale).await == 2).then_some(())
    })
    .await;
    // The sold-out answer is not remembered past the units coming back.
    let after = buy(&app, &app.customer("patient").await, shop.latte, 2).await;
    assert_eq!(after.status, 201, "{:?}", after.body);
    app.stop().await;
}
