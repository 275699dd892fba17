//! The integration tests of books, in one binary: each module is one story or concern.

mod layout;
mod print;
