//! Flips and quarter turns: exact index maps, so they never blur.

use super::geometry::Affine as Map;
use super::{check_probability, InvalidParam, Operation};
use crate::pipeline::plan::PlanBuilder;
use crate::rng::ParamRng;
use serde::{Deserialize, Serialize};
use serde_json::json;

fn half() -> f64 {
    0.5
}

fn one() -> f64 {
    1.0
}

/// Mirror left to right.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HorizontalFlip {
    /// Probability of applying the flip.
    #[serde(default = "half")]
    pub p: f64,
}

impl Default for HorizontalFlip {
    fn default() -> Self {
        Self { p: half() }
    }
}

impl Operation for HorizontalFlip {
    fn probability(&self) -> f64 {
        self.p
    }

    fn validate(&self) -> Result<(), InvalidParam> {
        check_probability(self.p)
    }

    fn sample(&self, _rng: &mut ParamRng, plan: &mut PlanBuilder) -> serde_json::Value {
        let (w, _) = plan.size();
        plan.push_geometry(
            Map {
                rows: [[-1.0, 0.0, f64::from(w) - 1.0], [0.0, 1.0, 0.0]],
            },
            plan.size(),
        );
        json!({ "op": "horizontal_flip" })
    }
}

/// Mirror top to bottom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerticalFlip {
    /// Probability of applying the flip.
    #[serde(default = "half")]
    pub p: f64,
}

impl Default for VerticalFlip {
    fn default() -> Self {
        Self { p: half() }
    }
}

impl Operation for VerticalFlip {
    fn probability(&self) -> f64 {
        self.p
    }

    fn validate(&self) -> Result<(), InvalidParam> {
        check_probability(self.p)
    }

    fn sample(&self, _rng: &mut ParamRng, plan: &mut PlanBuilder) -> serde_json::Value {
        let (_, h) = plan.size();
        plan.push_geometry(
            Map {
                rows: [[1.0, 0.0, 0.0], [0.0, -1.0, f64::from(h) - 1.0]],
            },
            plan.size(),
        );
        json!({ "op": "vertical_flip" })
    }
}

fn all_turns() -> Vec<u32> {
    vec![0, 1, 2, 3]
}

/// Rotate counter-clockwise by a random number of quarter turns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotate90 {
    /// The quarter-turn counts to choose from, each 0 to 3.
    #[serde(default = "all_turns")]
    pub turns: Vec<u32>,
    /// Probability of applying the rotation.
    #[serde(default = "one")]
    pub p: f64,
}

impl Default for Rotate90 {
    fn default() -> Self {
        Self {
            turns: all_turns(),
            p: one(),
        }
    }
}

impl Rotate90 {
    /// The forward map and output size of `turns` counter-clockwise quarter
    /// turns of a `w x h` image.
    pub fn map(turns: u32, (w, h): (u32, u32)) -> (Map, (u32, u32)) {
        let (wf, hf) = (f64::from(w) - 1.0, f64::from(h) - 1.0);
        match turns % 4 {
            0 => (Map::IDENTITY, (w, h)),
            // (x, y) -> (y, w - 1 - x): the top-left corner goes to the bottom-left.
            1 => (
                Map {
                    rows: [[0.0, 1.0, 0.0], [-1.0, 0.0, wf]],
                },
                (h, w),
            ),
            2 => (
                Map {
                    rows: [[-1.0, 0.0, wf], [0.0, -1.0, hf]],
                },
                (w, h),
            ),
            _ => (
                Map {
                    rows: [[0.0, -1.0, hf], [1.0, 0.0, 0.0]],
                },
                (h, w),
            ),
        }
    }
}

impl Operation for Rotate90 {
    fn probability(&self) -> f64 {
        self.p
    }

    fn validate(&self) -> Result<(), InvalidParam> {
        check_probability(self.p)?;
        if self.turns.is_empty() {
            return Err(InvalidParam::new("turns", "is empty; list at least one of 0, 1, 2, 3"));
        }
        if let Some(bad) = self.turns.iter().find(|&&t| t > 3) {
            return Err(InvalidParam::new("turns", format!("{bad} is out of range; allowed: 0 to 3")));
        }
        Ok(())
    }

    fn sample(&self, rng: &mut ParamRng, plan: &mut PlanBuilder) -> serde_json::Value {
        let turns = self.turns[rng.below(self.turns.len() as u32) as usize];
        let (map, size) = Rotate90::map(turns, plan.size());
        plan.push_geometry(map, size);
        json!({ "op": "rotate90", "turns": turns })
    }
}
