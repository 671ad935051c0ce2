//! The pipeline: an ordered list of operations read from a TOML or JSON
//! file (or the built-in default), validated, and sampled into plans.
//!
//! A pipeline file lists operations as `[[ops]]` tables (TOML) or an `ops`
//! array (JSON); each has an `op` name and that operation's parameters.
//! Whatever their order in the file, a plan runs geometry first (one
//! resampling), then colour, then noise; within each group the file's order
//! applies.

pub mod plan;

use crate::ops::{ColorJitter, GaussianNoise, HorizontalFlip, OpSpec, Range, Rotate, Stage};
use crate::rng::ParamRng;
use plan::{AugmentPlan, PlanBuilder, PlanError, SourceInfo};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Why a pipeline file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The file could not be read.
    #[error("cannot read pipeline file {path}")]
    Read {
        /// The pipeline file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or JSON, or a field is unknown or of the wrong type.
    #[error("{path}: {message}")]
    Parse {
        /// The pipeline file.
        path: PathBuf,
        /// The parser's message, with the line and the field.
        message: String,
    },
    /// An operation has an unknown, mistyped or out-of-range field.
    #[error("{path}{}: ops[{index}] ({op}): field `{field}`: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        /// The pipeline file.
        path: PathBuf,
        /// The 1-based line of the field (or of its operation), when the
        /// format gives it.
        line: Option<usize>,
        /// The position of the operation in the list, from 0.
        index: usize,
        /// The operation's name as written.
        op: String,
        /// The field at fault.
        field: String,
        /// What is wrong and what is allowed.
        message: String,
    },
}

/// An ordered list of operations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pipeline {
    /// The operations, in file order.
    pub ops: Vec<OpSpec>,
}

/// The top level of a TOML pipeline file, with the position of each op.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlFile {
    ops: Vec<toml::Spanned<toml::Table>>,
}

/// The top level of a JSON pipeline file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonFile {
    ops: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// Converts one op table into an [`OpSpec`], naming the field at fault.
///
/// serde reports type errors inside an internally tagged enum without the
/// field name, so on failure each field is tried alone (with `op`) and the
/// first one that fails is named.
fn parse_op(table: &serde_json::Map<String, serde_json::Value>) -> Result<OpSpec, (String, String)> {
    let whole = serde_json::Value::Object(table.clone());
    let error = match serde_json::from_value::<OpSpec>(whole) {
        Ok(op) => return Ok(op),
        Err(error) => error.to_string(),
    };
    let Some(op_name) = table.get("op") else {
        return Err(("op".into(), "missing; every op needs an `op` name (see `augmenta ops`)".into()));
    };
    let mut alone = serde_json::Map::new();
    alone.insert("op".into(), op_name.clone());
    if let Err(e) = serde_json::from_value::<OpSpec>(serde_json::Value::Object(alone.clone())) {
        return Err(("op".into(), format!("{e}; run `augmenta ops` for the list")));
    }
    for (key, value) in table {
        if key == "op" {
            continue;
        }
        let mut single = alone.clone();
        single.insert(key.clone(), value.clone());
        if let Err(e) = serde_json::from_value::<OpSpec>(serde_json::Value::Object(single)) {
            return Err((key.clone(), e.to_string()));
        }
    }
    Err(("op".into(), error))
}

/// Returns the `op` value of an op table, for messages.
fn op_name(table: &serde_json::Map<String, serde_json::Value>) -> String {
    match table.get("op") {
        Some(serde_json::Value::String(name)) => name.clone(),
        Some(other) => other.to_string(),
        None => "no op".to_owned(),
    }
}

/// Returns the 1-based line of `key = ...` in the op table that starts at byte
/// `start`, else the table's first line.
fn line_of_key(text: &str, start: usize, key: &str) -> usize {
    let start = start.min(text.len());
    let mut offset = start;
    for (i, line) in text[start..].split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start();
        if i > 0 && trimmed.starts_with('[') {
            break;
        }
        if let Some(rest) = trimmed.strip_prefix(key) {
            if rest.trim_start().starts_with('=') {
                return line_of(text, offset);
            }
        }
        offset += line.len();
    }
    line_of(text, start)
}

impl Default for Pipeline {
    /// Returns the built-in pipeline, used without `--pipeline`: mild
    /// changes that keep product photos upright and recognisable.
    fn default() -> Self {
        Pipeline {
            ops: vec![
                OpSpec::HorizontalFlip(HorizontalFlip { p: 0.5 }),
                OpSpec::Rotate(Rotate {
                    angle: Range::Pair(-15.0, 15.0),
                    p: 0.5,
                    ..Rotate::default()
                }),
                OpSpec::ColorJitter(ColorJitter {
                    brightness: Range::Scalar(0.2),
                    contrast: Range::Scalar(0.2),
                    saturation: Range::Scalar(0.2),
                    hue: Range::Scalar(0.03),
                    p: 0.8,
                }),
                OpSpec::GaussianNoise(GaussianNoise {
                    std: Range::Pair(0.01, 0.04),
                    per_channel: true,
                    p: 0.3,
                }),
            ],
        }
    }
}

impl Pipeline {
    /// Reads and validates a pipeline file; `.json` files are JSON, all others TOML.
    pub fn from_file(path: &Path) -> Result<Self, PipelineError> {
        let text = std::fs::read_to_string(path).map_err(|source| PipelineError::Read {
            path: path.to_owned(),
            source,
        })?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if is_json {
            Self::from_json_str(&text, path)
        } else {
            Self::from_toml_str(&text, path)
        }
    }

    /// Parses and validates TOML text; `path` is used in messages.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Self, PipelineError> {
        let file: TomlFile = toml::from_str(text).map_err(|e| PipelineError::Parse {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let starts: Vec<usize> = file.ops.iter().map(|op| op.span().start).collect();
        let line = |index: usize, field: &str| starts.get(index).map(|&start| line_of_key(text, start, field));
        let mut ops = Vec::with_capacity(file.ops.len());
        for (index, spanned) in file.ops.iter().enumerate() {
            let table = match serde_json::to_value(spanned.get_ref()) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => serde_json::Map::new(),
            };
            let op = parse_op(&table).map_err(|(field, message)| PipelineError::Invalid {
                path: path.to_owned(),
                line: line(index, &field),
                index,
                op: op_name(&table),
                field,
                message,
            })?;
            ops.push(op);
        }
        let pipeline = Pipeline { ops };
        pipeline.validate_with(path, &line)?;
        Ok(pipeline)
    }

    /// Parses and validates JSON text; `path` is used in messages.
    pub fn from_json_str(text: &str, path: &Path) -> Result<Self, PipelineError> {
        let file: JsonFile = serde_json::from_str(text).map_err(|e| PipelineError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let mut ops = Vec::with_capacity(file.ops.len());
        for (index, table) in file.ops.iter().enumerate() {
            let op = parse_op(table).map_err(|(field, message)| PipelineError::Invalid {
                path: path.to_owned(),
                line: None,
                index,
                op: op_name(table),
                field,
                message,
            })?;
            ops.push(op);
        }
        let pipeline = Pipeline { ops };
        pipeline.validate_with(path, &|_, _| None)?;
        Ok(pipeline)
    }

    /// Checks every operation's parameters.
    pub fn validate(&self) -> Result<(), PipelineError> {
        self.validate_with(Path::new("<pipeline>"), &|_, _| None)
    }

    /// Validates every op; `line(index, field)` gives the line of a field.
    fn validate_with(&self, path: &Path, line: &dyn Fn(usize, &str) -> Option<usize>) -> Result<(), PipelineError> {
        let invalid = |index: usize, op: &OpSpec, field: &str, message: String| PipelineError::Invalid {
            path: path.to_owned(),
            line: line(index, field),
            index,
            op: op.name().to_owned(),
            field: field.to_owned(),
            message,
        };
        let mut noise_seen = false;
        for (index, op) in self.ops.iter().enumerate() {
            op.validate()
                .map_err(|e| invalid(index, op, e.field, e.message))?;
            if op.stage() == Stage::Noise {
                if noise_seen {
                    return Err(invalid(
                        index,
                        op,
                        "op",
                        "a pipeline may contain one gaussian_noise op; merge them into one std range".into(),
                    ));
                }
                noise_seen = true;
            }
        }
        Ok(())
    }

    /// Samples the plan for copy `copy` of the image with identity `image_id`.
    ///
    /// The result depends only on the arguments: the same call on any
    /// machine, thread or backend gives the same plan.
    pub fn plan(&self, seed: u64, image_id: u64, copy: u32, source: SourceInfo) -> Result<AugmentPlan, PlanError> {
        let mut builder = PlanBuilder::new(source);
        let mut applied = Vec::new();
        for stage in [Stage::Geometry, Stage::Color, Stage::Noise] {
            for (index, op) in self.ops.iter().enumerate() {
                if op.stage() != stage {
                    continue;
                }
                let operation = op.operation();
                let mut rng = ParamRng::new(seed, image_id, copy, index as u32);
                if !rng.chance(operation.probability()) {
                    continue;
                }
                applied.push((index, operation.sample(&mut rng, &mut builder)));
            }
        }
        applied.sort_by_key(|(index, _)| *index);
        Ok(AugmentPlan {
            params: builder.finish()?,
            applied: applied.into_iter().map(|(_, v)| v).collect(),
        })
    }
}

/// Returns the 1-based line number of byte offset `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Pipeline, PipelineError> {
        Pipeline::from_toml_str(text, Path::new("aug.toml"))
    }

    #[test]
    fn default_pipeline_is_valid() {
        Pipeline::default().validate().unwrap();
    }

    #[test]
    fn toml_pipeline_parses_every_op() {
        let text = r#"
            [[ops]]
            op = "hflip"
            [[ops]]
            op = "vertical_flip"
            p = 0.2
            [[ops]]
            op = "rotate90"
            turns = [1, 3]
            [[ops]]
            op = "rotate"
            angle = 30
            border = "constant"
            fill = [255, 255, 255]
            [[ops]]
            op = "affine"
            scale = [0.9, 1.1]
            translate = 0.05
            shear = 5
            [[ops]]
            op = "color_jitter"
            hue = [-0.02, 0.05]
            [[ops]]
            op = "grayscale"
            p = 0.1
            [[ops]]
            op = "gaussian_noise"
            std = 0.03
            per_channel = false
        "#;
        let pipeline = parse(text).unwrap();
        assert_eq!(pipeline.ops.len(), 8);
        assert_eq!(pipeline.ops[0].name(), "horizontal_flip");
    }

    #[test]
    fn misspelled_field_is_named_with_line() {
        let err = parse("[[ops]]\nop = \"rotate\"\nangel = 30\n").unwrap_err().to_string();
        assert!(err.contains("aug.toml:3: ops[0] (rotate)"), "{err}");
        assert!(err.contains("field `angel`"), "{err}");
    }

    #[test]
    fn unknown_op_is_named() {
        let err = parse("[[ops]]\nop = \"rotat\"\n").unwrap_err().to_string();
        assert!(err.contains("rotat"), "{err}");
    }

    #[test]
    fn wrong_type_is_named() {
        let err = parse("[[ops]]\nop = \"rotate\"\np = \"often\"\n").unwrap_err().to_string();
        assert!(err.contains("field `p`"), "{err}");
        assert!(err.contains("often"), "{err}");
        assert!(err.contains("aug.toml:3:"), "{err}");
    }

    #[test]
    fn out_of_range_value_names_field_line_and_range() {
        let err = parse("[[ops]]\nop = \"hflip\"\n\n[[ops]]\nop = \"rotate\"\nangle = [-400, 30]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("aug.toml:6"), "{err}");
        assert!(err.contains("ops[1] (rotate)"), "{err}");
        assert!(err.contains("`angle`"), "{err}");
        assert!(err.contains("-360 to 360"), "{err}");
    }

    #[test]
    fn json_pipeline_parses_and_validates() {
        let ok = Pipeline::from_json_str(r#"{"ops": [{"op": "rotate", "angle": [-10, 10], "p": 1}]}"#, Path::new("a.json"));
        assert_eq!(ok.unwrap().ops.len(), 1);
        let err = Pipeline::from_json_str(r#"{"ops": [{"op": "gaussian_noise", "std": 2}]}"#, Path::new("a.json"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`std`"), "{err}");
    }

    #[test]
    fn probability_above_one_is_rejected() {
        let err = parse("[[ops]]\nop = \"grayscale\"\np = 1.5\n").unwrap_err().to_string();
        assert!(err.contains("`p`") && err.contains("0 to 1"), "{err}");
    }

    #[test]
    fn plans_are_deterministic_and_seed_dependent() {
        let pipeline = Pipeline::default();
        let source = SourceInfo {
            width: 64,
            height: 48,
            mean_rgb: [100.0, 120.0, 90.0],
        };
        let a = pipeline.plan(7, 42, 3, source).unwrap();
        assert_eq!(a, pipeline.plan(7, 42, 3, source).unwrap());
        let differing = (0..20)
            .filter(|&copy| pipeline.plan(7, 42, copy, source).unwrap() != pipeline.plan(8, 42, copy, source).unwrap())
            .count();
        assert!(differing > 10);
    }
}
