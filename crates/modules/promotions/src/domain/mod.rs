//! Pure rules of promotions: validation of campaigns and promotions on write, coupon codes,
//! and the discount engine.

pub mod engine;
#[cfg(test)]
mod engine_tests;

use kernel::FieldError;

use crate::api::*;

pub const TEXT_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 2_000;
pub const CODE_MIN: usize = 3;
pub const CODE_MAX: usize = 32;
pub const GENERATE_MAX: i64 = 10_000;
/// Characters of generated codes: no 0/O, 1/I/L, so a code read aloud or printed is typed
/// right.
pub const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

fn push(errors: &mut Vec<FieldError>, field: &str, message: &str) {
    errors.push(FieldError {
        field: field.into(),
        message: message.into(),
    });
}

pub fn check_campaign(input: &CampaignInput) -> Vec<FieldError> {
    let mut errors = Vec::new();
    input.title.check("title", true, TEXT_MAX, &mut errors);
    if let Some(description) = &input.description {
        description.check("description", false, DESCRIPTION_MAX, &mut errors);
    }
    if let Some(ends) = input.ends_at {
        if ends.millis() <= input.starts_at.millis() {
            push(&mut errors, "endsAt", "must be after startsAt");
        }
    }
    if let Some(budget) = &input.budget {
        if budget.limit < 1 {
            push(&mut errors, "budget.limit", "must be at least 1");
        }
        match (budget.kind, budget.currency) {
            (BudgetKind::Spend, None) => push(
                &mut errors,
                "budget.currency",
                "is required for a SPEND budget",
            ),
            (BudgetKind::Uses, Some(_)) => push(
                &mut errors,
                "budget.currency",
                "has no meaning for a USES budget",
            ),
            _ => {}
        }
    }
    errors
}

/// A code as stored and compared: trimmed, upper case.
pub fn normalize_code(code: &str) -> String {
    code.trim().to_uppercase()
}

pub fn valid_code(code: &str) -> bool {
    (CODE_MIN..=CODE_MAX).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        && !code.starts_with('-')
        && !code.ends_with('-')
}

/// Checks a promotion against its campaign. `merchant_campaign` is the campaign's merchant.
pub fn check_promotion(
    input: &PromotionInput,
    campaign: &Campaign,
    normalized_code: Option<&str>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    input.name.check("name", true, TEXT_MAX, &mut errors);
    match (input.kind, normalized_code) {
        (PromotionKind::Automatic, Some(_)) => {
            push(&mut errors, "code", "only CODE promotions have a code")
        }
        (_, Some(code)) if !valid_code(code) => push(
            &mut errors,
            "code",
            "must be 3 to 32 letters, digits or inner dashes",
        ),
        _ => {}
    }
    if !(-1_000..=1_000).contains(&input.priority) {
        push(&mut errors, "priority", "must be between -1000 and 1000");
    }
    match (input.bearer, input.merchant_share_bps) {
        (CostBearer::Shared, Some(bps)) if (1..=9_999).contains(&bps) => {}
        (CostBearer::Shared, _) => push(
            &mut errors,
            "merchantShareBps",
            "is required with SHARED, between 1 and 9999",
        ),
        (_, Some(_)) => push(
            &mut errors,
            "merchantShareBps",
            "is only for SHARED promotions",
        ),
        _ => {}
    }
    if let Some(merchant) = campaign.merchant_id {
        if input.bearer != CostBearer::Merchant {
            push(
                &mut errors,
                "bearer",
                "a merchant's promotion is funded by the merchant (MERCHANT)",
            );
        }
        for (field, filter) in [
            (
                "rules.conditions.items",
                input.rules.conditions.items.as_ref(),
            ),
            ("rules.appliesTo", input.rules.applies_to.as_ref()),
        ] {
            if filter.is_some_and(|f| f.merchant_ids.iter().any(|m| *m != merchant)) {
                push(
                    &mut errors,
                    &format!("{field}.merchantIds"),
                    "a merchant's promotion covers only its own items",
                );
            }
        }
    }
    if let Some(budget) = &campaign.budget {
        if budget.currency.is_some_and(|c| c != input.currency) {
            push(
                &mut errors,
                "currency",
                "must be the currency of the campaign's budget",
            );
        }
    }
    for (field, limit) in [
        ("usageLimit", input.usage_limit),
        ("perCustomerLimit", input.per_customer_limit),
    ] {
        if limit.is_some_and(|l| l < 1) {
            push(&mut errors, field, "must be at least 1");
        }
    }
    if let (Some(total), Some(each)) = (input.usage_limit, input.per_customer_limit) {
        if each > total {
            push(
                &mut errors,
                "perCustomerLimit",
                "must not be above usageLimit",
            );
        }
    }
    check_rules(&input.rules, campaign, &mut errors);
    errors
}

fn check_rules(rules: &Rules, campaign: &Campaign, errors: &mut Vec<FieldError>) {
    let c = &rules.conditions;
    if c.min_subtotal.is_some_and(|m| m < 0) {
        push(
            errors,
            "rules.conditions.minSubtotal",
            "must not be negative",
        );
    }
    if c.min_quantity.is_some_and(|m| !(1..=10_000).contains(&m)) {
        push(
            errors,
            "rules.conditions.minQuantity",
            "must be between 1 and 10000",
        );
    }
    if c.items.as_ref().is_some_and(ItemFilter::is_empty) {
        push(
            errors,
            "rules.conditions.items",
            "must name at least one item, category, brand or merchant",
        );
    }
    if rules.applies_to.as_ref().is_some_and(ItemFilter::is_empty) {
        push(
            errors,
            "rules.appliesTo",
            "must name at least one item, category, brand or merchant",
        );
    }
    if c.customer_ids.len() > 10_000 {
        push(
            errors,
            "rules.conditions.customerIds",
            "at most 10000 customers",
        );
    }
    if let Some(w) = &c.time_window {
        let mut days = w.days_of_week.clone();
        days.sort_unstable();
        days.dedup();
        if days.len() != w.days_of_week.len() {
            push(
                errors,
                "rules.conditions.timeWindow.daysOfWeek",
                "lists a day twice",
            );
        }
        if w.days_of_week.iter().any(|d| !(1..=7).contains(d)) {
            push(
                errors,
                "rules.conditions.timeWindow.daysOfWeek",
                "days are 1 (Monday) to 7 (Sunday)",
            );
        }
        if w.from_hour.is_some_and(|h| h > 23) {
            push(
                errors,
                "rules.conditions.timeWindow.fromHour",
                "must be between 0 and 23",
            );
        }
        if w.to_hour.is_some_and(|h| !(1..=24).contains(&h)) {
            push(
                errors,
                "rules.conditions.timeWindow.toHour",
                "must be between 1 and 24",
            );
        }
        if w.from_hour.is_some() && w.from_hour == w.to_hour {
            push(
                errors,
                "rules.conditions.timeWindow.toHour",
                "must differ from fromHour: the window would be empty",
            );
        }
    }
    let targets_items = rules.applies_to.is_some() || c.items.is_some();
    match &rules.effect {
        Effect::PercentOff {
            percent_bps,
            target,
        } => {
            if !(1..=10_000).contains(percent_bps) {
                push(
                    errors,
                    "rules.effect.percentBps",
                    "must be between 1 and 10000 (100 %)",
                );
            }
            check_target(*target, rules, errors);
        }
        Effect::AmountOff { amount, target } => {
            if *amount < 1 {
                push(errors, "rules.effect.amount", "must be at least 1");
            }
            check_target(*target, rules, errors);
        }
        Effect::FixedPrice { unit_price } => {
            if *unit_price < 0 {
                push(errors, "rules.effect.unitPrice", "must not be negative");
            }
            if !targets_items {
                push(
                    errors,
                    "rules.appliesTo",
                    "a fixed price needs the items it is for",
                );
            }
        }
        Effect::BuyXGetY {
            buy,
            get,
            percent_bps,
        } => {
            if !(1..=100).contains(buy) {
                push(errors, "rules.effect.buy", "must be between 1 and 100");
            }
            if !(1..=100).contains(get) {
                push(errors, "rules.effect.get", "must be between 1 and 100");
            }
            if !(1..=10_000).contains(percent_bps) {
                push(
                    errors,
                    "rules.effect.percentBps",
                    "must be between 1 and 10000 (100 %)",
                );
            }
        }
        Effect::FreeShipping => {
            if rules.applies_to.is_some() {
                push(
                    errors,
                    "rules.appliesTo",
                    "has no meaning for free shipping",
                );
            }
        }
    }
    if rules.max_discount.is_some_and(|m| m < 1) {
        push(errors, "rules.maxDiscount", "must be at least 1");
    }
    if let (Some(start), Some(end)) = (rules.starts_at, rules.ends_at) {
        if end.millis() <= start.millis() {
            push(errors, "rules.endsAt", "must be after rules.startsAt");
        }
    }
    if rules
        .starts_at
        .is_some_and(|s| s.millis() < campaign.starts_at.millis())
    {
        push(
            errors,
            "rules.startsAt",
            "must not be before the campaign starts",
        );
    }
    if let (Some(end), Some(campaign_end)) = (rules.ends_at, campaign.ends_at) {
        if end.millis() > campaign_end.millis() {
            push(
                errors,
                "rules.endsAt",
                "must not be after the campaign ends",
            );
        }
    }
}

fn check_target(target: Target, rules: &Rules, errors: &mut Vec<FieldError>) {
    match target {
        Target::Shipping if rules.applies_to.is_some() => push(
            errors,
            "rules.appliesTo",
            "has no meaning for a shipping discount",
        ),
        Target::Lines if rules.applies_to.is_none() && rules.conditions.items.is_none() => push(
            errors,
            "rules.appliesTo",
            "a LINES discount needs the items it is for",
        ),
        _ => {}
    }
}

/// A generated code: `#` in the pattern becomes a random character of [`CODE_ALPHABET`]
/// (`random` gives one byte per `#`).
pub fn code_from_pattern(pattern: &str, random: &[u8]) -> String {
    let mut bytes = random.iter();
    pattern
        .chars()
        .map(|c| match c {
            '#' => {
                let b = bytes.next().copied().unwrap_or(0);
                char::from(CODE_ALPHABET[usize::from(b) % CODE_ALPHABET.len()])
            }
            other => other,
        })
        .collect()
}

/// A pattern gives enough distinct codes: at least 6 random characters, valid as a code.
pub fn check_pattern(pattern: &str) -> Result<(), &'static str> {
    let randoms = pattern.chars().filter(|c| *c == '#').count();
    if randoms < 6 {
        return Err("needs at least 6 `#` (random characters)");
    }
    if !valid_code(&pattern.replace('#', "A")) {
        return Err("must be 3 to 32 upper-case letters, digits, inner dashes and `#`");
    }
    Ok(())
}

pub const DEFAULT_PATTERN: &str = "########";

/// Campaign moves a manager may make now.
pub fn allowed_next(status: CampaignStatus) -> Vec<CampaignStatus> {
    CampaignStatus::ALL
        .iter()
        .copied()
        .filter(|to| status.may_move_to(*to))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_normalized_and_checked() {
        assert_eq!(normalize_code("  kopi-10 "), "KOPI-10");
        assert!(valid_code("KOPI-10"));
        assert!(!valid_code("KO"));
        assert!(!valid_code("-KOPI"));
        assert!(!valid_code("KOPI 10"));
        assert!(check_pattern("KOPI-####-####").is_ok());
        assert!(check_pattern("KOPI-##").is_err());
        let code = code_from_pattern("KOPI-######", &[0, 1, 2, 30, 31, 255]);
        assert!(code.starts_with("KOPI-"));
        assert!(code[5..]
            .bytes()
            .all(|b| CODE_ALPHABET.contains(&b) && !b"01OIL".contains(&b)));
    }

    #[test]
    fn campaign_moves() {
        use CampaignStatus::*;
        assert_eq!(allowed_next(Draft), vec![Scheduled, Ended]);
        assert_eq!(allowed_next(Active), vec![Paused, Ended]);
        assert!(allowed_next(Ended).is_empty());
        assert!(!Scheduled.may_move_to(Active), "the job starts campaigns");
    }
}
