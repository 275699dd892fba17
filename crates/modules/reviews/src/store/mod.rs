//! Every SQL statement of reviews, and nothing else, by what it stores: purchases (who may
//! review what), reviews, votes/reports/responses, aggregates and authors.

use platform::db::{Db, Tx};
use platform::{on_db, on_tx};
use uuid::Uuid;

type Result<T> = std::result::Result<T, sqlx::Error>;

mod aggregates;
mod interactions;
mod purchases;
mod reviews;

pub use aggregates::*;
pub use interactions::*;
pub use purchases::*;
pub use reviews::*;
