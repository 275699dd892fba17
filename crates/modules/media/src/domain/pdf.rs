//! A cheap screen of uploaded PDFs. Documents are private and always served as attachments
//! under a sandboxing CSP, so the screen refuses the obvious active content (names in the
//! file's uncompressed structure); it is not a PDF parser.

use super::Refusal;

/// Names whose presence means active content: scripts, launching programs, embedded files.
const ACTIVE: [&[u8]; 5] = [
    b"/JavaScript",
    b"/JS",
    b"/Launch",
    b"/EmbeddedFile",
    b"/RichMedia",
];

pub fn screen(bytes: &[u8]) -> Result<(), Refusal> {
    let bytes = &decode_name_escapes(bytes);
    let tail = &bytes[bytes.len().saturating_sub(2048)..];
    if !contains(tail, b"%%EOF") {
        return Err(Refusal::Undecodable(
            "the PDF is truncated (no end-of-file marker)".into(),
        ));
    }
    for name in ACTIVE {
        if contains_name(bytes, name) {
            return Err(Refusal::Undecodable(format!(
                "the PDF carries active content ({})",
                String::from_utf8_lossy(name)
            )));
        }
    }
    Ok(())
}

/// `#xx` in a name is the byte xx (`/J#61vaScript` is `/JavaScript`): decoded everywhere before
/// matching, which only ever makes the screen stricter.
fn decode_name_escapes(bytes: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'#' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(high << 4 | low);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A PDF name ends at a delimiter or whitespace: `/JS` must not match `/JSON`.
fn contains_name(haystack: &[u8], name: &[u8]) -> bool {
    haystack.windows(name.len()).enumerate().any(|(at, w)| {
        w == name
            && haystack
                .get(at + name.len())
                .is_none_or(|next| !next.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_scripts_and_truncation() {
        assert!(screen(b"%PDF-1.4\n<< /Type /Catalog >>\n%%EOF").is_ok());
        assert!(screen(
            b"%PDF-1.4\n<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>\n%%EOF"
        )
        .is_err());
        assert!(screen(b"%PDF-1.4\n<< /Type /Catalog >>").is_err());
        assert!(screen(b"%PDF-1.4\n<< /JSON 1 >>\n%%EOF").is_ok());
        assert!(screen(b"%PDF-1.4\n<< /S /J#61vaScript /#4A#53 (x) >>\n%%EOF").is_err());
    }
}
