//! The CPU backend: the scalar reference pipeline and the fused row
//! executor that must match it byte for byte.
//!
//! The reference runs the three stages one after the other over the whole
//! image, pixel by pixel, through the definitions in [`crate::ops`]. The
//! fused executor does all three stages for one output row while the row is
//! in cache, with per-image lookup tables instead of per-pixel
//! multiplications where it can, and rayon over row bands when asked.

use crate::ops::color::{color_reference, COLOR_FRAC_BITS};
use crate::ops::geometry::{border_index, mul_q16_q8, sample_bilinear, warp_reference, POS_FRAC_BITS};
use crate::ops::noise::{noise_reference, NOISE_FRAC_BITS};
use crate::pipeline::plan::{PlanParams, FLAG_COLOR, FLAG_NOISE, FLAG_NOISE_PER_CHANNEL};
use crate::rng::byte_sum_centred;
use rayon::prelude::*;

/// Output rows per rayon task in [`execute_par`]: 16 rows of a 1024-pixel
/// image are 64 KiB of output, enough work to hide the task overhead while
/// leaving a 512-row image 32 tasks to balance over the threads.
pub const ROWS_PER_TASK: usize = 16;

/// A size mismatch between a plan and the buffers given to a backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} buffer has {got} bytes, but the plan needs {expected} (RGBA8, {width}x{height})")]
pub struct BufferSizeError {
    /// "source" or "output".
    pub what: &'static str,
    /// The length the plan needs.
    pub expected: usize,
    /// The length given.
    pub got: usize,
    /// The image width the plan expects.
    pub width: u32,
    /// The image height the plan expects.
    pub height: u32,
}

fn check_sizes(src: &[u8], plan: &PlanParams, dst: &[u8]) -> Result<(), BufferSizeError> {
    let src_len = (plan.src_w as usize).saturating_mul(plan.src_h as usize).saturating_mul(4);
    // An empty source has nothing to sample, so it can only make an empty output.
    let src_needed = if src_len == 0 && plan.output_len() > 0 { 4 } else { src_len };
    if src.len() != src_len || src_needed != src_len {
        return Err(BufferSizeError {
            what: "source",
            expected: src_needed,
            got: src.len(),
            width: plan.src_w,
            height: plan.src_h,
        });
    }
    if dst.len() != plan.output_len() {
        return Err(BufferSizeError {
            what: "output",
            expected: plan.output_len(),
            got: dst.len(),
            width: plan.dst_w,
            height: plan.dst_h,
        });
    }
    Ok(())
}

/// Runs a plan with the scalar reference kernels, stage by stage.
///
/// This is the definition of a plan's output; it is slow and meant for tests.
pub fn execute_reference(src: &[u8], plan: &PlanParams, dst: &mut [u8]) -> Result<(), BufferSizeError> {
    check_sizes(src, plan, dst)?;
    if dst.is_empty() {
        return Ok(());
    }
    warp_reference(
        src,
        plan.src_w,
        plan.src_h,
        dst,
        plan.dst_w,
        plan.dst_h,
        &plan.fixed_map(),
        plan.border_mode(),
        plan.fill_rgba(),
    );
    if plan.flags & FLAG_COLOR != 0 {
        color_reference(dst, &plan.color);
    }
    if plan.flags & FLAG_NOISE != 0 {
        noise_reference(
            dst,
            plan.dst_w,
            plan.noise_key,
            plan.noise_scale,
            plan.flags & FLAG_NOISE_PER_CHANNEL != 0,
        );
    }
    Ok(())
}

/// Runs a plan with the fused executor on the calling thread.
pub fn execute(src: &[u8], plan: &PlanParams, dst: &mut [u8]) -> Result<(), BufferSizeError> {
    check_sizes(src, plan, dst)?;
    if dst.is_empty() {
        return Ok(());
    }
    let tables = ColumnTables::new(plan);
    let row_len = plan.dst_w as usize * 4;
    for (y, row) in dst.chunks_exact_mut(row_len).enumerate() {
        fused_row(src, plan, &tables, y as u32, row);
    }
    Ok(())
}

/// Runs a plan with the fused executor, rows split over the rayon pool.
pub fn execute_par(src: &[u8], plan: &PlanParams, dst: &mut [u8]) -> Result<(), BufferSizeError> {
    check_sizes(src, plan, dst)?;
    if dst.is_empty() {
        return Ok(());
    }
    let tables = ColumnTables::new(plan);
    let row_len = plan.dst_w as usize * 4;
    dst.par_chunks_mut(row_len * ROWS_PER_TASK)
        .enumerate()
        .for_each(|(band, rows)| {
            for (i, row) in rows.chunks_exact_mut(row_len).enumerate() {
                fused_row(src, plan, &tables, (band * ROWS_PER_TASK + i) as u32, row);
            }
        });
    Ok(())
}

/// The column terms of the inverse map, `mul_q16_q8(a, x)` and
/// `mul_q16_q8(d, x)`, computed once per image.
struct ColumnTables {
    sx: Vec<i32>,
    sy: Vec<i32>,
    pixel_exact: bool,
}

impl ColumnTables {
    fn new(plan: &PlanParams) -> Self {
        let [a, _, _, d, _, _] = plan.map;
        Self {
            sx: (0..plan.dst_w).map(|x| mul_q16_q8(a, x)).collect(),
            sy: (0..plan.dst_w).map(|x| mul_q16_q8(d, x)).collect(),
            pixel_exact: plan.fixed_map().is_pixel_exact(),
        }
    }
}

/// Produces output row `y`: geometry, then colour, then noise.
fn fused_row(src: &[u8], plan: &PlanParams, tables: &ColumnTables, y: u32, row: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        unsafe { fused_row_avx2(src, plan, tables, y, row) };
        return;
    }
    fused_row_generic(src, plan, tables, y, row);
}

/// [`fused_row_generic`] compiled with AVX2: its 8-lane 32-bit multiplies
/// roughly halve the time of the bilinear sums and the noise hash, which
/// SSE2 (the x86-64 baseline) can only do 4 lanes at a time or not at all.
/// Both versions run the same integer code, so they give the same bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fused_row_avx2(src: &[u8], plan: &PlanParams, tables: &ColumnTables, y: u32, row: &mut [u8]) {
    fused_row_generic(src, plan, tables, y, row);
}

#[inline(always)]
fn fused_row_generic(src: &[u8], plan: &PlanParams, tables: &ColumnTables, y: u32, row: &mut [u8]) {
    geometry_row(src, plan, tables, y, row);
    if plan.flags & (FLAG_COLOR | FLAG_NOISE) != 0 {
        color_noise_row(plan, y, row);
    }
}

#[inline(always)]
fn geometry_row(src: &[u8], plan: &PlanParams, tables: &ColumnTables, y: u32, row: &mut [u8]) {
    let [_, b, c, _, e, f] = plan.map;
    let row_sx = mul_q16_q8(b, y) + c;
    let row_sy = mul_q16_q8(e, y) + f;
    if tables.pixel_exact {
        pixel_exact_row(src, plan, tables, row_sx, row_sy, row);
        return;
    }

    let (w, h) = (plan.src_w as i32, plan.src_h as i32);
    let stride = plan.src_w as usize * 4;
    let border = plan.border_mode();
    let fill = plan.fill;

    for (block_ix, chunk) in row.chunks_mut(BLOCK * 4).enumerate() {
        let first = block_ix * BLOCK;
        let n = chunk.len() / 4;
        let mut sx = [0i32; BLOCK];
        let mut sy = [0i32; BLOCK];
        sx[..n].copy_from_slice(&tables.sx[first..first + n]);
        sy[..n].copy_from_slice(&tables.sy[first..first + n]);
        for i in 0..BLOCK {
            sx[i] += row_sx;
            sy[i] += row_sy;
        }

        // Gather the four taps of every pixel; taps outside the image go
        // through the border mode.
        let mut taps = [[0u32; BLOCK]; 4];
        for i in 0..n {
            let x0 = sx[i] >> POS_FRAC_BITS;
            let y0 = sy[i] >> POS_FRAC_BITS;
            if x0 >= 0 && x0 + 1 < w && y0 >= 0 && y0 + 1 < h {
                let at = y0 as usize * stride + x0 as usize * 4;
                (taps[0][i], taps[1][i]) = load_pair(src, at);
                (taps[2][i], taps[3][i]) = load_pair(src, at + stride);
            } else {
                // Each of the two columns and rows is mapped once.
                let columns = [border_index(x0, w, border), border_index(x0 + 1, w, border)];
                let rows = [border_index(y0, h, border), border_index(y0 + 1, h, border)];
                for (t, tap) in taps.iter_mut().enumerate() {
                    tap[i] = match (columns[t & 1], rows[t >> 1]) {
                        (Some(x), Some(y)) => load_u32(src, y as usize * stride + x as usize * 4),
                        _ => fill,
                    };
                }
            }
        }

        // The reference sum, per channel, over all lanes at once.
        let mut weights = [[0u32; BLOCK]; 4];
        for i in 0..BLOCK {
            let fx = (sx[i] & 255) as u32;
            let fy = (sy[i] & 255) as u32;
            weights[0][i] = (256 - fx) * (256 - fy);
            weights[1][i] = fx * (256 - fy);
            weights[2][i] = (256 - fx) * fy;
            weights[3][i] = fx * fy;
        }
        let mut out = [0u32; BLOCK];
        for shift in [0, 8, 16, 24] {
            for i in 0..BLOCK {
                let sum = ((taps[0][i] >> shift) & 255) * weights[0][i]
                    + ((taps[1][i] >> shift) & 255) * weights[1][i]
                    + ((taps[2][i] >> shift) & 255) * weights[2][i]
                    + ((taps[3][i] >> shift) & 255) * weights[3][i];
                out[i] |= ((sum + (1 << 15)) >> 16) << shift;
            }
        }
        store_block(&out, chunk);
    }
}

#[inline(always)]
fn load_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes"))
}

/// Loads up to [`BLOCK`] RGBA pixels as little-endian words.
///
/// The full-block case is written word by word on a fixed-size array, which
/// the compiler turns into vector loads. A `memcpy`-style bulk copy would be
/// a library call here, because the AVX2 row kernel cannot inline it.
#[inline(always)]
fn load_block(chunk: &[u8]) -> [u32; BLOCK] {
    let mut words = [0u32; BLOCK];
    if let Ok(full) = <&[u8; BLOCK * 4]>::try_from(chunk) {
        for (i, word) in words.iter_mut().enumerate() {
            *word = u32::from_le_bytes([full[4 * i], full[4 * i + 1], full[4 * i + 2], full[4 * i + 3]]);
        }
    } else {
        for (word, px) in words.iter_mut().zip(chunk.chunks_exact(4)) {
            *word = load_u32(px, 0);
        }
    }
    words
}

/// Stores the first `chunk.len() / 4` words of a block as RGBA bytes.
#[inline(always)]
fn store_block(words: &[u32; BLOCK], chunk: &mut [u8]) {
    if let Ok(full) = <&mut [u8; BLOCK * 4]>::try_from(&mut *chunk) {
        for (i, word) in words.iter().enumerate() {
            let bytes = word.to_le_bytes();
            full[4 * i] = bytes[0];
            full[4 * i + 1] = bytes[1];
            full[4 * i + 2] = bytes[2];
            full[4 * i + 3] = bytes[3];
        }
    } else {
        for (word, px) in words.iter().zip(chunk.chunks_exact_mut(4)) {
            px.copy_from_slice(&word.to_le_bytes());
        }
    }
}

/// Loads two horizontally adjacent pixels with one bounds check.
#[inline(always)]
fn load_pair(bytes: &[u8], at: usize) -> (u32, u32) {
    let pair = u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"));
    (pair as u32, (pair >> 32) as u32)
}

/// Fills a row of a map that hits pixel centres exactly (flips, quarter
/// turns, integer shifts) by copying pixels along a straight source line.
fn pixel_exact_row(src: &[u8], plan: &PlanParams, tables: &ColumnTables, row_sx: i32, row_sy: i32, row: &mut [u8]) {
    let (w, h) = (plan.src_w as i32, plan.src_h as i32);
    let n = row.len() / 4;
    let first = ((tables.sx[0] + row_sx) >> POS_FRAC_BITS, (tables.sy[0] + row_sy) >> POS_FRAC_BITS);
    let last = (
        (tables.sx[n - 1] + row_sx) >> POS_FRAC_BITS,
        (tables.sy[n - 1] + row_sy) >> POS_FRAC_BITS,
    );
    let inside = |(x, y): (i32, i32)| x >= 0 && x < w && y >= 0 && y < h;
    if inside(first) && inside(last) {
        // The source line is straight, so both ends inside means all inside.
        let step_x = plan.map[0] >> 16;
        let step_y = plan.map[3] >> 16;
        let step = (step_y as isize * w as isize + step_x as isize) * 4;
        let mut i = (first.1 as isize * w as isize + first.0 as isize) * 4;
        if step == 4 {
            let start = i as usize;
            row.copy_from_slice(&src[start..start + row.len()]);
            return;
        }
        for out in row.chunks_exact_mut(4) {
            let at = i as usize;
            out.copy_from_slice(&src[at..at + 4]);
            i += step;
        }
        return;
    }
    let border = plan.border_mode();
    let fill = plan.fill_rgba();
    for (x, out) in row.chunks_exact_mut(4).enumerate() {
        let sx = tables.sx[x] + row_sx;
        let sy = tables.sy[x] + row_sy;
        out.copy_from_slice(&sample_bilinear(src, plan.src_w, plan.src_h, sx, sy, border, fill));
    }
}

/// Pixels per block of the colour and noise stages: the block is
/// deinterleaved into per-channel arrays so each step is a loop over 16
/// lanes that the compiler turns into SIMD.
const BLOCK: usize = 16;

#[inline(always)]
fn color_noise_row(plan: &PlanParams, y: u32, row: &mut [u8]) {
    const COLOR_HALF: i32 = 1 << (COLOR_FRAC_BITS - 1);
    const NOISE_HALF: i32 = 1 << (NOISE_FRAC_BITS - 1);
    let m = &plan.color;
    let color = plan.flags & FLAG_COLOR != 0;
    let noise = plan.flags & FLAG_NOISE != 0;
    let per_channel = plan.flags & FLAG_NOISE_PER_CHANNEL != 0;
    let scale = plan.noise_scale;
    let [k0, k1] = plan.noise_key;

    for (block_ix, chunk) in row.chunks_mut(BLOCK * 4).enumerate() {
        let mut words = load_block(chunk);
        let mut rgb = [[0i32; BLOCK]; 3];
        for (c, channel) in rgb.iter_mut().enumerate() {
            for i in 0..BLOCK {
                channel[i] = ((words[i] >> (8 * c)) & 255) as i32;
            }
        }

        if color {
            let [r, g, b] = rgb;
            for (c, out) in rgb.iter_mut().enumerate() {
                let (m0, m1, m2, m3) = (m[4 * c], m[4 * c + 1], m[4 * c + 2], m[4 * c + 3] + COLOR_HALF);
                for i in 0..BLOCK {
                    out[i] = ((m0 * r[i] + m1 * g[i] + m2 * b[i] + m3) >> COLOR_FRAC_BITS).clamp(0, 255);
                }
            }
        }

        if noise {
            let x0 = (block_ix * BLOCK) as u32;
            let mut xs = [0u32; BLOCK];
            for (i, x) in xs.iter_mut().enumerate() {
                *x = x0 + i as u32;
            }
            let words = pcg4d_lanes(&xs, y, k0, k1);
            for (c, channel) in rgb.iter_mut().enumerate() {
                let word = if per_channel { &words[c] } else { &words[0] };
                for i in 0..BLOCK {
                    let delta = (byte_sum_centred(word[i]) * scale + NOISE_HALF) >> NOISE_FRAC_BITS;
                    channel[i] = (channel[i] + delta).clamp(0, 255);
                }
            }
        }

        for i in 0..BLOCK {
            words[i] = (words[i] & 0xff00_0000)
                | rgb[0][i] as u32
                | (rgb[1][i] as u32) << 8
                | (rgb[2][i] as u32) << 16;
        }
        store_block(&words, chunk);
    }
}

/// [`crate::rng::pcg4d`] of `[x, y, k0, k1]` for 16 values of `x` at once, step by step
/// over all lanes so that each step vectorizes.
#[inline(always)]
fn pcg4d_lanes(xs: &[u32; BLOCK], y: u32, k0: u32, k1: u32) -> [[u32; BLOCK]; 4] {
    const MUL: u32 = 1_664_525;
    const ADD: u32 = 1_013_904_223;
    let mut v = [[0u32; BLOCK]; 4];
    for i in 0..BLOCK {
        v[0][i] = xs[i].wrapping_mul(MUL).wrapping_add(ADD);
        v[1][i] = y.wrapping_mul(MUL).wrapping_add(ADD);
        v[2][i] = k0.wrapping_mul(MUL).wrapping_add(ADD);
        v[3][i] = k1.wrapping_mul(MUL).wrapping_add(ADD);
    }
    for round in 0..2 {
        for i in 0..BLOCK {
            v[0][i] = v[0][i].wrapping_add(v[1][i].wrapping_mul(v[3][i]));
            v[1][i] = v[1][i].wrapping_add(v[2][i].wrapping_mul(v[0][i]));
            v[2][i] = v[2][i].wrapping_add(v[0][i].wrapping_mul(v[1][i]));
            v[3][i] = v[3][i].wrapping_add(v[1][i].wrapping_mul(v[2][i]));
        }
        if round == 0 {
            for lane in v.iter_mut() {
                for value in lane.iter_mut() {
                    *value ^= *value >> 16;
                }
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{ColorJitter, GaussianNoise, OpSpec, Range, Rotate};
    use crate::pipeline::plan::SourceInfo;
    use crate::pipeline::Pipeline;

    #[test]
    fn empty_plans_are_rejected_or_empty() {
        let mut plan = PlanParams::identity(0, 0);
        plan.dst_w = 3;
        plan.dst_h = 2;
        let mut out = vec![0; 24];
        assert!(execute(&[], &plan, &mut out).is_err());
        assert!(execute_reference(&[], &plan, &mut out).is_err());
        let empty = PlanParams::identity(0, 5);
        assert!(execute(&[], &empty, &mut []).is_ok());
        assert!(execute_par(&[], &empty, &mut []).is_ok());
    }

    /// The portable path, which the dispatch skips on AVX2 machines, gives
    /// the reference bytes too.
    #[test]
    fn generic_rows_match_reference() {
        let (w, h) = (77u32, 41u32);
        let src: Vec<u8> = (0..w * h * 4).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let pipeline = Pipeline {
            ops: vec![
                OpSpec::Rotate(Rotate {
                    angle: Range::Scalar(35.0),
                    p: 1.0,
                    ..Rotate::default()
                }),
                OpSpec::ColorJitter(ColorJitter { p: 1.0, ..ColorJitter::default() }),
                OpSpec::GaussianNoise(GaussianNoise { p: 1.0, ..GaussianNoise::default() }),
            ],
        };
        for copy in 0..8 {
            let plan = pipeline.plan(3, 9, copy, SourceInfo::measure(w, h, &src)).unwrap().params;
            let mut expected = vec![0; plan.output_len()];
            execute_reference(&src, &plan, &mut expected).unwrap();
            let tables = ColumnTables::new(&plan);
            let mut got = vec![0; plan.output_len()];
            for (y, row) in got.chunks_exact_mut(w as usize * 4).enumerate() {
                fused_row_generic(&src, &plan, &tables, y as u32, row);
            }
            assert!(got == expected, "copy {copy}");
        }
    }
}
