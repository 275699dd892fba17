//! Fixtures of the voucher path: outlets, published and approved offers, paid orders,
//! wallets, QR tokens and counter redemptions.

use std::time::Duration;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::{uuid_of, MerchantFixture, Resp, Session, TestApp};

/// Where the test outlets stand: central Phnom Penh.
pub const OUTLET_LOCATION: (f64, f64) = (11.5696, 104.9211);

impl TestApp {
    /// An outlet of `merchant` at `location`; waits until vouchers knows it.
    pub async fn outlet(
        &self,
        merchant: &MerchantFixture,
        name: &str,
        location: (f64, f64),
    ) -> Uuid {
        let resp = self
            .post(
                &format!("/api/v1/merchants/{}/outlets", merchant.id),
                json!({"name": name, "address": {"line1": "Street 13", "city": "Phnom Penh", "country": "KH"},
                       "location": {"latitude": location.0, "longitude": location.1}}),
                Some(&merchant.owner.access_token),
            )
            .await;
        assert_eq!(resp.status, 201, "outlet failed: {:?}", resp.body);
        let outlet = uuid_of(&resp.body["id"]);
        crate::eventually(
            Duration::from_secs(10),
            "outlet known to vouchers",
            || async {
                let n: i64 = platform::on_db!(&self.ctx().db, pool => sqlx::query_scalar(
                "SELECT COUNT(*) FROM vouchers_outlets WHERE outlet_id = $1"
            ).bind(outlet).fetch_one(pool).await)
                .expect("outlets read");
                (n == 1).then_some(())
            },
        )
        .await;
        outlet
    }

    /// A VOUCHER product (one variant `sku` at `price` USD) with an offer of `terms` (merged
    /// into a GIFT_CARD offer of `price` face value, valid 90 days), approved by `admin`, with
    /// `stock` units. Returns (offer id, variant id).
    #[allow(clippy::too_many_arguments)]
    pub async fn voucher_offer(
        &self,
        merchant: &MerchantFixture,
        admin: &Session,
        category: Uuid,
        sku: &str,
        price: i64,
        stock: i64,
        terms: Value,
    ) -> (Uuid, Uuid) {
        let resp = self
            .post(
                "/api/v1/products",
                json!({"merchantId": merchant.id, "name": {"en": format!("Voucher {sku}")},
                       "categoryId": category, "type": "VOUCHER",
                       "variants": [{"sku": sku, "price": price, "currency": "USD"}]}),
                Some(&merchant.owner.access_token),
            )
            .await;
        assert_eq!(resp.status, 201, "voucher product failed: {:?}", resp.body);
        let product = uuid_of(&resp.body["id"]);
        let variant = uuid_of(&resp.body["variants"][0]["id"]);
        let mut body = json!({"variantId": variant, "kind": "GIFT_CARD", "faceValue": price.max(1),
                              "validDays": 90, "claimable": price == 0});
        if let (Some(base), Some(extra)) = (body.as_object_mut(), terms.as_object()) {
            base.extend(extra.clone());
        }
        let resp = self
            .post("/api/v1/vouchers", body, Some(&merchant.owner.access_token))
            .await;
        assert_eq!(resp.status, 201, "offer failed: {:?}", resp.body);
        let offer = uuid_of(&resp.body["id"]);
        self.activate_product(merchant, admin, product).await;
        if stock > 0 {
            self.set_stock(merchant, sku, stock).await;
        }
        crate::eventually(Duration::from_secs(10), "offer visible", || async {
            let resp = self.get(&format!("/api/v1/vouchers/{offer}"), None).await;
            (resp.status == 200 && resp.body["visible"] == true).then_some(())
        })
        .await;
        (offer, variant)
    }

    /// Orders `quantity` of `variant`, pays by simulator webhook, and waits until the order
    /// is paid (or completed). Returns the order.
    pub async fn paid_order(&self, customer: &Session, variant: Uuid, quantity: i64) -> Value {
        let order = self
            .checkout(
                customer,
                json!({"lines": [{"variantId": variant, "quantity": quantity}]}),
                None,
            )
            .await;
        assert_eq!(order.status, 201, "checkout failed: {:?}", order.body);
        let group = uuid_of(&order.body["id"]);
        let payment = self.pay(customer, group, "simulator", None).await;
        assert_eq!(payment.status, 201, "payment failed: {:?}", payment.body);
        let payment_id = uuid_of(&payment.body["id"]);
        let amount = payment.body["amount"].as_i64().expect("amount");
        let currency = payment.body["currency"]
            .as_str()
            .expect("currency")
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
        assert_eq!(hook.status, 200, "webhook failed: {:?}", hook.body);
        let order_id = uuid_of(&order.body["orders"][0]["id"]);
        crate::eventually(Duration::from_secs(10), "order paid", || async {
            let resp = self
                .get(
                    &format!("/api/v1/orders/{order_id}"),
                    Some(&customer.access_token),
                )
                .await;
            matches!(resp.body["status"].as_str(), Some("PAID" | "COMPLETED")).then_some(resp.body)
        })
        .await
    }

    /// Waits until `customer`'s wallet holds `count` vouchers with `status`; returns them.
    pub async fn wallet_with(&self, customer: &Session, status: &str, count: usize) -> Vec<Value> {
        crate::eventually(Duration::from_secs(10), "wallet filled", || async {
            let resp = self
                .get(
                    &format!("/api/v1/wallet?status={status}"),
                    Some(&customer.access_token),
                )
                .await;
            let items = resp.body["items"].as_array().cloned().unwrap_or_default();
            (items.len() == count).then_some(items)
        })
        .await
    }

    /// The live QR token of a voucher (`printed` for the non-rotating variant).
    pub async fn qr_token(&self, customer: &Session, voucher: Uuid, printed: bool) -> String {
        let variant = if printed { "printed" } else { "screen" };
        let resp = self
            .get(
                &format!("/api/v1/wallet/{voucher}/qr?format=token&variant={variant}"),
                Some(&customer.access_token),
            )
            .await;
        assert_eq!(resp.status, 200, "qr token failed: {:?}", resp.body);
        resp.body["token"].as_str().expect("token").to_owned()
    }

    /// `POST /api/v1/redemptions` by `cashier` at `outlet`, from `device` standing at the
    /// outlet; `presented` is `{"token": ..}` or `{"code": .., "pin": ..}` plus any extras.
    pub async fn redeem(
        &self,
        cashier: &Session,
        outlet: Uuid,
        device: &str,
        presented: Value,
        key: Option<&str>,
    ) -> Resp {
        let mut body = json!({"outletId": outlet, "deviceId": device,
            "location": {"latitude": OUTLET_LOCATION.0, "longitude": OUTLET_LOCATION.1}});
        if let (Some(base), Some(extra)) = (body.as_object_mut(), presented.as_object()) {
            base.extend(extra.clone());
        }
        let mut request = self
            .client
            .post(self.url("/api/v1/redemptions"))
            .bearer_auth(&cashier.access_token)
            .json(&body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        self.send(request).await
    }

    /// The ledger's trial balance: per currency, (total, balance of each account).
    pub async fn trial_balance(&self, admin: &Session) -> Value {
        let resp = self
            .get(
                "/api/v1/admin/ledger/trial-balance",
                Some(&admin.access_token),
            )
            .await;
        assert_eq!(resp.status, 200, "trial balance failed: {:?}", resp.body);
        for currency in resp.body.as_array().expect("currencies") {
            assert_eq!(currency["total"], 0, "ledger does not balance: {currency}");
        }
        resp.body
    }

    /// One account's balance in the trial balance (0 when it has none).
    pub async fn account_balance(&self, admin: &Session, currency: &str, account: &str) -> i64 {
        let trial = self.trial_balance(admin).await;
        trial
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["currency"] == currency)
            .flat_map(|c| c["accounts"].as_array().cloned().unwrap_or_default())
            .find(|a| a["account"] == account)
            .and_then(|a| a["balance"].as_i64())
            .unwrap_or(0)
    }

    /// Waits until a ledger account holds `expected`.
    pub async fn account_reaches(
        &self,
        admin: &Session,
        currency: &str,
        account: &str,
        expected: i64,
    ) {
        crate::eventually(
            Duration::from_secs(10),
            &format!("{account} = {expected}"),
            || async {
                (self.account_balance(admin, currency, account).await == expected).then_some(())
            },
        )
        .await
    }
}
