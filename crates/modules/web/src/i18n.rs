//! The portals' words in English, Khmer and Indonesian: one flat file of keys per language
//! (`locales/*.json`), English the fallback for a key another language lacks.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    En,
    Km,
    Id,
}

impl Locale {
    pub const ALL: [Locale; 3] = [Locale::En, Locale::Km, Locale::Id];

    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Km => "km",
            Locale::Id => "id",
        }
    }

    pub fn parse(code: &str) -> Option<Locale> {
        Locale::ALL
            .into_iter()
            .find(|l| code.trim().eq_ignore_ascii_case(l.code()))
    }

    /// The first of ours an `Accept-Language` header names, else English.
    pub fn negotiate(accept_language: &str) -> Locale {
        accept_language
            .split(',')
            .filter_map(|part| part.split(';').next())
            .filter_map(|tag| Locale::parse(tag.split('-').next().unwrap_or_default()))
            .next()
            .unwrap_or(Locale::En)
    }
}

const SOURCES: [(Locale, &str); 3] = [
    (Locale::En, include_str!("../locales/en.json")),
    (Locale::Km, include_str!("../locales/km.json")),
    (Locale::Id, include_str!("../locales/id.json")),
];

type Table = HashMap<String, String>;

fn tables() -> &'static HashMap<&'static str, Table> {
    static TABLES: OnceLock<HashMap<&'static str, Table>> = OnceLock::new();
    TABLES.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(locale, text)| {
                // A broken locale file fails its unit test; at run time it falls back to keys.
                let table: Table = serde_json::from_str(text).unwrap_or_default();
                (locale.code(), table)
            })
            .collect()
    })
}

/// The text of `key` in `locale`, else in English, else the key itself (a missing word shows
/// as its key rather than failing the page; the tests refuse missing keys).
pub fn text(locale: &str, key: &str) -> String {
    let tables = tables();
    tables
        .get(locale)
        .and_then(|t| t.get(key))
        .or_else(|| tables.get("en").and_then(|t| t.get(key)))
        .cloned()
        .unwrap_or_else(|| key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_english_key_and_nothing_else() {
        let english: Table = serde_json::from_str(SOURCES[0].1).expect("en.json is a map");
        for (locale, text) in &SOURCES[1..] {
            let table: Table = serde_json::from_str(text).expect("a locale file is a map");
            let mut missing: Vec<_> = english.keys().filter(|k| !table.contains_key(*k)).collect();
            let mut extra: Vec<_> = table.keys().filter(|k| !english.contains_key(*k)).collect();
            missing.sort();
            extra.sort();
            assert!(missing.is_empty(), "{locale:?} lacks {missing:?}");
            assert!(
                extra.is_empty(),
                "{locale:?} has keys English lacks: {extra:?}"
            );
        }
    }

    #[test]
    fn every_key_the_templates_and_pages_use_exists() {
        let english: Table = serde_json::from_str(SOURCES[0].1).expect("en.json is a map");
        let mut used = Vec::new();
        for (name, source) in crate::render::TEMPLATES
            .iter()
            .copied()
            .chain(crate::render::CODE_WITH_KEYS.iter().copied())
        {
            let mut rest = source;
            while let Some(at) = rest.find("t(\"") {
                // `t(` itself, not the end of `get(` or `text(`.
                let alone = !rest[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_');
                rest = &rest[at + 3..];
                let key = rest.split('"').next().unwrap_or_default();
                // `t("lang." ~ code)`: the families are checked below.
                if alone && !key.ends_with('.') {
                    used.push((name, key.to_owned()));
                }
            }
        }
        assert!(used.len() > 50, "the scan found the keys");
        let missing: Vec<_> = used
            .iter()
            .filter(|(_, key)| !english.contains_key(key))
            .collect();
        assert!(missing.is_empty(), "keys missing from en.json: {missing:?}");
        // Keys the templates build from a value.
        let families = [
            ("lang.", &["en", "km", "id"][..]),
            (
                "method.",
                &[
                    "simulator",
                    "khqr",
                    "bank_transfer",
                    "aba_payway",
                    "wing",
                    "pipay",
                ],
            ),
            (
                "redemption.",
                &["approved", "pending_review", "blocked", "rejected"],
            ),
            ("band.", &["low", "medium", "high"]),
        ];
        for (prefix, values) in families {
            for value in values {
                let key = format!("{prefix}{value}");
                assert!(english.contains_key(&key), "{key} missing from en.json");
            }
        }
    }

    #[test]
    fn accept_language_picks_the_first_language_we_have() {
        assert_eq!(Locale::negotiate("km-KH,km;q=0.9,en;q=0.8"), Locale::Km);
        assert_eq!(Locale::negotiate("fr-FR, id;q=0.5"), Locale::Id);
        assert_eq!(Locale::negotiate("de"), Locale::En);
    }
}
