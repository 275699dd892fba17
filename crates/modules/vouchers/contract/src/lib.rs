//! vouchers' public types: offers, wallet instances, gifts, redemptions, fraud cases, and
//! the events other modules read.

mod errors;
pub use errors::VouchersCode;

mod printed;
pub use printed::{PrintedIssue, PrintedVoucher};

mod states;
pub use states::*;

use kernel::call::Method;
use kernel::call::{CallError, Services};
use kernel::{Currency, DomainEvent, LocalizedText, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
}

/// Voucher terms for a catalog variant of a VOUCHER product. Name, price, currency and
/// category come from the catalog; the offer is public once the product is approved.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OfferInput {
    pub variant_id: Uuid,
    pub kind: VoucherKind,
    /// Stored value (gift card), value of the item, or the most a discount takes off.
    pub face_value: i64,
    /// Percent off (basis points) for a percentage DISCOUNT.
    #[serde(default)]
    pub discount_bps: Option<i32>,
    #[serde(default)]
    pub valid_from: Option<Timestamp>,
    /// Fixed window end; or give `validDays`; with both the earlier end applies.
    #[serde(default)]
    pub valid_until: Option<Timestamp>,
    #[serde(default)]
    pub valid_days: Option<i32>,
    #[serde(default)]
    pub total_cap: Option<i32>,
    #[serde(default)]
    pub per_customer_cap: Option<i32>,
    #[serde(default)]
    pub description: Option<LocalizedText>,
    #[serde(default)]
    pub terms: Option<LocalizedText>,
    /// Outlets where it is redeemable; empty: every outlet of the merchant.
    #[serde(default)]
    pub outlets: Vec<Uuid>,
    /// Free to claim (the variant's price must be 0).
    #[serde(default)]
    pub claimable: bool,
    /// Where it is offered, for "near me"; defaults to its first outlet.
    #[serde(default)]
    pub location: Option<Location>,
}

/// Changes to an offer; absent fields stay. Kind, variant and face value cannot change once
/// vouchers exist, so they are not here.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OfferUpdate {
    pub valid_until: Option<Timestamp>,
    pub valid_days: Option<i32>,
    pub total_cap: Option<i32>,
    pub per_customer_cap: Option<i32>,
    pub description: Option<LocalizedText>,
    pub terms: Option<LocalizedText>,
    pub outlets: Option<Vec<Uuid>>,
    pub location: Option<Location>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    pub id: Uuid,
    pub merchant_id: Uuid,
    pub product_id: Uuid,
    pub variant_id: Uuid,
    pub category_id: Uuid,
    pub kind: VoucherKind,
    pub title: LocalizedText,
    pub description: Option<LocalizedText>,
    pub terms: Option<LocalizedText>,
    pub price: i64,
    pub face_value: i64,
    pub currency: Currency,
    pub discount_bps: Option<i32>,
    pub valid_from: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
    pub valid_days: Option<i32>,
    pub total_cap: Option<i32>,
    pub per_customer_cap: Option<i32>,
    pub issued: i32,
    /// Left under the total cap (None: uncapped).
    pub remaining: Option<i32>,
    pub claimable: bool,
    pub outlets: Vec<Uuid>,
    pub location: Option<Location>,
    /// The catalog product's moderation status (`ACTIVE` is public).
    pub product_status: String,
    /// Over the offer's approved reviews (kept from reviews' `review.rating_changed`).
    pub rating: OfferRating,
    /// Whether the public sees it now.
    pub visible: bool,
    /// Kilometres from `near`, when the query gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An offer's rating from its approved reviews.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfferRating {
    /// None without reviews.
    pub average: Option<f64>,
    pub count: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OfferSort {
    Newest,
    PriceAsc,
    PriceDesc,
    /// Soonest end of validity first.
    Expiring,
    /// Nearest first (needs `near`).
    Distance,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct OfferQuery {
    pub category_id: Option<Uuid>,
    pub merchant_id: Option<Uuid>,
    pub kind: Option<VoucherKind>,
    pub claimable: Option<bool>,
    pub currency: Option<Currency>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// `latitude,longitude`: with `radiusKm`, only offers that near.
    pub near: Option<String>,
    pub radius_km: Option<f64>,
    /// Only offers whose validity ends within this many days.
    pub expiring_within_days: Option<i64>,
    #[param(inline)]
    pub sort: Option<OfferSort>,
    /// Merchant staff (with `merchantId`) and admins: include offers not public.
    pub include_hidden: Option<bool>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A voucher in a wallet. Code and PIN are shown to its holder only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WalletItem {
    pub id: Uuid,
    pub offer_id: Uuid,
    pub merchant_id: Uuid,
    pub title: LocalizedText,
    pub kind: VoucherKind,
    pub code: String,
    pub pin: String,
    pub status: InstanceStatus,
    pub version: i64,
    pub face_value: i64,
    pub balance: i64,
    pub currency: Currency,
    /// `PURCHASE`, `CLAIM` or `GIFT`.
    pub source: String,
    pub order_id: Option<Uuid>,
    pub received_at: Timestamp,
    pub expires_at: Timestamp,
    /// Locked after too many wrong PINs: redeemable by QR only.
    pub locked: bool,
    /// A redemption waits for fraud review.
    pub pending_review: bool,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct WalletQuery {
    pub status: Option<InstanceStatus>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QrFormat {
    Png,
    Svg,
    /// The signed token itself, for apps that draw their own code.
    Token,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QrVariant {
    /// Rotates every 30 s: a screenshot goes stale.
    Screen,
    /// Does not rotate (voucher books); needs the PIN at the counter.
    Printed,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct QrQuery {
    #[param(inline)]
    pub format: Option<QrFormat>,
    #[param(inline)]
    pub variant: Option<QrVariant>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QrToken {
    pub token: String,
    /// The signing key (in `/.well-known/jwks.json`).
    pub kid: String,
    /// When to fetch a new one (on-screen codes).
    pub refresh_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GiftInput {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Gift {
    pub id: Uuid,
    pub instance_id: Uuid,
    pub to_email: Option<String>,
    pub to_phone: Option<String>,
    pub message: Option<String>,
    /// `PENDING`, `ACCEPTED`, `CANCELLED`.
    pub status: String,
    /// The recipient's voucher, once accepted.
    pub new_instance_id: Option<Uuid>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AcceptGift {
    /// The token from the gift message.
    pub token: String,
}

/// A scan or a typed code at the counter.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RedeemInput {
    /// The scanned QR token; or `code` and `pin`.
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    /// Needed with `code`, and with a printed (non-rotating) QR.
    #[serde(default)]
    pub pin: Option<String>,
    pub outlet_id: Uuid,
    pub device_id: String,
    #[serde(default)]
    pub location: Option<Location>,
    /// Face value to take from a gift card; default (and always, for other kinds) all of it.
    #[serde(default)]
    pub amount: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Redemption {
    pub id: Uuid,
    pub instance_id: Uuid,
    pub merchant_id: Uuid,
    pub outlet_id: Uuid,
    pub title: LocalizedText,
    pub kind: VoucherKind,
    pub status: RedemptionStatus,
    pub amount: i64,
    pub currency: Currency,
    /// What is left on the voucher after this redemption (if approved).
    pub balance_after: i64,
    pub score: i32,
    pub hits: Vec<RuleHit>,
    pub case_id: Option<Uuid>,
    pub created_at: Timestamp,
    pub decided_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct RedemptionQuery {
    /// Required for merchant staff; customers see their own without it.
    pub merchant_id: Option<Uuid>,
    pub status: Option<RedemptionStatus>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaseEntry {
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub note: Option<String>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FraudCase {
    pub id: Uuid,
    pub status: CaseStatus,
    pub score: i32,
    pub redemption: Redemption,
    pub log: Vec<CaseEntry>,
    pub created_at: Timestamp,
    pub decided_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    pub status: Option<CaseStatus>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CaseDecision {
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuleSetVersion {
    /// 0 is the built-in default.
    pub version: i64,
    pub rules: RuleSet,
    pub created_at: Option<Timestamp>,
}

/// Checkout asks, before it takes any stock, whether a customer may buy these voucher
/// variants: each must have an offer on sale, within the customer's cap.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseCheck {
    pub customer_id: Uuid,
    pub lines: Vec<PurchaseLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseLine {
    pub variant_id: Uuid,
    pub quantity: i64,
}

/// A refused line: `no_offer` (a voucher product without terms), `not_on_sale` (hidden,
/// not yet or no longer valid, or free to claim), `per_customer_cap_reached` (with how many
/// the customer may still buy).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseRefusal {
    pub variant_id: Uuid,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining: Option<i64>,
}

/// Typed client of vouchers for other modules.
#[derive(Clone)]
pub struct VouchersClient {
    services: Services,
    caller: &'static str,
}

impl VouchersClient {
    pub fn new(services: Services, caller: &'static str) -> Self {
        Self { services, caller }
    }

    /// The lines the customer may not buy (empty: all may be bought).
    pub async fn purchase_check(
        &self,
        check: &PurchaseCheck,
    ) -> Result<Vec<PurchaseRefusal>, CallError> {
        self.services
            .call(
                self.caller,
                Method::POST,
                "/internal/v1/vouchers/purchase-check",
                Some(check),
            )
            .await
    }
}

/// Which offers search reads: of the given products, or a page in id order.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfferListingQuery {
    /// At most 200; when given, `after` and `limit` are ignored.
    #[serde(default)]
    pub product_ids: Vec<Uuid>,
    #[serde(default)]
    pub after: Option<Uuid>,
    /// At most 1000 (default 500).
    #[serde(default)]
    pub limit: Option<u32>,
}

impl VouchersClient {
    /// Offers, visible or not, as search indexes them.
    pub async fn offer_listings(&self, query: &OfferListingQuery) -> Result<Vec<Offer>, CallError> {
        self.services
            .call(
                self.caller,
                Method::POST,
                "/internal/v1/vouchers/offer-listings",
                Some(query),
            )
            .await
    }
}

// --- events ---

/// An offer was published or its terms changed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfferSaved {
    pub offer_id: Uuid,
    pub product_id: Uuid,
    pub merchant_id: Uuid,
}

impl DomainEvent for OfferSaved {
    const TYPE: &'static str = "voucher.offer_saved";
    fn aggregate_id(&self) -> String {
        self.offer_id.to_string()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VoucherIssued {
    pub instance_id: Uuid,
    pub offer_id: Uuid,
    pub merchant_id: Uuid,
    pub owner_id: Uuid,
    pub source: String,
    /// The offer's title, for messages to the holder.
    #[serde(default)]
    pub title: Option<LocalizedText>,
    pub face_value: i64,
    pub currency: Currency,
    pub expires_at: Timestamp,
}

impl DomainEvent for VoucherIssued {
    const TYPE: &'static str = "voucher.issued";
    fn aggregate_id(&self) -> String {
        self.instance_id.to_string()
    }
}

/// A redemption completed (approved at once or after review). `earned` and `commission`
/// are the part of the price paid this redemption earns: ledger credits the merchant.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VoucherRedeemed {
    pub redemption_id: Uuid,
    pub instance_id: Uuid,
    /// The offer the voucher was issued from (nil on events published before it was carried).
    #[serde(default)]
    pub offer_id: Uuid,
    pub code: String,
    /// The offer's title, for messages to the holder.
    #[serde(default)]
    pub title: Option<LocalizedText>,
    pub merchant_id: Uuid,
    pub outlet_id: Uuid,
    pub owner_id: Uuid,
    pub amount: i64,
    pub currency: Currency,
    /// The part of what the customer paid that this redemption earns.
    pub earned: i64,
    pub commission: i64,
    /// The platform-funded discount this redemption delivers: the platform pays it to the
    /// merchant on top of `earned`.
    #[serde(default)]
    pub promotion_funded: i64,
    pub balance_after: i64,
}

impl DomainEvent for VoucherRedeemed {
    const TYPE: &'static str = "voucher.redeemed";
    fn aggregate_id(&self) -> String {
        self.instance_id.to_string()
    }
}

/// A redemption was held for review or blocked by the fraud rules: an admin decides its case.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FraudCaseOpened {
    pub case_id: Uuid,
    pub redemption_id: Uuid,
    pub merchant_id: Uuid,
    pub outlet_id: Uuid,
    /// PENDING_REVIEW (the value is taken and waits) or BLOCKED (nothing taken yet).
    pub redemption_status: String,
    pub amount: i64,
    pub currency: Currency,
    pub score: i64,
}

impl DomainEvent for FraudCaseOpened {
    const TYPE: &'static str = "voucher.fraud_case_opened";
    fn aggregate_id(&self) -> String {
        self.case_id.to_string()
    }
}

/// An admin decided a fraud case: APPROVED (the redemption completes) or REJECTED.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FraudCaseClosed {
    pub case_id: Uuid,
    pub redemption_id: Uuid,
    pub merchant_id: Uuid,
    pub decision: String,
    pub decided_by: Uuid,
}

impl DomainEvent for FraudCaseClosed {
    const TYPE: &'static str = "voucher.fraud_case_closed";
    fn aggregate_id(&self) -> String {
        self.case_id.to_string()
    }
}

/// Carries the one-time acceptance token so notifications can send it to the recipient.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VoucherGifted {
    pub gift_id: Uuid,
    pub instance_id: Uuid,
    pub from_customer_id: Uuid,
    pub to_email: Option<String>,
    pub to_phone: Option<String>,
    pub message: Option<String>,
    pub title: String,
    /// The acceptance token, sealed: only the module that delivers it opens it.
    pub token: kernel::Sealed,
    pub expires_at: Timestamp,
}

impl DomainEvent for VoucherGifted {
    const TYPE: &'static str = "voucher.gifted";
    fn aggregate_id(&self) -> String {
        self.instance_id.to_string()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VoucherExpiring {
    pub instance_id: Uuid,
    pub owner_id: Uuid,
    pub title: String,
    pub balance: i64,
    pub currency: Currency,
    pub expires_at: Timestamp,
}

impl DomainEvent for VoucherExpiring {
    const TYPE: &'static str = "voucher.expiring";
    fn aggregate_id(&self) -> String {
        self.instance_id.to_string()
    }
}

/// An instance expired with value left; `unearned` is the paid value never redeemed
/// (breakage in the ledger).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VoucherExpired {
    pub instance_id: Uuid,
    pub code: String,
    pub merchant_id: Uuid,
    pub owner_id: Uuid,
    pub balance: i64,
    pub currency: Currency,
    /// Paid value never redeemed.
    pub unearned: i64,
}

impl DomainEvent for VoucherExpired {
    const TYPE: &'static str = "voucher.expired";
    fn aggregate_id(&self) -> String {
        self.instance_id.to_string()
    }
}

/// A customer returned an unused voucher: payments refunds `amount` of `payment_id`, as for
/// orders' refund requests.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct VoucherRefundRequested(pub payments_contract::RequestedRefund);

impl DomainEvent for VoucherRefundRequested {
    const TYPE: &'static str = "voucher.refund_requested";
    fn aggregate_id(&self) -> String {
        self.0.payment_id.to_string()
    }
}

/// Every event vouchers publishes, for the event catalogue.
pub fn events() -> Vec<kernel::EventSpec> {
    vec![
        kernel::EventSpec::of::<OfferSaved>(),
        kernel::EventSpec::of::<VoucherIssued>(),
        kernel::EventSpec::of::<VoucherRedeemed>(),
        kernel::EventSpec::of::<VoucherGifted>(),
        kernel::EventSpec::of::<VoucherExpiring>(),
        kernel::EventSpec::of::<VoucherExpired>(),
        kernel::EventSpec::of::<VoucherRefundRequested>(),
        kernel::EventSpec::of::<FraudCaseOpened>(),
        kernel::EventSpec::of::<FraudCaseClosed>(),
    ]
}
