//! One rule for text that comes in, checked before any handler or database sees it: no control
//! characters but tab, line feed and carriage return. NUL cannot be stored in a PostgreSQL text
//! column at all (SQLite takes it), and the others make no sense in a name, an address, a code
//! or a query; a request carrying one is refused with a problem naming where it was.
//!
//! JSON bodies are checked by [`super::ApiJson`], forms by [`form_field_with_control`], and the
//! path and query string of every request by [`reject_control_in_uri`] in the edge stack.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kernel::ApiError;
use serde_json::Value;

pub const MESSAGE: &str = "must not contain control characters";

/// Control characters other than tab, line feed and carriage return.
pub fn is_forbidden(c: char) -> bool {
    (c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}'
}

pub fn has_forbidden(text: &str) -> bool {
    text.chars().any(is_forbidden)
}

/// Whether a JSON document may hold a forbidden character: inside JSON strings they can only
/// be written as escapes (`\u0000`–`\u001f`, `\u007f`, `\b`, `\f`), so a document without
/// such an escape needs no closer look. False positives (an escaped backslash before `u00`) are
/// settled by [`json_path_with_control`].
pub fn json_may_hold_control(bytes: &[u8]) -> bool {
    bytes.windows(2).enumerate().any(|(at, pair)| match pair {
        [b'\\', b'b' | b'f'] => true,
        [b'\\', b'u'] => {
            let hex = &bytes[at + 2..bytes.len().min(at + 6)];
            hex.len() == 4
                && hex[0] == b'0'
                && hex[1] == b'0'
                && (matches!(hex[2], b'0' | b'1') || hex[2..].eq_ignore_ascii_case(b"7f"))
        }
        _ => false,
    })
}

/// The path (`name.en`, `variants[0].sku`) of the first key or string value of `value` holding
/// a forbidden character.
pub fn json_path_with_control(value: &Value) -> Option<String> {
    fn walk(value: &Value, path: &mut String) -> Option<String> {
        match value {
            Value::String(text) if has_forbidden(text) => Some(path.clone()),
            Value::Array(items) => items.iter().enumerate().find_map(|(index, item)| {
                let len = path.len();
                path.push_str(&format!("[{index}]"));
                let found = walk(item, path);
                path.truncate(len);
                found
            }),
            Value::Object(map) => map.iter().find_map(|(key, item)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.extend(key.chars().filter(|c| !is_forbidden(*c)));
                let found = if has_forbidden(key) {
                    Some(path.clone())
                } else {
                    walk(item, path)
                };
                path.truncate(len);
                found
            }),
            _ => None,
        }
    }
    walk(value, &mut String::new())
}

/// The name of the first field of a form (`application/x-www-form-urlencoded`) whose name or
/// value holds a forbidden character.
pub fn form_field_with_control(form: &[u8]) -> Option<String> {
    form_urlencoded_pairs(form)
        .find(|(key, value)| has_forbidden(key) || has_forbidden(value))
        .map(|(key, _)| key.chars().filter(|c| !is_forbidden(*c)).collect())
}

fn form_urlencoded_pairs(form: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    // serde_urlencoded decodes percent escapes and `+` as form encoding does.
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(form)
        .unwrap_or_default()
        .into_iter()
}

/// Whether a percent-encoded text (a path or query string) encodes a forbidden byte. Raw
/// control characters cannot be in a URI at all: the HTTP server refuses them.
fn encodes_control(raw: &str) -> bool {
    raw.as_bytes().windows(3).any(|w| {
        w[0] == b'%'
            && ((matches!(w[1], b'0' | b'1') && w[2].is_ascii_hexdigit())
                || (w[1] == b'7' && matches!(w[2], b'f' | b'F')))
    })
}

/// Edge middleware: a path or query string carrying a control character is refused before
/// routing (400 for the path; 422 naming the parameter for the query).
pub async fn reject_control_in_uri(request: Request, next: Next) -> Response {
    let uri = request.uri();
    if encodes_control(uri.path()) {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_path",
            "The path contains control characters",
        )
        .into_response();
    }
    if let Some(query) = uri.query().filter(|q| encodes_control(q)) {
        let field = form_field_with_control(query.as_bytes()).unwrap_or_default();
        return ApiError::validation_one(&field, MESSAGE).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_tab_newline_and_return_are_allowed_controls() {
        assert!(is_forbidden('\0'));
        assert!(is_forbidden('\u{1b}'));
        assert!(is_forbidden('\u{7f}'));
        assert!(!is_forbidden('\n') && !is_forbidden('\t') && !is_forbidden('\r'));
        assert!(!has_forbidden("Kopi Susu ☕ ក"));
    }

    #[test]
    fn json_prefilter_sees_every_escape_of_a_control() {
        for doc in [
            r#"{"a":"x\u0000y"}"#,
            r#"{"a":"\u001B"}"#,
            r#"{"a":"\u007f"}"#,
            r#"{"a":"\b"}"#,
            r#"{"a":"\f"}"#,
        ] {
            assert!(json_may_hold_control(doc.as_bytes()), "{doc}");
        }
        for doc in [
            r#"{"a":"line\nnext\ttab"}"#,
            r#"{"a":"\u00e9"}"#,
            r#"{"a":"\u0020"}"#,
        ] {
            assert!(!json_may_hold_control(doc.as_bytes()), "{doc}");
        }
    }

    #[test]
    fn the_path_of_the_bad_string_is_named() {
        let doc = json!({"name": {"en": "ok", "km": "x\u{0}y"}});
        assert_eq!(json_path_with_control(&doc).as_deref(), Some("name.km"));
        let doc = json!({"variants": [{"sku": "A"}, {"sku": "B\u{7}"}]});
        assert_eq!(
            json_path_with_control(&doc).as_deref(),
            Some("variants[1].sku")
        );
        let doc = json!({"attributes": {"co\u{0}lor": "red"}});
        assert_eq!(
            json_path_with_control(&doc).as_deref(),
            Some("attributes.color")
        );
        assert_eq!(json_path_with_control(&json!({"a": "fine\n"})), None);
    }

    #[test]
    fn forms_and_uris_are_checked_after_decoding() {
        assert_eq!(
            form_field_with_control(b"grant_type=client_credentials&client_id=%00").as_deref(),
            Some("client_id")
        );
        assert_eq!(form_field_with_control(b"a=b+c&d=%C3%A9"), None);
        assert!(encodes_control("/api/v1/inventory/x%00y"));
        assert!(encodes_control("category=x%1fy"));
        assert!(encodes_control("q=%7F"));
        assert!(!encodes_control("q=%20%C3%A9&r=%2F"));
    }
}
