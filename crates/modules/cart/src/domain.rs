//! Pure cart rules: quantity limits, lines priced from catalog quotes, the summary grouped by
//! merchant, and the problems that would stop a checkout.

use std::collections::{BTreeMap, HashMap};

use catalog_contract::VariantQuote;
use kernel::{Currency, FieldError};
use uuid::Uuid;

use crate::api::{
    CartCoupon, CartLine, CartPromotion, CartSummary, LineProblem, MerchantGroup, ShippingQuote,
    SHIPPING_ADDRESS_REQUIRED, SHIPPING_NOT_REQUIRED, SHIPPING_QUOTED, SHIPPING_UNAVAILABLE,
};
use promotions_contract::{CouponReason, DiscountSource, Quote};

/// A stored line, before it is joined with the catalog.
#[derive(Debug, Clone)]
pub struct StoredLine {
    pub id: Uuid,
    pub variant_id: Uuid,
    pub quantity: i64,
    pub added_price: i64,
    pub currency: Currency,
}

/// A coupon code as promotions writes them: 3 to 32 upper-case letters, digits, inner dashes.
pub fn valid_coupon(code: &str) -> bool {
    (3..=32).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        && !code.starts_with('-')
        && !code.ends_with('-')
}

pub fn check_quantity(quantity: i64, max: i64) -> Result<(), FieldError> {
    if quantity < 1 || quantity > max {
        return Err(FieldError {
            field: "quantity".into(),
            message: format!("must be between 1 and {max}"),
        });
    }
    Ok(())
}

/// A stored line with what the catalog says of its variant now (None: gone).
pub fn priced_line(line: &StoredLine, quote: Option<&VariantQuote>) -> CartLine {
    let unit_price = quote.map_or(line.added_price, |q| q.price);
    CartLine {
        id: line.id,
        variant_id: line.variant_id,
        quantity: line.quantity,
        unit_price,
        added_price: line.added_price,
        currency: line.currency,
        line_total: unit_price.saturating_mul(line.quantity),
        discount: 0,
        product_id: quote.map(|q| q.product_id),
        merchant_id: quote.map(|q| q.merchant_id),
        sku: quote.map(|q| q.sku.clone()),
        product_name: quote.map(|q| q.product_name.clone()),
        sellable: quote.is_some_and(|q| q.sellable && q.currency == line.currency),
    }
}

/// Lines grouped by merchant (in order of first appearance), with subtotals of the sellable
/// lines, the discounts of promotions' `quote` (priced from the sellable lines, by variant)
/// and each group's shipping (`shipping`, by merchant; a group absent from it ships nothing).
pub fn summarize(
    currency: Option<Currency>,
    lines: Vec<CartLine>,
    quote: Option<&Quote>,
    codes: &[String],
    shipping: &HashMap<Uuid, ShippingQuote>,
) -> CartSummary {
    let mut order: Vec<Option<Uuid>> = Vec::new();
    let mut groups: BTreeMap<Option<Uuid>, Vec<CartLine>> = BTreeMap::new();
    for mut line in lines {
        if line.sellable {
            line.discount = quote
                .and_then(|q| q.lines.iter().find(|d| d.variant_id == line.variant_id))
                .map_or(0, |d| d.discount);
        }
        if !groups.contains_key(&line.merchant_id) {
            order.push(line.merchant_id);
        }
        groups.entry(line.merchant_id).or_default().push(line);
    }
    let mut merchants = Vec::new();
    let mut subtotal = 0i64;
    let mut item_count = 0i64;
    for merchant_id in order {
        let lines = groups.remove(&merchant_id).unwrap_or_default();
        let group_subtotal: i64 = lines
            .iter()
            .filter(|l| l.sellable)
            .map(|l| l.line_total)
            .sum();
        item_count += lines.iter().map(|l| l.quantity).sum::<i64>();
        subtotal += group_subtotal;
        let mut group_shipping = merchant_id
            .and_then(|m| shipping.get(&m).cloned())
            .unwrap_or_else(ShippingQuote::not_required);
        if let (Some(quote), Some(merchant), Some(amount)) =
            (quote, merchant_id, group_shipping.amount)
        {
            let taken: i64 = quote
                .shipping
                .iter()
                .filter(|s| s.merchant_id == merchant)
                .map(|s| s.amount)
                .sum();
            group_shipping.discount = taken.clamp(0, amount);
        }
        merchants.push(MerchantGroup {
            merchant_id,
            discount: lines.iter().map(|l| l.discount).sum(),
            lines,
            subtotal: group_subtotal,
            shipping: group_shipping,
        });
    }
    let discount: i64 = merchants.iter().map(|m| m.discount).sum();
    let cart_shipping = overall_shipping(&merchants);
    let total = cart_shipping
        .amount
        .map(|amount| subtotal - discount + amount - cart_shipping.discount);
    CartSummary {
        currency,
        merchants,
        item_count,
        subtotal,
        discount,
        items_total: subtotal - discount,
        promotions: quote
            .map(|q| {
                q.sales
                    .iter()
                    .map(|s| CartPromotion {
                        source: DiscountSource::FlashSale,
                        promotion_id: s.flash_sale_id,
                        name: s.title.clone(),
                        code: None,
                        amount: s.amount,
                    })
                    .chain(q.applied.iter().map(|a| CartPromotion {
                        source: DiscountSource::Promotion,
                        promotion_id: a.promotion_id,
                        name: a.name.clone(),
                        code: a.code.clone(),
                        amount: a.amount,
                    }))
                    .collect()
            })
            .unwrap_or_default(),
        coupons: coupons(quote, codes),
        shipping: cart_shipping,
        total,
    }
}

/// The cart's shipping: what stops a quote first (an address, then a courier), else the sum.
fn overall_shipping(groups: &[MerchantGroup]) -> ShippingQuote {
    for blocking in [SHIPPING_ADDRESS_REQUIRED, SHIPPING_UNAVAILABLE] {
        if groups.iter().any(|g| g.shipping.status == blocking) {
            return ShippingQuote::of_status(blocking);
        }
    }
    let quoted: Vec<&ShippingQuote> = groups
        .iter()
        .map(|g| &g.shipping)
        .filter(|s| s.status == SHIPPING_QUOTED)
        .collect();
    if quoted.is_empty() {
        return ShippingQuote::not_required();
    }
    ShippingQuote {
        status: SHIPPING_QUOTED.into(),
        amount: Some(quoted.iter().filter_map(|s| s.amount).sum()),
        discount: quoted.iter().map(|s| s.discount).sum(),
        option: None,
    }
}

/// A status for groups not quoted (no address, no courier), or not needing one.
pub fn shipping_status(status: &str) -> ShippingQuote {
    if status == SHIPPING_NOT_REQUIRED {
        ShippingQuote::not_required()
    } else {
        ShippingQuote::of_status(status)
    }
}

/// Each code entered: applied with its amount, or why not.
fn coupons(quote: Option<&Quote>, codes: &[String]) -> Vec<CartCoupon> {
    codes
        .iter()
        .map(|code| {
            let applied = quote.and_then(|q| {
                q.applied
                    .iter()
                    .find(|a| a.code.as_deref() == Some(code.as_str()))
            });
            let rejected = quote.and_then(|q| q.rejected_codes.iter().find(|r| &r.code == code));
            CartCoupon {
                code: code.clone(),
                applied: applied.is_some(),
                amount: applied.map_or(0, |a| a.amount),
                reason: match (applied, rejected) {
                    (Some(_), _) => None,
                    (None, Some(r)) => Some(r.reason),
                    (None, None) => Some(CouponReason::NotApplicable),
                },
                detail: match (applied, rejected) {
                    (Some(_), _) => None,
                    (None, Some(r)) => Some(r.detail.clone()),
                    (None, None) => Some("Nothing in the cart it applies to".into()),
                },
            }
        })
        .collect()
}

/// What stops a line from being checked out as it is. `available` is the most one location
/// holds for the line's SKU (None: inventory does not know the SKU).
pub fn line_problems(
    line: &StoredLine,
    quote: Option<&VariantQuote>,
    available: Option<i64>,
) -> Vec<LineProblem> {
    let problem = |code: &str, detail: String| LineProblem {
        item_id: line.id,
        variant_id: line.variant_id,
        code: code.into(),
        detail,
        previous_price: None,
        current_price: None,
        available: None,
    };
    let Some(quote) = quote else {
        return vec![problem("not_found", "This product no longer exists".into())];
    };
    if !quote.sellable {
        return vec![problem(
            "unavailable",
            "This product is not for sale right now".into(),
        )];
    }
    if quote.currency != line.currency {
        return vec![problem(
            "currency_mismatch",
            "This product is now priced in another currency".into(),
        )];
    }
    let mut problems = Vec::new();
    if quote.price != line.added_price {
        problems.push(LineProblem {
            previous_price: Some(line.added_price),
            current_price: Some(quote.price),
            ..problem(
                "price_changed",
                "The price changed since it was added".into(),
            )
        });
    }
    match available {
        Some(0) | None => problems.push(LineProblem {
            available: Some(0),
            ..problem("out_of_stock", "Out of stock".into())
        }),
        Some(n) if n < line.quantity => problems.push(LineProblem {
            available: Some(n),
            ..problem("insufficient_stock", format!("Only {n} left"))
        }),
        Some(_) => {}
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use catalog_contract::ProductType;
    use kernel::LocalizedText;

    fn quote(merchant: Uuid, price: i64, sellable: bool) -> VariantQuote {
        VariantQuote {
            variant_id: Uuid::nil(),
            product_id: Uuid::nil(),
            merchant_id: merchant,
            sku: "S".into(),
            product_name: LocalizedText {
                en: "P".into(),
                km: None,
                id: None,
            },
            product_type: ProductType::Physical,
            price,
            currency: Currency::Usd,
            category_path: Vec::new(),
            brand_id: None,
            sellable,
            weight_grams: None,
            dimensions: None,
        }
    }

    fn line(quantity: i64, added_price: i64) -> StoredLine {
        StoredLine {
            id: kernel::new_id(),
            variant_id: kernel::new_id(),
            quantity,
            added_price,
            currency: Currency::Usd,
        }
    }

    #[test]
    fn quantities_are_bounded() {
        assert!(check_quantity(0, 99).is_err());
        assert!(check_quantity(100, 99).is_err());
        assert!(check_quantity(99, 99).is_ok());
    }

    fn option(amount: i64) -> crate::api::ShippingOption {
        crate::api::ShippingOption {
            courier_code: "JNE".into(),
            courier_name: "JNE".into(),
            service_code: "REGULAR".into(),
            service_name: "Reguler".into(),
            amount,
            chargeable_weight_grams: 1000,
            eta_min_days: 2,
            eta_max_days: 3,
            cod: false,
        }
    }

    #[test]
    fn summary_groups_by_merchant_with_their_shipping() {
        let (a, b) = (kernel::new_id(), kernel::new_id());
        let lines = || {
            vec![
                priced_line(&line(2, 100), Some(&quote(a, 150, true))),
                priced_line(&line(1, 500), Some(&quote(b, 500, true))),
                priced_line(&line(3, 10), Some(&quote(a, 10, false))),
            ]
        };
        let shipping = HashMap::from([(a, ShippingQuote::quoted(option(250)))]);
        let summary = summarize(Some(Currency::Usd), lines(), None, &[], &shipping);
        assert_eq!(summary.merchants.len(), 2);
        assert_eq!(summary.merchants[0].merchant_id, Some(a));
        // Current price counts; the unsellable line does not.
        assert_eq!(summary.merchants[0].subtotal, 300);
        assert_eq!(summary.subtotal, 800);
        assert_eq!(summary.item_count, 6);
        assert_eq!(summary.merchants[0].shipping.amount, Some(250));
        assert_eq!(summary.merchants[1].shipping.status, "NOT_REQUIRED");
        assert_eq!(summary.shipping.status, "QUOTED");
        assert_eq!(summary.total, Some(1050));

        // Without an address nothing is totalled.
        let shipping = HashMap::from([(a, shipping_status("ADDRESS_REQUIRED"))]);
        let summary = summarize(Some(Currency::Usd), lines(), None, &[], &shipping);
        assert_eq!(summary.shipping.status, "ADDRESS_REQUIRED");
        assert!(summary.total.is_none());
    }

    #[test]
    fn problems_name_what_changed() {
        let m = kernel::new_id();
        let l = line(3, 100);
        assert_eq!(line_problems(&l, None, None)[0].code, "not_found");
        assert_eq!(
            line_problems(&l, Some(&quote(m, 100, false)), Some(9))[0].code,
            "unavailable"
        );
        let codes: Vec<_> = line_problems(&l, Some(&quote(m, 120, true)), Some(2))
            .into_iter()
            .map(|p| p.code)
            .collect();
        assert_eq!(codes, ["price_changed", "insufficient_stock"]);
        assert_eq!(
            line_problems(&l, Some(&quote(m, 100, true)), Some(0))[0].code,
            "out_of_stock"
        );
        assert!(line_problems(&l, Some(&quote(m, 100, true)), Some(3)).is_empty());
    }
}
