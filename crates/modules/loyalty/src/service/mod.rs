//! loyalty's use cases: the points ledger and tiers (`ledger`), points earned from orders,
//! signups and achievements (`earning`), points spent at checkout and given back
//! (`redemption`), expiry and its reminders (`expiry`), and what customers and admins read
//! (`views`).

mod earning;
mod expiry;
mod ledger;
mod redemption;
mod views;

use std::sync::Arc;

use kernel::{ApiError, Currency, FieldError};
use platform::services::CallError;
use platform::Context;

use crate::api::*;
use crate::config::LoyaltyConfig;

pub const SOURCE: &str = "loyalty";

#[derive(Debug, thiserror::Error)]
pub enum LoyaltyError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("no rewards account")]
    AccountNotFound,
    #[error("not enough points")]
    InsufficientPoints,
    #[error("below the minimum redemption")]
    BelowMinimum(i64),
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("events: {0}")]
    Bus(#[from] platform::bus::BusError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<LoyaltyError> for ApiError {
    fn from(err: LoyaltyError) -> Self {
        use LoyaltyCode as C;
        match err {
            LoyaltyError::Invalid(errors) => ApiError::validation(errors),
            LoyaltyError::AccountNotFound => {
                C::AccountNotFound.problem("This customer has no rewards account yet")
            }
            LoyaltyError::InsufficientPoints => C::InsufficientPoints
                .problem("Not enough points: the balance has fewer than asked for"),
            LoyaltyError::BelowMinimum(min) => C::PointsBelowMinimum
                .problem(format!("At least {min} points are redeemed at once"))
                .with_extension("minPoints", serde_json::json!(min)),
            LoyaltyError::Forbidden(detail) => ApiError::forbidden(detail),
            LoyaltyError::Call(err) => err.into(),
            LoyaltyError::Database(_) | LoyaltyError::Bus(_) | LoyaltyError::Corrupt(_) => {
                tracing::error!(error = %err, "loyalty failure");
                ApiError::internal()
            }
        }
    }
}

pub type Result<T> = std::result::Result<T, LoyaltyError>;

pub struct Loyalty {
    pub ctx: Context,
    pub config: LoyaltyConfig,
}

impl Loyalty {
    pub fn new(ctx: Context) -> Arc<Self> {
        Arc::new(Self {
            config: ctx.config.section_or_default(),
            ctx,
        })
    }

    fn lowest_tier(&self) -> Result<&Tier> {
        self.config
            .tiers
            .iter()
            .min_by_key(|t| t.min_points)
            .ok_or_else(|| LoyaltyError::Corrupt("no tiers configured".into()))
    }

    fn tier(&self, code: &str) -> Result<&Tier> {
        self.config
            .tiers
            .iter()
            .find(|t| t.code == code)
            .map_or_else(|| self.lowest_tier(), Ok)
    }

    fn spend_per_point(&self, currency: Currency) -> i64 {
        self.config
            .spend_per_point
            .get(&currency.code().to_ascii_lowercase())
            .copied()
            .unwrap_or(0)
    }

    fn point_value(&self, currency: Currency) -> i64 {
        self.config
            .point_value
            .get(&currency.code().to_ascii_lowercase())
            .copied()
            .unwrap_or(0)
    }
}

fn invalid(field: &str, message: &str) -> LoyaltyError {
    LoyaltyError::Invalid(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }])
}

const DAY_MS: i64 = 24 * 3600 * 1000;
/// Tiers count purchase points of this window.
const QUALIFYING_WINDOW_MS: i64 = 365 * DAY_MS;
