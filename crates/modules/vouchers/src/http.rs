//! vouchers' HTTP face: offers, the wallet (QR codes, gifts, refunds), redemptions at the
//! counter, and the admins' fraud queue and rules.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use kernel::error::Problem;
use kernel::{Actor, ApiError, Page};
use platform::http::{internal_only, ApiJson, ClassPolicy};
use platform::idempotency;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::*;
use crate::service::Vouchers;

type St = State<Arc<Vouchers>>;

pub fn router(vouchers: Arc<Vouchers>) -> OpenApiRouter {
    vouchers
        .ctx
        .rate_limited(
            OpenApiRouter::new()
                .routes(routes!(list_offers, create_offer))
                .routes(routes!(get_offer, update_offer))
                .routes(routes!(claim))
                .routes(routes!(wallet))
                .routes(routes!(wallet_item))
                .routes(routes!(qr))
                .routes(routes!(gift))
                .routes(routes!(refund))
                .routes(routes!(gifts_sent))
                .routes(routes!(accept_gift))
                .routes(routes!(cancel_gift))
                .routes(routes!(redeem, list_redemptions))
                .routes(routes!(list_cases))
                .routes(routes!(get_case))
                .routes(routes!(approve_case))
                .routes(routes!(reject_case))
                .routes(routes!(get_rules, put_rules)),
            ClassPolicy::ByMethod,
        )
        .merge(
            OpenApiRouter::new()
                .routes(routes!(purchase_check))
                .routes(routes!(offer_listings))
                .routes(routes!(issue_printed))
                .routes(routes!(internal_offer))
                .layer(axum::middleware::from_fn(internal_only)),
        )
        .with_state(vouchers)
}

/// Public voucher offers, with filters (category, merchant, kind, price, near a point within
/// a radius, expiring soon) and sorting.
#[utoipa::path(get, path = "/api/v1/vouchers", tag = "vouchers", params(OfferQuery),
    responses((status = 200, body = Page<Offer>), (status = 422, body = Problem)))]
async fn list_offers(
    State(v): St,
    actor: Option<Actor>,
    Query(query): Query<OfferQuery>,
) -> Result<Json<Page<Offer>>, ApiError> {
    Ok(Json(v.offers(actor.as_ref(), &query).await?))
}

/// Publishes voucher terms for a variant of a VOUCHER product (merchant staff who edit
/// listings). It is public once the product is approved.
#[utoipa::path(post, path = "/api/v1/vouchers", tag = "vouchers", request_body = OfferInput,
    security(("bearer" = [])),
    responses((status = 201, body = Offer), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn create_offer(
    State(v): St,
    actor: Actor,
    ApiJson(body): ApiJson<OfferInput>,
) -> Result<(StatusCode, Json<Offer>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(v.create_offer(&actor, body).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/vouchers/{id}", tag = "vouchers",
    params(("id" = Uuid, Path, description = "offer id")),
    responses((status = 200, body = Offer), (status = 404, body = Problem)))]
async fn get_offer(
    State(v): St,
    actor: Option<Actor>,
    Path(id): Path<Uuid>,
) -> Result<Json<Offer>, ApiError> {
    Ok(Json(v.offer(actor.as_ref(), id).await?))
}

#[utoipa::path(put, path = "/api/v1/vouchers/{id}", tag = "vouchers", request_body = OfferUpdate,
    params(("id" = Uuid, Path, description = "offer id")), security(("bearer" = [])),
    responses((status = 200, body = Offer), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn update_offer(
    State(v): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<OfferUpdate>,
) -> Result<Json<Offer>, ApiError> {
    Ok(Json(v.update_offer(&actor, id, body).await?))
}

/// Claims a free voucher into the caller's wallet (within the offer's caps).
#[utoipa::path(post, path = "/api/v1/vouchers/{id}/claim", tag = "wallet",
    params(("id" = Uuid, Path, description = "offer id")), security(("bearer" = [])),
    responses((status = 201, body = WalletItem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn claim(
    State(v): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, Json<WalletItem>), ApiError> {
    Ok((StatusCode::CREATED, Json(v.claim(&actor, id).await?)))
}

/// The caller's vouchers, newest first.
#[utoipa::path(get, path = "/api/v1/wallet", tag = "wallet", params(WalletQuery),
    security(("bearer" = [])), responses((status = 200, body = Page<WalletItem>)))]
async fn wallet(
    State(v): St,
    actor: Actor,
    Query(query): Query<WalletQuery>,
) -> Result<Json<Page<WalletItem>>, ApiError> {
    Ok(Json(v.wallet(&actor, &query).await?))
}

#[utoipa::path(get, path = "/api/v1/wallet/{id}", tag = "wallet",
    params(("id" = Uuid, Path, description = "voucher id")), security(("bearer" = [])),
    responses((status = 200, body = WalletItem), (status = 404, body = Problem)))]
async fn wallet_item(
    State(v): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<WalletItem>, ApiError> {
    Ok(Json(v.item(&actor, id).await?))
}

/// The voucher's QR code: PNG (default), SVG, or the signed token. The on-screen variant
/// rotates every 30 s; the printed one does not and needs the PIN at the counter.
#[utoipa::path(get, path = "/api/v1/wallet/{id}/qr", tag = "wallet",
    params(("id" = Uuid, Path, description = "voucher id"), QrQuery), security(("bearer" = [])),
    responses((status = 200, description = "image/png, image/svg+xml, or QrToken JSON"),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn qr(
    State(v): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(query): Query<QrQuery>,
) -> Result<Response, ApiError> {
    let printed = query.variant == Some(QrVariant::Printed);
    let token = v.qr_token(&actor, id, printed).await?;
    // Screen codes change every step: never cache them.
    let no_store = (header::CACHE_CONTROL, "no-store");
    Ok(match query.format.unwrap_or(QrFormat::Png) {
        QrFormat::Token => ([no_store], Json(token)).into_response(),
        QrFormat::Svg => {
            let svg = crate::qr::svg(&token.token).map_err(|e| {
                tracing::error!(error = %e, "QR rendering");
                ApiError::internal()
            })?;
            ([(header::CONTENT_TYPE, "image/svg+xml"), no_store], svg).into_response()
        }
        QrFormat::Png => {
            let png = crate::qr::png(&token.token, 6).map_err(|e| {
                tracing::error!(error = %e, "QR rendering");
                ApiError::internal()
            })?;
            ([(header::CONTENT_TYPE, "image/png"), no_store], png).into_response()
        }
    })
}

/// Gives the voucher to someone by email or phone. It leaves the wallet at once (its QR codes
/// stop working); the recipient accepts with the token sent to them.
#[utoipa::path(post, path = "/api/v1/wallet/{id}/gift", tag = "wallet", request_body = GiftInput,
    params(("id" = Uuid, Path, description = "voucher id")), security(("bearer" = [])),
    responses((status = 201, body = Gift), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn gift(
    State(v): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<GiftInput>,
) -> Result<(StatusCode, Json<Gift>), ApiError> {
    let (gift, _token) = v.gift(&actor, id, body).await?;
    Ok((StatusCode::CREATED, Json(gift)))
}

/// Returns an unused bought voucher within the refund window; the money goes back to the
/// payment.
#[utoipa::path(post, path = "/api/v1/wallet/{id}/refund", operation_id = "refund_voucher", tag = "wallet",
    params(("id" = Uuid, Path, description = "voucher id")), security(("bearer" = [])),
    responses((status = 200, body = WalletItem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn refund(
    State(v): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<WalletItem>, ApiError> {
    Ok(Json(v.refund(&actor, id).await?))
}

/// Gifts the caller sent, newest first.
#[utoipa::path(get, path = "/api/v1/wallet/gifts", tag = "wallet", security(("bearer" = [])),
    responses((status = 200, body = Vec<Gift>)))]
async fn gifts_sent(State(v): St, actor: Actor) -> Result<Json<Vec<Gift>>, ApiError> {
    Ok(Json(v.gifts_sent(&actor).await?))
}

/// Accepts a gift into the caller's wallet: a new voucher with its own code and PIN.
#[utoipa::path(post, path = "/api/v1/wallet/gifts/accept", tag = "wallet", request_body = AcceptGift,
    security(("bearer" = [])),
    responses((status = 201, body = WalletItem), (status = 404, body = Problem)))]
async fn accept_gift(
    State(v): St,
    actor: Actor,
    ApiJson(body): ApiJson<AcceptGift>,
) -> Result<(StatusCode, Json<WalletItem>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(v.accept_gift(&actor, &body.token).await?),
    ))
}

/// Takes back a gift not yet accepted.
#[utoipa::path(post, path = "/api/v1/wallet/gifts/{id}/cancel", tag = "wallet",
    params(("id" = Uuid, Path, description = "gift id")), security(("bearer" = [])),
    responses((status = 200, body = Gift), (status = 404, body = Problem)))]
async fn cancel_gift(
    State(v): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Gift>, ApiError> {
    Ok(Json(v.cancel_gift(&actor, id).await?))
}

/// Redeems a scanned QR token, or a code with its PIN, at an outlet (merchant staff).
/// `Idempotency-Key` per scan: a retried request answers the same redemption.
#[utoipa::path(post, path = "/api/v1/redemptions", tag = "redemptions", request_body = RedeemInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "one per scan")),
    security(("bearer" = [])),
    responses((status = 201, body = Redemption), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 423, body = Problem)))]
async fn redeem(
    State(v): St,
    actor: Actor,
    headers: HeaderMap,
    ApiJson(body): ApiJson<RedeemInput>,
) -> Result<Response, ApiError> {
    let scope = format!("redemptions:{}", actor.user_id);
    let fingerprint = idempotency::fingerprint(&body);
    let vouchers = &v;
    idempotency::guard(
        &v.ctx.db,
        &headers,
        &scope,
        &fingerprint,
        30,
        |attempt| async move {
            let redemption = vouchers.redeem(&actor, body, attempt.as_ref()).await?;
            Ok((StatusCode::CREATED, Json(redemption)).into_response())
        },
    )
    .await
}

/// Redemptions: a merchant's (`merchantId`, its staff) or the caller's own vouchers'.
#[utoipa::path(get, path = "/api/v1/redemptions", tag = "redemptions", params(RedemptionQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Page<Redemption>), (status = 403, body = Problem)))]
async fn list_redemptions(
    State(v): St,
    actor: Actor,
    Query(query): Query<RedemptionQuery>,
) -> Result<Json<Page<Redemption>>, ApiError> {
    Ok(Json(v.redemptions(&actor, &query).await?))
}

/// The fraud case queue, oldest first (`?status=OPEN`).
#[utoipa::path(get, path = "/api/v1/admin/fraud-cases", tag = "vouchers-admin", params(CaseQuery),
    security(("bearer" = [])),
    responses((status = 200, body = Page<FraudCase>), (status = 403, body = Problem)))]
async fn list_cases(
    State(v): St,
    actor: Actor,
    Query(query): Query<CaseQuery>,
) -> Result<Json<Page<FraudCase>>, ApiError> {
    Ok(Json(v.cases(&actor, &query).await?))
}

#[utoipa::path(get, path = "/api/v1/admin/fraud-cases/{id}", tag = "vouchers-admin",
    params(("id" = Uuid, Path, description = "case id")), security(("bearer" = [])),
    responses((status = 200, body = FraudCase), (status = 404, body = Problem)))]
async fn get_case(
    State(v): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<FraudCase>, ApiError> {
    Ok(Json(v.case(&actor, id).await?))
}

/// Approves: the held redemption completes, or the blocked one is carried out now.
#[utoipa::path(post, path = "/api/v1/admin/fraud-cases/{id}/approve", tag = "vouchers-admin",
    request_body = CaseDecision, params(("id" = Uuid, Path, description = "case id")), security(("bearer" = [])),
    responses((status = 200, body = FraudCase), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn approve_case(
    State(v): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<CaseDecision>,
) -> Result<Json<FraudCase>, ApiError> {
    Ok(Json(v.approve_case(&actor, id, &body.note).await?))
}

/// Rejects: a held amount goes back on the voucher.
#[utoipa::path(post, path = "/api/v1/admin/fraud-cases/{id}/reject", tag = "vouchers-admin",
    request_body = CaseDecision, params(("id" = Uuid, Path, description = "case id")), security(("bearer" = [])),
    responses((status = 200, body = FraudCase), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn reject_case(
    State(v): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<CaseDecision>,
) -> Result<Json<FraudCase>, ApiError> {
    Ok(Json(v.reject_case(&actor, id, &body.note).await?))
}

/// The fraud rule set in force and its version.
#[utoipa::path(get, path = "/api/v1/admin/fraud-rules", tag = "vouchers-admin", security(("bearer" = [])),
    responses((status = 200, body = RuleSetVersion), (status = 403, body = Problem)))]
async fn get_rules(State(v): St, actor: Actor) -> Result<Json<RuleSetVersion>, ApiError> {
    Ok(Json(v.rules(&actor).await?))
}

/// Replaces the fraud rules with a new version (no deploy needed).
#[utoipa::path(put, path = "/api/v1/admin/fraud-rules", tag = "vouchers-admin", request_body = RuleSet,
    security(("bearer" = [])),
    responses((status = 200, body = RuleSetVersion), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn put_rules(
    State(v): St,
    actor: Actor,
    ApiJson(body): ApiJson<RuleSet>,
) -> Result<Json<RuleSetVersion>, ApiError> {
    Ok(Json(v.set_rules(&actor, body).await?))
}

/// The voucher lines a customer may not buy (internal, for checkout).
#[utoipa::path(post, path = "/internal/v1/vouchers/purchase-check", tag = "internal",
    request_body = PurchaseCheck,
    responses((status = 200, body = Vec<PurchaseRefusal>), (status = 403, body = Problem)))]
async fn purchase_check(
    State(v): St,
    actor: Actor,
    ApiJson(body): ApiJson<PurchaseCheck>,
) -> Result<Json<Vec<PurchaseRefusal>>, ApiError> {
    actor.require_internal()?;
    Ok(Json(v.purchase_check(&body).await?))
}

/// Printed vouchers for a voucher book, within the offer's cap (internal, for books).
#[utoipa::path(post, path = "/internal/v1/vouchers/printed", tag = "internal",
    request_body = PrintedIssue,
    responses((status = 200, body = Vec<PrintedVoucher>), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn issue_printed(
    State(v): St,
    actor: Actor,
    ApiJson(body): ApiJson<PrintedIssue>,
) -> Result<Json<Vec<PrintedVoucher>>, ApiError> {
    actor.require_internal()?;
    Ok(Json(v.issue_printed(&body).await?))
}

/// One offer, visible or not (internal, for books).
#[utoipa::path(get, path = "/internal/v1/vouchers/offers/{id}", tag = "internal",
    params(("id" = Uuid, Path, description = "offer id")),
    responses((status = 200, body = Offer), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn internal_offer(
    State(v): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Offer>, ApiError> {
    actor.require_internal()?;
    Ok(Json(v.offer_any(id).await?))
}

/// Offers, visible or not, of some products or in pages (internal, for search).
#[utoipa::path(post, path = "/internal/v1/vouchers/offer-listings", tag = "internal",
    request_body = OfferListingQuery,
    responses((status = 200, body = Vec<Offer>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn offer_listings(
    State(v): St,
    actor: Actor,
    ApiJson(body): ApiJson<OfferListingQuery>,
) -> Result<Json<Vec<Offer>>, ApiError> {
    actor.require_internal()?;
    Ok(Json(v.offer_listings(&body).await?))
}
