//! Rotation by any angle and the general affine transform, both about the
//! image centre and keeping the image size.

use super::geometry::{Affine as Map, BorderMode};
use super::range::check_range;
use super::{check_probability, InvalidParam, Operation, Range};
use crate::pipeline::plan::PlanBuilder;
use crate::rng::ParamRng;
use serde::{Deserialize, Serialize};
use serde_json::json;

fn half() -> f64 {
    0.5
}

fn default_angle() -> Range {
    Range::Pair(-15.0, 15.0)
}

fn default_fill() -> Vec<u8> {
    vec![0, 0, 0, 255]
}

/// Checks a fill colour: three or four channel values.
fn check_fill(fill: &[u8]) -> Result<(), InvalidParam> {
    if fill.len() == 3 || fill.len() == 4 {
        Ok(())
    } else {
        Err(InvalidParam::new(
            "fill",
            format!("has {} values; write [r, g, b] or [r, g, b, a], each 0-255", fill.len()),
        ))
    }
}

/// Returns the fill colour as RGBA, with an opaque alpha for three values.
fn fill_rgba(fill: &[u8]) -> [u8; 4] {
    [fill[0], fill[1], fill[2], fill.get(3).copied().unwrap_or(255)]
}

/// Returns the forward map of a rotation by `degrees` counter-clockwise about the
/// centre of a `w x h` image, with optional scale, shear and shift.
fn centred_map(w: u32, h: u32, degrees: f64, scale: f64, shear_degrees: f64, shift: (f64, f64)) -> Map {
    let (cx, cy) = ((f64::from(w) - 1.0) / 2.0, (f64::from(h) - 1.0) / 2.0);
    let (sin, cos) = degrees.to_radians().sin_cos();
    let shear = shear_degrees.to_radians().tan();
    // Linear part: rotation (y axis points down, so counter-clockwise on
    // screen is [[cos, sin], [-sin, cos]]) times shear times scale.
    let l = [
        [cos * scale, (cos * shear + sin) * scale],
        [-sin * scale, (-sin * shear + cos) * scale],
    ];
    Map {
        rows: [
            [l[0][0], l[0][1], cx + shift.0 - (l[0][0] * cx + l[0][1] * cy)],
            [l[1][0], l[1][1], cy + shift.1 - (l[1][0] * cx + l[1][1] * cy)],
        ],
    }
}

/// Rotate about the image centre by an angle drawn from a range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotate {
    /// Counter-clockwise angle range in degrees; `x` means `[-x, x]`.
    #[serde(default = "default_angle")]
    pub angle: Range,
    /// How pixels that come from outside the source are filled.
    #[serde(default)]
    pub border: BorderMode,
    /// The fill colour for [`BorderMode::Constant`].
    #[serde(default = "default_fill")]
    pub fill: Vec<u8>,
    /// Probability of applying the rotation.
    #[serde(default = "half")]
    pub p: f64,
}

impl Default for Rotate {
    fn default() -> Self {
        Self {
            angle: default_angle(),
            border: BorderMode::default(),
            fill: default_fill(),
            p: half(),
        }
    }
}

impl Operation for Rotate {
    fn probability(&self) -> f64 {
        self.p
    }

    fn validate(&self) -> Result<(), InvalidParam> {
        check_probability(self.p)?;
        check_range("angle", self.angle.symmetric(), -360.0, 360.0, " degrees")?;
        check_fill(&self.fill)
    }

    fn sample(&self, rng: &mut ParamRng, plan: &mut PlanBuilder) -> serde_json::Value {
        let (low, high) = self.angle.symmetric();
        let degrees = rng.uniform(low, high);
        let (w, h) = plan.size();
        plan.push_geometry(centred_map(w, h, degrees, 1.0, 0.0, (0.0, 0.0)), (w, h));
        plan.set_border(self.border, fill_rgba(&self.fill));
        json!({ "op": "rotate", "angle": degrees })
    }
}

fn unit_range() -> Range {
    Range::Pair(1.0, 1.0)
}

fn zero_range() -> Range {
    Range::Pair(0.0, 0.0)
}

/// Scale, rotate, shear and translate about the image centre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Affine {
    /// Zoom factor range; `x` means exactly `x`.
    #[serde(default = "unit_range")]
    pub scale: Range,
    /// Shift range as a fraction of the size, drawn per axis; `x` means `[-x, x]`.
    #[serde(default = "zero_range")]
    pub translate: Range,
    /// Counter-clockwise angle range in degrees; `x` means `[-x, x]`.
    #[serde(default = "zero_range")]
    pub rotate: Range,
    /// Horizontal shear angle range in degrees; `x` means `[-x, x]`.
    #[serde(default = "zero_range")]
    pub shear: Range,
    /// How pixels that come from outside the source are filled.
    #[serde(default)]
    pub border: BorderMode,
    /// The fill colour for [`BorderMode::Constant`].
    #[serde(default = "default_fill")]
    pub fill: Vec<u8>,
    /// Probability of applying the transform.
    #[serde(default = "half")]
    pub p: f64,
}

impl Default for Affine {
    fn default() -> Self {
        Self {
            scale: unit_range(),
            translate: zero_range(),
            rotate: zero_range(),
            shear: zero_range(),
            border: BorderMode::default(),
            fill: default_fill(),
            p: half(),
        }
    }
}

impl Operation for Affine {
    fn probability(&self) -> f64 {
        self.p
    }

    fn validate(&self) -> Result<(), InvalidParam> {
        check_probability(self.p)?;
        check_range("scale", self.scale.exact(), 0.25, 4.0, "")?;
        check_range("translate", self.translate.symmetric(), -1.0, 1.0, " of the size")?;
        check_range("rotate", self.rotate.symmetric(), -360.0, 360.0, " degrees")?;
        check_range("shear", self.shear.symmetric(), -45.0, 45.0, " degrees")?;
        check_fill(&self.fill)
    }

    fn sample(&self, rng: &mut ParamRng, plan: &mut PlanBuilder) -> serde_json::Value {
        let (scale_low, scale_high) = self.scale.exact();
        let (shift_low, shift_high) = self.translate.symmetric();
        let (rotate_low, rotate_high) = self.rotate.symmetric();
        let (shear_low, shear_high) = self.shear.symmetric();
        let scale = rng.uniform(scale_low, scale_high);
        let tx = rng.uniform(shift_low, shift_high);
        let ty = rng.uniform(shift_low, shift_high);
        let degrees = rng.uniform(rotate_low, rotate_high);
        let shear = rng.uniform(shear_low, shear_high);
        let (w, h) = plan.size();
        let shift = (tx * f64::from(w), ty * f64::from(h));
        plan.push_geometry(centred_map(w, h, degrees, scale, shear, shift), (w, h));
        plan.set_border(self.border, fill_rgba(&self.fill));
        json!({
            "op": "affine",
            "scale": scale,
            "translate": [tx, ty],
            "rotate": degrees,
            "shear": shear,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centred_rotation_fixes_centre_and_turns_counter_clockwise() {
        let map = centred_map(101, 51, 90.0, 1.0, 0.0, (0.0, 0.0));
        let (x, y) = map.apply(50.0, 25.0);
        assert!((x - 50.0).abs() < 1e-9 && (y - 25.0).abs() < 1e-9);
        // A point right of the centre moves up on screen (smaller y).
        let (x, y) = map.apply(60.0, 25.0);
        assert!((x - 50.0).abs() < 1e-9 && (y - 15.0).abs() < 1e-9, "{x} {y}");
    }
}
