//! The public face of analytics: merchant dashboards and the admin summary, kept as rollups of
//! other modules' events. Every amount is in minor units of the currency it is listed under:
//! figures are never added across currencies.

mod errors;
pub use errors::AnalyticsCode;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The period and shape of a dashboard.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnalyticsQuery {
    /// `day` (default), `week` (ISO weeks, from Monday) or `month`.
    pub granularity: Option<String>,
    /// First local day, `YYYY-MM-DD` (default: 29 days before `to`).
    pub from: Option<String>,
    /// Last local day, inclusive, `YYYY-MM-DD` (default: today in `tz`).
    pub to: Option<String>,
    /// The time zone days are counted in: `UTC` (default), a whole-hour offset such as
    /// `+07:00`, or an IANA zone such as `Asia/Phnom_Penh` or `America/New_York` (daylight
    /// saving followed; zones that are not whole hours from UTC are refused).
    pub tz: Option<String>,
    /// `json` (default) or `csv`; `Accept: text/csv` also selects CSV.
    pub format: Option<String>,
    /// Top products: how many per currency (1-100, default 10).
    pub limit: Option<u32>,
}

/// The period a dashboard covers, as asked (resolved defaults included).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportPeriod {
    /// First local day.
    pub from: String,
    /// Last local day, inclusive.
    pub to: String,
    /// The zone the days are counted in: its IANA name, or the offset as `+HH:MM`.
    pub tz: String,
    pub granularity: String,
}

/// Sales of one period (a day, ISO week or month, named by its first local day).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SalesPoint {
    pub period: String,
    /// Orders paid.
    pub orders: i64,
    /// What paid orders charged (their totals).
    pub gross: i64,
    /// Refunded in the period (of orders paid at any time).
    pub refunds: i64,
    /// `gross - refunds`.
    pub net: i64,
    /// Commission booked on the paid orders.
    pub commission: i64,
    /// `gross / orders`, rounded down (0 without orders).
    pub average_order_value: i64,
}

/// One currency's sales: totals over the period and one point per day, week or month.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CurrencySales {
    pub currency: String,
    pub orders: i64,
    pub gross: i64,
    pub refunds: i64,
    /// Refunds made (each part of a partial refund counts).
    pub refund_count: i64,
    pub net: i64,
    pub commission: i64,
    pub average_order_value: i64,
    pub points: Vec<SalesPoint>,
}

/// `GET /api/v1/merchants/{id}/analytics/sales`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SalesReport {
    pub merchant_id: Uuid,
    pub period: ReportPeriod,
    pub currencies: Vec<CurrencySales>,
}

/// One product's sales over the period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductSales {
    pub product_id: Uuid,
    /// The SKU last sold of the product.
    pub sku: String,
    /// Units in paid orders.
    pub quantity: i64,
    /// What the customers paid for them (line totals less discounts).
    pub revenue: i64,
    /// Paid orders with the product.
    pub orders: i64,
}

/// One currency's top products, by revenue.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyProducts {
    pub currency: String,
    pub products: Vec<ProductSales>,
}

/// `GET /api/v1/merchants/{id}/analytics/products`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductsReport {
    pub merchant_id: Uuid,
    pub period: ReportPeriod,
    pub currencies: Vec<CurrencyProducts>,
}

/// Vouchers of one period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VoucherPoint {
    pub period: String,
    /// Vouchers issued from purchases.
    pub sold: i64,
    /// Their face value.
    pub sold_value: i64,
    /// Redemptions completed.
    pub redemptions: i64,
    /// Face value redeemed.
    pub redeemed_value: i64,
}

/// One currency's vouchers over the period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyVouchers {
    pub currency: String,
    pub sold: i64,
    pub sold_value: i64,
    pub redemptions: i64,
    pub redeemed_value: i64,
    /// `redeemedValue / soldValue` (0 when nothing was sold): value redeemed in the period
    /// against value sold in it.
    pub redemption_rate: f64,
    /// Vouchers that expired with value left, and that value.
    pub expired: i64,
    pub expired_value: i64,
    /// Commission the redemptions earned the platform.
    pub commission: i64,
    pub points: Vec<VoucherPoint>,
}

/// `GET /api/v1/merchants/{id}/analytics/vouchers`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VouchersReport {
    pub merchant_id: Uuid,
    pub period: ReportPeriod,
    pub currencies: Vec<CurrencyVouchers>,
}

/// Payouts of one period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PayoutPoint {
    pub period: String,
    pub paid: i64,
    pub paid_count: i64,
    pub failed: i64,
    pub failed_count: i64,
}

/// One currency's payouts over the period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyPayouts {
    pub currency: String,
    pub paid: i64,
    pub paid_count: i64,
    pub failed: i64,
    pub failed_count: i64,
    pub points: Vec<PayoutPoint>,
}

/// `GET /api/v1/merchants/{id}/analytics/payouts`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PayoutsReport {
    pub merchant_id: Uuid,
    pub period: ReportPeriod,
    pub currencies: Vec<CurrencyPayouts>,
}

/// The platform's figures in one currency over the period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CurrencySummary {
    pub currency: String,
    /// Gross merchandise value: what paid orders charged.
    pub gmv: i64,
    pub orders: i64,
    pub refunds: i64,
    /// `gmv - refunds`.
    pub net: i64,
    pub average_order_value: i64,
    /// Commission booked on paid orders.
    pub commission: i64,
    /// Commission earned: on redemptions of vouchers and deliveries of goods (less returns),
    /// as the ledger's `platform_revenue` account recognizes it.
    pub platform_revenue: i64,
    pub vouchers_sold: i64,
    pub redemptions: i64,
    pub payouts_paid: i64,
}

/// `GET /api/v1/admin/analytics/summary`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminSummary {
    pub period: ReportPeriod,
    /// Accounts registered in the period.
    pub new_customers: i64,
    /// Merchants approved in the period.
    pub new_merchants: i64,
    /// Merchant applications in the period.
    pub applications: i64,
    /// Applications waiting for a decision now.
    pub pending_applications: i64,
    /// Voucher redemptions held or blocked by the fraud rules, waiting for an admin now.
    pub open_fraud_cases: i64,
    pub currencies: Vec<CurrencySummary>,
}
