//! Voucher QR codes: signed tokens (compact JWS, ES256, verifiable offline with the JWKS) and
//! their PNG and SVG images.

use jsonwebtoken::Validation;
use platform::keyring::{Keyring, KeyringError, TokenError};
use qrcode::render::svg;
use qrcode::{Color, EcLevel, QrCode};

use crate::domain::{TokenClaims, TOKEN_TYPE};

pub fn sign(keyring: &Keyring, claims: &TokenClaims) -> Result<String, KeyringError> {
    keyring.sign(claims)
}

/// Verifies signature, algorithm, `kid` and expiry; the caller checks version, step and
/// merchant against the current state.
pub fn verify(keyring: &Keyring, token: &str) -> Result<TokenClaims, TokenError> {
    let mut validation = Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.leeway = 0;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "sub"]);
    let claims: TokenClaims = keyring.verify(token, &validation)?;
    if claims.typ != TOKEN_TYPE {
        return Err(TokenError::Invalid("not a voucher token".into()));
    }
    Ok(claims)
}

fn code(token: &str) -> Result<QrCode, qrcode::types::QrError> {
    // Medium error correction: survives a scratched phone screen, keeps the code small.
    QrCode::with_error_correction_level(token.as_bytes(), EcLevel::M)
}

pub fn svg(token: &str) -> Result<String, qrcode::types::QrError> {
    Ok(code(token)?
        .render::<svg::Color>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build())
}

/// A greyscale PNG, `scale` pixels per module, with the 4-module quiet zone scanners need.
pub fn png(token: &str, scale: usize) -> Result<Vec<u8>, String> {
    let qr = code(token).map_err(|e| e.to_string())?;
    let modules = qr.width();
    let quiet = 4;
    let side = (modules + 2 * quiet) * scale;
    let colors = qr.to_colors();
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules + quiet, i / modules + quiet);
        for y in my * scale..(my + 1) * scale {
            let row = y * side;
            pixels[row + mx * scale..row + (mx + 1) * scale].fill(0);
        }
    }
    let mut out = Vec::new();
    {
        let side = u32::try_from(side).map_err(|e| e.to_string())?;
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer
            .write_image_data(&pixels)
            .map_err(|e| e.to_string())?;
    }
    Ok(out)
}
