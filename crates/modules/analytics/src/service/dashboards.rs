//! The dashboards, read from the rollups: a merchant's sales, products, vouchers and payouts,
//! and the admin summary, per currency.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kernel::{Actor, FieldError, MerchantPermission, Permission, Timestamp};
use uuid::Uuid;

use super::cache::MAX_TOP_PRODUCTS;
use super::{Analytics, AnalyticsError, Result};
use crate::api::*;
use crate::domain::{self, average, Period};
use crate::store::{self, MerchantHour};

impl Analytics {
    /// The period a query asks for (defaults resolved against now).
    pub fn period(&self, q: &AnalyticsQuery) -> Result<Period> {
        domain::period(
            q.granularity.as_deref(),
            q.from.as_deref(),
            q.to.as_deref(),
            q.tz.as_deref(),
            Timestamp::now().millis(),
        )
        .map_err(AnalyticsError::InvalidRange)
    }

    /// A merchant's hour buckets of the period, grouped by currency and then by period.
    async fn merchant_points(
        &self,
        actor: &Actor,
        merchant_id: Uuid,
        period: &Period,
    ) -> Result<BTreeMap<String, Points>> {
        may_see(actor, merchant_id)?;
        let rows = self.days(merchant_id, period).await?;
        let mut by_currency: BTreeMap<String, Points> = BTreeMap::new();
        for row in rows.iter() {
            let points = by_currency
                .entry(row.currency.clone())
                .or_insert_with(|| Points::new(period));
            points.add(period.bucket_of(domain::epoch_day(row.day)), &row.figures);
        }
        Ok(by_currency)
    }

    pub async fn sales(
        &self,
        actor: &Actor,
        merchant_id: Uuid,
        period: &Period,
    ) -> Result<SalesReport> {
        let by_currency = self.merchant_points(actor, merchant_id, period).await?;
        let currencies = by_currency
            .into_iter()
            .map(|(currency, points)| {
                let t = &points.total;
                CurrencySales {
                    currency,
                    orders: t.orders,
                    gross: t.gross,
                    refunds: t.refunds,
                    refund_count: t.refund_count,
                    net: t.gross - t.refunds,
                    commission: t.commission,
                    average_order_value: average(t.gross, t.orders),
                    points: points
                        .each()
                        .map(|(day, f)| SalesPoint {
                            period: day.to_string(),
                            orders: f.orders,
                            gross: f.gross,
                            refunds: f.refunds,
                            net: f.gross - f.refunds,
                            commission: f.commission,
                            average_order_value: average(f.gross, f.orders),
                        })
                        .collect(),
                }
            })
            .collect();
        Ok(SalesReport {
            merchant_id,
            period: describe(period),
            currencies,
        })
    }

    pub async fn vouchers(
        &self,
        actor: &Actor,
        merchant_id: Uuid,
        period: &Period,
    ) -> Result<VouchersReport> {
        let by_currency = self.merchant_points(actor, merchant_id, period).await?;
        let currencies = by_currency
            .into_iter()
            .map(|(currency, points)| {
                let t = &points.total;
                CurrencyVouchers {
                    currency,
                    sold: t.vouchers_sold,
                    sold_value: t.vouchers_sold_value,
                    redemptions: t.redemptions,
                    redeemed_value: t.redeemed_value,
                    redemption_rate: rate(t.redeemed_value, t.vouchers_sold_value),
                    expired: t.vouchers_expired,
                    expired_value: t.expired_value,
                    commission: t.redemption_commission,
                    points: points
                        .each()
                        .map(|(day, f)| VoucherPoint {
                            period: day.to_string(),
                            sold: f.vouchers_sold,
                            sold_value: f.vouchers_sold_value,
                            redemptions: f.redemptions,
                            redeemed_value: f.redeemed_value,
                        })
                        .collect(),
                }
            })
            .collect();
        Ok(VouchersReport {
            merchant_id,
            period: describe(period),
            currencies,
        })
    }

    pub async fn payouts(
        &self,
        actor: &Actor,
        merchant_id: Uuid,
        period: &Period,
    ) -> Result<PayoutsReport> {
        let by_currency = self.merchant_points(actor, merchant_id, period).await?;
        let currencies = by_currency
            .into_iter()
            .map(|(currency, points)| {
                let t = &points.total;
                CurrencyPayouts {
                    currency,
                    paid: t.payouts_paid,
                    paid_count: t.payouts_paid_count,
                    failed: t.payouts_failed,
                    failed_count: t.payouts_failed_count,
                    points: points
                        .each()
                        .map(|(day, f)| PayoutPoint {
                            period: day.to_string(),
                            paid: f.payouts_paid,
                            paid_count: f.payouts_paid_count,
                            failed: f.payouts_failed,
                            failed_count: f.payouts_failed_count,
                        })
                        .collect(),
                }
            })
            .collect();
        Ok(PayoutsReport {
            merchant_id,
            period: describe(period),
            currencies,
        })
    }

    pub async fn products(
        &self,
        actor: &Actor,
        merchant_id: Uuid,
        period: &Period,
        limit: Option<u32>,
    ) -> Result<ProductsReport> {
        may_see(actor, merchant_id)?;
        let limit = match limit {
            None => 10,
            Some(n @ 1..=MAX_TOP_PRODUCTS) => n as usize,
            Some(_) => {
                return Err(AnalyticsError::InvalidRange(vec![FieldError {
                    field: "limit".into(),
                    message: "must be 1 to 100".into(),
                }]))
            }
        };
        let rows = self.product_rows(merchant_id, period).await?;
        let mut currencies: Vec<CurrencyProducts> = Vec::new();
        for row in rows.iter() {
            if currencies.last().is_none_or(|c| c.currency != row.currency) {
                currencies.push(CurrencyProducts {
                    currency: row.currency.clone(),
                    products: Vec::new(),
                });
            }
            if let Some(current) = currencies.last_mut() {
                if current.products.len() < limit {
                    current.products.push(ProductSales {
                        product_id: row.product_id,
                        sku: row.sku.clone(),
                        quantity: row.quantity,
                        revenue: row.revenue,
                        orders: row.orders,
                    });
                }
            }
        }
        Ok(ProductsReport {
            merchant_id,
            period: describe(period),
            currencies,
        })
    }

    pub async fn summary(&self, actor: &Actor, q: &AnalyticsQuery) -> Result<AdminSummary> {
        if !actor.can(Permission::AdminPayments) {
            return Err(AnalyticsError::Forbidden(
                "the platform's figures are for admins with admin:payments",
            ));
        }
        let period = self.period(q)?;
        let db = &self.ctx.db;
        let totals = store::platform_totals(db, period.start_ms, period.end_ms).await?;
        let counts = store::platform_counts(db, period.start_ms, period.end_ms).await?;
        let pending = store::pending_applications(db).await?;
        let open_fraud_cases = store::open_fraud_cases(db).await?;
        Ok(AdminSummary {
            period: describe(&period),
            new_customers: counts.new_customers,
            new_merchants: counts.new_merchants,
            applications: counts.applications,
            pending_applications: pending,
            open_fraud_cases,
            currencies: totals
                .into_iter()
                .map(|t| {
                    let f = &t.figures;
                    CurrencySummary {
                        currency: t.currency,
                        gmv: f.gross,
                        orders: f.orders,
                        refunds: f.refunds,
                        net: f.gross - f.refunds,
                        average_order_value: average(f.gross, f.orders),
                        commission: f.commission,
                        platform_revenue: f.redemption_commission + f.delivered_commission,
                        vouchers_sold: f.vouchers_sold,
                        redemptions: f.redemptions,
                        payouts_paid: f.payouts_paid,
                    }
                })
                .collect(),
        })
    }
}

/// Merchant dashboards: the merchant's owner and managers (`ViewBalance`: they see its money),
/// and admins with `admin:payments`.
pub(super) fn may_see(actor: &Actor, merchant_id: Uuid) -> Result<()> {
    if actor.can(Permission::AdminPayments)
        || actor.is_staff_with(merchant_id, MerchantPermission::ViewBalance)
    {
        return Ok(());
    }
    Err(AnalyticsError::Forbidden(
        "only the merchant's owner and managers see its analytics",
    ))
}

fn describe(period: &Period) -> ReportPeriod {
    ReportPeriod {
        from: period.from.to_string(),
        to: period.to.to_string(),
        tz: period.zone.label(),
        granularity: period.granularity.as_str().to_owned(),
    }
}

fn rate(part: i64, whole: i64) -> f64 {
    if whole > 0 {
        part as f64 / whole as f64
    } else {
        0.0
    }
}

/// One currency's figures per period (every period of the range, empty ones too) and in total.
struct Points {
    periods: BTreeMap<NaiveDate, MerchantHour>,
    total: MerchantHour,
}

impl Points {
    fn new(period: &Period) -> Self {
        Self {
            periods: period
                .buckets()
                .into_iter()
                .map(|d| (d, MerchantHour::default()))
                .collect(),
            total: MerchantHour::default(),
        }
    }

    fn add(&mut self, day: NaiveDate, f: &MerchantHour) {
        plus(self.periods.entry(day).or_default(), f);
        plus(&mut self.total, f);
    }

    fn each(&self) -> impl Iterator<Item = (&NaiveDate, &MerchantHour)> {
        self.periods.iter()
    }
}

fn plus(into: &mut MerchantHour, f: &MerchantHour) {
    into.orders += f.orders;
    into.gross += f.gross;
    into.commission += f.commission;
    into.refunds += f.refunds;
    into.refund_count += f.refund_count;
    into.vouchers_sold += f.vouchers_sold;
    into.vouchers_sold_value += f.vouchers_sold_value;
    into.redemptions += f.redemptions;
    into.redeemed_value += f.redeemed_value;
    into.redemption_commission += f.redemption_commission;
    into.vouchers_expired += f.vouchers_expired;
    into.expired_value += f.expired_value;
    into.delivered_commission += f.delivered_commission;
    into.payouts_paid += f.payouts_paid;
    into.payouts_paid_count += f.payouts_paid_count;
    into.payouts_failed += f.payouts_failed;
    into.payouts_failed_count += f.payouts_failed_count;
}
