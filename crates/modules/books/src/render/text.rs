//! Text set for print: runs split by script (Khmer or Latin font), measuring, greedy wrapping
//! with an ellipsis, and drawing.
//!
//! krilla shapes every run when it draws it, but exposes neither its shaper nor glyph metrics,
//! so widths are estimated from the bundled fonts' own tables: the nominal advance (`cmap` +
//! `hmtx`) of each character, plus the two Khmer shaping effects that change widths (subscript
//! consonants after COENG, split vowels). Against HarfBuzz on these fonts the estimate is within
//! -3 %..+2 % for Khmer and never narrower for Latin (kerning only tightens), so wrapping keeps a
//! 4 % margin and runs following one another on a line do not visibly gap or collide.

use krilla::color::luma;
use krilla::geom::Point;
use krilla::num::NormalizedF32;
use krilla::paint::{Fill, FillRule};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::Data;

use super::RenderError;

static LATIN_REGULAR: &[u8] = include_bytes!("../../fonts/NotoSans-Regular.ttf");
static LATIN_BOLD: &[u8] = include_bytes!("../../fonts/NotoSans-Bold.ttf");
static KHMER_REGULAR: &[u8] = include_bytes!("../../fonts/NotoSansKhmer-Regular.ttf");
static KHMER_BOLD: &[u8] = include_bytes!("../../fonts/NotoSansKhmer-Bold.ttf");

const ELLIPSIS: &str = "\u{2026}";
/// Measured widths are multiplied by this before testing whether they fit.
const FIT_MARGIN: f32 = 1.04;
/// Break opportunities: a space, and the zero-width space Khmer puts between words.
const BREAKS: [char; 2] = [' ', '\u{200B}'];

const COENG: char = '\u{17D2}';
/// Khmer vowel sign AA and vowel sign E: the spacing parts split vowels are drawn with.
const AA: char = '\u{17B6}';
const E: char = '\u{17C1}';
/// Consonants whose subscript form takes horizontal room in Noto Sans Khmer (measured with
/// HarfBuzz, about the width of AA); every other subscript sits under its base.
const SPACING_SUBSCRIPTS: [char; 9] = [
    '\u{1783}', '\u{1788}', '\u{178D}', '\u{1794}', '\u{1799}', '\u{179A}', '\u{179E}', '\u{179F}',
    '\u{17A1}',
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Script {
    Latin,
    Khmer,
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Align {
    Left,
    Center,
}

/// Size in points, weight, and grey level (0 black, 255 white: one ink, K).
#[derive(Clone, Copy, Debug)]
pub(super) struct Style {
    pub(super) size: f32,
    pub(super) bold: bool,
    pub(super) gray: u8,
}

impl Style {
    pub(super) fn new(size: f32) -> Style {
        Style {
            size,
            bold: false,
            gray: 0,
        }
    }

    pub(super) fn bold(self) -> Style {
        Style { bold: true, ..self }
    }

    pub(super) fn gray(self, gray: u8) -> Style {
        Style { gray, ..self }
    }
}

/// Wrapped lines ready to draw.
pub(super) struct Block {
    lines: Vec<String>,
    style: Style,
    leading: f32,
    ascent: f32,
}

impl Block {
    pub(super) fn height(&self) -> f32 {
        self.lines.len() as f32 * self.leading
    }
}

/// Line height of `text` set at `size`.
pub(super) fn leading(text: &str, size: f32) -> f32 {
    vertical(text, size).0
}

/// Line height and baseline offset: Khmer stacks marks well above and below the Latin
/// ascender and descender, so lines holding Khmer are set looser.
fn vertical(text: &str, size: f32) -> (f32, f32) {
    if text.chars().any(is_khmer) {
        (size * 1.65, size * 1.05)
    } else {
        (size * 1.25, size * 0.95)
    }
}

struct Face {
    font: Font,
    metrics: sfnt::Metrics,
}

impl Face {
    fn load(data: &'static [u8], name: &'static str) -> Result<Face, RenderError> {
        let font = Font::new(Data::from(data), 0).ok_or(RenderError::Font(name))?;
        let metrics = sfnt::Metrics::parse(data).ok_or(RenderError::Font(name))?;
        Ok(Face { font, metrics })
    }

    /// Estimated advance of a single-script run, in em.
    fn width_em(&self, run: &str) -> f32 {
        let mut em = 0.0;
        let mut prev = None;
        for c in run.chars() {
            em += match c {
                _ if is_ignorable(c) => 0.0,
                _ if prev == Some(COENG) && is_khmer_consonant(c) => {
                    if SPACING_SUBSCRIPTS.contains(&c) {
                        self.metrics.advance(AA)
                    } else {
                        0.0
                    }
                }
                // Split vowels are shaped as a pre-base E plus a post-base part.
                '\u{17BE}' => self.metrics.advance(E),
                '\u{17BF}' | '\u{17C0}' | '\u{17C4}' | '\u{17C5}' => {
                    self.metrics.advance(E) + self.metrics.advance(AA)
                }
                _ => self.metrics.advance(c),
            };
            prev = Some(c);
        }
        em
    }
}

/// The four bundled faces (OFL, see `fonts/OFL.txt`), parsed once per render.
pub(super) struct Fonts {
    latin: Face,
    latin_bold: Face,
    khmer: Face,
    khmer_bold: Face,
}

impl Fonts {
    pub(super) fn load() -> Result<Fonts, RenderError> {
        Ok(Fonts {
            latin: Face::load(LATIN_REGULAR, "NotoSans-Regular.ttf")?,
            latin_bold: Face::load(LATIN_BOLD, "NotoSans-Bold.ttf")?,
            khmer: Face::load(KHMER_REGULAR, "NotoSansKhmer-Regular.ttf")?,
            khmer_bold: Face::load(KHMER_BOLD, "NotoSansKhmer-Bold.ttf")?,
        })
    }

    fn face(&self, script: Script, bold: bool) -> &Face {
        match (script, bold) {
            (Script::Latin, false) => &self.latin,
            (Script::Latin, true) => &self.latin_bold,
            (Script::Khmer, false) => &self.khmer,
            (Script::Khmer, true) => &self.khmer_bold,
        }
    }

    /// Estimated width of one line in points.
    pub(super) fn width(&self, text: &str, style: Style) -> f32 {
        runs(text)
            .into_iter()
            .map(|(script, run)| self.face(script, style.bold).width_em(run) * style.size)
            .sum()
    }

    /// `style` made smaller, down to `min_size`, until `text` fits `width` on one line.
    pub(super) fn shrink_to_fit(
        &self,
        text: &str,
        style: Style,
        width: f32,
        min_size: f32,
    ) -> Style {
        let needed = self.width(text, style) * FIT_MARGIN;
        if needed <= width {
            return style;
        }
        // A hair under the exact ratio, so rounding cannot push it back over.
        let size = style.size * width / needed * 0.995;
        Style {
            size: size.max(min_size),
            ..style
        }
    }

    pub(super) fn layout(&self, text: &str, style: Style, width: f32, max_lines: usize) -> Block {
        let (leading, ascent) = vertical(text, style.size);
        Block {
            lines: self.wrap(text, style, width, max_lines),
            style,
            leading,
            ascent,
        }
    }

    /// Draws `block` with its first line's top at `top`.
    pub(super) fn draw(
        &self,
        surface: &mut Surface<'_>,
        block: &Block,
        (x, top): (f32, f32),
        width: f32,
        align: Align,
    ) {
        for (i, line) in block.lines.iter().enumerate() {
            let dx = match align {
                Align::Left => 0.0,
                Align::Center => ((width - self.width(line, block.style)) / 2.0).max(0.0),
            };
            let baseline = top + i as f32 * block.leading + block.ascent;
            self.draw_line(surface, line, block.style, x + dx, baseline);
        }
    }

    /// Lays out and draws in one go; returns the height used.
    pub(super) fn text(
        &self,
        surface: &mut Surface<'_>,
        text: &str,
        style: Style,
        (x, top, width): (f32, f32, f32),
        (max_lines, align): (usize, Align),
    ) -> f32 {
        let block = self.layout(text, style, width, max_lines);
        self.draw(surface, &block, (x, top), width, align);
        block.height()
    }

    /// One line, each run in its script's font (krilla shapes it), left end at `x`.
    pub(super) fn draw_line(
        &self,
        surface: &mut Surface<'_>,
        text: &str,
        style: Style,
        x: f32,
        baseline: f32,
    ) {
        surface.set_stroke(None);
        surface.set_fill(Some(Fill {
            paint: luma::Color::new(style.gray).into(),
            opacity: NormalizedF32::ONE,
            rule: FillRule::NonZero,
        }));
        let mut x = x;
        for (script, run) in runs(text) {
            let face = self.face(script, style.bold);
            surface.draw_text(
                Point::from_xy(x, baseline),
                face.font.clone(),
                style.size,
                run,
                false,
                TextDirection::LeftToRight,
            );
            x += face.width_em(run) * style.size;
        }
    }

    /// Greedy wrapping at spaces and zero-width spaces (a word wider than the line is broken
    /// between clusters); past `max_lines` the last line ends in an ellipsis.
    pub(super) fn wrap(
        &self,
        text: &str,
        style: Style,
        max_width: f32,
        max_lines: usize,
    ) -> Vec<String> {
        let limit = max_width / FIT_MARGIN;
        let text = normalise(text);
        if max_lines == 0 || text.is_empty() {
            return Vec::new();
        }
        let fits = |s: &str| self.width(s, style) <= limit;
        let mut lines: Vec<String> = Vec::new();
        // Stops as soon as there is one line too many: that is enough to know the text is cut.
        'paragraphs: for paragraph in text.split('\n') {
            let mut line = String::new();
            for segment in paragraph.split_inclusive(BREAKS) {
                let candidate = format!("{line}{segment}");
                if fits(trim_break(&candidate)) {
                    line = candidate;
                    continue;
                }
                if !trim_break(&line).is_empty() {
                    lines.push(trim_break(&line).to_owned());
                }
                let mut rest = segment;
                while !fits(trim_break(rest)) {
                    let cut = fitting_prefix(rest, &fits);
                    lines.push(trim_break(&rest[..cut]).to_owned());
                    rest = &rest[cut..];
                    if lines.len() > max_lines {
                        break 'paragraphs;
                    }
                }
                if lines.len() > max_lines {
                    break 'paragraphs;
                }
                line = rest.to_owned();
            }
            lines.push(trim_break(&line).to_owned());
            if lines.len() > max_lines {
                break;
            }
        }
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        if lines.len() > max_lines {
            lines.truncate(max_lines);
            if let Some(last) = lines.last_mut() {
                *last = ellipsize(last, &fits);
            }
        }
        lines
    }
}

/// Splits `text` into maximal single-script runs. Zero-width spaces and (non-)joiners belong to
/// a Khmer run only inside it, between two Khmer characters.
pub(super) fn runs(text: &str) -> Vec<(Script, &str)> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut current: Option<(Script, usize)> = None;
    for (k, &(at, c)) in chars.iter().enumerate() {
        let inside_khmer = || {
            current.is_some_and(|(script, _)| script == Script::Khmer)
                && chars[k + 1..]
                    .iter()
                    .map(|&(_, next)| next)
                    .find(|&next| !is_joiner(next))
                    .is_some_and(is_khmer)
        };
        let script = if is_khmer(c) || (is_joiner(c) && inside_khmer()) {
            Script::Khmer
        } else {
            Script::Latin
        };
        match current {
            Some((open, start)) if open != script => {
                out.push((open, &text[start..at]));
                current = Some((script, at));
            }
            Some(_) => {}
            None => current = Some((script, at)),
        }
    }
    if let Some((script, start)) = current {
        out.push((script, &text[start..]));
    }
    out
}

/// Newlines kept as paragraph breaks; other whitespace and control characters collapsed into
/// single spaces (a no-break space stays what it is).
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => {
                out.truncate(out.trim_end_matches(' ').len());
                out.push('\n');
            }
            '\u{A0}' => out.push(c),
            _ if c.is_whitespace() || c.is_control() => {
                if !out.is_empty() && !out.ends_with([' ', '\n']) {
                    out.push(' ');
                }
            }
            _ => out.push(c),
        }
    }
    out.truncate(out.trim_end().len());
    out
}

fn trim_break(s: &str) -> &str {
    s.trim_end_matches(BREAKS)
}

/// Byte length of the longest prefix ending between clusters that fits; at least one cluster,
/// so that wrapping always moves on.
fn fitting_prefix(text: &str, fits: &impl Fn(&str) -> bool) -> usize {
    let starts = cluster_starts(text);
    let mut cut = starts.get(1).copied().unwrap_or(text.len());
    for end in starts.iter().skip(2).copied().chain([text.len()]) {
        if !fits(&text[..end]) {
            break;
        }
        cut = end;
    }
    cut
}

/// Drops whole clusters from the end until the line plus an ellipsis fits.
fn ellipsize(line: &str, fits: &impl Fn(&str) -> bool) -> String {
    let mut end = line.len();
    loop {
        let head = trim_break(&line[..end]);
        let candidate = format!("{head}{ELLIPSIS}");
        if head.is_empty() || fits(&candidate) {
            return candidate;
        }
        end = cluster_starts(head).last().copied().unwrap_or(0);
    }
}

/// Byte offsets where a cluster (a base with its marks, or a Khmer stack) starts: the places
/// a line may be broken inside a word without tearing a glyph apart.
fn cluster_starts(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut prev = None;
    for (at, c) in text.char_indices() {
        if prev.is_none() || !(is_mark(c) || prev == Some(COENG)) {
            starts.push(at);
        }
        prev = Some(c);
    }
    starts
}

fn is_khmer(c: char) -> bool {
    matches!(c, '\u{1780}'..='\u{17FF}' | '\u{19E0}'..='\u{19FF}')
}

fn is_khmer_consonant(c: char) -> bool {
    matches!(c, '\u{1780}'..='\u{17A2}')
}

fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}')
}

/// Invisible after shaping, whatever the font maps them to.
fn is_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}'
    )
}

/// Characters that never start a cluster: Khmer signs, combining marks, joiners, selectors.
fn is_mark(c: char) -> bool {
    matches!(
        c,
        '\u{17B4}'..='\u{17D3}'
            | '\u{17DD}'
            | '\u{0300}'..='\u{036F}'
            | '\u{200C}'..='\u{200D}'
            | '\u{FE00}'..='\u{FE0F}'
    )
}

/// Nominal horizontal metrics read from a TrueType font's own tables (`head`, `hhea`, `hmtx`,
/// `cmap` formats 4 and 12): what the estimate above needs, without a second font library.
mod sfnt {
    pub(super) struct Metrics {
        data: &'static [u8],
        units_per_em: f32,
        hmtx: usize,
        long_metrics: usize,
        cmap: Cmap,
    }

    #[derive(Clone, Copy)]
    enum Cmap {
        /// Format 4: segments over the Basic Multilingual Plane.
        Segments(usize),
        /// Format 12: groups over all of Unicode.
        Groups(usize),
    }

    impl Metrics {
        pub(super) fn parse(data: &'static [u8]) -> Option<Metrics> {
            let head = table(data, b"head")?;
            let hhea = table(data, b"hhea")?;
            let hmtx = table(data, b"hmtx")?;
            let cmap = subtable(data, table(data, b"cmap")?)?;
            let units_per_em = u16_at(data, head + 18)?;
            let long_metrics = usize::from(u16_at(data, hhea + 34)?);
            if units_per_em == 0 || long_metrics == 0 {
                return None;
            }
            Some(Metrics {
                data,
                units_per_em: f32::from(units_per_em),
                hmtx,
                long_metrics,
                cmap,
            })
        }

        /// Advance of `c`'s glyph in em. Unmapped characters measure as `.notdef`, which is
        /// what krilla draws for them; an unreadable entry counts as a full em.
        pub(super) fn advance(&self, c: char) -> f32 {
            let glyph = self.glyph(c).unwrap_or(0);
            let index = glyph.min(self.long_metrics - 1);
            self.hmtx
                .checked_add(index * 4)
                .and_then(|at| u16_at(self.data, at))
                .map_or(1.0, |units| f32::from(units) / self.units_per_em)
        }

        fn glyph(&self, c: char) -> Option<usize> {
            let (d, c) = (self.data, usize::try_from(u32::from(c)).ok()?);
            match self.cmap {
                Cmap::Groups(at) => {
                    let groups = u32_at(d, at + 12)?;
                    for i in 0..groups {
                        let group = at + 16 + i * 12;
                        let (start, end) = (u32_at(d, group)?, u32_at(d, group + 4)?);
                        if c < start {
                            break;
                        }
                        if c <= end {
                            return u32_at(d, group + 8)?.checked_add(c - start);
                        }
                    }
                    Some(0)
                }
                Cmap::Segments(at) => {
                    let Ok(c) = u16::try_from(c) else {
                        return Some(0);
                    };
                    let segments = usize::from(u16_at(d, at + 6)? / 2);
                    let ends = at + 14;
                    let starts = ends + 2 * segments + 2;
                    let deltas = starts + 2 * segments;
                    let offsets = deltas + 2 * segments;
                    for i in 0..segments {
                        if c > u16_at(d, ends + 2 * i)? {
                            continue;
                        }
                        let start = u16_at(d, starts + 2 * i)?;
                        if c < start {
                            return Some(0);
                        }
                        let delta = u16_at(d, deltas + 2 * i)?;
                        let offset = u16_at(d, offsets + 2 * i)?;
                        if offset == 0 {
                            return Some(usize::from(c.wrapping_add(delta)));
                        }
                        let entry =
                            offsets + 2 * i + usize::from(offset) + 2 * usize::from(c - start);
                        let glyph = u16_at(d, entry)?;
                        return Some(if glyph == 0 {
                            0
                        } else {
                            usize::from(glyph.wrapping_add(delta))
                        });
                    }
                    Some(0)
                }
            }
        }
    }

    /// Offset of a table from the font's table directory.
    fn table(d: &[u8], tag: &[u8; 4]) -> Option<usize> {
        let count = usize::from(u16_at(d, 4)?);
        (0..count).find_map(|i| {
            let record = 12 + 16 * i;
            if d.get(record..record + 4)? == tag {
                u32_at(d, record + 8)
            } else {
                None
            }
        })
    }

    /// The Unicode subtable of `cmap`: format 12 where there is one, else format 4.
    fn subtable(d: &[u8], cmap: usize) -> Option<Cmap> {
        let count = usize::from(u16_at(d, cmap + 2)?);
        let mut found = None;
        for i in 0..count {
            let record = cmap + 4 + 8 * i;
            let ids = (u16_at(d, record)?, u16_at(d, record + 2)?);
            if !matches!(ids, (0, _) | (3, 1 | 10)) {
                continue;
            }
            let at = cmap + u32_at(d, record + 4)?;
            match u16_at(d, at)? {
                12 => return Some(Cmap::Groups(at)),
                4 if found.is_none() => found = Some(Cmap::Segments(at)),
                _ => {}
            }
        }
        found
    }

    fn u16_at(d: &[u8], at: usize) -> Option<u16> {
        let bytes: [u8; 2] = d.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(u16::from_be_bytes(bytes))
    }

    fn u32_at(d: &[u8], at: usize) -> Option<usize> {
        let bytes: [u8; 4] = d.get(at..at.checked_add(4)?)?.try_into().ok()?;
        usize::try_from(u32::from_be_bytes(bytes)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_split_by_script_and_keep_joiners_inside_khmer() {
        let text = "Free កាហ្វេ\u{200B}ខ្មែរ\u{200B} 2026";
        let got = runs(text);
        assert_eq!(
            got,
            vec![
                (Script::Latin, "Free "),
                (Script::Khmer, "កាហ្វេ\u{200B}ខ្មែរ"),
                (Script::Latin, "\u{200B} 2026"),
            ]
        );
    }

    #[test]
    fn measures_from_the_font_tables() {
        let fonts = Fonts::load().unwrap();
        let style = Style::new(10.0);
        // Noto Sans: "H" is 741 units of 1000, a space 260.
        assert!((fonts.width("H", style) - 7.41).abs() < 0.01);
        assert!((fonts.width(" ", style) - 2.6).abs() < 0.01);
        // A subscript under its base adds nothing; a split vowel counts its two spacing parts.
        let base = fonts.width("ក", style);
        assert!((fonts.width("ក្ក", style) - base).abs() < 0.01);
        assert!(fonts.width("កោ", style) > base + 5.0);
    }

    #[test]
    fn wraps_within_width_and_ellipsizes_past_max_lines() {
        let fonts = Fonts::load().unwrap();
        let style = Style::new(8.0);
        let text = "Valid for one drink at any branch until the end of the month; \
                    not exchangeable for cash";
        let lines = fonts.wrap(text, style, 80.0, 10);
        assert!(lines.len() > 2);
        assert!(lines.iter().all(|l| fonts.width(l, style) <= 80.0));
        let cut = fonts.wrap(text, style, 80.0, 2);
        assert_eq!(cut.len(), 2);
        assert!(cut[1].ends_with(ELLIPSIS));
        assert!(fonts.width(&cut[1], style) <= 80.0);
    }

    #[test]
    fn a_huge_text_is_wrapped_only_up_to_max_lines() {
        let fonts = Fonts::load().unwrap();
        let text = "ក".repeat(20_000);
        let lines = fonts.wrap(&text, Style::new(8.0), 100.0, 3);
        assert_eq!(lines.len(), 3);
        assert!(lines[2].ends_with(ELLIPSIS));
    }

    #[test]
    fn shrinks_a_code_onto_one_line() {
        let fonts = Fonts::load().unwrap();
        let code = "PSR-8F3K-29QD-7777-XXXX";
        let small = fonts.shrink_to_fit(code, Style::new(10.0), 60.0, 2.0);
        assert!(small.size < 10.0);
        assert_eq!(fonts.wrap(code, small, 60.0, 2), vec![code.to_owned()]);
    }

    #[test]
    fn breaks_long_khmer_words_between_clusters() {
        let fonts = Fonts::load().unwrap();
        let style = Style::new(10.0);
        let word = "ប័ណ្ណនេះមិនអាចប្តូរជាសាច់ប្រាក់បានទេ";
        let lines = fonts.wrap(word, style, 40.0, 20);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), word);
        for line in &lines {
            assert!(!line.starts_with(COENG));
            assert!(!line.chars().next().is_some_and(is_mark));
        }
    }
}
