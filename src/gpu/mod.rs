//! The GPU backend: one fused WGSL compute kernel run through wgpu.
//!
//! [`GpuContext::new`] opens an adapter and compiles the kernel in
//! `shaders/augment.wgsl` once. [`GpuContext::execute_batch`] packs a batch of
//! images of any sizes into shared storage buffers, one u32 word per RGBA8
//! pixel, with one descriptor per image, and runs one invocation per output
//! pixel. The kernel repeats the integer fixed-point arithmetic of
//! [`crate::cpu::execute_reference`] operation for operation, so both
//! backends give the same bytes for every plan.

mod batch;
mod context;

pub use context::{list_adapters, GpuContext};

use crate::cpu::BufferSizeError;

/// What to install when no adapter is found.
pub const INSTALL_HINT: &str = "install a GPU driver with Vulkan, Metal or DX12 support (on Debian or Ubuntu without a GPU, `apt-get install mesa-vulkan-drivers libvulkan1` gives the lavapipe software adapter)";

/// Invocations per workgroup of the kernel; equal to `WG_SIZE` in
/// `shaders/augment.wgsl`, which a test checks.
///
/// The kernel is 1-D over output pixels, and 64 is the portable default
/// for 1-D work: a multiple of the 32- and 64-wide SIMD groups of current GPUs.
pub const WG_SIZE: u32 = 64;

/// The name of the kernel's entry point in [`SHADER_SOURCE`].
pub const ENTRY_POINT: &str = "augment";

/// The WGSL module the pipeline is built from: `shaders/rng.wgsl` followed
/// by `shaders/augment.wgsl`, because WGSL has no includes.
pub const SHADER_SOURCE: &str = concat!(
    include_str!("../../shaders/rng.wgsl"),
    "\n",
    include_str!("../../shaders/augment.wgsl"),
);

/// Why the GPU backend failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GpuError {
    /// wgpu found no adapter that can run compute shaders.
    #[error("no GPU adapter found (backends searched: {backends}); {INSTALL_HINT}")]
    NoAdapter {
        /// The wgpu backends searched, for example "vulkan".
        backends: String,
    },
    /// The only adapters found are software rasterizers and they were not allowed.
    #[error("no hardware GPU adapter found, only the software adapter {name}; allow software adapters (`--backend gpu`) to use it")]
    SoftwareAdapterOnly {
        /// The software adapter seen, with its backend.
        name: String,
    },
    /// The adapter refused to open a device.
    #[error("failed to open a device on GPU adapter {adapter}: {message}")]
    RequestDevice {
        /// The adapter summary.
        adapter: String,
        /// wgpu's message.
        message: String,
    },
    /// wgpu reported a validation or out-of-memory error.
    #[error("GPU error while {operation}: {message}; update the GPU driver, or use the CPU backend")]
    Wgpu {
        /// The step that failed, for example "compiling the shader".
        operation: &'static str,
        /// wgpu's message.
        message: String,
    },
    /// The results could not be read back from the GPU.
    #[error("failed to read results back from the GPU: {message}; the device may have been lost, so retry or use the CPU backend")]
    Readback {
        /// What failed.
        message: String,
    },
    /// A source buffer does not match its plan.
    #[error(transparent)]
    BufferSize(#[from] BufferSizeError),
    /// A plan has an empty source but a non-empty output, which no border
    /// mode except the constant fill can sample.
    #[error("batch item {index} has an empty {src_w}x{src_h} source for a {dst_w}x{dst_h} output; a source needs at least one pixel")]
    EmptySource {
        /// The position of the item in the batch.
        index: usize,
        /// Source width.
        src_w: u32,
        /// Source height.
        src_h: u32,
        /// Output width.
        dst_w: u32,
        /// Output height.
        dst_h: u32,
    },
}
