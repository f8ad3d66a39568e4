//! Thumbnails for JPEG, PNG, GIF and WebP: EXIF orientation applied, metadata dropped (the
//! thumbnail is a fresh encoding), and decoding bounded so an image bomb is refused from its
//! header before any pixel memory is allocated: by its pixels, and by the bytes those pixels
//! take decoded, which bit depth and channels multiply (a 16-bit RGBA pixel is 8 bytes). Runs
//! on a blocking thread; the caller bounds how many run at once.

use std::io::Cursor;

use image::{ColorType, DynamicImage, ImageBuffer, ImageDecoder, ImageReader, Limits, Pixel};

/// Decoded pixels are put in a buffer of at least this many bytes, which glibc's allocator
/// always maps from the system and unmaps when freed (32 MiB is the most its adaptive mmap
/// threshold rises to). Smaller buffers would be carved from per-thread arenas that keep freed
/// memory, so every blocking thread that ever decoded an image would hold its size for good.
/// Pages never written stay unallocated, so the unused tail costs nothing.
const RETURNED_TO_THE_SYSTEM: usize = (32 << 20) + 4096;

/// How large an image may be, decoded.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub max_pixels: u64,
    /// Bytes of decoded pixels: width x height x bytes per pixel.
    pub max_bytes: u64,
}

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
    #[error(
        "image is {width}x{height} pixels of {color}, {bytes} bytes decoded; the limit is {max} bytes \
         (attachments.max_image_bytes)"
    )]
    TooManyBytes { width: u32, height: u32, color: String, bytes: u64, max: u64 },
    #[error("image cannot be decoded: {0}")]
    Undecodable(String),
}

pub fn make(bytes: &[u8], budget: Budget, size: u32) -> Result<Thumbnail, ThumbnailError> {
    let max_pixels = budget.max_pixels;
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
    limits.max_alloc = Some(budget.max_bytes);
    let mut reader = reader()?;
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| undecodable(&e))?;
    // The header's colour type says how many bytes each pixel takes once decoded.
    let decoded = decoder.total_bytes();
    if decoded > budget.max_bytes {
        let color = format!("{:?}", decoder.color_type());
        return Err(ThumbnailError::TooManyBytes { width, height, color, bytes: decoded, max: budget.max_bytes });
    }
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let image = decode(decoder).map_err(|e| undecodable(&e))?;
    use image::metadata::Orientation::{Rotate90, Rotate90FlipH, Rotate270, Rotate270FlipH};
    let turned = matches!(orientation, Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH);
    let (width, height) = if turned { (image.height(), image.width()) } else { (image.width(), image.height()) };

    // Oriented after shrinking: turning the full image would copy all of it.
    let mut small = image.thumbnail(size, size);
    drop(image);
    small.apply_orientation(orientation);
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

/// The image's pixels, in a buffer whose memory goes back to the system when it is dropped.
fn decode(decoder: impl ImageDecoder) -> image::ImageResult<DynamicImage> {
    let (width, height) = decoder.dimensions();
    Ok(match decoder.color_type() {
        ColorType::L8 => DynamicImage::ImageLuma8(read(decoder, width, height)?),
        ColorType::La8 => DynamicImage::ImageLumaA8(read(decoder, width, height)?),
        ColorType::Rgb8 => DynamicImage::ImageRgb8(read(decoder, width, height)?),
        ColorType::Rgba8 => DynamicImage::ImageRgba8(read(decoder, width, height)?),
        ColorType::L16 => DynamicImage::ImageLuma16(read(decoder, width, height)?),
        ColorType::La16 => DynamicImage::ImageLumaA16(read(decoder, width, height)?),
        ColorType::Rgb16 => DynamicImage::ImageRgb16(read(decoder, width, height)?),
        ColorType::Rgba16 => DynamicImage::ImageRgba16(read(decoder, width, height)?),
        ColorType::Rgb32F => DynamicImage::ImageRgb32F(read(decoder, width, height)?),
        ColorType::Rgba32F => DynamicImage::ImageRgba32F(read(decoder, width, height)?),
        other => {
            let why = image::error::UnsupportedErrorKind::Color(other.into());
            return Err(image::ImageError::Unsupported(image::error::UnsupportedError::from_format_and_kind(
                image::error::ImageFormatHint::Unknown,
                why,
            )));
        }
    })
}

fn read<P>(decoder: impl ImageDecoder, width: u32, height: u32) -> image::ImageResult<ImageBuffer<P, Vec<P::Subpixel>>>
where
    P: Pixel,
    P::Subpixel: bytemuck::Pod,
{
    let total = usize::try_from(decoder.total_bytes()).unwrap_or(usize::MAX);
    let size = std::mem::size_of::<P::Subpixel>();
    let parameter = |what: &str| {
        image::ImageError::Parameter(image::error::ParameterError::from_kind(
            image::error::ParameterErrorKind::Generic(what.to_owned()),
        ))
    };
    // Zeroed, so the allocator maps fresh (already zero) pages instead of writing them.
    let mut buffer =
        vec![<P::Subpixel as bytemuck::Zeroable>::zeroed(); total.max(RETURNED_TO_THE_SYSTEM).div_ceil(size)];
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buffer);
    decoder.read_image(bytes.get_mut(..total).ok_or_else(|| parameter("image size overflows"))?)?;
    ImageBuffer::from_raw(width, height, buffer).ok_or_else(|| parameter("decoded size does not match"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: Budget = Budget { max_pixels: 40_000_000, max_bytes: 160 << 20 };

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
        let made = make(&png_bomb(50_000, 50_000), BUDGET, 320);
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
    fn the_byte_budget_counts_bit_depth_and_channels() {
        // 4000x4000 is within the pixels; at 16-bit RGBA it is 128 MB decoded, at 8-bit 64 MB.
        let mut header = png_bomb(4000, 4000);
        let budget = Budget { max_pixels: 40_000_000, max_bytes: 100_000_000 };
        header[24] = 16; // IHDR's bit depth, and its CRC again
        let crc = crc32(&header[12..29]).to_be_bytes();
        header[29..33].copy_from_slice(&crc);
        let refused = make(&header, budget, 320);
        assert!(
            matches!(&refused, Err(ThumbnailError::TooManyBytes { bytes: 128_000_000, color, .. }) if color == "Rgba16"),
            "{refused:?}"
        );
    }

    #[test]
    fn thumbnails_fit_the_box_and_keep_the_aspect() {
        let image = DynamicImage::ImageRgb8(image::RgbImage::new(800, 400));
        let mut bytes = Cursor::new(Vec::new());
        image.write_to(&mut bytes, image::ImageFormat::Png).unwrap_or_default();
        let thumb = make(bytes.get_ref(), BUDGET, 320).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((thumb.width, thumb.height, thumb.extension), (800, 400, "jpg"));
        let decoded = image::load_from_memory(&thumb.bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((decoded.width(), decoded.height()), (320, 160));
    }
}
