//! Every SQL statement of books, and nothing else.

mod books;
mod pages;
mod printed;

pub use books::*;
pub use pages::*;
pub use printed::*;

type Result<T> = std::result::Result<T, sqlx::Error>;
