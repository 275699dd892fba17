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
/// Keys per call to vouchers (its limit is 1,000).
const ISSUE_CHUNK: usize = 500;
/// A book still `GENERATING` this long after it started lost its job (the job's retries are
/// over within minutes): generating again is allowed.
const STALE_GENERATION_MS: i64 = 15 * 60 * 1000;

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
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let row = store::book_for_update(&mut tx, id)
            .await?
            .ok_or(BooksError::NotFound)?;
        let stale = status(&row)? == BookStatus::Generating
            && row.updated_at < now.millis() - STALE_GENERATION_MS;
        if !domain::editable(status(&row)?) && !stale {
            return Err(BooksError::NotEditable);
        }
        if !store::has_placements(&mut tx, id).await? {
            return Err(BooksError::Empty);
        }
        // The old file no longer says what the book is while it is made again.
        store::drop_file(&mut tx, id).await?;
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
            .map_err(|e| BooksError::Corrupt(format!("renderer stopped: {e}")))?
            // The same book fails the same way: no retry.
            .map_err(|e| Refusal(format!("the book cannot be printed: {e}")))?;
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

    /// Issues the vouchers of placements printed for the first time, per offer (in calls of
    /// at most `ISSUE_CHUNK` keys).
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
        // Keys sent before whose answer was lost: their vouchers exist and come back.
        let sent = store::issuing(&self.ctx.db, row.id).await?;
        let mut by_offer: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
        for p in placements {
            if let (Some(offer), false) = (p.offer_id, done.contains(&p.id)) {
                by_offer.entry(offer).or_default().push(p.id);
            }
        }
        // Every offer is checked before any voucher is issued: a cap too small for the book
        // stops it with nothing issued.
        let mut offers = Vec::with_capacity(by_offer.len());
        for (offer_id, placement_ids) in by_offer {
            let offer = match self.vouchers.offer(offer_id).await {
                Ok(offer) => offer,
                Err(err) if err.is(VouchersCode::OfferNotFound) => {
                    return Err(Refusal(format!("offer {offer_id} no longer exists")))
                }
                Err(err) => return Err(Failure(err.into())),
            };
            if !offer.claimable {
                return Err(Refusal(format!(
                    "offer {} is no longer free to claim",
                    offer.title.en
                )));
            }
            let new = placement_ids.iter().filter(|p| !sent.contains(p)).count();
            if offer
                .remaining
                .is_some_and(|left| usize::try_from(left).unwrap_or(0) < new)
            {
                return Err(Refusal(format!(
                    "offer {} has fewer vouchers left than the book prints ({new})",
                    offer.title.en,
                )));
            }
            offers.push((offer, placement_ids));
        }
        for (offer, placement_ids) in offers {
            let merchant = store::merchant_name(&self.ctx.db, offer.merchant_id)
                .await?
                .unwrap_or_default();
            for chunk in placement_ids.chunks(ISSUE_CHUNK) {
                self.issue_chunk(row, &offer, &merchant, chunk).await?;
            }
        }
        Ok(())
    }

    /// Issues one call's worth of a placement's vouchers and keeps what they print. The keys
    /// are recorded first: a voucher issued by a call whose answer was lost is got back by the
    /// next generation, and its placement can no longer be removed.
    async fn issue_chunk(
        &self,
        row: &BookRow,
        offer: &Offer,
        merchant: &str,
        placement_ids: &[Uuid],
    ) -> std::result::Result<(), Stop> {
        let mut tx = self.ctx.db.begin().await?;
        store::mark_issuing(&mut tx, row.id, placement_ids).await?;
        tx.commit().await?;
        let key_of = |placement: &Uuid| format!("book:{}:{placement}", row.id);
        let request = PrintedIssue {
            offer_id: offer.id,
            issue_keys: placement_ids.iter().map(key_of).collect(),
        };
        let issued = match self.vouchers.issue_printed(&request).await {
            Ok(issued) => issued,
            Err(err) if err.is(VouchersCode::SoldOut) => {
                return Err(Refusal(format!(
                    "offer {} has fewer vouchers left than the book prints",
                    offer.title.en
                )))
            }
            Err(err)
                if err.is(VouchersCode::OfferNotFound) || err.is(VouchersCode::NotClaimable) =>
            {
                return Err(Refusal(format!(
                    "offer {} is not printable now (withdrawn, unapproved, over or not free)",
                    offer.title.en
                )))
            }
            // Another refusal of this request would answer the same again.
            Err(err) if (400..500).contains(&err.status) => {
                return Err(Refusal(format!("vouchers refused the book: {}", err.code)))
            }
            Err(err) => return Err(Failure(err.into())),
        };
        let mut tx = self.ctx.db.begin().await?;
        for placement_id in placement_ids {
            let key = key_of(placement_id);
            let voucher = issued
                .iter()
                .find(|v| v.issue_key == key)
                .ok_or_else(|| BooksError::Corrupt(format!("vouchers did not answer {key}")))?;
            store::save_printed(
                &mut tx,
                &PrintedRow {
                    placement_id: *placement_id,
                    book_id: row.id,
                    instance_id: voucher.instance_id,
                    code: voucher.code.clone(),
                    pin: voucher.pin.clone(),
                    token: voucher.token.clone(),
                    title: offer.title.en.clone(),
                    title_km: offer.title.km.clone(),
                    merchant: merchant.to_owned(),
                    terms: terms_of(offer),
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
