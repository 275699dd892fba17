//! Promotions of a campaign: written with their rules validated (items named must exist and,
//! for a merchant, be its own), their public code and generated codes, and the CSV export.

use std::collections::HashSet;

use catalog_contract::ReferenceLookup;
use kernel::{Actor, FieldError};
use uuid::Uuid;

use super::campaigns::campaign_view;
use super::*;
use crate::domain;
use crate::store::{self, PromotionRow};

impl Promotions {
    pub async fn create_promotion(
        &self,
        actor: &Actor,
        input: PromotionInput,
    ) -> Result<Promotion> {
        let campaign = self.campaign_for_write(actor, input.campaign_id).await?;
        let code = input.code.as_deref().map(domain::normalize_code);
        self.check(&input, &campaign, code.as_deref(), 0).await?;
        let now = now().millis();
        let row = PromotionRow {
            id: kernel::new_id(),
            campaign_id: campaign.id,
            merchant_id: campaign.merchant_id,
            uses: 0,
            created_at: now,
            updated_at: now,
            ..definition(&input)?
        };
        let mut tx = self.ctx.db.begin().await?;
        store::insert_promotion(&mut tx, &row).await?;
        if let Some(code) = &code {
            if !store::insert_code(&mut tx, code, row.id, false, None, now).await? {
                return Err(PromotionsError::CodeTaken(code.clone()));
            }
        }
        tx.commit().await?;
        self.promotion_view(&row).await
    }

    pub async fn promotion(&self, actor: &Actor, id: Uuid) -> Result<Promotion> {
        let row = self.managed_promotion(actor, id).await?;
        self.promotion_view(&row).await
    }

    pub async fn promotions(
        &self,
        actor: &Actor,
        query: &PromotionQuery,
    ) -> Result<Vec<Promotion>> {
        let (merchant, platform_only) = match query.campaign_id {
            // A campaign's promotions: whoever manages the campaign.
            Some(campaign) => {
                let row = self.managed_campaign(actor, campaign).await?;
                (row.merchant_id, row.merchant_id.is_none())
            }
            None => listing_scope(actor, query.merchant_id)?,
        };
        let rows =
            store::promotions(&self.ctx.db, query.campaign_id, merchant, platform_only).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(self.promotion_view(row).await?);
        }
        Ok(out)
    }

    /// Rewrites a promotion of a campaign that has not ended. Uses already taken stay; a
    /// usage limit cannot go below them.
    pub async fn update_promotion(
        &self,
        actor: &Actor,
        id: Uuid,
        input: PromotionInput,
    ) -> Result<Promotion> {
        let existing = self.managed_promotion(actor, id).await?;
        if input.campaign_id != existing.campaign_id {
            return Err(invalid(
                "campaignId",
                "a promotion cannot move to another campaign",
            ));
        }
        let campaign = self.campaign_for_write(actor, input.campaign_id).await?;
        let code = input.code.as_deref().map(domain::normalize_code);
        self.check(&input, &campaign, code.as_deref(), existing.uses)
            .await?;
        let row = PromotionRow {
            id,
            campaign_id: existing.campaign_id,
            merchant_id: existing.merchant_id,
            uses: existing.uses,
            created_at: existing.created_at,
            // Always a new version: parsed rules are cached by it.
            updated_at: now().millis().max(existing.updated_at + 1),
            ..definition(&input)?
        };
        let mut tx = self.ctx.db.begin().await?;
        if !store::update_promotion(&mut tx, &row).await? {
            return Err(invalid(
                "usageLimit",
                "must not be below the uses already taken",
            ));
        }
        let old_code = store::public_code_in(&mut tx, id).await?;
        if old_code != code {
            store::drop_public_code(&mut tx, id).await?;
            if let Some(code) = &code {
                if !store::insert_code(&mut tx, code, id, false, None, row.updated_at).await? {
                    return Err(PromotionsError::CodeTaken(code.clone()));
                }
            }
        }
        tx.commit().await?;
        self.promotion_view(&row).await
    }

    /// Deletes a promotion: it stops applying at once; checkouts that reserved it keep their
    /// discount.
    pub async fn delete_promotion(&self, actor: &Actor, id: Uuid) -> Result<()> {
        let row = self.managed_promotion(actor, id).await?;
        self.campaign_for_write(actor, row.campaign_id).await?;
        let mut tx = self.ctx.db.begin().await?;
        if !store::delete_promotion(&mut tx, id, now().millis()).await? {
            return Err(PromotionsError::PromotionNotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Generates `count` unique codes from a pattern; a collision draws again.
    pub async fn generate_codes(
        &self,
        actor: &Actor,
        id: Uuid,
        request: GenerateCodes,
    ) -> Result<GeneratedCodes> {
        let row = self.managed_promotion(actor, id).await?;
        self.campaign_for_write(actor, row.campaign_id).await?;
        if row.kind != PromotionKind::Code.as_str() {
            return Err(PromotionsError::NotACodePromotion);
        }
        let mut errors = Vec::new();
        if !(1..=domain::GENERATE_MAX).contains(&request.count) {
            errors.push(field("count", "must be between 1 and 10000"));
        }
        let pattern = request
            .pattern
            .as_deref()
            .map(domain::normalize_code)
            .unwrap_or_else(|| domain::DEFAULT_PATTERN.to_owned());
        if let Err(message) = domain::check_pattern(&pattern) {
            errors.push(field("pattern", message));
        }
        let per_code = request.uses_per_code.unwrap_or(1);
        if per_code < 1 {
            errors.push(field("usesPerCode", "must be at least 1"));
        }
        if !errors.is_empty() {
            return Err(PromotionsError::Invalid(errors));
        }
        let randoms = pattern.chars().filter(|c| *c == '#').count();
        let now = now().millis();
        let mut codes = Vec::with_capacity(request.count as usize);
        let mut tx = self.ctx.db.begin().await?;
        let mut attempts = 0;
        while (codes.len() as i64) < request.count {
            attempts += 1;
            if attempts > request.count * 3 + 100 {
                return Err(invalid(
                    "pattern",
                    "too few distinct codes left in this pattern: add `#`",
                ));
            }
            let random = unbiased_random(randoms)?;
            let code = domain::code_from_pattern(&pattern, &random);
            if store::insert_code(&mut tx, &code, id, true, Some(per_code), now).await? {
                codes.push(code);
            }
        }
        tx.commit().await?;
        Ok(GeneratedCodes {
            promotion_id: id,
            codes,
        })
    }

    pub async fn codes(&self, actor: &Actor, id: Uuid) -> Result<Vec<CouponCode>> {
        self.managed_promotion(actor, id).await?;
        Ok(store::codes_of(&self.ctx.db, id)
            .await?
            .into_iter()
            .map(|(code, usage_limit, uses)| CouponCode {
                code,
                usage_limit,
                uses,
            })
            .collect())
    }

    async fn managed_promotion(&self, actor: &Actor, id: Uuid) -> Result<PromotionRow> {
        let row = store::promotion(&self.ctx.db, id)
            .await?
            .ok_or(PromotionsError::PromotionNotFound)?;
        if !may_manage(actor, row.merchant_id) {
            return Err(PromotionsError::PromotionNotFound);
        }
        Ok(row)
    }

    async fn campaign_for_write(&self, actor: &Actor, campaign_id: Uuid) -> Result<Campaign> {
        let row = match self.managed_campaign(actor, campaign_id).await {
            Err(PromotionsError::CampaignNotFound) => {
                return Err(invalid("campaignId", "is not a campaign you manage"))
            }
            other => other?,
        };
        let campaign = campaign_view(&row)?;
        if !campaign.status.editable() {
            return Err(PromotionsError::CampaignEnded);
        }
        Ok(campaign)
    }

    /// The rules' own checks, then the items they name: known to catalog and, for a
    /// merchant's promotion, its own.
    async fn check(
        &self,
        input: &PromotionInput,
        campaign: &Campaign,
        code: Option<&str>,
        uses: i64,
    ) -> Result<()> {
        let mut errors = domain::check_promotion(input, campaign, code);
        if input.usage_limit.is_some_and(|l| l < uses) {
            errors.push(field(
                "usageLimit",
                "must not be below the uses already taken",
            ));
        }
        let filters = [
            (
                "rules.conditions.items",
                input.rules.conditions.items.as_ref(),
            ),
            ("rules.appliesTo", input.rules.applies_to.as_ref()),
        ];
        for (name, filter) in filters {
            let Some(filter) = filter else { continue };
            self.check_references(name, filter, campaign.merchant_id, &mut errors)
                .await?;
        }
        let tiers = &input.rules.conditions.tiers;
        if !tiers.is_empty() {
            let known: Vec<String> = self
                .loyalty
                .tiers()
                .await?
                .into_iter()
                .map(|t| t.code)
                .collect();
            let unknown: Vec<&String> = tiers.iter().filter(|t| !known.contains(t)).collect();
            if !unknown.is_empty() || tiers.len() > known.len() {
                errors.push(field(
                    "rules.conditions.tiers",
                    &format!("must name tiers among {}", known.join(", ")),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(PromotionsError::Invalid(errors))
        }
    }

    async fn check_references(
        &self,
        name: &str,
        filter: &ItemFilter,
        merchant: Option<Uuid>,
        errors: &mut Vec<FieldError>,
    ) -> Result<()> {
        let lookup = ReferenceLookup {
            category_ids: filter.category_ids.clone(),
            brand_ids: filter.brand_ids.clone(),
            product_ids: filter.product_ids.clone(),
        };
        if lookup.category_ids.len() + lookup.brand_ids.len() + lookup.product_ids.len() > 1_000
            || filter.variant_ids.len() > 200
        {
            errors.push(field(
                name,
                "names at most 1000 categories, brands and products and 200 variants",
            ));
            return Ok(());
        }
        let found = self.catalog.references(&lookup).await?;
        for (list, unknown) in [
            ("categoryIds", &found.unknown_category_ids),
            ("brandIds", &found.unknown_brand_ids),
            ("productIds", &found.unknown_product_ids),
        ] {
            if !unknown.is_empty() {
                errors.push(field(
                    &format!("{name}.{list}"),
                    &format!("unknown: {}", join(unknown)),
                ));
            }
        }
        let mut variant_merchants = Vec::new();
        if !filter.variant_ids.is_empty() {
            let quotes = self.catalog.variants(filter.variant_ids.clone()).await?;
            let known: HashSet<Uuid> = quotes.iter().map(|q| q.variant_id).collect();
            let unknown: Vec<Uuid> = filter
                .variant_ids
                .iter()
                .filter(|v| !known.contains(v))
                .copied()
                .collect();
            if !unknown.is_empty() {
                errors.push(field(
                    &format!("{name}.variantIds"),
                    &format!("unknown: {}", join(&unknown)),
                ));
            }
            variant_merchants = quotes.iter().map(|q| q.merchant_id).collect();
        }
        if let Some(own) = merchant {
            if found.product_merchants.iter().any(|p| p.merchant_id != own) {
                errors.push(field(
                    &format!("{name}.productIds"),
                    "a merchant's promotion covers only its own products",
                ));
            }
            if variant_merchants.iter().any(|m| *m != own) {
                errors.push(field(
                    &format!("{name}.variantIds"),
                    "a merchant's promotion covers only its own products",
                ));
            }
        }
        Ok(())
    }

    pub(super) async fn promotion_view(&self, row: &PromotionRow) -> Result<Promotion> {
        Ok(Promotion {
            id: row.id,
            campaign_id: row.campaign_id,
            merchant_id: row.merchant_id,
            name: from_json(&row.name)?,
            kind: parsed(&row.kind, PromotionKind::parse)?,
            code: store::public_code(&self.ctx.db, row.id).await?,
            currency: currency(&row.currency)?,
            priority: row.priority,
            exclusive: row.exclusive,
            rules: from_json(&row.rules)?,
            bearer: parsed(&row.bearer, CostBearer::parse)?,
            merchant_share_bps: row.merchant_share_bps,
            usage_limit: row.usage_limit,
            per_customer_limit: row.per_customer_limit,
            // Counted on the promotion only when limited; otherwise from its live usages.
            uses: match row.usage_limit {
                Some(_) => row.uses,
                None => store::live_uses_of_promotion(&self.ctx.db, row.id).await?,
            },
            generated_codes: store::generated_count(&self.ctx.db, row.id).await?,
            created_at: Timestamp::from_millis(row.created_at),
            updated_at: Timestamp::from_millis(row.updated_at),
        })
    }
}

/// The stored definition of an input (ids, counters and times are the caller's).
fn definition(input: &PromotionInput) -> Result<PromotionRow> {
    Ok(PromotionRow {
        id: Uuid::nil(),
        campaign_id: input.campaign_id,
        merchant_id: None,
        name: text_json(&input.name)?,
        kind: input.kind.as_str().into(),
        currency: input.currency.code().into(),
        priority: input.priority,
        exclusive: input.exclusive,
        rules: serde_json::to_string(&input.rules)
            .map_err(|e| PromotionsError::Corrupt(e.to_string()))?,
        bearer: input.bearer.as_str().into(),
        merchant_share_bps: match input.bearer {
            CostBearer::Merchant => 10_000,
            CostBearer::Platform => 0,
            CostBearer::Shared => input.merchant_share_bps.unwrap_or(0),
        },
        usage_limit: input.usage_limit,
        per_customer_limit: input.per_customer_limit,
        uses: 0,
        created_at: 0,
        updated_at: 0,
    })
}

/// `n` random bytes below the largest multiple of the code alphabet's size, so every
/// character is equally likely.
fn unbiased_random(n: usize) -> Result<Vec<u8>> {
    let bound = (256 / domain::CODE_ALPHABET.len() * domain::CODE_ALPHABET.len()) as u16;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let bytes = platform::secrets::random_bytes(n * 2).map_err(|_| PromotionsError::Random)?;
        out.extend(bytes.into_iter().filter(|b| u16::from(*b) < bound));
    }
    out.truncate(n);
    Ok(out)
}

fn field(name: &str, message: &str) -> FieldError {
    FieldError {
        field: name.into(),
        message: message.into(),
    }
}

fn join(ids: &[Uuid]) -> String {
    ids.iter()
        .map(Uuid::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
