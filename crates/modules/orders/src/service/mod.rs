//! orders' use cases: checkout (a saga, in `checkout`, with the discounts it is priced with
//! and takes in `discounts`), moves through the status machine and reactions to payments (in
//! `lifecycle`), and the reads customers, merchants and admins get.

mod checkout;
mod discounts;
mod lifecycle;
mod shipping;

use std::collections::HashMap;
use std::sync::Arc;

use cart_contract::CartClient;
use catalog_contract::CatalogClient;
use inventory_contract::{InventoryClient, Shortage};
use kernel::{
    Actor, ActorKind, ApiError, Currency, FieldError, LocalizedText, MerchantPermission, Page,
    PageQuery, Permission, Timestamp,
};
use merchants_contract::MerchantsClient;
use platform::services::CallError;
use platform::Context;
use uuid::Uuid;

use crate::api::*;
use crate::domain::{self, Mover, OrderStatus};
use crate::store::{self, GroupRow, LineRow, OrderRow};

pub const SOURCE: &str = "orders";

#[derive(Debug, thiserror::Error)]
pub enum OrdersError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("nothing to order")]
    Empty,
    #[error("not for sale: {0:?}")]
    Unavailable(Vec<Uuid>),
    #[error("one order group is paid in one currency")]
    MixedCurrencies,
    #[error("voucher lines refused")]
    VouchersRefused(Vec<vouchers_contract::PurchaseRefusal>),
    #[error("amounts too large")]
    TooLarge,
    #[error("not enough stock")]
    Insufficient(Vec<Shortage>),
    #[error("order not found")]
    NotFound,
    #[error("{from:?} cannot move to {to:?}")]
    IllegalTransition {
        from: OrderStatus,
        to: OrderStatus,
        allowed: Vec<OrderStatus>,
    },
    #[error("the checkout was abandoned and compensated")]
    Abandoned,
    #[error("only customers check out")]
    NotACustomer,
    #[error("coupons do not apply")]
    CouponNotApplicable(Vec<promotions_contract::CodeRejection>),
    #[error("promotions ran out: {0:?}")]
    PromotionUnavailable(Vec<Uuid>),
    #[error("nothing to pay")]
    NothingToPay,
    #[error("flash sale sold out: {0:?}")]
    SoldOut(Vec<Uuid>),
    #[error("flash sale limit: {0:?}")]
    FlashSaleLimit(Vec<Uuid>),
    #[error("flash sale busy")]
    FlashSaleBusy,
    #[error("flash sale ended: {0:?}")]
    FlashSaleEnded(Vec<Uuid>),
    #[error("not enough points")]
    InsufficientPoints,
    #[error("below the minimum redemption of {0} points")]
    PointsBelowMinimum(i64),
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    #[error("a shipping address is required")]
    AddressRequired,
    #[error("no shipping option picked for {0:?}")]
    ShippingChoiceRequired(Vec<Uuid>),
    #[error("shipping option not offered for {0:?}")]
    ShippingUnavailable(Vec<Uuid>),
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("events: {0}")]
    Bus(#[from] platform::bus::BusError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<OrdersError> for ApiError {
    fn from(err: OrdersError) -> Self {
        match err {
            OrdersError::Invalid(errors) => ApiError::validation(errors),
            OrdersError::Empty => ApiError::validation_one("lines", "there is nothing to order")
                .with_code("empty_order"),
            OrdersError::Unavailable(ids) => ApiError::conflict(
                "items_unavailable",
                "Some items are not for sale; nothing was ordered",
            )
            .with_extension("variantIds", serde_json::json!(ids)),
            OrdersError::VouchersRefused(lines) => ApiError::conflict(
                "voucher_not_purchasable",
                "Some vouchers cannot be bought: no offer on sale, or your limit is reached; nothing was ordered",
            )
            .with_extension("lines", serde_json::json!(lines)),
            OrdersError::MixedCurrencies => ApiError::conflict(
                "mixed_currencies",
                "Items priced in different currencies cannot be ordered together",
            ),
            OrdersError::TooLarge => ApiError::validation_one("lines", "the amounts are too large")
                .with_code("too_large"),
            OrdersError::Insufficient(shortages) => ApiError::conflict(
                "insufficient_stock",
                "Not enough stock for every line; nothing was ordered",
            )
            .with_extension("shortages", serde_json::json!(shortages)),
            OrdersError::NotFound => ApiError::not_found("order_not_found", "No such order"),
            OrdersError::IllegalTransition { from, to, allowed } => ApiError::conflict(
                "illegal_transition",
                format!(
                    "An order in {} cannot move to {}",
                    from.as_str(),
                    to.as_str()
                ),
            )
            .with_extension("currentStatus", serde_json::json!(from))
            .with_extension("allowedNextStates", serde_json::json!(allowed)),
            OrdersError::Abandoned => ApiError::conflict(
                "checkout_abandoned",
                "The checkout took too long and was undone; try again",
            ),
            OrdersError::NotACustomer => {
                ApiError::forbidden("Only a signed-in person can check out")
                    .with_code("not_a_customer")
            }
            OrdersError::CouponNotApplicable(rejections) => OrdersCode::CouponNotApplicable
                .problem("A coupon code does not apply; nothing was ordered")
                .with_extension("coupons", serde_json::json!(rejections)),
            OrdersError::PromotionUnavailable(ids) => OrdersCode::PromotionUnavailable
                .problem(
                    "A discount reached its limit or budget meanwhile; look at the cart again",
                )
                .with_extension("promotionIds", serde_json::json!(ids)),
            OrdersError::NothingToPay => OrdersCode::NothingToPay.problem(
                "The discounts take the whole amount: a checkout with nothing to pay is not supported yet",
            ),
            OrdersError::SoldOut(ids) => OrdersCode::SoldOut
                .problem("A flash-sale item is sold out; nothing was ordered")
                .with_extension("variantIds", serde_json::json!(ids)),
            OrdersError::FlashSaleLimit(ids) => OrdersCode::FlashSaleLimit
                .problem("You already hold or bought as many units as the flash sale allows; nothing was ordered")
                .with_extension("variantIds", serde_json::json!(ids)),
            OrdersError::FlashSaleEnded(ids) => OrdersCode::FlashSaleEnded
                .problem("The flash sale of some items has just ended: look at the cart again; nothing was ordered")
                .with_extension("variantIds", serde_json::json!(ids)),
            OrdersError::FlashSaleBusy => OrdersCode::FlashSaleBusy
                .problem("Too many buyers at this moment; try again in a second")
                .with_retry_after(1),
            OrdersError::InsufficientPoints => OrdersCode::InsufficientPoints
                .problem("You have fewer points than asked to redeem; nothing was ordered"),
            OrdersError::PointsBelowMinimum(min) => OrdersCode::PointsBelowMinimum
                .problem(format!("At least {min} points are redeemed at once; nothing was ordered"))
                .with_extension("minPoints", serde_json::json!(min)),
            OrdersError::Forbidden(detail) => ApiError::forbidden(detail),
            OrdersError::AddressRequired => OrdersCode::AddressRequired
                .problem("Something in this checkout ships: give shippingAddressId, one of your saved addresses; nothing was ordered"),
            OrdersError::ShippingChoiceRequired(ids) => OrdersCode::ShippingChoiceRequired
                .problem("Pick one shipping option for each order that ships; nothing was ordered")
                .with_extension("merchantIds", serde_json::json!(ids)),
            OrdersError::ShippingUnavailable(ids) => OrdersCode::ShippingUnavailable
                .problem("A shipping option picked is not offered for this address and parcel; quote again; nothing was ordered")
                .with_extension("merchantIds", serde_json::json!(ids)),
            OrdersError::Call(err) => err.into(),
            OrdersError::Database(_) | OrdersError::Bus(_) | OrdersError::Corrupt(_) => {
                tracing::error!(error = %err, "orders failure");
                ApiError::internal()
            }
        }
    }
}

pub type Result<T> = std::result::Result<T, OrdersError>;

pub struct Orders {
    pub ctx: Context,
    pub config: crate::config::OrdersConfig,
    catalog: CatalogClient,
    vouchers: vouchers_contract::VouchersClient,
    merchants: MerchantsClient,
    inventory: InventoryClient,
    cart: CartClient,
    promotions: promotions_contract::PromotionsClient,
    flashsales: flashsales_contract::FlashSalesClient,
    loyalty: loyalty_contract::LoyaltyClient,
    identity: identity_contract::IdentityClient,
    shipping: shipping_contract::ShippingClient,
}

impl Orders {
    pub fn new(ctx: Context) -> Arc<Self> {
        Arc::new(Self {
            catalog: CatalogClient::new(ctx.services.clone(), SOURCE),
            vouchers: vouchers_contract::VouchersClient::new(ctx.services.clone(), SOURCE),
            merchants: MerchantsClient::new(ctx.services.clone(), SOURCE),
            inventory: InventoryClient::new(ctx.services.clone(), SOURCE),
            cart: CartClient::new(ctx.services.clone(), SOURCE),
            promotions: promotions_contract::PromotionsClient::new(ctx.services.clone(), SOURCE),
            flashsales: flashsales_contract::FlashSalesClient::new(ctx.services.clone(), SOURCE),
            loyalty: loyalty_contract::LoyaltyClient::new(ctx.services.clone(), SOURCE),
            identity: identity_contract::IdentityClient::new(ctx.services.clone(), SOURCE),
            shipping: shipping_contract::ShippingClient::new(ctx.services.clone(), SOURCE),
            config: ctx.config.section_or_default(),
            ctx,
        })
    }

    /// How the actor relates to an order: None means it is none of their business (404).
    fn viewer(actor: &Actor, order: &OrderRow) -> Option<Mover> {
        if actor.can(Permission::AdminOrders) {
            Some(Mover::Admin)
        } else if actor.is_staff_with(order.merchant_id, MerchantPermission::ViewInternal) {
            Some(Mover::Merchant)
        } else if actor.kind == ActorKind::User && actor.user_id == order.customer_id {
            Some(Mover::Customer)
        } else {
            None
        }
    }

    async fn visible_order(&self, actor: &Actor, id: Uuid) -> Result<(OrderRow, Mover)> {
        let row = store::order(&self.ctx.db, id)
            .await?
            .ok_or(OrdersError::NotFound)?;
        let viewer = Self::viewer(actor, &row).ok_or(OrdersError::NotFound)?;
        Ok((row, viewer))
    }

    pub async fn get(&self, actor: &Actor, id: Uuid) -> Result<Order> {
        let (row, viewer) = self.visible_order(actor, id).await?;
        let lines = store::lines_of(&self.ctx.db, &[row.id]).await?;
        order_view(&row, &lines, viewer)
    }

    pub async fn group(&self, actor: &Actor, id: Uuid) -> Result<OrderGroup> {
        let group = store::group(&self.ctx.db, id)
            .await?
            .ok_or(OrdersError::NotFound)?;
        let rows = store::orders_of_group(&self.ctx.db, id).await?;
        let is_customer = actor.kind == ActorKind::User && actor.user_id == group.customer_id;
        if !is_customer && !actor.can(Permission::AdminOrders) {
            return Err(OrdersError::NotFound);
        }
        let viewer = if is_customer {
            Mover::Customer
        } else {
            Mover::Admin
        };
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let lines = store::lines_of(&self.ctx.db, &ids).await?;
        group_view(&group, &rows, &lines, viewer)
    }

    pub async fn list(&self, actor: &Actor, query: OrderQuery) -> Result<Page<Order>> {
        let page = PageQuery {
            limit: query.limit,
            cursor: query.cursor.clone(),
        };
        let cursor = match page
            .cursor()
            .map_err(|_| invalid("cursor", "is not valid"))?
        {
            Some(c) => Some(parse_cursor(&c.0).ok_or_else(|| invalid("cursor", "is not valid"))?),
            None => None,
        };
        let (customer_id, merchant_ids, viewer) = match query.merchant_id {
            Some(merchant_id) => {
                if actor.can(Permission::AdminOrders) {
                    (None, Some(vec![merchant_id]), Mover::Admin)
                } else if actor.is_staff_with(merchant_id, MerchantPermission::ViewInternal) {
                    (None, Some(vec![merchant_id]), Mover::Merchant)
                } else {
                    return Err(OrdersError::Forbidden("You are not staff of this merchant"));
                }
            }
            None if actor.kind == ActorKind::User => (Some(actor.user_id), None, Mover::Customer),
            None if actor.can(Permission::AdminOrders) => (None, None, Mover::Admin),
            None => return Err(OrdersError::NotACustomer),
        };
        let limit = page.limit();
        let filter = store::OrderFilter {
            customer_id,
            merchant_ids,
            status: query.status.map(|s| s.as_str().to_owned()),
            cursor,
            limit: i64::from(limit) + 1,
        };
        let rows = store::list_orders(&self.ctx.db, &filter).await?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let lines = store::lines_of(&self.ctx.db, &ids).await?;
        let mut by_order: HashMap<Uuid, Vec<LineRow>> = HashMap::new();
        for line in lines {
            by_order.entry(line.order_id).or_default().push(line);
        }
        let views = rows
            .iter()
            .map(|row| order_view(row, by_order.get(&row.id).map_or(&[][..], |v| v), viewer))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(views, limit, |o| {
            format!("{}:{}", o.created_at.millis(), o.id)
        }))
    }

    pub async fn timeline(&self, actor: &Actor, id: Uuid) -> Result<Vec<TimelineEntry>> {
        self.visible_order(actor, id).await?;
        store::timeline(&self.ctx.db, id)
            .await?
            .into_iter()
            .map(|row| {
                Ok(TimelineEntry {
                    status: parse_status(&row.status)?,
                    previous_status: row
                        .previous_status
                        .as_deref()
                        .map(parse_status)
                        .transpose()?,
                    by: row.mover,
                    actor_id: row.actor_id,
                    note: row.note,
                    at: Timestamp::from_millis(row.at),
                })
            })
            .collect()
    }

    /// The order and everything its invoice shows.
    pub async fn invoice_data(&self, actor: &Actor, id: Uuid) -> Result<(Order, Option<GroupRow>)> {
        let order = self.get(actor, id).await?;
        let group = store::group(&self.ctx.db, order.group_id).await?;
        Ok((order, group))
    }

    /// Who an order is between (internal, for chat).
    pub async fn parties(&self, order_id: Uuid) -> Result<OrderParties> {
        let order = store::order(&self.ctx.db, order_id)
            .await?
            .ok_or(OrdersError::NotFound)?;
        Ok(OrderParties {
            order_id,
            customer_id: order.customer_id,
            merchant_id: order.merchant_id,
        })
    }

    /// What a payment of the group must collect (internal, for payments).
    pub async fn payable(&self, group_id: Uuid) -> Result<Payable> {
        let group = store::group(&self.ctx.db, group_id)
            .await?
            .ok_or(OrdersError::NotFound)?;
        let rows: Vec<OrderRow> = store::orders_of_group(&self.ctx.db, group_id)
            .await?
            .into_iter()
            .filter(|r| r.status == OrderStatus::PendingPayment.as_str())
            .collect();
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let lines = store::lines_of(&self.ctx.db, &ids).await?;
        let orders: Vec<PayableOrder> = rows
            .iter()
            .map(|r| PayableOrder {
                order_id: r.id,
                amount: r.total,
                voucher_amount: Some(voucher_value(lines.iter().filter(|l| l.order_id == r.id))),
            })
            .collect();
        Ok(Payable {
            group_id,
            group_number: group.number,
            customer_id: group.customer_id,
            currency: parse_currency(&group.currency)?,
            amount: orders.iter().map(|o| o.amount).sum(),
            orders,
            expires_at: Timestamp::from_millis(group.expires_at),
            paid: group.payment_id.is_some(),
        })
    }
}

/// What the customer paid for the vouchers among `lines` (after discounts): vouchers refunds
/// that part itself, by voiding them.
pub(crate) fn voucher_value<'a>(lines: impl IntoIterator<Item = &'a LineRow>) -> i64 {
    domain::voucher_value(
        lines
            .into_iter()
            .map(|l| (l.product_type.as_str(), l.line_total - l.discount)),
    )
}

fn invalid(field: &str, message: &str) -> OrdersError {
    OrdersError::Invalid(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }])
}

fn parse_cursor(raw: &str) -> Option<(i64, Uuid)> {
    let (at, id) = raw.split_once(':')?;
    Some((at.parse().ok()?, id.parse().ok()?))
}

pub(crate) fn parse_status(text: &str) -> Result<OrderStatus> {
    OrderStatus::parse(text).ok_or_else(|| OrdersError::Corrupt(format!("status {text}")))
}

fn parse_currency(text: &str) -> Result<Currency> {
    Currency::parse(text).ok_or_else(|| OrdersError::Corrupt(format!("currency {text}")))
}

fn line_view(line: &LineRow) -> OrderLine {
    OrderLine {
        id: line.id,
        variant_id: line.variant_id,
        product_id: line.product_id,
        sku: line.sku.clone(),
        product_name: serde_json::from_str(&line.product_name).unwrap_or_else(|_| LocalizedText {
            en: line.sku.clone(),
            km: None,
            id: None,
        }),
        product_type: line.product_type.clone(),
        quantity: line.quantity,
        unit_price: line.unit_price,
        line_total: line.line_total,
        commission_bps: line.commission_bps,
        commission: line.commission,
        discount: line.discount,
        platform_discount: line.platform_discount,
    }
}

pub(crate) fn order_view(row: &OrderRow, lines: &[LineRow], viewer: Mover) -> Result<Order> {
    let status = parse_status(&row.status)?;
    Ok(Order {
        id: row.id,
        number: row.number.clone(),
        group_id: row.group_id,
        merchant_id: row.merchant_id,
        customer_id: row.customer_id,
        status,
        currency: parse_currency(&row.currency)?,
        subtotal: row.subtotal,
        discount: row.discount,
        discounts: serde_json::from_str(&row.discounts)
            .map_err(|e| OrdersError::Corrupt(format!("discounts of {}: {e}", row.id)))?,
        shipping: row.shipping,
        shipping_quoted: row.shipping_details.is_some(),
        shipping_details: shipping_of(row)?,
        total: row.total,
        commission: row.commission,
        refunded: row.refunded,
        digital_only: row.digital_only,
        tracking_number: row.tracking_number.clone(),
        note: row.note.clone(),
        payment_id: row.payment_id,
        expires_at: Timestamp::from_millis(row.expires_at),
        created_at: Timestamp::from_millis(row.created_at),
        updated_at: Timestamp::from_millis(row.updated_at),
        lines: lines
            .iter()
            .filter(|l| l.order_id == row.id)
            .map(line_view)
            .collect(),
        allowed_next_states: domain::allowed_next(status, viewer, row.digital_only),
    })
}

fn group_view(
    group: &GroupRow,
    rows: &[OrderRow],
    lines: &[LineRow],
    viewer: Mover,
) -> Result<OrderGroup> {
    let orders = rows
        .iter()
        .map(|r| order_view(r, lines, viewer))
        .collect::<Result<Vec<_>>>()?;
    Ok(OrderGroup {
        id: group.id,
        number: group.number.clone(),
        customer_id: group.customer_id,
        currency: parse_currency(&group.currency)?,
        subtotal: group.subtotal,
        shipping: orders.iter().map(|o| o.shipping).sum(),
        discount: group.discount,
        total: group.total,
        amount_due: orders
            .iter()
            .filter(|o| o.status == OrderStatus::PendingPayment)
            .map(|o| o.total)
            .sum(),
        payment_id: group.payment_id,
        expires_at: Timestamp::from_millis(group.expires_at),
        created_at: Timestamp::from_millis(group.created_at),
        orders,
    })
}

/// The event payload of an order.
pub(crate) fn fact(
    row: &OrderRow,
    lines: &[LineRow],
    status: OrderStatus,
    previous: Option<OrderStatus>,
    reason: Option<&str>,
) -> Result<OrderFact> {
    Ok(OrderFact {
        order_id: row.id,
        group_id: row.group_id,
        number: row.number.clone(),
        merchant_id: row.merchant_id,
        customer_id: row.customer_id,
        status,
        previous_status: previous,
        currency: parse_currency(&row.currency)?,
        total: row.total,
        commission: row.commission,
        refunded: row.refunded,
        digital_only: row.digital_only,
        payment_id: row.payment_id,
        tracking_number: row.tracking_number.clone(),
        reason: reason.map(str::to_owned),
        lines: lines
            .iter()
            .map(|l| OrderFactLine {
                variant_id: l.variant_id,
                product_id: l.product_id,
                sku: l.sku.clone(),
                product_type: l.product_type.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price,
                line_total: l.line_total,
                discount: l.discount,
                platform_discount: l.platform_discount,
                commission: l.commission,
            })
            .collect(),
        shipping: shipping_of(row)?,
    })
}

fn shipping_of(row: &OrderRow) -> Result<Option<OrderShipping>> {
    row.shipping_details
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| OrdersError::Corrupt(format!("shipping of {}: {e}", row.id)))
}
