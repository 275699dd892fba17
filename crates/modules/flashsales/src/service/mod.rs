//! flash sales' use cases: sales and their items for their managers and the public
//! (`sales`), and the units checkouts take, confirm and give back (`holds`).

mod holds;
mod sales;

use std::sync::Arc;
use std::time::Duration;

use catalog_contract::CatalogClient;
use kernel::{Actor, ApiError, FieldError, LocalizedText, MerchantPermission, Permission};
use orders_contract::OrdersClient;
use platform::services::CallError;
use platform::Context;
use uuid::Uuid;

use crate::api::*;
use crate::gate::Gate;

pub const SOURCE: &str = "flashsales";

#[derive(Debug, thiserror::Error)]
pub enum FlashSalesError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("flash sale not found")]
    NotFound,
    #[error("the sale has started")]
    Started,
    #[error("the sale has ended")]
    Ended,
    #[error("the sale of {0:?} has ended")]
    EndedFor(Vec<Uuid>),
    #[error("variants in another sale: {0:?}")]
    Overlap(Vec<Uuid>),
    #[error("sold out: {0:?}")]
    SoldOut(Vec<Uuid>),
    #[error("limit reached: {0:?}")]
    Limit(Vec<Uuid>),
    #[error("too many buyers at once")]
    Busy,
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<FlashSalesError> for ApiError {
    fn from(err: FlashSalesError) -> Self {
        use FlashSalesCode as C;
        match err {
            FlashSalesError::Invalid(errors) => ApiError::validation(errors),
            FlashSalesError::NotFound => C::FlashSaleNotFound.problem("No such flash sale"),
            FlashSalesError::Started => C::FlashSaleStarted
                .problem("The sale has started: only its end can be brought forward"),
            FlashSalesError::Ended => C::FlashSaleEnded.problem("The sale has ended"),
            FlashSalesError::EndedFor(ids) => C::FlashSaleEnded
                .problem("The flash sale of some items has ended: nothing was taken")
                .with_extension("variantIds", serde_json::json!(ids)),
            FlashSalesError::Overlap(ids) => C::FlashSaleOverlap
                .problem("Some variants are in another flash sale at an overlapping time")
                .with_extension("variantIds", serde_json::json!(ids)),
            FlashSalesError::SoldOut(ids) => C::SoldOut
                .problem("Sold out: nothing was taken")
                .with_extension("variantIds", serde_json::json!(ids)),
            FlashSalesError::Limit(ids) => C::FlashSaleLimit
                .problem("You already hold or bought as many as the sale allows")
                .with_extension("variantIds", serde_json::json!(ids)),
            FlashSalesError::Busy => C::FlashSaleBusy
                .problem("Too many buyers at this moment; try again in a second")
                .with_retry_after(1),
            FlashSalesError::Forbidden(detail) => ApiError::forbidden(detail),
            FlashSalesError::Call(err) => err.into(),
            FlashSalesError::Database(_) | FlashSalesError::Corrupt(_) => {
                tracing::error!(error = %err, "flash sales failure");
                ApiError::internal()
            }
        }
    }
}

pub type Result<T> = std::result::Result<T, FlashSalesError>;

pub struct FlashSales {
    pub ctx: Context,
    pub config: crate::config::FlashSalesConfig,
    catalog: CatalogClient,
    orders: OrdersClient,
    gate: Gate,
}

impl FlashSales {
    pub fn new(ctx: Context) -> Arc<Self> {
        let config: crate::config::FlashSalesConfig = ctx.config.section_or_default();
        Arc::new(Self {
            catalog: CatalogClient::new(ctx.services.clone(), SOURCE),
            orders: OrdersClient::new(ctx.services.clone(), SOURCE),
            gate: Gate::new(
                Duration::from_millis(config.index_ttl_ms),
                Duration::from_millis(config.sold_out_hint_ms),
                config.take_concurrency,
                config.take_queue,
            ),
            config,
            ctx,
        })
    }
}

fn invalid(errors: Vec<FieldError>) -> FlashSalesError {
    FlashSalesError::Invalid(errors)
}

/// Whether the actor manages sales of `merchant` (its owner or a manager), or of the platform
/// (`None`: admins).
fn may_manage(actor: &Actor, merchant: Option<Uuid>) -> bool {
    match merchant {
        Some(m) => {
            actor.is_staff_with(m, MerchantPermission::EditListings)
                || actor.can(Permission::AdminPromotions)
        }
        None => actor.can(Permission::AdminPromotions),
    }
}

fn text_json(text: &LocalizedText) -> Result<String> {
    serde_json::to_string(text).map_err(|e| FlashSalesError::Corrupt(e.to_string()))
}

fn text_of(json: &str) -> Result<LocalizedText> {
    serde_json::from_str(json).map_err(|e| FlashSalesError::Corrupt(e.to_string()))
}
