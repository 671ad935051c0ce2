//! The CPU backend: the scalar reference pipeline and the fused row
//! executor that must match it byte for byte.
//!
//! The reference runs the three stages one after the other over the whole
//! image, pixel by pixel, through the definitions in [`crate::ops`]. The
//! fused executor does all three stages for one output row while the row is
//! in cache, with per-image lookup tables instead of per-pixel
//! multiplications where it can, and rayon over row bands when asked.

use crate::ops::color::{color_reference, COLOR_FRAC_BITS};
use crate::ops::geometry::{mul_q16_q8, sample_bilinear, warp_reference, POS_FRAC_BITS};
use crate::ops::noise::{noise_reference, NOISE_FRAC_BITS};
use crate::pipeline::plan::{PlanParams, FLAG_COLOR, FLAG_NOISE, FLAG_NOISE_PER_CHANNEL};
use crate::rng::{byte_sum_centred, pcg4d};
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
    let src_len = plan.src_w as usize * plan.src_h as usize * 4;
    if src.len() != src_len {
        return Err(BufferSizeError {
            what: "source",
            expected: src_len,
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
    geometry_row(src, plan, tables, y, row);
    if plan.flags & FLAG_COLOR != 0 {
        color_row(&plan.color, row);
    }
    if plan.flags & FLAG_NOISE != 0 {
        noise_row(plan, y, row);
    }
}

fn geometry_row(src: &[u8], plan: &PlanParams, tables: &ColumnTables, y: u32, row: &mut [u8]) {
    let [_, b, c, _, e, f] = plan.map;
    let row_sx = mul_q16_q8(b, y) + c;
    let row_sy = mul_q16_q8(e, y) + f;
    let (w, h) = (plan.src_w as i32, plan.src_h as i32);
    let stride = plan.src_w as usize * 4;
    let border = plan.border_mode();
    let fill = plan.fill_rgba();

    if tables.pixel_exact {
        // Every position is a pixel centre: plain copies, no weights.
        for (x, out) in row.chunks_exact_mut(4).enumerate() {
            let sx = (tables.sx[x] + row_sx) >> POS_FRAC_BITS;
            let sy = (tables.sy[x] + row_sy) >> POS_FRAC_BITS;
            if sx >= 0 && sx < w && sy >= 0 && sy < h {
                let i = sy as usize * stride + sx as usize * 4;
                out.copy_from_slice(&src[i..i + 4]);
            } else {
                out.copy_from_slice(&sample_bilinear(
                    src,
                    plan.src_w,
                    plan.src_h,
                    sx << POS_FRAC_BITS,
                    sy << POS_FRAC_BITS,
                    border,
                    fill,
                ));
            }
        }
        return;
    }

    for (x, out) in row.chunks_exact_mut(4).enumerate() {
        let sx = tables.sx[x] + row_sx;
        let sy = tables.sy[x] + row_sy;
        let x0 = sx >> POS_FRAC_BITS;
        let y0 = sy >> POS_FRAC_BITS;
        if x0 >= 0 && x0 + 1 < w && y0 >= 0 && y0 + 1 < h {
            let fx = sx & 255;
            let fy = sy & 255;
            let w00 = (256 - fx) * (256 - fy);
            let w10 = fx * (256 - fy);
            let w01 = (256 - fx) * fy;
            let w11 = fx * fy;
            let i = y0 as usize * stride + x0 as usize * 4;
            let top = &src[i..i + 8];
            let bottom = &src[i + stride..i + stride + 8];
            for ch in 0..4 {
                let sum = i32::from(top[ch]) * w00
                    + i32::from(top[ch + 4]) * w10
                    + i32::from(bottom[ch]) * w01
                    + i32::from(bottom[ch + 4]) * w11;
                out[ch] = ((sum + (1 << 15)) >> 16) as u8;
            }
        } else {
            out.copy_from_slice(&sample_bilinear(src, plan.src_w, plan.src_h, sx, sy, border, fill));
        }
    }
}

fn color_row(m: &[i32; 12], row: &mut [u8]) {
    const HALF: i32 = 1 << (COLOR_FRAC_BITS - 1);
    for px in row.chunks_exact_mut(4) {
        let (r, g, b) = (i32::from(px[0]), i32::from(px[1]), i32::from(px[2]));
        px[0] = ((m[0] * r + m[1] * g + m[2] * b + m[3] + HALF) >> COLOR_FRAC_BITS).clamp(0, 255) as u8;
        px[1] = ((m[4] * r + m[5] * g + m[6] * b + m[7] + HALF) >> COLOR_FRAC_BITS).clamp(0, 255) as u8;
        px[2] = ((m[8] * r + m[9] * g + m[10] * b + m[11] + HALF) >> COLOR_FRAC_BITS).clamp(0, 255) as u8;
    }
}

fn noise_row(plan: &PlanParams, y: u32, row: &mut [u8]) {
    const HALF: i32 = 1 << (NOISE_FRAC_BITS - 1);
    let scale = plan.noise_scale;
    let [k0, k1] = plan.noise_key;
    let per_channel = plan.flags & FLAG_NOISE_PER_CHANNEL != 0;
    for (x, px) in row.chunks_exact_mut(4).enumerate() {
        let hash = pcg4d([x as u32, y, k0, k1]);
        let words = if per_channel {
            [hash[0], hash[1], hash[2]]
        } else {
            [hash[0]; 3]
        };
        for c in 0..3 {
            let delta = (byte_sum_centred(words[c]) * scale + HALF) >> NOISE_FRAC_BITS;
            px[c] = (i32::from(px[c]) + delta).clamp(0, 255) as u8;
        }
    }
}
