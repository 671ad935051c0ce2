//! GPU backend tests: the WGSL validates, and on any adapter (lavapipe
//! included) the GPU output equals `cpu::execute_reference` byte for byte.
//!
//! Tests that need an adapter print `skipped: no GPU adapter (<error>)` and
//! pass when none is found, unless `AUGMENTA_REQUIRE_GPU=1` is set: then they
//! fail. All tests share one `GpuContext`, so the test threads also exercise
//! concurrent calls.

use augmenta::gpu::{GpuContext, GpuError, ENTRY_POINT, SHADER_SOURCE, WG_SIZE};
use augmenta::io::decode::{decode_file, DecodeLimits};
use augmenta::ops::geometry::{BorderMode, MAX_MAP_COEFF, MAX_MAP_OFFSET};
use augmenta::ops::noise::MAX_NOISE_SCALE;
use augmenta::ops::{
    Affine, ColorJitter, GaussianNoise, Grayscale, HorizontalFlip, OpSpec, Range, Rotate, Rotate90, VerticalFlip,
};
use augmenta::pipeline::plan::{FLAG_COLOR, FLAG_NOISE, FLAG_NOISE_PER_CHANNEL};
use augmenta::rng::{pcg4d, ParamRng};
use augmenta::{Pipeline, PlanParams, SourceInfo};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Returns the shared context, or `None` (after printing why) when there is
/// no adapter and `AUGMENTA_REQUIRE_GPU` is not `1`.
fn gpu() -> Option<&'static GpuContext> {
    static CONTEXT: OnceLock<Result<GpuContext, String>> = OnceLock::new();
    match CONTEXT.get_or_init(|| GpuContext::new(true).map_err(|error| error.to_string())) {
        Ok(context) => {
            static ANNOUNCED: std::sync::Once = std::sync::Once::new();
            ANNOUNCED.call_once(|| println!("GPU tests run on {}", context.adapter_summary()));
            Some(context)
        }
        Err(error) => {
            if std::env::var("AUGMENTA_REQUIRE_GPU").as_deref() == Ok("1") {
                panic!("AUGMENTA_REQUIRE_GPU=1 but the GPU context failed: {error}");
            }
            println!("skipped: no GPU adapter ({error})");
            None
        }
    }
}

/// One source image with its plan.
struct Item {
    rgba: Vec<u8>,
    plan: PlanParams,
    label: String,
}

/// Runs `items` as one GPU batch and compares every output with the CPU
/// reference, naming the item, the first differing byte and the plan.
fn assert_batch_matches_reference(gpu: &GpuContext, items: &[Item]) {
    let batch: Vec<(&[u8], &PlanParams)> = items.iter().map(|item| (item.rgba.as_slice(), &item.plan)).collect();
    let outputs = gpu
        .execute_batch(&batch)
        .unwrap_or_else(|error| panic!("GPU batch failed: {error}"));
    assert_eq!(outputs.len(), items.len(), "one output per item");

    for (item, output) in items.iter().zip(&outputs) {
        let mut expected = vec![0u8; item.plan.output_len()];
        augmenta::cpu::execute_reference(&item.rgba, &item.plan, &mut expected).unwrap();
        assert_eq!(
            output.len(),
            expected.len(),
            "{}: output length; plan {:?}",
            item.label,
            item.plan
        );
        let first_difference = output.iter().zip(&expected).position(|(gpu, cpu)| gpu != cpu);
        let detail = first_difference.map(|i| {
            let pixel = i / 4;
            let (x, y) = (pixel as u32 % item.plan.dst_w, pixel as u32 / item.plan.dst_w);
            format!(
                "byte {i} (pixel {x},{y} channel {}): gpu {} cpu {}",
                i % 4,
                output[i],
                expected[i]
            )
        });
        assert_eq!(detail, None, "{}: first difference; plan {:?}", item.label, item.plan);
    }
}

/// Returns a deterministic RGBA test image: hashed texture plus gradients, so that
/// neighbouring pixels differ and every bilinear weight shows. Alpha varies
/// unless `opaque`.
fn texture(width: u32, height: u32, seed: u32, opaque: bool) -> Vec<u8> {
    let mut rgba = Vec::with_capacity(width as usize * height as usize * 4);
    for y in 0..height {
        for x in 0..width {
            let hash = pcg4d([x, y, seed, 17])[0].to_le_bytes();
            let r = hash[0] / 2 + (x * 255 / width.max(2)) as u8 / 2;
            let g = hash[1] / 2 + (y * 255 / height.max(2)) as u8 / 2;
            let a = if opaque { 255 } else { hash[3] };
            rgba.extend_from_slice(&[r, g, hash[2], a]);
        }
    }
    rgba
}

/// Returns a gray image (r = g = b) with opaque alpha, as decoded from a gray file.
fn gray(width: u32, height: u32, seed: u32) -> Vec<u8> {
    texture(width, height, seed, true)
        .chunks_exact(4)
        .flat_map(|px| [px[0], px[0], px[0], 255])
        .collect()
}

/// Plans `rgba` through `pipeline` as copy `copy` of image `id`.
fn item(pipeline: &Pipeline, seed: u64, id: u64, copy: u32, width: u32, height: u32, rgba: Vec<u8>) -> Item {
    let source = SourceInfo::measure(width, height, &rgba);
    let plan = pipeline
        .plan(seed, id, copy, source)
        .unwrap_or_else(|error| panic!("plan for {width}x{height}: {error}"))
        .params;
    Item {
        rgba,
        plan,
        label: format!("{width}x{height} seed {seed} id {id} copy {copy} pipeline {pipeline:?}"),
    }
}

fn single(op: OpSpec) -> Pipeline {
    let pipeline = Pipeline { ops: vec![op] };
    pipeline.validate().unwrap();
    pipeline
}

/// Returns every operation with p = 1, some in several settings.
fn every_op() -> Vec<OpSpec> {
    vec![
        OpSpec::HorizontalFlip(HorizontalFlip { p: 1.0 }),
        OpSpec::VerticalFlip(VerticalFlip { p: 1.0 }),
        OpSpec::Rotate90(Rotate90 {
            turns: vec![1, 2, 3],
            p: 1.0,
        }),
        OpSpec::Rotate(Rotate {
            angle: Range::Scalar(45.0),
            p: 1.0,
            ..Rotate::default()
        }),
        OpSpec::Affine(Affine {
            scale: Range::Pair(0.5, 2.0),
            translate: Range::Scalar(0.3),
            rotate: Range::Scalar(180.0),
            shear: Range::Scalar(30.0),
            border: BorderMode::Wrap,
            fill: vec![0, 0, 0],
            p: 1.0,
        }),
        OpSpec::ColorJitter(ColorJitter {
            brightness: Range::Scalar(0.8),
            contrast: Range::Scalar(0.8),
            saturation: Range::Scalar(0.8),
            hue: Range::Scalar(0.5),
            p: 1.0,
        }),
        OpSpec::Grayscale(Grayscale { p: 1.0 }),
        OpSpec::GaussianNoise(GaussianNoise {
            std: Range::Pair(0.05, 0.3),
            per_channel: true,
            p: 1.0,
        }),
        OpSpec::GaussianNoise(GaussianNoise {
            std: Range::Pair(0.05, 0.3),
            per_channel: false,
            p: 1.0,
        }),
    ]
}

/// Draws a random pipeline of one to six operations from `seed`.
fn random_pipeline(seed: u64) -> Pipeline {
    let mut rng = ParamRng::new(seed, 0x6770_7574_6573_7473, 0, 0);
    let border = |rng: &mut ParamRng| BorderMode::ALL[rng.below(5) as usize];
    let fill = |rng: &mut ParamRng| (0..4).map(|_| rng.below(256) as u8).collect::<Vec<u8>>();
    let mut ops = Vec::new();
    for _ in 0..1 + rng.below(6) {
        let p = rng.uniform(0.5, 1.0);
        let op = match rng.below(8) {
            0 => OpSpec::HorizontalFlip(HorizontalFlip { p }),
            1 => OpSpec::VerticalFlip(VerticalFlip { p }),
            2 => OpSpec::Rotate90(Rotate90 {
                turns: vec![0, 1, 2, 3],
                p,
            }),
            3 => OpSpec::Rotate(Rotate {
                angle: Range::Scalar(rng.uniform(0.0, 180.0)),
                border: border(&mut rng),
                fill: fill(&mut rng),
                p,
            }),
            4 => OpSpec::Affine(Affine {
                scale: Range::Pair(0.4, 2.5),
                translate: Range::Scalar(0.4),
                rotate: Range::Scalar(rng.uniform(0.0, 90.0)),
                shear: Range::Scalar(25.0),
                border: border(&mut rng),
                fill: fill(&mut rng),
                p,
            }),
            5 => OpSpec::ColorJitter(ColorJitter {
                brightness: Range::Scalar(rng.uniform(0.0, 1.0)),
                contrast: Range::Scalar(rng.uniform(0.0, 1.0)),
                saturation: Range::Scalar(rng.uniform(0.0, 1.0)),
                hue: Range::Scalar(rng.uniform(0.0, 0.5)),
                p,
            }),
            6 => OpSpec::Grayscale(Grayscale { p }),
            _ => OpSpec::GaussianNoise(GaussianNoise {
                std: Range::Pair(0.0, rng.uniform(0.0, 0.5)),
                per_channel: rng.chance(0.5),
                p,
            }),
        };
        // A pipeline may contain only one noise op, so a second one is dropped.
        let is_noise = |op: &OpSpec| matches!(op, OpSpec::GaussianNoise(_));
        if !(is_noise(&op) && ops.iter().any(is_noise)) {
            ops.push(op);
        }
    }
    let pipeline = Pipeline { ops };
    pipeline.validate().unwrap();
    pipeline
}

#[test]
fn shaders_validate_with_naga() {
    let validate = |name: &str, source: &str| -> naga::Module {
        let module = naga::front::wgsl::parse_str(source).unwrap_or_else(|error| {
            panic!("{name} does not parse:\n{}", error.emit_to_string(source));
        });
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty())
            .validate(&module)
            .unwrap_or_else(|error| panic!("{name} does not validate:\n{}", error.emit_to_string(source)));
        module
    };

    let module = validate("the composed kernel", SHADER_SOURCE);
    let entry = module
        .entry_points
        .iter()
        .find(|entry| entry.name == ENTRY_POINT)
        .unwrap_or_else(|| panic!("no entry point named {ENTRY_POINT}"));
    assert_eq!(entry.stage, naga::ShaderStage::Compute);
    assert_eq!(
        entry.workgroup_size,
        [WG_SIZE, 1, 1],
        "WGSL WG_SIZE differs from augmenta::gpu::WG_SIZE"
    );

    // A file that is not valid alone must be part of the composed kernel,
    // which was validated above; otherwise nothing would check it.
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "wgsl"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .wgsl files in {}", folder.display());
    for path in files {
        let source = std::fs::read_to_string(&path).unwrap();
        let valid_alone = naga::front::wgsl::parse_str(&source).is_ok_and(|module| {
            naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty())
                .validate(&module)
                .is_ok()
        });
        assert!(
            valid_alone || SHADER_SOURCE.contains(&source),
            "{} is neither valid alone nor part of SHADER_SOURCE",
            path.display()
        );
    }

    // The hash is meant to be included anywhere, so it must stand alone.
    validate("rng.wgsl", include_str!("../shaders/rng.wgsl"));
}

#[test]
fn every_op_alone_matches_cpu() {
    let Some(gpu) = gpu() else { return };
    let sources = [(61, 47, false), (32, 40, true), (5, 3, false)];
    let mut items = Vec::new();
    for (op_ix, op) in every_op().into_iter().enumerate() {
        let pipeline = single(op);
        for (image_ix, &(width, height, opaque)) in sources.iter().enumerate() {
            for copy in 0..3 {
                let rgba = texture(width, height, image_ix as u32, opaque);
                items.push(item(&pipeline, 11, op_ix as u64, copy, width, height, rgba));
            }
        }
    }
    assert_batch_matches_reference(gpu, &items);
}

#[test]
fn random_pipelines_match_cpu() {
    let Some(gpu) = gpu() else { return };
    let mut items = Vec::new();
    for seed in 0..50u64 {
        let pipeline = random_pipeline(seed);
        let mut rng = ParamRng::new(seed, 1, 0, 0);
        let (width, height) = (1 + rng.below(70), 1 + rng.below(70));
        let rgba = if seed % 3 == 0 {
            gray(width, height, seed as u32)
        } else {
            texture(width, height, seed as u32, seed % 2 == 0)
        };
        items.push(item(&pipeline, seed, seed * 7919, seed as u32 % 4, width, height, rgba));
    }
    // Batches of 13: several dispatches, each packed differently from one
    // batch of 50.
    for chunk in items.chunks(13) {
        assert_batch_matches_reference(gpu, chunk);
    }
}

#[test]
fn every_border_mode_matches_cpu() {
    let Some(gpu) = gpu() else { return };
    let mut items = Vec::new();
    for border in BorderMode::ALL {
        // Shrinking to 0.3-0.5 of the size maps most output pixels outside
        // the source, up to several periods away, which exercises the
        // remainders of every mode.
        let pipelines = [
            single(OpSpec::Rotate(Rotate {
                angle: Range::Pair(20.0, 70.0),
                border,
                fill: vec![200, 30, 90, 100],
                p: 1.0,
            })),
            single(OpSpec::Affine(Affine {
                scale: Range::Pair(0.3, 0.5),
                rotate: Range::Scalar(30.0),
                translate: Range::Scalar(0.5),
                border,
                fill: vec![10, 250, 60, 0],
                p: 1.0,
                ..Affine::default()
            })),
        ];
        for (pipeline_ix, pipeline) in pipelines.iter().enumerate() {
            for (width, height) in [(23, 17), (1, 9), (8, 1), (2, 2)] {
                let rgba = texture(width, height, width * 31 + height, false);
                items.push(item(
                    pipeline,
                    5,
                    pipeline_ix as u64,
                    border as u32,
                    width,
                    height,
                    rgba,
                ));
            }
        }
    }
    assert_batch_matches_reference(gpu, &items);
}

/// Decodes every photo of the corpus folder, sorted by name; returns none
/// (after printing why) when the folder is missing.
fn real_photos() -> Vec<(PathBuf, image::RgbaImage)> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/photos-large");
    if !folder.is_dir() {
        println!("skipped: no photo folder at {}", folder.display());
        return Vec::new();
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let decoded = decode_file(&path, &DecodeLimits::default())
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            (path, decoded.rgba)
        })
        .collect()
}

#[test]
fn real_photos_in_one_batch_match_cpu() {
    let Some(gpu) = gpu() else { return };
    // The whole folder in one batch, tens of megabytes of source and output,
    // is far above one sub-batch's 32 MiB target, so this also runs the path
    // where consecutive sub-batches overlap.
    let photos = real_photos();
    if photos.is_empty() {
        return;
    }
    let pipeline = Pipeline::default();
    let strong = random_pipeline(3);
    let mut items = Vec::new();
    for (ix, (path, image)) in photos.iter().enumerate() {
        let (width, height) = image.dimensions();
        let pipeline = if ix % 2 == 0 { &pipeline } else { &strong };
        let mut photo = item(pipeline, 7, ix as u64, 1, width, height, image.as_raw().clone());
        photo.label = format!("{} ({width}x{height})", path.display());
        items.push(photo);
    }
    assert_batch_matches_reference(gpu, &items);
}

#[test]
fn gray_and_rgba_inputs_match_cpu() {
    let Some(gpu) = gpu() else { return };
    let pipeline = Pipeline {
        ops: vec![
            OpSpec::Rotate(Rotate {
                angle: Range::Scalar(30.0),
                border: BorderMode::Constant,
                fill: vec![255, 0, 0, 128],
                p: 1.0,
            }),
            OpSpec::ColorJitter(ColorJitter {
                p: 1.0,
                ..ColorJitter::default()
            }),
            OpSpec::GaussianNoise(GaussianNoise {
                std: Range::Pair(0.1, 0.1),
                per_channel: false,
                p: 1.0,
            }),
        ],
    };
    let mut items = Vec::new();
    for copy in 0..4 {
        items.push(item(&pipeline, 9, 1, copy, 48, 36, gray(48, 36, copy)));
        items.push(item(&pipeline, 9, 2, copy, 36, 48, texture(36, 48, copy, false)));
    }
    assert_batch_matches_reference(gpu, &items);
}

#[test]
fn batch_sizes_1_7_64_match_cpu() {
    let Some(gpu) = gpu() else { return };
    for batch_len in [1usize, 7, 64] {
        let items: Vec<Item> = (0..batch_len)
            .map(|i| {
                let pipeline = random_pipeline(100 + i as u64);
                let (width, height) = (8 + (i as u32 * 7) % 41, 8 + (i as u32 * 13) % 37);
                let rgba = texture(width, height, i as u32, i % 2 == 0);
                item(&pipeline, 21, i as u64, 0, width, height, rgba)
            })
            .collect();
        assert_batch_matches_reference(gpu, &items);
    }
}

#[test]
fn thin_images_match_cpu() {
    let Some(gpu) = gpu() else { return };
    let mut items = Vec::new();
    for (width, height) in [(1, 1), (1, 300), (300, 1), (2, 150)] {
        for (op_ix, op) in every_op().into_iter().enumerate() {
            let pipeline = single(op);
            let rgba = texture(width, height, op_ix as u32, false);
            items.push(item(&pipeline, 3, op_ix as u64, 0, width, height, rgba));
        }
    }
    assert_batch_matches_reference(gpu, &items);
}

/// Plans at the fixed-point limits, written by hand: the largest map
/// coefficients and offsets, colour coefficients and noise scale, and a
/// border number that no mode has (both backends read it as reflect101).
#[test]
fn extreme_plans_match_cpu() {
    let Some(gpu) = gpu() else { return };
    let (width, height) = (40, 30);
    let rgba = texture(width, height, 77, false);
    let mut plans = Vec::new();

    let mut plan = PlanParams::identity(width, height);
    plan.map = [
        MAX_MAP_COEFF,
        -MAX_MAP_COEFF,
        MAX_MAP_OFFSET,
        -MAX_MAP_COEFF,
        MAX_MAP_COEFF,
        -MAX_MAP_OFFSET,
    ];
    plans.push(plan);

    let mut plan = PlanParams::identity(width, height);
    plan.map = [-12_345, 70_001, -3_000, 99_999, -65_536, 5_000];
    plan.border = 7;
    plans.push(plan);

    for border in BorderMode::ALL {
        let mut plan = PlanParams::identity(width, height);
        plan.dst_w = 97;
        plan.dst_h = 3;
        plan.map = [
            -MAX_MAP_COEFF / 3,
            4_097,
            MAX_MAP_OFFSET / 2,
            77_777,
            -MAX_MAP_COEFF,
            -MAX_MAP_OFFSET / 3,
        ];
        plan.border = border as u32;
        plan.fill = 0x7f10_20ff;
        plans.push(plan);
    }

    let mut plan = PlanParams::identity(width, height);
    plan.color = [
        1 << 19,
        -(1 << 19),
        1 << 19,
        1 << 29,
        -(1 << 19),
        3,
        1 << 18,
        -(1 << 29),
        4096,
        0,
        0,
        0,
    ];
    plan.flags = FLAG_COLOR | FLAG_NOISE | FLAG_NOISE_PER_CHANNEL;
    plan.noise_scale = MAX_NOISE_SCALE;
    plan.noise_key = [u32::MAX, 0x1234_5678];
    plans.push(plan);

    let mut plan = PlanParams::identity(width, height);
    plan.flags = FLAG_NOISE;
    plan.noise_scale = MAX_NOISE_SCALE;
    plans.push(plan);

    let items: Vec<Item> = plans
        .into_iter()
        .enumerate()
        .map(|(i, plan)| Item {
            rgba: rgba.clone(),
            plan,
            label: format!("extreme plan {i}"),
        })
        .collect();
    assert_batch_matches_reference(gpu, &items);
}

#[test]
fn concurrent_batches_match_cpu() {
    let Some(gpu) = gpu() else { return };
    std::thread::scope(|scope| {
        for thread in 0..4u64 {
            scope.spawn(move || {
                for round in 0..3u64 {
                    let items: Vec<Item> = (0..5u64)
                        .map(|i| {
                            let seed = thread * 100 + round * 10 + i;
                            let (width, height) = (20 + (seed % 17) as u32, 15 + (seed % 11) as u32);
                            let rgba = texture(width, height, seed as u32, false);
                            item(&random_pipeline(seed), seed, i, 0, width, height, rgba)
                        })
                        .collect();
                    assert_batch_matches_reference(gpu, &items);
                }
            });
        }
    });
}

#[test]
fn invalid_items_are_errors() {
    let Some(gpu) = gpu() else { return };
    assert!(gpu.execute_batch(&[]).unwrap().is_empty());

    let plan = PlanParams::identity(4, 4);
    let short = vec![0u8; 60];
    let error = gpu.execute_batch(&[(&short, &plan)]).unwrap_err();
    assert!(matches!(error, GpuError::BufferSize(_)), "{error}");

    let mut empty_source = PlanParams::identity(0, 0);
    empty_source.dst_w = 2;
    empty_source.dst_h = 2;
    let error = gpu.execute_batch(&[(&[], &empty_source)]).unwrap_err();
    assert!(matches!(error, GpuError::EmptySource { index: 0, .. }), "{error}");
}

#[test]
fn missing_adapter_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input");
    std::fs::create_dir(&input).unwrap();
    image::RgbaImage::from_fn(8, 6, |x, y| image::Rgba([x as u8 * 30, y as u8 * 40, 90, 255]))
        .save(input.join("small.png"))
        .unwrap();

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_augmenta"))
        .arg("augment")
        .arg(&input)
        .arg("-o")
        .arg(dir.path().join("out"))
        .args(["--backend", "gpu"])
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .env("WGPU_BACKEND", "vulkan")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "exit status; stderr:\n{stderr}");
    assert!(
        stderr.contains("no GPU adapter"),
        "stderr names the missing adapter:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "stderr shows a panic:\n{stderr}");
}
