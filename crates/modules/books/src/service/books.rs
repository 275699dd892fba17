//! Books: create, edit, read and list (admins), publish, and the PDF.

use kernel::{Page, PageQuery};

use super::*;

impl Books {
    pub async fn create(&self, actor: &Actor, input: BookInput) -> Result<Book> {
        admin(actor)?;
        let input = checked(input)?;
        let now = Timestamp::now();
        let row = BookRow {
            id: kernel::new_id(),
            title: input.title,
            edition: input.edition,
            month: i32::try_from(input.month).unwrap_or(1),
            year: input.year,
            kind: input.kind,
            cover_note: input.cover_note,
            bleed: input.bleed,
            status: BookStatus::Draft.as_str().into(),
            error: None,
            revision: 1,
            created_by: actor.user_id,
            created_at: now.millis(),
            updated_at: now.millis(),
        };
        let mut tx = self.ctx.db.begin().await?;
        store::insert_book(&mut tx, &row).await?;
        tx.commit().await?;
        self.view(&row).await
    }

    /// Changes what the cover says. A ready book goes back to draft: its PDF no longer says
    /// what the book does.
    pub async fn update(&self, actor: &Actor, id: Uuid, input: BookInput) -> Result<Book> {
        admin(actor)?;
        let input = checked(input)?;
        let mut tx = self.ctx.db.begin().await?;
        let mut row = self.editable_book(&mut tx, id).await?;
        row.title = input.title;
        row.edition = input.edition;
        row.month = i32::try_from(input.month).unwrap_or(1);
        row.year = input.year;
        row.kind = input.kind;
        row.cover_note = input.cover_note;
        row.bleed = input.bleed;
        self.touch(&mut tx, &mut row).await?;
        tx.commit().await?;
        self.view(&row).await
    }

    pub async fn get(&self, actor: &Actor, id: Uuid) -> Result<Book> {
        admin(actor)?;
        let row = store::book(&self.ctx.db, id)
            .await?
            .ok_or(BooksError::NotFound)?;
        self.view(&row).await
    }

    /// Newest first.
    pub async fn list(
        &self,
        actor: &Actor,
        status: Option<BookStatus>,
        page: &PageQuery,
    ) -> Result<Page<Book>> {
        admin(actor)?;
        let after = page
            .id_cursor()
            .map_err(|_| invalid("cursor", "is not a valid cursor"))?;
        let limit = page.limit();
        let rows = store::books(
            &self.ctx.db,
            status.map(BookStatus::as_str),
            after,
            i64::from(limit) + 1,
        )
        .await?;
        let mut books = Vec::with_capacity(rows.len());
        for row in &rows {
            books.push(self.view(row).await?);
        }
        Ok(Page::from_overfetch(books, limit, |b| b.id.to_string()))
    }

    /// A ready book goes out: it no longer changes.
    pub async fn publish_book(&self, actor: &Actor, id: Uuid) -> Result<Book> {
        admin(actor)?;
        let mut tx = self.ctx.db.begin().await?;
        let row = store::book_for_update(&mut tx, id)
            .await?
            .ok_or(BooksError::NotFound)?;
        match status(&row)? {
            BookStatus::ReadyForPrint => {}
            BookStatus::Published => return self.view(&row).await,
            _ => return Err(BooksError::NotReady),
        }
        store::set_status(
            &mut tx,
            id,
            row.revision,
            BookStatus::ReadyForPrint.as_str(),
            BookStatus::Published.as_str(),
            None,
            Timestamp::now(),
        )
        .await?;
        tx.commit().await?;
        let row = store::book(&self.ctx.db, id)
            .await?
            .ok_or(BooksError::NotFound)?;
        self.view(&row).await
    }

    /// The print-ready PDF (`READY_FOR_PRINT` or `PUBLISHED`).
    pub async fn pdf(&self, actor: &Actor, id: Uuid) -> Result<(Vec<u8>, String)> {
        admin(actor)?;
        let row = store::book(&self.ctx.db, id)
            .await?
            .ok_or(BooksError::NotFound)?;
        if !matches!(
            status(&row)?,
            BookStatus::ReadyForPrint | BookStatus::Published
        ) {
            return Err(BooksError::NotReady);
        }
        let pdf = store::pdf(&self.ctx.db, id)
            .await?
            .ok_or(BooksError::NotReady)?;
        Ok((pdf, file_name(&row)))
    }

    /// The book locked, if its content may change now.
    pub(super) async fn editable_book(&self, tx: &mut Tx, id: Uuid) -> Result<BookRow> {
        let row = store::book_for_update(tx, id)
            .await?
            .ok_or(BooksError::NotFound)?;
        if !domain::editable(status(&row)?) {
            return Err(BooksError::NotEditable);
        }
        Ok(row)
    }

    /// Records a change of content: a new revision, back to draft, the old PDF gone.
    pub(super) async fn touch(&self, tx: &mut Tx, row: &mut BookRow) -> Result<()> {
        row.revision += 1;
        row.status = BookStatus::Draft.as_str().into();
        row.error = None;
        row.updated_at = Timestamp::now().millis();
        store::update_book(tx, row).await?;
        store::drop_file(tx, row.id).await?;
        Ok(())
    }

    pub(super) async fn view(&self, row: &BookRow) -> Result<Book> {
        let pages = store::pages(&self.ctx.db, row.id).await?;
        let placements = store::placements(&self.ctx.db, row.id).await?;
        let printed = store::printed_vouchers(&self.ctx.db, row.id).await?;
        let file = store::file_info(&self.ctx.db, row.id).await?;
        let mut page_views = Vec::with_capacity(pages.len());
        for page in &pages {
            let mut items = Vec::new();
            for p in placements.iter().filter(|p| p.page_id == page.id) {
                items.push(Placement {
                    id: p.id,
                    slot: u8::try_from(p.slot).map_err(|_| BooksError::Corrupt("slot".into()))?,
                    size: u8::try_from(p.size).map_err(|_| BooksError::Corrupt("size".into()))?,
                    kind: PlacementKind::parse(&p.kind)
                        .ok_or_else(|| BooksError::Corrupt(p.kind.clone()))?,
                    offer_id: p.offer_id,
                    headline: p.headline.clone(),
                    body: p.body.clone(),
                    sponsor: p.sponsor.clone(),
                    voucher_id: printed
                        .iter()
                        .find(|(placement, _)| *placement == p.id)
                        .map(|(_, voucher)| *voucher),
                });
            }
            page_views.push(BookPage {
                id: page.id,
                number: page.number,
                placements: items,
            });
        }
        Ok(Book {
            id: row.id,
            title: row.title.clone(),
            edition: row.edition.clone(),
            month: u32::try_from(row.month).unwrap_or(1),
            year: row.year,
            kind: row.kind.clone(),
            cover_note: row.cover_note.clone(),
            bleed: row.bleed,
            status: status(row)?,
            error: row.error.clone(),
            pages: page_views,
            pdf: file.map(|f| BookPdf {
                pages: f.pages,
                bytes: f.bytes,
                sha256: f.sha256,
                vouchers: f.vouchers,
                generated_at: Timestamp::from_millis(f.generated_at),
            }),
            created_at: Timestamp::from_millis(row.created_at),
            updated_at: Timestamp::from_millis(row.updated_at),
        })
    }
}

/// `voucher-book-2026-12-<edition>.pdf`, with only safe characters.
fn file_name(row: &BookRow) -> String {
    let edition: String = row
        .edition
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!(
        "voucher-book-{}-{:02}-{}.pdf",
        row.year,
        row.month,
        edition.trim_matches('-')
    )
}

fn checked(mut input: BookInput) -> Result<BookInput> {
    let mut errors = Vec::new();
    let mut text = |field: &str, value: &mut String, required: bool| {
        *value = value.trim().to_owned();
        if (required && value.is_empty())
            || value.chars().count() > domain::TEXT_MAX
            || platform::http::text::has_forbidden(value)
        {
            errors.push(FieldError {
                field: field.into(),
                message: "is required text of at most 300 characters".into(),
            });
        }
    };
    text("title", &mut input.title, true);
    text("edition", &mut input.edition, true);
    let mut kind = input.kind.trim().to_ascii_lowercase();
    text("kind", &mut kind, true);
    if let Some(note) = input.cover_note.as_mut() {
        text("coverNote", note, false);
    }
    input.kind = kind;
    input.cover_note = input.cover_note.filter(|n| !n.is_empty());
    if !matches!(input.kind.as_str(), "monthly" | "special") {
        errors.push(FieldError {
            field: "kind".into(),
            message: "is monthly or special".into(),
        });
    }
    if !(1..=12).contains(&input.month) {
        errors.push(FieldError {
            field: "month".into(),
            message: "is 1 to 12".into(),
        });
    }
    if !(2000..=2100).contains(&input.year) {
        errors.push(FieldError {
            field: "year".into(),
            message: "is 2000 to 2100".into(),
        });
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(BooksError::Invalid(errors))
    }
}
