//! augmenta: deterministic image data augmentation, on the GPU through wgpu
//! or on the CPU through rayon, with bit-for-bit identical output.
//!
//! A [`Pipeline`] of operations is sampled, for each (image, copy), into an
//! [`AugmentPlan`] of plain integers; either backend executes plans with
//! integer fixed-point arithmetic only, so the output bytes depend on the
//! image, its identity, the pipeline, the seed and the copy index, and on
//! nothing else.
//!
//! ```
//! use augmenta::{Augmenter, Backend, Pipeline};
//!
//! let image = image::RgbaImage::from_fn(64, 48, |x, y| image::Rgba([x as u8 * 4, y as u8 * 5, 128, 255]));
//! let augmenter = Augmenter::new(Pipeline::default(), 7, Backend::Cpu);
//! let out = augmenter.augment(&image, "cats/tabby.jpg", 0).unwrap();
//! assert_eq!(out.image.dimensions(), (64, 48));
//! // The same seed, identity and copy give the same bytes.
//! assert_eq!(out.image, augmenter.augment(&image, "cats/tabby.jpg", 0).unwrap().image);
//! ```

#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod backend;
pub mod cpu;
pub mod engine;
pub mod gpu;
pub mod io;
pub mod ops;
pub mod pipeline;
pub mod rng;

mod augmenter;

pub use augmenter::{Augmented, AugmentError, Augmenter};
pub use backend::{Backend, BackendError};
pub use pipeline::plan::{AugmentPlan, PlanParams, SourceInfo};
pub use pipeline::{Pipeline, PipelineError};
