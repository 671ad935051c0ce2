//! Colour jitter and grayscale: both become part of the plan's colour matrix.

use super::color::ColorMatrix;
use super::range::check_range;
use super::{check_probability, InvalidParam, Operation, Range};
use crate::pipeline::plan::PlanBuilder;
use crate::rng::ParamRng;
use serde::{Deserialize, Serialize};
use serde_json::json;

fn half() -> f64 {
    0.5
}

fn spread() -> Range {
    Range::Scalar(0.2)
}

fn hue_spread() -> Range {
    Range::Scalar(0.1)
}

/// Random brightness, contrast, saturation and hue, applied in that order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColorJitter {
    /// Brightness factor range; `x` means `[1 - x, 1 + x]`.
    #[serde(default = "spread")]
    pub brightness: Range,
    /// Contrast factor range; `x` means `[1 - x, 1 + x]`.
    #[serde(default = "spread")]
    pub contrast: Range,
    /// Saturation factor range; `x` means `[1 - x, 1 + x]`.
    #[serde(default = "spread")]
    pub saturation: Range,
    /// Hue rotation range in turns; `x` means `[-x, x]`.
    #[serde(default = "hue_spread")]
    pub hue: Range,
    /// Probability of applying the jitter.
    #[serde(default = "half")]
    pub p: f64,
}

impl Default for ColorJitter {
    fn default() -> Self {
        Self {
            brightness: spread(),
            contrast: spread(),
            saturation: spread(),
            hue: hue_spread(),
            p: half(),
        }
    }
}

impl Operation for ColorJitter {
    fn probability(&self) -> f64 {
        self.p
    }

    fn validate(&self) -> Result<(), InvalidParam> {
        check_probability(self.p)?;
        check_range("brightness", self.brightness.around_one(), 0.0, 4.0, " (factor)")?;
        check_range("contrast", self.contrast.around_one(), 0.0, 4.0, " (factor)")?;
        check_range("saturation", self.saturation.around_one(), 0.0, 4.0, " (factor)")?;
        check_range("hue", self.hue.symmetric(), -0.5, 0.5, " turns")
    }

    fn sample(&self, rng: &mut ParamRng, plan: &mut PlanBuilder) -> serde_json::Value {
        let draw = |rng: &mut ParamRng, (low, high): (f64, f64)| rng.uniform(low, high);
        let brightness = draw(rng, self.brightness.around_one());
        let contrast = draw(rng, self.contrast.around_one());
        let saturation = draw(rng, self.saturation.around_one());
        let hue = draw(rng, self.hue.symmetric());

        plan.push_color(ColorMatrix::brightness(brightness));
        let pivot = plan.mean_luma();
        plan.push_color(ColorMatrix::contrast(contrast, pivot));
        plan.push_color(ColorMatrix::saturation(saturation));
        if hue != 0.0 {
            plan.push_color(ColorMatrix::hue(hue));
        }
        json!({
            "op": "color_jitter",
            "brightness": brightness,
            "contrast": contrast,
            "saturation": saturation,
            "hue": hue,
        })
    }
}

/// Replace each pixel by its luma.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grayscale {
    /// Probability of converting.
    #[serde(default = "half")]
    pub p: f64,
}

impl Default for Grayscale {
    fn default() -> Self {
        Self { p: half() }
    }
}

impl Operation for Grayscale {
    fn probability(&self) -> f64 {
        self.p
    }

    fn validate(&self) -> Result<(), InvalidParam> {
        check_probability(self.p)
    }

    fn sample(&self, _rng: &mut ParamRng, plan: &mut PlanBuilder) -> serde_json::Value {
        plan.push_color(ColorMatrix::grayscale());
        json!({ "op": "grayscale" })
    }
}
