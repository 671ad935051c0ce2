//! JPEG and PNG codecs on a 512x512 photo-like image, to choose the
//! encoder and decoder of the streaming writer.
//!
//! `cargo bench --bench codecs`. The encoders are `jpeg-encoder` (which
//! augmenta uses, with 4:2:0 as `io::encode` sets it) and the `image`
//! crate's own JPEG encoder. The decoders are the `image` crate (zune-jpeg)
//! and `jpeg-decoder`, its previous JPEG backend.

use augmenta::io::encode::{encode, Encoding};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use image::codecs::jpeg::JpegEncoder;
use image::ImageEncoder;
use std::hint::black_box;

const SIZE: u32 = 512;

/// Builds a photo-like RGBA image with some fine texture, so that the
/// entropy coder has real work to do.
fn test_image() -> Vec<u8> {
    let mut pixels = Vec::with_capacity((SIZE * SIZE * 4) as usize);
    let mut state = 0x1234_5678u32;
    for y in 0..SIZE {
        for x in 0..SIZE {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let grain = (state & 15) as f32 - 7.5;
            let (fx, fy) = (x as f32 / SIZE as f32, y as f32 / SIZE as f32);
            pixels.push((128.0 + 100.0 * (6.0 * fx + 1.0).sin() * (3.0 * fy).cos() + grain) as u8);
            pixels.push((128.0 + 90.0 * (5.0 * fy + 0.5).cos() + grain) as u8);
            pixels.push((128.0 + 80.0 * (4.0 * (fx + fy)).sin() + grain) as u8);
            pixels.push(255);
        }
    }
    pixels
}

fn bench_encode(c: &mut Criterion) {
    let rgba = test_image();
    let rgb: Vec<u8> = rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
    let mut group = c.benchmark_group("jpeg-encode-q90");
    group.throughput(Throughput::Elements(u64::from(SIZE * SIZE)));
    let mut out = Vec::new();
    group.bench_function(BenchmarkId::new("jpeg-encoder-420", "512x512"), |b| {
        b.iter(|| encode(black_box(&rgba), SIZE, SIZE, Encoding::Jpeg { quality: 90 }, &mut out).unwrap())
    });
    group.bench_function(BenchmarkId::new("image-jpeg", "512x512"), |b| {
        b.iter(|| {
            let mut out = Vec::new();
            JpegEncoder::new_with_quality(&mut out, 90)
                .write_image(black_box(&rgb), SIZE, SIZE, image::ExtendedColorType::Rgb8)
                .unwrap();
            out
        })
    });
    group.finish();

    let mut group = c.benchmark_group("png-encode");
    group.throughput(Throughput::Elements(u64::from(SIZE * SIZE)));
    group.bench_function(BenchmarkId::new("image-png-fast", "512x512"), |b| {
        b.iter(|| encode(black_box(&rgba), SIZE, SIZE, Encoding::Png { alpha: false }, &mut out).unwrap())
    });
    group.finish();
}

fn bench_decode(c: &mut Criterion) {
    let rgba = test_image();
    let mut jpeg = Vec::new();
    encode(&rgba, SIZE, SIZE, Encoding::Jpeg { quality: 90 }, &mut jpeg).unwrap();
    let mut group = c.benchmark_group("jpeg-decode");
    group.throughput(Throughput::Elements(u64::from(SIZE * SIZE)));
    group.bench_function(BenchmarkId::new("image-zune", "512x512"), |b| {
        b.iter(|| image::load_from_memory(black_box(&jpeg)).unwrap())
    });
    group.bench_function(BenchmarkId::new("jpeg-decoder", "512x512"), |b| {
        b.iter(|| jpeg_decoder::Decoder::new(black_box(jpeg.as_slice())).decode().unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench_encode, bench_decode);
criterion_main!(benches);
