//! The rule table of the engine: each condition, each effect, stacking and exclusivity, caps
//! and rounding in USD, KHR and IDR. The public API tests run the same engine end to end.

use kernel::{Currency, LocalizedText, Timestamp};
use uuid::Uuid;

use super::engine::{quote, redeem_points, spread, Candidate, Shopper};
use crate::api::*;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

const KOPI: u128 = 100;
const BATIK: u128 = 200;
const FOOD: u128 = 300;
const DRINKS: u128 = 301; // child of FOOD

fn line(variant: u128, merchant: u128, price: i64, quantity: i64) -> QuoteLine {
    QuoteLine {
        variant_id: id(variant),
        product_id: id(variant + 1_000),
        merchant_id: id(merchant),
        category_path: if merchant == KOPI {
            vec![id(DRINKS), id(FOOD)]
        } else {
            vec![]
        },
        brand_id: variant.is_multiple_of(2).then(|| id(900)),
        quantity,
        unit_price: price,
        sale: None,
    }
}

fn promo(n: u128, effect: Effect) -> Candidate {
    Candidate {
        id: id(n),
        campaign_id: id(50),
        merchant_id: None,
        name: LocalizedText {
            en: format!("promo {n}"),
            km: None,
            id: None,
        },
        kind: PromotionKind::Automatic,
        code: None,
        currency: Currency::Usd,
        priority: 0,
        exclusive: false,
        rules: Rules {
            conditions: Conditions::default(),
            effect,
            applies_to: None,
            max_discount: None,
            starts_at: None,
            ends_at: None,
        },
        bearer: CostBearer::Platform,
        merchant_share_bps: 0,
        created_at: n as i64,
        blocked: None,
        budget_left: None,
        per_customer_limit: None,
    }
}

fn percent(bps: i64, target: Target) -> Effect {
    Effect::PercentOff {
        percent_bps: bps,
        target,
    }
}

fn shopper() -> Shopper {
    Shopper {
        customer_id: Some(id(7)),
        has_paid_order: false,
        tier: None,
        // 2026-12-02 10:00 UTC, a Wednesday.
        now: Timestamp::from_millis(1_796_205_600_000),
        utc_offset_minutes: 0,
    }
}

fn run(lines: &[QuoteLine], promos: &[Candidate]) -> Quote {
    quote(Currency::Usd, lines, &[], promos, &[], &shopper())
}

fn discounts(q: &Quote) -> Vec<i64> {
    q.lines.iter().map(|l| l.discount).collect()
}

/// Sums are exact and no line goes negative, whatever the case.
fn sound(q: &Quote) {
    let by_lines: i64 = q.lines.iter().map(|l| l.discount).sum::<i64>()
        + q.shipping.iter().map(|s| s.amount).sum::<i64>();
    assert_eq!(by_lines, q.discount);
    assert_eq!(
        q.applied.iter().map(|a| a.amount).sum::<i64>()
            + q.sales.iter().map(|s| s.amount).sum::<i64>()
            + q.points.as_ref().map_or(0, |p| p.amount),
        q.discount
    );
    for l in &q.lines {
        assert!(l.discount >= 0 && l.discount <= l.line_total, "{l:?}");
        assert_eq!(
            l.allocations.iter().map(|a| a.amount).sum::<i64>(),
            l.discount
        );
        assert!(l.platform_funded <= l.discount);
    }
}

#[test]
fn percent_off_the_order_is_floored_and_spread_exactly() {
    // 10 % of 3 × 333 = 99.9 → 99, spread over lines of 333 each.
    let lines = [
        line(1, KOPI, 333, 1),
        line(2, KOPI, 333, 1),
        line(3, BATIK, 333, 1),
    ];
    let q = run(&lines, &[promo(1, percent(1_000, Target::Order))]);
    sound(&q);
    assert_eq!(q.discount, 99);
    assert_eq!(discounts(&q), vec![33, 33, 33]);
    // 15 % of 1,001 + 2 = 150.45 → 150, split 150 × 1001/1003 = 149.7 → 149 (+1 by remainder).
    let q = run(
        &[line(1, KOPI, 1_001, 1), line(2, KOPI, 2, 1)],
        &[promo(1, percent(1_500, Target::Order))],
    );
    sound(&q);
    assert_eq!(q.discount, 150);
    assert_eq!(discounts(&q), vec![150, 0]);
}

#[test]
fn rounding_in_currencies_without_minor_units() {
    for currency in [Currency::Khr, Currency::Idr] {
        let mut p = promo(1, percent(333, Target::Order));
        p.currency = currency;
        let lines = [line(1, KOPI, 4_100, 3), line(2, BATIK, 9_900, 1)];
        let q = quote(currency, &lines, &[], &[p], &[], &shopper());
        sound(&q);
        // 3.33 % of 22,200 = 739.26 → 739, in proportion 12,300 : 9,900.
        assert_eq!(q.discount, 739);
        assert_eq!(discounts(&q), vec![409, 330]);
    }
}

#[test]
fn amount_off_lines_only_touches_matching_lines_and_never_goes_negative() {
    let mut p = promo(
        1,
        Effect::AmountOff {
            amount: 5_000,
            target: Target::Lines,
        },
    );
    p.rules.applies_to = Some(ItemFilter {
        category_ids: vec![id(FOOD)],
        ..ItemFilter::default()
    });
    // Only Kopi's lines are in FOOD (through DRINKS): 1,200 of them in all.
    let lines = [
        line(1, KOPI, 500, 2),
        line(2, KOPI, 200, 1),
        line(3, BATIK, 900, 1),
    ];
    let q = run(&lines, &[p]);
    sound(&q);
    assert_eq!(discounts(&q), vec![1_000, 200, 0]);
}

#[test]
fn fixed_price_and_brand_filter() {
    let mut p = promo(1, Effect::FixedPrice { unit_price: 150 });
    p.rules.applies_to = Some(ItemFilter {
        brand_ids: vec![id(900)],
        ..ItemFilter::default()
    });
    // Even variants carry the brand; a price below the fixed one is left alone.
    let lines = [
        line(2, KOPI, 400, 3),
        line(3, KOPI, 400, 1),
        line(4, BATIK, 100, 1),
    ];
    let q = run(&lines, &[p]);
    sound(&q);
    assert_eq!(discounts(&q), vec![750, 0, 0]);
}

#[test]
fn buy_x_get_y_takes_the_cheapest_units_with_mixed_prices() {
    // Buy 2 get 1 free over 5 units priced 900, 900, 500, 300, 300: one group of three
    // (five units make one full group), the cheapest unit (300) free.
    let p = promo(
        1,
        Effect::BuyXGetY {
            buy: 2,
            get: 1,
            percent_bps: 10_000,
        },
    );
    let lines = [
        line(1, KOPI, 900, 2),
        line(2, KOPI, 500, 1),
        line(3, BATIK, 300, 2),
    ];
    let q = run(&lines, std::slice::from_ref(&p));
    sound(&q);
    assert_eq!(discounts(&q), vec![0, 0, 300]);
    // Six units: two groups, the two cheapest (300, 300) free; at 50 %: 150 each.
    let lines6 = [
        line(1, KOPI, 900, 3),
        line(2, KOPI, 500, 1),
        line(3, BATIK, 300, 2),
    ];
    assert_eq!(
        discounts(&run(&lines6, std::slice::from_ref(&p))),
        vec![0, 0, 600]
    );
    let mut half = p;
    half.rules.effect = Effect::BuyXGetY {
        buy: 2,
        get: 1,
        percent_bps: 5_000,
    };
    assert_eq!(discounts(&run(&lines6, &[half])), vec![0, 0, 300]);
}

#[test]
fn conditions_each_refuse_with_their_reason() {
    let lines = [line(1, KOPI, 1_000, 1)];
    let mut coded = promo(1, percent(1_000, Target::Order));
    coded.kind = PromotionKind::Code;
    coded.code = Some("KOPI10".into());
    let reason = |c: &Candidate, shopper: Shopper| {
        let q = quote(
            Currency::Usd,
            &lines,
            &[],
            std::slice::from_ref(c),
            &["KOPI10".to_owned()],
            &shopper,
        );
        q.rejected_codes.first().map(|r| r.reason)
    };
    assert_eq!(reason(&coded, shopper()), None);

    let mut c = coded.clone();
    c.rules.conditions.min_subtotal = Some(1_001);
    assert_eq!(reason(&c, shopper()), Some(CouponReason::MinimumSpend));

    let mut c = coded.clone();
    c.rules.conditions.items = Some(ItemFilter {
        merchant_ids: vec![id(BATIK)],
        ..ItemFilter::default()
    });
    assert_eq!(reason(&c, shopper()), Some(CouponReason::NotApplicable));

    let mut c = coded.clone();
    c.rules.conditions.min_quantity = Some(2);
    assert_eq!(reason(&c, shopper()), Some(CouponReason::NotApplicable));

    let mut c = coded.clone();
    c.rules.conditions.first_order = true;
    let returning = Shopper {
        has_paid_order: true,
        ..shopper()
    };
    assert_eq!(reason(&c, returning), Some(CouponReason::FirstOrderOnly));
    assert_eq!(reason(&c, shopper()), None);

    let guest = Shopper {
        customer_id: None,
        ..shopper()
    };
    assert_eq!(reason(&coded, guest), Some(CouponReason::SignInRequired));

    let mut c = coded.clone();
    c.rules.conditions.customer_ids = vec![id(8)];
    assert_eq!(reason(&c, shopper()), Some(CouponReason::NotEligible));

    let mut c = coded.clone();
    c.rules.conditions.tiers = vec!["GOLD".into(), "DIAMOND".into()];
    assert_eq!(reason(&c, shopper()), Some(CouponReason::NotEligible));
    let silver = Shopper {
        tier: Some("SILVER".into()),
        ..shopper()
    };
    assert_eq!(reason(&c, silver), Some(CouponReason::NotEligible));
    let gold = Shopper {
        tier: Some("GOLD".into()),
        ..shopper()
    };
    assert_eq!(reason(&c, gold), None);

    let mut c = coded.clone();
    c.currency = Currency::Khr;
    assert_eq!(reason(&c, shopper()), Some(CouponReason::Currency));

    let mut c = coded.clone();
    c.rules.ends_at = Some(Timestamp::from_millis(shopper().now.millis()));
    assert_eq!(reason(&c, shopper()), Some(CouponReason::Expired));
    let mut c = coded.clone();
    c.rules.starts_at = Some(Timestamp::from_millis(shopper().now.millis() + 1));
    assert_eq!(reason(&c, shopper()), Some(CouponReason::NotStarted));

    let mut c = coded.clone();
    c.blocked = Some((CouponReason::Exhausted, "used up".into()));
    assert_eq!(reason(&c, shopper()), Some(CouponReason::Exhausted));

    let q = quote(
        Currency::Usd,
        &lines,
        &[],
        &[],
        &["NOPE".into()],
        &shopper(),
    );
    assert_eq!(q.rejected_codes[0].reason, CouponReason::NotFound);
}

#[test]
fn time_windows_use_the_marketplace_time_zone() {
    let lines = [line(1, KOPI, 1_000, 1)];
    let mut p = promo(1, percent(1_000, Target::Order));
    // Wednesday 10:00 UTC is 17:00 in Phnom Penh (UTC+7).
    p.rules.conditions.time_window = Some(TimeWindow {
        days_of_week: vec![3],
        from_hour: Some(16),
        to_hour: Some(18),
    });
    let phnom_penh = Shopper {
        utc_offset_minutes: 420,
        ..shopper()
    };
    let q = quote(Currency::Usd, &lines, &[], &[p.clone()], &[], &phnom_penh);
    assert_eq!(q.discount, 100);
    assert_eq!(run(&lines, &[p.clone()]).discount, 0, "10:00 in UTC");
    // A window past midnight: 22:00 to 06:00.
    p.rules.conditions.time_window = Some(TimeWindow {
        days_of_week: vec![],
        from_hour: Some(22),
        to_hour: Some(6),
    });
    assert_eq!(run(&lines, &[p]).discount, 0);
}

#[test]
fn stackable_promotions_apply_in_priority_order_on_what_is_left() {
    let mut first = promo(1, percent(5_000, Target::Order));
    first.priority = 10;
    let second = promo(
        2,
        Effect::AmountOff {
            amount: 400,
            target: Target::Order,
        },
    );
    let lines = [line(1, KOPI, 1_000, 1)];
    let q = run(&lines, &[second.clone(), first.clone()]);
    sound(&q);
    // 50 % of 1,000 first, then 400 of the 500 left.
    assert_eq!(q.applied[0].amount, 500);
    assert_eq!(q.applied[1].amount, 400);
    // In the other order 400 first, then 50 % of 600.
    let mut second_first = second;
    second_first.priority = 20;
    let q = run(&lines, &[second_first, first]);
    assert_eq!(q.discount, 700);
    // Two 100 % discounts never make the line negative.
    let q = run(
        &lines,
        &[
            promo(3, percent(10_000, Target::Order)),
            promo(4, percent(10_000, Target::Order)),
        ],
    );
    sound(&q);
    assert_eq!(q.discount, 1_000);
    assert_eq!(q.applied.len(), 1, "the second gives nothing: not applied");
}

#[test]
fn the_best_exclusive_promotion_wins_alone_or_loses_to_the_stack() {
    let lines = [line(1, KOPI, 1_000, 1)];
    let mut big = promo(1, percent(3_000, Target::Order));
    big.exclusive = true;
    let mut small = promo(2, percent(1_000, Target::Order));
    small.exclusive = true;
    let stack_a = promo(3, percent(1_000, Target::Order));
    let stack_b = promo(
        4,
        Effect::AmountOff {
            amount: 100,
            target: Target::Order,
        },
    );
    let q = run(
        &lines,
        &[big.clone(), small, stack_a.clone(), stack_b.clone()],
    );
    sound(&q);
    assert_eq!(q.applied.len(), 1);
    assert_eq!(q.applied[0].promotion_id, id(1));
    assert_eq!(q.discount, 300);
    // A stack giving more beats the exclusive one; its code is reported as not combinable.
    big.rules.effect = percent(1_500, Target::Order);
    big.kind = PromotionKind::Code;
    big.code = Some("BIG".into());
    let stack_c = promo(
        5,
        Effect::AmountOff {
            amount: 200,
            target: Target::Order,
        },
    );
    let q = quote(
        Currency::Usd,
        &lines,
        &[],
        &[big, stack_a, stack_b, stack_c],
        &["BIG".into()],
        &shopper(),
    );
    sound(&q);
    assert_eq!(q.discount, 100 + 100 + 200);
    assert_eq!(q.rejected_codes[0].reason, CouponReason::NotCombinable);
}

#[test]
fn caps_and_budgets_limit_a_promotion_keeping_proportions() {
    let mut p = promo(1, percent(5_000, Target::Order));
    p.rules.max_discount = Some(301);
    let lines = [line(1, KOPI, 1_000, 1), line(2, BATIK, 1_000, 1)];
    let q = run(&lines, std::slice::from_ref(&p));
    sound(&q);
    assert_eq!(discounts(&q), vec![151, 150]);
    // Two promotions of one campaign share what is left of its budget.
    p.rules.max_discount = None;
    p.budget_left = Some(700);
    let mut q2 = promo(2, percent(5_000, Target::Order));
    q2.budget_left = Some(700);
    let q = run(&lines, &[p, q2]);
    sound(&q);
    assert_eq!(q.discount, 700);
}

#[test]
fn merchant_promotions_discount_only_their_merchants_lines() {
    let mut p = promo(1, percent(1_000, Target::Order));
    p.merchant_id = Some(id(KOPI));
    p.bearer = CostBearer::Merchant;
    p.rules.conditions.min_subtotal = Some(1_500);
    let lines = [line(1, KOPI, 1_000, 1), line(2, BATIK, 5_000, 1)];
    // Kopi's own subtotal (1,000) is below its minimum, whatever Batik's lines.
    assert_eq!(run(&lines, &[p.clone()]).discount, 0);
    p.rules.conditions.min_subtotal = None;
    let q = run(&lines, &[p]);
    assert_eq!(discounts(&q), vec![100, 0]);
    assert_eq!(q.lines[0].platform_funded, 0);
}

#[test]
fn cost_bearers_split_the_funding() {
    let lines = [line(1, KOPI, 1_000, 1)];
    let mut shared = promo(1, percent(1_000, Target::Order));
    shared.bearer = CostBearer::Shared;
    shared.merchant_share_bps = 3_333;
    let q = run(&lines, &[shared]);
    // The merchant's 33.33 % of 100 is floored (33): the platform funds 67.
    assert_eq!(q.lines[0].platform_funded, 67);
    assert_eq!(q.applied[0].platform_funded, 67);
    let q = run(&lines, &[promo(2, percent(1_000, Target::Order))]);
    assert_eq!(q.applied[0].platform_funded, 100);
}

#[test]
fn shipping_discounts_need_a_quoted_shipping() {
    let lines = [line(1, KOPI, 1_000, 1)];
    let free = promo(1, Effect::FreeShipping);
    assert_eq!(run(&lines, std::slice::from_ref(&free)).discount, 0);
    let shipping = [MerchantShipping {
        merchant_id: id(KOPI),
        amount: 250,
    }];
    let q = quote(Currency::Usd, &lines, &shipping, &[free], &[], &shopper());
    sound(&q);
    assert_eq!(q.shipping[0].amount, 250);
    assert_eq!(q.discount, 250);
    let half = promo(2, percent(5_000, Target::Shipping));
    let q = quote(Currency::Usd, &lines, &shipping, &[half], &[], &shopper());
    assert_eq!(q.discount, 125);
}

#[test]
fn spread_is_exact_and_bounded() {
    assert_eq!(spread(10, &[1, 1, 1]), vec![1, 1, 1]);
    assert_eq!(spread(2, &[1, 1, 1]), vec![1, 1, 0]);
    assert_eq!(spread(100, &[3, 3, 3]), vec![3, 3, 3]);
    assert_eq!(spread(7, &[0, 5, 5]), vec![0, 4, 3]);
    assert_eq!(spread(5, &[0, 0]), vec![0, 0]);
}

#[test]
fn shares_follow_the_orders_of_a_checkout() {
    let lines = [line(1, KOPI, 1_000, 1), line(2, BATIK, 1_000, 1)];
    let q = run(&lines, &[promo(1, percent(1_000, Target::Order))]);
    let shares = q.shares_by_order(&[id(11), id(12)], &Default::default());
    assert_eq!(shares.len(), 1);
    assert_eq!(shares[0].amount, 200);
    assert_eq!(
        shares[0]
            .orders
            .iter()
            .map(|o| o.amount)
            .collect::<Vec<_>>(),
        vec![100, 100]
    );
}

#[test]
fn the_order_of_the_lines_changes_nothing() {
    // Three equal lines and 10 % of their total (99.9 → 99, 33 each, no remainder) would tie;
    // with 100 off, the remainder unit must land on the same line whatever the order.
    let lines = [
        line(5, KOPI, 333, 1),
        line(3, BATIK, 333, 1),
        line(4, KOPI, 333, 1),
    ];
    let p = promo(
        1,
        Effect::AmountOff {
            amount: 100,
            target: Target::Order,
        },
    );
    let forward = run(&lines, std::slice::from_ref(&p));
    let mut reversed_lines = lines.clone();
    reversed_lines.reverse();
    let reversed = run(&reversed_lines, std::slice::from_ref(&p));
    for line in &forward.lines {
        let same = reversed
            .lines
            .iter()
            .find(|l| l.variant_id == line.variant_id)
            .unwrap();
        assert_eq!(same.discount, line.discount);
    }
    // Answers keep the request's order.
    assert_eq!(forward.lines[0].variant_id, id(5));
    assert_eq!(reversed.lines[0].variant_id, id(4));
}

#[test]
fn a_sale_price_is_the_first_discount_and_promotions_apply_after_it() {
    let mut on_sale = line(1, KOPI, 1_000, 2);
    on_sale.sale = Some(LineSale {
        flash_sale_id: id(77),
        title: LocalizedText {
            en: "Midnight".into(),
            km: None,
            id: None,
        },
        unit_price: 800,
        list_price: 1_000,
        platform_funded: true,
    });
    let lines = [on_sale, line(2, KOPI, 500, 1)];
    // 10 % of what is paid after the sale: 2 × 800 + 500 = 2,100 → 210, spread 160 / 50.
    let q = run(&lines, &[promo(1, percent(1_000, Target::Order))]);
    sound(&q);
    assert_eq!(q.subtotal, 2_500);
    assert_eq!(q.lines[0].line_total, 2_000);
    assert_eq!(discounts(&q), vec![400 + 160, 50]);
    assert_eq!(q.lines[0].platform_funded, 400 + 160);
    assert_eq!(q.discount, 610);
    assert_eq!(q.sales.len(), 1);
    assert_eq!((q.sales[0].amount, q.sales[0].platform_funded), (400, 400));
    // The price raised to 1,500 during the sale: the buyer still pays 800, the platform funds
    // only the 200 off the price the sale was set up from, the merchant the rest.
    let mut raised = lines[0].clone();
    raised.unit_price = 1_500;
    let q = run(&[raised], &[]);
    sound(&q);
    assert_eq!(q.discount, 2 * 700);
    assert_eq!(q.lines[0].platform_funded, 2 * 200);
    // A "sale price" at or above the list price is no sale.
    let mut not_a_sale = line(3, KOPI, 1_000, 1);
    not_a_sale.sale = lines[0].sale.clone().map(|s| LineSale {
        unit_price: 1_000,
        ..s
    });
    let q = run(&[not_a_sale], &[]);
    assert_eq!((q.discount, q.sales.len()), (0, 0));
}

#[test]
fn points_take_whole_points_within_their_share_after_promotions() {
    let lines = [line(1, KOPI, 1_000, 1), line(2, BATIK, 333, 3)];
    // 10 % off first: 100 + 99 off, 1,800 left to pay.
    let mut q = run(&lines, &[promo(1, percent(1_000, Target::Order))]);
    let terms = |points| PointsToRedeem {
        points,
        minor_per_point: 40,
        max_order_bps: 5_000,
    };
    // At most half of 1,800 = 900, in whole points of 40: 22 points, 880 off.
    redeem_points(&mut q, &terms(1_000));
    sound(&q);
    assert_eq!(
        q.points,
        Some(AppliedPoints {
            points: 22,
            amount: 880
        })
    );
    assert_eq!(q.discount, 199 + 880);
    let platform: i64 = q.lines.iter().map(|l| l.platform_funded).sum();
    assert_eq!(
        platform, q.discount,
        "the platform funds the points (and this promotion)"
    );
    // Fewer points than the cap: all of them.
    let mut q = run(&lines, &[]);
    redeem_points(&mut q, &terms(5));
    sound(&q);
    assert_eq!(
        q.points,
        Some(AppliedPoints {
            points: 5,
            amount: 200
        })
    );
    // Nothing left to pay, or no value: nothing taken.
    let mut q = run(&lines, &[]);
    redeem_points(
        &mut q,
        &PointsToRedeem {
            minor_per_point: 0,
            ..terms(5)
        },
    );
    assert_eq!((q.points.clone(), q.discount), (None, 0));
}
