//! Print renderer of voucher books: an A5 PDF with a cover and one page per [`PageDoc`], as a
//! pure function (no I/O) that gives the same bytes for the same book.
//!
//! krilla does the PDF work: it shapes every text run (Khmer included), subsets and embeds the
//! bundled Noto fonts and writes ToUnicode maps, so the text extracts. Everything is drawn in
//! trim-box points with a top-left origin; with bleed the sheet grows by bleed and slug on each
//! side and the drawing is shifted to match.

mod qr;
mod text;

use krilla::color::separation::{self, SeparationColorant, SeparationSpace};
use krilla::color::{cmyk, luma};
use krilla::geom::{Path, PathBuilder, Rect, Transform};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Paint, Stroke};
use krilla::surface::Surface;
use krilla::Document;

use qr::Qr;
use text::{Align, Fonts, Style};

pub const A5_WIDTH_PT: f32 = 419.53;
pub const A5_HEIGHT_PT: f32 = 595.28;

/// A voucher book as the printer gets it; the caller has laid it out and validated it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookDoc {
    pub title: String,
    pub edition: String,
    /// e.g. "December 2026".
    pub period: String,
    /// "monthly" or "special".
    pub kind: String,
    pub cover_note: Option<String>,
    pub bleed: bool,
    pub pages: Vec<PageDoc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageDoc {
    pub number: u32,
    pub placements: Vec<Placed>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// 0..8, row-major: row = slot / 2, column = slot % 2.
    pub slot: u8,
    /// 1 (a cell), 2 (a row; even slot), 4 (two rows; slot 0 or 4) or 8 (the page; slot 0).
    pub size: u8,
    pub content: Content,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Voucher {
        title: String,
        merchant: String,
        terms: String,
        validity: String,
        value: String,
        qr_token: String,
        code: String,
        pin: String,
    },
    Ad {
        headline: String,
        body: String,
    },
    /// No image bytes yet: a framed caption box.
    Image {
        caption: String,
    },
    Sponsored {
        sponsor: String,
        headline: String,
        body: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A placement off the 2 x 4 grid: a bad slot or size, or one overlapping another.
    #[error("invalid layout: {0}")]
    Layout(String),
    /// A voucher's QR payload cannot be encoded (too long for any QR version).
    #[error("voucher {code}: QR code cannot be encoded: {reason}")]
    Qr { code: String, reason: String },
    /// A bundled font cannot be read: a broken build, not bad input.
    #[error("bundled font {0} cannot be read")]
    Font(&'static str),
    #[error("PDF cannot be written: {0}")]
    Pdf(String),
}

const MM: f32 = 72.0 / 25.4;
const MARGIN: f32 = 10.0 * MM;
const GUTTER: f32 = 4.0 * MM;
const BLEED: f32 = 3.0 * MM;
const SLUG: f32 = 6.0 * MM;
const INNER_W: f32 = A5_WIDTH_PT - 2.0 * MARGIN;
const INNER_H: f32 = A5_HEIGHT_PT - 2.0 * MARGIN;
const CELL_W: f32 = (INNER_W - GUTTER) / 2.0;
const CELL_H: f32 = (INNER_H - 3.0 * GUTTER) / 4.0;
/// Inside a cell's frame.
const PAD: f32 = 3.0 * MM;
/// Phones read a voucher's QR reliably from 18 mm; past 40 mm it only takes room from the text.
const QR_MIN: f32 = 18.0 * MM;
const QR_MAX: f32 = 40.0 * MM;

/// Grey levels (one ink, K): 0 is black, 255 paper.
const PAGE_TINT: u8 = 244;
const FRAME: u8 = 120;
const SPONSORED_TINT: u8 = 236;
const IMAGE_TINT: u8 = 226;
const COVER_BAND: u8 = 34;
const FRAME_WIDTH: f32 = 0.6;
const MARK_WIDTH: f32 = 0.25;

/// Renders the book: a cover, then its pages in order.
pub fn render(book: &BookDoc) -> Result<Vec<u8>, RenderError> {
    // Everything that can fail is checked before the first page starts: drawing cannot fail.
    let pages = book.pages.iter().map(plan).collect::<Result<Vec<_>, _>>()?;
    let fonts = Fonts::load()?;
    let sheet = Sheet::new(book.bleed)?;
    let mut document = Document::new();
    document.set_metadata(metadata(book));
    sheet.add(&mut document, |s| cover(s, &fonts, book, sheet.bleed));
    for page in &pages {
        sheet.add(&mut document, |s| {
            content_page(s, &fonts, page, sheet.bleed)
        });
    }
    document
        .finish()
        .map_err(|e| RenderError::Pdf(e.to_string()))
}

/// No dates and no random IDs: krilla derives the file's document ID from this one (the same
/// edition keeps it across re-renders) and its instance ID from a hash of the bytes.
fn metadata(book: &BookDoc) -> Metadata {
    Metadata::new()
        .title(book.title.clone())
        .description(format!("{} · {}", book.edition, book.period))
        .creator("Pasar".to_owned())
        .document_id(format!(
            "pasar/voucher-book/{}/{}/{}/{}",
            book.kind, book.edition, book.period, book.title
        ))
}

/// The sheet every page is printed on: A5, or A5 plus bleed and slug on each side with the
/// trim and bleed boxes set.
struct Sheet {
    settings: PageSettings,
    offset: f32,
    bleed: f32,
}

impl Sheet {
    fn new(bleed: bool) -> Result<Sheet, RenderError> {
        let (offset, bleed) = if bleed {
            (BLEED + SLUG, BLEED)
        } else {
            (0.0, 0.0)
        };
        let invalid = || RenderError::Pdf("invalid page geometry".to_owned());
        let mut settings =
            PageSettings::from_wh(A5_WIDTH_PT + 2.0 * offset, A5_HEIGHT_PT + 2.0 * offset)
                .ok_or_else(invalid)?;
        if offset > 0.0 {
            let trim =
                Rect::from_xywh(offset, offset, A5_WIDTH_PT, A5_HEIGHT_PT).ok_or_else(invalid)?;
            let bleed_box = Rect::from_xywh(
                offset - bleed,
                offset - bleed,
                A5_WIDTH_PT + 2.0 * bleed,
                A5_HEIGHT_PT + 2.0 * bleed,
            )
            .ok_or_else(invalid)?;
            settings = settings
                .with_trim_box(Some(trim))
                .with_bleed_box(Some(bleed_box));
        }
        Ok(Sheet {
            settings,
            offset,
            bleed,
        })
    }

    /// Adds a page drawn by `draw` in trim-box coordinates, with crop marks when bleeding.
    fn add(&self, document: &mut Document, draw: impl FnOnce(&mut Surface<'_>)) {
        let mut page = document.start_page_with(self.settings.clone());
        let mut surface = page.surface();
        surface.push_transform(&Transform::from_translate(self.offset, self.offset));
        draw(&mut surface);
        if self.offset > 0.0 {
            crop_marks(&mut surface);
        }
        surface.pop();
        surface.finish();
        page.finish();
    }
}

/// A rectangle in trim-box points, top-left origin.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Area {
    x: f32,
    y: f32,
    w: f32,
    h: f32,
}

impl Area {
    fn inset(self, by: f32) -> Area {
        Area {
            x: self.x + by,
            y: self.y + by,
            w: (self.w - 2.0 * by).max(0.0),
            h: (self.h - 2.0 * by).max(0.0),
        }
    }

    fn right(self) -> f32 {
        self.x + self.w
    }

    fn bottom(self) -> f32 {
        self.y + self.h
    }
}

/// The area a placement covers and the slots it takes (bit n for slot n), or `None` when that
/// size cannot start at that slot.
fn grid_area(slot: u8, size: u8) -> Option<(Area, u8)> {
    let top = MARGIN + f32::from(slot / 2) * (CELL_H + GUTTER);
    let rows = |h| Area {
        x: MARGIN,
        y: top,
        w: INNER_W,
        h,
    };
    match (size, slot) {
        (1, 0..=7) => {
            let x = MARGIN + f32::from(slot % 2) * (CELL_W + GUTTER);
            let cell = Area {
                x,
                y: top,
                w: CELL_W,
                h: CELL_H,
            };
            Some((cell, 1 << slot))
        }
        (2, 0 | 2 | 4 | 6) => Some((rows(CELL_H), 0b11 << slot)),
        (4, 0 | 4) => Some((rows(2.0 * CELL_H + GUTTER), 0b1111 << slot)),
        (8, 0) => Some((rows(INNER_H), 0xFF)),
        _ => None,
    }
}

struct Cell<'a> {
    area: Area,
    content: &'a Content,
    qr: Option<Qr>,
}

struct Planned<'a> {
    number: u32,
    cells: Vec<Cell<'a>>,
}

/// Places a page's contents on the grid and encodes its QR codes.
fn plan(page: &PageDoc) -> Result<Planned<'_>, RenderError> {
    let mut taken = 0u8;
    let mut cells = Vec::with_capacity(page.placements.len());
    for placed in &page.placements {
        let layout = |why: &str| {
            RenderError::Layout(format!(
                "page {}: size {} at slot {} {why}",
                page.number, placed.size, placed.slot
            ))
        };
        let (area, slots) =
            grid_area(placed.slot, placed.size).ok_or_else(|| layout("is off the grid"))?;
        if taken & slots != 0 {
            return Err(layout("overlaps another placement"));
        }
        taken |= slots;
        let qr = match &placed.content {
            Content::Voucher { qr_token, code, .. } => {
                Some(Qr::encode(qr_token).map_err(|e| RenderError::Qr {
                    code: code.clone(),
                    reason: e.to_string(),
                })?)
            }
            _ => None,
        };
        cells.push(Cell {
            area,
            content: &placed.content,
            qr,
        });
    }
    Ok(Planned {
        number: page.number,
        cells,
    })
}

/// The trim box grown by `bleed`: where backgrounds reach.
fn sheet_area(bleed: f32) -> Area {
    Area {
        x: -bleed,
        y: -bleed,
        w: A5_WIDTH_PT + 2.0 * bleed,
        h: A5_HEIGHT_PT + 2.0 * bleed,
    }
}

fn cover(s: &mut Surface<'_>, fonts: &Fonts, book: &BookDoc, bleed: f32) {
    let x = MARGIN + 6.0 * MM;
    let w = A5_WIDTH_PT - 2.0 * x;
    // Laid out first: a long title makes the band taller.
    let head = |text: &str, style: Style, lines: usize| fonts.layout(text, style, w, lines);
    let blocks = [
        (
            head(
                &book.kind.to_uppercase(),
                Style::new(9.0).bold().gray(190),
                1,
            ),
            6.0 * MM,
        ),
        (
            head(&book.title, Style::new(26.0).bold().gray(255), 3),
            5.0 * MM,
        ),
        (head(&book.edition, Style::new(12.0).gray(215), 2), 3.0 * MM),
        (
            head(&book.period, Style::new(18.0).bold().gray(255), 1),
            0.0,
        ),
    ];
    let top = 24.0 * MM;
    let height: f32 = blocks.iter().map(|(block, gap)| block.height() + gap).sum();
    let band = (A5_HEIGHT_PT * 0.5).max(top + height + 16.0 * MM);
    // The band runs off the top and sides into the bleed.
    fill_area(
        s,
        Area {
            x: -bleed,
            y: -bleed,
            w: A5_WIDTH_PT + 2.0 * bleed,
            h: band + bleed,
        },
        gray(COVER_BAND),
    );
    let mut y = top;
    for (block, gap) in &blocks {
        fonts.draw(s, block, (x, y), w, Align::Center);
        y += block.height() + gap;
    }
    if let Some(note) = &book.cover_note {
        let style = Style::new(10.5).gray(40);
        let top = band + 14.0 * MM;
        let lines = lines_that_fit(A5_HEIGHT_PT - MARGIN - top, text::leading(note, style.size));
        fonts.text(s, note, style, (x, top, w), (lines.min(8), Align::Center));
    }
}

fn content_page(s: &mut Surface<'_>, fonts: &Fonts, page: &Planned<'_>, bleed: f32) {
    fill_area(s, sheet_area(bleed), gray(PAGE_TINT));
    for cell in &page.cells {
        // Two-row and full-page blocks get larger type.
        let k = if cell.area.h > 1.5 * CELL_H { 1.3 } else { 1.0 };
        match (cell.content, &cell.qr) {
            (Content::Voucher { .. }, Some(qr)) => {
                voucher(s, fonts, cell.area, k, cell.content, qr)
            }
            // plan() encodes every voucher's QR code.
            (Content::Voucher { .. }, None) => {}
            (Content::Ad { .. } | Content::Sponsored { .. }, _) => {
                framed(s, fonts, cell.area, k, cell.content);
            }
            (Content::Image { caption }, _) => image(s, fonts, cell.area, k, caption),
        }
    }
    let number = page.number.to_string();
    let style = Style::new(7.0).gray(110);
    let top = A5_HEIGHT_PT - MARGIN / 2.0 - text::leading(&number, style.size) / 2.0;
    fonts.text(
        s,
        &number,
        style,
        (0.0, top, A5_WIDTH_PT),
        (1, Align::Center),
    );
}

/// Text on the left; on the right the QR code with the voucher code under it, and the PIN box
/// under those when there is room. The terms take whatever room the text column has left.
fn voucher(s: &mut Surface<'_>, fonts: &Fonts, area: Area, k: f32, content: &Content, qr: &Qr) {
    let Content::Voucher {
        title,
        merchant,
        terms,
        validity,
        value,
        code,
        pin,
        ..
    } = content
    else {
        return;
    };
    panel(s, area, 255, FRAME);
    let inner = area.inset(PAD);

    let code_style = Style::new(6.5 * k);
    let code_room = 2.0 * text::leading(code, code_style.size) + 1.0;
    let side = (inner.w * 0.45)
        .clamp(QR_MIN, QR_MAX)
        .min(inner.h - code_room)
        .min(inner.w)
        .max(0.0);
    let symbol = Area {
        x: inner.right() - side,
        y: inner.y,
        w: side,
        h: side,
    };
    // The quiet zone must stay paper white whatever is behind the cell.
    fill_area(s, symbol, gray(255));
    if let Some(path) = qr.path(symbol.x, symbol.y, side) {
        fill(s, &path, gray(0));
    }
    // Shrunk to the symbol's width rather than cut; only a very long code wraps.
    let code_style = fonts.shrink_to_fit(code, code_style, side, 4.5 * k);
    let at = (symbol.x, symbol.bottom() + 1.0, side);
    let code_bottom = at.1 + fonts.text(s, code, code_style, at, (2, Align::Center));

    let column = Area {
        w: (inner.w - side - 3.0 * MM).max(0.0),
        ..inner
    };
    // Under the code when the QR column has room (single cells), else at the column's foot.
    let pin_h = 14.0 * k;
    let under_code = inner.bottom() - code_bottom >= pin_h + 2.0;
    let pin_box = if under_code {
        Area {
            y: inner.bottom() - pin_h,
            h: pin_h,
            ..symbol
        }
    } else {
        Area {
            y: column.bottom() - pin_h,
            h: pin_h,
            ..column
        }
    };
    draw_pin(s, fonts, pin, pin_box, k);
    let text_bottom = if under_code {
        column.bottom()
    } else {
        pin_box.y - 2.0
    };

    let at = |y| (column.x, y, column.w);
    let left = |lines| (lines, Align::Left);
    let mut y = column.y;
    y += fonts.text(s, title, Style::new(9.0 * k).bold(), at(y), left(2)) + 1.0;
    y += fonts.text(s, merchant, Style::new(7.0 * k).gray(70), at(y), left(1)) + 2.0;
    y += fonts.text(s, value, Style::new(12.0 * k).bold(), at(y), left(1));
    y += fonts.text(s, validity, Style::new(6.5 * k).gray(60), at(y), left(2)) + 2.0;
    let terms_style = Style::new(5.5 * k).gray(70);
    let lines = lines_that_fit(text_bottom - y, text::leading(terms, terms_style.size));
    fonts.text(s, terms, terms_style, at(y), left(lines.min(3)));
}

/// "PIN" and a framed box holding the PIN: the printer covers the box with a scratch-off label.
fn draw_pin(s: &mut Surface<'_>, fonts: &Fonts, pin: &str, area: Area, k: f32) {
    let label = Style::new(6.0 * k).bold();
    let label_w = fonts.width("PIN", label) + 3.0;
    // Baseline half a cap height below the middle: the label looks centred on the box.
    fonts.draw_line(
        s,
        "PIN",
        label,
        area.x,
        area.y + area.h / 2.0 + label.size * 0.36,
    );
    let boxed = Area {
        x: area.x + label_w,
        w: (area.w - label_w).min(32.0 * MM * k).max(0.0),
        ..area
    };
    panel(s, boxed, 255, 0);
    // Shrunk rather than cut: a PIN must print whole.
    let digits = fonts.shrink_to_fit(pin, Style::new(9.0 * k).bold(), boxed.w - 4.0, 4.5);
    let top = boxed.y + (boxed.h - text::leading(pin, digits.size)) / 2.0;
    fonts.text(s, pin, digits, (boxed.x, top, boxed.w), (1, Align::Center));
}

/// An ad, or a sponsored block (tinted, under a "SPONSORED" line naming the sponsor).
fn framed(s: &mut Surface<'_>, fonts: &Fonts, area: Area, k: f32, content: &Content) {
    let (sponsor, headline, body) = match content {
        Content::Ad { headline, body } => (None, headline, body),
        Content::Sponsored {
            sponsor,
            headline,
            body,
        } => (Some(sponsor), headline, body),
        _ => return,
    };
    let tint = if sponsor.is_some() {
        SPONSORED_TINT
    } else {
        255
    };
    panel(s, area, tint, FRAME);
    let inner = area.inset(4.0 * MM);
    let at = |y| (inner.x, y, inner.w);
    let left = |lines| (lines, Align::Left);
    let mut y = inner.y;
    if let Some(sponsor) = sponsor {
        let label = Style::new(5.5 * k).bold().gray(100);
        y += fonts.text(s, "SPONSORED", label, at(y), left(1));
        let name = Style::new(7.0 * k).bold().gray(60);
        y += fonts.text(s, sponsor, name, at(y), left(1)) + 2.0;
    }
    let head = Style::new(11.0 * k).bold();
    let lines = lines_that_fit(inner.bottom() - y, text::leading(headline, head.size));
    y += fonts.text(s, headline, head, at(y), left(lines.min(3))) + 2.0;
    let body_style = Style::new(7.5 * k).gray(30);
    let lines = lines_that_fit(inner.bottom() - y, text::leading(body, body_style.size));
    fonts.text(s, body, body_style, at(y), left(lines));
}

/// A placeholder until placements carry image bytes: a tinted frame crossed corner to corner,
/// with the caption on a white strip across the middle.
fn image(s: &mut Surface<'_>, fonts: &Fonts, area: Area, k: f32, caption: &str) {
    panel(s, area, IMAGE_TINT, FRAME);
    let inner = area.inset(2.0 * MM);
    line(
        s,
        (inner.x, inner.y),
        (inner.right(), inner.bottom()),
        200,
        FRAME_WIDTH,
    );
    line(
        s,
        (inner.x, inner.bottom()),
        (inner.right(), inner.y),
        200,
        FRAME_WIDTH,
    );
    let width = inner.w - 8.0 * MM;
    let block = fonts.layout(caption, Style::new(8.0 * k).gray(20), width, 3);
    if block.height() > 0.0 {
        let strip = Area {
            y: inner.y + (inner.h - block.height()) / 2.0 - 2.0 * MM,
            h: block.height() + 4.0 * MM,
            ..inner
        };
        fill_area(s, strip, gray(255));
        let at = (inner.x + 4.0 * MM, strip.y + 2.0 * MM);
        fonts.draw(s, &block, at, width, Align::Center);
    }
}

/// Thin registration-colour lines on the trim lines' extensions, in the slug only: from just
/// outside the bleed to just inside the sheet's edge, so the trim never shows one.
fn crop_marks(s: &mut Surface<'_>) {
    let (near, far) = (BLEED + 0.5 * MM, BLEED + SLUG - 0.5 * MM);
    for (x, dx) in [(0.0, -1.0), (A5_WIDTH_PT, 1.0)] {
        for (y, dy) in [(0.0, -1.0), (A5_HEIGHT_PT, 1.0)] {
            for (from, to) in [
                ((x + dx * near, y), (x + dx * far, y)),
                ((x, y + dy * near), (x, y + dy * far)),
            ] {
                if let Some(path) = segment(from, to) {
                    stroke(s, &path, registration(), MARK_WIDTH);
                }
            }
        }
    }
}

fn lines_that_fit(room: f32, leading: f32) -> usize {
    if leading > 0.0 && room > 0.0 {
        (room / leading).floor() as usize
    } else {
        0
    }
}

fn gray(level: u8) -> Paint {
    luma::Color::new(level).into()
}

/// All separations at full tint, so crop marks show on every plate.
fn registration() -> Paint {
    let space = SeparationSpace::new(
        SeparationColorant::AllColorants,
        cmyk::Color::new(255, 255, 255, 255).into(),
    );
    krilla::color::Color::from(separation::Color::new(255, space)).into()
}

fn fill(s: &mut Surface<'_>, path: &Path, paint: Paint) {
    s.set_stroke(None);
    s.set_fill(Some(Fill {
        paint,
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }));
    s.draw_path(path);
}

fn stroke(s: &mut Surface<'_>, path: &Path, paint: Paint, width: f32) {
    s.set_fill(None);
    s.set_stroke(Some(Stroke {
        paint,
        width,
        ..Stroke::default()
    }));
    s.draw_path(path);
    // Text drawn next must not be outlined.
    s.set_stroke(None);
}

fn rect_path(area: Area) -> Option<Path> {
    let rect = Rect::from_xywh(area.x, area.y, area.w, area.h)?;
    let mut builder = PathBuilder::new();
    builder.push_rect(rect);
    builder.finish()
}

fn segment(from: (f32, f32), to: (f32, f32)) -> Option<Path> {
    let mut builder = PathBuilder::new();
    builder.move_to(from.0, from.1);
    builder.line_to(to.0, to.1);
    builder.finish()
}

fn fill_area(s: &mut Surface<'_>, area: Area, paint: Paint) {
    if let Some(path) = rect_path(area) {
        fill(s, &path, paint);
    }
}

/// A box filled with one grey and framed with another.
fn panel(s: &mut Surface<'_>, area: Area, fill_gray: u8, frame_gray: u8) {
    if let Some(path) = rect_path(area) {
        fill(s, &path, gray(fill_gray));
        stroke(s, &path, gray(frame_gray), FRAME_WIDTH);
    }
}

fn line(s: &mut Surface<'_>, from: (f32, f32), to: (f32, f32), level: u8, width: f32) {
    if let Some(path) = segment(from, to) {
        stroke(s, &path, gray(level), width);
    }
}

#[cfg(test)]
mod tests;
