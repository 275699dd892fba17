//! Every SQL statement of shipping, and nothing else, by what it stores: couriers and their
//! rate tables, merchants' choices of couriers, shipments, and their tracking (the timeline
//! and the courier reports already applied).

use platform::db::{Db, Tx};
use platform::{on_db, on_tx};
use uuid::Uuid;

type Result<T> = std::result::Result<T, sqlx::Error>;

mod couriers;
mod merchants;
mod shipments;
mod tracking;

pub use couriers::*;
pub use merchants::*;
pub use shipments::*;
pub use tracking::*;
