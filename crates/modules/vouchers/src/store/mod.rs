//! Every SQL statement of vouchers, and nothing else, by what it stores.

use kernel::Timestamp;
use platform::db::{Db, Tx};
use platform::{on_db, on_tx, on_write};
use uuid::Uuid;

use crate::api::OfferSort;

type Result<T> = std::result::Result<T, sqlx::Error>;

mod cases;
mod offers;
mod redemptions;
mod wallet;

pub use cases::*;
pub use offers::*;
pub use redemptions::*;
pub use wallet::*;
