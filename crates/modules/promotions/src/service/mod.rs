//! promotions' use cases: campaigns (`campaigns`), promotions and their codes (`promotions`),
//! the quote every price comes from (`quotes`), checkout's reservations and the reactions to
//! orders' events (`usages`), and the figures per promotion (`analytics`).

mod analytics;
mod campaigns;
mod promotions;
mod quotes;
mod usages;

use std::collections::HashMap;
use std::sync::Arc;

use catalog_contract::CatalogClient;
use kernel::{
    Actor, ApiError, Currency, FieldError, LocalizedText, MerchantPermission, Permission, Timestamp,
};
use platform::services::CallError;
use platform::Context;
use uuid::Uuid;

use crate::api::*;

pub const SOURCE: &str = "promotions";

#[derive(Debug, thiserror::Error)]
pub enum PromotionsError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("campaign not found")]
    CampaignNotFound,
    #[error("promotion not found")]
    PromotionNotFound,
    #[error("{from:?} cannot move to {to:?}")]
    InvalidTransition {
        from: CampaignStatus,
        to: CampaignStatus,
        allowed: Vec<CampaignStatus>,
    },
    #[error("the campaign has ended")]
    CampaignEnded,
    #[error("code taken: {0}")]
    CodeTaken(String),
    #[error("not a code promotion")]
    NotACodePromotion,
    #[error("promotions ran out: {0:?}")]
    Unavailable(Vec<Uuid>),
    #[error("not a customer")]
    NotACustomer,
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("events: {0}")]
    Bus(#[from] platform::bus::BusError),
    #[error("cannot make a code")]
    Random,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<PromotionsError> for ApiError {
    fn from(err: PromotionsError) -> Self {
        use PromotionsCode as C;
        match err {
            PromotionsError::Invalid(errors) => ApiError::validation(errors),
            PromotionsError::CampaignNotFound => C::CampaignNotFound.problem("No such campaign"),
            PromotionsError::PromotionNotFound => C::PromotionNotFound.problem("No such promotion"),
            PromotionsError::InvalidTransition { from, to, allowed } => C::InvalidTransition
                .problem(format!(
                    "A {} campaign cannot move to {}",
                    from.as_str(),
                    to.as_str()
                ))
                .with_extension("allowedNextStatuses", serde_json::json!(allowed)),
            PromotionsError::CampaignEnded => {
                C::CampaignEnded.problem("The campaign has ended and can no longer be changed")
            }
            PromotionsError::CodeTaken(code) => C::CodeTaken
                .problem(format!("The code {code} is already in use"))
                .with_extension("code", serde_json::json!(code)),
            PromotionsError::NotACodePromotion => {
                C::NotACodePromotion.problem("Only CODE promotions have codes to generate")
            }
            PromotionsError::Unavailable(ids) => C::PromotionUnavailable
                .problem("A discount reached its limit or budget meanwhile; nothing was ordered")
                .with_extension("promotionIds", serde_json::json!(ids)),
            PromotionsError::NotACustomer => {
                C::NotACustomer.problem("Only people check coupons against a cart")
            }
            PromotionsError::Forbidden(detail) => ApiError::forbidden(detail),
            PromotionsError::Call(err) => err.into(),
            PromotionsError::Database(_)
            | PromotionsError::Bus(_)
            | PromotionsError::Random
            | PromotionsError::Corrupt(_) => {
                tracing::error!(error = %err, "promotions failure");
                ApiError::internal()
            }
        }
    }
}

pub type Result<T> = std::result::Result<T, PromotionsError>;

pub struct Promotions {
    pub ctx: Context,
    pub config: crate::config::PromotionsConfig,
    catalog: CatalogClient,
    loyalty: loyalty_contract::LoyaltyClient,
    /// Parsed names and rules by promotion, with the version they were parsed at.
    definitions: std::sync::RwLock<HashMap<Uuid, (i64, Arc<quotes::Definition>)>>,
    /// The merchant of each promotion seen (it never changes).
    merchants_of: std::sync::RwLock<HashMap<Uuid, Option<Uuid>>>,
}

impl Promotions {
    pub fn new(ctx: Context) -> Arc<Self> {
        Arc::new(Self {
            catalog: CatalogClient::new(ctx.services.clone(), SOURCE),
            loyalty: loyalty_contract::LoyaltyClient::new(ctx.services.clone(), SOURCE),
            definitions: Default::default(),
            merchants_of: Default::default(),
            config: ctx.config.section_or_default(),
            ctx,
        })
    }
}

fn invalid(field: &str, message: &str) -> PromotionsError {
    PromotionsError::Invalid(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }])
}

/// Whether the actor manages promotions of `merchant` (its owner or a manager), or of the
/// platform (`None`: admins).
fn may_manage(actor: &Actor, merchant: Option<Uuid>) -> bool {
    match merchant {
        Some(m) => {
            actor.is_staff_with(m, MerchantPermission::EditListings)
                || actor.can(Permission::AdminPromotions)
        }
        None => actor.can(Permission::AdminPromotions),
    }
}

/// The merchant whose campaigns a non-admin lists: the one asked for, or their only one.
fn listing_scope(actor: &Actor, asked: Option<Uuid>) -> Result<(Option<Uuid>, bool)> {
    if actor.can(Permission::AdminPromotions) {
        return Ok((asked, false));
    }
    let managed = actor.merchants_with(MerchantPermission::EditListings);
    match asked {
        Some(m) if managed.contains(&m) => Ok((Some(m), false)),
        Some(_) => Err(PromotionsError::Forbidden(
            "You do not manage this merchant's promotions",
        )),
        None if managed.len() == 1 => Ok((Some(managed[0]), false)),
        None if managed.is_empty() => Err(PromotionsError::Forbidden(
            "Promotions are managed by merchant owners and managers, and admins",
        )),
        None => Err(invalid(
            "merchantId",
            "is required: you manage more than one merchant",
        )),
    }
}

fn text_json(text: &LocalizedText) -> Result<String> {
    serde_json::to_string(text).map_err(|e| PromotionsError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| PromotionsError::Corrupt(e.to_string()))
}

fn currency(code: &str) -> Result<Currency> {
    Currency::parse(code).ok_or_else(|| PromotionsError::Corrupt(format!("currency {code}")))
}

fn parsed<T>(text: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    parse(text).ok_or_else(|| PromotionsError::Corrupt(format!("state {text}")))
}

fn now() -> Timestamp {
    Timestamp::now()
}
