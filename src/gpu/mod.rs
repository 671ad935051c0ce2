//! The GPU backend (placeholder until the wgpu executor lands).

use crate::pipeline::plan::PlanParams;

/// What to install when no adapter is found.
pub const INSTALL_HINT: &str = "install a GPU driver with Vulkan, Metal or DX12 support (on Debian or Ubuntu without a GPU, `apt-get install mesa-vulkan-drivers libvulkan1` gives the lavapipe software adapter)";

/// Why the GPU backend failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GpuError {
    /// No adapter was found.
    #[error("no GPU adapter found; {INSTALL_HINT}")]
    NoAdapter,
}

/// A wgpu device with the compiled augmentation pipeline.
pub struct GpuContext {}

impl GpuContext {
    /// Opens the first suitable adapter; software adapters only when `allow_software`.
    pub fn new(_allow_software: bool) -> Result<Self, GpuError> {
        Err(GpuError::NoAdapter)
    }

    /// A one-line description of the adapter.
    pub fn adapter_summary(&self) -> String {
        String::new()
    }

    /// Executes a batch of plans.
    pub fn execute_batch(&self, _items: &[(&[u8], &PlanParams)]) -> Result<Vec<Vec<u8>>, GpuError> {
        Err(GpuError::NoAdapter)
    }
}

/// Lists every adapter wgpu sees, one line each.
pub fn list_adapters() -> Vec<String> {
    Vec::new()
}
