use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

/// `?limit=&cursor=` of every list endpoint.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 100 (default 20).
    pub limit: Option<u32>,
    /// Opaque cursor from a previous page's `nextCursor`.
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT)
    }

    pub fn cursor(&self) -> Result<Option<Cursor>, ApiError> {
        self.cursor.as_deref().map(Cursor::decode).transpose()
    }

    /// The cursor of a list keyed by id (UUIDv7 ids sort by creation).
    pub fn id_cursor(&self) -> Result<Option<uuid::Uuid>, ApiError> {
        self.cursor()?
            .map(|Cursor(key)| uuid::Uuid::parse_str(&key))
            .transpose()
            .map_err(|_| ApiError::validation_one("cursor", "is not a valid cursor"))
    }
}

/// An opaque position in a list: the sort key of the last item seen, base64url encoded so
/// clients do not build it themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub String);

impl Cursor {
    pub fn encode(key: &str) -> String {
        URL_SAFE_NO_PAD.encode(key.as_bytes())
    }

    /// The key of a list sorted by a number, then id (a rating, a time): `number:id`.
    pub fn keyed(number: i64, id: uuid::Uuid) -> String {
        format!("{number}:{id}")
    }

    /// The number and id of a key written by [`Cursor::keyed`].
    pub fn keyed_parts(&self) -> Option<(i64, uuid::Uuid)> {
        let (number, id) = self.0.split_once(':')?;
        Some((number.parse().ok()?, uuid::Uuid::parse_str(id).ok()?))
    }

    pub fn decode(raw: &str) -> Result<Self, ApiError> {
        URL_SAFE_NO_PAD
            .decode(raw.as_bytes())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            // A cursor is a sort key this server wrote: never control characters.
            .filter(|key| !key.chars().any(char::is_control))
            .map(Cursor)
            .ok_or_else(|| ApiError::validation_one("cursor", "is not a valid cursor"))
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only says there is more.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u32, key_of: impl Fn(&T) -> String) -> Self {
        let limit = limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| Cursor::encode(&key_of(last)))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_clamped() {
        let q = PageQuery {
            limit: Some(1000),
            cursor: None,
        };
        assert_eq!(q.limit(), MAX_LIMIT);
        let q = PageQuery {
            limit: Some(0),
            cursor: None,
        };
        assert_eq!(q.limit(), 1);
        assert_eq!(PageQuery::default().limit(), DEFAULT_LIMIT);
    }

    #[test]
    fn overfetch_sets_cursor_only_when_more_rows_exist() {
        let page = Page::from_overfetch(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(
            Cursor::decode(page.next_cursor.as_deref().unwrap()).unwrap(),
            Cursor("2".into())
        );
        let last = Page::from_overfetch(vec![1, 2], 2, |n| n.to_string());
        assert!(last.next_cursor.is_none());
    }

    #[test]
    fn keyed_cursors_round_trip() {
        let id = uuid::Uuid::from_u128(7);
        assert_eq!(
            Cursor(Cursor::keyed(-42, id)).keyed_parts(),
            Some((-42, id))
        );
        assert_eq!(Cursor("12".into()).keyed_parts(), None);
        assert_eq!(Cursor("x:y".into()).keyed_parts(), None);
    }

    #[test]
    fn garbage_cursor_is_a_validation_error() {
        let err = Cursor::decode("***").unwrap_err();
        assert_eq!(err.status.as_u16(), 422);
        let nul = Cursor::encode("a\u{0}b");
        assert_eq!(Cursor::decode(&nul).unwrap_err().status.as_u16(), 422);
    }
}
