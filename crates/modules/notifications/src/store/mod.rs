//! Every SQL statement of notifications, and nothing else.

mod merchants;
mod messages;
mod people;
mod scheduled;

pub use merchants::*;
pub use messages::*;
pub use people::*;
pub use scheduled::*;

type Result<T> = std::result::Result<T, sqlx::Error>;
