//! Tuple sketches with a `double` or `integer` summary per key: `tuple_sketch_agg_*(key,
//! summary [, lgNomEntries [, mode]])`, `tuple_union_agg_*`, `tuple_intersection_agg_*`,
//! the set operations `tuple_union_*`, `tuple_intersection_*` and `tuple_difference_*` (also
//! against a Theta sketch, `*_theta_*`, whose keys get the mode's default summary), and the
//! readers `tuple_sketch_estimate_*`, `tuple_sketch_summary_*` and `tuple_sketch_theta_*`.
//!
//! The mode (`sum`, `min`, `max` or `alwaysone`, default `sum`) says how summaries of one key
//! combine, as DataSketches Java's `DoubleSummary`/`IntegerSummary` modes do; the summaries
//! are stored as Java stores them (an 8-byte double, a 4-byte int).

use std::marker::PhantomData;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int32Type};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datasketches::tuple::{
    CompactTupleSketch, SummaryCombinePolicy, SummaryPolicy, SummaryUpdatePolicy, TupleANotB,
    TupleIntersection, TupleSketch, TupleSketchBuilder, TupleSummaryValue, TupleUnion,
    TupleUnionBuilder,
};

use super::sketch_aggregate::{CheckTypes, NewSketcher, Sketcher, sketch_aggregate};
use super::theta::{INVALID_LG_NOM_ENTRIES, aggregate_lg_nom_entries, lg_nom_entries};
use super::{
    KeyKinds, for_each_key, image, invalid_buffer, literal_argument, sketch_error, text_value,
};
use crate::row_function::{Evaluate, ReturnType, expect_binaries, row_function};

const INVALID_BUFFER: &str = "TUPLE_INVALID_INPUT_SKETCH_BUFFER";

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    let mut all = summary_functions::<f64>();
    all.extend(summary_functions::<i32>());
    all
}

pub fn aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    let mut all = summary_aggregates::<f64>();
    all.extend(summary_aggregates::<i32>());
    all
}

/// A summary type: Spark's `double` and `integer` tuple sketches.
trait Number: Copy + PartialOrd + Send + Sync + std::fmt::Debug + TupleSummaryValue + 'static {
    /// The suffix of the functions' names.
    const TYPE_NAME: &'static str;
    const ZERO: Self;
    const ONE: Self;
    const LOWEST: Self;
    const HIGHEST: Self;
    /// Sum that wraps as Java's `int` does.
    fn plus(self, other: Self) -> Self;
    /// The summary column's values.
    fn column(array: &ArrayRef) -> Result<Vec<Option<Self>>>;
    /// `tuple_sketch_summary_*`'s result (Spark: `double`, or `bigint` for integers).
    fn total(self) -> ScalarValue;
    const TOTAL_TYPE: DataType;
}

impl Number for f64 {
    const TYPE_NAME: &'static str = "double";
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    const LOWEST: Self = f64::NEG_INFINITY;
    const HIGHEST: Self = f64::INFINITY;
    const TOTAL_TYPE: DataType = DataType::Float64;

    fn plus(self, other: Self) -> Self {
        self + other
    }

    fn column(array: &ArrayRef) -> Result<Vec<Option<Self>>> {
        Ok(cast(array, &DataType::Float64)?
            .as_primitive::<Float64Type>()
            .iter()
            .collect())
    }

    fn total(self) -> ScalarValue {
        ScalarValue::Float64(Some(self))
    }
}

impl Number for i32 {
    const TYPE_NAME: &'static str = "integer";
    const ZERO: Self = 0;
    const ONE: Self = 1;
    const LOWEST: Self = i32::MIN;
    const HIGHEST: Self = i32::MAX;
    const TOTAL_TYPE: DataType = DataType::Int64;

    fn plus(self, other: Self) -> Self {
        self.wrapping_add(other)
    }

    fn column(array: &ArrayRef) -> Result<Vec<Option<Self>>> {
        Ok(cast(array, &DataType::Int32)?
            .as_primitive::<Int32Type>()
            .iter()
            .collect())
    }

    fn total(self) -> ScalarValue {
        ScalarValue::Int64(Some(i64::from(self)))
    }
}

/// How summaries of one key combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Sum,
    Min,
    Max,
    AlwaysOne,
}

impl Mode {
    fn parse(name: &str, value: Option<&ScalarValue>) -> Result<Self> {
        let Some(value) = value else {
            return Ok(Mode::Sum);
        };
        match text_value(value) {
            Some("sum") => Ok(Mode::Sum),
            Some("min") => Ok(Mode::Min),
            Some("max") => Ok(Mode::Max),
            Some("alwaysone") => Ok(Mode::AlwaysOne),
            _ => Err(sketch_error(
                "TUPLE_INVALID_SKETCH_MODE",
                format!(
                    "Invalid call to `{name}`; the mode must be a constant 'sum', 'min', 'max' or 'alwaysone', got {value}."
                ),
            )),
        }
    }

    fn apply<N: Number>(self, summary: &mut N, value: N) {
        *summary = match self {
            Mode::Sum => summary.plus(value),
            Mode::Min if value < *summary => value,
            Mode::Max if value > *summary => value,
            Mode::Min | Mode::Max => *summary,
            Mode::AlwaysOne => N::ONE,
        };
    }
}

/// The DataSketches policy for one mode: the new summary, updates and merges.
#[derive(Debug, Clone, Copy)]
struct ModePolicy<N> {
    mode: Mode,
    number: PhantomData<N>,
}

impl<N: Number> ModePolicy<N> {
    fn new(mode: Mode) -> Self {
        Self {
            mode,
            number: PhantomData,
        }
    }
}

impl<N: Number> SummaryPolicy for ModePolicy<N> {
    type Summary = N;

    fn create(&self) -> N {
        match self.mode {
            Mode::Sum => N::ZERO,
            Mode::Min => N::HIGHEST,
            Mode::Max => N::LOWEST,
            Mode::AlwaysOne => N::ONE,
        }
    }
}

impl<N: Number> SummaryUpdatePolicy<N> for ModePolicy<N> {
    fn update(&self, summary: &mut N, value: N) {
        self.mode.apply(summary, value);
    }
}

impl<N: Number> SummaryCombinePolicy for ModePolicy<N> {
    fn combine(&self, summary: &mut N, other: &N) {
        self.mode.apply(summary, *other);
    }
}

/// A function name for the summary type, made once when the catalog is built.
fn named<N: Number>(stem: &str) -> &'static str {
    Box::leak(format!("{stem}_{}", N::TYPE_NAME).into_boxed_str())
}

fn summary_functions<N: Number>() -> Vec<Arc<ScalarUDF>> {
    let functions: [(&str, &[usize], ReturnType, Evaluate); 9] = [
        ("tuple_sketch_estimate", &[1], returns_double, estimate::<N>),
        ("tuple_sketch_theta", &[1], returns_double, theta::<N>),
        (
            "tuple_sketch_summary",
            &[1, 2],
            returns_total::<N>,
            summary::<N>,
        ),
        ("tuple_union", &[2, 3, 4], two_sketches, union::<N, false>),
        (
            "tuple_union_theta",
            &[2, 3, 4],
            two_sketches,
            union::<N, true>,
        ),
        (
            "tuple_intersection",
            &[2, 3],
            two_sketches,
            intersection::<N, false>,
        ),
        (
            "tuple_intersection_theta",
            &[2, 3],
            two_sketches,
            intersection::<N, true>,
        ),
        (
            "tuple_difference",
            &[2],
            two_sketches,
            difference::<N, false>,
        ),
        (
            "tuple_difference_theta",
            &[2],
            two_sketches,
            difference::<N, true>,
        ),
    ];
    functions
        .into_iter()
        .map(|(stem, arities, return_type, evaluate)| {
            row_function(named::<N>(stem), arities, return_type, evaluate)
        })
        .collect()
}

fn summary_aggregates<N: Number>() -> Vec<Arc<AggregateUDF>> {
    let aggregates: [(&str, &[usize], CheckTypes, NewSketcher); 3] = [
        (
            "tuple_sketch_agg",
            &[2, 3, 4],
            keys_and_summaries,
            new_sketch_sketcher::<N>,
        ),
        (
            "tuple_union_agg",
            &[1, 2, 3],
            one_sketch,
            new_union_sketcher::<N>,
        ),
        (
            "tuple_intersection_agg",
            &[1, 2],
            one_sketch,
            new_intersection_sketcher::<N>,
        ),
    ];
    aggregates
        .into_iter()
        .map(|(stem, arities, check, new)| sketch_aggregate(named::<N>(stem), arities, check, new))
        .collect()
}

fn returns_double(name: &str, types: &[DataType]) -> Result<DataType> {
    expect_binaries(name, types, 1)?;
    Ok(DataType::Float64)
}

fn returns_total<N: Number>(name: &str, types: &[DataType]) -> Result<DataType> {
    expect_binaries(name, types, 1)?;
    Ok(N::TOTAL_TYPE)
}

fn two_sketches(name: &str, types: &[DataType]) -> Result<DataType> {
    expect_binaries(name, types, 2)?;
    Ok(DataType::Binary)
}

fn one_sketch(name: &str, types: &[DataType]) -> Result<()> {
    expect_binaries(name, types, 1)
}

fn keys_and_summaries(name: &str, types: &[DataType]) -> Result<()> {
    match types {
        [key, summary, ..] if KeyKinds::NumbersTextBinary.accepts(key) => {
            if summary.is_numeric() || summary == &DataType::Null {
                Ok(())
            } else {
                plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] the summary of `{name}` must be a number, not {summary}"
                )
            }
        }
        [key, ..] => plan_err!(
            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{name}` takes a number, string or binary key, not {key}"
        ),
        _ => plan_err!("`{name}` takes a key and a summary column"),
    }
}

fn read<N: Number>(name: &str, value: &ScalarValue) -> Result<CompactTupleSketch<N>> {
    deserialize(name, image(value).unwrap_or_default())
}

fn deserialize<N: Number>(name: &str, bytes: &[u8]) -> Result<CompactTupleSketch<N>> {
    CompactTupleSketch::deserialize(bytes).map_err(|e| invalid_buffer(INVALID_BUFFER, name, e))
}

/// A Theta sketch argument as a tuple sketch whose keys carry the mode's new summary: the
/// compact Tuple image is the Theta one with a summary after each hash.
fn theta_as_tuple<N: Number>(
    name: &str,
    value: &ScalarValue,
    policy: &ModePolicy<N>,
) -> Result<CompactTupleSketch<N>> {
    let theta = super::theta::read(name, value)?;
    if theta.is_empty() {
        return Ok(empty_sketch(policy)?.compact(true));
    }
    let mut hashes: Vec<u64> = theta.iter().map(|e| e.hash()).collect();
    hashes.sort_unstable();
    let default = policy.create();
    let mut bytes = vec![3, 3, 9, 1, 0, FLAGS_READ_ONLY_COMPACT_ORDERED];
    bytes.extend_from_slice(&theta.seed_hash().to_le_bytes());
    bytes.extend_from_slice(&(hashes.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes());
    bytes.extend_from_slice(&theta.theta64().to_le_bytes());
    let mut summary = datasketches::codec::SketchBytes::with_capacity(default.serialize_size());
    default.serialize_value(&mut summary);
    let summary = summary.into_bytes();
    for hash in hashes {
        bytes.extend_from_slice(&hash.to_le_bytes());
        bytes.extend_from_slice(&summary);
    }
    deserialize(name, &bytes)
}

/// The compact-image flags of DataSketches: read-only (2), compact (8), ordered (16).
const FLAGS_READ_ONLY_COMPACT_ORDERED: u8 = 2 | 8 | 16;

fn empty_sketch<N: Number>(policy: &ModePolicy<N>) -> Result<TupleSketch<ModePolicy<N>>> {
    TupleSketchBuilder::new(*policy)
        .build()
        .map_err(|e| sketch_error(INVALID_LG_NOM_ENTRIES, e))
}

fn union_of<N: Number>(lg_k: u8, mode: Mode) -> Result<TupleUnion<ModePolicy<N>>> {
    TupleUnionBuilder::new(ModePolicy::new(mode))
        .lg_k(lg_k)
        .build()
        .map_err(|e| sketch_error(INVALID_LG_NOM_ENTRIES, e))
}

fn binary<N: Number>(sketch: &CompactTupleSketch<N>) -> ScalarValue {
    ScalarValue::Binary(Some(sketch.serialize()))
}

fn estimate<N: Number>(name: &str, args: &[ScalarValue]) -> Result<ScalarValue> {
    Ok(ScalarValue::Float64(Some(
        read::<N>(name, &args[0])?.estimate(),
    )))
}

fn theta<N: Number>(name: &str, args: &[ScalarValue]) -> Result<ScalarValue> {
    Ok(ScalarValue::Float64(Some(
        read::<N>(name, &args[0])?.theta(),
    )))
}

/// The summaries of all retained keys combined by the mode (`alwaysone` counts them); `0`
/// for an empty sketch.
fn summary<N: Number>(name: &str, args: &[ScalarValue]) -> Result<ScalarValue> {
    let mode = Mode::parse(name, args.get(1))?;
    let sketch = read::<N>(name, &args[0])?;
    let mut values = sketch.iter().map(|e| *e.summary());
    let total = match mode {
        Mode::Sum => values.fold(N::ZERO, N::plus),
        Mode::AlwaysOne => values.fold(N::ZERO, |n, _| n.plus(N::ONE)),
        Mode::Min | Mode::Max => match values.next() {
            None => N::ZERO,
            Some(first) => values.fold(first, |mut acc, v| {
                mode.apply(&mut acc, v);
                acc
            }),
        },
    };
    Ok(total.total())
}

fn second<N: Number, const THETA: bool>(
    name: &str,
    args: &[ScalarValue],
    policy: &ModePolicy<N>,
) -> Result<CompactTupleSketch<N>> {
    if THETA {
        theta_as_tuple(name, &args[1], policy)
    } else {
        read(name, &args[1])
    }
}

fn union<N: Number, const THETA: bool>(name: &str, args: &[ScalarValue]) -> Result<ScalarValue> {
    let lg_k = lg_nom_entries(name, args.get(2))?;
    let mode = Mode::parse(name, args.get(3))?;
    let (a, b) = (
        read::<N>(name, &args[0])?,
        second::<N, THETA>(name, args, &ModePolicy::new(mode))?,
    );
    let mut union = union_of::<N>(lg_k, mode)?;
    for sketch in [&a, &b] {
        union
            .update(sketch)
            .map_err(|e| invalid_buffer(INVALID_BUFFER, name, e))?;
    }
    Ok(binary(&union.to_sketch(true)))
}

fn intersection<N: Number, const THETA: bool>(
    name: &str,
    args: &[ScalarValue],
) -> Result<ScalarValue> {
    let mode = Mode::parse(name, args.get(2))?;
    let policy = ModePolicy::new(mode);
    let (a, b) = (
        read::<N>(name, &args[0])?,
        second::<N, THETA>(name, args, &policy)?,
    );
    let mut intersection = TupleIntersection::new(policy);
    for sketch in [&a, &b] {
        intersection
            .update(sketch)
            .map_err(|e| invalid_buffer(INVALID_BUFFER, name, e))?;
    }
    match intersection.to_sketch(true) {
        Some(sketch) => Ok(binary(&sketch)),
        None => Ok(binary(&empty_sketch(&policy)?.compact(true))),
    }
}

fn difference<N: Number, const THETA: bool>(
    name: &str,
    args: &[ScalarValue],
) -> Result<ScalarValue> {
    let policy = ModePolicy::new(Mode::Sum);
    let (a, b) = (
        read::<N>(name, &args[0])?,
        second::<N, THETA>(name, args, &policy)?,
    );
    let difference = TupleANotB::default()
        .compute(&a, &b, true)
        .map_err(|e| invalid_buffer(INVALID_BUFFER, name, e))?;
    Ok(binary(&difference))
}

/// The constant `lgNomEntries` and mode of an aggregate, at `lg_at` and `lg_at + 1`.
fn aggregate_options(name: &str, args: &AccumulatorArgs, lg_at: usize) -> Result<(u8, Mode)> {
    let lg_k = aggregate_lg_nom_entries(name, args, lg_at)?;
    let mode = Mode::parse(name, literal_argument(args.exprs, lg_at + 1))?;
    Ok((lg_k, mode))
}

fn new_sketch_sketcher<N: Number>(name: &str, args: &AccumulatorArgs) -> Result<Box<dyn Sketcher>> {
    let (lg_k, mode) = aggregate_options(name, args, 2)?;
    let sketch = TupleSketchBuilder::new(ModePolicy::<N>::new(mode))
        .lg_k(lg_k)
        .build()
        .map_err(|e| sketch_error(INVALID_LG_NOM_ENTRIES, e))?;
    Ok(Box::new(TupleSketcher {
        name: name.to_string(),
        lg_k,
        mode,
        sketch: Some(sketch),
        merged: None,
    }))
}

fn new_union_sketcher<N: Number>(name: &str, args: &AccumulatorArgs) -> Result<Box<dyn Sketcher>> {
    let (lg_k, mode) = aggregate_options(name, args, 1)?;
    Ok(Box::new(TupleSketcher::<N> {
        name: name.to_string(),
        lg_k,
        mode,
        sketch: None,
        merged: None,
    }))
}

fn new_intersection_sketcher<N: Number>(
    name: &str,
    args: &AccumulatorArgs,
) -> Result<Box<dyn Sketcher>> {
    let mode = Mode::parse(name, literal_argument(args.exprs, 1))?;
    Ok(Box::new(TupleIntersectionSketcher::<N> {
        name: name.to_string(),
        mode,
        intersection: TupleIntersection::new(ModePolicy::new(mode)),
    }))
}

/// `tuple_sketch_agg_*` (rows of key and summary into `sketch`) and `tuple_union_agg_*`
/// (rows are sketches, `sketch` is `None`); sketches are unioned into `merged`.
struct TupleSketcher<N: Number> {
    name: String,
    lg_k: u8,
    mode: Mode,
    sketch: Option<TupleSketch<ModePolicy<N>>>,
    merged: Option<CompactTupleSketch<N>>,
}

impl<N: Number> std::fmt::Debug for TupleSketcher<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TupleSketcher")
            .field("name", &self.name)
            .finish()
    }
}

impl<N: Number> TupleSketcher<N> {
    fn union(&self, sketches: &[&CompactTupleSketch<N>]) -> Result<CompactTupleSketch<N>> {
        let mut union = union_of::<N>(self.lg_k, self.mode)?;
        for sketch in sketches {
            union
                .update(*sketch)
                .map_err(|e| invalid_buffer(INVALID_BUFFER, &self.name, e))?;
        }
        Ok(union.to_sketch(true))
    }
}

impl<N: Number> Sketcher for TupleSketcher<N> {
    fn update(&mut self, args: &[ArrayRef]) -> Result<()> {
        let Some(first) = args.first() else {
            return Ok(());
        };
        match (&mut self.sketch, args.get(1)) {
            (Some(sketch), Some(summaries)) => {
                let summaries = N::column(summaries)?;
                for_each_key(first, |row, key| {
                    if let Some(Some(summary)) = summaries.get(row) {
                        sketch.update(key, *summary);
                    }
                })
            }
            _ => {
                self.merge_column(first)?;
                Ok(())
            }
        }
    }

    fn merge(&mut self, bytes: &[u8]) -> Result<()> {
        let other = deserialize::<N>(&self.name, bytes)?;
        let merged = match self.merged.take() {
            None => other,
            Some(merged) => self.union(&[&merged, &other])?,
        };
        self.merged = Some(merged);
        Ok(())
    }

    fn image(&self) -> Result<Option<Vec<u8>>> {
        let own = match &self.sketch {
            Some(sketch) => sketch.compact(true),
            None => empty_sketch(&ModePolicy::<N>::new(self.mode))?.compact(true),
        };
        let result = match &self.merged {
            None => own,
            Some(merged) => self.union(&[&own, merged])?,
        };
        Ok(Some(result.serialize()))
    }

    fn size(&self) -> usize {
        self.sketch.as_ref().map_or(0, TupleSketch::estimated_size)
            + self
                .merged
                .as_ref()
                .map_or(0, CompactTupleSketch::estimated_size)
    }
}

/// `tuple_intersection_agg_*`: with no sketch yet the intersection is everything, and its
/// partial state is null.
struct TupleIntersectionSketcher<N: Number> {
    name: String,
    mode: Mode,
    intersection: TupleIntersection<ModePolicy<N>>,
}

impl<N: Number> std::fmt::Debug for TupleIntersectionSketcher<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TupleIntersectionSketcher")
            .field("name", &self.name)
            .finish()
    }
}

impl<N: Number> Sketcher for TupleIntersectionSketcher<N> {
    fn update(&mut self, args: &[ArrayRef]) -> Result<()> {
        if let Some(sketches) = args.first() {
            self.merge_column(sketches)?;
        }
        Ok(())
    }

    fn merge(&mut self, bytes: &[u8]) -> Result<()> {
        let sketch = deserialize::<N>(&self.name, bytes)?;
        self.intersection
            .update(&sketch)
            .map_err(|e| invalid_buffer(INVALID_BUFFER, &self.name, e))
    }

    fn image(&self) -> Result<Option<Vec<u8>>> {
        Ok(self.intersection.to_sketch(true).map(|s| s.serialize()))
    }

    fn identity_image(&self) -> Result<Vec<u8>> {
        Ok(empty_sketch(&ModePolicy::<N>::new(self.mode))?
            .compact(true)
            .serialize())
    }

    fn size(&self) -> usize {
        self.intersection.estimated_size()
    }
}
