//! The printed shipping label: one A6 page (105 × 148 mm) with the courier and service, the
//! tracking number as a Code 128 barcode and as a QR code (both drawn as vector rectangles, so
//! they print sharp at any resolution), recipient and sender, order number and weight. Text is
//! real PDF text in the standard Helvetica font (Latin-1; other characters print as `?`).

use barcoders::sym::code128::Code128;
use kernel::Timestamp;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use qrcode::{Color, EcLevel, QrCode};

use crate::api::{Shipment, ShipmentSender, ShippingAddress};
use crate::config::LabelConfig;

/// A6 in PostScript points (1 mm = 72 / 25.4 pt).
pub const WIDTH: f32 = 105.0 * 72.0 / 25.4;
pub const HEIGHT: f32 = 148.0 * 72.0 / 25.4;
const MARGIN: f32 = 14.0;
/// Bars no wider than this (pt) per module; narrower when the number is long.
const MAX_MODULE: f32 = 1.4;
const BARCODE_HEIGHT: f32 = 58.0;
/// Code 128 needs ten modules of white on each side.
const QUIET_MODULES: usize = 10;
const QR_SIZE: f32 = 92.0;
/// QR codes need four modules of white around them.
const QR_QUIET: usize = 4;

const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// Text the standard PDF fonts can show: Latin-1, anything else as `?`.
fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| {
            u8::try_from(u32::from(c))
                .ok()
                .filter(|b| *b >= 0x20 && *b != 0x7f)
                .unwrap_or(b'?')
        })
        .collect()
}

/// Splits `text` into lines of at most `width` characters, at spaces where it can.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: String = word.to_owned();
        while word.chars().count() > width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
        }
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// `text` cut to `width` characters (with `...`), for fields that must stay on one line.
fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(3)).collect();
    cut.push_str("...");
    cut
}

fn grams(weight: i64) -> String {
    format!("{}.{:02} kg", weight / 1_000, (weight % 1_000) / 10)
}

fn place(city: &str, province: Option<&str>, postal_code: Option<&str>, country: &str) -> String {
    let mut parts = vec![city.trim().to_owned()];
    parts.extend(
        province
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned),
    );
    let mut line = parts.join(", ");
    if let Some(code) = postal_code.map(str::trim).filter(|c| !c.is_empty()) {
        line.push(' ');
        line.push_str(code);
    }
    if !country.trim().is_empty() {
        line.push_str(&format!(" ({})", country.trim()));
    }
    line
}

/// Writes text line by line downwards from `y`.
struct Writer {
    content: Content,
    y: f32,
}

impl Writer {
    fn text_at(&mut self, x: f32, y: f32, font: Name<'_>, size: f32, value: &str) {
        self.content.begin_text();
        self.content.set_font(font, size);
        self.content.next_line(x, y);
        self.content.show(Str(&latin1(value)));
        self.content.end_text();
    }

    fn line(&mut self, font: Name<'_>, size: f32, value: &str) {
        self.y -= size + 2.5;
        let y = self.y;
        self.text_at(MARGIN, y, font, size, value);
    }

    fn rule(&mut self) {
        self.y -= 6.0;
        self.content.set_line_width(0.8);
        self.content.move_to(MARGIN, self.y);
        self.content.line_to(WIDTH - MARGIN, self.y);
        self.content.stroke();
    }

    /// Black rectangles for each run of dark modules.
    fn runs(&mut self, modules: &[bool], x: f32, y: f32, module: f32, height: f32) {
        let mut i = 0;
        while i < modules.len() {
            if !modules[i] {
                i += 1;
                continue;
            }
            let start = i;
            while i < modules.len() && modules[i] {
                i += 1;
            }
            self.content.rect(
                x + start as f32 * module,
                y,
                (i - start) as f32 * module,
                height,
            );
        }
    }
}

/// The Code 128 (character set B) modules of the tracking number; None when it holds a
/// character set B cannot encode (the number is then printed as text only).
fn barcode(tracking: &str) -> Option<Vec<bool>> {
    if !tracking.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return None;
    }
    let code = Code128::new(format!("\u{0181}{tracking}")).ok()?;
    Some(code.encode().into_iter().map(|m| m == 1).collect())
}

fn qr(tracking: &str) -> Option<(usize, Vec<bool>)> {
    // Medium error correction: survives a crumpled or smudged label, keeps the code small.
    let code = QrCode::with_error_correction_level(tracking.as_bytes(), EcLevel::M).ok()?;
    let width = code.width();
    Some((
        width,
        code.to_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect(),
    ))
}

fn recipient_lines(to: Option<&ShippingAddress>, show_phone: bool) -> Vec<(bool, String)> {
    let Some(to) = to else {
        return vec![(
            false,
            "No address on the order: see the order in Pasar".into(),
        )];
    };
    let mut lines = vec![(true, clip(&to.recipient, 38))];
    if show_phone && !to.phone.trim().is_empty() {
        lines.push((false, clip(&to.phone, 46)));
    }
    // At most three lines of street: the blocks below keep their place on the page.
    lines.extend(wrap(&to.street, 46).into_iter().take(3).map(|l| (false, l)));
    let at = place(
        &to.city,
        to.province.as_deref(),
        to.postal_code.as_deref(),
        &to.country,
    );
    lines.push((false, clip(&at, 46)));
    lines
}

fn sender_lines(from: &ShipmentSender) -> Vec<String> {
    let mut lines = vec![clip(&from.name, 56)];
    if let Some(phone) = from.phone.as_deref().filter(|p| !p.trim().is_empty()) {
        lines.push(clip(phone, 56));
    }
    lines.extend(wrap(&from.street, 56).into_iter().take(2));
    let at = place(
        &from.city,
        from.province.as_deref(),
        from.postal_code.as_deref(),
        &from.country,
    );
    lines.push(clip(&at, 56));
    lines
}

/// The label of `shipment` as PDF bytes.
pub fn render(shipment: &Shipment, config: &LabelConfig) -> Vec<u8> {
    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let page_id = Ref::new(3);
    let regular_id = Ref::new(4);
    let bold_id = Ref::new(5);
    let content_id = Ref::new(6);
    let info_id = Ref::new(7);

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id).kids([page_id]).count(1);
    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
    page.parent(tree_id);
    page.contents(content_id);
    let mut resources = page.resources();
    let mut fonts = resources.fonts();
    fonts.pair(REGULAR, regular_id);
    fonts.pair(BOLD, bold_id);
    fonts.finish();
    resources.finish();
    page.finish();
    pdf.type1_font(regular_id)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold_id)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    let title = format!("Shipping label {}", shipment.tracking_number);
    pdf.document_info(info_id)
        .title(TextStr(&title))
        .producer(TextStr("Pasar"));

    let mut w = Writer {
        content: Content::new(),
        y: HEIGHT - MARGIN,
    };
    w.content.set_fill_gray(0.0);

    // Header: brand and courier, the service, the order.
    w.y -= 14.0;
    let y = w.y;
    w.text_at(MARGIN, y, BOLD, 14.0, &clip(&config.brand, 16));
    w.text_at(
        WIDTH / 2.0 - 10.0,
        y,
        BOLD,
        11.0,
        &clip(&shipment.courier_name, 22),
    );
    w.y -= 12.0;
    let y = w.y;
    w.text_at(
        WIDTH / 2.0 - 10.0,
        y,
        REGULAR,
        9.0,
        &clip(&shipment.service_name, 28),
    );
    // The order number has a line of its own: they run to 25 characters and more.
    let order = format!("Order {}", shipment.order_number);
    w.line(BOLD, 10.0, &clip(&order, 46));
    w.rule();

    // The tracking number: bars, then the number in text.
    let tracking = shipment.tracking_number.as_str();
    w.y -= 6.0 + BARCODE_HEIGHT;
    if let Some(modules) = barcode(tracking) {
        let module =
            ((WIDTH - 2.0 * MARGIN) / (modules.len() + 2 * QUIET_MODULES) as f32).min(MAX_MODULE);
        let x = (WIDTH - modules.len() as f32 * module) / 2.0;
        let y = w.y;
        w.runs(&modules, x, y, module, BARCODE_HEIGHT);
        w.content.fill_nonzero();
    }
    w.y -= 16.0;
    let y = w.y;
    // Helvetica-Bold digits are about 0.56 em wide: centred closely enough.
    let text_width = tracking.chars().count() as f32 * 13.0 * 0.6;
    w.text_at(
        ((WIDTH - text_width) / 2.0).max(MARGIN),
        y,
        BOLD,
        13.0,
        tracking,
    );
    w.rule();

    // Recipient.
    w.line(BOLD, 8.0, "TO");
    for (strong, text) in recipient_lines(shipment.recipient.as_ref(), config.recipient_phone) {
        if strong {
            w.line(BOLD, 12.0, &text);
        } else {
            w.line(REGULAR, 10.0, &text);
        }
    }
    w.rule();

    // Sender.
    w.line(BOLD, 8.0, "FROM");
    for text in sender_lines(&shipment.sender) {
        w.line(REGULAR, 8.0, &text);
    }

    // Footer: facts on the left, the QR code of the tracking number on the right.
    let weight = shipment
        .chargeable_weight_grams
        .filter(|c| *c > shipment.weight_grams)
        .map_or_else(
            || grams(shipment.weight_grams),
            |c| format!("{} (charged {})", grams(shipment.weight_grams), grams(c)),
        );
    let facts = [
        format!("Weight: {weight}"),
        format!("Service: {}", shipment.service.as_str()),
        format!("Courier: {}", shipment.courier_code),
        format!(
            "Printed: {}",
            Timestamp::now().to_datetime().format("%Y-%m-%d")
        ),
    ];
    let mut y = MARGIN + 4.0 + 12.0 * facts.len() as f32;
    for fact in &facts {
        y -= 12.0;
        w.text_at(MARGIN, y, REGULAR, 8.5, fact);
    }
    if let Some((width, modules)) = qr(tracking) {
        let side = width + 2 * QR_QUIET;
        let module = QR_SIZE / side as f32;
        let x = WIDTH - MARGIN - QR_SIZE + QR_QUIET as f32 * module;
        for (row, cells) in modules.chunks(width).enumerate() {
            // Rows go down from the top of the code; PDF's y goes up.
            let y = MARGIN + QR_SIZE - (QR_QUIET + row + 1) as f32 * module;
            w.runs(cells, x, y, module, module);
        }
        w.content.fill_nonzero();
    }

    pdf.stream(content_id, &w.content.finish());
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_wraps_at_words_and_cuts_long_ones() {
        assert_eq!(
            wrap("Jl. Sudirman No. 1 Kav 52", 10),
            ["Jl.", "Sudirman", "No. 1 Kav", "52"]
        );
        assert_eq!(wrap("abcdefghijklmnop", 6), ["abcdef", "ghijkl", "mnop"]);
        assert!(wrap("   ", 6).is_empty());
        assert_eq!(clip("Vireak Buntham Express", 10), "Vireak ...");
        assert_eq!(clip("JNE", 10), "JNE");
        assert_eq!(latin1("Kopi ☕ é\u{7f}"), b"Kopi ? \xe9?".to_vec());
        assert_eq!(grams(1_250), "1.25 kg");
        assert_eq!(
            place("Bandung", Some("Jawa Barat"), Some("40111"), "ID"),
            "Bandung, Jawa Barat 40111 (ID)"
        );
    }

    fn shipment(recipient: Option<ShippingAddress>, tracking: &str) -> Shipment {
        let at = Timestamp::from_millis(1_700_000_000_000);
        Shipment {
            id: uuid::Uuid::nil(),
            order_id: uuid::Uuid::nil(),
            order_number: "PSR-20261204-50JH7TYS-1".into(),
            merchant_id: uuid::Uuid::nil(),
            customer_id: uuid::Uuid::nil(),
            courier_code: "VET".into(),
            courier_name: "Vireak Buntham Express".into(),
            service: crate::api::ServiceLevel::Regular,
            service_name: "VET Standard".into(),
            tracking_number: tracking.into(),
            status: crate::api::ShipmentStatus::LabelCreated,
            status_at: at,
            weight_grams: 500,
            chargeable_weight_grams: Some(4_000),
            shipping_amount: Some(200),
            currency: Some(kernel::Currency::Usd),
            sender: ShipmentSender {
                name: "Kopi Pagi, a coffee roaster with a very long registered business name"
                    .into(),
                phone: Some("+85512345678".into()),
                street: "St. 51, No. 12".into(),
                city: "Phnom Penh".into(),
                province: None,
                postal_code: Some("12000".into()),
                country: "KH".into(),
            },
            recipient,
            created_at: at,
            updated_at: at,
            delivered_at: None,
        }
    }

    #[test]
    fn any_shipment_renders_one_page() {
        let to = ShippingAddress {
            recipient: "សុខា Sokha".into(),
            phone: "+85598765432".into(),
            street: "No. 5, St. 310, Sangkat Boeng Keng Kang 1, Khan Boeng Keng Kang, near the \
                     market, behind the pagoda, third floor, the door on the left"
                .into(),
            city: "Phnom Penh".into(),
            province: Some("Phnom Penh".into()),
            postal_code: Some("12302".into()),
            country: "KH".into(),
            latitude: None,
            longitude: None,
        };
        for (recipient, tracking) in [(Some(to), "VET00000000777"), (None, "VET-é-1")] {
            let pdf = render(&shipment(recipient, tracking), &LabelConfig::default());
            assert!(pdf.starts_with(b"%PDF-"));
            let text = String::from_utf8_lossy(&pdf);
            let pages = text.matches("/Type /Page").count() - text.matches("/Type /Pages").count();
            assert_eq!(pages, 1);
            assert!(text.contains("/MediaBox [0 0 297.6378 419.52756]"), "A6");
        }
    }

    #[test]
    fn barcodes_of_printable_ascii_only() {
        let modules = barcode("SIM00123456785").expect("ascii encodes");
        // Start, 14 characters, checksum (11 modules each), stop and its bar (13).
        assert_eq!(modules.len(), 11 * 16 + 13);
        assert!(modules[0] && *modules.last().unwrap());
        assert!(barcode("JNE-é").is_none());
        let (width, cells) = qr("SIM00123456785").expect("qr");
        assert_eq!(cells.len(), width * width);
    }
}
