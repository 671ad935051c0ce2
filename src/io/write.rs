//! Writing outputs: atomic file writes and the manifest.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The manifest file in the output root: one JSON object per output.
pub const MANIFEST_NAME: &str = "manifest.jsonl";
/// The manifest of a run in progress; renamed to [`MANIFEST_NAME`] at the end.
pub const PARTIAL_MANIFEST_NAME: &str = ".manifest.jsonl.partial";

/// Writes `bytes` to `path` atomically: to a hidden temporary file in the
/// same folder, then renamed. A crash leaves at most the temporary file,
/// never a partial file under the final name.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.flush()?;
        drop(file);
        fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result
}

/// Appends manifest lines while a run goes on and writes the final,
/// sorted manifest at the end.
pub struct ManifestWriter {
    root: PathBuf,
    partial: BufWriter<fs::File>,
}

impl ManifestWriter {
    /// Opens the partial manifest in `root`, keeping lines a previous,
    /// interrupted run left there.
    pub fn open(root: &Path) -> io::Result<Self> {
        fs::create_dir_all(root)?;
        let file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(root.join(PARTIAL_MANIFEST_NAME))?;
        Ok(Self {
            root: root.to_owned(),
            partial: BufWriter::new(file),
        })
    }

    /// Appends one line; `line` is a JSON object with an `output` field.
    pub fn append(&mut self, line: &str) -> io::Result<()> {
        self.partial.write_all(line.as_bytes())?;
        self.partial.write_all(b"\n")
    }

    /// Merges the partial manifest with any earlier manifest, one line per
    /// output (the newest wins), sorted by output path, and writes
    /// [`MANIFEST_NAME`] atomically.
    pub fn finish(mut self) -> io::Result<usize> {
        self.partial.flush()?;
        drop(self.partial);
        let mut lines: BTreeMap<String, String> = BTreeMap::new();
        for name in [MANIFEST_NAME, PARTIAL_MANIFEST_NAME] {
            let path = self.root.join(name);
            let Ok(file) = fs::File::open(&path) else {
                continue;
            };
            for line in io::BufReader::new(file).lines() {
                let line = line?;
                let key = serde_json::from_str::<serde_json::Value>(&line)
                    .ok()
                    .and_then(|v| v.get("output").and_then(|o| o.as_str()).map(str::to_owned));
                if let Some(key) = key {
                    lines.insert(key, line);
                }
            }
        }
        let mut text = String::new();
        for line in lines.values() {
            text.push_str(line);
            text.push('\n');
        }
        write_atomic(&self.root.join(MANIFEST_NAME), text.as_bytes())?;
        fs::remove_file(self.root.join(PARTIAL_MANIFEST_NAME))?;
        Ok(lines.len())
    }
}
