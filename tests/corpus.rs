//! Decoding the awkward-image corpus: orientation, colour types, broken
//! and hostile files, and one run over the whole corpus.
//!
//! Comparisons against a reference picture allow a mean absolute
//! difference of a few levels, because the files are separately encoded
//! JPEGs of the same picture. Exact checks are used where the pixels are
//! the same bytes.

mod common;

use augmenta::io::decode::{decode_file, DecodeError, DecodeLimits};
use image::RgbaImage;
use std::path::PathBuf;

fn file(relative: &str) -> PathBuf {
    common::corpus().join("files").join(relative)
}

fn decode(relative: &str) -> RgbaImage {
    decode_file(&file(relative), &DecodeLimits::default())
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
        .rgba
}

/// Mean absolute difference over the RGB channels.
fn mean_abs_diff(a: &RgbaImage, b: &RgbaImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let total: u64 = a
        .pixels()
        .zip(b.pixels())
        .map(|(p, q)| (0..3).map(|c| u64::from(p[c].abs_diff(q[c]))).sum::<u64>())
        .sum();
    total as f64 / (f64::from(a.width()) * f64::from(a.height()) * 3.0)
}

#[test]
fn exif_orientations_decode_upright() {
    let upright = decode("exif-orientation/hopper.jpg");
    for n in 2..=8 {
        let name = format!("exif-orientation/hopper_orientation_{n}.jpg");
        let decoded = decode(&name);
        let diff = mean_abs_diff(&upright, &decoded);
        assert!(diff < 8.0, "{name}: mean difference {diff:.2} from hopper.jpg");

        // The stored pixels are not upright: ignoring the tag would fail.
        let raw = image::open(file(&name)).unwrap().into_rgba8();
        assert!(mean_abs_diff(&upright, &raw) > 10.0, "{name} is upright without its tag");
    }
}

#[test]
fn exif_orientation_in_webp_is_applied() {
    let upright = decode("exif-orientation/hopper.jpg");
    let decoded = decode("exif-orientation/hopper_orientation_6.webp");
    let diff = mean_abs_diff(&upright, &decoded);
    assert!(diff < 6.0, "mean difference {diff:.2}");
}

#[test]
fn exif_orientation_in_png_text_chunk_is_applied() {
    // The tag asks for a rotation by 180 degrees.
    let decoded = decode("exif-orientation/exif_imagemagick_orientation.png");
    let raw = image::open(file("exif-orientation/exif_imagemagick_orientation.png")).unwrap().into_rgba8();
    assert!(decoded == image::imageops::rotate180(&raw));
}

#[test]
fn orientation_rectangle_becomes_one_by_two() {
    assert_eq!(decode("exif-orientation/orientation_rectangle.jpg").dimensions(), (1, 2));
}

#[test]
fn cmyk_jpeg_matches_its_rgb_twin() {
    let cmyk = decode("cmyk/pil_sample_cmyk.jpg");
    let rgb = decode("cmyk/pil_sample_rgb.jpg");
    let diff = mean_abs_diff(&cmyk, &rgb);
    assert!(diff < 8.0, "mean difference {diff:.2}");
}

#[test]
fn sixteen_bit_png_scales_to_eight_bits() {
    let path = file("16bit/basn2c16.png");
    let wide = image::open(&path).unwrap().into_rgba16();
    let narrow = decode_file(&path, &DecodeLimits::default()).unwrap().rgba;
    for (w, n) in wide.pixels().zip(narrow.pixels()) {
        for c in 0..4 {
            let expected = ((u32::from(w[c]) * 255 + 32767) / 65535) as u8;
            assert!(n[c].abs_diff(expected) <= 1, "{} -> {}", w[c], n[c]);
        }
    }
    // A real 16-bit photo does not come out black or white.
    let monkey = decode("16bit/monkey16.png");
    let mean: f64 = monkey.pixels().map(|p| f64::from(p[1])).sum::<f64>() / monkey.pixels().len() as f64;
    assert!((30.0..220.0).contains(&mean), "mean green {mean}");
}

#[test]
fn palette_and_gray_alpha_keep_transparency() {
    for name in ["palette-alpha/tbbn3p08.png", "palette-alpha/p_trns_single.png", "grayscale/uncompressed_la.png"] {
        let decoded = decode_file(&file(name), &DecodeLimits::default()).unwrap();
        assert!(decoded.has_alpha, "{name}");
        assert!(decoded.rgba.pixels().any(|p| p[3] < 255), "{name} has no transparent pixel");
    }
    let gray = decode("grayscale/hopper_gray.jpg");
    assert!(gray.pixels().all(|p| p[0] == p[1] && p[1] == p[2] && p[3] == 255));
}

#[test]
fn webp_variants_decode() {
    for (name, size) in [
        ("webp/simple.webp", (300, 300)),
        ("webp/flower2.webp", (300, 225)),
        ("webp/lossy_alpha.webp", (100, 100)),
        ("webp/anim.webp", (200, 200)),
    ] {
        assert_eq!(decode(name).dimensions(), size, "{name}");
    }
}

#[test]
fn interlaced_and_progressive_decode() {
    assert_eq!(decode("interlaced/basi2c08.png").dimensions(), (32, 32));
    assert_eq!(decode("interlaced/basi0g16.png").dimensions(), (32, 32));
    assert_eq!(decode("nested-classes/cats/cat_progressive.jpg").dimensions(), (320, 240));
}

#[test]
fn bombs_are_rejected_with_claimed_size() {
    let err = decode_file(&file("huge-dims/bomb_20000x20000_gray.png"), &DecodeLimits::default()).unwrap_err();
    assert!(matches!(err, DecodeError::TooLarge { width: 20000, height: 20000, .. }), "{err}");
    assert!(err.to_string().contains("20000x20000"), "{err}");
    for name in ["huge-dims/reallybig.bmp", "huge-dims/decompression_bomb.gif"] {
        assert!(decode_file(&file(name), &DecodeLimits::default()).is_err(), "{name}");
    }
}

#[test]
fn truncated_jpegs_are_rejected_not_padded() {
    for name in ["truncated-or-corrupt/truncated_jpeg.jpg", "truncated-or-corrupt/ultrahdr.jpg"] {
        let err = decode_file(&file(name), &DecodeLimits::default()).unwrap_err();
        assert!(err.to_string().contains("truncated JPEG"), "{name}: {err}");
    }
    let png = decode_file(&file("truncated-or-corrupt/truncated_image.png"), &DecodeLimits::default()).unwrap_err();
    assert!(png.to_string().contains("truncated PNG"), "{png}");
}

#[test]
fn damaged_header_segment_still_decodes() {
    // A short APP14 segment in front of good pixels: the fallback decoder reads it.
    let image = decode("bad-metadata/truncated_app14.jpg");
    assert_eq!(image.dimensions(), (100, 100));
    let twin = decode("cmyk/pil_sample_rgb.jpg");
    assert!(mean_abs_diff(&image, &twin) < 8.0);
}

#[test]
fn unsupported_jpeg_variants_name_the_variant() {
    let arithmetic = decode_file(&file("jpeg-coding/testimgari.jpg"), &DecodeLimits::default()).unwrap_err();
    assert!(arithmetic.to_string().contains("arithmetic-coded"), "{arithmetic}");
    let twelve = decode_file(&file("jpeg-coding/monkey12.jpg"), &DecodeLimits::default()).unwrap_err();
    assert!(twelve.to_string().contains("12 bits"), "{twelve}");
}

#[test]
fn empty_and_zero_width_files_are_rejected() {
    let empty = decode_file(&file("odd-names/empty_0_bytes.jpg"), &DecodeLimits::default()).unwrap_err();
    assert!(matches!(empty, DecodeError::Empty), "{empty}");
    let zero = decode_file(&file("tiny/zero_width.gif"), &DecodeLimits::default()).unwrap_err();
    assert!(zero.to_string().contains("invalid dimensions 0x"), "{zero}");
}

#[test]
fn whole_corpus_run_writes_every_decodable_file() {
    let out = tempfile::tempdir().unwrap();
    let input = common::corpus().join("files");
    let (code, stdout, stderr) = common::augmenta(&[
        "augment",
        input.to_str().unwrap(),
        "-o",
        out.path().to_str().unwrap(),
        "--copies",
        "2",
        "--backend",
        "cpu",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // Every input is either written twice or listed with a reason.
    let found = augmenta::io::discover::discover(&input).unwrap();
    let manifest = std::fs::read_to_string(out.path().join("manifest.jsonl")).unwrap();
    let mut written = std::collections::BTreeMap::<String, usize>::new();
    for line in manifest.lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        *written.entry(value["source"].as_str().unwrap().to_owned()).or_default() += 1;
        assert!(out.path().join(value["output"].as_str().unwrap()).is_file());
    }
    for input in &found.inputs {
        let copies = written.get(&input.relative).copied().unwrap_or(0);
        let display = input.path.display().to_string();
        if copies == 0 {
            let line = stderr
                .lines()
                .find(|l| l.starts_with(&format!("skipped {display}: ")))
                .unwrap_or_else(|| panic!("{display} neither written nor skipped:\n{stderr}"));
            assert!(line.len() > format!("skipped {display}: ").len() + 5, "{line}");
        } else {
            assert_eq!(copies, 2, "{display}");
        }
    }
    // The controls and the awkward-but-valid files are among the written ones.
    for expected in [
        "photos/xmp_test.jpg",
        "cmyk/pil_sample_cmyk.jpg",
        "16bit/monkey16.png",
        "odd-names/Café – crème brûlée №2 商品.jpg",
        "odd-names/IMG_0001.JPG",
        "odd-names/really_a_png.jpg",
        "odd-names/photo_without_extension",
        "nested-classes/cats/chelsea.png",
        "webp/anim.webp",
        "multi-frame/sugarshack.mpo",
    ] {
        assert_eq!(written.get(expected), Some(&2), "{expected}");
    }
    // Hidden files are never inputs.
    assert!(!written.keys().any(|k| k.contains("/.")));
    assert!(stdout.contains("notes.txt"), "{stdout}");
}

#[test]
fn bombs_run_in_bounded_memory() {
    // Address space capped at 800 MB: decoding a bomb (1.6 GB as RGBA)
    // would abort the process instead of being rejected.
    let out = tempfile::tempdir().unwrap();
    let input = common::corpus().join("files/huge-dims");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 800000 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_augmenta"))
        .args(["augment", input.to_str().unwrap(), "-o", out.path().to_str().unwrap()])
        .args(["--copies", "1", "--backend", "cpu", "--jobs", "2", "--quiet"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert_eq!(status.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("bomb_20000x20000_gray.png: image is 20000x20000"), "{stderr}");
}
