//! reviews' public face: reviews of products and voucher offers by verified buyers, their
//! moderation, helpful votes, reports and merchant responses, the rating aggregates, and the
//! events.

mod errors;
pub use errors::ReviewsCode;

use kernel::{text_enum, DomainEvent, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// What a review or an aggregate is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReviewSubjectKind {
    /// A catalog product (not a VOUCHER product: vouchers are reviewed through their offer).
    Product,
    /// A voucher offer, reviewed after one of its vouchers was redeemed.
    Voucher,
    /// A merchant: the aggregate of every review of its products and offers.
    Merchant,
}

text_enum!(ReviewSubjectKind { Product => "PRODUCT", Voucher => "VOUCHER", Merchant => "MERCHANT" });

/// Only APPROVED reviews are public; authors see their own in any status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReviewStatus {
    /// Held for an admin: a banned word, reports reaching the threshold, or an edit of a held
    /// or rejected review.
    Pending,
    Approved,
    /// By an admin, with a reason the author sees.
    Rejected,
}

text_enum!(ReviewStatus { Pending => "PENDING", Approved => "APPROVED", Rejected => "REJECTED" });

/// A new review of a product or voucher offer the caller bought.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewInput {
    /// 1 to 5 stars.
    pub rating: i32,
    /// At most 120 characters.
    #[serde(default)]
    pub title: Option<String>,
    /// At most 5,000 characters.
    #[serde(default)]
    pub text: Option<String>,
    /// Others see the review without its author.
    #[serde(default)]
    pub anonymous: bool,
    /// Products: the order whose delivery this reviews (default: the oldest delivered order
    /// not reviewed yet).
    #[serde(default)]
    pub order_id: Option<Uuid>,
    /// Voucher offers: the redeemed voucher (wallet id) this reviews (default: the oldest
    /// redeemed voucher not reviewed yet).
    #[serde(default)]
    pub voucher_id: Option<Uuid>,
}

/// The author's edit: replaces rating, title, text and the anonymous flag.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewEdit {
    pub rating: i32,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub anonymous: bool,
}

/// Who wrote a review (absent from anonymous reviews for everyone but the author and admins).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewAuthor {
    pub customer_id: Uuid,
    /// First name and the initial of the last name ("Dara K.").
    pub display_name: String,
}

/// The merchant's public answer to a review.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MerchantResponse {
    pub merchant_id: Uuid,
    pub text: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MerchantResponseInput {
    /// 1 to 2,000 characters.
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Review {
    pub id: Uuid,
    pub subject_kind: ReviewSubjectKind,
    /// The product or the voucher offer.
    pub subject_id: Uuid,
    pub merchant_id: Uuid,
    pub rating: i32,
    pub title: Option<String>,
    pub text: Option<String>,
    pub anonymous: bool,
    /// None for anonymous reviews (except to their author and admins).
    pub author: Option<ReviewAuthor>,
    pub status: ReviewStatus,
    /// Why an admin rejected it (its author and admins only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moderation_note: Option<String>,
    pub helpful_count: i64,
    pub response: Option<MerchantResponse>,
    /// Until when its author may edit it (its author only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub editable_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When its author last edited it.
    pub edited_at: Option<Timestamp>,
}

/// The rating of a product, voucher offer or merchant over its APPROVED reviews.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RatingSummary {
    /// None without reviews.
    pub average: Option<f64>,
    pub count: i64,
    /// Reviews with 1, 2, 3, 4 and 5 stars.
    pub histogram: [i64; 5],
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewPage {
    pub items: Vec<Review>,
    pub next_cursor: Option<String>,
    pub summary: RatingSummary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewSort {
    #[default]
    Newest,
    /// Most helpful votes first.
    Helpful,
    /// Highest rating first.
    RatingDesc,
    /// Lowest rating first.
    RatingAsc,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ReviewQuery {
    /// Items per page, 1 to 100 (default 20).
    pub limit: Option<u32>,
    /// Opaque cursor from a previous page's `nextCursor` (of the same sort).
    pub cursor: Option<String>,
    /// `newest` (default), `helpful`, `rating_desc` or `rating_asc`.
    #[param(inline)]
    pub sort: Option<ReviewSort>,
    /// Only reviews with this many stars.
    pub rating: Option<i32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AdminReviewQuery {
    /// `PENDING` is the moderation queue; absent: every status.
    pub status: Option<ReviewStatus>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewRejection {
    /// Why (required, at most 500 characters; shown to the author).
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewReportInput {
    /// Why it should not be public (1 to 500 characters).
    pub reason: String,
}

/// The caller's helpful vote on a review and the review's count.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HelpfulVote {
    pub review_id: Uuid,
    pub helpful_count: i64,
    /// False when the caller had voted already (nothing changed).
    pub counted: bool,
}

// ---- events ----

/// A review was written (public or held for moderation).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewCreated {
    pub review_id: Uuid,
    pub customer_id: Uuid,
    pub subject_kind: ReviewSubjectKind,
    pub subject_id: Uuid,
    pub merchant_id: Uuid,
    pub rating: i32,
    pub status: ReviewStatus,
}

impl DomainEvent for ReviewCreated {
    const TYPE: &'static str = "review.created";
    fn aggregate_id(&self) -> String {
        self.review_id.to_string()
    }
}

/// A review became public: approved on creation, by an admin, or by an edit that removed a
/// banned word. May come more than once for one review (held and approved again).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewApproved {
    pub review_id: Uuid,
    pub customer_id: Uuid,
    pub subject_kind: ReviewSubjectKind,
    pub subject_id: Uuid,
    pub merchant_id: Uuid,
    pub rating: i32,
}

impl DomainEvent for ReviewApproved {
    const TYPE: &'static str = "review.approved";
    fn aggregate_id(&self) -> String {
        self.review_id.to_string()
    }
}

/// The reviewed merchant answered a review (once per review): its author hears of it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewResponded {
    pub review_id: Uuid,
    pub customer_id: Uuid,
    pub subject_kind: ReviewSubjectKind,
    pub subject_id: Uuid,
    pub merchant_id: Uuid,
}

impl DomainEvent for ReviewResponded {
    const TYPE: &'static str = "review.responded";
    fn aggregate_id(&self) -> String {
        self.review_id.to_string()
    }
}

/// The rating of a product, voucher offer or merchant changed. Each carries the whole
/// aggregate and its `version`; events of concurrent changes may arrive out of order, so a
/// consumer keeps the highest version it saw.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewRatingChanged {
    pub subject_kind: ReviewSubjectKind,
    pub subject_id: Uuid,
    pub merchant_id: Uuid,
    /// None when no approved review is left.
    pub average: Option<f64>,
    pub count: i64,
    /// Approved reviews with 1, 2, 3, 4 and 5 stars.
    pub histogram: [i64; 5],
    /// One more on every change of this aggregate.
    pub version: i64,
}

impl DomainEvent for ReviewRatingChanged {
    const TYPE: &'static str = "review.rating_changed";
    fn aggregate_id(&self) -> String {
        self.subject_id.to_string()
    }
}

/// Who wrote a review and whether the public sees it (internal: media lets only the author
/// attach photos, and shows them as the review is shown).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewAuthorship {
    pub review_id: Uuid,
    pub author_id: Uuid,
    pub merchant_id: Uuid,
    /// APPROVED: shown to anyone; otherwise to its author and moderators only.
    pub public: bool,
}

/// Typed client of reviews, used by media.
#[derive(Clone)]
pub struct ReviewsClient {
    services: kernel::call::Services,
    caller: &'static str,
}

impl ReviewsClient {
    pub fn new(services: kernel::call::Services, caller: &'static str) -> Self {
        Self { services, caller }
    }

    /// `GET /internal/v1/reviews/{id}/authorship`: `review_not_found` for a deleted review.
    pub async fn authorship(
        &self,
        review_id: Uuid,
    ) -> Result<ReviewAuthorship, kernel::call::CallError> {
        self.services
            .call::<(), _>(
                self.caller,
                kernel::call::Method::GET,
                &format!("/internal/v1/reviews/{review_id}/authorship"),
                None,
            )
            .await
    }
}

/// Every event reviews publishes, for the event catalogue.
pub fn events() -> Vec<kernel::EventSpec> {
    vec![
        kernel::EventSpec::of::<ReviewCreated>(),
        kernel::EventSpec::of::<ReviewApproved>(),
        kernel::EventSpec::of::<ReviewResponded>(),
        kernel::EventSpec::of::<ReviewRatingChanged>(),
    ]
}
