//! Additive gaussian noise: the plan stores a scale and a hash key, and the
//! kernel in [`super::noise`] draws every pixel's value.

use super::noise::noise_scale;
use super::range::check_range;
use super::{check_probability, InvalidParam, Operation, Range};
use crate::pipeline::plan::PlanBuilder;
use crate::rng::ParamRng;
use serde::{Deserialize, Serialize};
use serde_json::json;

fn half() -> f64 {
    0.5
}

fn default_std() -> Range {
    Range::Pair(0.02, 0.06)
}

fn yes() -> bool {
    true
}

/// Additive gaussian pixel noise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GaussianNoise {
    /// Standard deviation range as a fraction of 255; `x` means exactly `x`.
    #[serde(default = "default_std")]
    pub std: Range,
    /// Independent noise per channel; `false` adds one value to r, g and b.
    #[serde(default = "yes")]
    pub per_channel: bool,
    /// Probability of adding noise.
    #[serde(default = "half")]
    pub p: f64,
}

impl Default for GaussianNoise {
    fn default() -> Self {
        Self {
            std: default_std(),
            per_channel: true,
            p: half(),
        }
    }
}

impl Operation for GaussianNoise {
    fn probability(&self) -> f64 {
        self.p
    }

    fn validate(&self) -> Result<(), InvalidParam> {
        check_probability(self.p)?;
        check_range("std", self.std.exact(), 0.0, 1.0, " of the 0-255 range")
    }

    fn sample(&self, rng: &mut ParamRng, plan: &mut PlanBuilder) -> serde_json::Value {
        let (low, high) = self.std.exact();
        let std = rng.uniform(low, high);
        let key = rng.next_key();
        plan.set_noise(noise_scale(std * 255.0), self.per_channel, key);
        json!({ "op": "gaussian_noise", "std": std, "per_channel": self.per_channel })
    }
}
