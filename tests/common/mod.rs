//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The awkward-image corpus and real photos, kept beside the repository.
pub fn corpus() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    assert!(
        path.is_dir(),
        "the test corpus is missing at {}; it is expected beside the repository",
        path.display()
    );
    path
}

/// Every file below `root`, by relative path, with its bytes.
pub fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let relative = e.path().strip_prefix(root).unwrap().to_string_lossy().into_owned();
            (relative, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// Runs the `augmenta` binary and returns (exit code, stdout, stderr).
pub fn augmenta(args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_augmenta"))
        .args(args)
        .env("NODEVICE_SELECT", "1")
        .output()
        .expect("the augmenta binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Copies a few small real photos into `dir/<class>/`, as a test input.
pub fn small_photo_set(dir: &Path) {
    let photos = corpus().join("photos-large");
    for (class, name) in [
        ("flowers", "pillow_flower.jpg"),
        ("flowers", "pillow_flower.webp"),
        ("animals", "skimage_chelsea.png"),
        ("animals", "skimage_coins.png"),
        ("objects", "pillow_icc_profile_big.jpg"),
    ] {
        std::fs::create_dir_all(dir.join(class)).unwrap();
        std::fs::copy(photos.join(name), dir.join(class).join(name)).unwrap();
    }
}
