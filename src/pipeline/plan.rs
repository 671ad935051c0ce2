//! Plans: one pipeline sampled for one (image, copy), as plain integers that
//! both backends execute without drawing anything.

use crate::ops::color::ColorMatrix;
use crate::ops::geometry::{Affine, BorderMode, FixedMap, MAX_SIDE};
use bytemuck::{Pod, Zeroable};

/// Flag: the colour matrix is applied.
pub const FLAG_COLOR: u32 = 1;
/// Flag: noise is added.
pub const FLAG_NOISE: u32 = 2;
/// Flag: noise is drawn per channel (otherwise shared by r, g and b).
pub const FLAG_NOISE_PER_CHANNEL: u32 = 4;

/// The integers a backend needs to produce one output image.
///
/// Mirrored field for field by `PlanParams` in `shaders/augment.wgsl`; keep
/// the two in sync. Fixed-point formats are documented in
/// [`crate::ops::geometry`], [`crate::ops::color`] and [`crate::ops::noise`].
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
pub struct PlanParams {
    /// Source width in pixels.
    pub src_w: u32,
    /// Source height in pixels.
    pub src_h: u32,
    /// Output width in pixels.
    pub dst_w: u32,
    /// Output height in pixels.
    pub dst_h: u32,
    /// Inverse map `[a, b, c, d, e, f]`: `a, b, d, e` in Q16, `c, f` in Q8.
    pub map: [i32; 6],
    /// [`BorderMode`] as its number.
    pub border: u32,
    /// Fill colour for the constant border, RGBA packed little-endian.
    pub fill: u32,
    /// Colour matrix rows `[m0, m1, m2, offset]` for r, g, b, in Q12.
    pub color: [i32; 12],
    /// `FLAG_*` bits.
    pub flags: u32,
    /// Noise scale in Q12 (see [`crate::ops::noise`]).
    pub noise_scale: i32,
    /// Key of the per-pixel noise hash.
    pub noise_key: [u32; 2],
}

const _: () = assert!(std::mem::size_of::<PlanParams>() == 112);

impl PlanParams {
    /// Returns the plan that copies a `width x height` image unchanged.
    pub fn identity(width: u32, height: u32) -> Self {
        let mut color = [0; 12];
        color[0] = 1 << 12;
        color[5] = 1 << 12;
        color[10] = 1 << 12;
        Self {
            src_w: width,
            src_h: height,
            dst_w: width,
            dst_h: height,
            map: FixedMap::IDENTITY.coeffs,
            border: BorderMode::Reflect101 as u32,
            fill: u32::from_le_bytes([0, 0, 0, 255]),
            color,
            flags: 0,
            noise_scale: 0,
            noise_key: [0, 0],
        }
    }

    /// Returns the inverse map.
    pub fn fixed_map(&self) -> FixedMap {
        FixedMap { coeffs: self.map }
    }

    /// Returns the border mode.
    pub fn border_mode(&self) -> BorderMode {
        BorderMode::from_u32(self.border).unwrap_or_default()
    }

    /// Returns the fill colour as RGBA.
    pub fn fill_rgba(&self) -> [u8; 4] {
        self.fill.to_le_bytes()
    }

    /// Number of bytes of the RGBA8 output.
    pub fn output_len(&self) -> usize {
        (self.dst_w as usize).saturating_mul(self.dst_h as usize).saturating_mul(4)
    }
}

/// What plan sampling needs to know about a source image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SourceInfo {
    /// Width in pixels, after EXIF orientation.
    pub width: u32,
    /// Height in pixels, after EXIF orientation.
    pub height: u32,
    /// Mean red, green and blue over all pixels, 0-255.
    pub mean_rgb: [f64; 3],
}

impl SourceInfo {
    /// Measures an RGBA8 image.
    pub fn measure(width: u32, height: u32, rgba: &[u8]) -> Self {
        let mut sums = [0u64; 3];
        for px in rgba.chunks_exact(4) {
            sums[0] += u64::from(px[0]);
            sums[1] += u64::from(px[1]);
            sums[2] += u64::from(px[2]);
        }
        let n = (u64::from(width) * u64::from(height)).max(1) as f64;
        Self {
            width,
            height,
            mean_rgb: sums.map(|s| s as f64 / n),
        }
    }
}

/// One pipeline sampled for one (image, copy).
#[derive(Debug, Clone, PartialEq)]
pub struct AugmentPlan {
    /// The integers the backends execute.
    pub params: PlanParams,
    /// The operations applied, with their drawn parameters, in pipeline order.
    pub applied: Vec<serde_json::Value>,
}

/// Why a plan could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The geometric operations collapse the image to a line or a point.
    #[error("the geometric operations make a singular map")]
    SingularMap,
    /// A value leaves the fixed-point bit budget.
    #[error("the sampled {stage} parameters exceed the fixed-point limits; narrow the ranges")]
    FixedPointOverflow {
        /// "geometry" or "colour".
        stage: &'static str,
    },
    /// The image or the output is wider or taller than the limit.
    #[error("image size {width}x{height} is outside 1..={max} pixels per side")]
    Size {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// The largest side allowed.
        max: u32,
    },
}

/// Accumulates the sampled operations of one plan.
#[derive(Debug, Clone)]
pub struct PlanBuilder {
    source: SourceInfo,
    size: (u32, u32),
    forward: Affine,
    border: BorderMode,
    fill: [u8; 4],
    color: Option<ColorMatrix>,
    noise: Option<(i32, bool, [u32; 2])>,
}

impl PlanBuilder {
    /// Starts a plan for a source image.
    pub fn new(source: SourceInfo) -> Self {
        Self {
            source,
            size: (source.width, source.height),
            forward: Affine::IDENTITY,
            border: BorderMode::Reflect101,
            fill: [0, 0, 0, 255],
            color: None,
            noise: None,
        }
    }

    /// Returns the image size after the geometric operations added so far.
    pub fn size(&self) -> (u32, u32) {
        self.size
    }

    /// Appends a forward map (current pixel centres to new ones) and the new size.
    pub fn push_geometry(&mut self, map: Affine, size: (u32, u32)) {
        self.forward = self.forward.then(&map);
        self.size = size;
    }

    /// Sets the border mode and fill; the last geometric operation that sets
    /// them wins, because one sampling pass has one border.
    pub fn set_border(&mut self, border: BorderMode, fill: [u8; 4]) {
        self.border = border;
        self.fill = fill;
    }

    /// Appends a colour transform.
    pub fn push_color(&mut self, m: ColorMatrix) {
        self.color = Some(match self.color {
            Some(current) => current.then(&m),
            None => m,
        });
    }

    /// Returns the mean luma of the source after the colour transforms added so far.
    ///
    /// Colour transforms are affine, so the mean colour maps exactly.
    pub fn mean_luma(&self) -> f64 {
        let mean = match &self.color {
            Some(m) => m.apply(self.source.mean_rgb),
            None => self.source.mean_rgb,
        };
        crate::ops::color::LUMA.iter().zip(mean).map(|(w, v)| w * v).sum()
    }

    /// Sets the noise scale (Q12), its channel mode and its hash key.
    pub fn set_noise(&mut self, scale: i32, per_channel: bool, key: [u32; 2]) {
        self.noise = Some((scale, per_channel, key));
    }

    /// Quantizes everything into [`PlanParams`].
    pub fn finish(self) -> Result<PlanParams, PlanError> {
        let (dst_w, dst_h) = self.size;
        for (width, height) in [(self.source.width, self.source.height), (dst_w, dst_h)] {
            if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
                return Err(PlanError::Size {
                    width,
                    height,
                    max: MAX_SIDE,
                });
            }
        }

        let inverse = self.forward.inverse().ok_or(PlanError::SingularMap)?;
        let map = FixedMap::quantize(&inverse).ok_or(PlanError::FixedPointOverflow { stage: "geometry" })?;

        let mut params = PlanParams::identity(self.source.width, self.source.height);
        params.dst_w = dst_w;
        params.dst_h = dst_h;
        params.map = map.coeffs;
        params.border = self.border as u32;
        params.fill = u32::from_le_bytes(self.fill);

        if let Some(m) = self.color {
            params.color = m.quantize().ok_or(PlanError::FixedPointOverflow { stage: "colour" })?;
            params.flags |= FLAG_COLOR;
        }
        if let Some((scale, per_channel, key)) = self.noise {
            if scale > 0 {
                params.flags |= FLAG_NOISE;
                if per_channel {
                    params.flags |= FLAG_NOISE_PER_CHANNEL;
                }
                params.noise_scale = scale;
                params.noise_key = key;
            }
        }
        Ok(params)
    }
}
