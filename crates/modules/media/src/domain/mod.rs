//! media's pure rules: what a purpose accepts and where it may be attached (here), what the
//! bytes are (`sniff`), how images are checked, cleaned and thumbnailed (`images`), and the
//! screening of PDFs (`pdf`). No I/O.

pub mod images;
pub mod pdf;
pub mod sniff;

use crate::api::{MediaFormat, MediaPurpose, MediaSlot, MediaSubject};

/// Limits an upload is checked against (from the configuration).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_pixels: u64,
    pub max_side: u32,
    pub jpeg_quality: u8,
}

/// Why an upload is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {0} bytes")]
    TooLarge(usize),
    #[error("{0}")]
    Unsupported(String),
    #[error("the image is {width}x{height}: more than the {max_pixels} pixels or {max_side}-pixel side allowed")]
    ImageTooLarge {
        width: u32,
        height: u32,
        max_pixels: u64,
        max_side: u32,
    },
    #[error("{0}")]
    Undecodable(String),
}

/// An upload as it will be stored: cleaned bytes and what they are.
#[derive(Debug, Clone)]
pub struct Processed {
    pub format: MediaFormat,
    pub bytes: Vec<u8>,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// Checks an upload for a purpose by its content and returns what to store: images decoded
/// and re-encoded without their metadata (EXIF, GPS, comments), PDFs screened and kept as sent.
pub fn process(purpose: MediaPurpose, bytes: &[u8], limits: &Limits) -> Result<Processed, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(Refusal::TooLarge(limits.max_bytes));
    }
    let format = sniff::format_of(bytes).ok_or_else(|| {
        Refusal::Unsupported(
            "not a JPEG, PNG, WebP or PDF file (recognised by its content, not its name)".into(),
        )
    })?;
    if format == MediaFormat::Pdf {
        if !purpose.accepts_pdf() {
            return Err(Refusal::Unsupported(format!(
                "a {} takes a JPEG, PNG or WebP image, and this is a PDF",
                purpose.as_str()
            )));
        }
        pdf::screen(bytes)?;
        return Ok(Processed {
            format,
            bytes: bytes.to_vec(),
            width: None,
            height: None,
        });
    }
    let image = images::clean(format, bytes, limits)?;
    Ok(Processed {
        format,
        width: Some(image.width),
        height: Some(image.height),
        bytes: image.bytes,
    })
}

/// The purposes a slot takes, and whether it holds several items.
pub fn slot_accepts(subject: MediaSubject, slot: MediaSlot, purpose: MediaPurpose) -> bool {
    matches!(
        (subject, slot, purpose),
        (
            MediaSubject::Product,
            MediaSlot::Gallery,
            MediaPurpose::ProductImage
        ) | (
            MediaSubject::Merchant,
            MediaSlot::Logo,
            MediaPurpose::MerchantLogo
        ) | (
            MediaSubject::Merchant,
            MediaSlot::Banner,
            MediaPurpose::MerchantBanner
        ) | (
            MediaSubject::Merchant,
            MediaSlot::Documents,
            MediaPurpose::MerchantDocument
        ) | (MediaSubject::User, MediaSlot::Avatar, MediaPurpose::Avatar)
            | (
                MediaSubject::Review,
                MediaSlot::Photos,
                MediaPurpose::ReviewPhoto
            )
    )
}

/// Galleries, documents and photos hold several items; the other slots one (attaching
/// replaces it).
pub fn holds_many(slot: MediaSlot) -> bool {
    matches!(
        slot,
        MediaSlot::Gallery | MediaSlot::Documents | MediaSlot::Photos
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            max_bytes: 1024 * 1024,
            max_pixels: 4_000_000,
            max_side: 4000,
            jpeg_quality: 85,
        }
    }

    #[test]
    fn pdf_only_where_documents_go() {
        let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
        assert!(process(MediaPurpose::MerchantDocument, pdf, &limits()).is_ok());
        assert!(matches!(
            process(MediaPurpose::ProductImage, pdf, &limits()),
            Err(Refusal::Unsupported(_))
        ));
    }

    #[test]
    fn unknown_content_and_size_are_refused() {
        let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>";
        assert!(matches!(
            process(MediaPurpose::Avatar, svg, &limits()),
            Err(Refusal::Unsupported(_))
        ));
        assert_eq!(
            process(MediaPurpose::Avatar, b"", &limits()).err(),
            Some(Refusal::Empty)
        );
        let big = vec![0u8; 1024 * 1024 + 1];
        assert_eq!(
            process(MediaPurpose::Avatar, &big, &limits()).err(),
            Some(Refusal::TooLarge(1024 * 1024))
        );
    }

    #[test]
    fn slots_take_their_purposes() {
        assert!(slot_accepts(
            MediaSubject::Merchant,
            MediaSlot::Logo,
            MediaPurpose::MerchantLogo
        ));
        assert!(!slot_accepts(
            MediaSubject::Merchant,
            MediaSlot::Logo,
            MediaPurpose::ProductImage
        ));
        assert!(!slot_accepts(
            MediaSubject::Product,
            MediaSlot::Gallery,
            MediaPurpose::MerchantDocument
        ));
    }
}
