//! Pages and placements: a page is appended or removed (the rest renumbered), a placement is
//! put on a free block of the grid or taken off (not once its voucher was printed).

use vouchers_contract::VouchersCode;

use super::*;

const HEADLINE_MAX: usize = 120;
const BODY_MAX: usize = 600;

impl Books {
    /// Appends a page.
    pub async fn add_page(&self, actor: &Actor, book_id: Uuid) -> Result<BookPage> {
        admin(actor)?;
        let mut tx = self.ctx.db.begin().await?;
        let mut book = self.editable_book(&mut tx, book_id).await?;
        let pages = store::pages_in(&mut tx, book_id).await?;
        let number = pages.last().map_or(1, |p| p.number + 1);
        if number > domain::MAX_PAGES {
            return Err(invalid("pages", "a book has at most 256 pages"));
        }
        let page = PageRow {
            id: kernel::new_id(),
            book_id,
            number,
        };
        store::insert_page(&mut tx, &page).await?;
        self.touch(&mut tx, &mut book).await?;
        tx.commit().await?;
        Ok(BookPage {
            id: page.id,
            number,
            placements: Vec::new(),
        })
    }

    /// Removes an empty page or one without printed vouchers; later pages move up.
    pub async fn remove_page(&self, actor: &Actor, book_id: Uuid, page_id: Uuid) -> Result<()> {
        admin(actor)?;
        let mut tx = self.ctx.db.begin().await?;
        let mut book = self.editable_book(&mut tx, book_id).await?;
        let page = store::pages_in(&mut tx, book_id)
            .await?
            .into_iter()
            .find(|p| p.id == page_id)
            .ok_or(BooksError::PageNotFound)?;
        for placement in store::placements_of_page(&mut tx, page_id).await? {
            if store::placement_printed(&mut tx, placement.id).await? {
                return Err(BooksError::Printed);
            }
            store::delete_placement(&mut tx, placement.id).await?;
        }
        store::delete_page(&mut tx, page_id).await?;
        store::renumber_after(&mut tx, book_id, page.number).await?;
        self.touch(&mut tx, &mut book).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Puts a placement on a free block of the page: aligned to the grid, not overlapping
    /// (checked under the book's lock), with what its kind needs.
    pub async fn add_placement(
        &self,
        actor: &Actor,
        book_id: Uuid,
        page_id: Uuid,
        input: PlacementInput,
    ) -> Result<Placement> {
        admin(actor)?;
        let mask = domain::cells(input.slot, input.size)?;
        let input = checked(input)?;
        if let Some(offer_id) = input.offer_id {
            match self.vouchers.offer(offer_id).await {
                Ok(offer) if !offer.claimable => return Err(BooksError::OfferNotPrintable),
                Ok(_) => {}
                Err(err) if err.is(VouchersCode::OfferNotFound) => {
                    return Err(BooksError::OfferNotFound)
                }
                Err(err) => return Err(err.into()),
            }
        }
        let mut tx = self.ctx.db.begin().await?;
        let mut book = self.editable_book(&mut tx, book_id).await?;
        if !store::pages_in(&mut tx, book_id)
            .await?
            .iter()
            .any(|p| p.id == page_id)
        {
            return Err(BooksError::PageNotFound);
        }
        let taken: Vec<(u8, u8)> = store::placements_of_page(&mut tx, page_id)
            .await?
            .iter()
            .map(|p| {
                (
                    u8::try_from(p.slot).unwrap_or(u8::MAX),
                    u8::try_from(p.size).unwrap_or(u8::MAX),
                )
            })
            .collect();
        if domain::overlaps(&taken, mask) {
            return Err(BooksError::SlotTaken);
        }
        let row = PlacementRow {
            id: kernel::new_id(),
            book_id,
            page_id,
            slot: i32::from(input.slot),
            size: i32::from(input.size),
            kind: input.kind.as_str().into(),
            offer_id: input.offer_id,
            headline: input.headline.clone(),
            body: input.body.clone(),
            sponsor: input.sponsor.clone(),
            created_at: Timestamp::now().millis(),
        };
        store::insert_placement(&mut tx, &row).await?;
        self.touch(&mut tx, &mut book).await?;
        tx.commit().await?;
        Ok(Placement {
            id: row.id,
            slot: input.slot,
            size: input.size,
            kind: input.kind,
            offer_id: input.offer_id,
            headline: input.headline,
            body: input.body,
            sponsor: input.sponsor,
            voucher_id: None,
        })
    }

    /// Takes a placement off its page, unless its voucher was printed (it is live).
    pub async fn remove_placement(
        &self,
        actor: &Actor,
        book_id: Uuid,
        page_id: Uuid,
        placement_id: Uuid,
    ) -> Result<()> {
        admin(actor)?;
        let mut tx = self.ctx.db.begin().await?;
        let mut book = self.editable_book(&mut tx, book_id).await?;
        if !store::placements_of_page(&mut tx, page_id)
            .await?
            .iter()
            .any(|p| p.id == placement_id && p.book_id == book_id)
        {
            return Err(BooksError::PlacementNotFound);
        }
        if store::placement_printed(&mut tx, placement_id).await? {
            return Err(BooksError::Printed);
        }
        store::delete_placement(&mut tx, placement_id).await?;
        self.touch(&mut tx, &mut book).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// What each kind must carry, trimmed and bounded.
fn checked(mut input: PlacementInput) -> Result<PlacementInput> {
    let mut errors = Vec::new();
    let mut bounded = |field: &str, value: &mut Option<String>, max: usize| {
        if let Some(text) = value.as_mut() {
            *text = text.trim().to_owned();
            if text.chars().count() > max || platform::http::text::has_forbidden(text) {
                errors.push(FieldError {
                    field: field.into(),
                    message: format!("is text of at most {max} characters"),
                });
            }
        }
        if value.as_deref().is_some_and(str::is_empty) {
            *value = None;
        }
    };
    bounded("headline", &mut input.headline, HEADLINE_MAX);
    bounded("body", &mut input.body, BODY_MAX);
    bounded("sponsor", &mut input.sponsor, HEADLINE_MAX);
    let needs = |ok: bool, field: &str, message: &str, errors: &mut Vec<FieldError>| {
        if !ok {
            errors.push(FieldError {
                field: field.into(),
                message: message.into(),
            });
        }
    };
    match input.kind {
        PlacementKind::Voucher => {
            needs(
                input.offer_id.is_some(),
                "offerId",
                "a voucher placement prints an offer",
                &mut errors,
            );
        }
        PlacementKind::Ad | PlacementKind::Image => {
            needs(
                input.offer_id.is_none(),
                "offerId",
                "only voucher placements print offers",
                &mut errors,
            );
            needs(
                input.headline.is_some(),
                "headline",
                "is required (the caption of an image)",
                &mut errors,
            );
        }
        PlacementKind::Sponsored => {
            needs(
                input.offer_id.is_none(),
                "offerId",
                "only voucher placements print offers",
                &mut errors,
            );
            needs(
                input.headline.is_some(),
                "headline",
                "is required",
                &mut errors,
            );
            needs(
                input.sponsor.is_some(),
                "sponsor",
                "is required",
                &mut errors,
            );
        }
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(BooksError::Invalid(errors))
    }
}
