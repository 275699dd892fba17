//! Vector QR codes: the dark modules as rectangles (one per run in a row), all in a single
//! path, so the code is sharp at any press resolution and no hairline seams open between
//! neighbouring modules.

use krilla::geom::{Path, PathBuilder, Rect};
use qrcode::{Color, EcLevel, QrCode};

/// Light modules around the symbol; the white box the renderer draws under it is this wide.
pub(super) const QUIET_ZONE: usize = 2;

pub(super) struct Qr {
    width: usize,
    dark: Vec<bool>,
}

impl Qr {
    pub(super) fn encode(data: &str) -> Result<Qr, qrcode::types::QrError> {
        // Medium error correction, as the vouchers module: survives a scratch, keeps modules big.
        let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)?;
        let dark = code
            .to_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect();
        Ok(Qr {
            width: code.width(),
            dark,
        })
    }

    /// The dark modules for a symbol whose top-left corner is `(x, y)` and whose side, quiet
    /// zone included, is `side`: one rectangle per horizontal run of dark modules in a row, so
    /// a long token's symbol (about 70 × 70 modules) is a few hundred rectangles, not thousands.
    pub(super) fn module_rects(&self, x: f32, y: f32, side: f32) -> Vec<Rect> {
        if self.width == 0 {
            return Vec::new();
        }
        let module = side / (self.width + 2 * QUIET_ZONE) as f32;
        let mut rects = Vec::new();
        for (row, cells) in self.dark.chunks(self.width).enumerate() {
            let top = y + (row + QUIET_ZONE) as f32 * module;
            let mut column = 0;
            while column < cells.len() {
                if !cells[column] {
                    column += 1;
                    continue;
                }
                let start = column;
                while column < cells.len() && cells[column] {
                    column += 1;
                }
                let left = x + (start + QUIET_ZONE) as f32 * module;
                rects.extend(Rect::from_xywh(
                    left,
                    top,
                    (column - start) as f32 * module,
                    module,
                ));
            }
        }
        rects
    }

    /// All dark modules as one path, to be filled at once.
    pub(super) fn path(&self, x: f32, y: f32, side: f32) -> Option<Path> {
        let mut builder = PathBuilder::new();
        for rect in self.module_rects(x, y, side) {
            builder.push_rect(rect);
        }
        builder.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_dark_modules_cover_exactly_the_dark_modules_inside_the_quiet_zone() {
        let token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJQU1ItOEYzSyJ9.c2lnbmF0dXJl";
        let qr = Qr::encode(token).unwrap();
        let code = QrCode::with_error_correction_level(token.as_bytes(), EcLevel::M).unwrap();
        let dark = code
            .to_colors()
            .iter()
            .filter(|&&c| c == Color::Dark)
            .count();
        let side = 100.0;
        let module = side / (code.width() + 2 * QUIET_ZONE) as f32;
        let rects = qr.module_rects(10.0, 20.0, side);
        assert!(dark > 0);
        assert!(rects.len() < dark, "runs merge neighbouring modules");
        let covered: f32 = rects.iter().map(|r| r.width() / module).sum();
        assert!(
            (covered - dark as f32).abs() < 0.01,
            "{covered} modules drawn, {dark} dark"
        );
        let quiet = module * QUIET_ZONE as f32;
        for r in &rects {
            assert!((r.height() - module).abs() < 1e-3);
            assert!(r.left() >= 10.0 + quiet - 1e-3 && r.right() <= 10.0 + side - quiet + 1e-3);
            assert!(r.top() >= 20.0 + quiet - 1e-3 && r.bottom() <= 20.0 + side - quiet + 1e-3);
        }
        assert!(qr.path(10.0, 20.0, side).is_some());
    }
}
