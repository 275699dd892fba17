//! books' use cases: books and their pages and placements (admins), generating the PDF (a
//! job: vouchers issued once against their offers' caps, then rendered), and publishing.

use std::sync::Arc;

use kernel::{Actor, ApiError, FieldError, Permission, Timestamp};
use platform::bus;
use platform::db::Tx;
use platform::services::CallError;
use platform::Context;
use uuid::Uuid;
use vouchers_contract::VouchersClient;

use crate::api::*;
use crate::domain::{self, LayoutError};
use crate::store::{self, BookRow, PageRow, PlacementRow};

mod books;
mod generate;
mod layout;

pub use generate::{GenerateJob, GENERATE_ATTEMPTS, GENERATE_JOB};

pub const SOURCE: &str = "books";

#[derive(Debug, thiserror::Error)]
pub enum BooksError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("book not found")]
    NotFound,
    #[error("page not found")]
    PageNotFound,
    #[error("placement not found")]
    PlacementNotFound,
    #[error("offer not found")]
    OfferNotFound,
    #[error("the offer is not free to claim")]
    OfferNotPrintable,
    #[error("the book cannot change now")]
    NotEditable,
    #[error("the book has no PDF")]
    NotReady,
    #[error("the book has nothing to print")]
    Empty,
    #[error("the slot is taken")]
    SlotTaken,
    #[error("the placement was printed")]
    Printed,
    #[error("layout: {0}")]
    Layout(#[from] LayoutError),
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("events: {0}")]
    Bus(#[from] platform::bus::BusError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<BooksError> for ApiError {
    fn from(err: BooksError) -> Self {
        match err {
            BooksError::Invalid(errors) => ApiError::validation(errors),
            BooksError::NotFound => ApiError::not_found("book_not_found", "No such voucher book"),
            BooksError::PageNotFound => {
                ApiError::not_found("page_not_found", "No such page in this book")
            }
            BooksError::PlacementNotFound => {
                ApiError::not_found("placement_not_found", "No such placement on this page")
            }
            BooksError::OfferNotFound => {
                ApiError::validation_one("offerId", "is not a voucher offer")
                    .with_code("offer_not_found")
            }
            BooksError::OfferNotPrintable => ApiError::validation_one(
                "offerId",
                "is not free to claim: books print free-to-claim offers only",
            )
            .with_code("offer_not_printable"),
            BooksError::NotEditable => ApiError::conflict(
                "book_not_editable",
                "The book is being generated or is published: it cannot change",
            ),
            BooksError::NotReady => ApiError::conflict(
                "book_not_ready",
                "The book has no print-ready PDF yet (generate it first)",
            ),
            BooksError::Empty => ApiError::conflict(
                "book_empty",
                "The book has nothing to print (no placements)",
            ),
            BooksError::SlotTaken => {
                ApiError::conflict("slot_taken", "The placement overlaps another on the page")
            }
            BooksError::Printed => ApiError::conflict(
                "placement_printed",
                "Its voucher was printed and issued: the placement stays",
            ),
            BooksError::Layout(err) => ApiError::validation_one("slot", &err.to_string()),
            BooksError::Call(err) => err.into(),
            BooksError::Database(_) | BooksError::Bus(_) | BooksError::Corrupt(_) => {
                tracing::error!(error = %err, "books failure");
                ApiError::internal()
            }
        }
    }
}

pub type Result<T> = std::result::Result<T, BooksError>;

pub struct Books {
    pub ctx: Context,
    vouchers: VouchersClient,
}

impl Books {
    pub fn new(ctx: Context) -> Arc<Self> {
        Arc::new(Self {
            vouchers: VouchersClient::new(ctx.services.clone(), SOURCE),
            ctx,
        })
    }
}

/// Books are the platform's own print work: admins only; anyone else finds nothing.
fn admin(actor: &Actor) -> Result<()> {
    actor
        .require(Permission::AdminVouchers)
        .map_err(|_| BooksError::NotFound)
}

fn invalid(field: &str, message: &str) -> BooksError {
    BooksError::Invalid(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }])
}

fn status(row: &BookRow) -> Result<BookStatus> {
    BookStatus::parse(&row.status).ok_or_else(|| BooksError::Corrupt(row.status.clone()))
}

async fn publish<E: kernel::DomainEvent>(tx: &mut Tx, event: &E) -> Result<()> {
    bus::publish(tx, SOURCE, event).await?;
    Ok(())
}
