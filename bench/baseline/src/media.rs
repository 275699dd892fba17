//! Fixtures of the media benchmark: photo-like JPEGs (smooth gradients under noise, so they
//! compress like photographs), a 12-megapixel one and one of about 200 KB.

use std::io::Cursor;
use std::path::Path;

use anyhow::Context;
use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};

fn photo(width: u32, height: u32, seed: u32) -> RgbImage {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    RgbImage::from_fn(width, height, |x, y| {
        // xorshift: cheap noise, reproducible per seed.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = (state % 24) as i32 - 12;
        let shade = |base: u32, scale: u32| -> u8 {
            (((base * 255) / scale) as i32 + noise).clamp(0, 255) as u8
        };
        Rgb([
            shade(x, width),
            shade(y, height),
            shade(x + y, width + height),
        ])
    })
}

fn write_jpeg(image: &RgbImage, quality: u8, path: &Path) -> anyhow::Result<usize> {
    let mut out = Cursor::new(Vec::new());
    image.write_with_encoder(JpegEncoder::new_with_quality(&mut out, quality))?;
    let bytes = out.into_inner();
    std::fs::write(path, &bytes).with_context(|| path.display().to_string())?;
    Ok(bytes.len())
}

/// Writes `photo-12mp.jpg` (4000 x 3000) and `photo-200k.jpg` into `dir`.
pub fn fixtures(dir: &str) -> anyhow::Result<()> {
    let dir = Path::new(dir);
    let big = write_jpeg(&photo(4000, 3000, 7), 90, &dir.join("photo-12mp.jpg"))?;
    let small = write_jpeg(&photo(1280, 960, 11), 82, &dir.join("photo-200k.jpg"))?;
    println!("photo-12mp.jpg {big} bytes, photo-200k.jpg {small} bytes");
    Ok(())
}
