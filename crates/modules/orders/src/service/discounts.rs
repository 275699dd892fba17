//! The discounts a checkout is priced with and takes: flash-sale units (taken first, before
//! any other work), promotions' quote and reservation, and loyalty points.

use std::collections::HashMap;

use catalog_contract::VariantQuote;
use flashsales_contract::{FlashSalesCode, LivePrice, TakeLine, TakeRequest};
use loyalty_contract::{LoyaltyCode, RedeemRequest, TermsRequest};
use platform::services::CallError;
use promotions_contract::{
    LineSale, MerchantShipping, PointsToRedeem, PromotionsCode, QuoteLine, QuoteRequest,
    ReservePromotions,
};
use uuid::Uuid;

use super::checkout::plan_error;
use super::*;
use crate::domain::{self, Plan};

impl Orders {
    /// The flash-sale prices of the lines, their units taken (all or none).
    pub(super) async fn take_sale_units(
        &self,
        group_id: Uuid,
        customer_id: Uuid,
        lines: &[CheckoutLine],
    ) -> Result<HashMap<Uuid, LivePrice>> {
        let request = TakeRequest {
            group_id,
            customer_id,
            lines: lines
                .iter()
                .map(|l| TakeLine {
                    variant_id: l.variant_id,
                    quantity: l.quantity,
                })
                .collect(),
        };
        let variant_ids = |err: &CallError| -> Vec<Uuid> {
            serde_json::from_value(err.problem["variantIds"].clone()).unwrap_or_default()
        };
        match self.flashsales.take(&request).await {
            Ok(taken) => Ok(taken
                .prices
                .into_iter()
                .map(|p| (p.variant_id, p))
                .collect()),
            Err(err) if err.is(FlashSalesCode::SoldOut) => {
                Err(OrdersError::SoldOut(variant_ids(&err)))
            }
            Err(err) if err.is(FlashSalesCode::FlashSaleLimit) => {
                Err(OrdersError::FlashSaleLimit(variant_ids(&err)))
            }
            Err(err) if err.is(FlashSalesCode::FlashSaleBusy) => Err(OrdersError::FlashSaleBusy),
            Err(err) if err.is(FlashSalesCode::FlashSaleEnded) => {
                Err(OrdersError::FlashSaleEnded(variant_ids(&err)))
            }
            Err(err) => {
                // Nothing may have been taken, or the answer was lost: the group is new, so
                // giving it back is always safe.
                self.release_sale_units(group_id).await;
                Err(err.into())
            }
        }
    }

    /// The points the customer asked to redeem, with loyalty's terms; checked against the
    /// balance and the minimum before any pricing.
    pub(super) async fn points_to_redeem(
        &self,
        plan: &Plan,
        asked: Option<i64>,
    ) -> Result<Option<(PointsToRedeem, i64)>> {
        let Some(points) = asked else {
            return Ok(None);
        };
        if points <= 0 {
            return Err(invalid("redeemPoints", "must be positive"));
        }
        let terms = self
            .loyalty
            .terms(&TermsRequest {
                customer_id: plan.customer_id,
                currency: plan.currency,
            })
            .await?;
        if terms.minor_per_point <= 0 {
            return Err(invalid(
                "redeemPoints",
                "points are not redeemed in this currency",
            ));
        }
        if points < terms.min_points {
            return Err(OrdersError::PointsBelowMinimum(terms.min_points));
        }
        if points > terms.balance {
            return Err(OrdersError::InsufficientPoints);
        }
        Ok(Some((
            PointsToRedeem {
                points,
                minor_per_point: terms.minor_per_point,
                max_order_bps: terms.max_order_bps,
            },
            terms.min_points,
        )))
    }

    /// Takes the points the checkout was priced with, all or none.
    pub(super) async fn redeem_points(&self, plan: &Plan) -> Result<()> {
        if plan.points.is_empty() {
            return Ok(());
        }
        let request = RedeemRequest {
            group_id: plan.group_id,
            customer_id: plan.customer_id,
            orders: plan.points.clone(),
        };
        match self.loyalty.redeem(&request).await {
            Ok(_) => Ok(()),
            Err(err) if err.is(LoyaltyCode::InsufficientPoints) => {
                Err(OrdersError::InsufficientPoints)
            }
            Err(err) if err.is(LoyaltyCode::PointsBelowMinimum) => Err(
                OrdersError::PointsBelowMinimum(err.problem["minPoints"].as_i64().unwrap_or(0)),
            ),
            Err(err) => Err(err.into()),
        }
    }

    /// Gives back the flash-sale units of a checkout that did not start; a failure is left to
    /// flash sales' sweep of unconfirmed holds.
    pub(super) async fn release_sale_units(&self, group_id: Uuid) {
        if let Err(err) = self.flashsales.release(group_id).await {
            tracing::warn!(%group_id, error = %err.detail, "flash-sale units not given back yet; the sweep will");
        }
    }

    /// Prices the plan with promotions' quote: the one calculation the cart summary shows.
    /// Codes given with the checkout must all apply (`coupon_not_applicable` says why not);
    /// codes on the cart that do not apply are left out, as the summary showed.
    pub(super) async fn price_promotions(
        &self,
        plan: &mut Plan,
        quotes: &HashMap<Uuid, VariantQuote>,
        codes: Vec<String>,
        strict: bool,
        sale_prices: &HashMap<Uuid, LivePrice>,
        points: Option<PointsToRedeem>,
    ) -> Result<()> {
        let lines: Vec<QuoteLine> = domain::plan_lines(plan)
            .map(|(order, line)| {
                let quote = quotes.get(&line.variant_id);
                QuoteLine {
                    variant_id: line.variant_id,
                    product_id: line.product_id,
                    merchant_id: order.merchant_id,
                    category_path: quote.map(|q| q.category_path.clone()).unwrap_or_default(),
                    brand_id: quote.and_then(|q| q.brand_id),
                    quantity: line.quantity,
                    unit_price: line.unit_price,
                    sale: sale_prices.get(&line.variant_id).map(|p| LineSale {
                        flash_sale_id: p.flash_sale_id,
                        title: p.title.clone(),
                        unit_price: p.sale_price,
                        list_price: p.list_price,
                        platform_funded: p.platform_funded,
                    }),
                }
            })
            .collect();
        let quote = self
            .promotions
            .quote(&QuoteRequest {
                customer_id: Some(plan.customer_id),
                currency: plan.currency,
                lines,
                codes,
                shipping: plan
                    .orders
                    .iter()
                    .filter_map(|o| {
                        o.shipping.as_ref().map(|s| MerchantShipping {
                            merchant_id: o.merchant_id,
                            amount: s.option.amount,
                        })
                    })
                    .collect(),
                points,
                with_allocations: true,
            })
            .await?;
        if strict && !quote.rejected_codes.is_empty() {
            return Err(OrdersError::CouponNotApplicable(quote.rejected_codes));
        }
        plan.coupon_codes = quote
            .applied
            .iter()
            .filter_map(|a| a.code.clone())
            .collect();
        domain::apply_quote(plan, &quote).map_err(plan_error)
    }

    /// Takes the limits and budgets of the plan's promotions, all or none.
    pub(super) async fn reserve_promotions(&self, plan: &Plan) -> Result<()> {
        if plan.promotions.is_empty() {
            return Ok(());
        }
        let request = ReservePromotions {
            group_id: plan.group_id,
            customer_id: plan.customer_id,
            currency: plan.currency,
            promotions: plan.promotions.clone(),
        };
        match self.promotions.reserve(&request).await {
            Ok(_) => Ok(()),
            Err(err) if err.is(PromotionsCode::PromotionUnavailable) => {
                let ids: Vec<Uuid> =
                    serde_json::from_value(err.problem["promotionIds"].clone()).unwrap_or_default();
                Err(OrdersError::PromotionUnavailable(ids))
            }
            Err(err) => Err(err.into()),
        }
    }
}
