//! Decoding: any supported file to upright RGBA8, under explicit limits.

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use std::io::Cursor;
use std::path::Path;

use crate::ops::geometry::MAX_SIDE;

/// Limits applied before any pixel memory is allocated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeLimits {
    /// Largest image accepted, in pixels (width times height).
    pub max_pixels: u64,
}

impl Default for DecodeLimits {
    /// 80 megapixels: above the largest phone and camera photos in common
    /// use (50 MP), and 320 MiB as RGBA8.
    fn default() -> Self {
        Self { max_pixels: 80_000_000 }
    }
}

/// A decoded, upright image.
#[derive(Debug, Clone)]
pub struct DecodedImage {
    /// The pixels, EXIF orientation applied.
    pub rgba: image::RgbaImage,
    /// True when the file has an alpha channel or a transparency key.
    pub has_alpha: bool,
    /// The container format the content was detected as.
    pub format: ImageFormat,
}

/// Why a file could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The file could not be read.
    #[error("cannot read file: {0}")]
    Read(#[source] std::io::Error),
    /// The file has no bytes.
    #[error("empty file (0 bytes)")]
    Empty,
    /// The content is not a format augmenta decodes.
    #[error("not a supported image format (supported: JPEG, PNG, GIF, WebP, TIFF, BMP)")]
    UnknownFormat,
    /// The header gives a zero width or height.
    #[error("invalid dimensions {width}x{height}")]
    ZeroSize {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
    },
    /// The image is larger than the limits allow.
    #[error("image is {width}x{height} ({megapixels:.1} megapixels), above the limit of {limit_megapixels:.1} megapixels and {max_side} pixels per side; raise --max-megapixels to accept it")]
    TooLarge {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
        /// Width times height, in millions.
        megapixels: f64,
        /// The pixel limit, in millions.
        limit_megapixels: f64,
        /// The side limit.
        max_side: u32,
    },
    /// The decoder failed (truncated, corrupt or unsupported variant).
    #[error("{0}")]
    Decode(#[source] image::ImageError),
}

/// Decodes the file at `path`; see [`decode_bytes`].
pub fn decode_file(path: &Path, limits: &DecodeLimits) -> Result<DecodedImage, DecodeError> {
    let bytes = std::fs::read(path).map_err(DecodeError::Read)?;
    decode_bytes(&bytes, limits)
}

/// Decodes an encoded image to upright RGBA8.
///
/// The format is detected from the content, never the file name. The size
/// from the header is checked against `limits` before pixels are
/// allocated, so a decompression bomb costs nothing. EXIF orientation is
/// applied for every format that carries it, including the hex-encoded
/// "Raw profile type exif" text chunk that ImageMagick writes into PNG.
/// Animated GIF, PNG and WebP files give their first frame.
pub fn decode_bytes(bytes: &[u8], limits: &DecodeLimits) -> Result<DecodedImage, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(DecodeError::Read)?;
    let format = reader.format().ok_or(DecodeError::UnknownFormat)?;

    let mut decoder_limits = Limits::default();
    decoder_limits.max_image_width = Some(MAX_SIDE);
    decoder_limits.max_image_height = Some(MAX_SIDE);
    // Room for the largest accepted image at 16 bits per channel, plus the
    // decoder's own buffers.
    decoder_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8).saturating_add(64 << 20));

    // The header is read under the allocation limit only, so that an
    // oversized image is reported below with its own dimensions.
    let mut header_limits = Limits::no_limits();
    header_limits.max_alloc = decoder_limits.max_alloc;
    let mut reader = reader;
    reader.limits(header_limits);
    let mut decoder = reader.into_decoder().map_err(DecodeError::Decode)?;
    let (width, height) = decoder.dimensions();
    check_size(width, height, limits)?;
    decoder.set_limits(decoder_limits).map_err(DecodeError::Decode)?;

    let mut orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    if orientation == Orientation::NoTransforms {
        let found = match format {
            ImageFormat::Png => png_text_orientation(bytes),
            ImageFormat::WebP => webp_exif_orientation(bytes),
            _ => None,
        };
        orientation = found.unwrap_or(Orientation::NoTransforms);
    }
    let has_alpha = decoder.color_type().has_alpha();

    let mut image = DynamicImage::from_decoder(decoder).map_err(DecodeError::Decode)?;
    image.apply_orientation(orientation);
    Ok(DecodedImage {
        rgba: image.into_rgba8(),
        has_alpha,
        format,
    })
}

fn check_size(width: u32, height: u32, limits: &DecodeLimits) -> Result<(), DecodeError> {
    if width == 0 || height == 0 {
        return Err(DecodeError::ZeroSize { width, height });
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels || width > MAX_SIDE || height > MAX_SIDE {
        return Err(DecodeError::TooLarge {
            width,
            height,
            megapixels: pixels as f64 / 1e6,
            limit_megapixels: limits.max_pixels as f64 / 1e6,
            max_side: MAX_SIDE,
        });
    }
    Ok(())
}

/// Reads the EXIF orientation from the `EXIF` chunk of a WebP (RIFF) file,
/// which the `image` crate's WebP decoder does not report.
fn webp_exif_orientation(bytes: &[u8]) -> Option<Orientation> {
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WEBP" {
        return None;
    }
    let mut pos = 12;
    while pos + 8 <= bytes.len() {
        let kind = &bytes[pos..pos + 4];
        let length = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().ok()?) as usize;
        let data = bytes.get(pos + 8..pos + 8 + length)?;
        if kind == b"EXIF" {
            let tiff = data.strip_prefix(b"Exif\0\0").unwrap_or(data);
            return Orientation::from_exif_chunk(tiff);
        }
        // Chunks are padded to an even length.
        pos += 8 + length + (length & 1);
    }
    None
}

/// Reads the EXIF orientation from a PNG `tEXt` chunk with the keyword
/// "Raw profile type exif", which holds the EXIF block as hex digits after a
/// three-line header ("\nexif\n<length>\n").
fn png_text_orientation(bytes: &[u8]) -> Option<Orientation> {
    const KEYWORD: &[u8] = b"Raw profile type exif\0";
    let mut pos = 8;
    while pos + 12 <= bytes.len() {
        let length = u32::from_be_bytes(bytes[pos..pos + 4].try_into().ok()?) as usize;
        let kind = &bytes[pos + 4..pos + 8];
        let data = bytes.get(pos + 8..pos + 8 + length)?;
        if kind == b"IDAT" || kind == b"IEND" {
            return None;
        }
        if kind == b"tEXt" && data.starts_with(KEYWORD) {
            let text = std::str::from_utf8(&data[KEYWORD.len()..]).ok()?;
            let mut lines = text.trim_start().splitn(3, '\n');
            let _name = lines.next()?;
            let _length = lines.next()?;
            let hex: Vec<u8> = lines.next()?.bytes().filter(u8::is_ascii_hexdigit).collect();
            let exif: Vec<u8> = hex
                .chunks_exact(2)
                .filter_map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
                .collect();
            let tiff = exif.strip_prefix(b"Exif\0\0").unwrap_or(&exif);
            return Orientation::from_exif_chunk(tiff);
        }
        pos += 12 + length;
    }
    None
}
