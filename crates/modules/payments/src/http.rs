//! payments' HTTP face: create and read payments, instructions, admin refunds, provider
//! webhooks (raw body, no user auth), and the simulator's page and Bakong stand-in.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use kernel::error::Problem;
use kernel::{Actor, ApiError, Page, PageQuery};
use platform::http::{ApiJson, ClassPolicy};
use platform::idempotency;
use platform::ratelimit::RouteClass;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::*;
use crate::domain::Reported;
use crate::providers::khqr::{BakongResponse, CheckByMd5};
use crate::service::Payments;

type St = State<Arc<Payments>>;

pub fn router(payments: Arc<Payments>) -> OpenApiRouter {
    let mut router = payments
        .ctx
        .rate_limited(
            OpenApiRouter::new().routes(routes!(create, list)),
            ClassPolicy::WritesAs(RouteClass::Payment),
        )
        .merge(
            payments.ctx.rate_limited(
                OpenApiRouter::new()
                    .routes(routes!(get_payment))
                    .routes(routes!(instructions))
                    .routes(routes!(refund))
                    .routes(routes!(settle_refund))
                    .routes(routes!(verify))
                    .routes(routes!(reject))
                    .routes(routes!(awaiting))
                    .routes(routes!(audit_trail)),
                ClassPolicy::ByMethod,
            ),
        )
        // Gateways retry in bursts and every request is verified first: not rate limited.
        .merge(OpenApiRouter::new().routes(routes!(webhook)))
        // A payer's browser brings Pi Pay's return: anyone can send one, so it is limited
        // like any read.
        .merge(payments.ctx.rate_limited(
            OpenApiRouter::new().routes(routes!(webhook_return)),
            ClassPolicy::ByMethod,
        ));
    if payments.config.simulator.enabled {
        router = router.merge(
            OpenApiRouter::new()
                .routes(routes!(simulator_page))
                .routes(routes!(simulator_approve))
                .routes(routes!(simulator_decline))
                .routes(routes!(simulator_bakong)),
        );
    }
    router.with_state(payments)
}

/// How long a payment or refund request may hold its Idempotency-Key (provider calls included)
/// before a retry presumes it dead.
const KEY_LEASE_SECS: i64 = 60;

/// Pay an order group: the amount is the group's, never the client's. `Idempotency-Key`:
/// the same key and body answer the same payment; another body 422; while running 409.
#[utoipa::path(post, path = "/api/v1/payments", tag = "payments", request_body = CreatePayment,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry key (kept 24 h)")),
    security(("bearer" = [])),
    responses((status = 201, body = Payment), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem)))]
async fn create(
    State(p): St,
    actor: Actor,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreatePayment>,
) -> Result<Response, ApiError> {
    p.ctx.require_verified(&actor, "payment")?;
    let scope = format!("payments:{}", actor.user_id);
    let fingerprint = idempotency::fingerprint(&body);
    let payments = &p;
    idempotency::guard(
        &p.ctx.db,
        &headers,
        &scope,
        &fingerprint,
        KEY_LEASE_SECS,
        |attempt| async move {
            let payment = payments.create(&actor, body, attempt.as_ref()).await?;
            Ok((StatusCode::CREATED, Json(payment)).into_response())
        },
    )
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct GroupQuery {
    order_group_id: Uuid,
}

/// Payments of an order group (its customer, admins).
#[utoipa::path(get, path = "/api/v1/payments", operation_id = "list_payments", tag = "payments", params(GroupQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<Payment>)))]
async fn list(
    State(p): St,
    actor: Actor,
    Query(query): Query<GroupQuery>,
) -> Result<Json<Vec<Payment>>, ApiError> {
    Ok(Json(p.of_group(&actor, query.order_group_id).await?))
}

/// A payment with its transaction log (its customer, admins).
#[utoipa::path(get, path = "/api/v1/payments/{id}", tag = "payments",
    params(("id" = Uuid, Path, description = "payment id")), security(("bearer" = [])),
    responses((status = 200, body = Payment), (status = 404, body = Problem)))]
async fn get_payment(
    State(p): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Payment>, ApiError> {
    Ok(Json(p.get(&actor, id).await?))
}

/// How to pay: a redirect, or the KHQR payload and its QR image.
#[utoipa::path(get, path = "/api/v1/payments/{id}/instructions", tag = "payments",
    params(("id" = Uuid, Path, description = "payment id")), security(("bearer" = [])),
    responses((status = 200, body = Instructions), (status = 404, body = Problem)))]
async fn instructions(
    State(p): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Instructions>, ApiError> {
    Ok(Json(p.instructions(&actor, id).await?))
}

/// Refund all or part of a payment through its provider (admins). Never more than captured.
#[utoipa::path(post, path = "/api/v1/payments/{id}/refund", operation_id = "refund_payment", tag = "payments", request_body = RefundRequest,
    params(("id" = Uuid, Path, description = "payment id"),
        ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    security(("bearer" = [])),
    responses((status = 202, body = RefundAccepted), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn refund(
    State(p): St,
    actor: Actor,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<RefundRequest>,
) -> Result<Response, ApiError> {
    let scope = format!("refunds:{}:{id}", actor.user_id);
    let fingerprint = idempotency::fingerprint(&body);
    let payments = &p;
    idempotency::guard(
        &p.ctx.db,
        &headers,
        &scope,
        &fingerprint,
        KEY_LEASE_SECS,
        |attempt| async move {
            let accepted = payments
                .admin_refund(&actor, id, body, attempt.as_ref())
                .await?;
            Ok((StatusCode::ACCEPTED, Json(accepted)).into_response())
        },
    )
    .await
}

/// Record a refund an operator paid back outside the provider (admins; KHQR refunds are bank
/// transfers).
#[utoipa::path(post, path = "/api/v1/payments/{id}/refunds/{refundId}/settle", tag = "payments",
    request_body = ManualRefund,
    params(("id" = Uuid, Path, description = "payment id"), ("refundId" = String, Path, description = "refund id")),
    security(("bearer" = [])),
    responses((status = 200, body = Payment), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn settle_refund(
    State(p): St,
    actor: Actor,
    Path((id, refund_id)): Path<(Uuid, String)>,
    ApiJson(body): ApiJson<ManualRefund>,
) -> Result<Json<Payment>, ApiError> {
    Ok(Json(
        p.settle_manual_refund(&actor, id, &refund_id, body).await?,
    ))
}

/// Confirm a bank transfer found on the statement as this payment's money (admins). The
/// same effects as a provider's webhook; audited; the same bank reference again answers
/// `duplicate`.
#[utoipa::path(post, path = "/api/v1/payments/{id}/verify", operation_id = "verify_payment", tag = "payments",
    request_body = VerifyPayment,
    params(("id" = Uuid, Path, description = "payment id")),
    security(("bearer" = [])),
    responses((status = 200, body = Verification), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn verify(
    State(p): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<VerifyPayment>,
) -> Result<Json<Verification>, ApiError> {
    Ok(Json(p.verify(&actor, id, body).await?))
}

/// No transfer arrived for this bank-transfer payment: it fails as a decline would, and
/// leaves the operators' list (admins; audited).
#[utoipa::path(post, path = "/api/v1/payments/{id}/reject", operation_id = "reject_payment", tag = "payments",
    request_body = RejectPayment,
    params(("id" = Uuid, Path, description = "payment id")),
    security(("bearer" = [])),
    responses((status = 200, body = Verification), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn reject(
    State(p): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<RejectPayment>,
) -> Result<Json<Verification>, ApiError> {
    Ok(Json(p.reject(&actor, id, body).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct AwaitingQuery {
    /// `verification` or `refund`; both when absent.
    kind: Option<AwaitingKind>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// Payments waiting for a bank transfer to be verified, and refunds waiting to be paid back
/// by hand, oldest first (admins).
#[utoipa::path(get, path = "/api/v1/admin/payments/awaiting", tag = "admin", params(AwaitingQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Page<AwaitingPayment>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn awaiting(
    State(p): St,
    actor: Actor,
    Query(query): Query<AwaitingQuery>,
) -> Result<Json<Page<AwaitingPayment>>, ApiError> {
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    };
    Ok(Json(p.awaiting(&actor, query.kind, &page).await?))
}

/// What admins did to this payment by hand: verifications and refunds settled (admins).
#[utoipa::path(get, path = "/api/v1/payments/{id}/audit", operation_id = "payment_audit", tag = "payments",
    params(("id" = Uuid, Path, description = "payment id")), security(("bearer" = [])),
    responses((status = 200, body = Vec<PaymentAudit>), (status = 404, body = Problem)))]
async fn audit_trail(
    State(p): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<PaymentAudit>>, ApiError> {
    Ok(Json(p.audit_trail(&actor, id).await?))
}

/// A provider's notification, verified on the raw body and applied once per provider event.
#[utoipa::path(post, path = "/api/v1/payments/webhook/{provider}", tag = "payments",
    params(("provider" = String, Path, description = "simulator, midtrans, xendit, aba_payway, wing or pipay")),
    request_body(content = String, description = "the provider's payload, as sent"),
    responses((status = 200, body = WebhookAck), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 502, body = Problem)))]
async fn webhook(
    State(p): St,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookAck>, ApiError> {
    Ok(Json(p.webhook(&provider, &headers, &body).await?))
}

/// A provider's notification that arrives as the payer's browser coming back (Pi Pay's
/// `confirmURL`): its query string is read as the payload, like a form body.
#[utoipa::path(get, path = "/api/v1/payments/webhook/{provider}", operation_id = "webhook_return", tag = "payments",
    params(("provider" = String, Path, description = "pipay")),
    responses((status = 200, body = WebhookAck), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 502, body = Problem)))]
async fn webhook_return(
    State(p): St,
    Path(provider): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<WebhookAck>, ApiError> {
    let query = query.unwrap_or_default();
    Ok(Json(
        p.webhook(&provider, &headers, query.as_bytes()).await?,
    ))
}

/// The simulator's payment page (development).
#[utoipa::path(get, path = "/api/v1/payments/simulator/{id}", tag = "payments-simulator",
    params(("id" = Uuid, Path, description = "payment id")),
    responses((status = 200, description = "an HTML page"), (status = 404, body = Problem)))]
async fn simulator_page(State(p): St, Path(id): Path<Uuid>) -> Result<Html<String>, ApiError> {
    let payment = p.simulator_payment(id).await?;
    Ok(Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Pasar payment simulator</title></head>
<body><h1>Payment simulator</h1><p>Payment {id} by {method}: {amount} {currency} (minor units)</p>
<form method="post" action="/api/v1/payments/simulator/{id}/approve"><button>Approve</button></form>
<form method="post" action="/api/v1/payments/simulator/{id}/decline"><button>Decline</button></form>
</body></html>"#,
        method = payment.provider,
        amount = payment.amount,
        currency = payment.currency,
    )))
}

/// Approve: the simulator sends a signed `SUCCEEDED` webhook (or, for KHQR, records the
/// transfer its Bakong stand-in will report).
#[utoipa::path(post, path = "/api/v1/payments/simulator/{id}/approve", tag = "payments-simulator",
    params(("id" = Uuid, Path, description = "payment id")),
    responses((status = 200, body = WebhookAck), (status = 404, body = Problem)))]
async fn simulator_approve(
    State(p): St,
    Path(id): Path<Uuid>,
) -> Result<Json<WebhookAck>, ApiError> {
    Ok(Json(WebhookAck {
        outcome: p.simulate(id, Reported::Succeeded).await?,
    }))
}

/// Decline: the simulator sends a signed `FAILED` webhook.
#[utoipa::path(post, path = "/api/v1/payments/simulator/{id}/decline", tag = "payments-simulator",
    params(("id" = Uuid, Path, description = "payment id")),
    responses((status = 200, body = WebhookAck), (status = 404, body = Problem)))]
async fn simulator_decline(
    State(p): St,
    Path(id): Path<Uuid>,
) -> Result<Json<WebhookAck>, ApiError> {
    Ok(Json(WebhookAck {
        outcome: p.simulate(id, Reported::Failed).await?,
    }))
}

/// The simulator's stand-in for Bakong's `check_transaction_by_md5` (development).
#[utoipa::path(post, path = "/api/v1/payments/simulator/bakong/v1/check_transaction_by_md5",
    tag = "payments-simulator", request_body = CheckByMd5,
    responses((status = 200, body = BakongResponse)))]
async fn simulator_bakong(
    State(p): St,
    ApiJson(body): ApiJson<CheckByMd5>,
) -> Result<Json<BakongResponse>, ApiError> {
    Ok(Json(p.bakong_check(&body.md5).await?))
}
