//! Search through the public API on both backends: a relevance table over a multilingual
//! catalog (typos, synonyms, Khmer, Indonesian stems, facets, geo), freshness of every kind
//! of change, deep paging, bad input, and an index that is rebuilt when missing or corrupt
//! and rebuilt online on demand.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use testkit::{eventually, on_both_backends, uuid_of, Backend, MerchantFixture, Session, TestApp};
use uuid::Uuid;

on_both_backends!(
    the_relevance_table_holds_over_a_multilingual_catalog,
    changes_are_searchable_within_the_bound,
    pages_follow_cursors_and_bad_input_changes_nothing,
    a_missing_or_corrupt_index_is_rebuilt_and_reindex_answers_throughout,
);

const WAIT: Duration = Duration::from_secs(20);
/// How soon a change must be searchable. The target is 1 s in one process; the tests allow
/// 2 s for a loaded CI machine running debug builds (bench/search.sh measures the real one).
const FRESH: Duration = Duration::from_secs(2);

const PHNOM_PENH: (f64, f64) = (11.5564, 104.9282);
const SIEM_REAP: (f64, f64) = (13.3633, 103.8564);

fn query(params: &[(&str, &str)]) -> String {
    format!(
        "/api/v1/search?{}",
        serde_urlencoded::to_string(params).expect("query string")
    )
}

async fn search(app: &TestApp, params: &[(&str, &str)]) -> Value {
    let resp = app.get(&query(params), None).await;
    assert_eq!(resp.status, 200, "{params:?}: {:?}", resp.body);
    resp.body
}

fn names(results: &Value) -> Vec<String> {
    results["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["name"]["en"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn brand(app: &TestApp, admin: &Session, name: &str) -> Uuid {
    let resp = app
        .post(
            "/api/v1/brands",
            json!({"slug": name.to_lowercase().replace(' ', "-"), "name": name}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    uuid_of(&resp.body["id"])
}

struct Item<'a> {
    en: &'a str,
    km: Option<&'a str>,
    id: Option<&'a str>,
    description: &'a str,
    category: Uuid,
    brand: Option<Uuid>,
    price: i64,
    currency: &'a str,
    stock: i64,
    attributes: Value,
}

fn item<'a>(
    en: &'a str,
    km: Option<&'a str>,
    id: Option<&'a str>,
    category: Uuid,
    price: i64,
) -> Item<'a> {
    Item {
        en,
        km,
        id,
        description: "",
        category,
        brand: None,
        price,
        currency: "USD",
        stock: 10,
        attributes: json!({}),
    }
}

/// A listed physical product with stock; returns (product, variant, sku).
async fn listed(
    app: &TestApp,
    merchant: &MerchantFixture,
    admin: &Session,
    item: Item<'_>,
) -> (Uuid, Uuid, String) {
    let sku = format!("SKU-{}", Uuid::now_v7().simple());
    let mut name = json!({"en": item.en});
    if let Some(km) = item.km {
        name["km"] = json!(km);
    }
    if let Some(id) = item.id {
        name["id"] = json!(id);
    }
    let mut body = json!({
        "merchantId": merchant.id, "name": name, "categoryId": item.category, "type": "PHYSICAL",
        "attributes": item.attributes, "weightGrams": 300,
        "variants": [{"sku": sku, "price": item.price, "currency": item.currency}]
    });
    if !item.description.is_empty() {
        body["description"] = json!({"en": item.description});
    }
    if let Some(brand) = item.brand {
        body["brandId"] = json!(brand);
    }
    let resp = app
        .post("/api/v1/products", body, Some(&merchant.owner.access_token))
        .await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    let product = uuid_of(&resp.body["id"]);
    let variant = uuid_of(&resp.body["variants"][0]["id"]);
    app.activate_product(merchant, admin, product).await;
    if item.stock > 0 {
        app.set_stock(merchant, &sku, item.stock).await;
    }
    (product, variant, sku)
}

/// A public voucher offer located at `at`; returns the offer id.
#[allow(clippy::too_many_arguments)]
async fn voucher(
    app: &TestApp,
    merchant: &MerchantFixture,
    admin: &Session,
    en: &str,
    id: &str,
    category: Uuid,
    price: i64,
    at: (f64, f64),
    terms: Value,
) -> Uuid {
    let sku = format!("V-{}", Uuid::now_v7().simple());
    let resp = app
        .post(
            "/api/v1/products",
            json!({"merchantId": merchant.id, "name": {"en": en, "id": id}, "categoryId": category,
                   "type": "VOUCHER", "variants": [{"sku": sku, "price": price, "currency": "USD"}]}),
            Some(&merchant.owner.access_token),
        )
        .await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    let product = uuid_of(&resp.body["id"]);
    let variant = uuid_of(&resp.body["variants"][0]["id"]);
    let mut body = json!({"variantId": variant, "kind": "GIFT_CARD", "faceValue": price, "validDays": 90,
                          "location": {"latitude": at.0, "longitude": at.1}});
    if let (Some(base), Some(extra)) = (body.as_object_mut(), terms.as_object()) {
        base.extend(extra.clone());
    }
    let resp = app
        .post("/api/v1/vouchers", body, Some(&merchant.owner.access_token))
        .await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    let offer = uuid_of(&resp.body["id"]);
    app.activate_product(merchant, admin, product).await;
    offer
}

async fn indexed(app: &TestApp, total: u64) {
    eventually(WAIT, &format!("{total} documents searchable"), || async {
        // 503 while a first build runs.
        let results = app.get(&query(&[("limit", "1")]), None).await;
        (results.status == 200 && results.body["total"] == total).then_some(())
    })
    .await;
}

struct Catalog {
    admin: Session,
    kita: MerchantFixture,
    fashion: Uuid,
    shoes: Uuid,
    phones: Uuid,
    swoosh: Uuid,
}

/// Twelve products and three voucher offers of two merchants, named in en/km/id.
async fn catalog(app: &TestApp) -> Catalog {
    let admin = app.admin().await;
    let maju = app.merchant("Toko Maju").await;
    let kita = app.merchant("Kopi Kita").await;
    let fashion = app.category(&admin, "fashion", None).await;
    let shoes = app.category(&admin, "shoes", Some(fashion)).await;
    let clothing = app.category(&admin, "clothing", Some(fashion)).await;
    let electronics = app.category(&admin, "electronics", None).await;
    let phones = app.category(&admin, "phones", Some(electronics)).await;
    let audio = app.category(&admin, "audio", Some(electronics)).await;
    let food = app.category(&admin, "food", None).await;
    let coffee = app.category(&admin, "coffee", Some(food)).await;
    let home = app.category(&admin, "home", None).await;
    let experiences = app.category(&admin, "experiences", None).await;
    let swoosh = brand(app, &admin, "Swoosh").await;
    let nova = brand(app, &admin, "Nova").await;

    let mut shoe = item(
        "Running Shoes",
        Some("ស្បែកជើងរត់"),
        Some("Sepatu Lari Pria"),
        shoes,
        4500,
    );
    shoe.description = "Lightweight mesh running shoes for men";
    shoe.brand = Some(swoosh);
    listed(app, &maju, &admin, shoe).await;
    let mut sandals = item(
        "Leather Sandals",
        Some("ស្បែកជើងសង្រែក"),
        Some("Sandal Kulit"),
        shoes,
        2500,
    );
    sandals.description = "Handmade leather sandals";
    listed(app, &maju, &admin, sandals).await;
    listed(
        app,
        &maju,
        &admin,
        item(
            "Cotton T-Shirt",
            Some("អាវយឺតកប្បាស"),
            Some("Kaos Katun"),
            clothing,
            900,
        ),
    )
    .await;
    let mut batik = item(
        "Batik Shirt",
        None,
        Some("Kemeja Batik Tulis"),
        clothing,
        250_000,
    );
    batik.currency = "IDR";
    listed(app, &maju, &admin, batik).await;
    let mut phone = item(
        "Smartphone X200",
        Some("ទូរស័ព្ទឆ្លាតវៃ X200"),
        Some("Ponsel Pintar X200"),
        phones,
        29_900,
    );
    phone.brand = Some(nova);
    phone.attributes = json!({"storage": "128GB", "colour": "black"});
    listed(app, &maju, &admin, phone).await;
    let mut case = item("Phone Case", None, Some("Casing Ponsel"), phones, 700);
    case.stock = 0;
    listed(app, &maju, &admin, case).await;
    listed(
        app,
        &maju,
        &admin,
        item(
            "Wireless Headphones",
            Some("កាសឥតខ្សែ"),
            Some("Headphone Nirkabel"),
            audio,
            5900,
        ),
    )
    .await;

    listed(
        app,
        &kita,
        &admin,
        item(
            "Arabica Coffee Beans",
            Some("គ្រាប់កាហ្វេអារ៉ាប៊ីកា"),
            Some("Biji Kopi Arabika"),
            coffee,
            1200,
        ),
    )
    .await;
    listed(
        app,
        &kita,
        &admin,
        item(
            "Iced Coffee Maker",
            None,
            Some("Pembuat Kopi Es"),
            coffee,
            3500,
        ),
    )
    .await;
    listed(
        app,
        &kita,
        &admin,
        item("Café Latte Mug", None, Some("Mug Kafe"), home, 800),
    )
    .await;
    listed(
        app,
        &kita,
        &admin,
        item(
            "Rice Cooker",
            Some("ឆ្នាំងដាំបាយ"),
            Some("Penanak Nasi"),
            home,
            4200,
        ),
    )
    .await;
    listed(
        app,
        &kita,
        &admin,
        item(
            "Mango Juice",
            Some("ទឹកផ្លែស្វាយ"),
            Some("Jus Mangga"),
            food,
            150,
        ),
    )
    .await;

    voucher(
        app,
        &kita,
        &admin,
        "Spa Massage 60 Minutes",
        "Pijat Spa 60 Menit",
        experiences,
        2000,
        PHNOM_PENH,
        json!({}),
    )
    .await;
    voucher(
        app,
        &kita,
        &admin,
        "Coffee Tasting for Two",
        "Cicip Kopi Berdua",
        experiences,
        1500,
        SIEM_REAP,
        json!({}),
    )
    .await;
    voucher(
        app,
        &kita,
        &admin,
        "Pizza Dinner",
        "Makan Malam Pizza",
        experiences,
        2500,
        (11.5500, 104.9200),
        json!({}),
    )
    .await;
    indexed(app, 15).await;
    Catalog {
        admin,
        kita,
        fashion,
        shoes,
        phones,
        swoosh,
    }
}

enum Expect<'a> {
    /// This is the first hit.
    Top(&'a str),
    /// These are among the hits.
    Contains(&'a [&'a str]),
    /// The hits are exactly these, in any order.
    Exactly(&'a [&'a str]),
    /// The hits are these, in this order.
    Ordered(&'a [&'a str]),
}

async fn the_relevance_table_holds_over_a_multilingual_catalog(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let c = catalog(&app).await;
    let synonyms = app
        .put(
            "/api/v1/admin/search/synonyms",
            json!({"groups": [["hp", "handphone", "ponsel", "smartphone"], ["massage", "pijat", "ម៉ាស្សា"]]}),
            Some(&c.admin.access_token),
        )
        .await;
    assert_eq!(synonyms.status, 200, "{:?}", synonyms.body);

    let (shoes, fashion, phones, swoosh) = (
        c.shoes.to_string(),
        c.fashion.to_string(),
        c.phones.to_string(),
        c.swoosh.to_string(),
    );
    let kita = c.kita.id.to_string();
    let pp = format!("{},{}", PHNOM_PENH.0, PHNOM_PENH.1);
    let table: Vec<(Vec<(&str, &str)>, Expect)> = vec![
        (vec![("q", "running shoes")], Expect::Top("Running Shoes")),
        (vec![("q", "runing shoes")], Expect::Top("Running Shoes")),
        (vec![("q", "sepatu")], Expect::Exactly(&["Running Shoes"])),
        (vec![("q", "sepatunya")], Expect::Top("Running Shoes")),
        (vec![("q", "berlari")], Expect::Top("Running Shoes")),
        (vec![("q", "the shoes")], Expect::Top("Running Shoes")),
        (
            vec![("q", "ស្បែកជើង")],
            Expect::Exactly(&["Running Shoes", "Leather Sandals"]),
        ),
        (
            vec![("q", "កាហ្វេ")],
            Expect::Exactly(&["Arabica Coffee Beans"]),
        ),
        (vec![("q", "cafe")], Expect::Top("Café Latte Mug")),
        (vec![("q", "CAFÉ")], Expect::Top("Café Latte Mug")),
        (vec![("q", "smartphone")], Expect::Top("Smartphone X200")),
        (vec![("q", "smartphne")], Expect::Top("Smartphone X200")),
        (vec![("q", "ponsel pintar")], Expect::Top("Smartphone X200")),
        (
            vec![("q", "hp")],
            Expect::Contains(&["Smartphone X200", "Phone Case"]),
        ),
        (
            vec![("q", "kopi")],
            Expect::Contains(&[
                "Arabica Coffee Beans",
                "Iced Coffee Maker",
                "Coffee Tasting for Two",
            ]),
        ),
        (
            vec![("q", "coffee")],
            Expect::Contains(&[
                "Arabica Coffee Beans",
                "Iced Coffee Maker",
                "Coffee Tasting for Two",
            ]),
        ),
        (
            vec![("q", "coffee"), ("type", "voucher")],
            Expect::Exactly(&["Coffee Tasting for Two"]),
        ),
        (
            vec![("q", "coffee"), ("type", "product")],
            Expect::Exactly(&["Arabica Coffee Beans", "Iced Coffee Maker"]),
        ),
        (
            vec![("categoryId", &shoes)],
            Expect::Exactly(&["Running Shoes", "Leather Sandals"]),
        ),
        (
            vec![("categoryId", &fashion)],
            Expect::Exactly(&[
                "Running Shoes",
                "Leather Sandals",
                "Cotton T-Shirt",
                "Batik Shirt",
            ]),
        ),
        (
            vec![("brandId", &swoosh)],
            Expect::Exactly(&["Running Shoes"]),
        ),
        (
            vec![
                ("currency", "USD"),
                ("minPrice", "1000"),
                ("maxPrice", "5000"),
                ("type", "product"),
            ],
            Expect::Exactly(&[
                "Running Shoes",
                "Leather Sandals",
                "Arabica Coffee Beans",
                "Iced Coffee Maker",
                "Rice Cooker",
            ]),
        ),
        (
            vec![
                ("type", "product"),
                ("currency", "USD"),
                ("sort", "price_asc"),
                ("limit", "3"),
            ],
            Expect::Ordered(&["Mango Juice", "Phone Case", "Café Latte Mug"]),
        ),
        (
            vec![("currency", "USD"), ("sort", "price_desc"), ("limit", "1")],
            Expect::Ordered(&["Smartphone X200"]),
        ),
        (
            vec![("near", &pp), ("radiusKm", "10")],
            Expect::Exactly(&["Spa Massage 60 Minutes", "Pizza Dinner"]),
        ),
        (
            vec![
                ("near", "13.36,103.86"),
                ("sort", "distance"),
                ("type", "voucher"),
            ],
            Expect::Ordered(&[
                "Coffee Tasting for Two",
                "Spa Massage 60 Minutes",
                "Pizza Dinner",
            ]),
        ),
        (
            vec![("q", "headphone nirkabel")],
            Expect::Top("Wireless Headphones"),
        ),
        (
            vec![("q", "wireles headphnes")],
            Expect::Top("Wireless Headphones"),
        ),
        (vec![("q", "penanak nasi")], Expect::Top("Rice Cooker")),
        (vec![("q", "ឆ្នាំងដាំបាយ")], Expect::Exactly(&["Rice Cooker"])),
        (vec![("q", "batik")], Expect::Exactly(&["Batik Shirt"])),
        (vec![("q", "mangga")], Expect::Top("Mango Juice")),
        (vec![("q", "ទឹកផ្លែស្វាយ")], Expect::Exactly(&["Mango Juice"])),
        (
            vec![("q", "massage")],
            Expect::Top("Spa Massage 60 Minutes"),
        ),
        (vec![("q", "pijat")], Expect::Top("Spa Massage 60 Minutes")),
        (vec![("q", "ម៉ាស្សា")], Expect::Top("Spa Massage 60 Minutes")),
        (vec![("q", "zzqqxx")], Expect::Exactly(&[])),
        (
            vec![("inStock", "true"), ("categoryId", &phones)],
            Expect::Exactly(&["Smartphone X200"]),
        ),
        (vec![("q", "128gb")], Expect::Exactly(&["Smartphone X200"])),
        (
            vec![("q", "toko maju"), ("limit", "50")],
            Expect::Contains(&["Running Shoes", "Smartphone X200"]),
        ),
        (
            vec![("merchantId", &kita), ("type", "voucher")],
            Expect::Exactly(&[
                "Spa Massage 60 Minutes",
                "Coffee Tasting for Two",
                "Pizza Dinner",
            ]),
        ),
    ];
    assert!(table.len() >= 30);
    for (params, expect) in &table {
        let results = search(&app, params).await;
        let found = names(&results);
        let ok = match expect {
            Expect::Top(name) => found.first().map(String::as_str) == Some(*name),
            Expect::Contains(wanted) => wanted.iter().all(|w| found.iter().any(|f| f == w)),
            Expect::Exactly(wanted) => {
                let found: BTreeSet<&str> = found.iter().map(String::as_str).collect();
                found == wanted.iter().copied().collect() && results["total"] == wanted.len()
            }
            Expect::Ordered(wanted) => {
                found == wanted.iter().map(|w| w.to_string()).collect::<Vec<_>>()
            }
        };
        assert!(ok, "{params:?}: got {found:?} ({})", results["total"]);
    }
    // A query found only by forgiving typos says so.
    assert_eq!(
        search(&app, &[("q", "runing shoes")]).await["corrected"],
        true
    );
    assert_eq!(
        search(&app, &[("q", "running shoes")]).await["corrected"],
        false
    );

    // Facets count every hit, not only the page.
    assert!(search(&app, &[("q", "coffee")])
        .await
        .get("facets")
        .is_none());
    let coffee = search(&app, &[("q", "coffee"), ("limit", "1"), ("facets", "true")]).await;
    let types = &coffee["facets"]["types"];
    let count = |value: &str| {
        types
            .as_array()
            .and_then(|t| t.iter().find(|v| v["value"] == value))
            .map(|v| v["count"].clone())
    };
    assert_eq!(count("product"), Some(json!(2)), "{types}");
    assert_eq!(count("voucher"), Some(json!(1)), "{types}");
    let in_fashion = search(&app, &[("categoryId", &fashion), ("facets", "true")]).await;
    let children = in_fashion["facets"]["categories"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        children
            .iter()
            .any(|c| c["value"] == shoes && c["count"] == 2 && c["label"]["en"] == "shoes"),
        "{children:?}"
    );
    let brands =
        search(&app, &[("q", "shoes"), ("facets", "true")]).await["facets"]["brands"].clone();
    assert!(
        brands.as_array().is_some_and(|b| b
            .iter()
            .any(|v| v["value"] == swoosh && v["label"]["en"] == "Swoosh")),
        "{brands}"
    );

    // Distances are answered with the hits.
    let near = search(
        &app,
        &[("near", &pp), ("sort", "distance"), ("type", "voucher")],
    )
    .await;
    assert!(
        near["items"][0]["distanceKm"]
            .as_f64()
            .is_some_and(|d| d < 1.0),
        "{near}"
    );

    // Autocomplete: names, categories and brands by their first letters, in any language.
    for (typed, wanted) in [
        ("sep", "Sepatu Lari Pria"),
        ("smart", "Smartphone X200"),
        ("swo", "Swoosh"),
        ("sho", "shoes"),
        ("ឆ្នាំង", "ឆ្នាំងដាំបាយ"),
        ("lari", "Sepatu Lari Pria"),
    ] {
        let resp = app
            .get(
                &format!(
                    "/api/v1/search/autocomplete?{}",
                    serde_urlencoded::to_string([("q", typed)]).expect("query")
                ),
                None,
            )
            .await;
        assert_eq!(resp.status, 200, "{:?}", resp.body);
        let texts: Vec<&str> = resp
            .body
            .as_array()
            .map(|a| a.iter().filter_map(|s| s["text"].as_str()).collect())
            .unwrap_or_default();
        assert!(texts.contains(&wanted), "{typed}: {texts:?}");
    }
}

/// Polls `params` until `check` holds; returns how long it took (panics past `FRESH`, with
/// a margin of polls).
async fn fresh(
    app: &TestApp,
    what: &str,
    params: &[(&str, &str)],
    check: impl Fn(&Value) -> bool,
) -> Duration {
    let started = Instant::now();
    loop {
        let results = search(app, params).await;
        if check(&results) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < FRESH,
            "{what}: not searchable within {FRESH:?}: {results}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn changes_are_searchable_within_the_bound(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let shop = app.merchant("Bamboo House").await;
    let home = app.category(&admin, "home", None).await;
    let (product, variant, sku) = listed(
        &app,
        &shop,
        &admin,
        item("Bamboo Toothbrush", None, None, home, 300),
    )
    .await;
    indexed(&app, 1).await;

    // An offer on sale only from tomorrow is neither found nor suggested yet (changes apply in
    // order: once the later product is searchable, the offer was indexed).
    let tomorrow = kernel::Timestamp::now().plus_seconds(86_400).to_rfc3339();
    voucher(
        &app,
        &shop,
        &admin,
        "Future Feast",
        "Pesta Nanti",
        home,
        900,
        PHNOM_PENH,
        json!({"validFrom": tomorrow}),
    )
    .await;
    listed(
        &app,
        &shop,
        &admin,
        item("Bamboo Straw", None, None, home, 100),
    )
    .await;
    indexed(&app, 2).await;
    assert_eq!(search(&app, &[("q", "feast")]).await["total"], 0);
    let feast = app.get("/api/v1/search/autocomplete?q=fea", None).await;
    assert_eq!(feast.body, json!([]), "{:?}", feast.body);

    // A rename.
    let resp = app
        .put(
            &format!("/api/v1/products/{product}"),
            json!({"name": {"en": "Bamboo Comb"}}),
            Some(&shop.owner.access_token),
        )
        .await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    fresh(&app, "rename", &[("q", "comb")], |r| {
        names(r) == ["Bamboo Comb"]
    })
    .await;
    assert_eq!(search(&app, &[("q", "toothbrush")]).await["total"], 0);

    // Sold out, then back.
    app.set_stock(&shop, &sku, 0).await;
    fresh(&app, "sold out", &[("q", "comb")], |r| {
        r["items"][0]["inStock"] == false
    })
    .await;
    assert_eq!(
        search(&app, &[("q", "comb"), ("inStock", "true")]).await["total"],
        0
    );
    app.set_stock(&shop, &sku, 5).await;
    fresh(
        &app,
        "back in stock",
        &[("q", "comb"), ("inStock", "true")],
        |r| r["total"] == 1,
    )
    .await;

    // The merchant suspended hides its listings; reactivated shows them.
    let suspend = app
        .post(
            &format!("/api/v1/admin/merchants/{}/suspend", shop.id),
            json!({"reason": "unpaid fees"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(suspend.status, 200, "{:?}", suspend.body);
    fresh(&app, "suspension", &[("q", "comb")], |r| r["total"] == 0).await;
    let back = app
        .post(
            &format!("/api/v1/admin/merchants/{}/reactivate", shop.id),
            json!({}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(back.status, 200, "{:?}", back.body);
    fresh(&app, "reactivation", &[("q", "comb")], |r| r["total"] == 1).await;

    // A review's rating, and units sold.
    let customer = app.customer("reviewer").await;
    let group = app
        .checkout(
            &customer,
            json!({"lines": [{"variantId": variant, "quantity": 2}]}),
            Some(&Uuid::now_v7().to_string()),
        )
        .await;
    assert_eq!(group.status, 201, "{:?}", group.body);
    app.pay_in_full(&customer, &group.body).await;
    let order = uuid_of(&group.body["orders"][0]["id"]);
    fresh(&app, "units sold", &[("q", "comb")], |r| {
        r["items"][0]["sold"] == 2
    })
    .await;
    for to in ["PROCESSING", "SHIPPED", "DELIVERED"] {
        let moved = app
            .patch(
                &format!("/api/v1/orders/{order}/status"),
                json!({"status": to}),
                Some(&shop.owner.access_token),
            )
            .await;
        assert_eq!(moved.status, 200, "{to}: {:?}", moved.body);
    }
    let review = eventually(WAIT, "the purchase reaches reviews", || async {
        let resp = app
            .post(
                &format!("/api/v1/products/{product}/reviews"),
                json!({"rating": 4, "title": "Good", "text": "Nice comb"}),
                Some(&customer.access_token),
            )
            .await;
        (resp.code() != "not_a_buyer").then_some(resp)
    })
    .await;
    assert_eq!(review.status, 201, "{:?}", review.body);
    fresh(&app, "rating", &[("q", "comb"), ("minRating", "4")], |r| {
        r["total"] == 1
            && r["items"][0]["rating"]["average"] == 4.0
            && r["items"][0]["rating"]["count"] == 1
    })
    .await;

    // Archived: gone.
    let archive = app
        .patch(
            &format!("/api/v1/products/{product}/status"),
            json!({"status": "ARCHIVED"}),
            Some(&shop.owner.access_token),
        )
        .await;
    assert_eq!(archive.status, 200, "{:?}", archive.body);
    fresh(&app, "archive", &[("q", "comb")], |r| r["total"] == 0).await;
    assert!(app
        .get("/api/v1/search/autocomplete?q=comb", None)
        .await
        .body
        .as_array()
        .is_some_and(Vec::is_empty));
}

async fn pages_follow_cursors_and_bad_input_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let shop = app.merchant("Paging Shop").await;
    let home = app.category(&admin, "home", None).await;
    let mut expected = BTreeSet::new();
    for i in 0..13 {
        let name = format!("Candle {i:02}");
        listed(
            &app,
            &shop,
            &admin,
            item(&name, None, None, home, 100 + (i % 4) * 10),
        )
        .await;
        expected.insert(name);
    }
    indexed(&app, 13).await;
    for sort in [
        "relevance",
        "price_asc",
        "price_desc",
        "newest",
        "best_selling",
        "rating",
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut params = vec![("q", "candle"), ("limit", "4"), ("sort", sort)];
            if let Some(c) = &cursor {
                params.push(("cursor", c));
            }
            let page = search(&app, &params).await;
            assert_eq!(page["total"], 13);
            seen.extend(names(&page));
            match page["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        let unique: BTreeSet<String> = seen.iter().cloned().collect();
        assert_eq!(seen.len(), 13, "{sort}: {seen:?}");
        assert_eq!(unique, expected, "{sort}");
    }
    let prices: Vec<i64> = search(&app, &[("sort", "price_asc"), ("limit", "50")]).await["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["price"].as_i64()).collect())
        .unwrap_or_default();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "{prices:?}");

    for params in [
        vec![("limit", "0")],
        vec![("limit", "51")],
        vec![("minPrice", "-1"), ("currency", "USD")],
        vec![
            ("minPrice", "500"),
            ("maxPrice", "100"),
            ("currency", "USD"),
        ],
        vec![("minPrice", "100")],
        vec![("minRating", "6")],
        vec![("near", "91,10")],
        vec![("radiusKm", "5")],
        vec![("sort", "distance")],
        vec![("cursor", "not-a-cursor")],
    ] {
        let resp = app.get(&query(&params), None).await;
        assert_eq!(resp.status, 422, "{params:?}: {:?}", resp.body);
        assert_eq!(resp.code(), "validation_failed", "{params:?}");
    }
    for bad in [
        "/api/v1/search?sort=cheapest",
        "/api/v1/search?type=service",
        "/api/v1/search?limit=x",
    ] {
        let resp = app.get(bad, None).await;
        assert!(
            resp.status == 400 || resp.status == 422,
            "{bad}: {:?}",
            resp.body
        );
        assert_eq!(
            resp.header("content-type"),
            Some("application/problem+json"),
            "{bad}"
        );
    }
    assert_eq!(search(&app, &[("q", &"x".repeat(60))]).await["total"], 0);
    let long = "a".repeat(201);
    assert_eq!(app.get(&query(&[("q", &long)]), None).await.status, 422);
    assert_eq!(
        app.get("/api/v1/search/autocomplete?q=can&limit=0", None)
            .await
            .status,
        422
    );

    // Synonyms: admins only, validated, and a bad request keeps what was there.
    let customer = app.customer("curious").await;
    let denied = app
        .put(
            "/api/v1/admin/search/synonyms",
            json!({"groups": [["a", "b"]]}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(denied.status, 403);
    let saved = app
        .put(
            "/api/v1/admin/search/synonyms",
            json!({"groups": [["candle", "lilin"]]}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    for bad in [
        json!({"groups": [["lonely"]]}),
        json!({"groups": [["a", ""]]}),
        json!({"groups": [], "extra": 1}),
    ] {
        let resp = app
            .put(
                "/api/v1/admin/search/synonyms",
                bad.clone(),
                Some(&admin.access_token),
            )
            .await;
        assert!(
            resp.status == 400 || resp.status == 422,
            "{bad}: {:?}",
            resp.body
        );
    }
    let kept = app
        .get("/api/v1/admin/search/synonyms", Some(&admin.access_token))
        .await;
    assert_eq!(kept.body, json!({"groups": [["candle", "lilin"]]}));
    assert_eq!(search(&app, &[("q", "lilin")]).await["total"], 13);
}

fn index_dir(app: &TestApp) -> std::path::PathBuf {
    app.ctx().config.data_dir.join("search")
}

async fn a_missing_or_corrupt_index_is_rebuilt_and_reindex_answers_throughout(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let shop = app.merchant("Rebuild Shop").await;
    let home = app.category(&admin, "home", None).await;
    for name in ["Green Tea Pot", "Tea Cup"] {
        listed(&app, &shop, &admin, item(name, None, None, home, 500)).await;
    }
    indexed(&app, 2).await;

    // Corrupt: the generation in use loses its metadata.
    let dir = index_dir(&app);
    let current = std::fs::read_to_string(dir.join("current")).expect("current generation");
    std::fs::write(dir.join(current.trim()).join("meta.json"), b"{ not json").expect("corrupted");
    app.restart().await;
    indexed(&app, 2).await;
    let rebuilt = std::fs::read_to_string(dir.join("current")).expect("current generation");
    assert_ne!(
        rebuilt, current,
        "a new generation replaced the corrupt one"
    );
    assert!(
        !dir.join(current.trim()).exists(),
        "the corrupt generation is removed"
    );

    // Missing altogether.
    std::fs::remove_dir_all(&dir).expect("index removed");
    app.restart().await;
    indexed(&app, 2).await;

    // Rebuilt online: searches answer, with every document, before, during and after.
    let admin = app.admin().await;
    let searching = {
        let base = app.url("/api/v1/search?q=tea");
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut answered = 0;
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(2) {
                let body: Value = client
                    .get(&base)
                    .send()
                    .await
                    .expect("search answers")
                    .json()
                    .await
                    .expect("json");
                assert_eq!(body["total"], 2, "{body}");
                answered += 1;
            }
            answered
        })
    };
    let report = app
        .post(
            "/api/v1/admin/search/reindex",
            json!({}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(report.status, 200, "{:?}", report.body);
    assert_eq!(report.body["documents"], 2);
    let status = app
        .get("/api/v1/admin/search/reindex", Some(&admin.access_token))
        .await;
    assert_eq!(status.body["running"], false, "{:?}", status.body);
    assert_eq!(status.body["last"]["documents"], 2);
    assert!(searching.await.expect("searches") > 0);
    let denied = app
        .post(
            "/api/v1/admin/search/reindex",
            json!({}),
            Some(&shop.owner.access_token),
        )
        .await;
    assert_eq!(denied.status, 403);
    // Changes after the rebuild still arrive.
    listed(
        &app,
        &shop,
        &admin,
        item("Tea Strainer", None, None, home, 200),
    )
    .await;
    fresh(&app, "after a rebuild", &[("q", "tea")], |r| {
        r["total"] == 3
    })
    .await;
}
