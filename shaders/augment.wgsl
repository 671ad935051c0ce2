// SPDX-License-Identifier: MIT OR Apache-2.0
// The fused augmentation kernel: for a batch of RGBA8 images, each output
// pixel is sampled through the plan's inverse map, then colour-transformed,
// then given noise, with the integer arithmetic of `crate::cpu::execute_reference`.
//
// This file is appended to `rng.wgsl` (for `pcg4d` and `byte_sum_centred`)
// by `crate::gpu::shader_source`, because WGSL has no includes.

// Mirrors `crate::pipeline::plan::PlanParams` field for field (112 bytes,
// 4-byte aligned, so the storage layout equals Rust's `#[repr(C)]` layout).
// Keep the two in sync.
struct PlanParams {
    src_w: u32,
    src_h: u32,
    dst_w: u32,
    dst_h: u32,
    // Inverse map [a, b, c, d, e, f]: a, b, d, e in Q16, c, f in Q8.
    map: array<i32, 6>,
    // A `BorderMode` number; unknown numbers mean reflect101, as on the CPU.
    border: u32,
    // Fill colour for the constant border, RGBA packed little-endian.
    fill: u32,
    // Colour matrix rows [m0, m1, m2, offset] for r, g, b, in Q12.
    color: array<i32, 12>,
    flags: u32,
    // Noise scale in Q12.
    noise_scale: i32,
    noise_key: array<u32, 2>,
}

// Mirrors `ImageDescriptor` in `src/gpu/batch.rs` (120 bytes). Offsets count
// u32 words, one RGBA8 pixel each, from the start of the bound buffers.
struct ImageDescriptor {
    src_offset: u32,
    dst_offset: u32,
    params: PlanParams,
}

// One descriptor per image, sorted by `dst_offset`; every image has at least
// one output pixel, so the offsets strictly increase.
@group(0) @binding(0) var<storage, read> descriptors: array<ImageDescriptor>;
// The source images, packed back to back, one pixel per word.
@group(0) @binding(1) var<storage, read> src_words: array<u32>;
// The output images, packed back to back; the binding covers exactly the
// output pixels of this dispatch, so its length bounds the invocations.
@group(0) @binding(2) var<storage, read_write> dst_words: array<u32>;

// Invocations per workgroup; `crate::gpu::WG_SIZE` must equal it.
const WG_SIZE: u32 = 64u;

// The `FLAG_*` bits of `crate::pipeline::plan`.
const FLAG_COLOR: u32 = 1u;
const FLAG_NOISE: u32 = 2u;
const FLAG_NOISE_PER_CHANNEL: u32 = 4u;

// `crate::ops::geometry::BorderMode` numbers.
const BORDER_CONSTANT: u32 = 0u;
const BORDER_REPLICATE: u32 = 1u;
const BORDER_REFLECT: u32 = 2u;
const BORDER_WRAP: u32 = 4u;

// Returns the index of the image whose output contains `word_ix`: the last
// descriptor with `dst_offset <= word_ix` (binary search).
fn find_image(word_ix: u32) -> u32 {
    var low = 0u;
    var high = arrayLength(&descriptors);
    // Invariant: descriptors[low].dst_offset <= word_ix, and word_ix lies
    // before the output of descriptors[high] (or high is the count).
    while high - low > 1u {
        let mid = (low + high) / 2u;
        if descriptors[mid].dst_offset <= word_ix {
            low = mid;
        } else {
            high = mid;
        }
    }
    return low;
}

// Multiplies a Q16 coefficient by a pixel index, giving floor(coeff * index / 256)
// in Q8. Splitting the index into 256 * hi + lo keeps every product in i32:
// with |coeff| <= 2^20 and index < 2^14, |coeff * hi| < 2^26 and
// |coeff * lo| < 2^28. `>>` on i32 is arithmetic, as in Rust.
fn mul_q16_q8(coeff: i32, index: u32) -> i32 {
    let hi = i32(index >> 8u);
    let lo = i32(index & 255u);
    return coeff * hi + ((coeff * lo) >> 8u);
}

// Euclidean remainder for b > 0, as Rust's `rem_euclid`. `%` is only used
// on non-negative operands: WGSL defines it for negative ones too, but naga 30
// writes it as GLSL's `%`, which leaves that case undefined. For a < 0,
// -(a + 1) cannot overflow, and a = -(q * b + r) - 1 gives b - 1 - r.
fn rem_euclid(a: i32, b: i32) -> i32 {
    if a >= 0 {
        return a % b;
    }
    return b - 1 - (-(a + 1)) % b;
}

// Maps index `i` into 0..n by the border mode; -1 means "use the fill
// colour". Mirrors `crate::ops::geometry::border_index`. Tap indices stay
// within +-2^21 and n <= 2^14, so 2 * n and the remainders fit easily.
fn border_index(i: i32, n: i32, border: u32) -> i32 {
    if i >= 0 && i < n {
        return i;
    }
    switch border {
        case BORDER_CONSTANT: {
            return -1;
        }
        case BORDER_REPLICATE: {
            return clamp(i, 0, n - 1);
        }
        case BORDER_REFLECT: {
            let m = rem_euclid(i, 2 * n);
            return select(m, 2 * n - 1 - m, m >= n);
        }
        case BORDER_WRAP: {
            return rem_euclid(i, n);
        }
        default: {
            // Reflect101, also for unknown numbers, like
            // `BorderMode::from_u32(..).unwrap_or_default()`.
            if n == 1 {
                return 0;
            }
            let period = 2 * n - 2;
            let m = rem_euclid(i, period);
            return select(m, period - m, m >= n);
        }
    }
}

// Splits a packed RGBA8 word into its four channels.
fn unpack_rgba(word: u32) -> vec4<i32> {
    return vec4<i32>(
        i32(word & 255u),
        i32((word >> 8u) & 255u),
        i32((word >> 16u) & 255u),
        i32(word >> 24u),
    );
}

// Packs four channels in 0..=255 into one little-endian RGBA8 word.
fn pack_rgba(px: vec4<i32>) -> u32 {
    let v = vec4<u32>(px);
    return v.x | (v.y << 8u) | (v.z << 16u) | (v.w << 24u);
}

// Reads source pixel (x, y) of an image with border handling.
fn tap(desc: ImageDescriptor, x: i32, y: i32) -> vec4<i32> {
    let p = desc.params;
    let ix = border_index(x, i32(p.src_w), p.border);
    let iy = border_index(y, i32(p.src_h), p.border);
    if ix < 0 || iy < 0 {
        return unpack_rgba(p.fill);
    }
    return unpack_rgba(src_words[desc.src_offset + u32(iy) * p.src_w + u32(ix)]);
}

// Samples an image bilinearly at Q8 position (sx, sy). Mirrors
// `crate::ops::geometry::sample_bilinear`: Q8 weights sum to 2^16 and
// channels are <= 255, so the four-tap sum is < 2^24.
fn sample_bilinear(desc: ImageDescriptor, sx: i32, sy: i32) -> vec4<i32> {
    let x0 = sx >> 8u;
    let y0 = sy >> 8u;
    let fx = sx & 255;
    let fy = sy & 255;

    let w00 = (256 - fx) * (256 - fy);
    let w10 = fx * (256 - fy);
    let w01 = (256 - fx) * fy;
    let w11 = fx * fy;

    let sum = tap(desc, x0, y0) * w00
        + tap(desc, x0 + 1, y0) * w10
        + tap(desc, x0, y0 + 1) * w01
        + tap(desc, x0 + 1, y0 + 1) * w11;
    // The mask mirrors the `as u8` cast of the Rust reference.
    return ((sum + vec4<i32>(32768)) >> vec4<u32>(16u)) & vec4<i32>(255);
}

// Applies the Q12 colour matrix to r, g and b; alpha is left alone. Mirrors
// `crate::ops::color::apply_color_pixel`: coefficients <= 2^19 and channels
// < 2^8 give products < 2^27, and with the offset (<= 2^29) the sum is < 2^30.
fn apply_color(p: PlanParams, px: vec4<i32>) -> vec4<i32> {
    let m = p.color;
    let rgb = vec3<i32>(
        m[0] * px.x + m[1] * px.y + m[2] * px.z + m[3],
        m[4] * px.x + m[5] * px.y + m[6] * px.z + m[7],
        m[8] * px.x + m[9] * px.y + m[10] * px.z + m[11],
    );
    let rounded = (rgb + vec3<i32>(2048)) >> vec3<u32>(12u);
    return vec4<i32>(clamp(rounded, vec3<i32>(0), vec3<i32>(255)), px.w);
}

// Adds hashed noise at output pixel (x, y); alpha is left alone. Mirrors
// `crate::ops::noise::apply_noise_pixel`: word c of the hash per channel, or
// word 0 for all three when shared. |n| <= 510 < 2^9 and the scale is < 2^13,
// so n * scale < 2^22.
fn apply_noise(p: PlanParams, px: vec4<i32>, x: u32, y: u32) -> vec4<i32> {
    let hash = pcg4d(vec4<u32>(x, y, p.noise_key[0], p.noise_key[1]));
    let per_channel = (p.flags & FLAG_NOISE_PER_CHANNEL) != 0u;
    let words = select(vec3<u32>(hash.x), hash.xyz, per_channel);

    let n = vec3<i32>(byte_sum_centred(words.x), byte_sum_centred(words.y), byte_sum_centred(words.z));
    let delta = (n * p.noise_scale + vec3<i32>(2048)) >> vec3<u32>(12u);
    return vec4<i32>(clamp(px.xyz + delta, vec3<i32>(0), vec3<i32>(255)), px.w);
}

// One invocation per output pixel of the whole batch. The grid is 2-D only
// because one dimension holds at most 65535 workgroups; the host makes row
// y of the grid continue where row y - 1 ends.
@compute @workgroup_size(WG_SIZE)
fn augment(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) n_workgroups: vec3<u32>) {
    let word_ix = gid.y * (n_workgroups.x * WG_SIZE) + gid.x;
    if word_ix >= arrayLength(&dst_words) {
        return;
    }

    let desc = descriptors[find_image(word_ix)];
    let p = desc.params;
    let local_ix = word_ix - desc.dst_offset;
    let x = local_ix % p.dst_w;
    let y = local_ix / p.dst_w;

    // Geometry: the Q8 source position, |sx| < 2^29 within the plan limits.
    let sx = mul_q16_q8(p.map[0], x) + mul_q16_q8(p.map[1], y) + p.map[2];
    let sy = mul_q16_q8(p.map[3], x) + mul_q16_q8(p.map[4], y) + p.map[5];
    var px = sample_bilinear(desc, sx, sy);

    if (p.flags & FLAG_COLOR) != 0u {
        px = apply_color(p, px);
    }
    if (p.flags & FLAG_NOISE) != 0u {
        px = apply_noise(p, px, x, y);
    }

    dst_words[word_ix] = pack_rgba(px);
}
