//! The `augmenta` command line: parse, build, run, report.

use anyhow::{bail, Context, Result};
use augmenta::engine::{self, Observer, RunOptions, Shard, Summary};
use augmenta::io::decode::DecodeLimits;
use augmenta::io::encode::OutputFormat;
use augmenta::ops::OP_DOCS;
use augmenta::{Backend, Pipeline};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit status when some inputs were skipped and `--strict` was given.
const EXIT_SKIPPED_STRICT: u8 = 3;
/// Exit status when no input image could be read at all.
const EXIT_NOTHING_READ: u8 = 4;

const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  the run finished: every readable input was written; unreadable inputs
     are listed in the summary and fail the run only with --strict
  1  the run could not start or stopped: invalid pipeline file or --shard or
     --max-megapixels value, input missing, output not writable, GPU
     requested but unavailable
  2  invalid command line (unknown option, missing or out-of-range value)
  3  --strict was given and at least one input was skipped
  4  no input image could be read (none found, or every one was skipped)";

#[derive(Parser)]
#[command(name = "augmenta", version, about = "Turn a folder of photos into a labelled, augmented training set, deterministically, on the GPU or the CPU.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write augmented copies of every image in INPUT to OUTPUT, keeping class sub-folders.
    #[command(after_help = EXIT_STATUS_HELP)]
    Augment(AugmentArgs),
    /// List every operation a pipeline file can use, with parameters, units and defaults.
    Ops,
    /// List the GPU adapters wgpu finds.
    Devices,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendArg {
    /// A hardware GPU if there is one, else the CPU.
    Auto,
    /// The CPU (rayon).
    Cpu,
    /// A GPU through wgpu, software adapters (lavapipe, llvmpipe) included.
    Gpu,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    /// JPEG for JPEG inputs, PNG for all others.
    Same,
    /// JPEG (transparent pixels are composited on white).
    Jpg,
    /// PNG (keeps alpha).
    Png,
}

#[derive(clap::Args)]
struct AugmentArgs {
    /// Folder of images (sub-folders are class labels), or one image file.
    input: PathBuf,

    /// Output folder; created if missing. It may not be inside INPUT or contain it.
    #[arg(short, long)]
    output: PathBuf,

    /// Augmented copies to write per input image.
    #[arg(short = 'n', long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    copies: u32,

    /// Seed of every random choice: the same seed gives the same bytes on any machine and backend.
    #[arg(short, long, default_value_t = 0)]
    seed: u64,

    /// Pipeline file (TOML, or JSON when the name ends in .json); without it a built-in mild pipeline is used.
    #[arg(short, long)]
    pipeline: Option<PathBuf>,

    /// Output file format.
    #[arg(long, value_enum, default_value_t = FormatArg::Same)]
    format: FormatArg,

    /// JPEG quality, 1 (smallest) to 100 (best).
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u8).range(1..=100))]
    quality: u8,

    /// Worker threads [default: all cores].
    #[arg(short, long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    jobs: Option<u32>,

    /// Backend that computes the pixels; cpu and gpu give identical bytes.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    backend: BackendArg,

    /// Exit with status 3 if any input is skipped.
    #[arg(long)]
    strict: bool,

    /// Keep outputs that already exist (from an interrupted run) and write only the missing ones.
    #[arg(long)]
    resume: bool,

    /// Process only shard K of N (K counts from 0), by a hash of each input's path, for splitting one run over N processes.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,

    /// Largest input accepted, in megapixels; larger files (and decompression bombs) are skipped.
    #[arg(long, default_value_t = 80.0)]
    max_megapixels: f64,

    /// Show no progress bar.
    #[arg(short, long)]
    quiet: bool,
}

fn parse_shard(text: &str) -> Result<Shard> {
    let (k, n) = text
        .split_once('/')
        .with_context(|| format!("invalid --shard {text:?}: expected K/N, for example 0/4"))?;
    let index: u32 = k.trim().parse().with_context(|| format!("invalid shard index {k:?} in --shard"))?;
    let count: u32 = n.trim().parse().with_context(|| format!("invalid shard count {n:?} in --shard"))?;
    if count == 0 || index >= count {
        bail!("invalid --shard {text}: N must be at least 1 and K from 0 to N - 1");
    }
    Ok(Shard { index, count })
}

/// Routes log records through the progress bars so they don't tear them.
struct ProgressLogger {
    inner: env_logger::Logger,
    bars: MultiProgress,
}

impl log::Log for ProgressLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        self.inner.enabled(metadata)
    }

    fn log(&self, record: &log::Record) {
        if self.inner.matches(record) {
            self.bars.suspend(|| self.inner.log(record));
        }
    }

    fn flush(&self) {}
}

fn init_logging(bars: &MultiProgress) {
    let inner = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).build();
    let level = inner.filter();
    let logger = ProgressLogger {
        inner,
        bars: bars.clone(),
    };
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(level);
    }
}

/// Shows progress and prints skipped inputs as they happen.
struct Progress {
    bars: MultiProgress,
    bar: ProgressBar,
}

impl Observer for Progress {
    fn started(&self, _inputs: usize, outputs: u64) {
        self.bar.set_length(outputs);
    }

    fn written(&self, _relative: &str) {
        self.bar.inc(1);
    }

    fn skipped(&self, input: &Path, reason: &str, outputs: u64) {
        // Printed through the bars, so the line shows even when they are hidden.
        self.bars.suspend(|| eprintln!("skipped {}: {reason}", input.display()));
        if outputs > 0 {
            let length = self.bar.length().unwrap_or(0);
            self.bar.set_length(length.saturating_sub(outputs));
        }
    }
}

/// Opens the backend and returns it with a one-line description that names
/// it and the reason for the choice.
fn choose_backend(choice: BackendArg) -> Result<(Backend, String)> {
    match choice {
        BackendArg::Cpu => Ok((Backend::Cpu, "cpu".into())),
        BackendArg::Gpu => {
            let gpu = augmenta::gpu::GpuContext::new(true).context("--backend gpu")?;
            let backend = Backend::Gpu(std::sync::Arc::new(gpu));
            let line = backend.describe();
            Ok((backend, line))
        }
        BackendArg::Auto => match augmenta::gpu::GpuContext::new(false) {
            Ok(gpu) => {
                let backend = Backend::Gpu(std::sync::Arc::new(gpu));
                let line = backend.describe();
                Ok((backend, line))
            }
            Err(error) => {
                log::info!("no hardware GPU: {error}");
                Ok((
                    Backend::Cpu,
                    "cpu (no hardware GPU adapter found; --backend gpu also uses software adapters)".into(),
                ))
            }
        },
    }
}

/// Formats a count with the singular or plural noun.
fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

fn print_summary(summary: &Summary, output: &Path, backend: &str) {
    let seconds = summary.elapsed.as_secs_f64();
    let rate = summary.outputs_written as f64 / seconds.max(1e-9);
    println!(
        "{} of {} inputs read, {} outputs written to {} in {:.1} s ({:.1} images/s) on {}",
        summary.inputs_read,
        summary.inputs_found,
        summary.outputs_written,
        output.display(),
        seconds,
        rate,
        backend
    );
    if summary.outputs_kept > 0 {
        println!("{} existing outputs kept (--resume)", summary.outputs_kept);
    }
    if !summary.skipped.is_empty() {
        println!("{} skipped:", plural(summary.skipped.len(), "input", "inputs"));
        for skipped in &summary.skipped {
            println!("  {}: {}", skipped.path.display(), skipped.reason);
        }
    }
    if !summary.ignored.is_empty() {
        let names: Vec<String> = summary.ignored.iter().map(|i| i.path.display().to_string()).collect();
        println!("{} ignored (not images): {}", plural(names.len(), "file", "files"), names.join(", "));
    }
    for folder in &summary.empty_folders {
        println!("folder {} contains no images", folder.display());
    }
}

fn augment(args: AugmentArgs) -> Result<ExitCode> {
    let bars = MultiProgress::new();
    init_logging(&bars);

    let pipeline = match &args.pipeline {
        Some(path) => Pipeline::from_file(path)?,
        None => Pipeline::default(),
    };
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    if args.max_megapixels.is_nan() || args.max_megapixels <= 0.0 {
        bail!("invalid --max-megapixels {}: must be above 0", args.max_megapixels);
    }
    let jobs = args
        .jobs
        .map(|j| j as usize)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    rayon::ThreadPoolBuilder::new().num_threads(jobs).build_global().ok();

    let (backend, backend_line) = choose_backend(args.backend)?;
    eprintln!("backend: {backend_line}");
    let backend_label = match &backend {
        Backend::Cpu => format!("cpu ({})", plural(jobs, "thread", "threads")),
        other => other.describe(),
    };

    let options = RunOptions {
        input: args.input,
        output: args.output,
        copies: args.copies,
        seed: args.seed,
        pipeline,
        format: match args.format {
            FormatArg::Same => OutputFormat::Same,
            FormatArg::Jpg => OutputFormat::Jpg,
            FormatArg::Png => OutputFormat::Png,
        },
        quality: args.quality,
        jobs,
        backend,
        limits: DecodeLimits {
            max_pixels: (args.max_megapixels * 1e6) as u64,
        },
        resume: args.resume,
        shard,
    };

    let bar = bars.add(ProgressBar::new(0));
    if args.quiet {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} outputs  {per_sec}  ETA {eta}")
            .expect("the progress template is valid"),
    );
    let progress = Progress { bars: bars.clone(), bar };
    let summary = engine::run(&options, &progress)?;
    progress.bar.finish_and_clear();

    print_summary(&summary, &options.output, &backend_label);
    if summary.inputs_read == 0 {
        eprintln!("error: no input image could be read from {}", options.input.display());
        return Ok(ExitCode::from(EXIT_NOTHING_READ));
    }
    if args.strict && !summary.skipped.is_empty() {
        return Ok(ExitCode::from(EXIT_SKIPPED_STRICT));
    }
    Ok(ExitCode::SUCCESS)
}

fn print_ops() {
    println!("Operations for pipeline files. Each [[ops]] table names one with `op = \"...\"`.");
    println!("Ranges are written x or [low, high]. Order: geometry, then colour, then noise.\n");
    for op in OP_DOCS {
        println!("{}: {}", op.name, op.help);
        for param in op.params {
            println!("    {:<12} {:<36} default {:<16} {}", param.name, param.unit, param.default, param.help);
        }
        println!();
    }
}

fn print_devices() -> Result<()> {
    let adapters = augmenta::gpu::list_adapters();
    if adapters.is_empty() {
        println!("no GPU adapters found; {}", augmenta::gpu::INSTALL_HINT);
        return Ok(());
    }
    for adapter in adapters {
        println!("{adapter}");
    }
    Ok(())
}

fn main() -> ExitCode {
    // Mesa's device-select Vulkan layer prints "XDG_RUNTIME_DIR is invalid"
    // when adapters are probed without a desktop session. The layer only
    // reorders adapters, so it is switched off unless the user set it.
    if std::env::var_os("NODEVICE_SELECT").is_none() {
        std::env::set_var("NODEVICE_SELECT", "1");
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Augment(args) => augment(args),
        Command::Ops => {
            print_ops();
            Ok(ExitCode::SUCCESS)
        }
        Command::Devices => print_devices().map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
