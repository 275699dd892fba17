//! The quote: the promotions that may apply (running automatic ones and those of the codes
//! entered, with their limits and budgets as they stand), priced by the engine. Cart's
//! summary, coupon validation and checkout all ask here, so they agree to the minor unit.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use kernel::{Actor, ActorKind};
use uuid::Uuid;

use super::*;
use crate::domain::engine::{self, Candidate, Shopper};

use crate::domain::{self as rules_domain};
use crate::store::{self, LiveRow};

/// Most codes one cart may carry.
pub const MAX_CODES: usize = 5;

impl Promotions {
    pub async fn quote(&self, request: &QuoteRequest) -> Result<Quote> {
        let codes = normalized_codes(&request.codes);
        let now = now();
        let mut candidates = Vec::new();
        for row in
            store::live_automatic(&self.ctx.db, request.currency.code(), now.millis()).await?
        {
            candidates.push(self.candidate(&row, now.millis())?);
        }
        let mut selected: HashSet<Uuid> = HashSet::new();
        for code in &codes {
            let Some(row) = store::by_code(&self.ctx.db, code).await? else {
                continue;
            };
            let mut c = self.candidate(&row, now.millis())?;
            if c.kind != PromotionKind::Code {
                continue;
            }
            if !selected.insert(c.id) {
                c.blocked = Some((
                    CouponReason::NotCombinable,
                    "Another code of the same promotion is already applied".into(),
                ));
            }
            candidates.push(c);
        }
        let customer = request.customer_id;
        if let Some(customer_id) = customer {
            let limited: Vec<(Uuid, i64)> = candidates
                .iter()
                .filter_map(|c| Some((c.id, c.per_customer_limit?)))
                .collect();
            let ids: Vec<Uuid> = limited.iter().map(|(id, _)| *id).collect();
            let used: HashMap<Uuid, i64> = store::customer_uses(&self.ctx.db, customer_id, &ids)
                .await?
                .into_iter()
                .collect();
            for c in candidates.iter_mut() {
                let Some((_, limit)) = limited.iter().find(|(id, _)| *id == c.id) else {
                    continue;
                };
                if c.blocked.is_none() && used.get(&c.id).copied().unwrap_or(0) >= *limit {
                    c.blocked = Some((
                        CouponReason::CustomerLimit,
                        "You have used it as often as allowed".into(),
                    ));
                }
            }
        }
        let wants_history = candidates.iter().any(|c| c.rules.conditions.first_order);
        let has_paid_order = match customer {
            Some(id) if wants_history => store::has_paid_order(&self.ctx.db, id).await?,
            _ => false,
        };
        let wants_tier = candidates
            .iter()
            .any(|c| !c.rules.conditions.tiers.is_empty());
        let tier = match customer {
            Some(id) if wants_tier => self.tier_of(id).await,
            _ => None,
        };
        let shopper = Shopper {
            customer_id: customer,
            has_paid_order,
            tier,
            now,
            utc_offset_minutes: self.config.utc_offset_minutes,
        };
        let mut quote = engine::quote(
            request.currency,
            &request.lines,
            &request.shipping,
            &candidates,
            &codes,
            &shopper,
        );
        if let Some(points) = &request.points {
            engine::redeem_points(&mut quote, points);
        }
        if !request.with_allocations {
            for line in &mut quote.lines {
                line.allocations.clear();
            }
        }
        Ok(quote)
    }

    /// The customer's loyalty tier; none when loyalty cannot say (its tier promotions then
    /// do not apply: a customer may pay more, never less, while it is down).
    async fn tier_of(&self, customer_id: Uuid) -> Option<String> {
        match self.loyalty.tier_of(customer_id).await {
            Ok(tier) => Some(tier.tier),
            Err(err) => {
                tracing::warn!(%customer_id, error = %err.detail, "loyalty tier unknown; tier promotions skipped");
                None
            }
        }
    }

    /// `POST /api/v1/coupons/validate`: whether a code applies, to given lines or on its own.
    pub async fn validate_coupon(
        &self,
        actor: &Actor,
        request: ValidateCoupon,
    ) -> Result<CouponCheck> {
        if actor.kind != ActorKind::User {
            return Err(PromotionsError::NotACustomer);
        }
        let code = rules_domain::normalize_code(&request.code);
        if code.is_empty() || code.len() > rules_domain::CODE_MAX {
            return Err(invalid("code", "must be 1 to 32 characters"));
        }
        let Some(row) = store::by_code(&self.ctx.db, &code).await? else {
            return Ok(rejected(
                code,
                CouponReason::NotFound,
                "No such coupon code",
            ));
        };
        let promotion_currency = currency(&row.promotion.currency)?;
        let lines = match &request.cart {
            Some(lines) => Some(self.priced_lines(lines).await?),
            None => None,
        };
        let (currency, lines) = match lines {
            Some((Some(currency), lines)) => (currency, lines),
            // No lines: the code's own state, against an empty cart in its currency.
            _ => (promotion_currency, Vec::new()),
        };
        let quote = self
            .quote(&QuoteRequest {
                customer_id: Some(actor.user_id),
                currency,
                lines: lines.clone(),
                codes: vec![code.clone()],
                shipping: Vec::new(),
                points: None,
                with_allocations: false,
            })
            .await?;
        if let Some(rejection) = quote.rejected_codes.iter().find(|r| r.code == code) {
            // Without lines, only the code's own state counts: a minimum spend or a matching
            // item is the cart's business.
            let cart_reason = matches!(
                rejection.reason,
                CouponReason::MinimumSpend | CouponReason::NotApplicable
            );
            if !(request.cart.is_none() && cart_reason) {
                return Ok(rejected(code, rejection.reason, &rejection.detail));
            }
        }
        let discount = quote
            .applied
            .iter()
            .find(|a| a.code.as_deref() == Some(code.as_str()))
            .map(|a| a.amount);
        Ok(CouponCheck {
            code,
            valid: true,
            reason: None,
            detail: None,
            discount: request.cart.as_ref().map(|_| discount.unwrap_or(0)),
            currency: Some(currency),
        })
    }

    /// Lines priced by catalog, for coupon validation.
    async fn priced_lines(
        &self,
        lines: &[ValidateLine],
    ) -> Result<(Option<kernel::Currency>, Vec<QuoteLine>)> {
        if lines.len() > 100 || lines.iter().any(|l| !(1..=999).contains(&l.quantity)) {
            return Err(invalid("cart", "at most 100 lines, each of 1 to 999 units"));
        }
        let quotes = self
            .catalog
            .variants(lines.iter().map(|l| l.variant_id).collect())
            .await?;
        let mut currency = None;
        let mut out = Vec::new();
        for line in lines {
            let Some(q) = quotes
                .iter()
                .find(|q| q.variant_id == line.variant_id && q.sellable)
            else {
                return Err(invalid("cart", "names a variant that is not for sale"));
            };
            if currency.is_some_and(|c| c != q.currency) {
                return Err(invalid("cart", "mixes currencies"));
            }
            currency = Some(q.currency);
            out.push(QuoteLine {
                variant_id: q.variant_id,
                product_id: q.product_id,
                merchant_id: q.merchant_id,
                category_path: q.category_path.clone(),
                brand_id: q.brand_id,
                quantity: line.quantity,
                unit_price: q.price,
                sale: None,
            });
        }
        Ok((currency, out))
    }
}

fn rejected(code: String, reason: CouponReason, detail: &str) -> CouponCheck {
    CouponCheck {
        code,
        valid: false,
        reason: Some(reason),
        detail: Some(detail.to_owned()),
        discount: None,
        currency: None,
    }
}

/// Codes as compared: trimmed, upper case, unique, at most [`MAX_CODES`].
pub fn normalized_codes(codes: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for code in codes {
        let code = rules_domain::normalize_code(code);
        if !code.is_empty() && !out.contains(&code) && out.len() < MAX_CODES {
            out.push(code);
        }
    }
    out
}

impl Promotions {
    /// A promotion's name and rules, parsed once per version (`updated_at`): a summary with
    /// fifty live promotions parses none of them again.
    fn definition(&self, row: &store::PromotionRow) -> Result<Arc<Definition>> {
        if let Ok(cache) = self.definitions.read() {
            if let Some((version, definition)) = cache.get(&row.id) {
                if *version == row.updated_at {
                    return Ok(definition.clone());
                }
            }
        }
        let definition = Arc::new(Definition {
            name: from_json(&row.name)?,
            rules: from_json(&row.rules)?,
        });
        if let Ok(mut cache) = self.definitions.write() {
            if cache.len() >= DEFINITIONS_CACHED {
                cache.clear();
            }
            cache.insert(row.id, (row.updated_at, definition.clone()));
        }
        Ok(definition)
    }

    /// A stored promotion as the engine sees it, with what blocks it now.
    fn candidate(&self, row: &LiveRow, now: i64) -> Result<Candidate> {
        let definition = self.definition(&row.promotion)?;
        candidate(row, now, &definition)
    }
}

/// Parsed definitions kept at most (the cache starts over beyond).
const DEFINITIONS_CACHED: usize = 10_000;

/// What of a promotion does not change until it is edited.
pub struct Definition {
    pub name: kernel::LocalizedText,
    pub rules: Rules,
}

fn candidate(row: &LiveRow, now: i64, definition: &Definition) -> Result<Candidate> {
    let p = &row.promotion;
    let status = parsed(&row.campaign_status, CampaignStatus::parse)?;
    let mut blocked = match status {
        CampaignStatus::Active if row.campaign_starts_at > now => Some((
            CouponReason::NotStarted,
            "The campaign has not started".to_owned(),
        )),
        CampaignStatus::Active if row.campaign_ends_at.is_some_and(|e| e <= now) => {
            Some((CouponReason::Expired, "The campaign has ended".to_owned()))
        }
        CampaignStatus::Active => None,
        CampaignStatus::Ended => Some((CouponReason::Expired, "The campaign has ended".into())),
        CampaignStatus::Scheduled => Some((
            CouponReason::NotStarted,
            "The campaign has not started".into(),
        )),
        CampaignStatus::Draft | CampaignStatus::Paused => Some((
            CouponReason::NotActive,
            "The campaign is not running".into(),
        )),
    };
    let exhausted = p.usage_limit.is_some_and(|l| p.uses >= l)
        || row
            .code_limit
            .is_some_and(|l| row.code_uses.unwrap_or(0) >= l)
        || match (row.budget_kind.as_deref(), row.budget_limit) {
            (Some("SPEND"), Some(limit)) => row.spent >= limit,
            (Some("USES"), Some(limit)) => row.campaign_uses >= limit,
            _ => false,
        };
    if blocked.is_none() && exhausted {
        blocked = Some((CouponReason::Exhausted, "It has been used up".into()));
    }
    let budget_left = match (row.budget_kind.as_deref(), row.budget_limit) {
        (Some("SPEND"), Some(limit)) => Some((limit - row.spent).max(0)),
        _ => None,
    };
    Ok(Candidate {
        id: p.id,
        campaign_id: p.campaign_id,
        merchant_id: p.merchant_id,
        name: definition.name.clone(),
        kind: parsed(&p.kind, PromotionKind::parse)?,
        code: row.code.clone(),
        currency: currency(&p.currency)?,
        priority: p.priority,
        exclusive: p.exclusive,
        rules: definition.rules.clone(),
        bearer: parsed(&p.bearer, CostBearer::parse)?,
        merchant_share_bps: p.merchant_share_bps,
        created_at: p.created_at,
        blocked,
        budget_left,
        per_customer_limit: p.per_customer_limit,
    })
}
