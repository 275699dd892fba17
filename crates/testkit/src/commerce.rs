//! Fixtures of the money path: listed products with stock, carts, checkouts, payments and
//! simulator webhooks.

use std::time::Duration;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::{MerchantFixture, Resp, Session, TestApp};

/// Where test customers live: the city of the test merchants, so every courier of theirs
/// reaches it.
static TEST_ADDRESS: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| {
    json!({
        "recipient": "Test Customer", "phone": "+85512345678", "street": "No. 12, Street 240",
        "city": "Phnom Penh", "province": "Phnom Penh", "postalCode": "12207", "country": "KH"
    })
});

/// The simulator's webhook key in tests, so tests can sign webhooks like the gateway.
pub const SIMULATOR_SECRET: &str = "test-simulator-secret";

pub fn uuid_of(value: &Value) -> Uuid {
    value
        .as_str()
        .and_then(|id| Uuid::parse_str(id).ok())
        .unwrap_or_else(|| panic!("not a uuid: {value}"))
}

impl TestApp {
    /// A listed product of `merchant` with `stock` units at its main location; returns
    /// (product id, variant id).
    #[allow(clippy::too_many_arguments)]
    pub async fn listed_product(
        &self,
        merchant: &MerchantFixture,
        admin: &Session,
        category: Uuid,
        name: &str,
        sku: &str,
        price: i64,
        stock: i64,
    ) -> (Uuid, Uuid) {
        let (product, variant) = self
            .draft_product(merchant, category, name, sku, price)
            .await;
        self.activate_product(merchant, admin, product).await;
        self.set_stock(merchant, sku, stock).await;
        (product, variant)
    }

    /// Sets on-hand stock of a SKU (waiting until inventory has heard of it).
    pub async fn set_stock(&self, merchant: &MerchantFixture, sku: &str, on_hand: i64) {
        let path = format!("/api/v1/inventory/{sku}");
        let body = json!({"merchantId": merchant.id, "onHand": on_hand, "reason": "test stock"});
        crate::eventually(Duration::from_secs(10), "stock set", || async {
            let resp = self
                .put(&path, body.clone(), Some(&merchant.owner.access_token))
                .await;
            (resp.status == 200).then_some(())
        })
        .await;
    }

    /// (on hand, reserved) of a SKU.
    pub async fn stock_of(&self, merchant: &MerchantFixture, sku: &str) -> (i64, i64) {
        let resp = self
            .get(
                &format!("/api/v1/inventory/{sku}?merchantId={}", merchant.id),
                Some(&merchant.owner.access_token),
            )
            .await;
        assert_eq!(resp.status, 200, "stock read failed: {:?}", resp.body);
        (
            resp.body["onHand"].as_i64().unwrap_or(-1),
            resp.body["reserved"].as_i64().unwrap_or(-1),
        )
    }

    pub async fn add_to_cart(&self, customer: &Session, variant: Uuid, quantity: i64) -> Resp {
        self.post(
            "/api/v1/cart/items",
            json!({"variantId": variant, "quantity": quantity}),
            Some(&customer.access_token),
        )
        .await
    }

    /// `POST /api/v1/orders` with an optional Idempotency-Key. A body that names no shipping
    /// ships what is physical as a customer would: to the customer's saved address (one is
    /// made on first use) with the simulator courier (see [`TestApp::shipping_for`]).
    pub async fn checkout(&self, customer: &Session, body: Value, key: Option<&str>) -> Resp {
        let body = self.with_shipping(customer, body).await;
        let mut request = self
            .client
            .post(self.url("/api/v1/orders"))
            .bearer_auth(&customer.access_token)
            .json(&body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        self.send(request).await
    }

    async fn with_shipping(&self, customer: &Session, mut body: Value) -> Value {
        if body.get("shippingAddressId").is_some() || body.get("shipping").is_some() {
            return body;
        }
        let variant_ids = |items: &Value| -> Vec<Uuid> {
            items
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| Uuid::parse_str(i["variantId"].as_str()?).ok())
                        .collect()
                })
                .unwrap_or_default()
        };
        let variants = match body.get("lines") {
            Some(lines) => variant_ids(lines),
            None => {
                let cart = self.get("/api/v1/cart", Some(&customer.access_token)).await;
                variant_ids(&cart.body["items"])
            }
        };
        if let (Some(fields), Some(shipping)) = (
            body.as_object_mut(),
            self.shipping_for(customer, &variants).await,
        ) {
            fields.extend(shipping.as_object().cloned().unwrap_or_default());
        }
        body
    }

    /// The shipping fields of a checkout of `variants`: the customer's saved address (made on
    /// first use; a crowd customer, unknown to identity, gives one with the checkout) and the
    /// simulator courier's free REGULAR service for every merchant with a physical item; None
    /// when nothing ships.
    pub async fn shipping_for(&self, customer: &Session, variants: &[Uuid]) -> Option<Value> {
        if variants.is_empty() {
            return None;
        }
        let quotes = catalog_contract::CatalogClient::new(self.ctx().services.clone(), "testkit")
            .variants(variants.to_vec())
            .await
            .ok()?;
        let mut merchants: Vec<Uuid> = quotes
            .iter()
            .filter(|q| q.product_type == catalog_contract::ProductType::Physical)
            .map(|q| q.merchant_id)
            .collect();
        merchants.sort();
        merchants.dedup();
        if merchants.is_empty() {
            return None;
        }
        let choices: Vec<Value> = merchants
            .iter()
            .map(|m| json!({"merchantId": m, "courierCode": "SIMULATOR", "serviceCode": "REGULAR"}))
            .collect();
        let known = self
            .get("/api/v1/users/me", Some(&customer.access_token))
            .await
            .status
            == 200;
        Some(if known {
            json!({"shippingAddressId": self.saved_address(customer).await, "shipping": choices})
        } else {
            json!({"shippingAddress": TEST_ADDRESS.clone(), "shipping": choices})
        })
    }

    /// The customer's first saved address, made (in Phnom Penh) when they have none.
    pub async fn saved_address(&self, customer: &Session) -> Uuid {
        // Concurrent checkouts of one customer (idempotency tests) must name one address.
        static MAKING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let _making = MAKING.lock().await;
        let token = Some(customer.access_token.as_str());
        let saved = self.get("/api/v1/users/me/addresses", token).await;
        if let Some(id) = saved
            .body
            .as_array()
            .and_then(|a| a.first())
            .map(|a| uuid_of(&a["id"]))
        {
            return id;
        }
        let mut address = TEST_ADDRESS.clone();
        if let Some(fields) = address.as_object_mut() {
            fields.insert("label".into(), json!("Home"));
            fields.insert("isPrimary".into(), json!(true));
        }
        let made = self
            .post("/api/v1/users/me/addresses", address, token)
            .await;
        assert_eq!(made.status, 201, "address not saved: {:?}", made.body);
        uuid_of(&made.body["id"])
    }

    /// `POST /api/v1/payments` with an optional Idempotency-Key.
    pub async fn pay(
        &self,
        customer: &Session,
        group: Uuid,
        method: &str,
        key: Option<&str>,
    ) -> Resp {
        let mut request = self
            .client
            .post(self.url("/api/v1/payments"))
            .bearer_auth(&customer.access_token)
            .json(&json!({"orderGroupId": group, "method": method}));
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        self.send(request).await
    }

    /// A webhook as the simulator gateway signs it.
    pub async fn simulator_webhook(
        &self,
        event_id: &str,
        payment: Uuid,
        status: &str,
        amount: i64,
        currency: &str,
    ) -> Resp {
        let body = serde_json::to_vec(&json!({
            "eventId": event_id, "paymentId": payment, "status": status,
            "amount": amount, "currency": currency,
        }))
        .expect("json");
        let signature = payments::providers::simulator::sign(SIMULATOR_SECRET, &body);
        self.send(
            self.client
                .post(self.url("/api/v1/payments/webhook/simulator"))
                .header("content-type", "application/json")
                .header("x-simulator-signature", signature)
                .body(body),
        )
        .await
    }

    /// Pays a checkout's answer (`group`) in full through the simulator and waits until each
    /// of its orders is PAID.
    pub async fn pay_in_full(&self, customer: &Session, group: &Value) {
        let payment = self
            .pay(customer, crate::uuid_of(&group["id"]), "simulator", None)
            .await;
        assert_eq!(payment.status, 201, "{:?}", payment.body);
        let payment_id = crate::uuid_of(&payment.body["id"]);
        let amount = payment.body["amount"].as_i64().expect("amount");
        assert_eq!(
            amount,
            group["total"].as_i64().expect("total"),
            "the discounted total is paid"
        );
        let currency = payment.body["currency"]
            .as_str()
            .unwrap_or("USD")
            .to_owned();
        let hook = self
            .simulator_webhook(
                &format!("evt-{payment_id}"),
                payment_id,
                "SUCCEEDED",
                amount,
                &currency,
            )
            .await;
        assert_eq!(hook.status, 200, "{:?}", hook.body);
        for order in group["orders"].as_array().expect("orders") {
            self.order_reaches(customer, crate::uuid_of(&order["id"]), "PAID")
                .await;
        }
    }

    /// Waits until the order is in `status`; returns it.
    pub async fn order_reaches(&self, session: &Session, order: Uuid, status: &str) -> Value {
        let path = format!("/api/v1/orders/{order}");
        crate::eventually(
            Duration::from_secs(15),
            &format!("order {status}"),
            || async {
                let resp = self.get(&path, Some(&session.access_token)).await;
                (resp.body["status"] == status).then_some(resp.body)
            },
        )
        .await
    }

    /// Waits until the payment is in `status`; returns it.
    pub async fn payment_reaches(&self, session: &Session, payment: Uuid, status: &str) -> Value {
        let path = format!("/api/v1/payments/{payment}");
        crate::eventually(
            Duration::from_secs(15),
            &format!("payment {status}"),
            || async {
                let resp = self.get(&path, Some(&session.access_token)).await;
                (resp.body["status"] == status).then_some(resp.body)
            },
        )
        .await
    }
}

impl TestApp {
    /// Payloads of the events of `event_type` in the outbox, oldest first.
    pub async fn list_events(&self, event_type: &str) -> Vec<Value> {
        let payloads: Vec<String> = platform::on_db!(&self.ctx().db, pool => sqlx::query_scalar(
            "SELECT CAST(payload AS TEXT) FROM platform_outbox WHERE event_type = $1 ORDER BY seq"
        ).bind(event_type).fetch_all(pool).await)
        .expect("outbox read");
        payloads
            .iter()
            .filter_map(|p| serde_json::from_str(p).ok())
            .collect()
    }
}

impl TestApp {
    /// Waits until a SKU's (on hand, reserved) is `expected`: stock follows orders by events.
    pub async fn stock_reaches(&self, merchant: &MerchantFixture, sku: &str, expected: (i64, i64)) {
        crate::eventually(
            Duration::from_secs(10),
            &format!("{sku} stock {expected:?}"),
            || async { (self.stock_of(merchant, sku).await == expected).then_some(()) },
        )
        .await
    }

    /// The statuses of an order's timeline, oldest first.
    pub async fn timeline_statuses(&self, session: &Session, order: Uuid) -> Vec<String> {
        let resp = self
            .get(
                &format!("/api/v1/orders/{order}/timeline"),
                Some(&session.access_token),
            )
            .await;
        resp.body
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter_map(|e| e["status"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}
