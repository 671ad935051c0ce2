//! Encoding augmented RGBA8 images to JPEG or PNG bytes.

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder, ImageFormat};
use serde::{Deserialize, Serialize};

/// The output file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// JPEG for JPEG inputs, PNG for every other input (lossless, keeps alpha).
    #[default]
    Same,
    /// JPEG; alpha is composited on [`JPEG_BACKGROUND`].
    Jpg,
    /// PNG; RGBA when the input has alpha, RGB otherwise.
    Png,
}

impl OutputFormat {
    /// Returns the file extension of outputs made from an input whose
    /// content is `input_format`; alpha and quality never change it.
    pub fn extension(self, input_format: ImageFormat) -> &'static str {
        Encoding::resolve(self, input_format, false, 90).extension()
    }
}

/// The colour that transparent pixels are composited on for JPEG output.
pub const JPEG_BACKGROUND: [u8; 3] = [255, 255, 255];

/// A concrete encoding: the format after resolving [`OutputFormat::Same`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// JPEG at a quality of 1-100.
    Jpeg {
        /// The quality, 1-100.
        quality: u8,
    },
    /// PNG, with or without the alpha channel.
    Png {
        /// Whether the alpha channel is written.
        alpha: bool,
    },
}

impl Encoding {
    /// Resolves the encoding for one input.
    pub fn resolve(format: OutputFormat, input_format: ImageFormat, has_alpha: bool, quality: u8) -> Self {
        match format {
            OutputFormat::Jpg => Encoding::Jpeg { quality },
            OutputFormat::Png => Encoding::Png { alpha: has_alpha },
            OutputFormat::Same if input_format == ImageFormat::Jpeg => Encoding::Jpeg { quality },
            OutputFormat::Same => Encoding::Png { alpha: has_alpha },
        }
    }

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Encoding::Jpeg { .. } => "jpg",
            Encoding::Png { .. } => "png",
        }
    }
}

/// Why an image could not be encoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The JPEG encoder failed.
    #[error("JPEG encoding failed: {0}")]
    Jpeg(#[from] jpeg_encoder::EncodingError),
    /// The PNG encoder failed.
    #[error("PNG encoding failed: {0}")]
    Png(#[from] image::ImageError),
    /// The image is too large for the format.
    #[error("{width}x{height} is too large for JPEG (65535 pixels per side at most)")]
    TooLarge {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
}

/// Encodes an RGBA8 image into `out` (cleared first).
pub fn encode(rgba: &[u8], width: u32, height: u32, encoding: Encoding, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    out.clear();
    // A quarter of the raw size covers a quality-90 JPEG of a photo, so the
    // buffer rarely grows (and copies) while the encoder writes.
    out.reserve(rgba.len() / 4);
    match encoding {
        Encoding::Jpeg { quality } => {
            let (Ok(w16), Ok(h16)) = (u16::try_from(width), u16::try_from(height)) else {
                return Err(EncodeError::TooLarge { width, height });
            };
            let mut encoder = jpeg_encoder::Encoder::new(&mut *out, quality.clamp(1, 100));
            // 4:2:0 chroma subsampling at every quality is the default of
            // libjpeg, OpenCV and Pillow. jpeg-encoder would switch to 4:4:4
            // at quality 90 and above, which doubles the entropy-coding work.
            encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
            if is_opaque(rgba) {
                encoder.encode(rgba, w16, h16, jpeg_encoder::ColorType::Rgba)?;
            } else {
                let rgb = composite_rgb(rgba, JPEG_BACKGROUND);
                encoder.encode(&rgb, w16, h16, jpeg_encoder::ColorType::Rgb)?;
            }
        }
        Encoding::Png { alpha } => {
            let encoder = PngEncoder::new_with_quality(&mut *out, CompressionType::Fast, FilterType::Adaptive);
            if alpha {
                encoder.write_image(rgba, width, height, ExtendedColorType::Rgba8)?;
            } else {
                let rgb = composite_rgb(rgba, [0, 0, 0]);
                encoder.write_image(&rgb, width, height, ExtendedColorType::Rgb8)?;
            }
        }
    }
    Ok(())
}

/// True when every pixel's alpha is 255.
///
/// The pixels are ANDed together as words without an early exit, a loop the
/// compiler vectorizes; a per-pixel `all` is several times slower.
fn is_opaque(rgba: &[u8]) -> bool {
    let all = rgba
        .chunks_exact(4)
        .fold(u32::MAX, |acc, px| acc & u32::from_le_bytes([px[0], px[1], px[2], px[3]]));
    all >> 24 == 255
}

/// Drops the alpha channel, compositing each pixel on `background`.
///
/// Opaque pixels are copied unchanged; the blend is `(c * a + bg * (255 - a) + 127) / 255`.
pub fn composite_rgb(rgba: &[u8], background: [u8; 3]) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(rgba.len() / 4 * 3);
    for px in rgba.chunks_exact(4) {
        let a = u32::from(px[3]);
        if a == 255 {
            rgb.extend_from_slice(&px[..3]);
        } else {
            for c in 0..3 {
                let v = (u32::from(px[c]) * a + u32::from(background[c]) * (255 - a) + 127) / 255;
                rgb.push(v as u8);
            }
        }
    }
    rgb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transparent_pixels_composite_on_background() {
        let rgb = composite_rgb(&[10, 20, 30, 255, 0, 0, 0, 0, 200, 0, 0, 128], JPEG_BACKGROUND);
        assert_eq!(&rgb[..6], &[10, 20, 30, 255, 255, 255]);
        assert_eq!(rgb[6], 227);
    }

    #[test]
    fn opacity_check_finds_one_transparent_pixel() {
        let mut rgba = vec![255u8; 4 * 1000];
        assert!(is_opaque(&rgba));
        rgba[4 * 777 + 3] = 254;
        assert!(!is_opaque(&rgba));
    }

    #[test]
    fn jpeg_output_decodes_to_same_size() {
        let rgba: Vec<u8> = (0..32 * 24 * 4).map(|i| (i % 251) as u8).collect();
        let mut out = Vec::new();
        encode(&rgba, 32, 24, Encoding::Jpeg { quality: 90 }, &mut out).unwrap();
        let decoded = image::load_from_memory(&out).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (32, 24));
    }
}
