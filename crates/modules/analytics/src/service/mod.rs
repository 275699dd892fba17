//! analytics' use cases: keeping the rollups from other modules' events (`rollups`: `on_*`,
//! each inside the transaction that records the event in the inbox) and reading the dashboards
//! (`dashboards`, through what `cache` kept of earlier reads).

mod cache;
mod dashboards;
mod rollups;

use std::sync::Arc;

use kernel::{ApiError, FieldError};

use crate::api::AnalyticsCode;
use platform::Context;

#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    #[error("invalid period")]
    InvalidRange(Vec<FieldError>),
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("encoding a report: {0}")]
    Encode(#[from] serde_json::Error),
}

impl From<AnalyticsError> for ApiError {
    fn from(err: AnalyticsError) -> Self {
        match err {
            AnalyticsError::InvalidRange(errors) => {
                let detail = match errors.as_slice() {
                    [one] => format!("{}: {}", one.field, one.message),
                    _ => format!("{} fields are invalid", errors.len()),
                };
                let mut problem = AnalyticsCode::InvalidRange.problem(detail);
                problem.errors = errors;
                problem
            }
            AnalyticsError::Forbidden(detail) => ApiError::forbidden(detail),
            AnalyticsError::Database(_) | AnalyticsError::Encode(_) => {
                tracing::error!(error = %err, "analytics failure");
                ApiError::internal()
            }
        }
    }
}

pub type Result<T> = std::result::Result<T, AnalyticsError>;

pub struct Analytics {
    pub ctx: Context,
    reads: cache::Reads,
}

impl Analytics {
    pub fn new(ctx: Context) -> Arc<Self> {
        Arc::new(Self {
            ctx,
            reads: cache::reads(),
        })
    }
}
