//! Geometry: the composed affine map, border modes and the scalar reference
//! warp in integer fixed point.
//!
//! Every geometric operation of a plan is composed in `f64` into one forward
//! map (input pixel centre to output pixel centre). Its inverse is quantized
//! once: the coefficients `a, b, d, e` in Q16 and the offsets `c, f` in Q8.
//! For output pixel `(x, y)` the source position in Q8 is
//!
//! ```text
//! sx = mul_q16_q8(a, x) + mul_q16_q8(b, y) + c
//! sy = mul_q16_q8(d, x) + mul_q16_q8(e, y) + f
//! ```
//!
//! and the pixel is sampled bilinearly with Q8 weights. The same arithmetic
//! is in `shaders/augment.wgsl`.
//!
//! Bit budget (every step fits in `i32`, which WGSL requires):
//! - `x, y < MAX_SIDE = 2^14`, so `x >> 8 < 2^6` and `x & 255 < 2^8`.
//! - `|a| <= MAX_MAP_COEFF = 2^20` (16.0 in Q16): `a * (x >> 8) < 2^26` and
//!   `a * (x & 255) < 2^28`, so `|mul_q16_q8(a, x)| < 2^26 + 2^20`.
//! - `|c| <= MAX_MAP_OFFSET = 2^28`: `|sx| < 2^28 + 2^28 = 2^29`.
//! - Tap indices `sx >> 8` stay within `±2^21`, and border modes reduce them
//!   with a period of at most `2 * MAX_SIDE`.
//! - Bilinear: weights are `(256 - f) * (256 - g) <= 2^16`, pixel values
//!   `<= 255`, so the four-tap sum is `< 2^24`.

use serde::{Deserialize, Serialize};

/// Fractional bits of the map coefficients `a, b, d, e`.
pub const COEFF_FRAC_BITS: u32 = 16;
/// Fractional bits of source positions and of the offsets `c, f`.
pub const POS_FRAC_BITS: u32 = 8;
/// Largest width or height, in pixels, of any input or output image.
pub const MAX_SIDE: u32 = 16384;
/// Largest magnitude of a map coefficient, in Q16 (16.0).
pub const MAX_MAP_COEFF: i32 = 1 << 20;
/// Largest magnitude of a map offset, in Q8 (2^20 pixels).
pub const MAX_MAP_OFFSET: i32 = 1 << 28;

/// How a source position outside the image is mapped back inside it.
///
/// The numbering is shared with `shaders/augment.wgsl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[repr(u32)]
pub enum BorderMode {
    /// Pixels outside the image take the fill colour.
    Constant = 0,
    /// The edge pixel is repeated: `aaaa|abcd|dddd`.
    Replicate = 1,
    /// Mirrored including the edge pixel: `dcba|abcd|dcba`.
    Reflect = 2,
    /// Mirrored about the edge pixel, OpenCV's default: `dcb|abcd|cba`.
    #[default]
    #[serde(alias = "reflect_101")]
    Reflect101 = 3,
    /// The image tiles the plane: `abcd|abcd|abcd`.
    Wrap = 4,
}

impl BorderMode {
    /// Every mode, in the order of their numbers.
    pub const ALL: [BorderMode; 5] = [
        BorderMode::Constant,
        BorderMode::Replicate,
        BorderMode::Reflect,
        BorderMode::Reflect101,
        BorderMode::Wrap,
    ];

    /// Returns the mode for its shader number.
    pub fn from_u32(value: u32) -> Option<Self> {
        Self::ALL.get(value as usize).copied()
    }

    /// Returns the name used in pipeline files.
    pub fn name(self) -> &'static str {
        match self {
            BorderMode::Constant => "constant",
            BorderMode::Replicate => "replicate",
            BorderMode::Reflect => "reflect",
            BorderMode::Reflect101 => "reflect101",
            BorderMode::Wrap => "wrap",
        }
    }
}

/// Maps index `i` into `0..n` by `mode`; `None` means "use the fill colour".
///
/// Mirrored by `border_index` in `shaders/augment.wgsl`.
#[inline(always)]
pub fn border_index(i: i32, n: i32, mode: BorderMode) -> Option<i32> {
    if (0..n).contains(&i) {
        return Some(i);
    }
    // The first reflection or wrap is handled without a division, because
    // it is by far the most common case: rotations reach at most one image
    // size beyond the edge. Farther indices use the period.
    match mode {
        BorderMode::Constant => None,
        BorderMode::Replicate => Some(i.clamp(0, n - 1)),
        BorderMode::Reflect => {
            if (-n..0).contains(&i) {
                return Some(-i - 1);
            }
            if (n..2 * n).contains(&i) {
                return Some(2 * n - 1 - i);
            }
            let m = i.rem_euclid(2 * n);
            Some(if m >= n { 2 * n - 1 - m } else { m })
        }
        BorderMode::Reflect101 => {
            if n == 1 {
                return Some(0);
            }
            if (1 - n..0).contains(&i) {
                return Some(-i);
            }
            if (n..2 * n - 1).contains(&i) {
                return Some(2 * n - 2 - i);
            }
            let period = 2 * n - 2;
            let m = i.rem_euclid(period);
            Some(if m >= n { period - m } else { m })
        }
        BorderMode::Wrap => {
            if (-n..0).contains(&i) {
                return Some(i + n);
            }
            if (n..2 * n).contains(&i) {
                return Some(i - n);
            }
            Some(i.rem_euclid(n))
        }
    }
}

/// Multiplies a Q16 coefficient by a pixel index and returns the Q8 product.
///
/// The index is split into `256 * hi + lo` so that no intermediate leaves
/// 32 bits; the result equals `floor(coeff * index / 256)` exactly.
#[inline(always)]
pub fn mul_q16_q8(coeff: i32, index: u32) -> i32 {
    let hi = (index >> 8) as i32;
    let lo = (index & 255) as i32;
    coeff * hi + ((coeff * lo) >> 8)
}

/// A 2-D affine map `p' = M p + t` in `f64`, as rows `[m00, m01, t0]` and
/// `[m10, m11, t1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    /// The two rows of the map.
    pub rows: [[f64; 3]; 2],
}

impl Affine {
    /// The identity map.
    pub const IDENTITY: Affine = Affine {
        rows: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
    };

    /// Returns the map that applies `self` first and then `next`.
    pub fn then(&self, next: &Affine) -> Affine {
        let a = &next.rows;
        let b = &self.rows;
        let mut rows = [[0.0; 3]; 2];
        for (r, row) in rows.iter_mut().enumerate() {
            row[0] = a[r][0] * b[0][0] + a[r][1] * b[1][0];
            row[1] = a[r][0] * b[0][1] + a[r][1] * b[1][1];
            row[2] = a[r][0] * b[0][2] + a[r][1] * b[1][2] + a[r][2];
        }
        Affine { rows }
    }

    /// Returns the inverse map, or `None` if the map is singular.
    pub fn inverse(&self) -> Option<Affine> {
        let [[a, b, c], [d, e, f]] = self.rows;
        let det = a * e - b * d;
        if det.abs() < 1e-12 {
            return None;
        }
        let (ia, ib, id, ie) = (e / det, -b / det, -d / det, a / det);
        Some(Affine {
            rows: [[ia, ib, -(ia * c + ib * f)], [id, ie, -(id * c + ie * f)]],
        })
    }

    /// Maps point `(x, y)`.
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let [[a, b, c], [d, e, f]] = self.rows;
        (a * x + b * y + c, d * x + e * y + f)
    }
}

/// The quantized inverse map of a plan: source position (Q8) from output index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedMap {
    /// `[a, b, c, d, e, f]`: `a, b, d, e` in Q16, `c, f` in Q8.
    pub coeffs: [i32; 6],
}

impl FixedMap {
    /// The identity map.
    pub const IDENTITY: FixedMap = FixedMap {
        coeffs: [1 << 16, 0, 0, 0, 1 << 16, 0],
    };

    /// Quantizes an inverse map, or returns `None` if a value leaves the bit budget.
    pub fn quantize(inverse: &Affine) -> Option<FixedMap> {
        let [[a, b, c], [d, e, f]] = inverse.rows;
        let coeff = |v: f64| {
            let q = (v * f64::from(1u32 << COEFF_FRAC_BITS)).round();
            (q.abs() <= f64::from(MAX_MAP_COEFF)).then_some(q as i32)
        };
        let offset = |v: f64| {
            let q = (v * f64::from(1u32 << POS_FRAC_BITS)).round();
            (q.abs() <= f64::from(MAX_MAP_OFFSET)).then_some(q as i32)
        };
        Some(FixedMap {
            coeffs: [coeff(a)?, coeff(b)?, offset(c)?, coeff(d)?, coeff(e)?, offset(f)?],
        })
    }

    /// Returns the Q8 source position of output pixel `(x, y)`.
    #[inline(always)]
    pub fn source_q8(&self, x: u32, y: u32) -> (i32, i32) {
        let [a, b, c, d, e, f] = self.coeffs;
        (
            mul_q16_q8(a, x) + mul_q16_q8(b, y) + c,
            mul_q16_q8(d, x) + mul_q16_q8(e, y) + f,
        )
    }

    /// True when every output pixel maps exactly onto a source pixel centre
    /// along the axes (identity, flips, quarter turns, integer shifts).
    pub fn is_pixel_exact(&self) -> bool {
        let [a, b, c, d, e, f] = self.coeffs;
        let unit = |v: i32| v == 0 || v == 1 << 16 || v == -(1 << 16);
        [a, b, d, e].into_iter().all(unit)
            && (a == 0) != (b == 0)
            && (d == 0) != (e == 0)
            && c % 256 == 0
            && f % 256 == 0
    }
}

/// Reads the RGBA pixel at `(x, y)` with border handling.
#[inline(always)]
fn tap(src: &[u8], width: u32, height: u32, x: i32, y: i32, border: BorderMode, fill: [u8; 4]) -> [u8; 4] {
    match (
        border_index(x, width as i32, border),
        border_index(y, height as i32, border),
    ) {
        (Some(x), Some(y)) => {
            let i = (y as usize * width as usize + x as usize) * 4;
            [src[i], src[i + 1], src[i + 2], src[i + 3]]
        }
        _ => fill,
    }
}

/// Samples `src` bilinearly at Q8 position `(sx, sy)`, the reference
/// definition of one output pixel of the geometry stage.
///
/// Mirrored by `sample_bilinear` in `shaders/augment.wgsl`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn sample_bilinear(
    src: &[u8],
    width: u32,
    height: u32,
    sx: i32,
    sy: i32,
    border: BorderMode,
    fill: [u8; 4],
) -> [u8; 4] {
    let x0 = sx >> POS_FRAC_BITS;
    let y0 = sy >> POS_FRAC_BITS;
    let fx = sx & 255;
    let fy = sy & 255;
    let weights = [
        (256 - fx) * (256 - fy),
        fx * (256 - fy),
        (256 - fx) * fy,
        fx * fy,
    ];
    let taps = [
        tap(src, width, height, x0, y0, border, fill),
        tap(src, width, height, x0 + 1, y0, border, fill),
        tap(src, width, height, x0, y0 + 1, border, fill),
        tap(src, width, height, x0 + 1, y0 + 1, border, fill),
    ];
    let mut out = [0u8; 4];
    for (c, value) in out.iter_mut().enumerate() {
        let sum: i32 = taps.iter().zip(weights).map(|(t, w)| i32::from(t[c]) * w).sum();
        *value = ((sum + (1 << 15)) >> 16) as u8;
    }
    out
}

/// The scalar reference warp: fills `dst` (RGBA8, `dst_w * dst_h`) from
/// `src` (RGBA8, `src_w * src_h`) through `map`.
#[allow(clippy::too_many_arguments)]
pub fn warp_reference(
    src: &[u8],
    src_w: u32,
    src_h: u32,
    dst: &mut [u8],
    dst_w: u32,
    dst_h: u32,
    map: &FixedMap,
    border: BorderMode,
    fill: [u8; 4],
) {
    for y in 0..dst_h {
        for x in 0..dst_w {
            let (sx, sy) = map.source_q8(x, y);
            let px = sample_bilinear(src, src_w, src_h, sx, sy, border, fill);
            let i = (y as usize * dst_w as usize + x as usize) * 4;
            dst[i..i + 4].copy_from_slice(&px);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn border_modes_match_opencv_patterns() {
        // n = 4, indices -3..=6, the patterns documented on BorderMode.
        let n = 4;
        let run = |mode| (-3..=6).map(|i| border_index(i, n, mode).unwrap_or(-1)).collect::<Vec<_>>();
        assert_eq!(run(BorderMode::Replicate), [0, 0, 0, 0, 1, 2, 3, 3, 3, 3]);
        assert_eq!(run(BorderMode::Reflect), [2, 1, 0, 0, 1, 2, 3, 3, 2, 1]);
        assert_eq!(run(BorderMode::Reflect101), [3, 2, 1, 0, 1, 2, 3, 2, 1, 0]);
        assert_eq!(run(BorderMode::Wrap), [1, 2, 3, 0, 1, 2, 3, 0, 1, 2]);
        assert_eq!(run(BorderMode::Constant), [-1, -1, -1, 0, 1, 2, 3, -1, -1, -1]);
    }

    #[test]
    fn border_modes_handle_single_pixel_and_far_indices() {
        for mode in [BorderMode::Replicate, BorderMode::Reflect, BorderMode::Reflect101, BorderMode::Wrap] {
            assert_eq!(border_index(-1_000_000, 1, mode), Some(0));
            let far = border_index(2_000_000, 7, mode).unwrap();
            assert!((0..7).contains(&far));
        }
    }

    #[test]
    fn border_shortcuts_match_period_formulas() {
        for n in [1, 2, 3, 7] {
            for i in -40..40 {
                let reflect = {
                    let m = i32::rem_euclid(i, 2 * n);
                    if m >= n { 2 * n - 1 - m } else { m }
                };
                assert_eq!(border_index(i, n, BorderMode::Reflect), Some(reflect), "reflect {i} {n}");
                let reflect101 = if n == 1 {
                    0
                } else {
                    let m = i32::rem_euclid(i, 2 * n - 2);
                    if m >= n { 2 * n - 2 - m } else { m }
                };
                assert_eq!(border_index(i, n, BorderMode::Reflect101), Some(reflect101), "reflect101 {i} {n}");
                assert_eq!(border_index(i, n, BorderMode::Wrap), Some(i32::rem_euclid(i, n)), "wrap {i} {n}");
            }
        }
    }

    #[test]
    fn mul_q16_q8_is_exact_floor() {
        for coeff in [-(MAX_MAP_COEFF), -65536, -12345, -1, 0, 1, 777, 65536, 91_000, MAX_MAP_COEFF] {
            for index in [0u32, 1, 255, 256, 257, 4095, MAX_SIDE - 1] {
                let exact = (i64::from(coeff) * i64::from(index)).div_euclid(256);
                assert_eq!(i64::from(mul_q16_q8(coeff, index)), exact, "{coeff} * {index}");
            }
        }
    }

    #[test]
    fn affine_inverse_round_trips() {
        let t = Affine {
            rows: [[0.8, -0.6, 10.0], [0.6, 0.8, -4.0]],
        };
        let back = t.then(&t.inverse().unwrap());
        for (row, id) in back.rows.iter().zip(Affine::IDENTITY.rows) {
            for (v, e) in row.iter().zip(id) {
                assert!((v - e).abs() < 1e-12);
            }
        }
    }
}
