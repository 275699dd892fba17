//! The merchant's portal, per shop: `/merchant/{merchant}/...`. The dashboard, products with
//! their variants and stock, voucher offers, orders to fulfil, the counter (scan or type a
//! voucher), staff and invitations, outlets, the bank account, balance, statements and
//! payouts. What a member may do is the API's answer for their role; the navigation only hides
//! what a cashier cannot open.

mod catalog;
mod counter;
mod dashboard;
mod money;
mod orders;
mod team;
mod vouchers;

use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::WebError;
use crate::render::{t, Portal};
use crate::session::Visitor;
use crate::Web;

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/merchant", get(dashboard::choose))
        .route("/merchant/apply", post(dashboard::apply))
        .route("/merchant/{merchant}", get(dashboard::show))
        .route(
            "/merchant/{merchant}/products",
            get(catalog::products).post(catalog::create_product),
        )
        .route(
            "/merchant/{merchant}/products/new",
            get(catalog::new_product),
        )
        .route(
            "/merchant/{merchant}/products/{product}",
            get(catalog::product),
        )
        .route(
            "/merchant/{merchant}/products/{product}/submit",
            post(catalog::submit),
        )
        .route(
            "/merchant/{merchant}/products/{product}/variants",
            post(catalog::add_variant),
        )
        .route("/merchant/{merchant}/stock", post(catalog::set_stock))
        .route(
            "/merchant/{merchant}/vouchers",
            get(vouchers::offers).post(vouchers::create_offer),
        )
        .route(
            "/merchant/{merchant}/vouchers/new",
            get(vouchers::new_offer),
        )
        .route("/merchant/{merchant}/orders", get(orders::list))
        .route(
            "/merchant/{merchant}/orders/{order}/status/{status}",
            post(orders::move_to),
        )
        .route(
            "/merchant/{merchant}/counter",
            get(counter::show).post(counter::redeem),
        )
        .route("/merchant/{merchant}/staff", get(team::staff))
        .route("/merchant/{merchant}/staff/invite", post(team::invite))
        .route(
            "/merchant/{merchant}/staff/{user}/remove",
            post(team::remove_member),
        )
        .route(
            "/merchant/{merchant}/invitations/{invitation}/revoke",
            post(team::revoke),
        )
        .route(
            "/merchant/{merchant}/outlets",
            get(team::outlets).post(team::add_outlet),
        )
        .route("/merchant/{merchant}/money", get(money::show))
        .route(
            "/merchant/{merchant}/bank-account",
            post(money::bank_account),
        )
}

/// The shop a page is about, as the visitor's membership says: its name and their role.
pub struct Shop {
    pub id: Uuid,
    pub name: String,
    pub role: String,
    pub status: String,
}

impl Shop {
    /// The layout's fields for this shop (the navigation depends on the role).
    pub fn view(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "status": self.status,
            "manages": self.role != "cashier",
        })
    }
}

/// The visitor's membership of `merchant`; a shop they are not staff of is not found.
pub async fn shop(web: &Web, visitor: &Visitor, merchant: Uuid) -> Result<Shop, WebError> {
    visitor.signed_in()?;
    let mine = web.read(visitor, "/api/v1/merchants/mine").await?;
    let found = mine
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m.get("merchantId").and_then(Value::as_str) == Some(&merchant.to_string()))
        .ok_or(WebError::Forbidden)?;
    let text = |key: &str| {
        found
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Ok(Shop {
        id: merchant,
        name: text("businessName"),
        role: text("role"),
        status: text("status"),
    })
}

/// A page of the merchant portal: `page`'s fields with the shop's.
pub fn page(
    web: &Web,
    visitor: &Visitor,
    shop: &Shop,
    template: &str,
    mut fields: Value,
) -> crate::error::Page {
    if let Some(map) = fields.as_object_mut() {
        map.insert("shop".into(), shop.view());
    }
    web.views.page(visitor, Portal::Merchant, template, fields)
}

/// Order states a merchant moves orders to, with their button labels.
pub const ORDER_MOVES: [(&str, &str); 5] = [
    ("PROCESSING", t("order.move.processing")),
    ("SHIPPED", t("order.move.shipped")),
    ("DELIVERED", t("order.move.delivered")),
    ("COMPLETED", t("order.move.completed")),
    ("CANCELLED", t("order.move.cancelled")),
];
