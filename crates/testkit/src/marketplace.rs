//! Fixtures of the marketplace: approved merchants with staff.

use platform::on_db;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{Session, TestApp};

/// An approved merchant and its owner.
#[derive(Debug, Clone)]
pub struct MerchantFixture {
    pub id: Uuid,
    pub owner: Session,
}

/// A valid application body for a merchant called `name`.
pub fn merchant_application(name: &str) -> Value {
    json!({
        "businessName": name,
        "legalName": format!("{name} Co., Ltd."),
        "businessType": "COMPANY",
        "taxId": "K001-901234567",
        "contactEmail": "owner@shop.example",
        "contactPhone": "+85512345678",
        "address": {"line1": "St. 51, No. 12", "city": "Phnom Penh", "country": "KH"},
        "location": {"latitude": 11.5564, "longitude": 104.9282},
        "category": "cafe",
        "documents": ["doc-patent-1"]
    })
}

impl TestApp {
    /// Registers an owner, applies, and has an admin approve the application.
    pub async fn merchant(&self, name: &str) -> MerchantFixture {
        let slug: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let owner = self.register(&format!("{slug}-owner")).await;
        let resp = self
            .post(
                "/api/v1/merchants",
                merchant_application(name),
                Some(&owner.access_token),
            )
            .await;
        assert_eq!(resp.status, 201, "apply failed: {:?}", resp.body);
        let id = resp.body["id"]
            .as_str()
            .and_then(|id| Uuid::parse_str(id).ok())
            .expect("merchant id");
        let admin = self.admin().await;
        let resp = self
            .post(
                &format!("/api/v1/admin/merchants/{id}/approve"),
                json!({}),
                Some(&admin.access_token),
            )
            .await;
        assert_eq!(resp.status, 200, "approve failed: {:?}", resp.body);
        MerchantFixture { id, owner }
    }

    /// A new user (email verified) who joined `merchant` as `role` through an invitation.
    pub async fn staff(&self, merchant: &MerchantFixture, role: &str) -> Session {
        let user = self.customer(role).await;
        let resp = self
            .post(
                &format!("/api/v1/merchants/{}/invitations", merchant.id),
                json!({"email": user.email, "role": role}),
                Some(&merchant.owner.access_token),
            )
            .await;
        assert_eq!(resp.status, 201, "invite failed: {:?}", resp.body);
        let token = self.invitation_token(&user.email).await;
        let resp = self
            .post(
                "/api/v1/merchants/invitations/accept",
                json!({ "token": token }),
                Some(&user.access_token),
            )
            .await;
        assert_eq!(resp.status, 200, "accept failed: {:?}", resp.body);
        user
    }

    /// The token of the latest invitation to `email`, as the invitation email carries it (read
    /// from the event the email is made from).
    pub async fn invitation_token(&self, email: &str) -> String {
        let payloads: Vec<String> = on_db!(&self.ctx().db, pool => sqlx::query_scalar(
            "SELECT CAST(payload AS TEXT) FROM platform_outbox WHERE event_type = 'merchant.member_invited' ORDER BY seq DESC"
        ).fetch_all(pool).await)
        .expect("outbox");
        payloads
            .iter()
            .filter_map(|p| serde_json::from_str::<Value>(p).ok())
            .find(|p| p["email"] == email.to_lowercase())
            .map(|p| self.unseal(&p["token"]))
            .expect("invitation event")
    }
}

impl TestApp {
    /// A category created by `admin` (a root when `parent` is None).
    pub async fn category(&self, admin: &Session, slug: &str, parent: Option<Uuid>) -> Uuid {
        let resp = self
            .post(
                "/api/v1/categories",
                json!({"slug": slug, "parentId": parent, "name": {"en": slug, "km": slug, "id": slug}}),
                Some(&admin.access_token),
            )
            .await;
        assert_eq!(resp.status, 201, "category failed: {:?}", resp.body);
        resp.body["id"]
            .as_str()
            .and_then(|id| Uuid::parse_str(id).ok())
            .expect("category id")
    }

    /// A DRAFT product of `merchant` with one variant; returns (product id, variant id).
    pub async fn draft_product(
        &self,
        merchant: &MerchantFixture,
        category: Uuid,
        name: &str,
        sku: &str,
        price: i64,
    ) -> (Uuid, Uuid) {
        self.draft_product_in(merchant, category, name, sku, price, "USD")
            .await
    }

    /// [`Self::draft_product`] priced in `currency`.
    pub async fn draft_product_in(
        &self,
        merchant: &MerchantFixture,
        category: Uuid,
        name: &str,
        sku: &str,
        price: i64,
        currency: &str,
    ) -> (Uuid, Uuid) {
        let resp = self
            .post(
                "/api/v1/products",
                json!({
                    "merchantId": merchant.id,
                    "name": {"en": name},
                    "categoryId": category,
                    "type": "PHYSICAL",
                    "weightGrams": 250,
                    "variants": [{"sku": sku, "price": price, "currency": currency}]
                }),
                Some(&merchant.owner.access_token),
            )
            .await;
        assert_eq!(resp.status, 201, "create product failed: {:?}", resp.body);
        let id = |v: &Value| {
            v.as_str()
                .and_then(|id| Uuid::parse_str(id).ok())
                .expect("id")
        };
        (id(&resp.body["id"]), id(&resp.body["variants"][0]["id"]))
    }

    /// Submits a product and has `admin` approve it: it is listed.
    pub async fn activate_product(
        &self,
        merchant: &MerchantFixture,
        admin: &Session,
        product: Uuid,
    ) {
        let path = format!("/api/v1/products/{product}/status");
        let resp = self
            .patch(
                &path,
                json!({"status": "PENDING_REVIEW"}),
                Some(&merchant.owner.access_token),
            )
            .await;
        assert_eq!(resp.status, 200, "submit failed: {:?}", resp.body);
        let resp = self
            .patch(
                &path,
                json!({"status": "ACTIVE"}),
                Some(&admin.access_token),
            )
            .await;
        assert_eq!(resp.status, 200, "approve failed: {:?}", resp.body);
        // Listing also waits for catalog to hear that the merchant is ACTIVE.
        crate::eventually(
            std::time::Duration::from_secs(10),
            "product listed",
            || async {
                (self
                    .get(&format!("/api/v1/products/{product}"), None)
                    .await
                    .status
                    == 200)
                    .then_some(())
            },
        )
        .await;
    }
}
