//! A numeric range as written in pipeline files: `x` or `[low, high]`.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// A range of values, written as one number or a `[low, high]` pair.
///
/// What a single number means depends on the parameter (for example
/// `angle = 30` means `[-30, 30]`), so the operation resolves it with
/// [`Range::symmetric`], [`Range::around_one`] or [`Range::exact`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    /// One number.
    Scalar(f64),
    /// An explicit `[low, high]` pair.
    Pair(f64, f64),
}

impl Range {
    /// `x` means `[-x, x]`.
    pub fn symmetric(self) -> (f64, f64) {
        match self {
            Range::Scalar(x) => (-x.abs(), x.abs()),
            Range::Pair(a, b) => (a, b),
        }
    }

    /// `x` means `[1 - x, 1 + x]`, floored at 0.
    pub fn around_one(self) -> (f64, f64) {
        match self {
            Range::Scalar(x) => ((1.0 - x).max(0.0), 1.0 + x),
            Range::Pair(a, b) => (a, b),
        }
    }

    /// `x` means `[x, x]`.
    pub fn exact(self) -> (f64, f64) {
        match self {
            Range::Scalar(x) => (x, x),
            Range::Pair(a, b) => (a, b),
        }
    }
}

/// Checks a resolved range: finite, ordered and within `[min, max]`.
pub(crate) fn check_range(
    field: &'static str,
    (low, high): (f64, f64),
    min: f64,
    max: f64,
    unit: &str,
) -> Result<(), super::InvalidParam> {
    if !low.is_finite() || !high.is_finite() {
        return Err(super::InvalidParam::new(field, "must be a finite number"));
    }
    if low > high {
        return Err(super::InvalidParam::new(
            field,
            format!("[{low}, {high}] has low above high; write [low, high]"),
        ));
    }
    if low < min || high > max {
        return Err(super::InvalidParam::new(
            field,
            format!("[{low}, {high}] is out of range; allowed: {min} to {max}{unit}"),
        ));
    }
    Ok(())
}

impl Serialize for Range {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            Range::Scalar(x) => serializer.serialize_f64(x),
            Range::Pair(a, b) => [a, b].serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Range {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RangeVisitor;

        impl<'de> Visitor<'de> for RangeVisitor {
            type Value = Range;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a [low, high] pair of numbers")
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Range, E> {
                Ok(Range::Scalar(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Range, E> {
                Ok(Range::Scalar(v as f64))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Range, E> {
                Ok(Range::Scalar(v as f64))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Range, A::Error> {
                let low: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let high: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                if seq.next_element::<f64>()?.is_some() {
                    return Err(de::Error::invalid_length(3, &self));
                }
                Ok(Range::Pair(low, high))
            }
        }

        deserializer.deserialize_any(RangeVisitor)
    }
}
