//! shipping's pure rules: zones, weights, prices and options (`rates`), what a rate table
//! must be (`tables`), tracking numbers and webhook signatures (`tracking`). No I/O.

pub mod rates;
pub mod tables;
pub mod tracking;

pub use rates::*;
pub use tracking::{signature, SIGNATURE_HEADER};
