//! Colour: the composed 3x4 colour matrix and its scalar reference kernel.
//!
//! Brightness, contrast, saturation, hue and grayscale are all affine in
//! RGB, so a plan composes them, in pipeline order, into one matrix in
//! `f64` and quantizes it once to Q12. Each pixel is then
//!
//! ```text
//! r' = clamp((m0 * r + m1 * g + m2 * b + m3 + 2048) >> 12, 0, 255)
//! ```
//!
//! and likewise for g and b; alpha is left alone. Clamping happens once, at
//! the end, instead of after every operation as torchvision does, so a
//! brightness boost followed by a contrast cut keeps detail that torchvision
//! would have clipped in between.
//!
//! Bit budget: `|m0..m2| <= MAX_COLOR_COEFF = 2^19` (128.0) and pixel values
//! `<= 255 < 2^8`, so each product is `< 2^27` and three are `< 2^29`;
//! `|m3| <= MAX_COLOR_OFFSET = 2^29`, so the sum stays `< 2^30`.

/// Fractional bits of the colour matrix.
pub const COLOR_FRAC_BITS: u32 = 12;
/// Largest magnitude of a matrix coefficient, in Q12 (128.0).
pub const MAX_COLOR_COEFF: i32 = 1 << 19;
/// Largest magnitude of a matrix offset, in Q12 (131072 levels).
pub const MAX_COLOR_OFFSET: i32 = 1 << 29;

/// Rec. 601 luma weights, as torchvision and OpenCV use for RGB to gray.
pub const LUMA: [f64; 3] = [0.299, 0.587, 0.114];

/// A colour transform `rgb' = M rgb + t`, as rows `[m0, m1, m2, t]`, in
/// pixel units (0..=255).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColorMatrix {
    /// The three rows, for red, green and blue.
    pub rows: [[f64; 4]; 3],
}

impl ColorMatrix {
    /// The identity transform.
    pub const IDENTITY: ColorMatrix = ColorMatrix {
        rows: [
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
        ],
    };

    /// Returns the transform that applies `self` first and then `next`.
    pub fn then(&self, next: &ColorMatrix) -> ColorMatrix {
        let a = &next.rows;
        let b = &self.rows;
        let mut rows = [[0.0; 4]; 3];
        for (r, row) in rows.iter_mut().enumerate() {
            for c in 0..4 {
                row[c] = (0..3).map(|k| a[r][k] * b[k][c]).sum::<f64>();
            }
            row[3] += a[r][3];
        }
        ColorMatrix { rows }
    }

    /// Applies the transform to a colour, without clamping.
    pub fn apply(&self, rgb: [f64; 3]) -> [f64; 3] {
        self.rows
            .map(|row| row[0] * rgb[0] + row[1] * rgb[1] + row[2] * rgb[2] + row[3])
    }

    /// Scales every channel by `factor` (brightness).
    pub fn brightness(factor: f64) -> ColorMatrix {
        let mut m = ColorMatrix::IDENTITY;
        for (r, row) in m.rows.iter_mut().enumerate() {
            row[r] = factor;
        }
        m
    }

    /// Blends every channel with the constant `pivot`: `pivot + factor * (v - pivot)`.
    pub fn contrast(factor: f64, pivot: f64) -> ColorMatrix {
        let mut m = ColorMatrix::brightness(factor);
        for row in &mut m.rows {
            row[3] = (1.0 - factor) * pivot;
        }
        m
    }

    /// Blends each pixel with its own luma: `luma + factor * (v - luma)`.
    pub fn saturation(factor: f64) -> ColorMatrix {
        let mut rows = [[0.0; 4]; 3];
        for (r, row) in rows.iter_mut().enumerate() {
            for c in 0..3 {
                let identity = if r == c { 1.0 } else { 0.0 };
                row[c] = (1.0 - factor) * LUMA[c] + factor * identity;
            }
        }
        ColorMatrix { rows }
    }

    /// Replaces each pixel by its luma (saturation 0).
    pub fn grayscale() -> ColorMatrix {
        ColorMatrix::saturation(0.0)
    }

    /// Rotates the hue by `turns` of a full circle, as a rotation of the
    /// chroma plane (I, Q) of YIQ; luma is unchanged.
    pub fn hue(turns: f64) -> ColorMatrix {
        const RGB_TO_YIQ: [[f64; 3]; 3] = [
            [0.299, 0.587, 0.114],
            [0.595_716, -0.274_453, -0.321_263],
            [0.211_456, -0.522_591, 0.311_135],
        ];
        let yiq_to_rgb = invert3(&RGB_TO_YIQ);
        let (sin, cos) = (turns * std::f64::consts::TAU).sin_cos();
        let rotate = [[1.0, 0.0, 0.0], [0.0, cos, -sin], [0.0, sin, cos]];
        let m = mul3(&yiq_to_rgb, &mul3(&rotate, &RGB_TO_YIQ));
        let mut rows = [[0.0; 4]; 3];
        for r in 0..3 {
            rows[r][..3].copy_from_slice(&m[r]);
        }
        ColorMatrix { rows }
    }

    /// Quantizes to Q12, or returns `None` if a value leaves the bit budget.
    pub fn quantize(&self) -> Option<[i32; 12]> {
        let mut out = [0i32; 12];
        for (r, row) in self.rows.iter().enumerate() {
            for (c, &v) in row.iter().enumerate() {
                let q = (v * f64::from(1u32 << COLOR_FRAC_BITS)).round();
                let limit = if c == 3 { MAX_COLOR_OFFSET } else { MAX_COLOR_COEFF };
                if q.abs() > f64::from(limit) {
                    return None;
                }
                out[r * 4 + c] = q as i32;
            }
        }
        Some(out)
    }
}

fn mul3(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut out = [[0.0; 3]; 3];
    for r in 0..3 {
        for c in 0..3 {
            out[r][c] = (0..3).map(|k| a[r][k] * b[k][c]).sum();
        }
    }
    out
}

fn invert3(m: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    let mut out = [[0.0; 3]; 3];
    for r in 0..3 {
        for c in 0..3 {
            // Cofactor of (c, r), which transposes the adjugate.
            let (r1, r2) = ((c + 1) % 3, (c + 2) % 3);
            let (c1, c2) = ((r + 1) % 3, (r + 2) % 3);
            out[r][c] = (m[r1][c1] * m[r2][c2] - m[r1][c2] * m[r2][c1]) / det;
        }
    }
    out
}

/// Applies a Q12 colour matrix to one RGBA pixel, the reference definition.
///
/// Mirrored by `apply_color` in `shaders/augment.wgsl`.
#[inline(always)]
pub fn apply_color_pixel(m: &[i32; 12], px: [u8; 4]) -> [u8; 4] {
    let (r, g, b) = (i32::from(px[0]), i32::from(px[1]), i32::from(px[2]));
    let channel = |row: usize| {
        let sum = m[row * 4] * r + m[row * 4 + 1] * g + m[row * 4 + 2] * b + m[row * 4 + 3];
        ((sum + (1 << (COLOR_FRAC_BITS - 1))) >> COLOR_FRAC_BITS).clamp(0, 255) as u8
    };
    [channel(0), channel(1), channel(2), px[3]]
}

/// The scalar reference colour kernel over a whole RGBA8 image.
pub fn color_reference(pixels: &mut [u8], m: &[i32; 12]) {
    for px in pixels.chunks_exact_mut(4) {
        let out = apply_color_pixel(m, [px[0], px[1], px[2], px[3]]);
        px.copy_from_slice(&out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_quantizes_to_exact_identity() {
        let q = ColorMatrix::IDENTITY.quantize().unwrap();
        for v in [0u8, 1, 127, 254, 255] {
            assert_eq!(apply_color_pixel(&q, [v, v / 2, 255 - v, 9]), [v, v / 2, 255 - v, 9]);
        }
    }

    #[test]
    fn hue_keeps_gray_gray() {
        let q = ColorMatrix::hue(0.21).quantize().unwrap();
        for v in [0u8, 40, 128, 200, 255] {
            let out = apply_color_pixel(&q, [v, v, v, 255]);
            assert!(out[0].abs_diff(v) <= 1 && out[1].abs_diff(v) <= 1 && out[2].abs_diff(v) <= 1, "{v}: {out:?}");
        }
    }

    #[test]
    fn hue_full_turn_is_identity() {
        let m = ColorMatrix::hue(1.0);
        let out = m.apply([200.0, 30.0, 90.0]);
        for (o, e) in out.iter().zip([200.0, 30.0, 90.0]) {
            assert!((o - e).abs() < 1e-6);
        }
    }

    #[test]
    fn grayscale_gives_equal_channels() {
        let q = ColorMatrix::grayscale().quantize().unwrap();
        let out = apply_color_pixel(&q, [255, 0, 0, 255]);
        assert_eq!(out, [76, 76, 76, 255]);
    }

    #[test]
    fn contrast_pivots_on_mean() {
        let m = ColorMatrix::contrast(0.5, 100.0);
        assert_eq!(m.apply([100.0, 200.0, 0.0]), [100.0, 150.0, 50.0]);
    }
}
