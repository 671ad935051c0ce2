//! Per-pixel noise drawn from the counter-based hash, in fixed point.
//!
//! Output pixel `(x, y)` hashes `pcg4d([x, y, key0, key1])`; channel `c`
//! uses word `c` (or word 0 for all channels when the noise is shared).
//! [`byte_sum_centred`] turns a word into an approximate gaussian `n` in
//! `-510..=510` with standard deviation [`NOISE_SUM_STD`], and the plan's
//! Q12 scale turns it into pixel levels:
//!
//! ```text
//! delta = (n * scale + 2048) >> 12;  v' = clamp(v + delta, 0, 255)
//! ```
//!
//! Bit budget: `|n| <= 510 < 2^9` and `scale <= MAX_NOISE_SCALE < 2^13`, so
//! `n * scale < 2^22`.

use crate::rng::{byte_sum_centred, pcg4d, NOISE_SUM_STD};

/// Fractional bits of the noise scale.
pub const NOISE_FRAC_BITS: u32 = 12;
/// Largest noise scale: a standard deviation of 255 levels, in Q12.
pub const MAX_NOISE_SCALE: i32 = 7068;

/// Returns the Q12 scale for a standard deviation of `std_levels` pixel levels.
pub fn noise_scale(std_levels: f64) -> i32 {
    let q = (std_levels / NOISE_SUM_STD * f64::from(1u32 << NOISE_FRAC_BITS)).round();
    (q as i32).clamp(0, MAX_NOISE_SCALE)
}

/// Adds noise to one RGBA pixel at output position `(x, y)`, the reference
/// definition.
///
/// Mirrored by `apply_noise` in `shaders/augment.wgsl`.
#[inline(always)]
pub fn apply_noise_pixel(px: [u8; 4], x: u32, y: u32, key: [u32; 2], scale: i32, per_channel: bool) -> [u8; 4] {
    let hash = pcg4d([x, y, key[0], key[1]]);
    let mut out = px;
    for c in 0..3 {
        let word = if per_channel { hash[c] } else { hash[0] };
        let delta = (byte_sum_centred(word) * scale + (1 << (NOISE_FRAC_BITS - 1))) >> NOISE_FRAC_BITS;
        out[c] = (i32::from(px[c]) + delta).clamp(0, 255) as u8;
    }
    out
}

/// The scalar reference noise kernel over a whole RGBA8 image of `width` columns.
pub fn noise_reference(pixels: &mut [u8], width: u32, key: [u32; 2], scale: i32, per_channel: bool) {
    for (i, px) in pixels.chunks_exact_mut(4).enumerate() {
        let (x, y) = ((i % width as usize) as u32, (i / width as usize) as u32);
        let out = apply_noise_pixel([px[0], px[1], px[2], px[3]], x, y, key, scale, per_channel);
        px.copy_from_slice(&out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_has_requested_spread() {
        let scale = noise_scale(10.0);
        let mut sum_sq = 0.0;
        let n = 50_000u32;
        for i in 0..n {
            let out = apply_noise_pixel([128, 128, 128, 255], i % 300, i / 300, [3, 4], scale, true);
            let d = f64::from(out[0]) - 128.0;
            sum_sq += d * d;
        }
        let std = (sum_sq / f64::from(n)).sqrt();
        assert!((std - 10.0).abs() < 0.5, "std {std}");
    }

    #[test]
    fn shared_noise_keeps_gray_gray() {
        let scale = noise_scale(20.0);
        for i in 0..1000 {
            let out = apply_noise_pixel([100, 100, 100, 7], i, 3, [1, 2], scale, false);
            assert_eq!(out[0], out[1]);
            assert_eq!(out[1], out[2]);
            assert_eq!(out[3], 7);
        }
    }

    #[test]
    fn zero_scale_is_identity() {
        assert_eq!(apply_noise_pixel([1, 2, 3, 4], 5, 6, [7, 8], 0, true), [1, 2, 3, 4]);
    }
}
