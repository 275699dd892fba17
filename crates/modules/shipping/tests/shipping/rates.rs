//! Quotes through the public and internal APIs on both backends: zones from the merchant's
//! address to the destination, weight brackets and extra kilograms, volumetric weight, the
//! default weight, COD flags, currency filtering, merchants' choice of couriers, saved
//! addresses, refused tampering; and admins' rate tables, refused whole when wrong.

use serde_json::{json, Value};
use shipping::api::{MerchantParcel, ParcelItem, RateQuery, ShippingAddress, ShippingClient};
use testkit::{
    merchant_application, on_both_backends, uuid_of, Backend, MerchantFixture, Session, TestApp,
};
use uuid::Uuid;

on_both_backends!(
    zones_weights_and_flags_price_each_parcel,
    currencies_destinations_and_merchant_choices_filter_couriers,
    rate_tables_are_replaced_whole_or_not_at_all,
    quotes_are_computed_server_side_only,
);

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(
        backend,
        |c| {
            c.edit_section(|s: &mut shipping::config::ShippingConfig| {
                s.default_parcel_weight_grams = 2_000;
                s.simulator.enabled = false;
            })
            .expect("shipping section")
        },
        Vec::new(),
    )
    .await
}

/// An approved merchant in South Jakarta.
async fn jakarta_merchant(app: &TestApp, admin: &Session, name: &str) -> MerchantFixture {
    let slug = name.to_lowercase().replace(' ', "-");
    let owner = app.customer(&format!("{slug}-owner")).await;
    let mut application = merchant_application(name);
    application["address"] = json!({
        "line1": "Jl. Jend. Sudirman Kav. 52", "city": "Jakarta Selatan",
        "province": "DKI Jakarta", "postalCode": "12190", "country": "ID"
    });
    application["contactPhone"] = json!("+6281234567890");
    let applied = app
        .post("/api/v1/merchants", application, Some(&owner.access_token))
        .await;
    assert_eq!(applied.status, 201, "{:?}", applied.body);
    let id = uuid_of(&applied.body["id"]);
    let approved = app
        .post(
            &format!("/api/v1/admin/merchants/{id}/approve"),
            json!({}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(approved.status, 200, "{:?}", approved.body);
    MerchantFixture { id, owner }
}

/// A draft product (quotes need no listing) with a weight and dimensions; its variant.
async fn product(
    app: &TestApp,
    merchant: &MerchantFixture,
    category: Uuid,
    sku: &str,
    currency: &str,
    weight: Option<i64>,
    dimensions: Option<[i64; 3]>,
) -> Uuid {
    let mut body = json!({
        "merchantId": merchant.id, "name": {"en": sku}, "categoryId": category, "type": "PHYSICAL",
        "variants": [{"sku": sku, "price": 50_000, "currency": currency}]
    });
    if let Some(weight) = weight {
        body["weightGrams"] = json!(weight);
    }
    if let Some([l, w, h]) = dimensions {
        body["dimensions"] = json!({"lengthMm": l, "widthMm": w, "heightMm": h});
    }
    let created = app
        .post("/api/v1/products", body, Some(&merchant.owner.access_token))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    uuid_of(&created.body["variants"][0]["id"])
}

fn destination(city: &str, province: &str) -> Value {
    json!({"country": "ID", "province": province, "city": city})
}

async fn quote(app: &TestApp, body: Value) -> Value {
    let resp = app.post("/api/v1/shipping/rates", body, None).await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    resp.body
}

fn one_parcel(merchant: Uuid, items: &[(Uuid, i64)], to: Value) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|(v, q)| json!({"variantId": v, "quantity": q}))
        .collect();
    json!({"destination": to, "parcels": [{"merchantId": merchant, "items": items}]})
}

/// (courier, service) → the option of the first parcel.
fn option<'a>(quote: &'a Value, courier: &str, service: &str) -> Option<&'a Value> {
    quote["merchants"][0]["options"]
        .as_array()
        .expect("options")
        .iter()
        .find(|o| o["courierCode"] == courier && o["serviceCode"] == service)
}

fn amount(quote: &Value, courier: &str, service: &str) -> i64 {
    option(quote, courier, service)
        .and_then(|o| o["amount"].as_i64())
        .unwrap_or_else(|| panic!("no {courier} {service} in {quote}"))
}

async fn zones_weights_and_flags_price_each_parcel(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.admin().await;
    let shop = jakarta_merchant(&app, &admin, "Toko Jaya").await;
    let category = app.category(&admin, "home", None).await;
    let mug = product(&app, &shop, category, "MUG", "IDR", Some(800), None).await;
    // 500 g in a 40 × 30 × 20 cm box: 4 kg by volume at JNE's divisor of 6,000.
    let lamp = product(
        &app,
        &shop,
        category,
        "LAMP",
        "IDR",
        Some(500),
        Some([400, 300, 200]),
    )
    .await;
    // Catalog requires weights now; products listed before it did have none.
    let unknown_weight = product(&app, &shop, category, "RUG", "IDR", Some(100), None).await;
    platform::on_db!(&app.ctx().db, pool => sqlx::query(
        "UPDATE catalog_products SET weight_grams = NULL
         WHERE id = (SELECT product_id FROM catalog_variants WHERE id = $1)"
    ).bind(unknown_weight).execute(pool).await.map(|r| r.rows_affected()))
    .expect("a product without weight");

    // Same city: everyone, same-day and instant services too, cheapest first.
    let same_city = quote(
        &app,
        one_parcel(
            shop.id,
            &[(mug, 1)],
            destination("jakarta  SELATAN", "DKI Jakarta"),
        ),
    )
    .await;
    assert_eq!(
        same_city["currency"], "IDR",
        "the items' currency by default"
    );
    let options = same_city["merchants"][0]["options"]
        .as_array()
        .expect("options");
    let amounts: Vec<i64> = options
        .iter()
        .map(|o| o["amount"].as_i64().unwrap())
        .collect();
    assert!(
        amounts.windows(2).all(|w| w[0] <= w[1]),
        "cheapest first: {amounts:?}"
    );
    assert_eq!(
        (
            options[0]["courierCode"].as_str(),
            options[0]["amount"].as_i64()
        ),
        (Some("ANTERAJA"), Some(8_000))
    );
    assert_eq!(amount(&same_city, "JNE", "REGULAR"), 9_000);
    assert_eq!(amount(&same_city, "GOSEND", "SAME_DAY"), 15_000);
    assert_eq!(
        option(&same_city, "JNE", "REGULAR").unwrap()["chargeableWeightGrams"],
        800
    );
    assert_eq!(
        option(&same_city, "JNE", "REGULAR").unwrap()["etaMaxDays"],
        2
    );
    assert!(same_city["merchants"][0]["unavailableReason"].is_null());
    // COD per service.
    assert_eq!(option(&same_city, "JNE", "REGULAR").unwrap()["cod"], true);
    assert_eq!(option(&same_city, "JNE", "EXPRESS").unwrap()["cod"], false);

    // Another city of the province, another province: the zone's rows; no same-day.
    let province = quote(
        &app,
        one_parcel(
            shop.id,
            &[(mug, 1)],
            destination("Jakarta Barat", "DKI Jakarta"),
        ),
    )
    .await;
    assert_eq!(amount(&province, "JNE", "REGULAR"), 12_000);
    assert!(option(&province, "GOSEND", "SAME_DAY").is_none());
    let far = quote(
        &app,
        one_parcel(shop.id, &[(mug, 1)], destination("Bandung", "Jawa Barat")),
    )
    .await;
    assert_eq!(amount(&far, "JNE", "REGULAR"), 22_000);
    assert_eq!(option(&far, "JNE", "REGULAR").unwrap()["etaMaxDays"], 5);
    assert!(far["merchants"][0]["options"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["serviceCode"] != "SAME_DAY" && o["courierCode"] != "GOSEND"));

    // Two mugs: 1.6 kg, the first kilogram and one started kilogram more.
    let two = quote(
        &app,
        one_parcel(
            shop.id,
            &[(mug, 2)],
            destination("Jakarta Selatan", "DKI Jakarta"),
        ),
    )
    .await;
    assert_eq!(amount(&two, "JNE", "REGULAR"), 18_000);
    assert_eq!(
        option(&two, "JNE", "REGULAR").unwrap()["chargeableWeightGrams"],
        1_600
    );

    // The bulky lamp is charged on its volume: 4 kg.
    let bulky = quote(
        &app,
        one_parcel(
            shop.id,
            &[(lamp, 1)],
            destination("Jakarta Selatan", "DKI Jakarta"),
        ),
    )
    .await;
    assert_eq!(
        option(&bulky, "JNE", "REGULAR").unwrap()["chargeableWeightGrams"],
        4_000
    );
    assert_eq!(amount(&bulky, "JNE", "REGULAR"), 36_000);
    assert_eq!(amount(&bulky, "GOSEND", "SAME_DAY"), 15_000, "up to 5 kg");

    // A parcel whose items have no weight weighs the configured default (2 kg here).
    let default = quote(
        &app,
        one_parcel(
            shop.id,
            &[(unknown_weight, 1)],
            destination("Jakarta Selatan", "DKI Jakarta"),
        ),
    )
    .await;
    assert_eq!(
        option(&default, "JNE", "REGULAR").unwrap()["chargeableWeightGrams"],
        2_000
    );
    assert_eq!(amount(&default, "JNE", "REGULAR"), 18_000);

    // Orders and cart quote through the internal route, to a full address.
    let client = ShippingClient::new(app.ctx().services.clone(), "orders");
    let internal = client
        .rates(&RateQuery {
            currency: kernel::Currency::Idr,
            destination: ShippingAddress {
                recipient: "Sari".into(),
                phone: "+628111".into(),
                street: "Jl. Braga 1".into(),
                city: "Bandung".into(),
                province: Some("Jawa Barat".into()),
                postal_code: None,
                country: "ID".into(),
                latitude: None,
                longitude: None,
            },
            parcels: vec![MerchantParcel {
                merchant_id: shop.id,
                items: vec![ParcelItem {
                    variant_id: mug,
                    quantity: 1,
                }],
            }],
        })
        .await
        .expect("internal quote");
    let jne = internal.merchants[0]
        .options
        .iter()
        .find(|o| o.courier_code == "JNE" && o.service_code == "REGULAR")
        .expect("JNE REG");
    assert_eq!(jne.amount, 22_000);
    app.stop().await;
}

async fn currencies_destinations_and_merchant_choices_filter_couriers(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.admin().await;
    let jaya = jakarta_merchant(&app, &admin, "Toko Jaya").await;
    let kopi = app.merchant("Kopi Phnom Penh").await;
    let category = app.category(&admin, "home", None).await;
    let mug = product(&app, &jaya, category, "MUG", "IDR", Some(800), None).await;
    let tea = product(&app, &kopi, category, "TEA", "USD", Some(300), None).await;
    let voucher = {
        let created = app
            .post(
                "/api/v1/products",
                json!({"merchantId": jaya.id, "name": {"en": "Gift"}, "categoryId": category,
                    "type": "VOUCHER", "variants": [{"sku": "GIFT", "price": 10_000, "currency": "IDR"}]}),
                Some(&jaya.owner.access_token),
            )
            .await;
        assert_eq!(created.status, 201, "{:?}", created.body);
        uuid_of(&created.body["variants"][0]["id"])
    };

    // Rates in another currency are not offered: Indonesian couriers price in rupiah.
    let in_usd = quote(
        &app,
        json!({"currency": "USD", "destination": destination("Jakarta Selatan", "DKI Jakarta"),
            "parcels": [{"merchantId": jaya.id, "items": [{"variantId": mug, "quantity": 1}]}]}),
    )
    .await;
    assert_eq!(in_usd["merchants"][0]["options"], json!([]));
    assert_eq!(
        in_usd["merchants"][0]["unavailableReason"],
        "CURRENCY_NOT_SERVED"
    );

    // Two merchants in one quote, each priced by its own couriers; a Cambodian merchant's
    // couriers do not reach Jakarta.
    let both = quote(
        &app,
        json!({"currency": "USD", "destination": {"country": "KH", "city": "Phnom Penh"},
            "parcels": [{"merchantId": kopi.id, "items": [{"variantId": tea, "quantity": 1}]},
                        {"merchantId": jaya.id, "items": [{"variantId": mug, "quantity": 1}]}]}),
    )
    .await;
    let kopi_options = both["merchants"][0]["options"].as_array().unwrap();
    assert!(kopi_options
        .iter()
        .any(|o| o["courierCode"] == "JNT_KH" && o["amount"] == 150));
    assert!(kopi_options.iter().any(|o| o["courierCode"] == "GRAB_KH"));
    assert!(
        kopi_options.iter().all(|o| o["courierCode"] != "SIMULATOR"),
        "simulator off"
    );
    assert_eq!(
        both["merchants"][1]["unavailableReason"],
        "CURRENCY_NOT_SERVED"
    );
    let abroad = quote(
        &app,
        json!({"currency": "IDR", "destination": {"country": "KH", "city": "Phnom Penh"},
            "parcels": [{"merchantId": jaya.id, "items": [{"variantId": mug, "quantity": 1}]}]}),
    )
    .await;
    assert_eq!(
        abroad["merchants"][0]["unavailableReason"],
        "NO_COURIER_FOR_DESTINATION"
    );
    // Items priced in two currencies need the currency said.
    let mixed = app
        .post(
            "/api/v1/shipping/rates",
            json!({"destination": {"country": "KH", "city": "Phnom Penh"},
                "parcels": [{"merchantId": kopi.id, "items": [{"variantId": tea, "quantity": 1}]},
                            {"merchantId": jaya.id, "items": [{"variantId": mug, "quantity": 1}]}]}),
            None,
        )
        .await;
    assert_eq!(
        (mixed.status, mixed.body["errors"][0]["field"].as_str()),
        (422, Some("currency"))
    );
    // Vouchers do not travel.
    let gift = quote(
        &app,
        one_parcel(
            jaya.id,
            &[(voucher, 1)],
            destination("Bandung", "Jawa Barat"),
        ),
    )
    .await;
    assert_eq!(gift["merchants"][0]["unavailableReason"], "NOTHING_TO_SHIP");

    // Until it chooses, a merchant ships with every courier of its country.
    let path = format!("/api/v1/merchants/{}/shipping/couriers", jaya.id);
    let before = app.get(&path, None).await;
    assert_eq!(before.status, 200, "{:?}", before.body);
    assert_eq!(before.body["chosen"], false);
    assert_eq!(
        before.body["couriers"],
        json!(["ANTERAJA", "GOSEND", "JNE", "JNT", "SICEPAT"])
    );
    // Its owner drops all but JNE and SiCepat; nobody else may, and only its country's.
    let stranger = app.customer("stranger").await;
    let refused = app
        .put(
            &path,
            json!({"couriers": ["JNE"]}),
            Some(&stranger.access_token),
        )
        .await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    let foreign = app
        .put(
            &path,
            json!({"couriers": ["JNE", "VET", "NOPE"]}),
            Some(&jaya.owner.access_token),
        )
        .await;
    assert_eq!(foreign.status, 422, "{:?}", foreign.body);
    let fields: Vec<&str> = foreign.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["couriers[1]", "couriers[2]"]);
    let chosen = app
        .put(
            &path,
            json!({"couriers": ["sicepat", "JNE"]}),
            Some(&jaya.owner.access_token),
        )
        .await;
    assert_eq!(chosen.status, 200, "{:?}", chosen.body);
    assert_eq!(
        (
            chosen.body["chosen"].clone(),
            chosen.body["couriers"].clone()
        ),
        (json!(true), json!(["JNE", "SICEPAT"]))
    );
    let narrowed = quote(
        &app,
        one_parcel(
            jaya.id,
            &[(mug, 1)],
            destination("Jakarta Selatan", "DKI Jakarta"),
        ),
    )
    .await;
    let couriers: std::collections::BTreeSet<&str> = narrowed["merchants"][0]["options"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["courierCode"].as_str())
        .collect();
    assert_eq!(couriers.into_iter().collect::<Vec<_>>(), ["JNE", "SICEPAT"]);
    // Shipping with no courier at all.
    app.put(
        &path,
        json!({"couriers": []}),
        Some(&jaya.owner.access_token),
    )
    .await;
    let none = quote(
        &app,
        one_parcel(
            jaya.id,
            &[(mug, 1)],
            destination("Jakarta Selatan", "DKI Jakarta"),
        ),
    )
    .await;
    assert_eq!(
        none["merchants"][0]["unavailableReason"],
        "NO_COURIER_ENABLED"
    );

    // A signed-in customer quotes to a saved address; nobody else's.
    let customer = app.customer("sari").await;
    let saved = app
        .post(
            "/api/v1/users/me/addresses",
            json!({"recipient": "Sari", "phone": "+6281234567890", "street": "Jl. Braga 1",
                "city": "Bandung", "province": "Jawa Barat", "country": "ID"}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(saved.status, 201, "{:?}", saved.body);
    let address = uuid_of(&saved.body["id"]);
    app.put(
        &path,
        json!({"couriers": ["JNE"]}),
        Some(&jaya.owner.access_token),
    )
    .await;
    let body = json!({"addressId": address,
        "parcels": [{"merchantId": jaya.id, "items": [{"variantId": mug, "quantity": 1}]}]});
    let mine = app
        .post(
            "/api/v1/shipping/rates",
            body.clone(),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(mine.status, 200, "{:?}", mine.body);
    assert_eq!(amount(&mine.body, "JNE", "REGULAR"), 22_000);
    let anonymous = app.post("/api/v1/shipping/rates", body.clone(), None).await;
    assert_eq!(anonymous.status, 401, "{:?}", anonymous.body);
    let theirs = app
        .post("/api/v1/shipping/rates", body, Some(&stranger.access_token))
        .await;
    assert_eq!((theirs.status, theirs.code()), (404, "address_not_found"));

    // The public courier list, by country.
    let couriers = app.get("/api/v1/shipping/couriers?country=KH", None).await;
    let codes: Vec<&str> = couriers
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["code"].as_str())
        .collect();
    assert_eq!(codes, ["GRAB_KH", "JNT_KH", "VET"]);
    app.stop().await;
}

async fn rate_tables_are_replaced_whole_or_not_at_all(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.admin().await;
    let shop = jakarta_merchant(&app, &admin, "Toko Jaya").await;
    let category = app.category(&admin, "home", None).await;
    let mug = product(&app, &shop, category, "MUG", "IDR", Some(800), None).await;
    let path = "/api/v1/admin/shipping/couriers/JNE/rates";
    let before = app.get(path, Some(&admin.access_token)).await;
    assert_eq!(before.status, 200, "{:?}", before.body);
    assert_eq!(before.body["currency"], "IDR");
    assert_eq!(before.body["version"], 1);
    let customer = app.customer("curious").await;
    assert_eq!(
        app.get(path, Some(&customer.access_token)).await.status,
        403
    );

    let table = |brackets: Value| {
        json!({"active": true, "volumetricDivisor": 6000, "services": [{
            "service": "REGULAR", "name": "JNE REG", "active": true, "cod": true, "maxWeightGrams": 30000,
            "zones": [{"zone": "SAME_CITY", "etaMinDays": 1, "etaMaxDays": 2, "brackets": brackets, "extraPerKg": 5000}]
        }]})
    };
    // Overlapping brackets, a gap, a free bracket: refused with every field named, and
    // nothing changed.
    for (brackets, field) in [
        (
            json!([{"fromGrams": 0, "toGrams": 1500, "amount": 9000}, {"fromGrams": 1000, "toGrams": 3000, "amount": 14000}]),
            "services[0].zones[0].brackets[1].fromGrams",
        ),
        (
            json!([{"fromGrams": 0, "toGrams": 1000, "amount": 9000}, {"fromGrams": 2000, "toGrams": 3000, "amount": 14000}]),
            "services[0].zones[0].brackets[1].fromGrams",
        ),
        (
            json!([{"fromGrams": 0, "toGrams": 1000, "amount": -1}]),
            "services[0].zones[0].brackets[0].amount",
        ),
    ] {
        let refused = app
            .put(path, table(brackets), Some(&admin.access_token))
            .await;
        assert_eq!(
            (refused.status, refused.code()),
            (422, "invalid_rate_table"),
            "{:?}",
            refused.body
        );
        assert_eq!(
            refused.body["errors"][0]["field"], field,
            "{:?}",
            refused.body
        );
    }
    let mut same_day_far = table(json!([{"fromGrams": 0, "toGrams": 1000, "amount": 9000}]));
    same_day_far["services"][0]["service"] = json!("SAME_DAY");
    same_day_far["services"][0]["zones"][0]["zone"] = json!("OTHER_PROVINCE");
    same_day_far["services"][0]["zones"][0]["etaMaxDays"] = json!(0);
    same_day_far["services"][0]["zones"][0]["etaMinDays"] = json!(0);
    let refused = app.put(path, same_day_far, Some(&admin.access_token)).await;
    assert_eq!(refused.code(), "invalid_rate_table", "{:?}", refused.body);
    let unknown_field = app
        .put(
            path,
            json!({"active": true, "volumetricDivisor": 6000, "services": [], "currency": "USD"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(unknown_field.status, 422, "{:?}", unknown_field.body);
    assert_eq!(
        app.put(
            path,
            table(json!([{"fromGrams": 0, "toGrams": 1000, "amount": 1}])),
            Some(&customer.access_token)
        )
        .await
        .status,
        403
    );
    let unchanged = app.get(path, Some(&admin.access_token)).await;
    assert_eq!(
        unchanged.body, before.body,
        "a refused table changes nothing"
    );
    let still = quote(
        &app,
        one_parcel(
            shop.id,
            &[(mug, 1)],
            destination("Jakarta Selatan", "DKI Jakarta"),
        ),
    )
    .await;
    assert_eq!(amount(&still, "JNE", "REGULAR"), 9_000);
    assert_eq!(amount(&still, "JNE", "EXPRESS"), 18_000);

    // A good table replaces the whole table at once: quotes follow it (EXPRESS is gone).
    let good = table(
        json!([{"fromGrams": 1000, "toGrams": 3000, "amount": 14000},
                            {"fromGrams": 0, "toGrams": 1000, "amount": 10000}]),
    );
    let replaced = app.put(path, good, Some(&admin.access_token)).await;
    assert_eq!(replaced.status, 200, "{:?}", replaced.body);
    assert_eq!(replaced.body["version"], 2);
    assert_eq!(
        replaced.body["table"]["services"][0]["zones"][0]["brackets"][0]["fromGrams"], 0,
        "stored sorted"
    );
    let after = quote(
        &app,
        one_parcel(
            shop.id,
            &[(mug, 1)],
            destination("Jakarta Selatan", "DKI Jakarta"),
        ),
    )
    .await;
    assert_eq!(amount(&after, "JNE", "REGULAR"), 10_000);
    assert!(option(&after, "JNE", "EXPRESS").is_none());
    let heavy = quote(
        &app,
        one_parcel(
            shop.id,
            &[(mug, 5)],
            destination("Jakarta Selatan", "DKI Jakarta"),
        ),
    )
    .await;
    assert_eq!(
        amount(&heavy, "JNE", "REGULAR"),
        14_000 + 5_000,
        "4 kg: the last bracket and one kilogram more"
    );
    // The other zones are gone with the old table.
    let far = quote(
        &app,
        one_parcel(shop.id, &[(mug, 1)], destination("Bandung", "Jawa Barat")),
    )
    .await;
    assert!(option(&far, "JNE", "REGULAR").is_none());
    // An inactive courier is offered to no one.
    let mut off = table(json!([{"fromGrams": 0, "toGrams": 1000, "amount": 10000}]));
    off["active"] = json!(false);
    assert_eq!(
        app.put(path, off, Some(&admin.access_token)).await.status,
        200
    );
    let without = quote(
        &app,
        one_parcel(
            shop.id,
            &[(mug, 1)],
            destination("Jakarta Selatan", "DKI Jakarta"),
        ),
    )
    .await;
    assert!(option(&without, "JNE", "REGULAR").is_none());
    let unknown = app
        .get(
            "/api/v1/admin/shipping/couriers/NOPE/rates",
            Some(&admin.access_token),
        )
        .await;
    assert_eq!((unknown.status, unknown.code()), (404, "courier_not_found"));
    app.stop().await;
}

async fn quotes_are_computed_server_side_only(backend: Backend) {
    let app = spawn(backend).await;
    let admin = app.admin().await;
    let shop = jakarta_merchant(&app, &admin, "Toko Jaya").await;
    let other = jakarta_merchant(&app, &admin, "Toko Lain").await;
    let category = app.category(&admin, "home", None).await;
    let mug = product(&app, &shop, category, "MUG", "IDR", Some(800), None).await;
    let theirs = product(&app, &other, category, "THEIRS", "IDR", Some(100), None).await;
    let to = destination("Jakarta Selatan", "DKI Jakarta");
    // Prices, weights and chosen options are not inputs: unknown fields are refused anywhere.
    for body in [
        json!({"destination": to, "amount": 1, "parcels": [{"merchantId": shop.id, "items": [{"variantId": mug, "quantity": 1}]}]}),
        json!({"destination": to, "parcels": [{"merchantId": shop.id, "options": [], "items": [{"variantId": mug, "quantity": 1}]}]}),
        json!({"destination": to, "parcels": [{"merchantId": shop.id, "items": [{"variantId": mug, "quantity": 1, "weightGrams": 1}]}]}),
        json!({"destination": {"country": "ID", "city": "Jakarta Selatan", "zone": "SAME_CITY"}, "parcels": [{"merchantId": shop.id, "items": [{"variantId": mug, "quantity": 1}]}]}),
    ] {
        let refused = app.post("/api/v1/shipping/rates", body.clone(), None).await;
        assert_eq!(
            (refused.status, refused.code()),
            (422, "validation_failed"),
            "{body}: {:?}",
            refused.body
        );
    }
    // Items are the merchant's, quantities sane, the destination real.
    for (body, field) in [
        (
            one_parcel(shop.id, &[(theirs, 1)], to.clone()),
            "parcels[0].items[0].variantId",
        ),
        (
            one_parcel(shop.id, &[(Uuid::new_v4(), 1)], to.clone()),
            "parcels[0].items[0].variantId",
        ),
        (
            one_parcel(shop.id, &[(mug, 0)], to.clone()),
            "parcels[0].items[0].quantity",
        ),
        (
            one_parcel(
                shop.id,
                &[(mug, 1)],
                json!({"country": "Indonesia", "city": "Jakarta"}),
            ),
            "destination.country",
        ),
        (
            json!({"parcels": [{"merchantId": shop.id, "items": [{"variantId": mug, "quantity": 1}]}]}),
            "destination",
        ),
    ] {
        let refused = app.post("/api/v1/shipping/rates", body, None).await;
        assert_eq!(refused.status, 422, "{:?}", refused.body);
        assert_eq!(
            refused.body["errors"][0]["field"], field,
            "{:?}",
            refused.body
        );
    }
    // The same request always gets the table's price.
    let first = quote(&app, one_parcel(shop.id, &[(mug, 1)], to.clone())).await;
    let again = quote(&app, one_parcel(shop.id, &[(mug, 1)], to)).await;
    assert_eq!(first, again);
    assert_eq!(amount(&first, "JNE", "REGULAR"), 9_000);
    app.stop().await;
}
