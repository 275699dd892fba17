//! reviews' use cases: who bought what (`purchases`, from events), writing, editing and
//! deleting reviews (`writing`), admins' decisions and reports (`moderation`), helpful votes
//! and merchant responses (`votes`), the rating aggregates (`aggregates`), and what
//! customers, merchants and admins read (`views`).

mod aggregates;
mod moderation;
mod purchases;
mod views;
mod votes;
mod writing;

use std::sync::Arc;

use kernel::{Actor, ActorKind, ApiError, FieldError, Permission, Timestamp};
use platform::Context;
use uuid::Uuid;

use crate::api::*;
use crate::config::ReviewsConfig;
use crate::store::ReviewRow;

pub const SOURCE: &str = "reviews";

#[derive(Debug, thiserror::Error)]
pub enum ReviewsError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("review not found")]
    NotFound,
    #[error("not a buyer")]
    NotABuyer,
    #[error("the purchase has a review")]
    Exists,
    #[error("the edit window closed")]
    EditWindowClosed,
    #[error("own review")]
    OwnReview,
    #[error("reported already")]
    AlreadyReported,
    #[error("the review has a response")]
    ResponseExists,
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Api(ApiError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("events: {0}")]
    Bus(#[from] platform::bus::BusError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<ApiError> for ReviewsError {
    fn from(err: ApiError) -> Self {
        ReviewsError::Api(err)
    }
}

impl From<ReviewsError> for ApiError {
    fn from(err: ReviewsError) -> Self {
        use ReviewsCode as C;
        match err {
            ReviewsError::Invalid(errors) => ApiError::validation(errors),
            ReviewsError::NotFound => C::ReviewNotFound.problem("No such review"),
            ReviewsError::NotABuyer => C::NotABuyer.problem(
                "Only verified buyers review: no delivered order of this product (or redeemed voucher of this offer) to review",
            ),
            ReviewsError::Exists => {
                C::ReviewExists.problem("This purchase was reviewed already")
            }
            ReviewsError::EditWindowClosed => {
                C::EditWindowClosed.problem("This review can no longer be edited")
            }
            ReviewsError::OwnReview => {
                C::OwnReview.problem("Authors cannot vote on or report their own review")
            }
            ReviewsError::AlreadyReported => {
                C::AlreadyReported.problem("You reported this review already")
            }
            ReviewsError::ResponseExists => {
                C::ResponseExists.problem("The merchant responded to this review already")
            }
            ReviewsError::Forbidden(detail) => ApiError::forbidden(detail),
            ReviewsError::Api(err) => err,
            ReviewsError::Database(_) | ReviewsError::Bus(_) | ReviewsError::Corrupt(_) => {
                tracing::error!(error = %err, "reviews failure");
                ApiError::internal()
            }
        }
    }
}

pub type Result<T> = std::result::Result<T, ReviewsError>;

pub struct Reviews {
    pub ctx: Context,
    pub config: ReviewsConfig,
}

impl Reviews {
    pub fn new(ctx: Context) -> Arc<Self> {
        Arc::new(Self {
            config: ctx.config.section_or_default(),
            ctx,
        })
    }

    fn edit_window_ms(&self) -> i64 {
        self.config
            .edit_window_hours
            .max(0)
            .saturating_mul(3_600_000)
    }
}

fn invalid(errors: Vec<FieldError>) -> Result<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ReviewsError::Invalid(errors))
    }
}

/// The signed-in customer (or admin) acting for themselves.
fn customer(actor: &Actor) -> Result<Uuid> {
    if actor.kind != ActorKind::Service && actor.can(Permission::ManageOwnAccount) {
        Ok(actor.user_id)
    } else {
        Err(ReviewsError::Forbidden("Sign in as a customer"))
    }
}

fn is_moderator(actor: Option<&Actor>) -> bool {
    actor.is_some_and(|a| a.can(Permission::AdminCatalog))
}

fn status_of(row: &ReviewRow) -> Result<ReviewStatus> {
    ReviewStatus::parse(&row.status).ok_or_else(|| ReviewsError::Corrupt(row.status.clone()))
}

fn kind_of(row: &ReviewRow) -> Result<ReviewSubjectKind> {
    ReviewSubjectKind::parse(&row.subject_kind)
        .ok_or_else(|| ReviewsError::Corrupt(row.subject_kind.clone()))
}

fn now() -> i64 {
    Timestamp::now().millis()
}
