//! vouchers' use cases: offers (offers.rs), wallet, issuance, gifts, refunds and expiry
//! (wallet.rs), redemption with fraud scoring and the case queue (redemptions.rs).

mod fraud;
mod offers;
mod printed;
mod redemptions;
mod wallet;

use std::sync::Arc;

use axum::http::StatusCode;
use catalog_contract::CatalogClient;
use kernel::{ApiError, Currency, FieldError, LocalizedText, Timestamp};
use platform::db::Tx;
use platform::services::CallError;
use platform::Context;
use uuid::Uuid;

use crate::api::*;
use crate::domain::{InstanceStatus, VoucherKind};
use crate::store::{InstanceRow, OfferRow};

pub use wallet::OrderFact;

pub const SOURCE: &str = "vouchers";

#[derive(Debug, thiserror::Error)]
pub enum VouchersError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("offer not found")]
    OfferNotFound,
    #[error("voucher not found")]
    VoucherNotFound,
    #[error("gift not found")]
    GiftNotFound,
    #[error("fraud case not found")]
    CaseNotFound,
    #[error("this variant already has an offer")]
    OfferExists,
    #[error("the offer is not free to claim")]
    NotClaimable,
    #[error("no vouchers left")]
    SoldOut,
    #[error("per-customer cap reached")]
    CapReached,
    #[error("the QR code is not a valid voucher token")]
    InvalidToken,
    #[error("the QR code is stale")]
    StaleToken,
    #[error("the QR code was superseded")]
    Superseded,
    #[error("PIN required")]
    PinRequired,
    #[error("wrong PIN")]
    WrongPin { remaining: i32 },
    #[error("voucher locked")]
    Locked,
    #[error("voucher is {0:?}")]
    NotRedeemable(InstanceStatus),
    #[error("voucher expired")]
    Expired,
    #[error("balance is {0}")]
    InsufficientBalance(i64),
    #[error("not redeemable at this outlet")]
    OutletNotEligible,
    #[error("unknown outlet")]
    UnknownOutlet,
    #[error("not refundable: {0}")]
    NotRefundable(&'static str),
    #[error("a redemption waits for review")]
    PendingReview,
    #[error("the case is already decided")]
    CaseClosed,
    #[error("changed concurrently")]
    Contended,
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("events: {0}")]
    Bus(#[from] platform::bus::BusError),
    #[error("crypto: {0}")]
    Crypto(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<VouchersError> for ApiError {
    fn from(err: VouchersError) -> Self {
        use VouchersError as E;
        match err {
            E::Invalid(errors) => ApiError::validation(errors),
            E::OfferNotFound => ApiError::not_found("offer_not_found", "No such voucher offer"),
            E::VoucherNotFound => ApiError::not_found("voucher_not_found", "No such voucher"),
            E::GiftNotFound => {
                ApiError::not_found("gift_not_found", "No such pending gift (or it was taken)")
            }
            E::CaseNotFound => ApiError::not_found("case_not_found", "No such fraud case"),
            E::OfferExists => ApiError::conflict("offer_exists", "This variant already has an offer"),
            E::NotClaimable => ApiError::conflict("not_claimable", "This offer is not free to claim"),
            E::SoldOut => ApiError::conflict("sold_out", "No vouchers of this offer are left"),
            E::CapReached => ApiError::conflict(
                "per_customer_cap_reached",
                "You already hold as many of these as one customer may",
            ),
            E::InvalidToken => {
                ApiError::bad_request("invalid_token", "The QR code is not a valid voucher token")
            }
            E::StaleToken => ApiError::conflict(
                "token_stale",
                "The QR code has expired (it rotates every 30 s): ask for the live screen",
            ),
            E::Superseded => ApiError::conflict(
                "token_superseded",
                "The QR code belongs to an older version of this voucher (it was given away or changed)",
            ),
            E::PinRequired => ApiError::validation_one("pin", "is required with a code or printed QR")
                .with_code("pin_required"),
            E::WrongPin { remaining } => ApiError::new(
                StatusCode::FORBIDDEN,
                "wrong_pin",
                "The PIN does not match",
            )
            .with_extension("remainingAttempts", serde_json::json!(remaining)),
            E::Locked => ApiError::new(
                StatusCode::LOCKED,
                "voucher_locked",
                "Too many wrong PINs: this voucher can only be redeemed by its live QR code",
            ),
            E::NotRedeemable(status) => ApiError::conflict(
                "voucher_not_redeemable",
                format!("The voucher is {}", status.as_str()),
            )
            .with_extension("currentStatus", serde_json::json!(status.as_str())),
            E::Expired => ApiError::conflict("voucher_expired", "The voucher has expired"),
            E::InsufficientBalance(balance) => ApiError::conflict(
                "insufficient_balance",
                format!("Only {balance} is left on this voucher"),
            )
            .with_extension("balance", serde_json::json!(balance)),
            E::OutletNotEligible => ApiError::new(
                StatusCode::FORBIDDEN,
                "outlet_not_eligible",
                "This voucher is not redeemable at this outlet",
            ),
            E::UnknownOutlet => ApiError::validation_one("outletId", "is not an outlet of a merchant")
                .with_code("unknown_outlet"),
            E::NotRefundable(why) => ApiError::conflict("not_refundable", why),
            E::PendingReview => ApiError::conflict(
                "pending_review",
                "A redemption of this voucher waits for fraud review",
            ),
            E::CaseClosed => ApiError::conflict("case_closed", "This case is already decided"),
            E::Contended => ApiError::conflict(
                "concurrent_change",
                "The voucher changed at the same moment; try again",
            ),
            E::Forbidden(detail) => ApiError::forbidden(detail),
            E::Call(err) => err.into(),
            E::Database(_) | E::Bus(_) | E::Crypto(_) | E::Corrupt(_) => {
                tracing::error!(error = %err, "vouchers failure");
                ApiError::internal()
            }
        }
    }
}

pub type Result<T> = std::result::Result<T, VouchersError>;

pub struct Vouchers {
    pub ctx: Context,
    pub config: crate::config::VouchersConfig,
    catalog: CatalogClient,
}

impl Vouchers {
    pub fn new(ctx: Context) -> Arc<Self> {
        Arc::new(Self {
            catalog: CatalogClient::new(ctx.services.clone(), SOURCE),
            config: ctx.config.section_or_default(),
            ctx,
        })
    }
}

fn invalid(field: &str, message: &str) -> VouchersError {
    VouchersError::Invalid(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }])
}

/// The `limit` and id cursor of a list request.
fn page_of(limit: Option<u32>, cursor: &Option<String>) -> Result<(Option<Uuid>, u32)> {
    let page = kernel::PageQuery {
        limit,
        cursor: cursor.clone(),
    };
    let after = page
        .id_cursor()
        .map_err(|e| VouchersError::Invalid(e.errors))?;
    Ok((after, page.limit()))
}

fn corrupt(what: &str, value: &str) -> VouchersError {
    VouchersError::Corrupt(format!("{what}: {value}"))
}

fn text_of(json: &str) -> Result<LocalizedText> {
    serde_json::from_str(json).map_err(|e| VouchersError::Corrupt(e.to_string()))
}

fn opt_text(json: &Option<String>) -> Result<Option<LocalizedText>> {
    json.as_deref().map(text_of).transpose()
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| VouchersError::Corrupt(e.to_string()))
}

/// The payment a bought voucher came from.
struct Purchase {
    payment_id: Uuid,
    group_id: Uuid,
    order_id: Option<Uuid>,
    currency: Currency,
}

impl Purchase {
    fn of(row: &InstanceRow) -> Result<Option<Self>> {
        let (Some(payment_id), Some(group_id)) = (row.payment_id, row.group_id) else {
            return Ok(None);
        };
        Ok(Some(Self {
            payment_id,
            group_id,
            order_id: row.order_id,
            currency: currency(&row.currency)?,
        }))
    }
}

/// Asks payments to pay back `amount` of a voucher purchase: only ever value that no
/// redemption earned. `request_id` makes the request unique (payments refunds once per id).
async fn request_refund(
    tx: &mut platform::Tx,
    request_id: Uuid,
    purchase: &Purchase,
    amount: i64,
) -> Result<()> {
    if amount <= 0 {
        return Ok(());
    }
    platform::bus::publish(
        tx,
        SOURCE,
        &VoucherRefundRequested(payments_contract::RequestedRefund {
            request_id,
            payment_id: purchase.payment_id,
            group_id: purchase.group_id,
            order_id: purchase.order_id,
            amount,
            currency: purchase.currency,
            reason: payments_contract::RefundReason::VoucherRefunded,
        }),
    )
    .await?;
    Ok(())
}

fn currency(code: &str) -> Result<Currency> {
    Currency::parse(code).ok_or_else(|| corrupt("currency", code))
}

fn kind(text: &str) -> Result<VoucherKind> {
    VoucherKind::parse(text).ok_or_else(|| corrupt("kind", text))
}

fn status(text: &str) -> Result<InstanceStatus> {
    InstanceStatus::parse(text).ok_or_else(|| corrupt("status", text))
}

/// The wallet view of an instance (its holder's).
fn wallet_item(row: &InstanceRow, offer: &OfferRow, pending_review: bool) -> Result<WalletItem> {
    Ok(WalletItem {
        id: row.id,
        offer_id: row.offer_id,
        merchant_id: row.merchant_id,
        title: text_of(&offer.title)?,
        kind: kind(&row.kind)?,
        code: row.code.clone(),
        pin: row.pin.clone(),
        status: status(&row.status)?,
        version: row.version,
        face_value: row.face_value,
        balance: row.balance,
        currency: currency(&row.currency)?,
        source: row.source.clone(),
        order_id: row.order_id,
        received_at: Timestamp::from_millis(row.received_at),
        expires_at: Timestamp::from_millis(row.expires_at),
        locked: row.locked,
        pending_review,
    })
}

fn crypto<E: std::fmt::Display>(err: E) -> VouchersError {
    VouchersError::Crypto(err.to_string())
}

/// A new instance of `offer` for `owner` with fresh code and PIN.
#[allow(clippy::too_many_arguments)]
fn new_instance(
    offer: &OfferRow,
    owner: Uuid,
    source: &str,
    paid_amount: i64,
    commission: i64,
    expires_at: i64,
    now: Timestamp,
) -> Result<InstanceRow> {
    Ok(InstanceRow {
        id: kernel::new_id(),
        offer_id: offer.id,
        merchant_id: offer.merchant_id,
        owner_id: owner,
        kind: offer.kind.clone(),
        code: crate::domain::new_code().map_err(crypto)?,
        pin: crate::domain::new_pin().map_err(crypto)?,
        status: InstanceStatus::Active.as_str().into(),
        version: 1,
        face_value: offer.face_value,
        balance: offer.face_value,
        currency: offer.currency.clone(),
        paid_amount,
        commission,
        earned: 0,
        commission_earned: 0,
        source: source.into(),
        issue_key: None,
        order_id: None,
        group_id: None,
        payment_id: None,
        gifted_from: None,
        received_at: now.millis(),
        expires_at,
        failed_pins: 0,
        locked: false,
        platform_funded: 0,
        created_at: now.millis(),
    })
}
