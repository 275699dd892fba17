//! Every SQL statement of catalog, and nothing else, by what it reads and writes.

use kernel::{Currency, Timestamp};

use crate::domain::{ProductStatus, ProductType, SortOrder};
use platform::db::{Db, Tx};
use platform::{on_db, on_tx};
use uuid::Uuid;

type Result<T> = std::result::Result<T, sqlx::Error>;

mod listings;
mod products;
mod taxonomy;

pub use listings::*;
pub use products::*;
pub use taxonomy::*;
