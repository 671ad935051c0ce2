//! Writing outputs: atomic file writes and the manifest.

use std::fs;
use std::io::{self, BufRead, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

/// The manifest file in the output root: one JSON object per output.
pub const MANIFEST_NAME: &str = "manifest.jsonl";

/// Returns the manifest name of shard `index` of `count`, so that shards writing to
/// one folder at the same time keep separate manifests.
pub fn shard_manifest_name(index: u32, count: u32) -> String {
    format!("manifest.shard-{index}-of-{count}.jsonl")
}

/// True for the temporary files [`write_atomic`] makes: `.<name>.<pid>.tmp`.
fn temporary_pid(file_name: &str) -> Option<u32> {
    let inner = file_name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (_, pid) = inner.rsplit_once('.')?;
    pid.parse().ok()
}

/// Removes the temporary files that killed runs left below `root`.
///
/// A file is removed when the process that made it is gone: on Linux when
/// `/proc/<pid>` does not exist or the process is a zombie (killed, not yet
/// reaped), elsewhere whenever it is not this process (so concurrent runs
/// into one folder should not use `--resume` there). A reused pid can keep
/// a stale file until a later `--resume`. Returns how many files were
/// removed.
pub fn remove_stale_temporaries(root: &Path) -> usize {
    let own = std::process::id();
    let proc_fs = Path::new("/proc/self").exists();
    let running = |pid: u32| {
        // The state is the first field after the parenthesised command name.
        let stat = fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat"));
        match stat {
            Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
            Err(_) => false,
        }
    };
    let mut removed = 0;
    for entry in walkdir::WalkDir::new(root).into_iter().filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy();
        let Some(pid) = temporary_pid(&name) else {
            continue;
        };
        let alive = pid == own || (proc_fs && running(pid));
        if entry.file_type().is_file() && !alive && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

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
///
/// Each line is written to the partial manifest, unbuffered, before its
/// output file is renamed into place, so a killed run leaves a line for
/// every output it finished; lines whose output never appeared are dropped
/// at the end.
pub struct ManifestWriter {
    root: PathBuf,
    name: String,
    partial: fs::File,
    line: Vec<u8>,
}

impl ManifestWriter {
    /// Opens the partial manifest of manifest `name` in `root`, keeping the
    /// lines a previous, interrupted run left there.
    pub fn open(root: &Path, name: &str) -> io::Result<Self> {
        fs::create_dir_all(root)?;
        let partial = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(root.join(partial_name(name)))?;
        Ok(Self {
            root: root.to_owned(),
            name: name.to_owned(),
            partial,
            line: Vec::new(),
        })
    }

    /// Appends one line, a JSON object with an `output` field, in one write.
    pub fn append(&mut self, line: &str) -> io::Result<()> {
        self.line.clear();
        self.line.extend_from_slice(line.as_bytes());
        self.line.push(b'\n');
        self.partial.write_all(&self.line)
    }

    /// Merges the partial manifest with any earlier manifest into the final
    /// one, written atomically: one line per output (the newest wins), in
    /// input order and then copy order, leaving out lines whose output file
    /// does not exist and lines of sources that are not in `inputs`.
    ///
    /// `inputs` are the run's inputs (relative paths) in discovery order.
    /// Only one 8-byte file offset per possible output is held in memory,
    /// and lines are copied from the files through buffered readers.
    pub fn finish(self, inputs: &[&str], copies: u32) -> io::Result<usize> {
        drop(self.partial);
        let partial = partial_name(&self.name);
        let index_of: std::collections::HashMap<&str, usize> =
            inputs.iter().enumerate().map(|(i, &source)| (source, i)).collect();

        // Slot (input, copy) stores the offset of its line, and the top bit
        // tells which file. The later file (the partial manifest) wins.
        const EMPTY: u64 = u64::MAX;
        const IN_PARTIAL: u64 = 1 << 63;
        let copies = copies as usize;
        let mut slots = vec![EMPTY; inputs.len() * copies];
        let sources = [self.root.join(&self.name), self.root.join(&partial)];
        for (source, path) in sources.iter().enumerate() {
            let Ok(file) = fs::File::open(path) else {
                continue;
            };
            let mut offset = 0u64;
            for line in io::BufReader::new(file).split(b'\n') {
                let line = line?;
                if let Some(slot) = slot_of(&line, &index_of, copies, &self.root) {
                    slots[slot] = offset | if source == 1 { IN_PARTIAL } else { 0 };
                }
                offset += line.len() as u64 + 1;
            }
        }

        let mut readers = Vec::new();
        for path in &sources {
            readers.push(fs::File::open(path).ok().map(io::BufReader::new));
        }
        let final_path = self.root.join(&self.name);
        let temporary = self.root.join(format!(".{}.{}.tmp", self.name, std::process::id()));
        let mut out = BufWriter::new(fs::File::create(&temporary)?);
        let mut line = Vec::new();
        let mut written = 0;
        for &slot in slots.iter().filter(|&&slot| slot != EMPTY) {
            let source = usize::from(slot & IN_PARTIAL != 0);
            let reader = readers[source].as_mut().expect("a file with lines was opened");
            reader.seek(io::SeekFrom::Start(slot & !IN_PARTIAL))?;
            line.clear();
            reader.read_until(b'\n', &mut line)?;
            if line.last() != Some(&b'\n') {
                line.push(b'\n');
            }
            out.write_all(&line)?;
            written += 1;
        }
        out.flush()?;
        drop(out);
        fs::rename(&temporary, &final_path)?;
        fs::remove_file(self.root.join(&partial))?;
        Ok(written)
    }
}

/// Returns the slot of a manifest line, `input * copies + copy`, when its source is
/// an input of this run, its copy is in range and its output file exists.
fn slot_of(
    line: &[u8],
    index_of: &std::collections::HashMap<&str, usize>,
    copies: usize,
    root: &Path,
) -> Option<usize> {
    let value: serde_json::Value = serde_json::from_slice(line).ok()?;
    let input = *index_of.get(value.get("source")?.as_str()?)?;
    let copy = usize::try_from(value.get("copy")?.as_u64()?).ok()?;
    let output = value.get("output")?.as_str()?;
    (copy < copies && root.join(output).is_file()).then_some(input * copies + copy)
}

/// Returns the name of the partial manifest of manifest `name`.
fn partial_name(name: &str) -> String {
    format!(".{name}.partial")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_give_their_pid() {
        assert_eq!(temporary_pid(".cat_0001.jpg.4242.tmp"), Some(4242));
        assert_eq!(temporary_pid("cat_0001.jpg"), None);
        assert_eq!(temporary_pid(".manifest.jsonl.partial"), None);
    }

    #[test]
    fn lines_of_missing_outputs_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a_0.jpg", "a_1.jpg", "b_0.jpg"] {
            fs::write(dir.path().join(name), b"x").unwrap();
        }
        let mut manifest = ManifestWriter::open(dir.path(), MANIFEST_NAME).unwrap();
        manifest.append(r#"{"output":"b_0.jpg","source":"b.jpg","copy":0}"#).unwrap();
        manifest.append(r#"{"output":"gone.jpg","source":"a.jpg","copy":2}"#).unwrap();
        manifest.append(r#"{"output":"a_1.jpg","source":"a.jpg","copy":1,"n":1}"#).unwrap();
        manifest.append(r#"{"output":"a_1.jpg","source":"a.jpg","copy":1,"n":2}"#).unwrap();
        manifest.append(r#"{"output":"a_0.jpg","source":"other.jpg","copy":0}"#).unwrap();
        assert_eq!(manifest.finish(&["a.jpg", "b.jpg"], 3).unwrap(), 2);
        let text = fs::read_to_string(dir.path().join(MANIFEST_NAME)).unwrap();
        let expected = [
            r#"{"output":"a_1.jpg","source":"a.jpg","copy":1,"n":2}"#,
            r#"{"output":"b_0.jpg","source":"b.jpg","copy":0}"#,
        ];
        assert_eq!(text, format!("{}\n{}\n", expected[0], expected[1]));
    }
}
