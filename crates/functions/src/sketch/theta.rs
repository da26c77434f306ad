//! Theta sketches: `theta_sketch_agg(col [, lgNomEntries])`, `theta_union_agg(sketch [,
//! lgNomEntries])`, `theta_intersection_agg(sketch)`, the set operations `theta_union`,
//! `theta_intersection` and `theta_difference`, and `theta_sketch_estimate` (rounded to a
//! `bigint`, as Spark's). Results are ordered compact sketch images.

use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datasketches::theta::{
    CompactThetaSketch, ThetaANotB, ThetaIntersection, ThetaSketch, ThetaSketchBuilder,
    ThetaUnionBuilder,
};

use super::sketch_aggregate::{Sketcher, sketch_aggregate};
use super::{
    KeyKinds, for_each_key, image, invalid_buffer, literal_argument, size_parameter, sketch_error,
};
use crate::row_function::{expect_binaries, row_function};

pub(super) const DEFAULT_LG_NOM_ENTRIES: i64 = 12;
pub(super) const LG_NOM_ENTRIES_RANGE: std::ops::RangeInclusive<i64> = 4..=26;
pub(super) const INVALID_LG_NOM_ENTRIES: &str = "SKETCH_INVALID_LG_NOM_ENTRIES";
const INVALID_BUFFER: &str = "THETA_INVALID_INPUT_SKETCH_BUFFER";

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    let two_sketches = |name: &str, types: &[DataType]| {
        expect_binaries(name, types, 2)?;
        Ok(DataType::Binary)
    };
    vec![
        row_function(
            "theta_sketch_estimate",
            &[1],
            |name, types| {
                expect_binaries(name, types, 1)?;
                Ok(DataType::Int64)
            },
            |name, args| {
                let sketch = read(name, &args[0])?;
                Ok(ScalarValue::Int64(Some(sketch.estimate().round() as i64)))
            },
        ),
        row_function("theta_union", &[2, 3], two_sketches, |name, args| {
            let lg_k = lg_nom_entries(name, args.get(2))?;
            let mut union = union_builder(lg_k)?;
            union.update(&read(name, &args[0])?).map_err(failed(name))?;
            union.update(&read(name, &args[1])?).map_err(failed(name))?;
            Ok(binary(&union.to_sketch(true)))
        }),
        row_function("theta_intersection", &[2], two_sketches, |name, args| {
            let mut intersection = ThetaIntersection::default();
            intersection
                .update(&read(name, &args[0])?)
                .map_err(failed(name))?;
            intersection
                .update(&read(name, &args[1])?)
                .map_err(failed(name))?;
            match intersection.to_sketch(true) {
                Some(sketch) => Ok(binary(&sketch)),
                None => Ok(binary(&empty()?)),
            }
        }),
        row_function("theta_difference", &[2], two_sketches, |name, args| {
            let (a, b) = (read(name, &args[0])?, read(name, &args[1])?);
            let difference = ThetaANotB::default()
                .compute(&a, &b, true)
                .map_err(failed(name))?;
            Ok(binary(&difference))
        }),
    ]
}

pub fn aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    vec![
        sketch_aggregate(
            "theta_sketch_agg",
            &[1, 2],
            |name, types| match types.first() {
                Some(t) if KeyKinds::NumbersTextBinary.accepts(t) => Ok(()),
                Some(t) => plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{name}` takes a number, string or binary column, not {t}"
                ),
                None => plan_err!("`{name}` takes a column and an optional lgNomEntries"),
            },
            |name, args| new_theta_sketcher(name, args, false),
        ),
        sketch_aggregate(
            "theta_union_agg",
            &[1, 2],
            |name, types| expect_binaries(name, types, 1),
            |name, args| new_theta_sketcher(name, args, true),
        ),
        sketch_aggregate(
            "theta_intersection_agg",
            &[1],
            |name, types| expect_binaries(name, types, 1),
            |_, _| {
                Ok(Box::new(ThetaIntersectionSketcher {
                    intersection: ThetaIntersection::default(),
                }))
            },
        ),
    ]
}

/// `theta_sketch_agg` (rows are values) or `theta_union_agg` (rows are sketches).
fn new_theta_sketcher(
    name: &str,
    args: &AccumulatorArgs,
    rows_are_sketches: bool,
) -> Result<Box<dyn Sketcher>> {
    let lg_k = aggregate_lg_nom_entries(name, args, 1)?;
    let sketch = ThetaSketchBuilder::default()
        .lg_k(lg_k)
        .build()
        .map_err(|e| sketch_error(INVALID_LG_NOM_ENTRIES, e))?;
    Ok(Box::new(ThetaSketcher {
        lg_k,
        rows_are_sketches,
        sketch,
        merged: None,
    }))
}

/// The constant `lgNomEntries` argument of an aggregate at `at`, 12 when absent; a value
/// that is not a constant integer is an error, not the default.
pub(super) fn aggregate_lg_nom_entries(
    name: &str,
    args: &AccumulatorArgs,
    at: usize,
) -> Result<u8> {
    lg_nom_entries_of(
        name,
        literal_argument(args.exprs, at),
        args.exprs.len() > at,
    )
}

/// The `lgNomEntries` argument of a scalar set operation, 12 when absent.
pub(super) fn lg_nom_entries(name: &str, value: Option<&ScalarValue>) -> Result<u8> {
    lg_nom_entries_of(name, value, value.is_some())
}

fn lg_nom_entries_of(name: &str, value: Option<&ScalarValue>, present: bool) -> Result<u8> {
    let lg = size_parameter(
        value,
        present,
        DEFAULT_LG_NOM_ENTRIES,
        LG_NOM_ENTRIES_RANGE,
        INVALID_LG_NOM_ENTRIES,
        name,
    )?;
    Ok(lg as u8)
}

fn union_builder(lg_k: u8) -> Result<datasketches::theta::ThetaUnion> {
    ThetaUnionBuilder::default()
        .lg_k(lg_k)
        .build()
        .map_err(|e| sketch_error(INVALID_LG_NOM_ENTRIES, e))
}

fn failed(name: &str) -> impl Fn(datasketches::error::Error) -> datafusion::error::DataFusionError {
    move |e| invalid_buffer(INVALID_BUFFER, name, e)
}

fn binary(sketch: &CompactThetaSketch) -> ScalarValue {
    ScalarValue::Binary(Some(sketch.serialize()))
}

fn empty() -> Result<CompactThetaSketch> {
    let sketch = ThetaSketchBuilder::default()
        .build()
        .map_err(|e| sketch_error(INVALID_LG_NOM_ENTRIES, e))?;
    Ok(sketch.compact(true))
}

/// A theta sketch image, from a scalar function's argument.
pub(super) fn read(name: &str, value: &ScalarValue) -> Result<CompactThetaSketch> {
    deserialize(name, image(value).unwrap_or_default())
}

fn deserialize(name: &str, bytes: &[u8]) -> Result<CompactThetaSketch> {
    CompactThetaSketch::deserialize(bytes).map_err(failed(name))
}

/// `theta_sketch_agg` (rows into `sketch`) and `theta_union_agg` (sketches): partial and
/// input sketches are unioned into `merged`.
#[derive(Debug)]
struct ThetaSketcher {
    lg_k: u8,
    /// `theta_union_agg`'s rows are sketches; `theta_sketch_agg`'s are values.
    rows_are_sketches: bool,
    sketch: ThetaSketch,
    merged: Option<CompactThetaSketch>,
}

impl ThetaSketcher {
    fn result(&self) -> Result<CompactThetaSketch> {
        let Some(merged) = &self.merged else {
            return Ok(self.sketch.compact(true));
        };
        let mut union = union_builder(self.lg_k)?;
        union.update(&self.sketch).map_err(failed("theta_union"))?;
        union.update(merged).map_err(failed("theta_union"))?;
        Ok(union.to_sketch(true))
    }
}

impl Sketcher for ThetaSketcher {
    fn update(&mut self, args: &[ArrayRef]) -> Result<()> {
        let Some(values) = args.first() else {
            return Ok(());
        };
        if self.rows_are_sketches {
            self.merge_column(values)?;
            Ok(())
        } else {
            for_each_key(values, |_, key| self.sketch.update(key))
        }
    }

    fn merge(&mut self, bytes: &[u8]) -> Result<()> {
        let other = deserialize("theta_union_agg", bytes)?;
        let merged = match self.merged.take() {
            None => other,
            Some(merged) => {
                let mut union = union_builder(self.lg_k)?;
                union.update(&merged).map_err(failed("theta_union_agg"))?;
                union.update(&other).map_err(failed("theta_union_agg"))?;
                union.to_sketch(true)
            }
        };
        self.merged = Some(merged);
        Ok(())
    }

    fn image(&self) -> Result<Option<Vec<u8>>> {
        Ok(Some(self.result()?.serialize()))
    }

    fn size(&self) -> usize {
        self.sketch.estimated_size() + self.merged.as_ref().map_or(0, |m| m.estimated_size())
    }
}

/// `theta_intersection_agg`: with no sketch yet, the intersection is everything, and its
/// partial state is null.
#[derive(Debug)]
struct ThetaIntersectionSketcher {
    intersection: ThetaIntersection,
}

impl Sketcher for ThetaIntersectionSketcher {
    fn update(&mut self, args: &[ArrayRef]) -> Result<()> {
        if let Some(sketches) = args.first() {
            self.merge_column(sketches)?;
        }
        Ok(())
    }

    fn merge(&mut self, bytes: &[u8]) -> Result<()> {
        let sketch = deserialize("theta_intersection_agg", bytes)?;
        self.intersection
            .update(&sketch)
            .map_err(failed("theta_intersection_agg"))
    }

    fn image(&self) -> Result<Option<Vec<u8>>> {
        Ok(self.intersection.to_sketch(true).map(|s| s.serialize()))
    }

    fn identity_image(&self) -> Result<Vec<u8>> {
        Ok(empty()?.serialize())
    }

    fn size(&self) -> usize {
        self.intersection.estimated_size()
    }
}
