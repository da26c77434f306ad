//! HyperLogLog sketches: `hll_sketch_agg(col [, lgConfigK])`, `hll_union_agg(sketch [,
//! allowDifferentLgConfigK])`, `hll_union(a, b [, allowDifferentLgConfigK])` and
//! `hll_sketch_estimate(sketch)`. As in Spark, sketches are `HLL_8` images and the estimate
//! is rounded to a `bigint`.

use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datasketches::hll::{HllSketch, HllType, HllUnion};

use super::sketch_aggregate::{Sketcher, sketch_aggregate};
use super::{
    KeyKinds, for_each_key, image, invalid_buffer, literal_argument, size_parameter, sketch_error,
};
use crate::row_function::{expect_binaries, row_function};

const DEFAULT_LG_K: i64 = 12;
const LG_K_RANGE: std::ops::RangeInclusive<i64> = 4..=21;
const INVALID_BUFFER: &str = "HLL_INVALID_INPUT_SKETCH_BUFFER";

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        row_function(
            "hll_sketch_estimate",
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
        row_function(
            "hll_union",
            &[2, 3],
            |name, types| {
                expect_binaries(name, types, 2)?;
                Ok(DataType::Binary)
            },
            |name, args| {
                let (a, b) = (read(name, &args[0])?, read(name, &args[1])?);
                let allow_different = matches!(args.get(2), Some(ScalarValue::Boolean(Some(true))));
                check_same_lg_k(name, allow_different, a.lg_config_k(), b.lg_config_k())?;
                let mut union = HllUnion::new(a.lg_config_k().min(b.lg_config_k()))
                    .map_err(|e| sketch_error("HLL_INVALID_LG_K", e))?;
                union.update(&a);
                union.update(&b);
                Ok(ScalarValue::Binary(Some(
                    union.to_sketch(HllType::Hll8).serialize(),
                )))
            },
        ),
    ]
}

pub fn aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    vec![
        sketch_aggregate(
            "hll_sketch_agg",
            &[1, 2],
            |name, types| match types.first() {
                Some(t) if KeyKinds::IntegersTextBinary.accepts(t) => Ok(()),
                Some(t) => plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{name}` takes an integer, string or binary column, not {t}"
                ),
                None => plan_err!("`{name}` takes a column and an optional lgConfigK"),
            },
            new_hll_sketcher,
        ),
        sketch_aggregate(
            "hll_union_agg",
            &[1, 2],
            |name, types| expect_binaries(name, types, 1),
            |_, args| {
                let allow_different = matches!(
                    literal_argument(args.exprs, 1),
                    Some(ScalarValue::Boolean(Some(true)))
                );
                Ok(Box::new(HllUnionSketcher {
                    allow_different,
                    union: None,
                }))
            },
        ),
    ]
}

fn new_hll_sketcher(name: &str, args: &AccumulatorArgs) -> Result<Box<dyn Sketcher>> {
    let lg_k = size_parameter(
        literal_argument(args.exprs, 1),
        args.exprs.len() > 1,
        DEFAULT_LG_K,
        LG_K_RANGE,
        "HLL_INVALID_LG_K",
        name,
    )?;
    let union = HllUnion::new(lg_k as u8).map_err(|e| sketch_error("HLL_INVALID_LG_K", e))?;
    Ok(Box::new(HllSketcher { union }))
}

fn read(name: &str, value: &ScalarValue) -> Result<HllSketch> {
    let bytes = image(value).unwrap_or_default();
    HllSketch::deserialize(bytes).map_err(|e| invalid_buffer(INVALID_BUFFER, name, e))
}

fn check_same_lg_k(name: &str, allow_different: bool, a: u8, b: u8) -> Result<()> {
    if allow_different || a == b {
        Ok(())
    } else {
        Err(sketch_error(
            "HLL_UNION_DIFFERENT_LG_K",
            format!(
                "Sketches have different lgConfigK values: {a} and {b}. Set the allowDifferentLgConfigK parameter of `{name}` to true to allow it."
            ),
        ))
    }
}

/// `hll_sketch_agg`: a union, so rows and partial sketches go into the same gadget.
#[derive(Debug)]
struct HllSketcher {
    union: HllUnion,
}

impl Sketcher for HllSketcher {
    fn update(&mut self, args: &[ArrayRef]) -> Result<()> {
        if let Some(values) = args.first() {
            for_each_key(values, |_, key| self.union.update_value(key))?;
        }
        Ok(())
    }

    fn merge(&mut self, bytes: &[u8]) -> Result<()> {
        let sketch = HllSketch::deserialize(bytes)
            .map_err(|e| invalid_buffer(INVALID_BUFFER, "hll_sketch_agg", e))?;
        self.union.update(&sketch);
        Ok(())
    }

    fn image(&self) -> Result<Option<Vec<u8>>> {
        Ok(Some(self.union.to_sketch(HllType::Hll8).serialize()))
    }

    fn size(&self) -> usize {
        self.union.estimated_size()
    }
}

/// `hll_union_agg`: the union takes the first sketch's lgConfigK, or with
/// `allowDifferentLgConfigK` the smallest it meets.
#[derive(Debug)]
struct HllUnionSketcher {
    allow_different: bool,
    union: Option<HllUnion>,
}

impl HllUnionSketcher {
    fn add(&mut self, sketch: &HllSketch) -> Result<()> {
        let union = match &mut self.union {
            Some(union) => {
                check_same_lg_k(
                    "hll_union_agg",
                    self.allow_different,
                    union.lg_config_k(),
                    sketch.lg_config_k(),
                )?;
                union
            }
            None => {
                let lg_max_k = if self.allow_different {
                    *LG_K_RANGE.end() as u8
                } else {
                    sketch.lg_config_k()
                };
                self.union.insert(
                    HllUnion::new(lg_max_k).map_err(|e| sketch_error("HLL_INVALID_LG_K", e))?,
                )
            }
        };
        union.update(sketch);
        Ok(())
    }
}

impl Sketcher for HllUnionSketcher {
    fn update(&mut self, args: &[ArrayRef]) -> Result<()> {
        if let Some(sketches) = args.first() {
            self.merge_column(sketches)?;
        }
        Ok(())
    }

    fn merge(&mut self, bytes: &[u8]) -> Result<()> {
        let sketch = HllSketch::deserialize(bytes)
            .map_err(|e| invalid_buffer(INVALID_BUFFER, "hll_union_agg", e))?;
        self.add(&sketch)
    }

    fn image(&self) -> Result<Option<Vec<u8>>> {
        let union = match &self.union {
            Some(union) => union,
            None => &HllUnion::new(DEFAULT_LG_K as u8)
                .map_err(|e| sketch_error("HLL_INVALID_LG_K", e))?,
        };
        Ok(Some(union.to_sketch(HllType::Hll8).serialize()))
    }

    fn size(&self) -> usize {
        self.union.as_ref().map_or(0, HllUnion::estimated_size)
    }
}
