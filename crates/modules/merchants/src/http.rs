//! merchants' HTTP face: applications, profile, outlets, members, and the admin review.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use kernel::error::Problem;
use kernel::{Actor, ApiError, MerchantPermission, Page, PageQuery, Permission};
use platform::http::{internal_only, ApiJson, ClassPolicy};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::*;
use crate::domain::StatusAction;
use crate::service::{MerchantView, Merchants};

type St = State<Arc<Merchants>>;

pub fn router(merchants: Arc<Merchants>) -> OpenApiRouter {
    let public = merchants.ctx.rate_limited(
        OpenApiRouter::new()
            .routes(routes!(apply, list_public))
            .routes(routes!(mine))
            .routes(routes!(get_merchant, update_merchant))
            .routes(routes!(close))
            .routes(routes!(set_bank_account))
            .routes(routes!(list_outlets, add_outlet))
            .routes(routes!(update_outlet, remove_outlet))
            .routes(routes!(list_members))
            .routes(routes!(remove_member))
            .routes(routes!(list_invitations, invite))
            .routes(routes!(revoke_invitation))
            .routes(routes!(accept_invitation))
            .routes(routes!(get_commission))
            .routes(routes!(admin_list))
            .routes(routes!(approve))
            .routes(routes!(reject))
            .routes(routes!(suspend))
            .routes(routes!(reactivate))
            .routes(routes!(admin_close))
            .routes(routes!(admin_set_commission))
            .routes(routes!(
                admin_set_category_commission,
                admin_remove_category_commission
            ))
            .routes(routes!(admin_audit)),
        ClassPolicy::ByMethod,
    );
    // Internal calls come from modules in this or another process, never through rate limits
    // meant for end users.
    public
        .merge(
            OpenApiRouter::new()
                .routes(routes!(internal_commission))
                .routes(routes!(internal_payout_account))
                .routes(routes!(internal_memberships))
                .routes(routes!(internal_shipping_origins))
                .layer(axum::middleware::from_fn(internal_only)),
        )
        .with_state(merchants)
}

fn is_admin(actor: Option<&Actor>) -> bool {
    actor.is_some_and(|a| a.can(Permission::AdminMerchants))
}

/// Apply to become a merchant. The applicant becomes its owner; the application waits for
/// review in PENDING_REVIEW.
#[utoipa::path(post, path = "/api/v1/merchants", tag = "merchants", request_body = MerchantApplication,
    security(("bearer" = [])),
    responses((status = 201, body = MerchantDetail), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn apply(
    State(m): St,
    actor: Actor,
    ApiJson(body): ApiJson<MerchantApplication>,
) -> Result<(StatusCode, Json<MerchantDetail>), ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    Ok((
        StatusCode::CREATED,
        Json(m.apply(actor.user_id, body).await?),
    ))
}

/// ACTIVE merchants, public.
#[utoipa::path(get, path = "/api/v1/merchants", tag = "merchants",
    params(PublicMerchantQuery, PageQuery),
    responses((status = 200, body = Page<PublicMerchant>)))]
async fn list_public(
    State(m): St,
    Query(filter): Query<PublicMerchantQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<PublicMerchant>>, ApiError> {
    let limit = page.limit();
    let items = m
        .list_public(filter.category.as_deref(), page.id_cursor()?, limit + 1)
        .await?;
    Ok(Json(Page::from_overfetch(items, limit, |x| {
        x.id.to_string()
    })))
}

/// Merchants the signed-in user is staff of, with their role.
#[utoipa::path(get, path = "/api/v1/merchants/mine", tag = "merchants", security(("bearer" = [])),
    responses((status = 200, body = Vec<MyMerchant>), (status = 401, body = Problem)))]
async fn mine(State(m): St, actor: Actor) -> Result<Json<Vec<MyMerchant>>, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    Ok(Json(m.mine(actor.user_id).await?))
}

/// A merchant: the public profile (ACTIVE merchants only), or the full record for its staff
/// and admins.
#[utoipa::path(get, path = "/api/v1/merchants/{id}", tag = "merchants",
    params(("id" = Uuid, Path, description = "Merchant id")),
    responses((status = 200, body = MerchantView), (status = 404, body = Problem)))]
async fn get_merchant(
    State(m): St,
    actor: Option<Actor>,
    Path(id): Path<Uuid>,
) -> Result<Json<MerchantView>, ApiError> {
    Ok(Json(
        m.view(id, actor.as_ref(), is_admin(actor.as_ref())).await?,
    ))
}

/// Edit the profile (owner or manager).
#[utoipa::path(put, path = "/api/v1/merchants/{id}", tag = "merchants", request_body = MerchantUpdate,
    params(("id" = Uuid, Path, description = "Merchant id")), security(("bearer" = [])),
    responses((status = 200, body = MerchantDetail), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn update_merchant(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<MerchantUpdate>,
) -> Result<Json<MerchantDetail>, ApiError> {
    actor.require_staff(id, MerchantPermission::ManageProfile)?;
    Ok(Json(m.update(&actor, id, body).await?))
}

/// Close the merchant for good (owner).
#[utoipa::path(post, path = "/api/v1/merchants/{id}/close", tag = "merchants",
    params(("id" = Uuid, Path, description = "Merchant id")), security(("bearer" = [])),
    responses((status = 200, body = MerchantDetail), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn close(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<MerchantDetail>, ApiError> {
    actor.require_staff(id, MerchantPermission::ManageAccount)?;
    Ok(Json(
        m.transition(&actor, id, StatusAction::Close, None).await?,
    ))
}

/// Set the bank account payouts go to (owner). Shown in full only to owners.
#[utoipa::path(put, path = "/api/v1/merchants/{id}/bank-account", tag = "merchants",
    request_body = BankAccountInput, params(("id" = Uuid, Path, description = "Merchant id")),
    security(("bearer" = [])),
    responses((status = 200, body = BankAccountView), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn set_bank_account(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<BankAccountInput>,
) -> Result<Json<BankAccountView>, ApiError> {
    actor.require_staff(id, MerchantPermission::ManageAccount)?;
    Ok(Json(m.set_bank_account(&actor, id, body).await?))
}

/// Outlets (branches). Public for ACTIVE merchants.
#[utoipa::path(get, path = "/api/v1/merchants/{id}/outlets", tag = "merchants",
    params(("id" = Uuid, Path, description = "Merchant id")),
    responses((status = 200, body = Vec<Outlet>), (status = 404, body = Problem)))]
async fn list_outlets(
    State(m): St,
    actor: Option<Actor>,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<Outlet>>, ApiError> {
    let privileged = is_admin(actor.as_ref()) || actor.is_some_and(|a| a.staff_role(id).is_some());
    Ok(Json(m.outlets(id, privileged).await?))
}

/// Add an outlet (owner or manager).
#[utoipa::path(post, path = "/api/v1/merchants/{id}/outlets", tag = "merchants", request_body = OutletInput,
    params(("id" = Uuid, Path, description = "Merchant id")), security(("bearer" = [])),
    responses((status = 201, body = Outlet), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn add_outlet(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<OutletInput>,
) -> Result<(StatusCode, Json<Outlet>), ApiError> {
    actor.require_staff(id, MerchantPermission::ManageProfile)?;
    Ok((
        StatusCode::CREATED,
        Json(m.add_outlet(&actor, id, body).await?),
    ))
}

/// Replace an outlet's details.
#[utoipa::path(put, path = "/api/v1/merchants/{id}/outlets/{outletId}", tag = "merchants", request_body = OutletInput,
    params(("id" = Uuid, Path, description = "Merchant id"), ("outletId" = Uuid, Path, description = "Outlet id")),
    security(("bearer" = [])),
    responses((status = 200, body = Outlet), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn update_outlet(
    State(m): St,
    actor: Actor,
    Path((id, outlet_id)): Path<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<OutletInput>,
) -> Result<Json<Outlet>, ApiError> {
    actor.require_staff(id, MerchantPermission::ManageProfile)?;
    Ok(Json(m.update_outlet(&actor, id, outlet_id, body).await?))
}

/// Remove an outlet.
#[utoipa::path(delete, path = "/api/v1/merchants/{id}/outlets/{outletId}", tag = "merchants",
    params(("id" = Uuid, Path, description = "Merchant id"), ("outletId" = Uuid, Path, description = "Outlet id")),
    security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn remove_outlet(
    State(m): St,
    actor: Actor,
    Path((id, outlet_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    actor.require_staff(id, MerchantPermission::ManageProfile)?;
    m.remove_outlet(&actor, id, outlet_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Staff of the merchant.
#[utoipa::path(get, path = "/api/v1/merchants/{id}/members", tag = "merchants",
    params(("id" = Uuid, Path, description = "Merchant id")), security(("bearer" = [])),
    responses((status = 200, body = Vec<Member>), (status = 403, body = Problem)))]
async fn list_members(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<Member>>, ApiError> {
    if !actor.can(Permission::AdminMerchants) {
        actor.require_staff(id, MerchantPermission::ViewInternal)?;
    }
    Ok(Json(m.members(id).await?))
}

/// Remove a member (owner), or leave (any member but the owner).
#[utoipa::path(delete, path = "/api/v1/merchants/{id}/members/{userId}", tag = "merchants",
    params(("id" = Uuid, Path, description = "Merchant id"), ("userId" = Uuid, Path, description = "Member's user id")),
    security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn remove_member(
    State(m): St,
    actor: Actor,
    Path((id, user_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    if !(user_id == actor.user_id && actor.staff_role(id).is_some()) {
        actor.require_staff(id, MerchantPermission::ManageAccount)?;
    }
    m.remove_member(&actor, id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Invitations sent by the merchant (owner).
#[utoipa::path(get, path = "/api/v1/merchants/{id}/invitations", tag = "merchants",
    params(("id" = Uuid, Path, description = "Merchant id")), security(("bearer" = [])),
    responses((status = 200, body = Vec<Invitation>), (status = 403, body = Problem)))]
async fn list_invitations(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<Vec<Invitation>>, ApiError> {
    actor.require_staff(id, MerchantPermission::ManageAccount)?;
    Ok(Json(m.invitations(id).await?))
}

/// Invite someone by email as manager or cashier (owner). The email carries a one-time token.
#[utoipa::path(post, path = "/api/v1/merchants/{id}/invitations", tag = "merchants", request_body = InvitationInput,
    params(("id" = Uuid, Path, description = "Merchant id")), security(("bearer" = [])),
    responses((status = 201, body = Invitation), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn invite(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<InvitationInput>,
) -> Result<(StatusCode, Json<Invitation>), ApiError> {
    actor.require_staff(id, MerchantPermission::ManageAccount)?;
    Ok((StatusCode::CREATED, Json(m.invite(&actor, id, body).await?)))
}

/// Revoke a pending invitation (owner).
#[utoipa::path(delete, path = "/api/v1/merchants/{id}/invitations/{invitationId}", tag = "merchants",
    params(("id" = Uuid, Path, description = "Merchant id"), ("invitationId" = Uuid, Path, description = "Invitation id")),
    security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn revoke_invitation(
    State(m): St,
    actor: Actor,
    Path((id, invitation_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    actor.require_staff(id, MerchantPermission::ManageAccount)?;
    m.revoke_invitation(&actor, id, invitation_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accept an invitation with the token from its email; the signed-in user joins the merchant.
#[utoipa::path(post, path = "/api/v1/merchants/invitations/accept", tag = "merchants", request_body = AcceptInvitation,
    security(("bearer" = [])),
    responses((status = 200, body = Member), (status = 409, body = Problem), (status = 410, body = Problem)))]
async fn accept_invitation(
    State(m): St,
    actor: Actor,
    ApiJson(body): ApiJson<AcceptInvitation>,
) -> Result<Json<Member>, ApiError> {
    actor.require(Permission::ManageOwnAccount)?;
    Ok(Json(m.accept(actor.user_id, &body.token).await?))
}

/// The merchant's commission rates (owner, or admin).
#[utoipa::path(get, path = "/api/v1/merchants/{id}/commission", tag = "merchants",
    params(("id" = Uuid, Path, description = "Merchant id")), security(("bearer" = [])),
    responses((status = 200, body = CommissionView), (status = 403, body = Problem)))]
async fn get_commission(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<CommissionView>, ApiError> {
    if !actor.can(Permission::AdminMerchants) {
        actor.require_staff(id, MerchantPermission::ViewPayouts)?;
    }
    Ok(Json(m.commission(id).await?))
}

/// Merchants by status: `?status=PENDING_REVIEW` is the application queue.
#[utoipa::path(get, path = "/api/v1/admin/merchants", tag = "merchants-admin",
    params(AdminMerchantQuery, PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<MerchantDetail>), (status = 403, body = Problem)))]
async fn admin_list(
    State(m): St,
    actor: Actor,
    Query(filter): Query<AdminMerchantQuery>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<MerchantDetail>>, ApiError> {
    actor.require(Permission::AdminMerchants)?;
    let limit = page.limit();
    let items = m
        .list_admin(filter.status, page.id_cursor()?, limit + 1)
        .await?;
    Ok(Json(Page::from_overfetch(items, limit, |x| {
        x.id.to_string()
    })))
}

async fn admin_transition(
    m: &Merchants,
    actor: &Actor,
    id: Uuid,
    action: StatusAction,
    reason: Option<String>,
) -> Result<Json<MerchantDetail>, ApiError> {
    actor.require(Permission::AdminMerchants)?;
    Ok(Json(m.transition(actor, id, action, reason).await?))
}

/// Approve an application: the merchant becomes ACTIVE and public.
#[utoipa::path(post, path = "/api/v1/admin/merchants/{id}/approve", tag = "merchants-admin",
    params(("id" = Uuid, Path, description = "Merchant id")), security(("bearer" = [])),
    responses((status = 200, body = MerchantDetail), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn approve(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<MerchantDetail>, ApiError> {
    admin_transition(&m, &actor, id, StatusAction::Approve, None).await
}

/// Reject an application, with the reason the applicant will see.
#[utoipa::path(post, path = "/api/v1/admin/merchants/{id}/reject", tag = "merchants-admin", request_body = ReasonBody,
    params(("id" = Uuid, Path, description = "Merchant id")), security(("bearer" = [])),
    responses((status = 200, body = MerchantDetail), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn reject(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> Result<Json<MerchantDetail>, ApiError> {
    admin_transition(&m, &actor, id, StatusAction::Reject, Some(body.reason)).await
}

/// Suspend an ACTIVE merchant: its listings disappear from the catalog.
#[utoipa::path(post, path = "/api/v1/admin/merchants/{id}/suspend", tag = "merchants-admin", request_body = ReasonBody,
    params(("id" = Uuid, Path, description = "Merchant id")), security(("bearer" = [])),
    responses((status = 200, body = MerchantDetail), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn suspend(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> Result<Json<MerchantDetail>, ApiError> {
    admin_transition(&m, &actor, id, StatusAction::Suspend, Some(body.reason)).await
}

/// Lift a suspension.
#[utoipa::path(post, path = "/api/v1/admin/merchants/{id}/reactivate", tag = "merchants-admin",
    params(("id" = Uuid, Path, description = "Merchant id")), security(("bearer" = [])),
    responses((status = 200, body = MerchantDetail), (status = 409, body = Problem)))]
async fn reactivate(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<MerchantDetail>, ApiError> {
    admin_transition(&m, &actor, id, StatusAction::Reactivate, None).await
}

/// Close a merchant for good.
#[utoipa::path(post, path = "/api/v1/admin/merchants/{id}/close", tag = "merchants-admin", request_body = ReasonBody,
    params(("id" = Uuid, Path, description = "Merchant id")), security(("bearer" = [])),
    responses((status = 200, body = MerchantDetail), (status = 409, body = Problem)))]
async fn admin_close(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> Result<Json<MerchantDetail>, ApiError> {
    admin_transition(&m, &actor, id, StatusAction::Close, Some(body.reason)).await
}

/// Set the merchant's own commission rate (null: back to the platform default).
#[utoipa::path(put, path = "/api/v1/admin/merchants/{id}/commission", tag = "merchants-admin",
    request_body = CommissionUpdate, params(("id" = Uuid, Path, description = "Merchant id")),
    security(("bearer" = [])),
    responses((status = 200, body = CommissionView), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn admin_set_commission(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<CommissionUpdate>,
) -> Result<Json<CommissionView>, ApiError> {
    actor.require(Permission::AdminMerchants)?;
    Ok(Json(m.set_commission(&actor, id, body.rate_bps).await?))
}

/// Override the rate for one category (and its descendants) of this merchant.
#[utoipa::path(put, path = "/api/v1/admin/merchants/{id}/commission/categories/{categoryId}", tag = "merchants-admin",
    request_body = CategoryRate,
    params(("id" = Uuid, Path, description = "Merchant id"), ("categoryId" = Uuid, Path, description = "Category id")),
    security(("bearer" = [])),
    responses((status = 200, body = CommissionView), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn admin_set_category_commission(
    State(m): St,
    actor: Actor,
    Path((id, category_id)): Path<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<CategoryRate>,
) -> Result<Json<CommissionView>, ApiError> {
    actor.require(Permission::AdminMerchants)?;
    Ok(Json(
        m.set_category_commission(&actor, id, category_id, Some(body.rate_bps))
            .await?,
    ))
}

/// Remove a category override.
#[utoipa::path(delete, path = "/api/v1/admin/merchants/{id}/commission/categories/{categoryId}", tag = "merchants-admin",
    params(("id" = Uuid, Path, description = "Merchant id"), ("categoryId" = Uuid, Path, description = "Category id")),
    security(("bearer" = [])),
    responses((status = 200, body = CommissionView), (status = 404, body = Problem)))]
async fn admin_remove_category_commission(
    State(m): St,
    actor: Actor,
    Path((id, category_id)): Path<(Uuid, Uuid)>,
) -> Result<Json<CommissionView>, ApiError> {
    actor.require(Permission::AdminMerchants)?;
    Ok(Json(
        m.set_category_commission(&actor, id, category_id, None)
            .await?,
    ))
}

/// Who did what to the merchant, oldest first.
#[utoipa::path(get, path = "/api/v1/admin/merchants/{id}/audit", tag = "merchants-admin",
    params(("id" = Uuid, Path, description = "Merchant id"), PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<AuditEntry>), (status = 403, body = Problem)))]
async fn admin_audit(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<AuditEntry>>, ApiError> {
    actor.require(Permission::AdminMerchants)?;
    let limit = page.limit();
    let items = m.audit_trail(id, page.id_cursor()?, limit + 1).await?;
    Ok(Json(Page::from_overfetch(items, limit, |x| {
        x.id.to_string()
    })))
}

/// Commission for a checkout line (internal).
#[utoipa::path(post, path = "/internal/v1/merchants/{id}/commission", tag = "internal",
    request_body = CommissionQuery, params(("id" = Uuid, Path, description = "Merchant id")),
    responses((status = 200, body = CommissionQuote), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn internal_commission(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<CommissionQuery>,
) -> Result<Json<CommissionQuote>, ApiError> {
    actor.require_internal()?;
    Ok(Json(m.quote(id, &body.category_path).await?))
}

/// Where the merchant's payouts go, with the full account number (internal, for ledger).
#[utoipa::path(get, path = "/internal/v1/merchants/{id}/payout-account", tag = "internal",
    params(("id" = Uuid, Path, description = "Merchant id")),
    responses((status = 200, body = PayoutAccount), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn internal_payout_account(
    State(m): St,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> Result<Json<PayoutAccount>, ApiError> {
    actor.require_internal()?;
    Ok(Json(m.payout_account(id).await?))
}

/// The merchants a user is staff of, with the role in each (internal: the edge of processes
/// that do not run merchants asks this for every authenticated request, cached).
#[utoipa::path(get, path = "/internal/v1/merchants/memberships/{userId}", tag = "internal",
    params(("userId" = Uuid, Path, description = "User id")),
    responses((status = 200, body = Vec<kernel::Membership>), (status = 403, body = Problem)))]
async fn internal_memberships(
    State(m): St,
    actor: Actor,
    Path(user_id): Path<Uuid>,
) -> Result<Json<Vec<kernel::Membership>>, ApiError> {
    actor.require_internal()?;
    Ok(Json(m.memberships.load_fresh(user_id).await?))
}

/// Where the merchants' parcels leave from: address, contact phone and status (internal, for
/// shipping's rates and shipments). Unknown ids are absent.
#[utoipa::path(post, path = "/internal/v1/merchants/shipping-origins", tag = "internal",
    request_body = MerchantLookup,
    responses((status = 200, body = Vec<ShippingOrigin>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn internal_shipping_origins(
    State(m): St,
    actor: Actor,
    ApiJson(body): ApiJson<MerchantLookup>,
) -> Result<Json<Vec<ShippingOrigin>>, ApiError> {
    actor.require_internal()?;
    Ok(Json(m.shipping_origins(&body.merchant_ids).await?))
}
