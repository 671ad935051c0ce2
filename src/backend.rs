//! The backend choice: where a batch of plans is executed.

use crate::pipeline::plan::PlanParams;
use std::sync::Arc;

/// Where pixels are computed. Both backends give identical bytes.
#[derive(Clone)]
pub enum Backend {
    /// The fused rayon executor.
    Cpu,
    /// WGSL compute shaders through wgpu.
    Gpu(Arc<crate::gpu::GpuContext>),
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backend::Cpu => f.write_str("Cpu"),
            Backend::Gpu(gpu) => write!(f, "Gpu({})", gpu.adapter_summary()),
        }
    }
}

/// Why a backend failed to execute a batch.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// A buffer does not match its plan.
    #[error(transparent)]
    BufferSize(#[from] crate::cpu::BufferSizeError),
    /// The GPU failed.
    #[error(transparent)]
    Gpu(#[from] crate::gpu::GpuError),
}

impl Backend {
    /// Returns how many plans a worker hands over at once.
    pub fn batch_len(&self) -> usize {
        match self {
            Backend::Cpu => 1,
            Backend::Gpu(_) => 16,
        }
    }

    /// Returns a short description for logs: "cpu" or the GPU adapter.
    pub fn describe(&self) -> String {
        match self {
            Backend::Cpu => "cpu".to_owned(),
            Backend::Gpu(gpu) => format!("gpu ({})", gpu.adapter_summary()),
        }
    }

    /// Executes each `(source RGBA8, plan)` pair and returns the RGBA8 outputs.
    ///
    /// The CPU backend runs the items one after the other on the calling
    /// thread; parallelism comes from the callers (the engine's workers) or
    /// from [`crate::cpu::execute_par`].
    pub fn execute_batch(&self, items: &[(&[u8], &PlanParams)]) -> Result<Vec<Vec<u8>>, BackendError> {
        match self {
            Backend::Cpu => items
                .iter()
                .map(|(src, plan)| {
                    let mut out = vec![0u8; plan.output_len()];
                    crate::cpu::execute(src, plan, &mut out)?;
                    Ok(out)
                })
                .collect(),
            Backend::Gpu(gpu) => Ok(gpu.execute_batch(items)?),
        }
    }
}
