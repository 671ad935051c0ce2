//! Writing outputs: atomic file writes and the manifest.

use std::fs;
use std::io::{self, BufRead, BufWriter, Read, Seek, Write};
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
    ///
    /// Only the output path and the position of each line are held in
    /// memory, about 50 bytes per output, and the lines are copied from the
    /// files through a buffered writer.
    pub fn finish(mut self) -> io::Result<usize> {
        self.partial.flush()?;
        drop(self.partial);

        // (output path, source file, byte offset, length); sources are in
        // age order, so after a stable sort the last entry of a key wins.
        let sources = [self.root.join(MANIFEST_NAME), self.root.join(PARTIAL_MANIFEST_NAME)];
        let mut entries: Vec<(String, usize, u64, usize)> = Vec::new();
        for (source, path) in sources.iter().enumerate() {
            let Ok(file) = fs::File::open(path) else {
                continue;
            };
            let mut offset = 0u64;
            for line in io::BufReader::new(file).split(b'\n') {
                let line = line?;
                let key = serde_json::from_slice::<serde_json::Value>(&line)
                    .ok()
                    .and_then(|v| v.get("output").and_then(|o| o.as_str()).map(str::to_owned));
                if let Some(key) = key {
                    entries.push((key, source, offset, line.len()));
                }
                offset += line.len() as u64 + 1;
            }
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut unique: Vec<&(String, usize, u64, usize)> = Vec::with_capacity(entries.len());
        for entry in &entries {
            match unique.last_mut() {
                Some(last) if last.0 == entry.0 => *last = entry,
                _ => unique.push(entry),
            }
        }

        let mut readers = Vec::new();
        for path in &sources {
            readers.push(fs::File::open(path).ok());
        }
        let final_path = self.root.join(MANIFEST_NAME);
        let temporary = self.root.join(format!(".{MANIFEST_NAME}.{}.tmp", std::process::id()));
        let mut out = BufWriter::new(fs::File::create(&temporary)?);
        let mut line = Vec::new();
        for (_, source, offset, length) in &unique {
            let file = readers[*source].as_mut().expect("a source with entries was opened");
            file.seek(io::SeekFrom::Start(*offset))?;
            line.resize(*length, 0);
            file.read_exact(&mut line)?;
            out.write_all(&line)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        drop(out);
        fs::rename(&temporary, &final_path)?;
        fs::remove_file(self.root.join(PARTIAL_MANIFEST_NAME))?;
        Ok(unique.len())
    }
}
