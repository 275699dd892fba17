//! The integration tests of vouchers, in one binary: each module is one story or concern.

mod fraud;
mod gift_mail;
mod order_refunds;
mod races;
mod story;
