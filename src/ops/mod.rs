//! The operations a pipeline can contain: their parameters as written in a
//! pipeline file, their validation, and how each one is sampled into a plan.
//!
//! The per-pixel work of all operations is done by three shared kernels,
//! each with a scalar reference here: [`geometry`] (one bilinear warp for
//! every geometric operation), [`color`] (one colour matrix for every colour
//! operation) and [`noise`].

pub mod color;
pub mod geometry;
pub mod noise;

mod color_ops;
mod flip;
mod gaussian_noise;
mod range;
mod rotate;

pub use color_ops::{ColorJitter, Grayscale};
pub use flip::{HorizontalFlip, Rotate90, VerticalFlip};
pub use gaussian_noise::GaussianNoise;
pub use range::Range;
pub use rotate::{Affine, Rotate};

use crate::pipeline::plan::PlanBuilder;
use crate::rng::ParamRng;
use serde::{Deserialize, Serialize};

/// A parameter that is out of its allowed range.
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidParam {
    /// The field name as written in the pipeline file.
    pub field: &'static str,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl InvalidParam {
    pub(crate) fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Checks that a probability is within `[0, 1]`.
pub(crate) fn check_probability(p: f64) -> Result<(), InvalidParam> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(InvalidParam::new("p", format!("{p} is out of range; allowed: 0 to 1")))
    }
}

/// The stage of the canonical order an operation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Resampling through the composed affine map.
    Geometry,
    /// The composed colour matrix.
    Color,
    /// Per-pixel noise.
    Noise,
}

/// One operation of a pipeline, as written in a pipeline file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum OpSpec {
    /// Mirror left to right.
    #[serde(alias = "hflip")]
    HorizontalFlip(HorizontalFlip),
    /// Mirror top to bottom.
    #[serde(alias = "vflip")]
    VerticalFlip(VerticalFlip),
    /// Rotate by a random multiple of 90 degrees.
    Rotate90(Rotate90),
    /// Rotate by an angle drawn from a range.
    Rotate(Rotate),
    /// Scale, translate, rotate and shear.
    Affine(Affine),
    /// Random brightness, contrast, saturation and hue.
    ColorJitter(ColorJitter),
    /// Convert to gray (three equal channels).
    Grayscale(Grayscale),
    /// Additive gaussian pixel noise.
    GaussianNoise(GaussianNoise),
}

/// What every operation provides to the pipeline.
pub(crate) trait Operation {
    /// Returns the probability that the operation is applied.
    fn probability(&self) -> f64;
    /// Checks every parameter against its allowed range.
    fn validate(&self) -> Result<(), InvalidParam>;
    /// Draws the parameters and adds the operation to the plan.
    fn sample(&self, rng: &mut ParamRng, plan: &mut PlanBuilder) -> serde_json::Value;
}

impl OpSpec {
    /// Returns the name used in pipeline files.
    pub fn name(&self) -> &'static str {
        match self {
            OpSpec::HorizontalFlip(_) => "horizontal_flip",
            OpSpec::VerticalFlip(_) => "vertical_flip",
            OpSpec::Rotate90(_) => "rotate90",
            OpSpec::Rotate(_) => "rotate",
            OpSpec::Affine(_) => "affine",
            OpSpec::ColorJitter(_) => "color_jitter",
            OpSpec::Grayscale(_) => "grayscale",
            OpSpec::GaussianNoise(_) => "gaussian_noise",
        }
    }

    /// Returns the stage of the canonical order this operation runs in.
    pub fn stage(&self) -> Stage {
        match self {
            OpSpec::HorizontalFlip(_)
            | OpSpec::VerticalFlip(_)
            | OpSpec::Rotate90(_)
            | OpSpec::Rotate(_)
            | OpSpec::Affine(_) => Stage::Geometry,
            OpSpec::ColorJitter(_) | OpSpec::Grayscale(_) => Stage::Color,
            OpSpec::GaussianNoise(_) => Stage::Noise,
        }
    }

    pub(crate) fn operation(&self) -> &dyn Operation {
        match self {
            OpSpec::HorizontalFlip(op) => op,
            OpSpec::VerticalFlip(op) => op,
            OpSpec::Rotate90(op) => op,
            OpSpec::Rotate(op) => op,
            OpSpec::Affine(op) => op,
            OpSpec::ColorJitter(op) => op,
            OpSpec::Grayscale(op) => op,
            OpSpec::GaussianNoise(op) => op,
        }
    }

    /// Checks every parameter against its allowed range.
    pub fn validate(&self) -> Result<(), InvalidParam> {
        self.operation().validate()
    }
}

/// One parameter of an operation, for `augmenta ops` and the README.
#[derive(Debug, Clone, Copy)]
pub struct ParamDoc {
    /// The field name in pipeline files.
    pub name: &'static str,
    /// The value type and unit.
    pub unit: &'static str,
    /// The default, as written in a pipeline file.
    pub default: &'static str,
    /// What the parameter sets and its allowed range.
    pub help: &'static str,
}

/// One operation, for `augmenta ops` and the README.
#[derive(Debug, Clone, Copy)]
pub struct OpDoc {
    /// The `op` value in pipeline files.
    pub name: &'static str,
    /// What the operation does.
    pub help: &'static str,
    /// Its parameters, `p` included.
    pub params: &'static [ParamDoc],
}

const BORDER_HELP: &str =
    "how pixels outside the source are filled: constant, replicate, reflect, reflect101 (or reflect_101) or wrap";
const FILL_HELP: &str = "fill colour for border = \"constant\", 0-255 per channel ([r, g, b] or [r, g, b, a])";

/// Every operation with its parameters, units and defaults.
pub const OP_DOCS: &[OpDoc] = &[
    OpDoc {
        name: "horizontal_flip",
        help: "mirror left to right (alias: hflip)",
        params: &[ParamDoc { name: "p", unit: "probability", default: "0.5", help: "chance the op is applied, 0-1" }],
    },
    OpDoc {
        name: "vertical_flip",
        help: "mirror top to bottom (alias: vflip)",
        params: &[ParamDoc { name: "p", unit: "probability", default: "0.5", help: "chance the op is applied, 0-1" }],
    },
    OpDoc {
        name: "rotate90",
        help: "rotate counter-clockwise by a random number of quarter turns; swaps width and height for odd turns",
        params: &[
            ParamDoc { name: "turns", unit: "list of quarter turns", default: "[0, 1, 2, 3]", help: "the turn counts to choose from, each 0-3" },
            ParamDoc { name: "p", unit: "probability", default: "1.0", help: "chance the op is applied, 0-1" },
        ],
    },
    OpDoc {
        name: "rotate",
        help: "rotate about the image centre by a random angle, bilinear, keeping the size",
        params: &[
            ParamDoc { name: "angle", unit: "degrees, x or [low, high]", default: "[-15, 15]", help: "counter-clockwise angle range; x means [-x, x]; -360 to 360" },
            ParamDoc { name: "border", unit: "name", default: "\"reflect101\"", help: BORDER_HELP },
            ParamDoc { name: "fill", unit: "[r, g, b(, a)]", default: "[0, 0, 0, 255]", help: FILL_HELP },
            ParamDoc { name: "p", unit: "probability", default: "0.5", help: "chance the op is applied, 0-1" },
        ],
    },
    OpDoc {
        name: "affine",
        help: "scale, rotate, shear and translate about the image centre, bilinear, keeping the size",
        params: &[
            ParamDoc { name: "scale", unit: "factor, x or [low, high]", default: "[1, 1]", help: "zoom factor range, 0.25-4; x means [x, x]" },
            ParamDoc { name: "translate", unit: "fraction of size, x or [low, high]", default: "[0, 0]", help: "shift range per axis as a fraction of width and height, -1 to 1; x means [-x, x]" },
            ParamDoc { name: "rotate", unit: "degrees, x or [low, high]", default: "[0, 0]", help: "counter-clockwise angle range, -360 to 360; x means [-x, x]" },
            ParamDoc { name: "shear", unit: "degrees, x or [low, high]", default: "[0, 0]", help: "horizontal shear angle range, -45 to 45; x means [-x, x]" },
            ParamDoc { name: "border", unit: "name", default: "\"reflect101\"", help: BORDER_HELP },
            ParamDoc { name: "fill", unit: "[r, g, b(, a)]", default: "[0, 0, 0, 255]", help: FILL_HELP },
            ParamDoc { name: "p", unit: "probability", default: "0.5", help: "chance the op is applied, 0-1" },
        ],
    },
    OpDoc {
        name: "color_jitter",
        help: "random brightness, contrast, saturation and hue, applied in that order",
        params: &[
            ParamDoc { name: "brightness", unit: "factor spread, x or [low, high]", default: "0.2", help: "x means factors [1 - x, 1 + x]; factors 0-4" },
            ParamDoc { name: "contrast", unit: "factor spread, x or [low, high]", default: "0.2", help: "x means factors [1 - x, 1 + x], pivoting on the image's mean luma; factors 0-4" },
            ParamDoc { name: "saturation", unit: "factor spread, x or [low, high]", default: "0.2", help: "x means factors [1 - x, 1 + x]; factors 0-4" },
            ParamDoc { name: "hue", unit: "turns, x or [low, high]", default: "0.1", help: "x means a hue rotation in [-x, x] of a full turn; -0.5 to 0.5" },
            ParamDoc { name: "p", unit: "probability", default: "0.5", help: "chance the op is applied, 0-1" },
        ],
    },
    OpDoc {
        name: "grayscale",
        help: "replace each pixel by its Rec. 601 luma in all three channels",
        params: &[ParamDoc { name: "p", unit: "probability", default: "0.5", help: "chance the op is applied, 0-1" }],
    },
    OpDoc {
        name: "gaussian_noise",
        help: "add approximately gaussian noise (a sum of four uniforms) to each pixel",
        params: &[
            ParamDoc { name: "std", unit: "fraction of 255, x or [low, high]", default: "[0.02, 0.06]", help: "standard deviation range, 0-1; x means exactly x" },
            ParamDoc { name: "per_channel", unit: "bool", default: "true", help: "independent noise per channel; false adds the same value to r, g and b" },
            ParamDoc { name: "p", unit: "probability", default: "0.5", help: "chance the op is applied, 0-1" },
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_op(text: &str) -> OpSpec {
        #[derive(Deserialize)]
        struct One {
            ops: Vec<OpSpec>,
        }
        toml::from_str::<One>(text).unwrap_or_else(|e| panic!("{text}\n{e}")).ops.remove(0)
    }

    /// The defaults `augmenta ops` prints are the ones the parser applies.
    #[test]
    fn documented_defaults_match_parser() {
        for doc in OP_DOCS {
            let bare = parse_op(&format!("[[ops]]\nop = \"{}\"\n", doc.name));
            let mut explicit = format!("[[ops]]\nop = \"{}\"\n", doc.name);
            for param in doc.params {
                explicit.push_str(&format!("{} = {}\n", param.name, param.default));
            }
            let explicit = parse_op(&explicit);
            assert_eq!(
                serde_json::to_value(&bare).unwrap(),
                serde_json::to_value(&explicit).unwrap(),
                "{}",
                doc.name
            );
            bare.validate().unwrap();
        }
    }

    #[test]
    fn every_op_is_documented() {
        let names: Vec<&str> = OP_DOCS.iter().map(|d| d.name).collect();
        for op in [
            OpSpec::HorizontalFlip(HorizontalFlip::default()),
            OpSpec::VerticalFlip(VerticalFlip::default()),
            OpSpec::Rotate90(Rotate90::default()),
            OpSpec::Rotate(Rotate::default()),
            OpSpec::Affine(Affine::default()),
            OpSpec::ColorJitter(ColorJitter::default()),
            OpSpec::Grayscale(Grayscale::default()),
            OpSpec::GaussianNoise(GaussianNoise::default()),
        ] {
            assert!(names.contains(&op.name()), "{} is missing from OP_DOCS", op.name());
        }
    }
}
