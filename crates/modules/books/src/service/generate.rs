//! Generating a book's PDF: a job. Voucher placements not printed before get their voucher
//! issued (per offer, all or none, against its cap) and kept; then the book is rendered from
//! what was kept, so the same book renders the same file. The PDF is stored with the book
//! and admins are told.

use std::collections::BTreeMap;

use books_contract::VoucherBookReady;
use kernel::{format_amount, LocalizedText};
use platform::jobs;
use ring::digest;
use serde::{Deserialize, Serialize};
use vouchers_contract::{Offer, PrintedIssue, VouchersCode};

use super::*;
use crate::render::{self, BookDoc, Content, PageDoc, Placed};
use crate::store::PrintedRow;

pub const GENERATE_JOB: &str = "books.generate";
pub const GENERATE_ATTEMPTS: i32 = 5;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateJob {
    pub book_id: Uuid,
    /// The revision generated: a book changed since is not stored.
    pub revision: i64,
}

impl Books {
    /// Starts generating (a job): the book shows `GENERATING` until its PDF is ready.
    pub async fn generate(&self, actor: &Actor, id: Uuid) -> Result<Book> {
        admin(actor)?;
        let mut tx = self.ctx.db.begin().await?;
        let row = self.editable_book(&mut tx, id).await?;
        if store::pages_in(&mut tx, id).await?.is_empty() {
            return Err(BooksError::Empty);
        }
        let now = Timestamp::now();
        store::set_status(
            &mut tx,
            id,
            row.revision,
            &row.status,
            BookStatus::Generating.as_str(),
            None,
            now,
        )
        .await?;
        let payload = serde_json::to_value(GenerateJob {
            book_id: id,
            revision: row.revision,
        })
        .map_err(|e| BooksError::Corrupt(e.to_string()))?;
        jobs::enqueue(&mut tx, GENERATE_JOB, &payload, now, GENERATE_ATTEMPTS).await?;
        tx.commit().await?;
        let row = store::book(&self.ctx.db, id)
            .await?
            .ok_or(BooksError::NotFound)?;
        self.view(&row).await
    }

    /// The job. A refusal from vouchers (an offer sold out or gone) ends the generation with
    /// the reason on the book; other failures are retried, and the last one is recorded too.
    pub async fn run_generation(&self, job: &GenerateJob, last_attempt: bool) -> Result<()> {
        let Some(row) = store::book(&self.ctx.db, job.book_id).await? else {
            return Ok(());
        };
        if row.revision != job.revision || status(&row)? != BookStatus::Generating {
            return Ok(());
        }
        match self.print(&row).await {
            Ok(()) => Ok(()),
            Err(Refusal(reason)) => self.fail(&row, &reason).await,
            Err(Failure(err)) if last_attempt => {
                tracing::error!(book = %row.id, error = %err, "book generation failed for good");
                self.fail(&row, "the generation failed; try again").await
            }
            Err(Failure(err)) => Err(err),
        }
    }

    async fn print(&self, row: &BookRow) -> std::result::Result<(), Stop> {
        let pages = store::pages(&self.ctx.db, row.id).await?;
        let placements = store::placements(&self.ctx.db, row.id).await?;
        self.issue_missing(row, &placements).await?;
        let printed: BTreeMap<Uuid, PrintedRow> = store::printed(&self.ctx.db, row.id)
            .await?
            .into_iter()
            .map(|p| (p.placement_id, p))
            .collect();
        let doc = book_doc(row, &pages, &placements, &printed)?;
        let vouchers = i32::try_from(printed.len()).unwrap_or(i32::MAX);
        let pdf = tokio::task::spawn_blocking(move || render::render(&doc))
            .await
            .map_err(|e| BooksError::Corrupt(format!("renderer stopped: {e}")))??;
        let sha256 = kernel::hex(digest::digest(&digest::SHA256, &pdf).as_ref());
        let page_count = i32::try_from(pages.len() + 1).unwrap_or(i32::MAX);
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        if !store::set_status(
            &mut tx,
            row.id,
            row.revision,
            BookStatus::Generating.as_str(),
            BookStatus::ReadyForPrint.as_str(),
            None,
            now,
        )
        .await?
        {
            // Edited meanwhile: that revision is generated again when asked.
            return Ok(());
        }
        store::save_file(&mut tx, row.id, &pdf, &sha256, page_count, vouchers, now).await?;
        publish(
            &mut tx,
            &VoucherBookReady {
                book_id: row.id,
                title: row.title.clone(),
                edition: row.edition.clone(),
                pages: page_count,
                vouchers,
            },
        )
        .await?;
        self.ctx.commit(tx).await?;
        tracing::info!(book = %row.id, pages = page_count, vouchers, bytes = pdf.len(), "voucher book ready");
        Ok(())
    }

    /// Issues the vouchers of placements printed for the first time, one call per offer.
    async fn issue_missing(
        &self,
        row: &BookRow,
        placements: &[PlacementRow],
    ) -> std::result::Result<(), Stop> {
        let done: Vec<Uuid> = store::printed(&self.ctx.db, row.id)
            .await?
            .iter()
            .map(|p| p.placement_id)
            .collect();
        let mut by_offer: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
        for p in placements {
            if let (Some(offer), false) = (p.offer_id, done.contains(&p.id)) {
                by_offer.entry(offer).or_default().push(p.id);
            }
        }
        for (offer_id, placement_ids) in by_offer {
            let offer = match self.vouchers.offer(offer_id).await {
                Ok(offer) => offer,
                Err(err) if err.is(VouchersCode::OfferNotFound) => {
                    return Err(Refusal(format!("offer {offer_id} no longer exists")))
                }
                Err(err) => return Err(Failure(err.into())),
            };
            let request = PrintedIssue {
                offer_id,
                holder_id: row.id,
                issue_keys: placement_ids
                    .iter()
                    .map(|p| format!("book:{}:{p}", row.id))
                    .collect(),
            };
            let issued = match self.vouchers.issue_printed(&request).await {
                Ok(issued) => issued,
                Err(err) if err.is(VouchersCode::SoldOut) => {
                    return Err(Refusal(format!(
                        "offer {} has fewer vouchers left than the book prints ({})",
                        offer.title.en,
                        placement_ids.len()
                    )))
                }
                Err(err) if err.is(VouchersCode::OfferNotFound) => {
                    return Err(Refusal(format!(
                        "offer {} is not on sale (hidden, unapproved or over)",
                        offer.title.en
                    )))
                }
                Err(err) => return Err(Failure(err.into())),
            };
            let merchant = store::merchant_name(&self.ctx.db, offer.merchant_id)
                .await?
                .unwrap_or_default();
            let mut tx = self.ctx.db.begin().await?;
            for (placement_id, voucher) in placement_ids.iter().zip(issued) {
                store::save_printed(
                    &mut tx,
                    &PrintedRow {
                        placement_id: *placement_id,
                        book_id: row.id,
                        instance_id: voucher.instance_id,
                        code: voucher.code,
                        pin: voucher.pin,
                        token: voucher.token,
                        title: offer.title.en.clone(),
                        title_km: offer.title.km.clone(),
                        merchant: merchant.clone(),
                        terms: terms_of(&offer),
                        validity: format!(
                            "Valid until {}",
                            voucher
                                .expires_at
                                .to_rfc3339()
                                .get(..10)
                                .unwrap_or_default()
                        ),
                        value: format_amount(voucher.face_value, voucher.currency),
                    },
                )
                .await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    async fn fail(&self, row: &BookRow, reason: &str) -> Result<()> {
        tracing::warn!(book = %row.id, reason, "book generation stopped");
        let mut tx = self.ctx.db.begin().await?;
        store::set_status(
            &mut tx,
            row.id,
            row.revision,
            BookStatus::Generating.as_str(),
            BookStatus::Draft.as_str(),
            Some(reason),
            Timestamp::now(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Why a generation stopped: vouchers refused (the book says why), or a failure to retry.
enum Stop {
    Refusal(String),
    Failure(BooksError),
}
use Stop::{Failure, Refusal};

impl<E: Into<BooksError>> From<E> for Stop {
    fn from(err: E) -> Self {
        Failure(err.into())
    }
}

/// The offer's terms in English, and in Khmer when it has them.
fn terms_of(offer: &Offer) -> String {
    let text = |t: &Option<LocalizedText>| t.as_ref().map(|t| (t.en.clone(), t.km.clone()));
    match text(&offer.terms) {
        Some((en, Some(km))) => format!("{en} {km}"),
        Some((en, None)) => en,
        None => String::new(),
    }
}

/// What the renderer prints, from the book and what its placements printed.
fn book_doc(
    row: &BookRow,
    pages: &[PageRow],
    placements: &[PlacementRow],
    printed: &BTreeMap<Uuid, PrintedRow>,
) -> Result<BookDoc> {
    let mut page_docs = Vec::with_capacity(pages.len());
    for page in pages {
        let mut placed = Vec::new();
        for p in placements.iter().filter(|p| p.page_id == page.id) {
            let kind =
                PlacementKind::parse(&p.kind).ok_or_else(|| BooksError::Corrupt(p.kind.clone()))?;
            let text = |t: &Option<String>| t.clone().unwrap_or_default();
            let content = match kind {
                PlacementKind::Voucher => {
                    let v = printed.get(&p.id).ok_or_else(|| {
                        BooksError::Corrupt(format!("placement {} unprinted", p.id))
                    })?;
                    Content::Voucher {
                        title: match &v.title_km {
                            Some(km) => format!("{km} · {}", v.title),
                            None => v.title.clone(),
                        },
                        merchant: v.merchant.clone(),
                        terms: v.terms.clone(),
                        validity: v.validity.clone(),
                        value: v.value.clone(),
                        qr_token: v.token.clone(),
                        code: v.code.clone(),
                        pin: v.pin.clone(),
                    }
                }
                PlacementKind::Ad => Content::Ad {
                    headline: text(&p.headline),
                    body: text(&p.body),
                },
                PlacementKind::Image => Content::Image {
                    caption: text(&p.headline),
                },
                PlacementKind::Sponsored => Content::Sponsored {
                    sponsor: text(&p.sponsor),
                    headline: text(&p.headline),
                    body: text(&p.body),
                },
            };
            placed.push(Placed {
                slot: u8::try_from(p.slot).map_err(|_| BooksError::Corrupt("slot".into()))?,
                size: u8::try_from(p.size).map_err(|_| BooksError::Corrupt("size".into()))?,
                content,
            });
        }
        page_docs.push(PageDoc {
            number: u32::try_from(page.number).unwrap_or(0),
            placements: placed,
        });
    }
    Ok(BookDoc {
        title: row.title.clone(),
        edition: row.edition.clone(),
        period: period(row.month, row.year),
        kind: row.kind.clone(),
        cover_note: row.cover_note.clone(),
        bleed: row.bleed,
        pages: page_docs,
    })
}

/// `December 2026`.
fn period(month: i32, year: i32) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let name = usize::try_from(month - 1)
        .ok()
        .and_then(|m| MONTHS.get(m))
        .unwrap_or(&"");
    format!("{name} {year}")
}
