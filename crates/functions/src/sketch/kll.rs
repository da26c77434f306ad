//! KLL quantile sketches of `bigint`, `float` and `double` values: `kll_sketch_agg_*(col [,
//! k])`, `kll_merge_agg_*(sketch [, k])`, `kll_sketch_merge_*(a, b)`, and the readers
//! `kll_sketch_get_n_*`, `kll_sketch_get_quantile_*(sketch, rank | array of ranks)`,
//! `kll_sketch_get_rank_*(sketch, value | array of values)` and `kll_sketch_to_string_*`.
//! Ranks and quantiles are inclusive, DataSketches' (and so Spark's) default; NaN is not
//! counted, as DataSketches Java ignores it.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float32Type, Float64Type, Int64Type};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datasketches::common::SearchCriteria;
use datasketches::kll::{KllFloat, KllSketch, KllValue};

use super::sketch_aggregate::{CheckTypes, NewSketcher, Sketcher, sketch_aggregate};
use super::{image, invalid_buffer, literal_argument, size_parameter, sketch_error};
use crate::row_function::{Evaluate, ReturnType, expect_binaries, row_function};

const DEFAULT_K: i64 = 200;
const K_RANGE: std::ops::RangeInclusive<i64> = 8..=65535;
const INVALID_BUFFER: &str = "KLL_SKETCH_INVALID_INPUT_SKETCH_BUFFER";

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    let mut all = item_functions::<i64>();
    all.extend(item_functions::<KllFloat<f32>>());
    all.extend(item_functions::<KllFloat<f64>>());
    all
}

pub fn aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    let mut all = item_aggregates::<i64>();
    all.extend(item_aggregates::<KllFloat<f32>>());
    all.extend(item_aggregates::<KllFloat<f64>>());
    all
}

/// An item type of a KLL sketch, with Spark's name for it.
trait Item: KllValue + Ord + Send + Sync + std::fmt::Debug + std::fmt::Display + 'static {
    const TYPE_NAME: &'static str;
    /// DataSketches Java's name for the sketch, in its summary text.
    const JAVA_NAME: &'static str;
    const ARROW: DataType;
    /// The column's items; null and NaN rows are `None`.
    fn column(array: &ArrayRef) -> Result<Vec<Option<Self>>>;
    fn from_scalar(value: &ScalarValue) -> Option<Self>;
    fn to_scalar(&self) -> ScalarValue;
}

impl Item for i64 {
    const TYPE_NAME: &'static str = "bigint";
    const JAVA_NAME: &'static str = "Longs";
    const ARROW: DataType = DataType::Int64;

    fn column(array: &ArrayRef) -> Result<Vec<Option<Self>>> {
        Ok(cast(array, &DataType::Int64)?
            .as_primitive::<Int64Type>()
            .iter()
            .collect())
    }

    fn from_scalar(value: &ScalarValue) -> Option<Self> {
        match value.cast_to(&DataType::Int64).ok()? {
            ScalarValue::Int64(v) => v,
            _ => None,
        }
    }

    fn to_scalar(&self) -> ScalarValue {
        ScalarValue::Int64(Some(*self))
    }
}

impl Item for KllFloat<f32> {
    const TYPE_NAME: &'static str = "float";
    const JAVA_NAME: &'static str = "Floats";
    const ARROW: DataType = DataType::Float32;

    fn column(array: &ArrayRef) -> Result<Vec<Option<Self>>> {
        Ok(cast(array, &DataType::Float32)?
            .as_primitive::<Float32Type>()
            .iter()
            .map(|v| v.and_then(|v| KllFloat::<f32>::new(v).ok()))
            .collect())
    }

    fn from_scalar(value: &ScalarValue) -> Option<Self> {
        match value.cast_to(&DataType::Float32).ok()? {
            ScalarValue::Float32(Some(v)) => KllFloat::<f32>::new(v).ok(),
            _ => None,
        }
    }

    fn to_scalar(&self) -> ScalarValue {
        ScalarValue::Float32(Some(**self))
    }
}

impl Item for KllFloat<f64> {
    const TYPE_NAME: &'static str = "double";
    const JAVA_NAME: &'static str = "Doubles";
    const ARROW: DataType = DataType::Float64;

    fn column(array: &ArrayRef) -> Result<Vec<Option<Self>>> {
        Ok(cast(array, &DataType::Float64)?
            .as_primitive::<Float64Type>()
            .iter()
            .map(|v| v.and_then(|v| KllFloat::<f64>::new(v).ok()))
            .collect())
    }

    fn from_scalar(value: &ScalarValue) -> Option<Self> {
        match value.cast_to(&DataType::Float64).ok()? {
            ScalarValue::Float64(Some(v)) => KllFloat::<f64>::new(v).ok(),
            _ => None,
        }
    }

    fn to_scalar(&self) -> ScalarValue {
        ScalarValue::Float64(Some(**self))
    }
}

/// A function name for the item type, made once when the catalog is built.
fn named<T: Item>(stem: &str) -> &'static str {
    Box::leak(format!("{stem}_{}", T::TYPE_NAME).into_boxed_str())
}

fn item_functions<T: Item>() -> Vec<Arc<ScalarUDF>> {
    let functions: [(&str, &[usize], ReturnType, Evaluate); 5] = [
        ("kll_sketch_get_n", &[1], returns_bigint, count::<T>),
        (
            "kll_sketch_to_string",
            &[1],
            returns_text,
            summary_text::<T>,
        ),
        ("kll_sketch_merge", &[2], two_sketches, merge::<T>),
        (
            "kll_sketch_get_quantile",
            &[2],
            quantile_type::<T>,
            quantile::<T>,
        ),
        ("kll_sketch_get_rank", &[2], rank_type, rank::<T>),
    ];
    functions
        .into_iter()
        .map(|(stem, arities, return_type, evaluate)| {
            row_function(named::<T>(stem), arities, return_type, evaluate)
        })
        .collect()
}

fn item_aggregates<T: Item>() -> Vec<Arc<AggregateUDF>> {
    let aggregates: [(&str, CheckTypes, NewSketcher); 2] = [
        ("kll_sketch_agg", numbers, new_sketcher::<T, false>),
        ("kll_merge_agg", one_sketch, new_sketcher::<T, true>),
    ];
    aggregates
        .into_iter()
        .map(|(stem, check, new)| sketch_aggregate(named::<T>(stem), &[1, 2], check, new))
        .collect()
}

fn returns_bigint(name: &str, types: &[DataType]) -> Result<DataType> {
    expect_binaries(name, types, 1)?;
    Ok(DataType::Int64)
}

fn returns_text(name: &str, types: &[DataType]) -> Result<DataType> {
    expect_binaries(name, types, 1)?;
    Ok(DataType::Utf8)
}

fn two_sketches(name: &str, types: &[DataType]) -> Result<DataType> {
    expect_binaries(name, types, 2)?;
    Ok(DataType::Binary)
}

fn list_of(t: DataType) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(t, true)))
}

/// An item (or, for an array of ranks, an array of items).
fn quantile_type<T: Item>(name: &str, types: &[DataType]) -> Result<DataType> {
    expect_binaries(name, types, 1)?;
    Ok(match types.get(1) {
        Some(DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..)) => {
            list_of(T::ARROW)
        }
        _ => T::ARROW,
    })
}

/// A rank (or, for an array of items, an array of ranks).
fn rank_type(name: &str, types: &[DataType]) -> Result<DataType> {
    expect_binaries(name, types, 1)?;
    Ok(match types.get(1) {
        Some(DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..)) => {
            list_of(DataType::Float64)
        }
        _ => DataType::Float64,
    })
}

fn one_sketch(name: &str, types: &[DataType]) -> Result<()> {
    expect_binaries(name, types, 1)
}

fn numbers(name: &str, types: &[DataType]) -> Result<()> {
    match types.first() {
        Some(t) if t.is_numeric() || t == &DataType::Null => Ok(()),
        Some(t) => plan_err!(
            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{name}` takes a numeric column, not {t}"
        ),
        None => plan_err!("`{name}` takes a column and an optional k"),
    }
}

fn read<T: Item>(name: &str, value: &ScalarValue) -> Result<KllSketch<T>> {
    deserialize(name, image(value).unwrap_or_default())
}

fn deserialize<T: Item>(name: &str, bytes: &[u8]) -> Result<KllSketch<T>> {
    KllSketch::deserialize(bytes).map_err(|e| invalid_buffer(INVALID_BUFFER, name, e))
}

fn count<T: Item>(name: &str, args: &[ScalarValue]) -> Result<ScalarValue> {
    let n = read::<T>(name, &args[0])?.n();
    Ok(ScalarValue::Int64(Some(
        i64::try_from(n).unwrap_or(i64::MAX),
    )))
}

/// A summary in the shape of DataSketches Java's `toString()`.
fn summary_text<T: Item>(name: &str, args: &[ScalarValue]) -> Result<ScalarValue> {
    let sketch = read::<T>(name, &args[0])?;
    let item = |v: Option<&T>| v.map_or_else(|| "NaN".to_string(), |v| v.to_string());
    let text = format!(
        "### Kll {java} Sketch summary:\n   K              : {k}\n   Dynamic min K  : {min_k}\n   N              : {n}\n   Epsilon        : {eps:.3}%\n   Epsilon PMF    : {eps_pmf:.3}%\n   Estimation mode: {estimation}\n   Retained Items : {retained}\n   Min Item       : {min}\n   Max Item       : {max}\n### End sketch summary\n",
        java = T::JAVA_NAME,
        k = sketch.k(),
        min_k = sketch.min_k(),
        n = sketch.n(),
        eps = sketch.normalized_rank_error() * 100.0,
        eps_pmf = sketch.normalized_pmf_error() * 100.0,
        estimation = sketch.is_estimation_mode(),
        retained = sketch.num_retained(),
        min = item(sketch.min_item()),
        max = item(sketch.max_item()),
    );
    Ok(ScalarValue::Utf8(Some(text)))
}

fn merge<T: Item>(name: &str, args: &[ScalarValue]) -> Result<ScalarValue> {
    let mut a = read::<T>(name, &args[0])?;
    let b = read::<T>(name, &args[1])?;
    a.merge(&b)
        .map_err(|e| invalid_buffer(INVALID_BUFFER, name, e))?;
    Ok(ScalarValue::Binary(Some(a.serialize())))
}

/// Applies `one` to a scalar argument, or to each element of an array argument.
fn each_or_all(
    value: &ScalarValue,
    element: &DataType,
    mut one: impl FnMut(&ScalarValue) -> Result<ScalarValue>,
) -> Result<ScalarValue> {
    match value {
        ScalarValue::List(list) => {
            let mut out = Vec::new();
            for row in 0..list.value_length(0) as usize {
                let item = ScalarValue::try_from_array(&list.value(0), row)?;
                out.push(if item.is_null() {
                    ScalarValue::try_from(element)?
                } else {
                    one(&item)?
                });
            }
            Ok(ScalarValue::List(ScalarValue::new_list_nullable(
                &out, element,
            )))
        }
        other => one(other),
    }
}

fn quantile<T: Item>(name: &str, args: &[ScalarValue]) -> Result<ScalarValue> {
    let sketch = read::<T>(name, &args[0])?;
    each_or_all(&args[1], &T::ARROW, |rank| {
        let Some(rank) = rank.cast_to(&DataType::Float64).ok().and_then(|r| match r {
            ScalarValue::Float64(Some(r)) => Some(r),
            _ => None,
        }) else {
            return plan_err!("the rank of `{name}` must be a number from 0 to 1");
        };
        if !(0.0..=1.0).contains(&rank) {
            return Err(sketch_error(
                "KLL_SKETCH_INVALID_QUANTILE_RANGE",
                format!("Invalid call to `{name}`; the rank must be between 0 and 1, got {rank}."),
            ));
        }
        match sketch
            .quantile(rank, SearchCriteria::Inclusive)
            .map_err(|e| sketch_error("KLL_SKETCH_INVALID_QUANTILE_RANGE", e))?
        {
            Some(item) => Ok(item.to_scalar()),
            None => ScalarValue::try_from(&T::ARROW),
        }
    })
}

fn rank<T: Item>(name: &str, args: &[ScalarValue]) -> Result<ScalarValue> {
    let sketch = read::<T>(name, &args[0])?;
    each_or_all(&args[1], &DataType::Float64, |value| {
        let Some(item) = T::from_scalar(value) else {
            return plan_err!("the value of `{name}` must be a {} value", T::TYPE_NAME);
        };
        Ok(ScalarValue::Float64(
            sketch.rank(&item, SearchCriteria::Inclusive),
        ))
    })
}

fn new_sketcher<T: Item, const MERGES: bool>(
    name: &str,
    args: &AccumulatorArgs,
) -> Result<Box<dyn Sketcher>> {
    let k = size_parameter(
        literal_argument(args.exprs, 1),
        args.exprs.len() > 1,
        DEFAULT_K,
        K_RANGE,
        "KLL_SKETCH_INVALID_K",
        name,
    )?;
    let sketch =
        KllSketch::<T>::new(k as u16).map_err(|e| sketch_error("KLL_SKETCH_INVALID_K", e))?;
    Ok(Box::new(KllSketcher {
        name: name.to_string(),
        rows_are_sketches: MERGES,
        sketch,
    }))
}

/// `kll_sketch_agg_*` (rows are items) and `kll_merge_agg_*` (rows are sketches).
#[derive(Debug)]
struct KllSketcher<T: Item> {
    name: String,
    rows_are_sketches: bool,
    sketch: KllSketch<T>,
}

impl<T: Item> Sketcher for KllSketcher<T> {
    fn update(&mut self, args: &[ArrayRef]) -> Result<()> {
        let Some(values) = args.first() else {
            return Ok(());
        };
        if self.rows_are_sketches {
            self.merge_column(values)?;
        } else {
            for item in T::column(values)?.into_iter().flatten() {
                self.sketch.update(item);
            }
        }
        Ok(())
    }

    fn merge(&mut self, bytes: &[u8]) -> Result<()> {
        let other = deserialize::<T>(&self.name, bytes)?;
        self.sketch
            .merge(&other)
            .map_err(|e| invalid_buffer(INVALID_BUFFER, &self.name, e))
    }

    fn image(&self) -> Result<Option<Vec<u8>>> {
        Ok(Some(self.sketch.serialize()))
    }

    fn size(&self) -> usize {
        self.sketch.num_retained() * std::mem::size_of::<T>()
    }
}
