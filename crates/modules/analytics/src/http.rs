//! analytics' HTTP face: a merchant's dashboards (sales, top products, vouchers, payouts) and
//! the admin summary, as JSON or CSV (`?format=csv` or `Accept: text/csv`).

use std::fmt::Write as _;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use kernel::error::Problem;
use kernel::{Actor, ApiError, FieldError};
use platform::http::ClassPolicy;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::*;
use crate::service::{Analytics, AnalyticsError};

type St = State<Arc<Analytics>>;

pub fn router(analytics: Arc<Analytics>) -> OpenApiRouter {
    analytics
        .ctx
        .rate_limited(
            OpenApiRouter::new()
                .routes(routes!(sales))
                .routes(routes!(products))
                .routes(routes!(vouchers))
                .routes(routes!(payouts))
                .routes(routes!(summary)),
            ClassPolicy::ByMethod,
        )
        .with_state(analytics)
}

/// CSV when asked by `format=csv` or by `Accept: text/csv` (without a `format`).
fn wants_csv(q: &AnalyticsQuery, headers: &HeaderMap) -> Result<bool, ApiError> {
    match q.format.as_deref() {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(_) => Err(AnalyticsError::InvalidRange(vec![FieldError {
            field: "format".into(),
            message: "must be json or csv".into(),
        }])
        .into()),
        None => Ok(headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv"))),
    }
}

/// The report's bytes: JSON, or CSV by `rows`.
fn render<T: Serialize>(
    csv: bool,
    report: &T,
    rows: impl FnOnce(&T) -> String,
) -> Result<Bytes, AnalyticsError> {
    if csv {
        Ok(Bytes::from(rows(report)))
    } else {
        Ok(Bytes::from(serde_json::to_vec(report)?))
    }
}

fn respond(csv: bool, name: &str, body: Bytes) -> Response {
    if !csv {
        return (
            [(header::CONTENT_TYPE, "application/json".to_owned())],
            body,
        )
            .into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A merchant's sales per day, ISO week or month, by currency: orders paid, gross, refunds,
/// net, commission and average order value (owner, managers, admins).
#[utoipa::path(get, path = "/api/v1/merchants/{id}/analytics/sales", operation_id = "analytics_sales", tag = "analytics",
    params(("id" = Uuid, Path, description = "Merchant id"), AnalyticsQuery), security(("bearer" = [])),
    responses((status = 200, description = "The report as JSON, or as CSV with the columns period,currency,orders,gross,refunds,net,commission,average_order_value (`format=csv` or `Accept: text/csv`)",
            content((SalesReport = "application/json"), (String = "text/csv"))),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn sales(
    State(a): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<AnalyticsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let csv = wants_csv(&q, &headers)?;
    let (analytics, who) = (&a, &actor);
    let body = a
        .report_body(&actor, id, &q, "sales", csv, |period| async move {
            let report = analytics.sales(who, id, &period).await?;
            render(csv, &report, sales_csv)
        })
        .await?;
    Ok(respond(csv, "sales", body))
}

fn sales_csv(r: &SalesReport) -> String {
    let mut out =
        String::from("period,currency,orders,gross,refunds,net,commission,average_order_value\n");
    for c in &r.currencies {
        for p in &c.points {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{}",
                p.period,
                c.currency,
                p.orders,
                p.gross,
                p.refunds,
                p.net,
                p.commission,
                p.average_order_value
            );
        }
    }
    out
}

/// A merchant's best-selling products over the period, by revenue, per currency.
#[utoipa::path(get, path = "/api/v1/merchants/{id}/analytics/products", operation_id = "analytics_products", tag = "analytics",
    params(("id" = Uuid, Path, description = "Merchant id"), AnalyticsQuery), security(("bearer" = [])),
    responses((status = 200, description = "The report as JSON, or as CSV with the columns currency,rank,product_id,sku,quantity,revenue,orders (`format=csv` or `Accept: text/csv`)",
            content((ProductsReport = "application/json"), (String = "text/csv"))),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn products(
    State(a): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<AnalyticsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let csv = wants_csv(&q, &headers)?;
    let (analytics, who, limit) = (&a, &actor, q.limit);
    let body = a
        .report_body(&actor, id, &q, "products", csv, |period| async move {
            let report = analytics.products(who, id, &period, limit).await?;
            render(csv, &report, products_csv)
        })
        .await?;
    Ok(respond(csv, "products", body))
}

fn products_csv(r: &ProductsReport) -> String {
    let mut out = String::from("currency,rank,product_id,sku,quantity,revenue,orders\n");
    for c in &r.currencies {
        for (i, p) in c.products.iter().enumerate() {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{}",
                c.currency,
                i + 1,
                p.product_id,
                csv_field(&p.sku),
                p.quantity,
                p.revenue,
                p.orders
            );
        }
    }
    out
}

/// A merchant's vouchers sold and redeemed per period, the redemption rate, expiries.
#[utoipa::path(get, path = "/api/v1/merchants/{id}/analytics/vouchers", operation_id = "analytics_vouchers", tag = "analytics",
    params(("id" = Uuid, Path, description = "Merchant id"), AnalyticsQuery), security(("bearer" = [])),
    responses((status = 200, description = "The report as JSON, or as CSV with the columns period,currency,sold,sold_value,redemptions,redeemed_value (`format=csv` or `Accept: text/csv`)",
            content((VouchersReport = "application/json"), (String = "text/csv"))),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn vouchers(
    State(a): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<AnalyticsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let csv = wants_csv(&q, &headers)?;
    let (analytics, who) = (&a, &actor);
    let body = a
        .report_body(&actor, id, &q, "vouchers", csv, |period| async move {
            let report = analytics.vouchers(who, id, &period).await?;
            render(csv, &report, vouchers_csv)
        })
        .await?;
    Ok(respond(csv, "vouchers", body))
}

fn vouchers_csv(r: &VouchersReport) -> String {
    let mut out = String::from("period,currency,sold,sold_value,redemptions,redeemed_value\n");
    for c in &r.currencies {
        for p in &c.points {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{}",
                p.period, c.currency, p.sold, p.sold_value, p.redemptions, p.redeemed_value
            );
        }
    }
    out
}

/// A merchant's payouts paid and failed per period.
#[utoipa::path(get, path = "/api/v1/merchants/{id}/analytics/payouts", operation_id = "analytics_payouts", tag = "analytics",
    params(("id" = Uuid, Path, description = "Merchant id"), AnalyticsQuery), security(("bearer" = [])),
    responses((status = 200, description = "The report as JSON, or as CSV with the columns period,currency,paid,paid_count,failed,failed_count (`format=csv` or `Accept: text/csv`)",
            content((PayoutsReport = "application/json"), (String = "text/csv"))),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn payouts(
    State(a): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(q): Query<AnalyticsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let csv = wants_csv(&q, &headers)?;
    let (analytics, who) = (&a, &actor);
    let body = a
        .report_body(&actor, id, &q, "payouts", csv, |period| async move {
            let report = analytics.payouts(who, id, &period).await?;
            render(csv, &report, payouts_csv)
        })
        .await?;
    Ok(respond(csv, "payouts", body))
}

fn payouts_csv(r: &PayoutsReport) -> String {
    let mut out = String::from("period,currency,paid,paid_count,failed,failed_count\n");
    for c in &r.currencies {
        for p in &c.points {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{}",
                p.period, c.currency, p.paid, p.paid_count, p.failed, p.failed_count
            );
        }
    }
    out
}

/// The platform over the period: GMV, orders, refunds, commission booked and earned (platform
/// revenue) per currency; new customers and merchants, applications waiting (admins with
/// `admin:payments`).
#[utoipa::path(get, path = "/api/v1/admin/analytics/summary", operation_id = "analytics_summary", tag = "analytics",
    params(AnalyticsQuery), security(("bearer" = [])),
    responses((status = 200, description = "The report as JSON, or as CSV with the columns currency,gmv,orders,refunds,net,average_order_value,commission,platform_revenue,vouchers_sold,redemptions,payouts_paid (`format=csv` or `Accept: text/csv`)",
            content((AdminSummary = "application/json"), (String = "text/csv"))),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn summary(
    State(a): St,
    actor: Actor,
    Query(q): Query<AnalyticsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let csv = wants_csv(&q, &headers)?;
    let report = a.summary(&actor, &q).await?;
    Ok(respond(csv, "summary", render(csv, &report, summary_csv)?))
}

fn summary_csv(r: &AdminSummary) -> String {
    let mut out = String::from("currency,gmv,orders,refunds,net,average_order_value,commission,platform_revenue,vouchers_sold,redemptions,payouts_paid\n");
    for c in &r.currencies {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{}",
            c.currency,
            c.gmv,
            c.orders,
            c.refunds,
            c.net,
            c.average_order_value,
            c.commission,
            c.platform_revenue,
            c.vouchers_sold,
            c.redemptions,
            c.payouts_paid
        );
    }
    out
}

/// A text field of a CSV row: quoted when it must be, and never read as a formula by a
/// spreadsheet (a merchant's SKU starting with `=` would run when an admin opens the file).
fn csv_field(raw: &str) -> String {
    let raw = if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{raw}")
    } else {
        raw.to_owned()
    };
    if raw.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", raw.replace('"', "\"\""))
    } else {
        raw
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("KOPI-1"), "KOPI-1");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("@SUM"), "'@SUM");
    }
}
