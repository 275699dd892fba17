//! What a file is, from its first bytes (magic numbers); names and declared content types are
//! never trusted.

use crate::api::MediaFormat;

pub fn format_of(bytes: &[u8]) -> Option<MediaFormat> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(MediaFormat::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(MediaFormat::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(MediaFormat::Webp)
    } else if bytes.starts_with(b"%PDF-") {
        Some(MediaFormat::Pdf)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_by_content() {
        assert_eq!(
            format_of(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(MediaFormat::Jpeg)
        );
        assert_eq!(format_of(b"\x89PNG\r\n\x1a\n...."), Some(MediaFormat::Png));
        assert_eq!(format_of(b"RIFF\0\0\0\0WEBPVP8 "), Some(MediaFormat::Webp));
        assert_eq!(format_of(b"%PDF-1.7"), Some(MediaFormat::Pdf));
        assert_eq!(format_of(b"PK\x03\x04"), None);
        assert_eq!(format_of(b"<svg"), None);
        assert_eq!(format_of(b"GIF89a"), None);
    }
}
