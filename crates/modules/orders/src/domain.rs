//! Pure rules of orders: the status machine and who may move it, and the checkout plan
//! (re-priced lines grouped per merchant, totals and commission in integer minor units).

pub use orders_contract::{DiscountSource, Mover, OrderDiscount, OrderStatus};

use std::collections::{BTreeMap, HashMap};

use cart_contract::CartContentLine;
use catalog_contract::{ProductType, VariantQuote};
use kernel::{text_enum, Currency, LocalizedText, Money};
use loyalty_contract::OrderPoints;
use promotions_contract::{AppliedPromotion, Quote, ReservedPromotion, POINTS_SOURCE_ID};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::api::{CheckoutLine, OrderShipping};

/// Where a checkout saga is. `STARTED` (plan stored) → `RESERVED` (stock held) → `COMPLETED`
/// (orders created); a failure or a recovery moves it to `COMPENSATING` (stock released), then
/// `COMPENSATED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SagaState {
    Started,
    Reserved,
    Completed,
    Compensating,
    Compensated,
}

text_enum!(SagaState {
    Started => "STARTED",
    Reserved => "RESERVED",
    Completed => "COMPLETED",
    Compensating => "COMPENSATING",
    Compensated => "COMPENSATED",
});

/// The value of the voucher lines among `(product type, line total)`.
pub fn voucher_value<'a>(lines: impl IntoIterator<Item = (&'a str, i64)>) -> i64 {
    lines
        .into_iter()
        .filter(|(kind, _)| *kind == ProductType::Voucher.as_str())
        .map(|(_, total)| total)
        .sum()
}

/// Whether `mover` may move an order from `from` to `to`.
pub fn may_move(from: OrderStatus, to: OrderStatus, mover: Mover, digital_only: bool) -> bool {
    use Mover::*;
    use OrderStatus::*;
    let staff = matches!(mover, Merchant | Admin);
    match (from, to) {
        (PendingPayment, Paid | Expired) => mover == System,
        (PendingPayment, Cancelled) => mover != System,
        (Paid, Completed) => digital_only && mover == System,
        (Paid, Processing) => !digital_only && staff,
        (Paid | Processing, Cancelled) => mover != System,
        (Processing, Shipped) => staff,
        // The system: the courier reported the parcel delivered (shipping's shipment.delivered).
        (Shipped, Delivered) => staff || mover == System,
        (Shipped, Cancelled) => mover == Admin,
        (Delivered, Completed) => staff || mover == Customer,
        (Delivered, Returned) => staff,
        (Returned, Refunded) => mover == System || mover == Admin,
        _ => false,
    }
}

/// The moves `mover` may make from `from`, for the 409 answer and the order view.
pub fn allowed_next(from: OrderStatus, mover: Mover, digital_only: bool) -> Vec<OrderStatus> {
    OrderStatus::ALL
        .iter()
        .copied()
        .filter(|to| may_move(from, *to, mover, digital_only))
        .collect()
}

pub const MAX_LINES: usize = 100;
pub const MAX_QUANTITY: i64 = 999;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedLine {
    pub id: Uuid,
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub product_name: LocalizedText,
    pub product_type: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub line_total: i64,
    pub commission_bps: i64,
    pub commission: i64,
    /// Taken off by promotions; the customer pays `line_total - discount`.
    #[serde(default)]
    pub discount: i64,
    /// The platform-funded part of `discount`.
    #[serde(default)]
    pub platform_discount: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedOrder {
    pub id: Uuid,
    pub number: String,
    pub merchant_id: Uuid,
    pub subtotal: i64,
    pub total: i64,
    pub commission: i64,
    pub digital_only: bool,
    pub lines: Vec<PlannedLine>,
    #[serde(default)]
    pub discount: i64,
    /// The promotions that took something off this order, and how much each.
    #[serde(default)]
    pub promotions: Vec<OrderDiscount>,
    /// How it ships (an order with a physical line); its charge is in `total`.
    #[serde(default)]
    pub shipping: Option<OrderShipping>,
}

impl PlannedOrder {
    pub fn shipping_charge(&self) -> i64 {
        self.shipping.as_ref().map_or(0, |s| s.option.amount)
    }
}

/// The priced checkout, persisted with the saga so a crashed checkout can be compensated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub group_id: Uuid,
    pub number: String,
    pub customer_id: Uuid,
    pub currency: Currency,
    pub subtotal: i64,
    pub total: i64,
    pub note: Option<String>,
    pub orders: Vec<PlannedOrder>,
    /// The customer's cart lines ordered (removed from the cart after checkout).
    pub from_cart: bool,
    pub requested: Vec<CheckoutLine>,
    /// The cart lines read, with their ids, when `from_cart`.
    #[serde(default)]
    pub cart_lines: Vec<CartContentLine>,
    #[serde(default)]
    pub discount: i64,
    /// What the saga reserves of promotions' limits and budgets (and releases on failure).
    #[serde(default)]
    pub promotions: Vec<ReservedPromotion>,
    /// The cart's coupon codes this checkout used (cart drops them).
    #[serde(default)]
    pub coupon_codes: Vec<String>,
    /// Flash-sale units were taken for this checkout (released on failure).
    #[serde(default)]
    pub flash_sale: bool,
    /// Loyalty points the saga redeems, per order (given back on failure).
    #[serde(default)]
    pub points: Vec<OrderPoints>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    Empty,
    TooManyLines,
    Quantity(Uuid),
    Unavailable(Vec<Uuid>),
    MixedCurrencies,
    TooLarge,
}

/// Sums duplicate variants and checks counts and quantities.
pub fn normalize_lines(lines: &[CheckoutLine]) -> Result<Vec<CheckoutLine>, PlanError> {
    if lines.is_empty() {
        return Err(PlanError::Empty);
    }
    let mut merged: Vec<CheckoutLine> = Vec::new();
    for line in lines {
        if line.quantity < 1 || line.quantity > MAX_QUANTITY {
            return Err(PlanError::Quantity(line.variant_id));
        }
        match merged.iter_mut().find(|l| l.variant_id == line.variant_id) {
            Some(existing) => {
                existing.quantity += line.quantity;
                if existing.quantity > MAX_QUANTITY {
                    return Err(PlanError::Quantity(line.variant_id));
                }
            }
            None => merged.push(line.clone()),
        }
    }
    if merged.len() > MAX_LINES {
        return Err(PlanError::TooManyLines);
    }
    Ok(merged)
}

/// A human-friendly number from the group id's random bits, e.g. `PSR-20261123-7K2M9QXD`.
pub fn group_number(group_id: Uuid, date: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let bytes = group_id.as_bytes();
    // The last 8 bytes of a UUIDv7 are random.
    let mut bits = u64::from_be_bytes([
        bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15],
    ]);
    let mut suffix = String::with_capacity(8);
    for _ in 0..8 {
        suffix.push(char::from(ALPHABET[(bits & 31) as usize]));
        bits >>= 5;
    }
    format!("PSR-{date}-{suffix}")
}

/// Re-prices the lines from catalog quotes and splits them per merchant. `rate_of` gives the
/// commission in basis points for a quote (merchant and category). Commission is computed per
/// line, rounded half away from zero, and summed.
pub fn plan(
    group_id: Uuid,
    number: String,
    customer_id: Uuid,
    lines: &[CheckoutLine],
    quotes: &HashMap<Uuid, VariantQuote>,
    rate_of: impl Fn(&VariantQuote) -> i64,
    new_id: impl Fn() -> Uuid,
) -> Result<Plan, PlanError> {
    let unavailable: Vec<Uuid> = lines
        .iter()
        .filter(|l| !quotes.get(&l.variant_id).is_some_and(|q| q.sellable))
        .map(|l| l.variant_id)
        .collect();
    if !unavailable.is_empty() {
        return Err(PlanError::Unavailable(unavailable));
    }
    let mut currency = None;
    let mut by_merchant: BTreeMap<Uuid, Vec<PlannedLine>> = BTreeMap::new();
    let mut merchant_order: Vec<Uuid> = Vec::new();
    for line in lines {
        let quote = &quotes[&line.variant_id];
        if *currency.get_or_insert(quote.currency) != quote.currency {
            return Err(PlanError::MixedCurrencies);
        }
        let line_total = quote
            .price
            .checked_mul(line.quantity)
            .ok_or(PlanError::TooLarge)?;
        let commission_bps = rate_of(quote);
        let commission = Money::new(line_total, quote.currency)
            .apply_basis_points(commission_bps)
            .ok_or(PlanError::TooLarge)?
            .amount_minor;
        if !by_merchant.contains_key(&quote.merchant_id) {
            merchant_order.push(quote.merchant_id);
        }
        by_merchant
            .entry(quote.merchant_id)
            .or_default()
            .push(PlannedLine {
                id: new_id(),
                variant_id: quote.variant_id,
                product_id: quote.product_id,
                sku: quote.sku.clone(),
                product_name: quote.product_name.clone(),
                product_type: quote.product_type.as_str().to_owned(),
                quantity: line.quantity,
                unit_price: quote.price,
                line_total,
                commission_bps,
                commission,
                discount: 0,
                platform_discount: 0,
            });
    }
    let currency = currency.ok_or(PlanError::Empty)?;
    let mut orders = Vec::new();
    for (index, merchant_id) in merchant_order.into_iter().enumerate() {
        let lines = by_merchant.remove(&merchant_id).unwrap_or_default();
        let subtotal = checked_sum(lines.iter().map(|l| l.line_total))?;
        let commission = checked_sum(lines.iter().map(|l| l.commission))?;
        let digital_only = lines
            .iter()
            .all(|l| l.product_type == ProductType::Voucher.as_str());
        orders.push(PlannedOrder {
            id: new_id(),
            number: format!("{number}-{}", index + 1),
            merchant_id,
            subtotal,
            // Shipping is added by `set_shipping` once quoted.
            total: subtotal,
            commission,
            digital_only,
            lines,
            discount: 0,
            promotions: Vec::new(),
            shipping: None,
        });
    }
    let subtotal = checked_sum(orders.iter().map(|o| o.subtotal))?;
    Ok(Plan {
        group_id,
        number,
        customer_id,
        currency,
        subtotal,
        total: subtotal,
        note: None,
        orders,
        from_cart: false,
        requested: lines.to_vec(),
        cart_lines: Vec::new(),
        discount: 0,
        promotions: Vec::new(),
        coupon_codes: Vec::new(),
        flash_sale: false,
        points: Vec::new(),
    })
}

/// The lines of a plan in one sequence (order by order), as they are priced by promotions.
pub fn plan_lines(plan: &Plan) -> impl Iterator<Item = (&PlannedOrder, &PlannedLine)> {
    plan.orders
        .iter()
        .flat_map(|o| o.lines.iter().map(move |l| (o, l)))
}

/// Puts promotions' quote (priced on [`plan_lines`], in that sequence) on the plan: each
/// line's discount and its platform-funded part, the orders' and the group's totals, and the
/// reservation the saga makes.
///
/// Commission is charged on what the merchant sells for after its own discount (the line
/// total less the merchant-funded part): a platform-funded discount keeps the merchant whole
/// and is the platform's cost. It never exceeds what the customer pays for the line, so a deep
/// platform discount also forgoes commission.
pub fn apply_quote(plan: &mut Plan, quote: &Quote) -> Result<(), PlanError> {
    let mut index = 0;
    let mut order_of_line = Vec::new();
    for order in plan.orders.iter_mut() {
        for line in order.lines.iter_mut() {
            let Some(d) = quote.lines.get(index) else {
                return Err(PlanError::TooLarge);
            };
            index += 1;
            order_of_line.push(order.id);
            let discount = d.discount.clamp(0, line.line_total);
            let platform = d.platform_funded.clamp(0, discount);
            let merchant_sells_for = line.line_total - (discount - platform);
            let commission = Money::new(merchant_sells_for, plan.currency)
                .apply_basis_points(line.commission_bps)
                .ok_or(PlanError::TooLarge)?
                .amount_minor;
            line.discount = discount;
            line.platform_discount = platform;
            line.commission = commission.min(line.line_total - discount);
        }
        let charge = order.shipping_charge();
        let shipping_discounts = quote
            .shipping
            .iter()
            .filter(|s| s.merchant_id == order.merchant_id);
        let (taken, funded) = shipping_discounts.fold((0i64, 0i64), |(t, f), s| {
            (
                t.saturating_add(s.amount),
                f.saturating_add(s.platform_funded),
            )
        });
        let shipping_discount = taken.clamp(0, charge);
        if let Some(shipping) = order.shipping.as_mut() {
            shipping.discount = shipping_discount;
            shipping.platform_discount = funded.clamp(0, shipping_discount);
        }
        let lines_discount = checked_sum(order.lines.iter().map(|l| l.discount))?;
        order.discount = lines_discount + shipping_discount;
        order.commission = checked_sum(order.lines.iter().map(|l| l.commission))?;
        order.total = order.subtotal + charge - order.discount;
        order.promotions = promotions_of(&quote.applied, quote, order);
    }
    plan.discount = checked_sum(plan.orders.iter().map(|o| o.discount))?;
    plan.total = checked_sum(plan.orders.iter().map(|o| o.total))?;
    let order_of_merchant: HashMap<Uuid, Uuid> =
        plan.orders.iter().map(|o| (o.merchant_id, o.id)).collect();
    plan.promotions = quote.shares_by_order(&order_of_line, &order_of_merchant);
    plan.points = quote
        .points_by_order(&order_of_line)
        .into_iter()
        .map(|(order_id, points)| OrderPoints { order_id, points })
        .collect();
    Ok(())
}

/// What each applied promotion took off one order's lines.
fn promotions_of(
    applied: &[AppliedPromotion],
    quote: &Quote,
    order: &PlannedOrder,
) -> Vec<OrderDiscount> {
    applied
        .iter()
        .filter_map(|a| {
            let amount = allocated(quote, order, a.promotion_id);
            (amount > 0).then(|| OrderDiscount {
                source: DiscountSource::Promotion,
                promotion_id: a.promotion_id,
                name: a.name.clone(),
                code: a.code.clone(),
                amount,
            })
        })
        .chain(quote.points.iter().filter_map(|_| {
            let amount = allocated(quote, order, POINTS_SOURCE_ID);
            (amount > 0).then(|| OrderDiscount {
                source: DiscountSource::Points,
                promotion_id: POINTS_SOURCE_ID,
                name: LocalizedText {
                    en: "Loyalty points".into(),
                    km: Some("ពិន្ទុស្មោះត្រង់".into()),
                    id: Some("Poin loyalitas".into()),
                },
                code: None,
                amount,
            })
        }))
        .chain(quote.sales.iter().filter_map(|s| {
            let amount = allocated(quote, order, s.flash_sale_id);
            (amount > 0).then(|| OrderDiscount {
                source: DiscountSource::FlashSale,
                promotion_id: s.flash_sale_id,
                name: s.title.clone(),
                code: None,
                amount,
            })
        }))
        .collect()
}

/// What one promotion or sale took off the order's lines and its shipping.
fn allocated(quote: &Quote, order: &PlannedOrder, id: Uuid) -> i64 {
    let lines: i64 = quote
        .lines
        .iter()
        .filter(|d| order.lines.iter().any(|l| l.variant_id == d.variant_id))
        .flat_map(|d| d.allocations.iter())
        .filter(|x| x.promotion_id == id)
        .map(|x| x.amount)
        .sum();
    let shipping: i64 = quote
        .shipping
        .iter()
        .filter(|s| s.merchant_id == order.merchant_id && s.promotion_id == id)
        .map(|s| s.amount)
        .sum();
    lines + shipping.min(order.shipping_charge())
}

/// Puts a quoted shipping option on an order that ships: the charge joins its total (and the
/// group's). Discounts on it come with promotions' quote (`apply_quote`).
pub fn set_shipping(
    plan: &mut Plan,
    order_id: Uuid,
    shipping: OrderShipping,
) -> Result<(), PlanError> {
    if let Some(order) = plan.orders.iter_mut().find(|o| o.id == order_id) {
        order.total = order
            .subtotal
            .checked_add(shipping.option.amount)
            .ok_or(PlanError::TooLarge)?
            - order.discount;
        order.shipping = Some(shipping);
    }
    plan.total = checked_sum(plan.orders.iter().map(|o| o.total))?;
    Ok(())
}

fn checked_sum(mut values: impl Iterator<Item = i64>) -> Result<i64, PlanError> {
    values.try_fold(0i64, |sum, v| sum.checked_add(v).ok_or(PlanError::TooLarge))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote(merchant: Uuid, price: i64, kind: ProductType, currency: Currency) -> VariantQuote {
        VariantQuote {
            variant_id: kernel::new_id(),
            product_id: kernel::new_id(),
            merchant_id: merchant,
            sku: "SKU".into(),
            product_name: LocalizedText {
                en: "Thing".into(),
                km: None,
                id: None,
            },
            product_type: kind,
            price,
            currency,
            category_path: Vec::new(),
            brand_id: None,
            sellable: true,
            weight_grams: None,
            dimensions: None,
        }
    }

    fn line(q: &VariantQuote, quantity: i64) -> CheckoutLine {
        CheckoutLine {
            variant_id: q.variant_id,
            quantity,
        }
    }

    #[test]
    fn status_machine_follows_the_roles() {
        use Mover::*;
        use OrderStatus::*;
        assert!(may_move(PendingPayment, Cancelled, Customer, false));
        assert!(!may_move(PendingPayment, Paid, Customer, false));
        assert!(may_move(Paid, Processing, Merchant, false));
        assert!(!may_move(Paid, Processing, Customer, false));
        assert!(may_move(Processing, Cancelled, Customer, false));
        assert!(!may_move(Shipped, Cancelled, Merchant, false));
        assert!(may_move(Shipped, Cancelled, Admin, false));
        assert!(may_move(Delivered, Returned, Merchant, false));
        assert!(!may_move(Completed, Cancelled, Admin, false));
        // Digital-only orders complete on payment and never ship.
        assert!(may_move(Paid, Completed, System, true));
        assert!(!may_move(Paid, Processing, Merchant, true));
        assert!(!may_move(Paid, Completed, System, false));
        assert_eq!(
            allowed_next(Processing, Merchant, false),
            vec![Shipped, Cancelled]
        );
        assert_eq!(
            allowed_next(Expired, Admin, false),
            Vec::<OrderStatus>::new()
        );
    }

    #[test]
    fn duplicate_lines_are_summed_and_bounded() {
        let v = kernel::new_id();
        let lines = [
            CheckoutLine {
                variant_id: v,
                quantity: 2,
            },
            CheckoutLine {
                variant_id: v,
                quantity: 3,
            },
        ];
        assert_eq!(normalize_lines(&lines).unwrap()[0].quantity, 5);
        assert_eq!(normalize_lines(&[]), Err(PlanError::Empty));
        let too_many = [CheckoutLine {
            variant_id: v,
            quantity: 0,
        }];
        assert_eq!(normalize_lines(&too_many), Err(PlanError::Quantity(v)));
    }

    #[test]
    fn plan_splits_per_merchant_with_commission_per_line() {
        let (a, b) = (kernel::new_id(), kernel::new_id());
        let qa = quote(a, 1_005, ProductType::Physical, Currency::Usd);
        let qb = quote(b, 250, ProductType::Voucher, Currency::Usd);
        let qa2 = quote(a, 10, ProductType::Physical, Currency::Usd);
        let quotes: HashMap<_, _> = [&qa, &qb, &qa2]
            .into_iter()
            .map(|q| (q.variant_id, q.clone()))
            .collect();
        let rate = |q: &VariantQuote| if q.merchant_id == a { 750 } else { 1000 };
        let lines = [line(&qa, 1), line(&qb, 3), line(&qa2, 1)];
        let plan = plan(
            kernel::new_id(),
            "PSR-1".into(),
            kernel::new_id(),
            &lines,
            &quotes,
            rate,
            kernel::new_id,
        )
        .unwrap();
        assert_eq!(plan.orders.len(), 2);
        let first = &plan.orders[0];
        assert_eq!(first.merchant_id, a);
        assert_eq!(first.number, "PSR-1-1");
        assert_eq!(first.subtotal, 1_015);
        // 1005 × 7.5 % = 75.375 → 75; 10 × 7.5 % = 0.75 → 1: rounded per line, then summed.
        assert_eq!(first.commission, 76);
        assert!(!first.digital_only);
        assert!(plan.orders[1].digital_only);
        assert_eq!(plan.orders[1].commission, 75);
        assert_eq!(plan.total, 1_765);
    }

    #[test]
    fn plan_refuses_unsellable_and_mixed_currencies() {
        let m = kernel::new_id();
        let usd = quote(m, 100, ProductType::Physical, Currency::Usd);
        let khr = quote(m, 4000, ProductType::Physical, Currency::Khr);
        let mut hidden = quote(m, 100, ProductType::Physical, Currency::Usd);
        hidden.sellable = false;
        let quotes: HashMap<_, _> = [&usd, &khr, &hidden]
            .into_iter()
            .map(|q| (q.variant_id, q.clone()))
            .collect();
        let plan_of = |lines: &[CheckoutLine]| {
            plan(
                kernel::new_id(),
                "N".into(),
                kernel::new_id(),
                lines,
                &quotes,
                |_| 0,
                kernel::new_id,
            )
        };
        assert_eq!(
            plan_of(&[line(&usd, 1), line(&khr, 1)]),
            Err(PlanError::MixedCurrencies)
        );
        assert_eq!(
            plan_of(&[line(&usd, 1), line(&hidden, 1)]),
            Err(PlanError::Unavailable(vec![hidden.variant_id]))
        );
        let unknown = CheckoutLine {
            variant_id: kernel::new_id(),
            quantity: 1,
        };
        assert!(matches!(
            plan_of(&[unknown]),
            Err(PlanError::Unavailable(_))
        ));
        assert_eq!(plan_of(&[line(&usd, i64::MAX)]), Err(PlanError::TooLarge));
    }

    #[test]
    fn group_numbers_are_readable_and_distinct() {
        let a = group_number(kernel::new_id(), "20261123");
        let b = group_number(kernel::new_id(), "20261123");
        assert!(a.starts_with("PSR-20261123-"));
        assert_eq!(a.len(), "PSR-20261123-".len() + 8);
        assert_ne!(a, b);
    }
}
