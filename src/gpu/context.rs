//! Adapter choice, device creation and the compute pipeline.

use super::batch::{BatchLimits, BufferPool, ImageDescriptor};
use super::{GpuError, ENTRY_POINT, SHADER_SOURCE};
use std::num::NonZeroU64;
use std::sync::Arc;

/// A wgpu device with the compiled augmentation pipeline.
///
/// Create it once and share it: [`GpuContext::execute_batch`] takes `&self`
/// and may be called from several threads at once.
pub struct GpuContext {
    pub(super) device: wgpu::Device,
    pub(super) queue: wgpu::Queue,
    pub(super) pipeline: wgpu::ComputePipeline,
    pub(super) bind_group_layout: wgpu::BindGroupLayout,
    pub(super) limits: BatchLimits,
    pub(super) pool: BufferPool,
    info: wgpu::AdapterInfo,
}

// The engine's workers share one context; keep it usable across threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<GpuContext>();
};

impl std::fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuContext")
            .field("adapter", &self.adapter_summary())
            .finish_non_exhaustive()
    }
}

impl GpuContext {
    /// Opens the best adapter and compiles the kernel.
    ///
    /// Hardware adapters (discrete, then integrated, then virtual GPUs) come
    /// first. Software adapters, whose device type is `Cpu` (lavapipe,
    /// llvmpipe, WARP), are used only when `allow_software` is true and no
    /// hardware adapter opens. The backends searched are those in the
    /// `WGPU_BACKEND` environment variable, else Vulkan, Metal and DX12.
    ///
    /// # Errors
    ///
    /// [`GpuError::NoAdapter`] when wgpu finds no adapter that runs compute
    /// shaders, [`GpuError::SoftwareAdapterOnly`] when only software adapters
    /// exist and `allow_software` is false, [`GpuError::RequestDevice`] when
    /// no adapter opens a device, and [`GpuError::Wgpu`] when the kernel does
    /// not compile.
    pub fn new(allow_software: bool) -> Result<Self, GpuError> {
        let (instance, backends) = create_instance();
        let mut adapters: Vec<wgpu::Adapter> = pollster::block_on(instance.enumerate_adapters(backends))
            .into_iter()
            .filter(|adapter| {
                let compute = adapter
                    .get_downlevel_capabilities()
                    .flags
                    .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS);
                if !compute {
                    log::info!(
                        "skipping GPU adapter {}: no compute shaders",
                        describe(&adapter.get_info(), false)
                    );
                }
                compute
            })
            .collect();
        if adapters.is_empty() {
            return Err(GpuError::NoAdapter {
                backends: backend_names(backends),
            });
        }

        // A stable sort keeps wgpu's order among adapters of one type.
        adapters.sort_by_key(|adapter| preference(adapter.get_info().device_type));
        if !allow_software {
            let is_software = |adapter: &wgpu::Adapter| adapter.get_info().device_type == wgpu::DeviceType::Cpu;
            if adapters.iter().all(is_software) {
                let names: Vec<String> = adapters
                    .iter()
                    .map(|adapter| describe(&adapter.get_info(), false))
                    .collect();
                return Err(GpuError::SoftwareAdapterOnly { name: names.join("; ") });
            }
            adapters.retain(|adapter| !is_software(adapter));
        }

        // A driver can fail on one adapter and work on the next, so every
        // candidate is tried before the first error is returned.
        let mut first_error = None;
        for adapter in adapters {
            match open(&adapter) {
                Ok(context) => return Ok(context),
                Err(error) => {
                    log::warn!("{error}");
                    first_error.get_or_insert(error);
                }
            }
        }
        Err(first_error.unwrap_or(GpuError::NoAdapter {
            backends: backend_names(backends),
        }))
    }

    /// Describes the adapter in one line: name, backend, device type and driver.
    pub fn adapter_summary(&self) -> String {
        describe(&self.info, false)
    }
}

/// Lists every adapter that wgpu enumerates, one line each: name, backend,
/// device type, driver and driver version.
pub fn list_adapters() -> Vec<String> {
    let (instance, backends) = create_instance();
    pollster::block_on(instance.enumerate_adapters(backends))
        .iter()
        .map(|adapter| describe(&adapter.get_info(), true))
        .collect()
}

/// Creates an instance for the backends named in `WGPU_BACKEND`, else the
/// primary ones (Vulkan, Metal, DX12). GL, a downlevel backend in wgpu, is
/// used only when named there.
fn create_instance() -> (wgpu::Instance, wgpu::Backends) {
    let backends = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::PRIMARY);
    let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle();
    descriptor.backends = backends;
    descriptor.flags = wgpu::InstanceFlags::from_env_or_default();
    descriptor.backend_options = wgpu::BackendOptions::from_env_or_default();
    (wgpu::Instance::new(descriptor), backends)
}

/// Names the backends of `backends` that this build supports, for example "vulkan".
fn backend_names(backends: wgpu::Backends) -> String {
    let usable = backends & wgpu::Instance::enabled_backend_features();
    let names: Vec<&str> = wgpu::Backend::ALL
        .into_iter()
        .filter(|&backend| usable.contains(backend.into()))
        .map(wgpu::Backend::to_str)
        .collect();
    if names.is_empty() {
        "none that this build supports".to_owned()
    } else {
        names.join(", ")
    }
}

/// Returns the sort key of a device type: hardware first, software last.
fn preference(device_type: wgpu::DeviceType) -> u8 {
    match device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

/// Describes an adapter in one line: name, backend, device type and driver,
/// and the driver version when `driver_info` is set and wgpu reports one.
fn describe(info: &wgpu::AdapterInfo, driver_info: bool) -> String {
    let device_type = match info.device_type {
        wgpu::DeviceType::DiscreteGpu => "discrete GPU",
        wgpu::DeviceType::IntegratedGpu => "integrated GPU",
        wgpu::DeviceType::VirtualGpu => "virtual GPU",
        wgpu::DeviceType::Cpu => "software adapter on the CPU",
        wgpu::DeviceType::Other => "unknown device type",
    };
    let driver = if info.driver.is_empty() {
        "unknown"
    } else {
        &info.driver
    };
    let mut line = format!("{} [{}, {device_type}, driver {driver}", info.name, info.backend);
    if driver_info && !info.driver_info.is_empty() {
        line.push_str(", ");
        line.push_str(&info.driver_info);
    }
    line.push(']');
    line
}

/// Opens a device on `adapter` and builds the pipeline.
fn open(adapter: &wgpu::Adapter) -> Result<GpuContext, GpuError> {
    let info = adapter.get_info();

    // The adapter's own limits, not wgpu's defaults, which cap a storage
    // binding at 128 MiB and a buffer at 256 MiB even where the driver
    // reports far larger limits.
    let descriptor = wgpu::DeviceDescriptor {
        label: Some("augmenta"),
        required_features: wgpu::Features::empty(),
        required_limits: adapter.limits(),
        experimental_features: wgpu::ExperimentalFeatures::disabled(),
        memory_hints: wgpu::MemoryHints::Performance,
        trace: wgpu::Trace::Off,
    };
    let (device, queue) =
        pollster::block_on(adapter.request_device(&descriptor)).map_err(|error| GpuError::RequestDevice {
            adapter: describe(&info, false),
            message: error.to_string(),
        })?;

    // Errors outside an error scope would panic in wgpu's default handler;
    // every call here wraps its work in scopes, so anything left is logged.
    device.on_uncaptured_error(Arc::new(|error: wgpu::Error| {
        log::error!("uncaptured wgpu error: {error}")
    }));
    device.set_device_lost_callback(|reason, message| {
        if reason != wgpu::DeviceLostReason::Destroyed {
            log::error!("GPU device lost ({reason:?}): {message}");
        }
    });

    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let (pipeline, bind_group_layout) = create_pipeline(&device);
    if let Some(error) = pollster::block_on(scope.pop()) {
        return Err(GpuError::Wgpu {
            operation: "compiling the shader",
            message: error.to_string(),
        });
    }

    let limits = BatchLimits::new(&device.limits());
    log::info!(
        "opened GPU adapter {}: storage buffers up to {} MiB",
        describe(&info, false),
        limits.buffer_bytes >> 20
    );
    Ok(GpuContext {
        device,
        queue,
        pipeline,
        bind_group_layout,
        limits,
        pool: BufferPool::default(),
        info,
    })
}

/// Builds the kernel's pipeline with an explicit layout, so that the
/// bindings are checked against `shaders/augment.wgsl` once, here.
fn create_pipeline(device: &wgpu::Device) -> (wgpu::ComputePipeline, wgpu::BindGroupLayout) {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("augment.wgsl"),
        source: wgpu::ShaderSource::Wgsl(SHADER_SOURCE.into()),
    });

    let storage = |binding: u32, read_only: bool, min_size: u64| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: NonZeroU64::new(min_size),
        },
        count: None,
    };
    let bind_group_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("augment bindings"),
        entries: &[
            storage(0, true, size_of::<ImageDescriptor>() as u64),
            storage(1, true, 4),
            storage(2, false, 4),
        ],
    });

    let layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("augment layout"),
        bind_group_layouts: &[Some(&bind_group_layout)],
        immediate_size: 0,
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("augment"),
        layout: Some(&layout),
        module: &module,
        entry_point: Some(ENTRY_POINT),
        compilation_options: wgpu::PipelineCompilationOptions::default(),
        cache: None,
    });
    (pipeline, bind_group_layout)
}
