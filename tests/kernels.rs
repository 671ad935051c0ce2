//! The fused CPU executor against the scalar reference, and exact
//! identities of the geometric operations, on real photos.
//!
//! Every comparison is exact: both paths use the same integer arithmetic,
//! so any difference is a bug.

mod common;

use augmenta::cpu::{execute, execute_par, execute_reference};
use augmenta::io::decode::{decode_file, DecodeLimits};
use augmenta::ops::geometry::BorderMode;
use augmenta::ops::{
    Affine, ColorJitter, GaussianNoise, Grayscale, HorizontalFlip, OpSpec, Range, Rotate, Rotate90, VerticalFlip,
};
use augmenta::{Augmenter, Backend, Pipeline, SourceInfo};
use image::RgbaImage;

fn photos() -> Vec<(String, RgbaImage)> {
    let dir = common::corpus().join("photos-large");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let decoded = decode_file(&dir.join(&name), &DecodeLimits::default()).unwrap();
            (name, decoded.rgba)
        })
        .collect()
}

fn single_ops() -> Vec<OpSpec> {
    let mut ops = vec![
        OpSpec::HorizontalFlip(HorizontalFlip { p: 1.0 }),
        OpSpec::VerticalFlip(VerticalFlip { p: 1.0 }),
        OpSpec::Rotate90(Rotate90 { turns: vec![1, 2, 3], p: 1.0 }),
        OpSpec::Affine(Affine {
            scale: Range::Pair(0.7, 1.3),
            translate: Range::Scalar(0.1),
            rotate: Range::Scalar(20.0),
            shear: Range::Scalar(10.0),
            p: 1.0,
            ..Affine::default()
        }),
        OpSpec::ColorJitter(ColorJitter {
            brightness: Range::Scalar(0.4),
            contrast: Range::Scalar(0.4),
            saturation: Range::Scalar(0.4),
            hue: Range::Scalar(0.2),
            p: 1.0,
        }),
        OpSpec::Grayscale(Grayscale { p: 1.0 }),
        OpSpec::GaussianNoise(GaussianNoise {
            std: Range::Pair(0.02, 0.2),
            per_channel: true,
            p: 1.0,
        }),
        OpSpec::GaussianNoise(GaussianNoise {
            std: Range::Scalar(0.1),
            per_channel: false,
            p: 1.0,
        }),
    ];
    for border in BorderMode::ALL {
        ops.push(OpSpec::Rotate(Rotate {
            angle: Range::Scalar(40.0),
            border,
            fill: vec![10, 200, 30, 128],
            p: 1.0,
        }));
    }
    ops
}

/// A pipeline of random ops with random probabilities, from `seed`.
fn random_pipeline(seed: u32) -> Pipeline {
    let all = single_ops();
    let mut ops = Vec::new();
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    let count = 1 + next() % 5;
    let mut noise_used = false;
    for _ in 0..count {
        let op = all[(next() as usize) % all.len()].clone();
        if let OpSpec::GaussianNoise(_) = op {
            if noise_used {
                continue;
            }
            noise_used = true;
        }
        ops.push(op);
    }
    Pipeline { ops }
}

fn assert_same(expected: &[u8], got: &[u8], context: &str) {
    assert_eq!(expected.len(), got.len(), "{context}: lengths differ");
    if let Some(i) = expected.iter().zip(got).position(|(a, b)| a != b) {
        panic!(
            "{context}: first difference at byte {i} (pixel {}, channel {}): reference {} fused {}",
            i / 4,
            i % 4,
            expected[i],
            got[i]
        );
    }
}

fn check_fused_matches_reference(pipeline: &Pipeline, name: &str, image: &RgbaImage, seed: u64) {
    let info = SourceInfo::measure(image.width(), image.height(), image.as_raw());
    let plan = pipeline.plan(seed, augmenta::rng::path_id(name), 0, info).unwrap();
    let mut reference = vec![0; plan.params.output_len()];
    execute_reference(image.as_raw(), &plan.params, &mut reference).unwrap();
    let mut fused = vec![0; plan.params.output_len()];
    execute(image.as_raw(), &plan.params, &mut fused).unwrap();
    let context = format!("{name} seed {seed} plan {:?}", plan.applied);
    assert_same(&reference, &fused, &context);
    let mut parallel = vec![0; plan.params.output_len()];
    execute_par(image.as_raw(), &plan.params, &mut parallel).unwrap();
    assert_same(&reference, &parallel, &context);
}

#[test]
fn fused_matches_reference_for_each_op() {
    let photos = photos();
    for (i, op) in single_ops().into_iter().enumerate() {
        let pipeline = Pipeline { ops: vec![op] };
        // Every op on a few photos of different sizes and colour types.
        for (name, image) in photos.iter().skip(i % 3).step_by(5) {
            check_fused_matches_reference(&pipeline, name, image, i as u64);
        }
    }
}

#[test]
fn fused_matches_reference_for_random_pipelines() {
    let photos = photos();
    for seed in 0..40u32 {
        let pipeline = random_pipeline(seed);
        let (name, image) = &photos[seed as usize % photos.len()];
        check_fused_matches_reference(&pipeline, name, image, u64::from(seed));
    }
}

#[test]
fn fused_matches_reference_on_thin_and_tiny_images() {
    let pipeline = random_pipeline(3);
    for (w, h) in [(1, 1), (1, 427), (600, 1), (2, 3)] {
        let image = RgbaImage::from_fn(w, h, |x, y| image::Rgba([(x * 7) as u8, (y * 3) as u8, 99, 200]));
        for op in single_ops() {
            check_fused_matches_reference(&Pipeline { ops: vec![op] }, "thin", &image, 5);
        }
        check_fused_matches_reference(&pipeline, "thin", &image, 1);
    }
}

fn apply(ops: Vec<OpSpec>, image: &RgbaImage) -> RgbaImage {
    Augmenter::new(Pipeline { ops }, 1, Backend::Cpu)
        .augment(image, "x", 0)
        .unwrap()
        .image
}

#[test]
fn flipping_twice_returns_input() {
    for (_, image) in photos().iter().take(6) {
        let h = vec![OpSpec::HorizontalFlip(HorizontalFlip { p: 1.0 })];
        assert!(apply(h.clone(), &apply(h, image)) == *image);
        let v = vec![OpSpec::VerticalFlip(VerticalFlip { p: 1.0 })];
        let once = apply(v.clone(), image);
        assert!(once != *image);
        assert!(apply(v, &once) == *image);
    }
}

#[test]
fn rotating_by_zero_returns_input() {
    for (_, image) in photos().iter().take(6) {
        let ops = vec![OpSpec::Rotate(Rotate {
            angle: Range::Pair(0.0, 0.0),
            p: 1.0,
            ..Rotate::default()
        })];
        assert!(apply(ops, image) == *image);
    }
}

#[test]
fn rotate90_four_times_returns_input() {
    for (_, image) in photos().iter().take(6) {
        let quarter = vec![OpSpec::Rotate90(Rotate90 { turns: vec![1], p: 1.0 })];
        let mut current = image.clone();
        for turn in 1..=4 {
            current = apply(quarter.clone(), &current);
            let expected = if turn % 2 == 1 {
                (image.height(), image.width())
            } else {
                image.dimensions()
            };
            assert_eq!(current.dimensions(), expected);
        }
        assert!(current == *image);
    }
}

#[test]
fn rotate90_turns_counter_clockwise() {
    let image = RgbaImage::from_fn(3, 2, |x, y| image::Rgba([(x + 3 * y) as u8, 0, 0, 255]));
    let turned = apply(vec![OpSpec::Rotate90(Rotate90 { turns: vec![1], p: 1.0 })], &image);
    assert_eq!(turned.dimensions(), (2, 3));
    // The top-right pixel (value 2) ends up top-left after a counter-clockwise turn.
    assert_eq!(turned.get_pixel(0, 0)[0], 2);
    assert_eq!(turned.get_pixel(0, 2)[0], 0);
}
