//! `pasar seed demo` / `serve --demo`: a live marketplace in one command. Everything goes
//! through the public API of a running instance (so the data obeys every rule a client
//! would), except staff enrolment, which skips the emailed invitation.

use std::time::Duration;

use anyhow::{bail, Context as _};
use kernel::MerchantRole;
use platform::app::RunningApp;
use serde_json::{json, Value};
use uuid::Uuid;

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const PASSWORD: &str = "Demo!Passw0rd";

struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{method} {path} answered {status}: {body}");
        }
        Ok(body)
    }

    async fn post(&self, path: &str, body: Value, token: Option<&str>) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, path, Some(body), token)
            .await
    }

    async fn token(&self, email: &str) -> anyhow::Result<String> {
        let body = self
            .post(
                "/api/v1/auth/login",
                json!({"email": email, "password": PASSWORD}),
                None,
            )
            .await?;
        Ok(text(&body, "accessToken")?.to_owned())
    }

    async fn user(&self, first: &str, last: &str, email: &str) -> anyhow::Result<(Uuid, String)> {
        let body = self
            .post(
                "/api/v1/auth/register",
                json!({"email": email, "password": PASSWORD, "firstName": first, "lastName": last}),
                None,
            )
            .await?;
        Ok((
            id(&body["user"], "id")?,
            text(&body, "accessToken")?.to_owned(),
        ))
    }
}

fn text<'a>(value: &'a Value, key: &str) -> anyhow::Result<&'a str> {
    value[key]
        .as_str()
        .with_context(|| format!("no {key} in {value}"))
}

fn id(value: &Value, key: &str) -> anyhow::Result<Uuid> {
    Ok(Uuid::parse_str(text(value, key)?)?)
}

/// (category slug, English name, Khmer name, type, base price in minor units, variants)
type DemoProduct = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    &'static [&'static str],
);

struct Shop {
    name: &'static str,
    slug: &'static str,
    category: &'static str,
    city: &'static str,
    country: &'static str,
    phone: &'static str,
    at: (f64, f64),
    currency: &'static str,
    outlets: &'static [&'static str],
    products: &'static [DemoProduct],
}

const SHOPS: &[Shop] = &[
    Shop {
        name: "Kopi Pagi",
        slug: "kopi",
        category: "cafe",
        city: "Phnom Penh",
        country: "KH",
        phone: "+85512345678",
        at: (11.5564, 104.9282),
        currency: "USD",
        outlets: &["Riverside", "BKK1"],
        products: &[
            (
                "coffee",
                "Kampot Pepper Cold Brew",
                "កាហ្វេត្រជាក់ម្រេចកំពត",
                "PHYSICAL",
                350,
                &["Regular", "Large"],
            ),
            (
                "coffee",
                "Mondulkiri Arabica Beans",
                "គ្រាប់កាហ្វេមណ្ឌលគិរី",
                "PHYSICAL",
                1200,
                &["250g", "500g", "1kg"],
            ),
            (
                "coffee",
                "Iced Palm Sugar Latte",
                "ឡាតេស្ករត្នោត",
                "PHYSICAL",
                300,
                &["Regular"],
            ),
            (
                "bakery",
                "Num Pang Baguette",
                "នំប៉័ង",
                "PHYSICAL",
                150,
                &["Plain", "Pâté"],
            ),
            (
                "bakery",
                "Coconut Croissant",
                "ក្រូសង់ដូង",
                "PHYSICAL",
                220,
                &["Single", "Box of 4"],
            ),
            ("bakery", "Banana Cake", "នំចេក", "PHYSICAL", 180, &["Slice"]),
            (
                "gift-cards",
                "Kopi Pagi Gift Card $10",
                "កាតអំណោយ",
                "VOUCHER",
                1000,
                &["Digital"],
            ),
            (
                "gift-cards",
                "Kopi Pagi Gift Card $25",
                "កាតអំណោយ",
                "VOUCHER",
                2500,
                &["Digital"],
            ),
            (
                "coffee",
                "Cold Brew Subscription (4 weeks)",
                "ការជាវកាហ្វេ",
                "VOUCHER",
                3900,
                &["Weekly"],
            ),
            (
                "coffee",
                "Drip Kit",
                "ឧបករណ៍ឆុងកាហ្វេ",
                "PHYSICAL",
                2800,
                &["Black", "White"],
            ),
        ],
    },
    Shop {
        name: "Batik Nusantara",
        slug: "batik",
        category: "fashion",
        city: "Jakarta",
        country: "ID",
        phone: "+6281234567890",
        at: (-6.2088, 106.8456),
        currency: "IDR",
        outlets: &["Grand Indonesia"],
        products: &[
            (
                "batik",
                "Batik Parang Shirt",
                "អាវបាទិក",
                "PHYSICAL",
                350000,
                &["S", "M", "L", "XL"],
            ),
            (
                "batik",
                "Batik Kawung Dress",
                "រ៉ូបបាទិក",
                "PHYSICAL",
                525000,
                &["S", "M", "L"],
            ),
            (
                "batik",
                "Batik Mega Mendung Scarf",
                "កន្សែងបាទិក",
                "PHYSICAL",
                185000,
                &["Blue", "Red"],
            ),
            (
                "accessories",
                "Songket Clutch",
                "កាបូបដៃ",
                "PHYSICAL",
                420000,
                &["Gold", "Silver"],
            ),
            (
                "accessories",
                "Wayang Leather Bookmark",
                "ចំណាំសៀវភៅ",
                "PHYSICAL",
                45000,
                &["Arjuna", "Srikandi"],
            ),
            (
                "batik",
                "Batik Sarong",
                "សារុងបាទិក",
                "PHYSICAL",
                275000,
                &["Classic"],
            ),
            (
                "accessories",
                "Batik Tote Bag",
                "កាបូបបាទិក",
                "PHYSICAL",
                150000,
                &["Brown", "Indigo"],
            ),
            (
                "gift-cards",
                "Batik Workshop Voucher",
                "ប័ណ្ណសិក្ខាសាលា",
                "VOUCHER",
                300000,
                &["2 hours"],
            ),
        ],
    },
    Shop {
        name: "Angkor Spa",
        slug: "spa",
        category: "spa",
        city: "Siem Reap",
        country: "KH",
        phone: "+85563123456",
        at: (13.3633, 103.8564),
        currency: "USD",
        outlets: &["Old Market", "Wat Bo"],
        products: &[
            (
                "spa-treatments",
                "Khmer Traditional Massage (60 min)",
                "ម៉ាស្សាបុរាណខ្មែរ",
                "VOUCHER",
                2500,
                &["60 min", "90 min"],
            ),
            (
                "spa-treatments",
                "Herbal Compress Ritual",
                "ការព្យាបាលដោយឱសថ",
                "VOUCHER",
                3500,
                &["Single", "Couple"],
            ),
            (
                "spa-treatments",
                "Foot Reflexology",
                "ម៉ាស្សាជើង",
                "VOUCHER",
                1500,
                &["45 min"],
            ),
            (
                "skincare",
                "Lemongrass Body Oil",
                "ប្រេងស្លឹកគ្រៃ",
                "PHYSICAL",
                1200,
                &["100ml", "250ml"],
            ),
            (
                "skincare",
                "Jasmine Rice Scrub",
                "ម្សៅស្រូវម្លិះ",
                "PHYSICAL",
                900,
                &["200g"],
            ),
            (
                "skincare",
                "Kampot Salt Bath Soak",
                "អំបិលកំពត",
                "PHYSICAL",
                800,
                &["300g", "600g"],
            ),
            (
                "spa-treatments",
                "Spa Day for Two",
                "ថ្ងៃស្ប៉ាសម្រាប់ពីរនាក់",
                "VOUCHER",
                9900,
                &["Weekday", "Weekend"],
            ),
            (
                "skincare",
                "Coconut Lip Balm",
                "ក្រែមលាបបបូរមាត់",
                "PHYSICAL",
                350,
                &["Single", "Pack of 3"],
            ),
        ],
    },
];

/// (slug, parent slug, English, Khmer, Indonesian)
const CATEGORIES: &[(&str, Option<&str>, &str, &str, &str)] = &[
    (
        "food-drink",
        None,
        "Food & Drink",
        "អាហារ និងភេសជ្ជៈ",
        "Makanan & Minuman",
    ),
    ("coffee", Some("food-drink"), "Coffee", "កាហ្វេ", "Kopi"),
    ("bakery", Some("food-drink"), "Bakery", "នំប៉័ង", "Roti"),
    ("fashion", None, "Fashion", "ម៉ូដ", "Fesyen"),
    ("batik", Some("fashion"), "Batik", "បាទិក", "Batik"),
    (
        "accessories",
        Some("fashion"),
        "Accessories",
        "គ្រឿងតុបតែង",
        "Aksesori",
    ),
    ("wellness", None, "Wellness", "សុខុមាលភាព", "Kesehatan"),
    (
        "spa-treatments",
        Some("wellness"),
        "Spa treatments",
        "សេវាស្ប៉ា",
        "Perawatan spa",
    ),
    (
        "skincare",
        Some("wellness"),
        "Skincare",
        "ថែរក្សាស្បែក",
        "Perawatan kulit",
    ),
    ("gift-cards", None, "Gift cards", "កាតអំណោយ", "Kartu hadiah"),
];

/// What the seed made, for the operator.
pub struct Summary {
    pub created: bool,
    pub merchants: usize,
    pub products: usize,
}

pub async fn demo(app: &RunningApp) -> anyhow::Result<Summary> {
    let ctx = app.context.clone();
    let identity = identity::Identity::new(ctx.clone());
    let (admin, created) = identity
        .bootstrap_admin(ADMIN_EMAIL, PASSWORD)
        .await
        .map_err(|err| anyhow::anyhow!("{}", kernel::ApiError::from(err).detail))?;
    if !created {
        return Ok(Summary {
            created: false,
            merchants: 0,
            products: 0,
        });
    }
    let api = Api {
        client: reqwest::Client::new(),
        base: format!("http://{}", app.addr),
    };
    let admin_token = api.token(ADMIN_EMAIL).await?;
    let admin_token = admin_token.as_str();

    let mut categories = std::collections::HashMap::new();
    for (slug, parent, en, km, id_name) in CATEGORIES {
        let parent_id = parent.and_then(|p| categories.get(p).copied());
        let body = api
            .post("/api/v1/categories", json!({"slug": slug, "parentId": parent_id, "name": {"en": en, "km": km, "id": id_name}}), Some(admin_token))
            .await?;
        categories.insert(*slug, id(&body, "id")?);
    }

    let merchants = merchants::Merchants::new(ctx.clone());
    let mut products = 0;
    for shop in SHOPS {
        let (_, owner) = api
            .user(
                shop.name,
                "Owner",
                &format!("{}.owner@example.com", shop.slug),
            )
            .await?;
        let application = json!({
            "businessName": shop.name,
            "legalName": format!("{} Co., Ltd.", shop.name),
            "businessType": "COMPANY",
            "taxId": format!("TAX-{}-001", shop.slug.to_uppercase()),
            "contactEmail": format!("{}.owner@example.com", shop.slug),
            "contactPhone": shop.phone,
            "description": format!("{} — a Pasar demo merchant.", shop.name),
            "address": {"line1": "1 Demo Street", "city": shop.city, "country": shop.country},
            "location": {"latitude": shop.at.0, "longitude": shop.at.1},
            "category": shop.category,
            "documents": [format!("demo-licence-{}", shop.slug)]
        });
        let merchant = api
            .post("/api/v1/merchants", application, Some(&owner))
            .await?;
        let merchant_id = id(&merchant, "id")?;
        api.post(
            &format!("/api/v1/admin/merchants/{merchant_id}/approve"),
            json!({}),
            Some(admin_token),
        )
        .await?;
        let owner = api
            .token(&format!("{}.owner@example.com", shop.slug))
            .await?;
        for (offset, outlet) in shop.outlets.iter().enumerate() {
            let shift = offset as f64 * 0.01;
            let hours: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                .iter()
                .map(|day| json!({"day": day, "opens": "08:00", "closes": "21:00"}))
                .collect();
            api.post(&format!("/api/v1/merchants/{merchant_id}/outlets"), json!({
                "name": outlet,
                "address": {"line1": format!("{outlet} branch"), "city": shop.city, "country": shop.country},
                "location": {"latitude": shop.at.0 + shift, "longitude": shop.at.1 + shift},
                "openingHours": hours
            }), Some(&owner)).await?;
        }
        for (role, label) in [
            (MerchantRole::Manager, "manager"),
            (MerchantRole::Cashier, "cashier"),
        ] {
            let (user_id, _) = api
                .user(
                    shop.name,
                    label,
                    &format!("{}.{label}@example.com", shop.slug),
                )
                .await?;
            merchants
                .enroll(merchant_id, user_id, role, admin.id)
                .await
                .map_err(|err| anyhow::anyhow!("{}", kernel::ApiError::from(err).detail))?;
        }

        let mut skus = Vec::new();
        for (n, (category, en, km, kind, price, variants)) in shop.products.iter().enumerate() {
            let category_id = categories
                .get(category)
                .with_context(|| format!("category {category}"))?;
            let variants: Vec<Value> = variants.iter().enumerate().map(|(v, option)| {
                let sku = format!("{}-{:02}-{}", shop.slug.to_uppercase(), n + 1, v + 1);
                skus.push(sku.clone());
                json!({"sku": sku, "options": {"option": option}, "price": price + price * v as i64 / 2,
                       "compareAtPrice": if n % 3 == 0 { Some(price + price * v as i64 / 2 + price / 5) } else { None },
                       "currency": shop.currency})
            }).collect();
            let mut body = json!({
                "merchantId": merchant_id,
                "name": {"en": en, "km": km},
                "description": {"en": format!("{en} from {}.", shop.name)},
                "categoryId": category_id,
                "type": kind,
                "variants": variants
            });
            if *kind == "PHYSICAL" {
                body["weightGrams"] = json!(250);
            }
            let product = api.post("/api/v1/products", body, Some(&owner)).await?;
            let product_id = id(&product, "id")?;
            if *kind == "VOUCHER" {
                // Voucher terms for each variant, so buying one issues a voucher.
                let voucher_kind = if *category == "gift-cards" {
                    "GIFT_CARD"
                } else {
                    "ITEM"
                };
                for variant in product["variants"].as_array().into_iter().flatten() {
                    api.post(
                        "/api/v1/vouchers",
                        json!({"variantId": id(variant, "id")?, "kind": voucher_kind,
                               "faceValue": variant["price"], "validDays": 365,
                               "terms": {"en": format!("Redeemable at every {} outlet.", shop.name)}}),
                        Some(&owner),
                    )
                    .await?;
                }
            }
            let status = format!("/api/v1/products/{product_id}/status");
            api.call(
                reqwest::Method::PATCH,
                &status,
                Some(json!({"status": "PENDING_REVIEW"})),
                Some(&owner),
            )
            .await?;
            api.call(
                reqwest::Method::PATCH,
                &status,
                Some(json!({"status": "ACTIVE"})),
                Some(admin_token),
            )
            .await?;
            products += 1;
        }
        for (n, sku) in skus.iter().enumerate() {
            let stock = json!({"merchantId": merchant_id, "onHand": 20 + (n as i64 * 7) % 80, "reason": "demo opening stock"});
            // Inventory learns SKUs from catalog's events: give it a moment.
            let mut attempt = 0;
            loop {
                match api
                    .call(
                        reqwest::Method::PUT,
                        &format!("/api/v1/inventory/{sku}"),
                        Some(stock.clone()),
                        Some(&owner),
                    )
                    .await
                {
                    Ok(_) => break,
                    Err(_) if attempt < 100 => {
                        attempt += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(err) => return Err(err),
                }
            }
        }
    }
    let (customer, _) = api.user("Demo", "Customer", "customer@example.com").await?;
    // The demo customer can check out and pay at once (both need a verified email).
    identity::Identity::new(ctx.clone())
        .mark_email_verified(customer)
        .await?;
    Ok(Summary {
        created: true,
        merchants: SHOPS.len(),
        products,
    })
}
