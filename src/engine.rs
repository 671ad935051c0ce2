//! The streaming job: folder in, augmented folder out.
//!
//! `jobs` worker threads share a queue of (decoded image, copy) units. A
//! worker whose queue is empty decodes the next input and queues its copies,
//! so the copies of one image spread over all workers while at most one
//! decoded image per worker is alive. Each unit is planned, augmented by the
//! backend, encoded, and sent over a bounded channel to one writer thread,
//! which writes files atomically and appends the manifest. Memory therefore
//! depends on `jobs` and the image sizes, not on the number of inputs or
//! copies.

use crate::backend::Backend;
use crate::io::decode::{decode_file, DecodeLimits};
use crate::io::discover::{discover, DiscoverError, Ignored, InputFile};
use crate::io::encode::{encode, Encoding, OutputFormat};
use crate::io::write::{write_atomic, ManifestWriter};
use crate::pipeline::plan::{AugmentPlan, SourceInfo};
use crate::pipeline::Pipeline;
use crossbeam_channel::bounded;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Everything one run needs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The input folder (or one image file).
    pub input: PathBuf,
    /// The output folder.
    pub output: PathBuf,
    /// Augmented copies per input.
    pub copies: u32,
    /// The seed of every random draw.
    pub seed: u64,
    /// The operations.
    pub pipeline: Pipeline,
    /// The output file format.
    pub format: OutputFormat,
    /// JPEG quality, 1-100.
    pub quality: u8,
    /// Worker threads.
    pub jobs: usize,
    /// Where the pixels are computed.
    pub backend: Backend,
    /// Decoding limits.
    pub limits: DecodeLimits,
    /// Keep outputs that already exist instead of writing them again.
    pub resume: bool,
    /// Process only the inputs of shard `index` of `count`.
    pub shard: Option<Shard>,
}

/// A slice of the inputs, for splitting one run over several processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0..count`.
    pub index: u32,
    /// The number of shards.
    pub count: u32,
}

impl Shard {
    /// True when the input with identity `id` belongs to this shard.
    pub fn contains(&self, id: u64) -> bool {
        id % u64::from(self.count) == u64::from(self.index)
    }
}

/// Receives progress while a run goes on. Called from several threads.
pub trait Observer: Sync {
    /// The run starts with `inputs` images and `outputs` planned outputs.
    fn started(&self, _inputs: usize, _outputs: u64) {}
    /// An output was written, or kept by `--resume`.
    fn written(&self, _relative: &str) {}
    /// An input was skipped; `outputs` is how many planned outputs it removes.
    fn skipped(&self, _input: &Path, _reason: &str, _outputs: u64) {}
}

/// An observer that ignores everything.
pub struct Silent;

impl Observer for Silent {}

/// An input that produced no outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The input file.
    pub path: PathBuf,
    /// Why it was skipped.
    pub reason: String,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Images found in the input (after sharding).
    pub inputs_found: usize,
    /// Images decoded and augmented.
    pub inputs_read: usize,
    /// Output files written.
    pub outputs_written: u64,
    /// Output files that existed and were kept (`--resume`).
    pub outputs_kept: u64,
    /// Inputs that failed, with reasons, in path order.
    pub skipped: Vec<Skipped>,
    /// Files that are not images.
    pub ignored: Vec<Ignored>,
    /// Folders without any image.
    pub empty_folders: Vec<PathBuf>,
    /// Wall time of the run.
    pub elapsed: Duration,
}

/// Why a run could not go on at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The input folder could not be listed.
    #[error(transparent)]
    Discover(#[from] DiscoverError),
    /// The input does not exist.
    #[error("input {path} does not exist")]
    MissingInput {
        /// The input path.
        path: PathBuf,
    },
    /// The output folder lies inside the input folder or contains it.
    #[error("output folder {output} and input folder {input} overlap; choose an output folder outside the input")]
    Overlap {
        /// The input folder.
        input: PathBuf,
        /// The output folder.
        output: PathBuf,
    },
    /// An output or the manifest could not be written.
    #[error("cannot write {path}")]
    Write {
        /// The file that failed.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The backend failed in a way that affects every image.
    #[error("backend failed: {0}")]
    Backend(String),
}

/// A decoded input, shared by the units of its copies.
struct Source {
    /// The input's position in the run's input list.
    index: usize,
    input: InputFile,
    image: image::RgbaImage,
    info: SourceInfo,
    encoding: Encoding,
}

struct Unit {
    source: Arc<Source>,
    copy: u32,
}

#[derive(Default)]
struct Feed {
    next_input: usize,
    queue: VecDeque<Unit>,
    decoding: usize,
}

/// One finished output on its way to the writer.
struct Finished {
    relative: String,
    bytes: Vec<u8>,
    manifest_line: String,
}

struct Shared<'a> {
    options: &'a RunOptions,
    inputs: Vec<InputFile>,
    feed: Mutex<Feed>,
    ready: Condvar,
    abort: AtomicBool,
    inputs_read: AtomicU64,
    outputs_kept: AtomicU64,
    skipped: Mutex<Vec<(usize, Skipped)>>,
    observer: &'a dyn Observer,
}

/// Returns the width of the copy number in output names: at least 4 digits.
fn copy_digits(copies: u32) -> usize {
    copies.saturating_sub(1).to_string().len().max(4)
}

/// Returns the output path of one copy, relative to the output root, for a
/// file extension such as `"jpg"`.
pub fn output_relative(input: &InputFile, copy: u32, copies: u32, extension: &str) -> String {
    format!(
        "{}_{:0width$}.{extension}",
        input.output_stem,
        copy,
        width = copy_digits(copies)
    )
}

/// Resolves a path that may not exist yet: the deepest existing ancestor is
/// canonicalized and the rest appended.
fn resolve(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = existing.canonicalize() {
            return rest.iter().rev().fold(canonical, |p, c| p.join(c));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

/// Runs the whole job and returns its summary.
///
/// Per-input failures are recorded in the summary and never stop the run.
/// Only a failure that affects every output (the input cannot be listed,
/// the output cannot be written) returns an error.
pub fn run(options: &RunOptions, observer: &dyn Observer) -> Result<Summary, EngineError> {
    let start = Instant::now();
    if !options.input.exists() {
        return Err(EngineError::MissingInput {
            path: options.input.clone(),
        });
    }
    let input_root = resolve(&options.input);
    let output_root = resolve(&options.output);
    if output_root.starts_with(&input_root) || (input_root.is_dir() && input_root.starts_with(&output_root)) {
        return Err(EngineError::Overlap {
            input: options.input.clone(),
            output: options.output.clone(),
        });
    }

    let found = discover(&options.input)?;
    let inputs: Vec<InputFile> = found
        .inputs
        .into_iter()
        .filter(|i| options.shard.is_none_or(|s| s.contains(i.id)))
        .collect();
    let mut summary = Summary {
        inputs_found: inputs.len(),
        ignored: found.ignored,
        empty_folders: found.empty_folders,
        ..Summary::default()
    };
    observer.started(inputs.len(), inputs.len() as u64 * u64::from(options.copies));

    let manifest_name = match options.shard {
        Some(shard) => crate::io::write::shard_manifest_name(shard.index, shard.count),
        None => crate::io::write::MANIFEST_NAME.to_owned(),
    };
    let mut manifest = ManifestWriter::open(&options.output, &manifest_name).map_err(|source| EngineError::Write {
        path: options.output.clone(),
        source,
    })?;
    if options.resume {
        let removed = crate::io::write::remove_stale_temporaries(&options.output);
        if removed > 0 {
            log::info!("removed {removed} temporary files left by an interrupted run");
        }
    }

    let shared = Shared {
        options,
        inputs,
        feed: Mutex::new(Feed::default()),
        ready: Condvar::new(),
        abort: AtomicBool::new(false),
        inputs_read: AtomicU64::new(0),
        outputs_kept: AtomicU64::new(0),
        skipped: Mutex::new(Vec::new()),
        observer,
    };
    let jobs = options.jobs.max(1);
    let (sender, receiver) = bounded::<Finished>(2 * jobs);

    let write_result = std::thread::scope(|scope| {
        for _ in 0..jobs {
            let sender = sender.clone();
            let shared = &shared;
            scope.spawn(move || worker(shared, sender));
        }
        drop(sender);

        // The writer runs on this thread.
        let mut written = 0u64;
        for finished in receiver.iter() {
            let path = options.output.join(&finished.relative);
            // The line goes first, so that every finished output has one.
            let result = manifest
                .append(&finished.manifest_line)
                .and_then(|()| write_atomic(&path, &finished.bytes));
            if let Err(source) = result {
                shared.abort.store(true, Ordering::Relaxed);
                shared.ready.notify_all();
                return Err(EngineError::Write { path, source });
            }
            written += 1;
            observer.written(&finished.relative);
        }
        Ok(written)
    });
    let written = write_result?;

    let sources: Vec<&str> = shared.inputs.iter().map(|i| i.relative.as_str()).collect();
    manifest.finish(&sources, options.copies).map_err(|source| EngineError::Write {
        path: options.output.join(&manifest_name),
        source,
    })?;

    let mut skipped = shared.skipped.into_inner().unwrap_or_else(|e| e.into_inner());
    skipped.sort_by_key(|(index, _)| *index);
    summary.skipped = skipped.into_iter().map(|(_, s)| s).collect();
    summary.inputs_read = shared.inputs_read.load(Ordering::Relaxed) as usize;
    summary.outputs_written = written;
    summary.outputs_kept = shared.outputs_kept.load(Ordering::Relaxed);
    summary.elapsed = start.elapsed();
    Ok(summary)
}

/// What a worker does next.
enum Task {
    Augment(Vec<Unit>),
    Decode(usize),
    Done,
}

fn next_task(shared: &Shared, batch: usize) -> Task {
    let mut feed = shared.feed.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if shared.abort.load(Ordering::Relaxed) {
            return Task::Done;
        }
        if !feed.queue.is_empty() {
            let n = batch.min(feed.queue.len());
            return Task::Augment(feed.queue.drain(..n).collect());
        }
        if feed.next_input < shared.inputs.len() {
            feed.next_input += 1;
            feed.decoding += 1;
            return Task::Decode(feed.next_input - 1);
        }
        if feed.decoding == 0 {
            return Task::Done;
        }
        feed = shared.ready.wait(feed).unwrap_or_else(|e| e.into_inner());
    }
}

fn worker(shared: &Shared, sender: crossbeam_channel::Sender<Finished>) {
    let options = shared.options;
    let batch = options.backend.batch_len();
    let mut scratch = Vec::new();
    loop {
        match next_task(shared, batch) {
            Task::Done => return,
            Task::Decode(index) => {
                let units = prepare(shared, index);
                let mut feed = shared.feed.lock().unwrap_or_else(|e| e.into_inner());
                feed.decoding -= 1;
                feed.queue.extend(units);
                drop(feed);
                shared.ready.notify_all();
            }
            Task::Augment(units) => {
                if let Err(reason) = augment_units(shared, &units, &sender, &mut scratch) {
                    // A failure inside one image's batch skips that image.
                    record_skip(shared, units[0].source.index, reason, 0);
                }
            }
        }
    }
}

fn record_skip(shared: &Shared, index: usize, reason: String, outputs: u64) {
    let input = &shared.inputs[index];
    shared.observer.skipped(&input.path, &reason, outputs);
    shared.skipped.lock().unwrap_or_else(|e| e.into_inner()).push((
        index,
        Skipped {
            path: input.path.clone(),
            reason,
        },
    ));
}

/// Decodes input `index` and returns the units of the copies still to write.
fn prepare(shared: &Shared, index: usize) -> Vec<Unit> {
    let options = shared.options;
    let input = &shared.inputs[index];
    let copies = options.copies;

    // With --resume, the copies whose output exists are kept. The output
    // extension depends only on the content's format, so it is known from
    // the file's first bytes, and an input whose copies all exist is not
    // decoded at all.
    let mut missing: Vec<u32> = (0..copies).collect();
    if options.resume {
        if let Some(content) = sniff_format(&input.path) {
            let extension = options.format.extension(content);
            missing.retain(|&copy| {
                let relative = output_relative(input, copy, copies, extension);
                let exists = options.output.join(&relative).exists();
                if exists {
                    shared.outputs_kept.fetch_add(1, Ordering::Relaxed);
                    shared.observer.written(&relative);
                }
                !exists
            });
            if missing.is_empty() {
                shared.inputs_read.fetch_add(1, Ordering::Relaxed);
                return Vec::new();
            }
        }
    }

    let decoded = match decode_file(&input.path, &options.limits) {
        Ok(decoded) => decoded,
        Err(error) => {
            record_skip(shared, index, error.to_string(), missing.len() as u64);
            return Vec::new();
        }
    };
    shared.inputs_read.fetch_add(1, Ordering::Relaxed);
    let encoding = Encoding::resolve(options.format, decoded.format, decoded.has_alpha, options.quality);
    let (width, height) = decoded.rgba.dimensions();
    let info = SourceInfo::measure(width, height, decoded.rgba.as_raw());
    let source = Arc::new(Source {
        index,
        input: input.clone(),
        image: decoded.rgba,
        info,
        encoding,
    });
    missing
        .into_iter()
        .map(|copy| Unit {
            source: Arc::clone(&source),
            copy,
        })
        .collect()
}

/// Detects an image file's format from its first bytes, as decoding does.
fn sniff_format(path: &Path) -> Option<image::ImageFormat> {
    image::ImageReader::open(path).ok()?.with_guessed_format().ok()?.format()
}

fn augment_units(
    shared: &Shared,
    units: &[Unit],
    sender: &crossbeam_channel::Sender<Finished>,
    scratch: &mut Vec<u8>,
) -> Result<(), String> {
    let options = shared.options;
    let mut plans: Vec<AugmentPlan> = Vec::with_capacity(units.len());
    for unit in units {
        let source = &unit.source;
        let plan = options
            .pipeline
            .plan(options.seed, source.input.id, unit.copy, source.info)
            .map_err(|e| e.to_string())?;
        plans.push(plan);
    }

    if let Backend::Cpu = options.backend {
        // One unit at a time into a buffer the worker keeps, so the CPU
        // path allocates no pixel memory per output.
        for (unit, plan) in units.iter().zip(&plans) {
            scratch.resize(plan.params.output_len(), 0);
            crate::cpu::execute(unit.source.image.as_raw(), &plan.params, scratch).map_err(|e| e.to_string())?;
            if !finish_unit(shared, unit, plan, scratch, sender)? {
                return Ok(());
            }
        }
        return Ok(());
    }

    let items: Vec<(&[u8], &crate::pipeline::plan::PlanParams)> = units
        .iter()
        .zip(&plans)
        .map(|(u, p)| (u.source.image.as_raw().as_slice(), &p.params))
        .collect();
    let outputs = options.backend.execute_batch(&items).map_err(|e| e.to_string())?;
    for ((unit, plan), pixels) in units.iter().zip(&plans).zip(outputs) {
        if !finish_unit(shared, unit, plan, &pixels, sender)? {
            return Ok(());
        }
    }
    Ok(())
}

/// Encodes one output and sends it to the writer; returns false when the
/// writer has stopped after a write error.
fn finish_unit(
    shared: &Shared,
    unit: &Unit,
    plan: &AugmentPlan,
    pixels: &[u8],
    sender: &crossbeam_channel::Sender<Finished>,
) -> Result<bool, String> {
    let options = shared.options;
    let source = &unit.source;
    let params = &plan.params;
    let mut encoded = Vec::new();
    encode(pixels, params.dst_w, params.dst_h, source.encoding, &mut encoded).map_err(|e| e.to_string())?;
    let relative = output_relative(&source.input, unit.copy, options.copies, source.encoding.extension());
    let class = Path::new(&source.input.relative)
        .parent()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default();
    let manifest_line = serde_json::json!({
        "output": relative,
        "source": source.input.relative,
        "class": class,
        "copy": unit.copy,
        "seed": options.seed,
        "width": params.dst_w,
        "height": params.dst_h,
        "ops": plan.applied,
    })
    .to_string();
    let finished = Finished {
        relative,
        bytes: encoded,
        manifest_line,
    };
    Ok(sender.send(finished).is_ok())
}
