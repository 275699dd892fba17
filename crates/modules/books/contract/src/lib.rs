//! Voucher books' public face: books (A5 pages of an 8-slot grid), their pages and placements,
//! and the event books publish when a print-ready PDF is made.

mod errors;
pub use errors::BooksCode;

use kernel::{DomainEvent, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// `DRAFT → GENERATING → READY_FOR_PRINT → PUBLISHED`; a failed generation goes back to
/// `DRAFT` with the reason in `error`, and an edit of a ready book too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BookStatus {
    Draft,
    Generating,
    ReadyForPrint,
    Published,
}

impl BookStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BookStatus::Draft => "DRAFT",
            BookStatus::Generating => "GENERATING",
            BookStatus::ReadyForPrint => "READY_FOR_PRINT",
            BookStatus::Published => "PUBLISHED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            BookStatus::Draft,
            BookStatus::Generating,
            BookStatus::ReadyForPrint,
            BookStatus::Published,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BookInput {
    /// May carry Khmer; printed on the cover.
    pub title: String,
    /// e.g. `2026-12` or `Special: Water Festival`.
    pub edition: String,
    /// 1-12.
    pub month: u32,
    pub year: i32,
    /// `monthly` or `special`.
    pub kind: String,
    #[serde(default)]
    pub cover_note: Option<String>,
    /// Pages grow by 3 mm of bleed and crop marks around A5.
    #[serde(default)]
    pub bleed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Book {
    pub id: Uuid,
    pub title: String,
    pub edition: String,
    pub month: u32,
    pub year: i32,
    pub kind: String,
    pub cover_note: Option<String>,
    pub bleed: bool,
    pub status: BookStatus,
    /// Why the last generation failed (an offer sold out, ...).
    pub error: Option<String>,
    pub pages: Vec<BookPage>,
    /// The print-ready PDF (`READY_FOR_PRINT` and `PUBLISHED`).
    pub pdf: Option<BookPdf>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookPdf {
    /// The cover and one page per book page.
    pub pages: i32,
    pub bytes: i64,
    /// SHA-256 of the file: the same inputs give the same file.
    pub sha256: String,
    pub vouchers: i32,
    pub generated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookPage {
    pub id: Uuid,
    /// 1-based, in print order.
    pub number: i32,
    pub placements: Vec<Placement>,
}

/// What a placement holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlacementKind {
    /// A voucher of an offer, printed with its QR, code and PIN.
    Voucher,
    Ad,
    Image,
    Sponsored,
}

impl PlacementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PlacementKind::Voucher => "VOUCHER",
            PlacementKind::Ad => "AD",
            PlacementKind::Image => "IMAGE",
            PlacementKind::Sponsored => "SPONSORED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            PlacementKind::Voucher,
            PlacementKind::Ad,
            PlacementKind::Image,
            PlacementKind::Sponsored,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// A block of the page's grid: 2 columns × 4 rows, slots numbered row by row from 0. A
/// placement takes 1 slot, 2 (a whole row: an even slot), 4 (two rows: slot 0 or 4) or 8 (the
/// page: slot 0).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlacementInput {
    pub slot: u8,
    pub size: u8,
    pub kind: PlacementKind,
    /// `VOUCHER`: the offer printed.
    #[serde(default)]
    pub offer_id: Option<Uuid>,
    /// `AD`, `SPONSORED`: the headline; `IMAGE`: the caption.
    #[serde(default)]
    pub headline: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    /// `SPONSORED`: who pays for it.
    #[serde(default)]
    pub sponsor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Placement {
    pub id: Uuid,
    pub slot: u8,
    pub size: u8,
    pub kind: PlacementKind,
    pub offer_id: Option<Uuid>,
    pub headline: Option<String>,
    pub body: Option<String>,
    pub sponsor: Option<String>,
    /// The voucher printed for it, once the book was generated.
    pub voucher_id: Option<Uuid>,
}

/// A book's print-ready PDF was made: admins are told.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VoucherBookReady {
    pub book_id: Uuid,
    pub title: String,
    pub edition: String,
    pub pages: i32,
    pub vouchers: i32,
}

impl DomainEvent for VoucherBookReady {
    const TYPE: &'static str = "voucher_book.ready";
    fn aggregate_id(&self) -> String {
        self.book_id.to_string()
    }
}

/// Every event books publishes, for the event catalogue.
pub fn events() -> Vec<kernel::EventSpec> {
    vec![kernel::EventSpec::of::<VoucherBookReady>()]
}
