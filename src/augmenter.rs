//! The in-memory API for training pipelines.

use crate::backend::{Backend, BackendError};
use crate::pipeline::plan::{AugmentPlan, PlanError, SourceInfo};
use crate::pipeline::Pipeline;
use crate::rng::path_id;

/// Augments decoded images in memory with one pipeline, seed and backend.
#[derive(Debug, Clone)]
pub struct Augmenter {
    pipeline: Pipeline,
    seed: u64,
    backend: Backend,
}

/// One augmented image and the plan that made it.
#[derive(Debug, Clone)]
pub struct Augmented {
    /// The output pixels.
    pub image: image::RgbaImage,
    /// The sampled plan, with the drawn parameters in `applied`.
    pub plan: AugmentPlan,
}

/// Why an image could not be augmented.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AugmentError {
    /// The plan could not be made for this image.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The backend failed.
    #[error(transparent)]
    Backend(#[from] BackendError),
}

impl Augmenter {
    /// Creates an augmenter.
    pub fn new(pipeline: Pipeline, seed: u64, backend: Backend) -> Self {
        Self {
            pipeline,
            seed,
            backend,
        }
    }

    /// The backend in use.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Augments copy `copy` of one image.
    ///
    /// `key` is the image's identity, normally its path relative to the
    /// dataset root: the same key, seed and copy give the same output, on
    /// either backend, as the `augment` command writes for that file.
    pub fn augment(&self, image: &image::RgbaImage, key: &str, copy: u32) -> Result<Augmented, AugmentError> {
        Ok(self.augment_batch(&[(image, key)], copy)?.remove(0))
    }

    /// Augments copy `copy` of each image in one backend call; on the GPU
    /// backend the whole batch is one dispatch.
    pub fn augment_batch(&self, images: &[(&image::RgbaImage, &str)], copy: u32) -> Result<Vec<Augmented>, AugmentError> {
        let mut plans = Vec::with_capacity(images.len());
        for (image, key) in images {
            let (width, height) = image.dimensions();
            let info = SourceInfo::measure(width, height, image.as_raw());
            plans.push(self.pipeline.plan(self.seed, path_id(key), copy, info)?);
        }
        let items: Vec<_> = images
            .iter()
            .zip(&plans)
            .map(|((image, _), plan)| (image.as_raw().as_slice(), &plan.params))
            .collect();
        let outputs = self.backend.execute_batch(&items)?;
        Ok(outputs
            .into_iter()
            .zip(plans)
            .map(|(pixels, plan)| Augmented {
                image: image::RgbaImage::from_raw(plan.params.dst_w, plan.params.dst_h, pixels)
                    .expect("backend output matches the plan size"),
                plan,
            })
            .collect())
    }
}
