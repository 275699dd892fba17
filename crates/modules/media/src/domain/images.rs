//! Images: dimensions checked from the header before anything is decoded (a decompression
//! bomb never reaches the decoder), then decoded under allocation limits, turned upright by
//! their EXIF orientation and re-encoded in their own format. Re-encoding writes no metadata,
//! so EXIF (GPS included), XMP and comments never reach what is served.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

use super::{Limits, Refusal};
use crate::api::MediaFormat;

#[derive(Debug, Clone)]
pub struct CleanImage {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

fn image_format(format: MediaFormat) -> Option<ImageFormat> {
    match format {
        MediaFormat::Jpeg => Some(ImageFormat::Jpeg),
        MediaFormat::Png => Some(ImageFormat::Png),
        MediaFormat::Webp => Some(ImageFormat::WebP),
        MediaFormat::Pdf => None,
    }
}

fn undecodable(err: impl std::fmt::Display) -> Refusal {
    Refusal::Undecodable(format!("the image does not decode: {err}"))
}

/// Decodes an image of a known format within the limits.
pub fn decode(format: MediaFormat, bytes: &[u8], limits: &Limits) -> Result<DynamicImage, Refusal> {
    let kind = image_format(format).ok_or_else(|| Refusal::Unsupported("not an image".into()))?;
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), kind)
        .into_dimensions()
        .map_err(undecodable)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels || width > limits.max_side || height > limits.max_side {
        return Err(Refusal::ImageTooLarge {
            width,
            height,
            max_pixels: limits.max_pixels,
            max_side: limits.max_side,
        });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind);
    let mut decode_limits = image::Limits::default();
    decode_limits.max_image_width = Some(limits.max_side);
    decode_limits.max_image_height = Some(limits.max_side);
    // 16-bit RGBA is the widest a decoder produces: 8 bytes per pixel, plus slack for its buffers.
    decode_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8) + 64 * 1024 * 1024);
    reader.limits(decode_limits);
    let mut decoder = reader.into_decoder().map_err(undecodable)?;
    let orientation = decoder.orientation().map_err(undecodable)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(undecodable)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// Encodes in the given image format, with no metadata.
pub fn encode(
    format: MediaFormat,
    image: &DynamicImage,
    jpeg_quality: u8,
) -> Result<Vec<u8>, Refusal> {
    let mut out = Vec::new();
    let written = match format {
        MediaFormat::Jpeg => {
            // JPEG has no alpha and 8 bits per channel.
            let flat = if image.color().has_color() {
                DynamicImage::ImageRgb8(image.to_rgb8())
            } else {
                DynamicImage::ImageLuma8(image.to_luma8())
            };
            flat.write_with_encoder(JpegEncoder::new_with_quality(
                &mut out,
                jpeg_quality.clamp(1, 100),
            ))
        }
        MediaFormat::Png => image.write_with_encoder(PngEncoder::new(&mut out)),
        MediaFormat::Webp => {
            let eight_bit = if image.color().has_alpha() {
                DynamicImage::ImageRgba8(image.to_rgba8())
            } else {
                DynamicImage::ImageRgb8(image.to_rgb8())
            };
            eight_bit.write_with_encoder(WebPEncoder::new_lossless(&mut out))
        }
        MediaFormat::Pdf => return Err(Refusal::Unsupported("not an image".into())),
    };
    written.map_err(|e| Refusal::Undecodable(format!("the image could not be re-encoded: {e}")))?;
    Ok(out)
}

/// An uploaded image, checked and re-encoded.
pub fn clean(format: MediaFormat, bytes: &[u8], limits: &Limits) -> Result<CleanImage, Refusal> {
    let image = decode(format, bytes, limits)?;
    Ok(CleanImage {
        bytes: encode(format, &image, limits.jpeg_quality)?,
        width: image.width(),
        height: image.height(),
    })
}

/// A thumbnail whose longest side is `size` (never enlarged), in the image's own format.
pub fn thumbnail(
    format: MediaFormat,
    bytes: &[u8],
    size: u32,
    limits: &Limits,
) -> Result<CleanImage, Refusal> {
    let image = decode(format, bytes, limits)?;
    let image = if image.width().max(image.height()) > size {
        image.resize(size, size, image::imageops::FilterType::Triangle)
    } else {
        image
    };
    Ok(CleanImage {
        bytes: encode(format, &image, limits.jpeg_quality)?,
        width: image.width(),
        height: image.height(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    fn limits() -> Limits {
        Limits {
            max_bytes: 10 << 20,
            max_pixels: 4_000_000,
            max_side: 4000,
            jpeg_quality: 85,
        }
    }

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(width, height, Rgb([200, 10, 10])));
        encode(MediaFormat::Jpeg, &img, 90).unwrap()
    }

    #[test]
    fn thumbnails_keep_the_aspect_and_never_enlarge() {
        let original = jpeg(400, 200);
        let thumb = thumbnail(MediaFormat::Jpeg, &original, 128, &limits()).unwrap();
        assert_eq!((thumb.width, thumb.height), (128, 64));
        let same = thumbnail(MediaFormat::Jpeg, &original, 1024, &limits()).unwrap();
        assert_eq!((same.width, same.height), (400, 200));
    }

    #[test]
    fn truncated_images_are_refused() {
        let original = jpeg(64, 64);
        assert!(matches!(
            clean(
                MediaFormat::Jpeg,
                &original[..original.len() / 3],
                &limits()
            ),
            Err(Refusal::Undecodable(_))
        ));
    }
}
