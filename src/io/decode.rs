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
    /// 80 megapixels: above the 48-50 MP of most high-resolution phone and
    /// camera photos, and 320 MiB as RGBA8.
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
    /// The image has more pixels than the limit allows.
    #[error("image is {width}x{height} ({megapixels:.1} megapixels), above the limit of {limit_megapixels:.1} megapixels; raise --max-megapixels to accept it")]
    TooLarge {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
        /// Width times height, in millions.
        megapixels: f64,
        /// The pixel limit, in millions.
        limit_megapixels: f64,
    },
    /// The image is wider or taller than any image augmenta handles.
    #[error("image is {width}x{height}, above the largest side augmenta handles ({max_side} pixels)")]
    SideTooLong {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
        /// The side limit, [`MAX_SIDE`].
        max_side: u32,
    },
    /// The file ends before the image data does.
    #[error("truncated {format} file: the data ends before the end-of-image marker")]
    Truncated {
        /// "JPEG" or "PNG".
        format: &'static str,
    },
    /// A valid file in a variant the decoder does not support.
    #[error("unsupported {0}")]
    Unsupported(&'static str),
    /// The header contains a value no valid file has.
    #[error("corrupt {format} header: {detail}")]
    CorruptHeader {
        /// "PNG".
        format: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The decoder failed (truncated, corrupt or unsupported variant).
    #[error("{}", tidy_decoder_message(&.0.to_string()))]
    Decode(#[source] image::ImageError),
}

/// Shortens the `png` crate's debug dump of a chunk type,
/// `ChunkType { type: IDAT, critical: true, ... }`, to `IDAT chunk`, and
/// replaces unprintable chunk names with "an invalid".
fn tidy_decoder_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find("ChunkType { type: ") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "ChunkType { type: ".len()..];
        let Some(end) = after.find(" }") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = after.split(',').next().unwrap_or("");
        let printable = name.len() == 4 && name.bytes().all(|b| b.is_ascii_alphabetic());
        if printable {
            out.push_str(name);
        } else {
            out.push_str("an invalid");
        }
        rest = &after[end + 2..];
        if !rest.trim_start().starts_with("chunk") {
            out.push_str(" chunk");
        }
    }
    out.push_str(rest);
    out
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
    let format = image::guess_format(bytes).ok();
    match decode_with_image(bytes, limits) {
        Err(DecodeError::Decode(error)) if format == Some(ImageFormat::Jpeg) => {
            // zune-jpeg rejects some files with good pixels and a damaged
            // header segment (a short APP14, for one); jpeg-decoder reads
            // them. When both fail, the first decoder's reason is kept.
            decode_jpeg_fallback(bytes, limits).map_err(|_| DecodeError::Decode(error))
        }
        // The png crate reports a file cut short as a bare "unexpected end
        // of file"; with no IEND chunk, the end-of-image marker of PNG, the
        // cause is certain.
        Err(DecodeError::Decode(error))
            if format == Some(ImageFormat::Png)
                && error.to_string().contains("end of file")
                && !bytes.windows(4).any(|w| w == b"IEND") =>
        {
            Err(DecodeError::Truncated { format: "PNG" })
        }
        other => other,
    }
}

fn decode_with_image(bytes: &[u8], limits: &DecodeLimits) -> Result<DecodedImage, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(DecodeError::Read)?;
    let format = reader.format().ok_or(DecodeError::UnknownFormat)?;
    match format {
        ImageFormat::Jpeg => check_jpeg_structure(bytes)?,
        ImageFormat::Png => check_png_header(bytes)?,
        _ => {}
    }

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

/// Decodes a JPEG with `jpeg-decoder`, under the same size limits.
fn decode_jpeg_fallback(bytes: &[u8], limits: &DecodeLimits) -> Result<DecodedImage, DecodeError> {
    let unreadable = || DecodeError::Unsupported("JPEG variant");
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.read_info().map_err(|_| unreadable())?;
    let info = decoder.info().ok_or_else(unreadable)?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    check_size(width, height, limits)?;
    let pixels = decoder.decode().map_err(|_| unreadable())?;
    let rgba: Vec<u8> = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => pixels.iter().flat_map(|&v| [v, v, v, 255]).collect(),
        jpeg_decoder::PixelFormat::L16 => pixels
            .chunks_exact(2)
            .flat_map(|v| {
                let v = v[0];
                [v, v, v, 255]
            })
            .collect(),
        jpeg_decoder::PixelFormat::RGB24 => pixels.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect(),
        // NOTE: assumes Adobe's inverted CMYK, the form Photoshop writes;
        // only files that zune-jpeg rejects take this path.
        jpeg_decoder::PixelFormat::CMYK32 => pixels
            .chunks_exact(4)
            .flat_map(|p| {
                let k = u16::from(p[3]);
                let channel = |c: u8| ((u16::from(c) * k + 127) / 255) as u8;
                [channel(p[0]), channel(p[1]), channel(p[2]), 255]
            })
            .collect(),
    };
    let mut image = DynamicImage::ImageRgba8(image::RgbaImage::from_raw(width, height, rgba).ok_or_else(unreadable)?);
    let orientation = decoder
        .exif_data()
        .and_then(|exif| Orientation::from_exif_chunk(exif.strip_prefix(b"Exif\0\0").unwrap_or(exif)))
        .unwrap_or(Orientation::NoTransforms);
    image.apply_orientation(orientation);
    Ok(DecodedImage {
        rgba: image.into_rgba8(),
        has_alpha: false,
        format: ImageFormat::Jpeg,
    })
}

fn check_size(width: u32, height: u32, limits: &DecodeLimits) -> Result<(), DecodeError> {
    if width == 0 || height == 0 {
        return Err(DecodeError::ZeroSize { width, height });
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(DecodeError::TooLarge {
            width,
            height,
            megapixels: pixels as f64 / 1e6,
            limit_megapixels: limits.max_pixels as f64 / 1e6,
        });
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(DecodeError::SideTooLong {
            width,
            height,
            max_side: MAX_SIDE,
        });
    }
    Ok(())
}

/// Rejects JPEG files that the decoder would turn into wrong pixels
/// without an error: arithmetic-coded ones, which it cannot read, and
/// truncated ones, which it pads with garbage.
///
/// Entropy-coded data escapes every 0xFF byte, so an end-of-image marker
/// (FF D9) after the last start-of-scan marker (FF DA) means the last scan
/// is complete. A thumbnail's own markers come before the main image's
/// scans, so they do not count.
fn check_jpeg_structure(bytes: &[u8]) -> Result<(), DecodeError> {
    // Walk the marker segments of the header up to the first scan.
    let mut pos = 2;
    while pos + 4 <= bytes.len() && bytes[pos] == 0xFF {
        let marker = bytes[pos + 1];
        if marker == 0xFF {
            pos += 1;
            continue;
        }
        if matches!(marker, 0xC9..=0xCB | 0xCD..=0xCF) {
            return Err(DecodeError::Unsupported("arithmetic-coded JPEG (SOF9-SOF15)"));
        }
        if marker == 0xDA {
            break;
        }
        let length = usize::from(u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]));
        pos += 2 + length;
    }
    let last_scan = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    let complete = match last_scan {
        Some(scan) => bytes[scan..].windows(2).any(|w| w == [0xFF, 0xD9]),
        None => false,
    };
    if complete {
        Ok(())
    } else {
        Err(DecodeError::Truncated { format: "JPEG" })
    }
}

/// Rejects a PNG whose header names a compression or filter method other
/// than 0, the only ones the PNG standard defines.
fn check_png_header(bytes: &[u8]) -> Result<(), DecodeError> {
    // Signature (8), IHDR length and type (8), width, height (8), bit depth,
    // colour type, then the compression and filter methods.
    if bytes.len() < 29 || &bytes[12..16] != b"IHDR" {
        return Ok(());
    }
    let (compression, filter) = (bytes[26], bytes[27]);
    if compression != 0 || filter != 0 {
        return Err(DecodeError::CorruptHeader {
            format: "PNG",
            detail: format!("compression method {compression} and filter method {filter}; only 0 is defined"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_type_dumps_are_shortened() {
        assert_eq!(
            tidy_decoder_message(
                "CRC error: expected 0x1 have 0x2 while decoding ChunkType { type: IDAT, critical: true, private: false } chunk."
            ),
            "CRC error: expected 0x1 have 0x2 while decoding IDAT chunk."
        );
        assert_eq!(
            tidy_decoder_message("ChunkType { type: ô¨\u{81}á, critical: false } chunk appeared before IHDR chunk"),
            "an invalid chunk appeared before IHDR chunk"
        );
        assert_eq!(tidy_decoder_message("unexpected end of file"), "unexpected end of file");
    }
}
