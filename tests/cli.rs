//! The `augmenta` command as a user runs it: determinism, naming, exit
//! statuses, resume and the backends.

mod common;

use common::{augmenta, small_photo_set, tree};
use std::path::Path;

fn run_augment(input: &Path, output: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["augment", input.to_str().unwrap(), "-o", output.to_str().unwrap(), "--quiet"];
    args.extend_from_slice(extra);
    augmenta(&args)
}

#[test]
fn same_seed_gives_identical_trees_across_runs_and_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    small_photo_set(&input);
    let common = ["--copies", "4", "--seed", "7", "--backend", "cpu"];

    let (code, stdout, stderr) = run_augment(&input, &dir.path().join("a"), &[&common[..], &["--jobs", "1"]].concat());
    assert_eq!(code, 0, "{stdout}{stderr}");
    run_augment(&input, &dir.path().join("b"), &[&common[..], &["--jobs", "2"]].concat());
    run_augment(&input, &dir.path().join("c"), &[&common[..], &["--jobs", "2"]].concat());
    let a = tree(&dir.path().join("a"));
    assert_eq!(a.len(), 5 * 4 + 1, "{:?}", a.keys());
    assert!(a == tree(&dir.path().join("b")), "--jobs 1 and --jobs 2 differ");
    assert!(a == tree(&dir.path().join("c")), "two runs differ");

    // Class folders are kept.
    assert!(a.contains_key("animals/skimage_chelsea_0003.png"), "{:?}", a.keys());
    assert!(a.contains_key("flowers/pillow_flower_jpg_0000.jpg"), "{:?}", a.keys());
    assert!(a.contains_key("flowers/pillow_flower_webp_0000.png"), "{:?}", a.keys());

    // Another seed changes the pixels.
    run_augment(&input, &dir.path().join("d"), &["--copies", "4", "--seed", "8", "--backend", "cpu"]);
    let d = tree(&dir.path().join("d"));
    let differing = a.iter().filter(|(k, _)| k.ends_with(".png") || k.ends_with(".jpg")).filter(|(k, v)| d.get(*k) != Some(v)).count();
    assert!(differing >= 15, "only {differing} of 20 outputs changed with the seed");
}

#[test]
fn copies_vary_and_stay_upright() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    small_photo_set(&input);
    let out = dir.path().join("out");
    let (code, _, stderr) = run_augment(&input, &out, &["--copies", "6", "--backend", "cpu"]);
    assert_eq!(code, 0, "{stderr}");
    let outputs = tree(&out);
    let chelsea: Vec<_> = (0..6)
        .map(|i| outputs[&format!("animals/skimage_chelsea_{i:04}.png")].clone())
        .collect();
    for (i, bytes) in chelsea.iter().enumerate() {
        let image = image::load_from_memory(bytes).unwrap();
        // The default pipeline keeps the photo's size and orientation.
        assert_eq!((image.width(), image.height()), (451, 300), "copy {i}");
    }
    let distinct: std::collections::HashSet<_> = chelsea.iter().collect();
    assert!(distinct.len() >= 5, "only {} distinct copies of 6", distinct.len());
}

#[test]
fn manifest_lists_every_output_with_class_and_ops() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    small_photo_set(&input);
    let out = dir.path().join("out");
    run_augment(&input, &out, &["--copies", "3", "--seed", "1", "--backend", "cpu"]);
    let manifest = std::fs::read_to_string(out.join("manifest.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = manifest.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 15);
    let order: Vec<(String, u64)> = lines
        .iter()
        .map(|l| (l["source"].as_str().unwrap().to_owned(), l["copy"].as_u64().unwrap()))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "manifest is in source order, then copy order");
    for line in &lines {
        let output = line["output"].as_str().unwrap();
        let class = line["class"].as_str().unwrap();
        assert!(output.starts_with(&format!("{class}/")), "{line}");
        assert!(line["ops"].is_array());
        assert_eq!(line["seed"], 1);
        let image = image::open(out.join(output)).unwrap();
        assert_eq!(image.width(), line["width"].as_u64().unwrap() as u32);
    }
    assert!(!out.join(".manifest.jsonl.partial").exists());
}

#[test]
fn same_stem_inputs_never_share_an_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let photo = common::corpus().join("photos-large/pillow_flower.jpg");
    std::fs::copy(&photo, input.join("a.jpg")).unwrap();
    let png = image::open(&photo).unwrap();
    png.save(input.join("a.png")).unwrap();
    let out = dir.path().join("out");
    let (code, _, stderr) = run_augment(&input, &out, &["--copies", "2", "--format", "jpg", "--backend", "cpu"]);
    assert_eq!(code, 0, "{stderr}");
    let names: Vec<String> = tree(&out).into_keys().collect();
    assert_eq!(names, ["a_jpg_0000.jpg", "a_jpg_0001.jpg", "a_png_0000.jpg", "a_png_0001.jpg", "manifest.jsonl"]);
}

#[test]
fn alpha_is_kept_in_png_and_composited_for_jpeg() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let clear = image::RgbaImage::from_fn(40, 30, |x, _| image::Rgba([200, 10, 10, if x < 20 { 0 } else { 255 }]));
    clear.save(input.join("cut.png")).unwrap();
    let pipeline = dir.path().join("none.toml");
    std::fs::write(&pipeline, "ops = []\n").unwrap();

    let png_out = dir.path().join("png");
    run_augment(&input, &png_out, &["--copies", "1", "-p", pipeline.to_str().unwrap(), "--backend", "cpu"]);
    let png = image::open(png_out.join("cut_0000.png")).unwrap();
    assert!(png.color().has_alpha());
    assert!(png.into_rgba8() == clear, "an empty pipeline must copy the pixels");

    let jpg_out = dir.path().join("jpg");
    run_augment(&input, &jpg_out, &["--copies", "1", "-p", pipeline.to_str().unwrap(), "--format", "jpg", "--backend", "cpu"]);
    let jpg = image::open(jpg_out.join("cut_0000.jpg")).unwrap().into_rgb8();
    let left = jpg.get_pixel(5, 15);
    let right = jpg.get_pixel(35, 15);
    assert!(left.0.iter().all(|&v| v > 240), "transparent side is white: {left:?}");
    assert!(right[0] > 170, "opaque side keeps its red: {right:?}");
    assert!(right[1] < 60, "opaque side keeps its red: {right:?}");
}

#[test]
fn output_inside_input_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    small_photo_set(&input);
    let (code, _, stderr) = run_augment(&input, &input.join("out"), &["--backend", "cpu"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("overlap"), "{stderr}");
    assert!(!input.join("out").exists());
    let (code, _, stderr) = run_augment(&input.join("animals"), &input, &["--backend", "cpu"]);
    assert_eq!(code, 1, "{stderr}");
}

#[test]
fn exit_statuses_follow_the_documentation() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    small_photo_set(&input);
    std::fs::write(input.join("animals/broken.jpg"), b"\xff\xd8\xff\xe0 not really a jpeg").unwrap();

    let (code, stdout, stderr) = run_augment(&input, &dir.path().join("a"), &["--copies", "1", "--backend", "cpu"]);
    assert_eq!(code, 0, "a skipped input alone does not fail the run: {stderr}");
    assert!(stderr.contains("skipped"), "{stderr}");
    assert!(stderr.contains("broken.jpg"), "{stderr}");
    assert!(stdout.contains("1 input skipped"), "{stdout}");

    let (code, _, _) = run_augment(&input, &dir.path().join("b"), &["--copies", "1", "--strict", "--backend", "cpu"]);
    assert_eq!(code, 3);

    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let (code, _, stderr) = run_augment(&empty, &dir.path().join("c"), &["--backend", "cpu"]);
    assert_eq!(code, 4, "{stderr}");

    let (code, _, stderr) = run_augment(&dir.path().join("missing"), &dir.path().join("d"), &["--backend", "cpu"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("does not exist"), "{stderr}");

    let (code, _, _) = augmenta(&["augment", "--copies", "0", "x", "-o", "y"]);
    assert_eq!(code, 2);
}

#[test]
fn invalid_pipeline_file_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    small_photo_set(&input);
    let cases = [
        ("typo.toml", "[[ops]]\nop = \"rotate\"\nangel = 10\n", "`angel`"),
        ("type.toml", "[[ops]]\nop = \"gaussian_noise\"\nper_channel = \"yes\"\n", "`per_channel`"),
        ("range.toml", "[[ops]]\nop = \"color_jitter\"\nhue = 0.9\n", "`hue`"),
        ("range.json", "{\"ops\": [{\"op\": \"rotate\", \"p\": 2}]}", "`p`"),
    ];
    for (name, text, field) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let (code, _, stderr) = run_augment(&input, &dir.path().join("out"), &["-p", path.to_str().unwrap(), "--backend", "cpu"]);
        assert_eq!(code, 1, "{name}: {stderr}");
        assert!(stderr.contains(name), "{name}: {stderr}");
        assert!(stderr.contains(field), "{name}: {stderr}");
    }
}

#[test]
fn resume_finishes_an_interrupted_run_with_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    small_photo_set(&input);
    let full = dir.path().join("full");
    run_augment(&input, &full, &["--copies", "3", "--seed", "5", "--backend", "cpu"]);

    // Simulate an interruption: some outputs missing, a stray temporary
    // file, and a partial manifest instead of the final one.
    let part = dir.path().join("part");
    run_augment(&input, &part, &["--copies", "3", "--seed", "5", "--backend", "cpu"]);
    std::fs::remove_file(part.join("animals/skimage_coins_0001.png")).unwrap();
    std::fs::remove_file(part.join("flowers/pillow_flower_jpg_0002.jpg")).unwrap();
    std::fs::write(part.join("animals/.skimage_coins_0001.png.123.tmp"), b"half").unwrap();

    let (code, stdout, stderr) = run_augment(&input, &part, &["--copies", "3", "--seed", "5", "--backend", "cpu", "--resume"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("2 outputs written"), "{stdout}");
    assert!(stdout.contains("13 existing outputs kept"), "{stdout}");
    let mut resumed = tree(&part);
    resumed.remove("animals/.skimage_coins_0001.png.123.tmp");
    assert!(resumed == tree(&full), "resumed tree differs from an uninterrupted run");
}

#[test]
fn killed_run_resumes_to_identical_tree() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    small_photo_set(&input);
    let args = ["--copies", "40", "--seed", "3", "--backend", "cpu", "--jobs", "2"];
    let full = dir.path().join("full");
    let (code, _, stderr) = run_augment(&input, &full, &args);
    assert_eq!(code, 0, "{stderr}");

    // Kill a second run once part of its outputs exist.
    let part = dir.path().join("part");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_augmenta"))
        .args(["augment", input.to_str().unwrap(), "-o", part.to_str().unwrap(), "--quiet"])
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let count_outputs = |root: &Path| {
        walkdir::WalkDir::new(root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file() && !e.file_name().to_string_lossy().starts_with('.'))
            .count()
    };
    while count_outputs(&part) < 30 && started.elapsed() < std::time::Duration::from_secs(30) {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(count_outputs(&part) < 200, "the run finished before it was killed");

    let (code, stdout, stderr) = run_augment(&input, &part, &[&args[..], &["--resume"]].concat());
    assert_eq!(code, 0, "{stdout}{stderr}");
    let resumed = tree(&part);
    let expected = tree(&full);
    assert_eq!(resumed.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>(), "file lists differ");
    for (name, bytes) in &expected {
        assert!(resumed[name] == *bytes, "{name} differs after resume");
    }
}

#[test]
fn shards_together_make_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    small_photo_set(&input);
    let whole = dir.path().join("whole");
    run_augment(&input, &whole, &["--copies", "2", "--backend", "cpu"]);
    let mut merged = std::collections::BTreeMap::new();
    for k in 0..3 {
        let out = dir.path().join(format!("s{k}"));
        let shard = format!("{k}/3");
        let (code, _, stderr) = run_augment(&input, &out, &["--copies", "2", "--backend", "cpu", "--shard", &shard]);
        assert!(code == 0 || code == 4, "{stderr}");
        let mut part = tree(&out);
        let manifest = part.remove(&format!("manifest.shard-{k}-of-3.jsonl"));
        assert!(code == 4 || manifest.is_some(), "shard {k} wrote no manifest");
        merged.extend(part);
    }
    let mut expected = tree(&whole);
    expected.remove("manifest.jsonl");
    assert!(merged == expected);
}

#[test]
fn concurrent_shards_share_one_folder() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    small_photo_set(&input);
    let whole = dir.path().join("whole");
    run_augment(&input, &whole, &["--copies", "6", "--backend", "cpu"]);
    let shared = dir.path().join("shared");
    // Both shards are started before either is waited for.
    let running: Vec<_> = (0..2)
        .map(|k| {
            std::process::Command::new(env!("CARGO_BIN_EXE_augmenta"))
                .args(["augment", input.to_str().unwrap(), "-o", shared.to_str().unwrap(), "--quiet"])
                .args(["--copies", "6", "--backend", "cpu", "--jobs", "1", "--shard", &format!("{k}/2")])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in running {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.code() == Some(0) || output.status.code() == Some(4), "{output:?}");
    }
    let mut merged = tree(&shared);
    let mut lines = 0;
    for k in 0..2 {
        if let Some(manifest) = merged.remove(&format!("manifest.shard-{k}-of-2.jsonl")) {
            lines += String::from_utf8(manifest).unwrap().lines().count();
        }
    }
    let mut expected = tree(&whole);
    expected.remove("manifest.jsonl");
    assert_eq!(lines, expected.len(), "the shard manifests together list every output");
    assert!(merged == expected);
}

#[test]
fn ops_lists_every_operation_with_defaults() {
    let (code, stdout, _) = augmenta(&["ops"]);
    assert_eq!(code, 0);
    for name in ["horizontal_flip", "vertical_flip", "rotate90", "rotate", "affine", "color_jitter", "grayscale", "gaussian_noise"] {
        assert!(stdout.contains(&format!("{name}:")), "{name} missing:\n{stdout}");
    }
    assert!(stdout.contains("reflect101"));
    assert!(stdout.contains("degrees"));
}

#[test]
fn readme_example_pipeline_is_valid() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find("```toml\n").expect("README has a TOML example") + 8;
    let end = start + readme[start..].find("```").unwrap();
    augmenta::Pipeline::from_toml_str(&readme[start..end], Path::new("README.md")).unwrap();
}

/// True when a GPU adapter can be opened; without one the caller skips,
/// unless `AUGMENTA_REQUIRE_GPU=1`, which turns a missing adapter into a failure.
fn gpu_available() -> bool {
    match augmenta::gpu::GpuContext::new(true) {
        Ok(_) => true,
        Err(error) => {
            assert!(
                std::env::var_os("AUGMENTA_REQUIRE_GPU").is_none_or(|v| v != "1"),
                "AUGMENTA_REQUIRE_GPU=1 but no GPU adapter: {error}"
            );
            println!("skipped: no GPU adapter ({error})");
            false
        }
    }
}

#[test]
fn gpu_and_cpu_runs_write_identical_trees() {
    if !gpu_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    small_photo_set(&input);
    std::fs::create_dir_all(input.join("samples")).unwrap();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/mugs");
    for entry in std::fs::read_dir(samples).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), input.join("samples").join(entry.file_name())).unwrap();
    }
    let pipeline = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peer_pipeline.toml");
    let common = ["--copies", "3", "--seed", "11", "-p", pipeline.to_str().unwrap()];

    let (code, _, stderr) = run_augment(&input, &dir.path().join("gpu"), &[&common[..], &["--backend", "gpu"]].concat());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("backend: gpu"), "{stderr}");
    let (code, _, stderr) = run_augment(&input, &dir.path().join("cpu"), &[&common[..], &["--backend", "cpu"]].concat());
    assert_eq!(code, 0, "{stderr}");

    let gpu = tree(&dir.path().join("gpu"));
    let cpu = tree(&dir.path().join("cpu"));
    assert_eq!(gpu.len(), (5 + 5) * 3 + 1);
    assert_eq!(gpu.keys().collect::<Vec<_>>(), cpu.keys().collect::<Vec<_>>());
    for (name, bytes) in &cpu {
        assert!(gpu[name] == *bytes, "{name} differs between --backend gpu and --backend cpu");
    }
}
