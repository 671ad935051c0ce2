//! Throughput of each operation alone and of the fused peer and default
//! pipelines, in memory, at 256x256, 512x512 and 1024x1024, on the CPU with
//! one thread and with every thread, and on a hardware GPU when there is one.
//!
//! `cargo bench --bench ops`; filter with e.g. `-- fused-peer/cpu-1`.

use augmenta::cpu::{execute, execute_par};
use augmenta::ops::geometry::BorderMode;
use augmenta::ops::{
    Affine, ColorJitter, GaussianNoise, Grayscale, HorizontalFlip, OpSpec, Range, Rotate, Rotate90, VerticalFlip,
};
use augmenta::{Pipeline, PlanParams, SourceInfo};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::path::Path;

const SIZES: [u32; 3] = [256, 512, 1024];

/// Builds a photo-like test image: smooth gradients and a few hard edges.
fn test_image(size: u32) -> Vec<u8> {
    let mut pixels = Vec::with_capacity((size * size * 4) as usize);
    for y in 0..size {
        for x in 0..size {
            let (fx, fy) = (x as f32 / size as f32, y as f32 / size as f32);
            let edge = if ((x / 37) + (y / 53)) % 3 == 0 { 60.0 } else { 0.0 };
            pixels.push((128.0 + 100.0 * (6.0 * fx + 1.0).sin() * (3.0 * fy).cos()) as u8);
            pixels.push((128.0 + 90.0 * (5.0 * fy + 0.5).cos() - edge) as u8);
            pixels.push((128.0 + 80.0 * (4.0 * (fx + fy)).sin() + edge * 0.5) as u8);
            pixels.push(255);
        }
    }
    pixels
}

fn peer_pipeline() -> Pipeline {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peer_pipeline.toml");
    Pipeline::from_file(&path).expect("benches/peer_pipeline.toml is valid")
}

fn single_ops() -> Vec<(&'static str, OpSpec)> {
    vec![
        ("horizontal_flip", OpSpec::HorizontalFlip(HorizontalFlip { p: 1.0 })),
        ("vertical_flip", OpSpec::VerticalFlip(VerticalFlip { p: 1.0 })),
        ("rotate90", OpSpec::Rotate90(Rotate90 { turns: vec![1], p: 1.0 })),
        (
            "affine",
            OpSpec::Affine(Affine {
                scale: Range::Pair(1.1, 1.1),
                translate: Range::Pair(0.05, 0.05),
                rotate: Range::Pair(10.0, 10.0),
                shear: Range::Pair(5.0, 5.0),
                p: 1.0,
                ..Affine::default()
            }),
        ),
        ("grayscale", OpSpec::Grayscale(Grayscale { p: 1.0 })),
        (
            "rotate",
            OpSpec::Rotate(Rotate {
                angle: Range::Pair(17.0, 17.0),
                border: BorderMode::Reflect,
                p: 1.0,
                ..Rotate::default()
            }),
        ),
        (
            "color_jitter",
            OpSpec::ColorJitter(ColorJitter {
                hue: Range::Scalar(0.05),
                p: 1.0,
                ..ColorJitter::default()
            }),
        ),
        (
            "gaussian_noise",
            OpSpec::GaussianNoise(GaussianNoise {
                std: Range::Pair(0.02, 0.06),
                per_channel: true,
                p: 1.0,
            }),
        ),
    ]
}

fn plan_for(pipeline: &Pipeline, size: u32, pixels: &[u8], copy: u32) -> PlanParams {
    let info = SourceInfo::measure(size, size, pixels);
    pipeline.plan(42, 1, copy, info).expect("plan").params
}

fn bench_single_ops(c: &mut Criterion) {
    for (name, op) in single_ops() {
        let pipeline = Pipeline { ops: vec![op] };
        let mut group = c.benchmark_group(name);
        for size in SIZES {
            let pixels = test_image(size);
            let plan = plan_for(&pipeline, size, &pixels, 0);
            let mut out = vec![0u8; plan.output_len()];
            group.throughput(Throughput::Elements(u64::from(size * size)));
            group.bench_function(BenchmarkId::new("cpu-1", format!("{size}x{size}")), |b| {
                b.iter(|| execute(black_box(&pixels), &plan, &mut out).unwrap())
            });
            group.bench_function(BenchmarkId::new("cpu-all", format!("{size}x{size}")), |b| {
                b.iter(|| execute_par(black_box(&pixels), &plan, &mut out).unwrap())
            });
        }
        group.finish();
    }
}

fn bench_fused(c: &mut Criterion) {
    for (name, pipeline) in [("fused-peer", peer_pipeline()), ("fused-default", Pipeline::default())] {
        bench_pipeline(c, name, &pipeline);
    }
}

fn bench_pipeline(c: &mut Criterion, name: &str, pipeline: &Pipeline) {
    let mut group = c.benchmark_group(name);
    for size in SIZES {
        let pixels = test_image(size);
        let info = SourceInfo::measure(size, size, &pixels);
        let mut out = vec![0u8; (size * size * 4) as usize];
        group.throughput(Throughput::Elements(u64::from(size * size)));

        // Plans are drawn inside the loop, one per image, as in a real run.
        let mut copy = 0u32;
        group.bench_function(BenchmarkId::new("cpu-1", format!("{size}x{size}")), |b| {
            b.iter(|| {
                copy = copy.wrapping_add(1);
                let plan = pipeline.plan(42, 1, copy, info).unwrap().params;
                execute(black_box(&pixels), &plan, &mut out).unwrap()
            })
        });
        group.bench_function(BenchmarkId::new("cpu-all", format!("{size}x{size}")), |b| {
            b.iter(|| {
                copy = copy.wrapping_add(1);
                let plan = pipeline.plan(42, 1, copy, info).unwrap().params;
                execute_par(black_box(&pixels), &plan, &mut out).unwrap()
            })
        });
    }
    group.finish();
}

/// GPU against CPU on batches of 64 images. Software adapters (lavapipe)
/// are a correctness path, not a speed claim, so they are used only when
/// `AUGMENTA_BENCH_SOFTWARE_GPU=1`.
fn bench_gpu(c: &mut Criterion) {
    let allow_software = std::env::var_os("AUGMENTA_BENCH_SOFTWARE_GPU").is_some_and(|v| v == "1");
    let gpu = match augmenta::gpu::GpuContext::new(allow_software) {
        Ok(gpu) => gpu,
        Err(error) => {
            eprintln!("skipping GPU benches: {error}");
            return;
        }
    };
    let pipeline = peer_pipeline();
    let mut group = c.benchmark_group("fused-peer-batch64");
    group.sample_size(10);
    for size in SIZES {
        let pixels = test_image(size);
        let plans: Vec<PlanParams> = (0..64).map(|copy| plan_for(&pipeline, size, &pixels, copy)).collect();
        let items: Vec<(&[u8], &PlanParams)> = plans.iter().map(|p| (pixels.as_slice(), p)).collect();
        group.throughput(Throughput::Elements(u64::from(size * size) * 64));
        group.bench_function(BenchmarkId::new("gpu", format!("{size}x{size}")), |b| {
            b.iter(|| gpu.execute_batch(black_box(&items)).unwrap())
        });
        group.bench_function(BenchmarkId::new("cpu-all", format!("{size}x{size}")), |b| {
            b.iter(|| augmenta::Backend::Cpu.execute_batch(black_box(&items)).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench_single_ops, bench_fused, bench_gpu);
criterion_main!(benches);
