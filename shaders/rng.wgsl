// SPDX-License-Identifier: MIT OR Apache-2.0
// The counter-based hash shared with the CPU: the twin of `src/rng.rs`, so
// keep the two in sync. WGSL u32 arithmetic wraps modulo 2^32, exactly as
// Rust's `wrapping_*` calls do, so both sides compute the same bits.

// The pcg4d hash (Jarzynski and Olano, "Hash Functions for GPU Rendering",
// JCGT 9(3), 2020): four words in, four well-mixed words out.
fn pcg4d(input: vec4<u32>) -> vec4<u32> {
    var v = input * 1664525u + 1013904223u;

    v.x += v.y * v.w;
    v.y += v.z * v.x;
    v.z += v.x * v.y;
    v.w += v.y * v.z;

    v ^= v >> vec4<u32>(16u);

    v.x += v.y * v.w;
    v.y += v.z * v.x;
    v.z += v.x * v.y;
    v.w += v.y * v.z;

    return v;
}

// The centred sum of the four bytes of `word`, an approximate gaussian in
// -510..=510. The byte sum is at most 1020, so the conversion to i32 is exact.
fn byte_sum_centred(word: u32) -> i32 {
    let sum = (word & 0xffu) + ((word >> 8u) & 0xffu) + ((word >> 16u) & 0xffu) + (word >> 24u);
    return i32(sum) - 510;
}
