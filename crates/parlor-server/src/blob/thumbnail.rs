//! Thumbnails for JPEG, PNG, GIF and WebP: EXIF orientation applied, metadata dropped (the
//! thumbnail is a fresh encoding), and decoding bounded so an image bomb is refused from its
//! header before any pixel memory is allocated. Runs on a blocking thread.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

/// Decoding may allocate at most this much, whatever the header says.
const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

#[derive(Debug)]
pub struct Thumbnail {
    /// The original's size after orientation.
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
    /// `png` for images with transparency, else `jpg`.
    pub extension: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum ThumbnailError {
    #[error("image is {width}x{height} pixels; the limit is {max} pixels")]
    TooLarge { width: u32, height: u32, max: u64 },
    #[error("image cannot be decoded: {0}")]
    Undecodable(String),
}

pub fn make(bytes: &[u8], max_pixels: u64, size: u32) -> Result<Thumbnail, ThumbnailError> {
    let undecodable = |e: &dyn std::fmt::Display| ThumbnailError::Undecodable(e.to_string());
    let reader = || ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| undecodable(&e));
    // The header alone tells the size; no limits here, so a huge one is reported, not hidden.
    let mut probe = reader()?;
    probe.no_limits();
    let (width, height) = probe.into_dimensions().map_err(|e| undecodable(&e))?;
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(ThumbnailError::TooLarge { width, height, max: max_pixels });
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    let mut reader = reader()?;
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| undecodable(&e))?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| undecodable(&e))?;
    image.apply_orientation(orientation);
    let (width, height) = (image.width(), image.height());

    let small = image.thumbnail(size, size);
    let mut out = Cursor::new(Vec::new());
    let extension = if small.color().has_alpha() {
        small.write_to(&mut out, image::ImageFormat::Png).map_err(|e| undecodable(&e))?;
        "png"
    } else {
        DynamicImage::ImageRgb8(small.to_rgb8())
            .write_to(&mut out, image::ImageFormat::Jpeg)
            .map_err(|e| undecodable(&e))?;
        "jpg"
    };
    Ok(Thumbnail { width, height, bytes: out.into_inner(), extension })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A well-formed PNG declaring `width`x`height` pixels, with a tiny IDAT behind it.
    pub(crate) fn png_bomb(width: u32, height: u32) -> Vec<u8> {
        fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
            out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(0).to_be_bytes());
            let mut body = kind.to_vec();
            body.extend_from_slice(data);
            out.extend_from_slice(&body);
            out.extend_from_slice(&crc32(&body).to_be_bytes());
        }
        let mut header = width.to_be_bytes().to_vec();
        header.extend_from_slice(&height.to_be_bytes());
        header.extend_from_slice(&[8, 6, 0, 0, 0]);
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        chunk(&mut png, b"IHDR", &header);
        chunk(&mut png, b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        chunk(&mut png, b"IEND", &[]);
        png
    }

    #[test]
    fn a_header_declaring_a_huge_image_is_refused_before_decoding() {
        let made = make(&png_bomb(50_000, 50_000), 40_000_000, 320);
        assert!(matches!(made, Err(ThumbnailError::TooLarge { width: 50_000, .. })), "{made:?}");
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for byte in bytes {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    #[test]
    fn thumbnails_fit_the_box_and_keep_the_aspect() {
        let image = DynamicImage::ImageRgb8(image::RgbImage::new(800, 400));
        let mut bytes = Cursor::new(Vec::new());
        image.write_to(&mut bytes, image::ImageFormat::Png).unwrap_or_default();
        let thumb = make(bytes.get_ref(), 40_000_000, 320).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((thumb.width, thumb.height, thumb.extension), (800, 400, "jpg"));
        let decoded = image::load_from_memory(&thumb.bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((decoded.width(), decoded.height()), (320, 160));
    }
}
