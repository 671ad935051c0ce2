//! Batches on the GPU: packing images into shared buffers, splitting a batch
//! to fit the device limits, and overlapping consecutive sub-batches.
//!
//! A batch is split into sub-batches. Each one has one descriptor buffer,
//! one source buffer and one output buffer, each bound whole, and one
//! dispatch with an invocation per output pixel. The images of a sub-batch
//! lie back to back in those buffers, one u32 word per RGBA8 pixel. Sub-batch
//! k + 1 is uploaded and submitted before the results of sub-batch k are
//! read back, so the GPU computes while the host copies.

use super::{GpuContext, GpuError, WG_SIZE};
use crate::cpu::BufferSizeError;
use crate::pipeline::plan::PlanParams;
use bytemuck::{Pod, Zeroable};
use std::num::NonZeroU64;
use std::sync::{mpsc, Mutex, PoisonError};
use std::time::Duration;

/// The source plus output bytes one sub-batch is filled up to (an image
/// larger than this still gets a sub-batch of its own).
///
/// Splitting a large batch lets its upload and read-back overlap the
/// compute of the neighbouring sub-batches. 32 MiB is about 4 megapixels of
/// source and output, 65,536 workgroups, far more than a GPU runs at once,
/// so the split costs little parallelism. It also bounds the buffers that a
/// call keeps for reuse.
const SUB_BATCH_TARGET_BYTES: u64 = 32 << 20;

/// Buffer sets kept for reuse between calls. Each call uses at most two at
/// once, so four serve two concurrent callers without reallocation.
const MAX_POOLED_SETS: usize = 4;

/// How often a read-back that is not mapped yet polls the device again.
const MAP_POLL_INTERVAL: Duration = Duration::from_millis(50);

/// The place of one image in the packed buffers of a sub-batch, with its plan.
///
/// Mirrors `ImageDescriptor` in `shaders/augment.wgsl`; keep the two in sync.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
pub(crate) struct ImageDescriptor {
    /// The first word of the image's source in the source buffer.
    pub src_offset: u32,
    /// The first word of the image's output in the output buffer.
    pub dst_offset: u32,
    /// The plan, copied unchanged.
    pub params: PlanParams,
}

const _: () = assert!(size_of::<ImageDescriptor>() == 120);

/// The device limits that bound one sub-batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchLimits {
    /// The largest bound buffer in bytes, a multiple of 4: the smaller of
    /// the storage binding and buffer size limits, and below 4 GiB because
    /// the kernel indexes words with u32.
    pub buffer_bytes: u64,
    /// The maximum number of workgroups in one dimension of a dispatch.
    pub max_workgroups_per_dimension: u32,
    /// Source plus output bytes a sub-batch is filled up to.
    pub target_bytes: u64,
}

impl BatchLimits {
    /// Derives the limits from a device's limits.
    pub fn new(limits: &wgpu::Limits) -> Self {
        let buffer_bytes = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size)
            .min(u64::from(u32::MAX))
            & !3;
        Self {
            buffer_bytes,
            max_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
            target_bytes: SUB_BATCH_TARGET_BYTES,
        }
    }

    /// Returns the largest output of one sub-batch in bytes: one buffer, and
    /// no more pixels than a 2-D grid of workgroups reaches.
    fn max_dst_bytes(&self) -> u64 {
        let per_dimension = u64::from(self.max_workgroups_per_dimension);
        self.buffer_bytes
            .min(per_dimension * per_dimension * u64::from(WG_SIZE) * 4)
    }

    /// Returns the workgroup grid for `words` output pixels: as wide as
    /// allowed, and as many rows as needed. The kernel numbers invocations
    /// row after row.
    pub fn grid(&self, words: u32) -> (u32, u32) {
        let groups = words.div_ceil(WG_SIZE);
        let x = groups.clamp(1, self.max_workgroups_per_dimension);
        (x, groups.div_ceil(x))
    }
}

/// The size of one batch item that has output pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ItemSize {
    /// The position of the item in the batch.
    pub index: usize,
    /// Source bytes.
    pub src_bytes: u64,
    /// Output bytes, more than zero.
    pub dst_bytes: u64,
}

/// Items that run in one dispatch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SubBatch {
    /// Batch positions, in batch order.
    pub items: Vec<usize>,
    /// Source bytes of all items.
    pub src_bytes: u64,
    /// Output bytes of all items.
    pub dst_bytes: u64,
}

/// A batch divided between the GPU and the CPU.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Split {
    /// Sub-batches for the GPU, in batch order.
    pub sub_batches: Vec<SubBatch>,
    /// Items whose source or output alone exceeds a buffer, for the CPU.
    pub cpu_items: Vec<usize>,
}

/// Splits a batch greedily, in order, into sub-batches within `limits`.
pub(crate) fn split_batch(sizes: &[ItemSize], limits: &BatchLimits) -> Split {
    let max_dst_bytes = limits.max_dst_bytes();
    let descriptor_bytes = size_of::<ImageDescriptor>() as u64;
    let mut split = Split::default();
    let mut current = SubBatch::default();

    for size in sizes {
        if size.src_bytes > limits.buffer_bytes || size.dst_bytes > max_dst_bytes {
            split.cpu_items.push(size.index);
            continue;
        }
        let full = !current.items.is_empty()
            && (current.src_bytes + size.src_bytes > limits.buffer_bytes
                || current.dst_bytes + size.dst_bytes > max_dst_bytes
                || (current.items.len() as u64 + 1) * descriptor_bytes > limits.buffer_bytes
                || current.src_bytes + current.dst_bytes + size.src_bytes + size.dst_bytes > limits.target_bytes);
        if full {
            split.sub_batches.push(std::mem::take(&mut current));
        }
        current.items.push(size.index);
        current.src_bytes += size.src_bytes;
        current.dst_bytes += size.dst_bytes;
    }

    if !current.items.is_empty() {
        split.sub_batches.push(current);
    }
    split
}

/// A device buffer that is replaced by a larger one when it is too small.
struct GrowBuffer {
    buffer: wgpu::Buffer,
    label: &'static str,
    usage: wgpu::BufferUsages,
}

impl GrowBuffer {
    fn new(device: &wgpu::Device, label: &'static str, usage: wgpu::BufferUsages, bytes: u64, cap: u64) -> Self {
        Self {
            buffer: create_buffer(device, label, usage, bytes, cap),
            label,
            usage,
        }
    }

    /// Makes the buffer hold at least `bytes` and returns it.
    fn fit(&mut self, device: &wgpu::Device, bytes: u64, cap: u64) -> &wgpu::Buffer {
        if self.buffer.size() < bytes {
            self.buffer = create_buffer(device, self.label, self.usage, bytes, cap);
        }
        &self.buffer
    }
}

/// Creates a buffer of at least `bytes`, rounded up to a power of two within
/// `cap` so that slowly growing batches reallocate only a few times.
fn create_buffer(
    device: &wgpu::Device,
    label: &'static str,
    usage: wgpu::BufferUsages,
    bytes: u64,
    cap: u64,
) -> wgpu::Buffer {
    let size = bytes.next_power_of_two().min(cap).max(bytes).max(4);
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size,
        usage,
        mapped_at_creation: false,
    })
}

/// The buffers of one sub-batch in flight.
struct BufferSet {
    descriptors: GrowBuffer,
    src: GrowBuffer,
    dst: GrowBuffer,
    readback: GrowBuffer,
}

impl BufferSet {
    fn new(device: &wgpu::Device, cap: u64) -> Self {
        use wgpu::BufferUsages as U;
        Self {
            descriptors: GrowBuffer::new(device, "augment descriptors", U::STORAGE | U::COPY_DST, 0, cap),
            src: GrowBuffer::new(device, "augment sources", U::STORAGE | U::COPY_DST, 0, cap),
            dst: GrowBuffer::new(device, "augment outputs", U::STORAGE | U::COPY_SRC, 0, cap),
            readback: GrowBuffer::new(device, "augment read-back", U::MAP_READ | U::COPY_DST, 0, cap),
        }
    }
}

/// Buffer sets left by earlier calls, for reuse.
#[derive(Default)]
pub(crate) struct BufferPool {
    sets: Mutex<Vec<BufferSet>>,
}

impl BufferPool {
    fn take(&self) -> Option<BufferSet> {
        // A panic elsewhere cannot leave a set half-changed in the pool, so a
        // poisoned lock is still safe to use.
        self.sets.lock().unwrap_or_else(PoisonError::into_inner).pop()
    }

    fn give_back(&self, set: BufferSet) {
        let mut sets = self.sets.lock().unwrap_or_else(PoisonError::into_inner);
        if sets.len() < MAX_POOLED_SETS {
            sets.push(set);
        }
    }
}

/// A submitted sub-batch whose read-back buffer is being mapped.
struct InFlight<'a> {
    sub_batch: &'a SubBatch,
    set: BufferSet,
    submission: wgpu::SubmissionIndex,
    mapped: mpsc::Receiver<Result<(), wgpu::BufferAsyncError>>,
}

impl GpuContext {
    /// Executes each `(source RGBA8, plan)` pair and returns the RGBA8 outputs,
    /// byte for byte those of [`crate::cpu::execute_reference`].
    ///
    /// Images of any sizes share one dispatch per sub-batch. An image whose
    /// source or output alone does not fit in a GPU buffer is computed
    /// with [`crate::cpu::execute`] instead, with one `info` log line.
    ///
    /// # Errors
    ///
    /// [`GpuError::BufferSize`] when a source does not match its plan,
    /// [`GpuError::EmptySource`] for a plan with an empty source and a
    /// non-empty output, and [`GpuError::Wgpu`] or [`GpuError::Readback`]
    /// when the GPU fails.
    pub fn execute_batch(&self, items: &[(&[u8], &PlanParams)]) -> Result<Vec<Vec<u8>>, GpuError> {
        let mut sizes = Vec::with_capacity(items.len());
        for (index, &(src, plan)) in items.iter().enumerate() {
            check_item(index, src, plan)?;
            let dst_bytes = plan.output_len() as u64;
            if dst_bytes > 0 {
                sizes.push(ItemSize {
                    index,
                    src_bytes: src.len() as u64,
                    dst_bytes,
                });
            }
        }

        let split = split_batch(&sizes, &self.limits);
        let mut outputs = vec![Vec::new(); items.len()];
        self.run_split(items, &split, &mut outputs)?;
        Ok(outputs)
    }

    /// Runs the sub-batches with two buffer sets in turn: sub-batch k + 1 is
    /// submitted before sub-batch k is waited for and copied out. The items
    /// for the CPU are computed while the first sub-batch runs.
    fn run_split(
        &self,
        items: &[(&[u8], &PlanParams)],
        split: &Split,
        outputs: &mut [Vec<u8>],
    ) -> Result<(), GpuError> {
        let mut cpu_items = Some(&split.cpu_items);
        let mut free_sets: Vec<BufferSet> = Vec::new();
        let mut previous: Option<InFlight<'_>> = None;

        for sub_batch in &split.sub_batches {
            let set = free_sets
                .pop()
                .or_else(|| self.pool.take())
                .unwrap_or_else(|| BufferSet::new(&self.device, self.limits.buffer_bytes));
            let in_flight = self.submit(items, sub_batch, set)?;
            if let Some(cpu_items) = cpu_items.take() {
                self.run_on_cpu(items, cpu_items, outputs)?;
            }
            if let Some(done) = previous.replace(in_flight) {
                free_sets.push(self.read_back(items, done, outputs)?);
            }
        }
        if let Some(cpu_items) = cpu_items.take() {
            self.run_on_cpu(items, cpu_items, outputs)?;
        }
        if let Some(done) = previous {
            free_sets.push(self.read_back(items, done, outputs)?);
        }

        for set in free_sets {
            self.pool.give_back(set);
        }
        Ok(())
    }

    /// Computes the items that do not fit in a GPU buffer with the CPU's
    /// fused executor, which gives the same bytes.
    fn run_on_cpu(
        &self,
        items: &[(&[u8], &PlanParams)],
        cpu_items: &[usize],
        outputs: &mut [Vec<u8>],
    ) -> Result<(), GpuError> {
        for &index in cpu_items {
            let (src, plan) = items[index];
            log::info!(
                "batch item {index} ({}x{} to {}x{}) exceeds the GPU buffer limit of {} bytes; computing it on the CPU",
                plan.src_w,
                plan.src_h,
                plan.dst_w,
                plan.dst_h,
                self.limits.buffer_bytes,
            );
            let mut output = vec![0u8; plan.output_len()];
            crate::cpu::execute(src, plan, &mut output)?;
            outputs[index] = output;
        }
        Ok(())
    }

    /// Uploads a sub-batch, dispatches the kernel, queues the copy to the
    /// read-back buffer and requests its mapping.
    fn submit<'a>(
        &self,
        items: &[(&[u8], &PlanParams)],
        sub_batch: &'a SubBatch,
        mut set: BufferSet,
    ) -> Result<InFlight<'a>, GpuError> {
        // Error scopes are per thread, so concurrent callers see their own errors.
        let out_of_memory = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);

        // The totals fit in u32 words because each buffer is below 4 GiB.
        let mut descriptors = Vec::with_capacity(sub_batch.items.len());
        let (mut src_words, mut dst_words) = (0u32, 0u32);
        for &index in &sub_batch.items {
            let (src, plan) = items[index];
            descriptors.push(ImageDescriptor {
                src_offset: src_words,
                dst_offset: dst_words,
                params: *plan,
            });
            src_words += (src.len() / 4) as u32;
            dst_words += (plan.output_len() / 4) as u32;
        }
        let descriptor_bytes: &[u8] = bytemuck::cast_slice(&descriptors);

        let cap = self.limits.buffer_bytes;
        let device = &self.device;
        let descriptor_buffer = set.descriptors.fit(device, descriptor_bytes.len() as u64, cap);
        self.queue.write_buffer(descriptor_buffer, 0, descriptor_bytes);
        let src_buffer = set.src.fit(device, sub_batch.src_bytes, cap);
        for (&index, descriptor) in sub_batch.items.iter().zip(&descriptors) {
            self.queue
                .write_buffer(src_buffer, u64::from(descriptor.src_offset) * 4, items[index].0);
        }
        let dst_buffer = set.dst.fit(device, sub_batch.dst_bytes, cap);
        let readback = set.readback.fit(device, sub_batch.dst_bytes, cap);

        // Each binding covers exactly this sub-batch, so the kernel's
        // arrayLength calls give the image and pixel counts.
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("augment bindings"),
            layout: &self.bind_group_layout,
            entries: &[
                binding(0, descriptor_buffer, descriptor_bytes.len() as u64),
                binding(1, src_buffer, sub_batch.src_bytes),
                binding(2, dst_buffer, sub_batch.dst_bytes),
            ],
        });

        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("augment") });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("augment"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            let (x, y) = self.limits.grid(dst_words);
            pass.dispatch_workgroups(x, y, 1);
        }
        encoder.copy_buffer_to_buffer(dst_buffer, 0, readback, 0, sub_batch.dst_bytes);
        let submission = self.queue.submit([encoder.finish()]);

        let (sender, mapped) = mpsc::channel();
        readback
            .slice(..sub_batch.dst_bytes)
            .map_async(wgpu::MapMode::Read, move |result| {
                // The receiver is gone only when the call already failed.
                let _ = sender.send(result);
            });

        let errors = [
            pollster::block_on(validation.pop()),
            pollster::block_on(out_of_memory.pop()),
        ];
        if let Some(error) = errors.into_iter().flatten().next() {
            return Err(GpuError::Wgpu {
                operation: "running a batch",
                message: error.to_string(),
            });
        }
        Ok(InFlight {
            sub_batch,
            set,
            submission,
            mapped,
        })
    }

    /// Waits for a submitted sub-batch, copies each image's output into
    /// `outputs` and returns the buffer set for reuse.
    fn read_back(
        &self,
        items: &[(&[u8], &PlanParams)],
        in_flight: InFlight<'_>,
        outputs: &mut [Vec<u8>],
    ) -> Result<BufferSet, GpuError> {
        let readback_error = |message: String| GpuError::Readback { message };
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(in_flight.submission),
                timeout: None,
            })
            .map_err(|error| readback_error(error.to_string()))?;

        // Another thread's poll may run the map callback, so wait for the
        // callback itself, polling again in case no other thread does.
        loop {
            match in_flight.mapped.recv_timeout(MAP_POLL_INTERVAL) {
                Ok(Ok(())) => break,
                Ok(Err(error)) => return Err(readback_error(error.to_string())),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.device
                        .poll(wgpu::PollType::Poll)
                        .map_err(|error| readback_error(error.to_string()))?;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(readback_error("wgpu dropped the map request".to_owned()));
                }
            }
        }

        let readback = &in_flight.set.readback.buffer;
        {
            let view = readback
                .slice(..in_flight.sub_batch.dst_bytes)
                .get_mapped_range()
                .map_err(|error| readback_error(error.to_string()))?;
            let mut offset = 0;
            for &index in &in_flight.sub_batch.items {
                let len = items[index].1.output_len();
                outputs[index] = view[offset..offset + len].to_vec();
                offset += len;
            }
        }
        readback.unmap();
        Ok(in_flight.set)
    }
}

/// Creates a bind group entry for the first `bytes` of `buffer`.
fn binding(binding: u32, buffer: &wgpu::Buffer, bytes: u64) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer,
            offset: 0,
            size: NonZeroU64::new(bytes),
        }),
    }
}

/// Checks one batch item the way [`crate::cpu::execute`] does, and rejects an
/// empty source with a non-empty output, which the kernel cannot sample.
fn check_item(index: usize, src: &[u8], plan: &PlanParams) -> Result<(), GpuError> {
    let src_len = plan.src_w as usize * plan.src_h as usize * 4;
    if src.len() != src_len {
        return Err(BufferSizeError {
            what: "source",
            expected: src_len,
            got: src.len(),
            width: plan.src_w,
            height: plan.src_h,
        }
        .into());
    }
    if src_len == 0 && plan.output_len() > 0 {
        return Err(GpuError::EmptySource {
            index,
            src_w: plan.src_w,
            src_h: plan.src_h,
            dst_w: plan.dst_w,
            dst_h: plan.dst_h,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(buffer_bytes: u64, target_bytes: u64) -> BatchLimits {
        BatchLimits {
            buffer_bytes,
            max_workgroups_per_dimension: 65535,
            target_bytes,
        }
    }

    fn item(index: usize, src_bytes: u64, dst_bytes: u64) -> ItemSize {
        ItemSize {
            index,
            src_bytes,
            dst_bytes,
        }
    }

    #[test]
    fn split_keeps_small_batch_whole() {
        let sizes = [item(0, 400, 400), item(1, 800, 400), item(2, 40, 40)];
        let split = split_batch(&sizes, &limits(1 << 20, 1 << 20));
        assert_eq!(split.cpu_items, Vec::<usize>::new());
        assert_eq!(split.sub_batches.len(), 1);
        assert_eq!(split.sub_batches[0].items, [0, 1, 2]);
        assert_eq!(split.sub_batches[0].src_bytes, 1240);
        assert_eq!(split.sub_batches[0].dst_bytes, 840);
    }

    #[test]
    fn split_respects_buffer_limit() {
        // Sources of 600 bytes: two never fit in a 1000-byte buffer.
        let sizes = [item(0, 600, 100), item(1, 600, 100), item(2, 300, 100)];
        let split = split_batch(&sizes, &limits(1000, u64::MAX));
        let groups: Vec<_> = split.sub_batches.iter().map(|s| s.items.clone()).collect();
        assert_eq!(groups, [vec![0], vec![1, 2]]);
        for sub_batch in &split.sub_batches {
            assert!(sub_batch.src_bytes <= 1000, "{sub_batch:?}");
            assert!(sub_batch.dst_bytes <= 1000, "{sub_batch:?}");
        }
    }

    #[test]
    fn split_respects_target_but_keeps_large_item() {
        let sizes = [
            item(0, 100, 100),
            item(1, 5000, 5000),
            item(2, 100, 100),
            item(3, 100, 100),
        ];
        let split = split_batch(&sizes, &limits(1 << 20, 400));
        let groups: Vec<_> = split.sub_batches.iter().map(|s| s.items.clone()).collect();
        assert_eq!(groups, [vec![0], vec![1], vec![2, 3]]);
    }

    #[test]
    fn split_sends_oversized_items_to_cpu() {
        let sizes = [
            item(0, 100, 100),
            item(1, 2000, 100),
            item(2, 100, 2000),
            item(3, 100, 100),
        ];
        let split = split_batch(&sizes, &limits(1000, u64::MAX));
        assert_eq!(split.cpu_items, [1, 2]);
        let groups: Vec<_> = split.sub_batches.iter().map(|s| s.items.clone()).collect();
        assert_eq!(groups, [vec![0, 3]]);
    }

    #[test]
    fn split_respects_dispatch_grid() {
        // Two workgroups per dimension reach 2 * 2 * WG_SIZE pixels.
        let grid_bytes = 4 * u64::from(WG_SIZE) * 4;
        let mut small_grid = limits(1 << 30, u64::MAX);
        small_grid.max_workgroups_per_dimension = 2;
        let sizes = [item(0, 4, grid_bytes), item(1, 4, 4), item(2, 4, grid_bytes + 4)];
        let split = split_batch(&sizes, &small_grid);
        assert_eq!(split.cpu_items, [2]);
        let groups: Vec<_> = split.sub_batches.iter().map(|s| s.items.clone()).collect();
        assert_eq!(groups, [vec![0], vec![1]]);
    }

    #[test]
    fn grid_covers_every_pixel() {
        let limits = limits(1 << 30, 1 << 30);
        for words in [1u32, 63, 64, 65, 1000, 65535 * 64, 65535 * 64 + 1, 1 << 29] {
            let (x, y) = limits.grid(words);
            assert!((1..=65535).contains(&x), "{words}: {x}x{y}");
            assert!((1..=65535).contains(&y), "{words}: {x}x{y}");
            let invocations = u64::from(x) * u64::from(y) * u64::from(WG_SIZE);
            assert!(invocations >= u64::from(words), "{words}: {x}x{y}");
            // Less than one extra row of workgroups.
            assert!(
                invocations < u64::from(words) + u64::from(x) * u64::from(WG_SIZE),
                "{words}: {x}x{y}"
            );
        }
    }

    #[test]
    fn check_item_rejects_mismatched_source() {
        let plan = PlanParams::identity(3, 2);
        assert!(check_item(0, &[0; 24], &plan).is_ok());
        let error = check_item(0, &[0; 20], &plan).unwrap_err();
        assert!(
            matches!(
                error,
                GpuError::BufferSize(BufferSizeError {
                    expected: 24,
                    got: 20,
                    ..
                })
            ),
            "{error}"
        );
    }

    /// Returns a context with the adapter's real limits, or `None` (after
    /// printing why) when there is no adapter and `AUGMENTA_REQUIRE_GPU` is not `1`.
    #[allow(
        clippy::print_stdout,
        reason = "the test harness captures it; it explains a skipped test"
    )]
    fn context() -> Option<GpuContext> {
        match GpuContext::new(true) {
            Ok(context) => Some(context),
            Err(error) if std::env::var("AUGMENTA_REQUIRE_GPU").as_deref() == Ok("1") => {
                panic!("AUGMENTA_REQUIRE_GPU=1 but the GPU context failed: {error}")
            }
            Err(error) => {
                println!("skipped: no GPU adapter ({error})");
                None
            }
        }
    }

    #[test]
    fn tiny_limits_split_and_fall_back_to_cpu() {
        let Some(mut context) = context() else { return };
        // 4 KiB buffers: a 40x40 source (6400 bytes) goes to the CPU, and
        // the others form sub-batches of one to three images each.
        context.limits.buffer_bytes = 4096;
        context.limits.target_bytes = 3000;

        let pipeline = crate::Pipeline::default();
        let sizes = [
            (10, 10),
            (40, 40),
            (20, 12),
            (7, 31),
            (1, 1),
            (30, 30),
            (12, 9),
            (16, 16),
            (3, 50),
        ];
        for round in 0..2u32 {
            let images: Vec<(Vec<u8>, PlanParams)> = sizes
                .iter()
                .enumerate()
                .map(|(i, &(width, height))| {
                    let rgba: Vec<u8> = (0..width * height * 4)
                        .map(|v| crate::rng::pcg4d([v, i as u32, round, 3])[0] as u8)
                        .collect();
                    let source = crate::SourceInfo::measure(width, height, &rgba);
                    let plan = pipeline.plan(1, i as u64, round, source).unwrap().params;
                    (rgba, plan)
                })
                .collect();
            let batch: Vec<(&[u8], &PlanParams)> = images.iter().map(|(rgba, plan)| (rgba.as_slice(), plan)).collect();

            let outputs = context.execute_batch(&batch).unwrap();
            for (i, ((rgba, plan), output)) in images.iter().zip(&outputs).enumerate() {
                let mut expected = vec![0u8; plan.output_len()];
                crate::cpu::execute_reference(rgba, plan, &mut expected).unwrap();
                let first_difference = output.iter().zip(&expected).position(|(gpu, cpu)| gpu != cpu);
                assert_eq!(
                    output.len(),
                    expected.len(),
                    "round {round} item {i}: length; plan {plan:?}"
                );
                assert_eq!(
                    first_difference, None,
                    "round {round} item {i}: first differing byte; plan {plan:?}"
                );
            }
        }
    }

    #[test]
    fn check_item_rejects_empty_source() {
        let mut plan = PlanParams::identity(0, 0);
        plan.dst_w = 4;
        plan.dst_h = 4;
        let error = check_item(5, &[], &plan).unwrap_err();
        assert!(matches!(error, GpuError::EmptySource { index: 5, .. }), "{error}");
    }
}
