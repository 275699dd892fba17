//! How text becomes terms. Latin-script words are split on anything not a letter or digit,
//! lowercased and folded (`café` finds `cafe`). Khmer is written without spaces between
//! words, so a run of Khmer script becomes overlapping character pairs: a Khmer query's pairs
//! must all be in a name, which finds words without a dictionary. Three analyzers share
//! this: `plain`, and two stemmed ones (English Snowball, Indonesian Nazief-Adriani from
//! sastrawi, which only strips affixes when a dictionary root is left, so English words pass
//! through).

use std::borrow::Cow;
use std::sync::LazyLock;

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer,
    TextAnalyzerBuilder, Token, TokenFilter, TokenStream, Tokenizer, TokenizerManager,
};

pub const PLAIN: &str = "pasar_plain";
pub const STEM_EN: &str = "pasar_en";
pub const STEM_ID: &str = "pasar_id";

/// Longest term kept (longer ones are noise: hashes, glued words).
const MAX_TERM_BYTES: usize = 48;

pub fn register(manager: &TokenizerManager) {
    manager.register(PLAIN, plain());
    manager.register(STEM_EN, stemmed_english());
    manager.register(STEM_ID, stemmed_indonesian());
}

fn base() -> TextAnalyzerBuilder {
    TextAnalyzer::builder(Segmenter)
        .filter(RemoveLongFilter::limit(MAX_TERM_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .dynamic()
}

pub fn plain() -> TextAnalyzer {
    base().build()
}

pub fn stemmed_english() -> TextAnalyzer {
    base()
        .filter_dynamic(Stemmer::new(Language::English))
        .build()
}

pub fn stemmed_indonesian() -> TextAnalyzer {
    base().filter_dynamic(IndonesianStemmer).build()
}

/// The terms `analyzer` makes of `text`.
pub fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

pub fn is_khmer(c: char) -> bool {
    matches!(c, '\u{1780}'..='\u{17FF}' | '\u{19E0}'..='\u{19FF}')
}

/// A piece of a query: a word, or a run of Khmer script.
#[derive(Debug, Clone, PartialEq)]
pub enum Unit {
    Word(String),
    Khmer(String),
}

impl Unit {
    pub fn text(&self) -> &str {
        match self {
            Unit::Word(w) | Unit::Khmer(w) => w,
        }
    }
}

/// Splits text the way the segmenter does, keeping Khmer runs whole.
pub fn units(text: &str) -> Vec<Unit> {
    let mut out = Vec::new();
    for (start, end, khmer) in spans(text) {
        let piece = text[start..end].to_owned();
        out.push(if khmer {
            Unit::Khmer(piece)
        } else {
            Unit::Word(piece)
        });
    }
    out
}

/// Byte spans of words and Khmer runs.
fn spans(text: &str) -> Vec<(usize, usize, bool)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, bool)> = None;
    for (i, c) in text.char_indices() {
        let class = if is_khmer(c) {
            Some(true)
        } else if c.is_alphanumeric() {
            Some(false)
        } else {
            None
        };
        match (current, class) {
            (Some((start, k)), Some(now)) if k != now => {
                out.push((start, i, k));
                current = Some((i, now));
            }
            (Some(_), Some(_)) => {}
            (Some((start, k)), None) => {
                out.push((start, i, k));
                current = None;
            }
            (None, Some(now)) => current = Some((i, now)),
            (None, None) => {}
        }
    }
    if let Some((start, k)) = current {
        out.push((start, text.len(), k));
    }
    out
}

/// Words as they are, Khmer runs as overlapping character pairs.
#[derive(Clone, Default)]
pub struct Segmenter;

pub struct SegmentStream {
    tokens: std::vec::IntoIter<Token>,
    current: Token,
}

impl Tokenizer for Segmenter {
    type TokenStream<'a> = SegmentStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> SegmentStream {
        let mut tokens = Vec::new();
        let mut position = 0;
        let mut push = |from: usize, to: usize| {
            tokens.push(Token {
                offset_from: from,
                offset_to: to,
                position,
                text: text[from..to].to_owned(),
                position_length: 1,
            });
            position += 1;
        };
        for (start, end, khmer) in spans(text) {
            if !khmer {
                push(start, end);
                continue;
            }
            let bounds: Vec<usize> = text[start..end]
                .char_indices()
                .map(|(i, _)| start + i)
                .chain(std::iter::once(end))
                .collect();
            if bounds.len() <= 2 {
                push(start, end);
            } else {
                for pair in bounds.windows(3) {
                    push(pair[0], pair[2]);
                }
            }
        }
        SegmentStream {
            tokens: tokens.into_iter(),
            current: Token::default(),
        }
    }
}

impl TokenStream for SegmentStream {
    fn advance(&mut self) -> bool {
        match self.tokens.next() {
            Some(token) => {
                self.current = token;
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        &self.current
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.current
    }
}

static INDONESIAN: LazyLock<sastrawi::Dictionary> = LazyLock::new(sastrawi::Dictionary::new);
static INDONESIAN_STEMMER: LazyLock<sastrawi::Stemmer<'static>> =
    LazyLock::new(|| sastrawi::Stemmer::new(&INDONESIAN));

/// Indonesian stem of each Latin word (`sepatunya`, `bersepatu` → `sepatu`).
#[derive(Clone)]
pub struct IndonesianStemmer;

impl TokenFilter for IndonesianStemmer {
    type Tokenizer<T: Tokenizer> = IndonesianStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> Self::Tokenizer<T> {
        IndonesianStemmerFilter { inner: tokenizer }
    }
}

#[derive(Clone)]
pub struct IndonesianStemmerFilter<T> {
    inner: T,
}

impl<T: Tokenizer> Tokenizer for IndonesianStemmerFilter<T> {
    type TokenStream<'a> = IndonesianStemStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        IndonesianStemStream {
            tail: self.inner.token_stream(text),
        }
    }
}

pub struct IndonesianStemStream<T> {
    tail: T,
}

impl<T: TokenStream> TokenStream for IndonesianStemStream<T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        // Short words and Khmer pairs have no affixes to strip.
        if token.text.len() > 4 && token.text.is_ascii() {
            if let Cow::Owned(stem) = INDONESIAN_STEMMER.stem_word(&token.text) {
                if !stem.is_empty() {
                    token.text = stem;
                }
            }
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn khmer_runs_become_pairs_and_words_stay_whole() {
        let mut plain = plain();
        // "កាហ្វេ" (coffee) between Latin words.
        assert_eq!(
            terms(&mut plain, "Café កាហ្វេ Tea"),
            vec!["cafe", "កា", "ាហ", "ហ្", "្វ", "វេ", "tea"]
        );
        assert_eq!(
            units("ទឹក tea"),
            vec![Unit::Khmer("ទឹក".into()), Unit::Word("tea".into())]
        );
    }

    #[test]
    fn indonesian_affixes_are_stripped_to_dictionary_roots() {
        let mut id = stemmed_indonesian();
        assert_eq!(terms(&mut id, "Sepatunya"), vec!["sepatu"]);
        assert_eq!(terms(&mut id, "berlari"), vec!["lari"]);
        assert_eq!(terms(&mut id, "makanan"), vec!["makan"]);
        // Not Indonesian: left alone.
        assert_eq!(terms(&mut id, "running"), vec!["running"]);
    }
}
