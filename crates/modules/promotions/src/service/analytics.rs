//! Figures per promotion, kept up to date by orders' events (`usages`): nothing scans
//! orders when they are read.

use kernel::{Actor, MerchantPermission, Permission};
use uuid::Uuid;

use super::*;
use crate::store;

impl Promotions {
    /// Every promotion's figures (admins), or one merchant's (its owner and managers).
    pub async fn analytics(
        &self,
        actor: &Actor,
        merchant_id: Option<Uuid>,
    ) -> Result<PromotionAnalytics> {
        match merchant_id {
            None if !actor.can(Permission::AdminPromotions) => {
                return Err(PromotionsError::Forbidden(
                    "The platform's promotion figures are for admins",
                ))
            }
            Some(m)
                if !actor.is_staff_with(m, MerchantPermission::EditListings)
                    && !actor.can(Permission::AdminPromotions) =>
            {
                return Err(PromotionsError::Forbidden(
                    "A merchant's promotion figures are for its owner and managers",
                ))
            }
            _ => {}
        }
        let rows = store::stats(&self.ctx.db, merchant_id).await?;
        let mut promotions = Vec::with_capacity(rows.len());
        for row in rows {
            let discount = row.discount_platform + row.discount_merchant;
            promotions.push(PromotionStats {
                promotion_id: row.promotion_id,
                campaign_id: row.campaign_id,
                merchant_id: row.merchant_id,
                name: from_json(&row.name)?,
                currency: currency(&row.currency)?,
                uses: row.uses,
                unique_customers: row.unique_customers,
                discount_platform: row.discount_platform,
                discount_merchant: row.discount_merchant,
                revenue: row.revenue,
                roi: (discount > 0).then(|| row.revenue as f64 / discount as f64),
            });
        }
        let mut campaigns = Vec::new();
        for row in store::campaign_stats(&self.ctx.db, merchant_id).await? {
            let discount = row.discount_platform + row.discount_merchant;
            campaigns.push(CampaignStats {
                campaign_id: row.campaign_id,
                merchant_id: row.merchant_id,
                title: from_json(&row.title)?,
                currency: currency(&row.currency)?,
                uses: row.uses,
                unique_customers: row.unique_customers,
                discount_platform: row.discount_platform,
                discount_merchant: row.discount_merchant,
                revenue: row.revenue,
                roi: (discount > 0).then(|| row.revenue as f64 / discount as f64),
            });
        }
        Ok(PromotionAnalytics {
            campaigns,
            promotions,
        })
    }
}
