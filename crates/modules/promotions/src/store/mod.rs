//! Every SQL statement of promotions, and nothing else, by what it stores. Limits and budgets
//! are taken by conditional updates (`... WHERE uses < usage_limit`), so concurrent checkouts
//! can never take more than there is; the tables' CHECKs are the last guard.

use platform::db::{Db, Tx};
use platform::{on_db, on_tx};
use uuid::Uuid;

type Result<T> = std::result::Result<T, sqlx::Error>;

mod analytics;
mod campaigns;
mod codes;
mod promotions;
mod usages;

pub use analytics::*;
pub use campaigns::*;
pub use codes::*;
pub use promotions::*;
pub use usages::*;
