//! The one discount calculation: which promotions apply to a cart and what each takes off
//! which line. Pure: the service loads the candidates and their counters; cart's summary,
//! coupon validation and checkout all come here.
//!
//! Rounding is explicit: a percentage is floored (a discount never exceeds the exact
//! percentage), and a promotion's amount is spread over its lines in proportion to what is
//! left of them, remainders going to the largest fractional parts (ties: earlier line), so the
//! parts always sum to the whole. A line never goes below zero.

use std::cmp::Reverse;
use std::collections::HashMap;

use kernel::{Currency, LocalizedText, Timestamp};
use uuid::Uuid;

use crate::api::*;
pub use kernel::spread;

/// A promotion that may apply, with what the service knows of its state.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: Uuid,
    pub campaign_id: Uuid,
    /// A merchant promotion discounts that merchant's lines only.
    pub merchant_id: Option<Uuid>,
    pub name: LocalizedText,
    pub kind: PromotionKind,
    /// The code entered that selected it.
    pub code: Option<String>,
    pub currency: Currency,
    pub priority: i32,
    pub exclusive: bool,
    pub rules: Rules,
    pub bearer: CostBearer,
    pub merchant_share_bps: i64,
    pub created_at: i64,
    /// A limit or budget already reached, or the campaign not running.
    pub blocked: Option<(CouponReason, String)>,
    /// What is left of a SPEND budget of its campaign.
    pub budget_left: Option<i64>,
    /// Checkouts one customer may use it in (the service checks it into `blocked`).
    pub per_customer_limit: Option<i64>,
}

/// Who is buying and when.
#[derive(Debug, Clone)]
pub struct Shopper {
    pub customer_id: Option<Uuid>,
    pub has_paid_order: bool,
    /// The customer's loyalty tier, when a candidate asks for one.
    pub tier: Option<String>,
    pub now: Timestamp,
    /// The marketplace's offset from UTC, for time windows.
    pub utc_offset_minutes: i32,
}

/// What one promotion gives: per line (by index) and per merchant's shipping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Give {
    lines: Vec<i64>,
    shipping: Vec<(Uuid, i64)>,
}

impl Give {
    fn total(&self) -> i64 {
        self.lines.iter().sum::<i64>() + self.shipping.iter().map(|s| s.1).sum::<i64>()
    }
}

/// Prices `lines` with the candidates; `codes` are the codes entered (normalized), so a code
/// that selected nothing is reported. The answer has one line per requested line, in the
/// request's order.
///
/// Lines are priced in the order of their variant ids, whatever order they come in: ties in
/// rounding and in choosing the cheapest units then fall the same way for the cart (its
/// order) and the checkout (grouped by merchant), which must agree to the minor unit.
pub fn quote(
    currency: Currency,
    lines: &[QuoteLine],
    shipping: &[MerchantShipping],
    candidates: &[Candidate],
    codes: &[String],
    shopper: &Shopper,
) -> Quote {
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by_key(|i| (lines[*i].variant_id, *i));
    let canonical: Vec<QuoteLine> = order.iter().map(|i| at_sale_price(&lines[*i])).collect();
    let mut priced = quote_in_order(currency, &canonical, shipping, candidates, codes, shopper);
    let mut by_request: Vec<Option<LineDiscount>> = vec![None; lines.len()];
    for (line, at) in priced.lines.drain(..).zip(&order) {
        by_request[*at] = Some(line);
    }
    priced.lines = by_request.into_iter().flatten().collect();
    add_sale_cuts(&mut priced, lines);
    priced
}

/// The line as promotions see it: at its sale price, when it has one below its list price.
fn at_sale_price(line: &QuoteLine) -> QuoteLine {
    match &line.sale {
        Some(sale) if (0..line.unit_price).contains(&sale.unit_price) => QuoteLine {
            unit_price: sale.unit_price,
            ..line.clone()
        },
        _ => line.clone(),
    }
}

/// Each sale's cut from the list price, as its line's first discount: line totals and the
/// subtotal go back to list prices, and the cut joins the discounts.
fn add_sale_cuts(quote: &mut Quote, lines: &[QuoteLine]) {
    for (line, priced) in lines.iter().zip(quote.lines.iter_mut()) {
        let Some(sale) = &line.sale else { continue };
        let cut = (line.unit_price - at_sale_price(line).unit_price) * line.quantity;
        if cut <= 0 {
            continue;
        }
        let platform = if sale.platform_funded {
            let from_list = (line.unit_price.min(sale.list_price) - sale.unit_price).max(0);
            (from_list * line.quantity).min(cut)
        } else {
            0
        };
        priced.line_total += cut;
        priced.discount += cut;
        priced.allocations.insert(
            0,
            LineAllocation {
                promotion_id: sale.flash_sale_id,
                amount: cut,
                platform_funded: platform,
            },
        );
        priced.platform_funded += platform;
        quote.subtotal += cut;
        quote.discount += cut;
        match quote
            .sales
            .iter_mut()
            .find(|s| s.flash_sale_id == sale.flash_sale_id)
        {
            Some(applied) => {
                applied.amount += cut;
                applied.platform_funded += platform;
            }
            None => quote.sales.push(AppliedSale {
                flash_sale_id: sale.flash_sale_id,
                title: sale.title.clone(),
                amount: cut,
                platform_funded: platform,
            }),
        }
    }
}

fn quote_in_order(
    currency: Currency,
    lines: &[QuoteLine],
    shipping: &[MerchantShipping],
    candidates: &[Candidate],
    codes: &[String],
    shopper: &Shopper,
) -> Quote {
    let subtotal: i64 = lines.iter().map(|l| l.unit_price * l.quantity).sum();
    let mut rejected: Vec<CodeRejection> = Vec::new();
    for code in codes {
        if !candidates.iter().any(|c| c.code.as_deref() == Some(code)) {
            rejected.push(CodeRejection {
                code: code.clone(),
                reason: CouponReason::NotFound,
                detail: "No such coupon code".into(),
            });
        }
    }
    let mut eligible: Vec<&Candidate> = Vec::new();
    for candidate in candidates {
        match eligibility(candidate, currency, lines, shopper) {
            Ok(()) => eligible.push(candidate),
            Err((reason, detail)) => reject(&mut rejected, candidate, reason, detail),
        }
    }
    eligible.sort_by_key(|c| (Reverse(c.priority), c.created_at, c.id));

    let original: Vec<i64> = lines.iter().map(|l| l.unit_price * l.quantity).collect();
    let stack = apply_in_order(
        eligible.iter().copied().filter(|c| !c.exclusive),
        lines,
        &original,
        shipping,
    );
    let stack_total: i64 = stack.iter().map(|(_, g)| g.total()).sum();
    let best_exclusive = eligible
        .iter()
        .copied()
        .filter(|c| c.exclusive)
        .map(|c| apply_in_order([c], lines, &original, shipping))
        .filter(|applied| !applied.is_empty())
        .max_by_key(|applied| applied.iter().map(|(_, g)| g.total()).sum::<i64>());
    let exclusive_total: i64 = best_exclusive
        .as_ref()
        .map(|a| a.iter().map(|(_, g)| g.total()).sum())
        .unwrap_or(0);
    let (applied, beaten) = if exclusive_total > stack_total {
        (best_exclusive.unwrap_or_default(), stack)
    } else {
        (stack, best_exclusive.unwrap_or_default())
    };
    let applied_ids: Vec<Uuid> = applied.iter().map(|(c, _)| c.id).collect();
    for candidate in &eligible {
        if applied_ids.contains(&candidate.id) {
            continue;
        }
        let (reason, detail) = if beaten.iter().any(|(c, _)| c.id == candidate.id) {
            (
                CouponReason::NotCombinable,
                "An exclusive promotion, or the stackable ones together, give more".to_owned(),
            )
        } else {
            (
                CouponReason::NotApplicable,
                "Nothing in the cart it takes anything off".to_owned(),
            )
        };
        reject(&mut rejected, candidate, reason, detail);
    }

    let mut line_discounts: Vec<LineDiscount> = lines
        .iter()
        .zip(&original)
        .map(|(l, total)| LineDiscount {
            variant_id: l.variant_id,
            merchant_id: l.merchant_id,
            line_total: *total,
            discount: 0,
            platform_funded: 0,
            allocations: Vec::new(),
        })
        .collect();
    let mut shipping_discounts = Vec::new();
    let mut applied_out = Vec::new();
    for (candidate, give) in &applied {
        let mut platform_total = 0;
        for (index, amount) in give.lines.iter().enumerate() {
            if *amount == 0 {
                continue;
            }
            let platform = platform_part(candidate, *amount);
            let line = &mut line_discounts[index];
            line.discount += amount;
            line.platform_funded += platform;
            line.allocations.push(LineAllocation {
                promotion_id: candidate.id,
                amount: *amount,
                platform_funded: platform,
            });
            platform_total += platform;
        }
        for (merchant_id, amount) in &give.shipping {
            let platform = platform_part(candidate, *amount);
            shipping_discounts.push(ShippingDiscount {
                merchant_id: *merchant_id,
                promotion_id: candidate.id,
                amount: *amount,
                platform_funded: platform,
            });
            platform_total += platform;
        }
        applied_out.push(AppliedPromotion {
            promotion_id: candidate.id,
            campaign_id: candidate.campaign_id,
            name: candidate.name.clone(),
            code: candidate.code.clone(),
            bearer: candidate.bearer,
            amount: give.total(),
            platform_funded: platform_total,
        });
    }
    Quote {
        currency,
        subtotal,
        discount: applied_out.iter().map(|a| a.amount).sum(),
        applied: applied_out,
        lines: line_discounts,
        shipping: shipping_discounts,
        rejected_codes: rejected,
        sales: Vec::new(),
        points: None,
    }
}

fn reject(rejected: &mut Vec<CodeRejection>, candidate: &Candidate, r: CouponReason, d: String) {
    if let Some(code) = &candidate.code {
        if !rejected.iter().any(|x| &x.code == code) {
            rejected.push(CodeRejection {
                code: code.clone(),
                reason: r,
                detail: d,
            });
        }
    }
}

/// The platform's part of `amount` given by `candidate`.
pub fn platform_part(candidate: &Candidate, amount: i64) -> i64 {
    match candidate.bearer {
        CostBearer::Platform => amount,
        CostBearer::Merchant => 0,
        CostBearer::Shared => {
            let merchant =
                (i128::from(amount) * i128::from(candidate.merchant_share_bps) / 10_000) as i64;
            amount - merchant
        }
    }
}

/// Whether every condition holds, or the first reason it does not.
fn eligibility(
    c: &Candidate,
    currency: Currency,
    lines: &[QuoteLine],
    shopper: &Shopper,
) -> Result<(), (CouponReason, String)> {
    if let Some(blocked) = &c.blocked {
        return Err(blocked.clone());
    }
    if c.currency != currency {
        return Err((
            CouponReason::Currency,
            format!("Applies to carts in {}", c.currency.code()),
        ));
    }
    let now = shopper.now.millis();
    if c.rules.starts_at.is_some_and(|t| now < t.millis()) {
        return Err((CouponReason::NotStarted, "Not started yet".into()));
    }
    if c.rules.ends_at.is_some_and(|t| now >= t.millis()) {
        return Err((CouponReason::Expired, "Has ended".into()));
    }
    let conditions = &c.rules.conditions;
    if c.kind == PromotionKind::Code
        || conditions.first_order
        || !conditions.customer_ids.is_empty()
        || !conditions.tiers.is_empty()
    {
        let Some(customer) = shopper.customer_id else {
            return Err((CouponReason::SignInRequired, "Sign in to use it".into()));
        };
        if !conditions.customer_ids.is_empty() && !conditions.customer_ids.contains(&customer) {
            return Err((
                CouponReason::NotEligible,
                "Not offered to this account".into(),
            ));
        }
        if !conditions.tiers.is_empty()
            && !shopper
                .tier
                .as_ref()
                .is_some_and(|t| conditions.tiers.contains(t))
        {
            return Err((
                CouponReason::NotEligible,
                format!("For {} members", conditions.tiers.join(", ")),
            ));
        }
        if conditions.first_order && shopper.has_paid_order {
            return Err((
                CouponReason::FirstOrderOnly,
                "Only for a first order".into(),
            ));
        }
    }
    if let Some(window) = &conditions.time_window {
        if !in_window(window, shopper.now, shopper.utc_offset_minutes) {
            return Err((CouponReason::OutsideHours, "Not at this day or hour".into()));
        }
    }
    let scope: Vec<&QuoteLine> = lines.iter().filter(|l| in_scope(c, l)).collect();
    if let Some(min) = conditions.min_subtotal {
        let subtotal: i64 = scope.iter().map(|l| l.unit_price * l.quantity).sum();
        if subtotal < min {
            return Err((
                CouponReason::MinimumSpend,
                format!("Needs a subtotal of at least {min}"),
            ));
        }
    }
    let wanted = conditions
        .min_quantity
        .unwrap_or(i64::from(conditions.items.is_some()));
    if wanted > 0 {
        let units: i64 = scope
            .iter()
            .filter(|l| conditions.items.as_ref().is_none_or(|f| matches(f, l)))
            .map(|l| l.quantity)
            .sum();
        if units < wanted {
            return Err((
                CouponReason::NotApplicable,
                format!("Needs {wanted} of the items it is for"),
            ));
        }
    }
    Ok(())
}

/// A merchant's promotion only ever touches that merchant's lines.
fn in_scope(c: &Candidate, line: &QuoteLine) -> bool {
    c.merchant_id.is_none_or(|m| m == line.merchant_id)
}

pub fn matches(filter: &ItemFilter, line: &QuoteLine) -> bool {
    (filter.variant_ids.is_empty() || filter.variant_ids.contains(&line.variant_id))
        && (filter.product_ids.is_empty() || filter.product_ids.contains(&line.product_id))
        && (filter.category_ids.is_empty()
            || line
                .category_path
                .iter()
                .any(|c| filter.category_ids.contains(c)))
        && (filter.brand_ids.is_empty()
            || line.brand_id.is_some_and(|b| filter.brand_ids.contains(&b)))
        && (filter.merchant_ids.is_empty() || filter.merchant_ids.contains(&line.merchant_id))
}

fn in_window(window: &TimeWindow, now: Timestamp, offset_minutes: i32) -> bool {
    use chrono::{Datelike, Timelike};
    let local = now.to_datetime() + chrono::Duration::minutes(i64::from(offset_minutes));
    let day = local.weekday().number_from_monday() as u8;
    if !window.days_of_week.is_empty() && !window.days_of_week.contains(&day) {
        return false;
    }
    let hour = local.hour() as u8;
    match (window.from_hour, window.to_hour) {
        (None, None) => true,
        (Some(from), None) => hour >= from,
        (None, Some(to)) => hour < to,
        (Some(from), Some(to)) if from <= to => hour >= from && hour < to,
        (Some(from), Some(to)) => hour >= from || hour < to,
    }
}

/// Applies candidates one after another on what the previous ones left; those that give
/// nothing are left out.
fn apply_in_order<'a>(
    candidates: impl IntoIterator<Item = &'a Candidate>,
    lines: &[QuoteLine],
    original: &[i64],
    shipping: &[MerchantShipping],
) -> Vec<(&'a Candidate, Give)> {
    let mut left = original.to_vec();
    let mut shipping_left: HashMap<Uuid, i64> =
        shipping.iter().map(|s| (s.merchant_id, s.amount)).collect();
    let mut budgets: HashMap<Uuid, i64> = HashMap::new();
    let mut out = Vec::new();
    for candidate in candidates {
        let mut give = effect(candidate, lines, &left, &shipping_left);
        let mut cap = candidate.rules.max_discount;
        if let Some(budget) = candidate.budget_left {
            let left_of_campaign = *budgets.entry(candidate.campaign_id).or_insert(budget);
            cap = Some(cap.map_or(left_of_campaign, |c| c.min(left_of_campaign)));
        }
        if let Some(cap) = cap {
            limit(&mut give, cap.max(0));
        }
        if give.total() <= 0 {
            continue;
        }
        if candidate.budget_left.is_some() {
            *budgets.entry(candidate.campaign_id).or_insert(0) -= give.total();
        }
        for (i, amount) in give.lines.iter().enumerate() {
            left[i] -= amount;
        }
        for (merchant, amount) in &give.shipping {
            if let Some(s) = shipping_left.get_mut(merchant) {
                *s -= amount;
            }
        }
        out.push((candidate, give));
    }
    out
}

/// What `c` takes off, given what is left of each line and shipping.
fn effect(
    c: &Candidate,
    lines: &[QuoteLine],
    left: &[i64],
    shipping_left: &HashMap<Uuid, i64>,
) -> Give {
    let target_filter = c
        .rules
        .applies_to
        .as_ref()
        .or(c.rules.conditions.items.as_ref());
    let targeted = |l: &QuoteLine| in_scope(c, l) && target_filter.is_none_or(|f| matches(f, l));
    let scope_weights = |only_targeted: bool| -> Vec<i64> {
        lines
            .iter()
            .zip(left)
            .map(|(l, left)| {
                let wanted = if only_targeted {
                    targeted(l)
                } else {
                    in_scope(c, l)
                };
                if wanted {
                    *left
                } else {
                    0
                }
            })
            .collect()
    };
    let shipping_of_scope = || -> Vec<(Uuid, i64)> {
        let mut merchants: Vec<Uuid> = shipping_left
            .iter()
            .filter(|(m, amount)| **amount > 0 && c.merchant_id.is_none_or(|own| own == **m))
            .map(|(m, _)| *m)
            .collect();
        merchants.sort();
        merchants
            .into_iter()
            .map(|m| (m, shipping_left[&m]))
            .collect()
    };
    let mut give = Give {
        lines: vec![0; lines.len()],
        shipping: Vec::new(),
    };
    match &c.rules.effect {
        Effect::PercentOff {
            percent_bps,
            target,
        }
        | Effect::AmountOff {
            amount: percent_bps,
            target,
        } if *target == Target::Shipping => {
            let percent = matches!(c.rules.effect, Effect::PercentOff { .. });
            let ships = shipping_of_scope();
            let weights: Vec<i64> = ships.iter().map(|s| s.1).collect();
            let total: i64 = weights.iter().sum();
            let amount = if percent {
                floor_bps(total, *percent_bps)
            } else {
                (*percent_bps).min(total)
            };
            let parts = spread(amount, &weights);
            give.shipping = ships.iter().zip(parts).map(|(s, p)| (s.0, p)).collect();
        }
        Effect::FreeShipping => give.shipping = shipping_of_scope(),
        Effect::PercentOff {
            percent_bps,
            target,
        } => {
            let weights = scope_weights(*target == Target::Lines);
            let amount = floor_bps(weights.iter().sum(), *percent_bps);
            give.lines = spread(amount, &weights);
        }
        Effect::AmountOff { amount, target } => {
            let weights = scope_weights(*target == Target::Lines);
            let amount = (*amount).min(weights.iter().sum());
            give.lines = spread(amount, &weights);
        }
        Effect::FixedPrice { unit_price } => {
            for (i, line) in lines.iter().enumerate() {
                if targeted(line) {
                    let off = (line.unit_price - unit_price).max(0) * line.quantity;
                    give.lines[i] = off.min(left[i]);
                }
            }
        }
        Effect::BuyXGetY {
            buy,
            get,
            percent_bps,
        } => {
            // Every matching unit, dearest first: in each group of buy+get, the `get` cheapest
            // units of the whole selection are the discounted ones.
            let mut units: Vec<(i64, usize)> = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                if targeted(line) {
                    units.extend((0..line.quantity).map(|_| (line.unit_price, i)));
                }
            }
            units.sort_by_key(|(price, i)| (Reverse(*price), *i));
            let group = buy + get;
            let free = if group > 0 {
                (units.len() as i64 / group) * get
            } else {
                0
            };
            for (price, i) in units.iter().rev().take(free.max(0) as usize) {
                give.lines[*i] += floor_bps(*price, *percent_bps);
            }
            for (i, amount) in give.lines.iter_mut().enumerate() {
                *amount = (*amount).min(left[i]);
            }
        }
    }
    give
}

/// `amount × bps / 10000`, floored.
fn floor_bps(amount: i64, bps: i64) -> i64 {
    (i128::from(amount.max(0)) * i128::from(bps.clamp(0, 10_000)) / 10_000) as i64
}

/// Reduces a give to at most `cap`, keeping its proportions.
fn limit(give: &mut Give, cap: i64) {
    let total = give.total();
    if total <= cap {
        return;
    }
    let mut weights: Vec<i64> = give.lines.clone();
    weights.extend(give.shipping.iter().map(|s| s.1));
    let parts = spread(cap, &weights);
    let (line_parts, ship_parts) = parts.split_at(give.lines.len());
    give.lines = line_parts.to_vec();
    for (s, p) in give.shipping.iter_mut().zip(ship_parts) {
        s.1 = *p;
    }
}

/// Checkout's points, after promotions and sales: at most `maxOrderBps` of what is left to
/// pay, in whole points, spread over the lines in proportion to what is left of each. The
/// platform funds them.
pub fn redeem_points(quote: &mut Quote, points: &PointsToRedeem) {
    if points.points <= 0 || points.minor_per_point <= 0 {
        return;
    }
    let payable: Vec<i64> = quote
        .lines
        .iter()
        .map(|l| (l.line_total - l.discount).max(0))
        .collect();
    let left: i64 = payable.iter().sum();
    let cap =
        (i128::from(left) * i128::from(points.max_order_bps.clamp(0, 10_000)) / 10_000) as i64;
    let used = points.points.min(cap / points.minor_per_point);
    if used <= 0 {
        return;
    }
    let amount = used * points.minor_per_point;
    for (line, part) in quote.lines.iter_mut().zip(spread(amount, &payable)) {
        if part == 0 {
            continue;
        }
        line.discount += part;
        line.platform_funded += part;
        line.allocations.push(LineAllocation {
            promotion_id: POINTS_SOURCE_ID,
            amount: part,
            platform_funded: part,
        });
    }
    quote.discount += amount;
    quote.points = Some(AppliedPoints {
        points: used,
        amount,
    });
}
