//! Spark's DataSketches functions: HyperLogLog (`hll_*`), Theta (`theta_*`), Tuple
//! (`tuple_*`) and KLL quantile (`kll_*`) sketches. The sketches are the Apache DataSketches
//! project's Rust port, which reads and writes the same binary images as the Java library
//! Spark uses, and values are hashed the way Spark hands them to that library (integers as
//! longs, strings and binaries as raw bytes, floats canonicalised), so a sketch Spark wrote
//! can be merged or estimated here and the other way round.
//!
//! Every aggregate keeps its sketch as its state, so partial aggregates on executors merge
//! like Spark's; every scalar function is defined row by row over sketch images.

mod hll;
mod kll;
mod sketch_aggregate;
mod theta;
mod tuple;

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Literal;
use datasketches::hash::value::{canonical_float, raw_bytes};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    hll::functions()
        .into_iter()
        .chain(theta::functions())
        .chain(tuple::functions())
        .chain(kll::functions())
        .collect()
}

pub fn aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    hll::aggregate_functions()
        .into_iter()
        .chain(theta::aggregate_functions())
        .chain(tuple::aggregate_functions())
        .chain(kll::aggregate_functions())
        .collect()
}

/// An error with Spark's error class in front, which the Connect layer reports as that class.
fn sketch_error(class: &str, message: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!("[{class}] {message}"))
}

/// A sketch image that does not deserialize: Spark's `*_INVALID_SKETCH_BUFFER` classes.
fn invalid_buffer(class: &str, function: &str, error: impl std::fmt::Display) -> DataFusionError {
    sketch_error(
        class,
        format!(
            "Invalid call to `{function}`; only valid sketch buffers are supported as inputs ({error})."
        ),
    )
}

/// One value to put into a distinct-count sketch, hashed as DataSketches Java hashes what
/// Spark passes it.
enum SketchKey<'a> {
    Long(i64),
    Double(f64),
    Text(&'a str),
    Bytes(&'a [u8]),
}

impl Hash for SketchKey<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            SketchKey::Long(v) => v.hash(state),
            SketchKey::Double(v) => canonical_float::from_f64(*v).hash(state),
            SketchKey::Text(s) => raw_bytes::from_str(s).hash(state),
            SketchKey::Bytes(b) => raw_bytes::from_slice(b).hash(state),
        }
    }
}

/// The kinds of column a distinct-count sketch takes.
#[derive(Clone, Copy)]
enum KeyKinds {
    /// HyperLogLog: integers, strings and binaries.
    IntegersTextBinary,
    /// Theta and Tuple: floating-point numbers too.
    NumbersTextBinary,
}

impl KeyKinds {
    fn accepts(self, t: &DataType) -> bool {
        t.is_integer()
            || matches!(
                t,
                DataType::Utf8
                    | DataType::LargeUtf8
                    | DataType::Utf8View
                    | DataType::Binary
                    | DataType::LargeBinary
                    | DataType::BinaryView
                    | DataType::Null
            )
            || (matches!(self, KeyKinds::NumbersTextBinary) && t.is_floating())
    }
}

/// Calls `each` with the key of every non-null row of `array` (as DataSketches Java, empty
/// strings and binaries are skipped), and with the row number.
fn for_each_key(array: &ArrayRef, mut each: impl FnMut(usize, SketchKey<'_>)) -> Result<()> {
    let t = array.data_type();
    if t.is_integer() {
        let longs = cast(array, &DataType::Int64)?;
        for (row, v) in longs.as_primitive::<Int64Type>().iter().enumerate() {
            if let Some(v) = v {
                each(row, SketchKey::Long(v));
            }
        }
    } else if t.is_floating() {
        let doubles = cast(array, &DataType::Float64)?;
        for (row, v) in doubles.as_primitive::<Float64Type>().iter().enumerate() {
            if let Some(v) = v {
                each(row, SketchKey::Double(v));
            }
        }
    } else if matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) {
        let text = cast(array, &DataType::Utf8)?;
        for (row, v) in text.as_string::<i32>().iter().enumerate() {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                each(row, SketchKey::Text(v));
            }
        }
    } else if matches!(
        t,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView
    ) {
        let bytes = cast(array, &DataType::Binary)?;
        for (row, v) in bytes.as_binary::<i32>().iter().enumerate() {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                each(row, SketchKey::Bytes(v));
            }
        }
    } else if t != &DataType::Null {
        return Err(DataFusionError::Plan(format!(
            "a sketch cannot take values of type {t}"
        )));
    }
    Ok(())
}

/// The sketch images of a binary column, `None` for null rows.
fn images(array: &ArrayRef) -> Result<Vec<Option<Vec<u8>>>> {
    let bytes = cast(array, &DataType::Binary)?;
    Ok(bytes
        .as_binary::<i32>()
        .iter()
        .map(|v| v.map(<[u8]>::to_vec))
        .collect())
}

/// The bytes of a binary argument value, `None` for null.
fn image(value: &ScalarValue) -> Option<&[u8]> {
    match value {
        ScalarValue::Binary(Some(b))
        | ScalarValue::LargeBinary(Some(b))
        | ScalarValue::BinaryView(Some(b))
        | ScalarValue::FixedSizeBinary(_, Some(b)) => Some(b),
        _ => None,
    }
}

fn integer_value(value: &ScalarValue) -> Option<i64> {
    match value {
        ScalarValue::Int8(Some(v)) => Some(i64::from(*v)),
        ScalarValue::Int16(Some(v)) => Some(i64::from(*v)),
        ScalarValue::Int32(Some(v)) => Some(i64::from(*v)),
        ScalarValue::Int64(Some(v)) => Some(*v),
        _ => None,
    }
}

fn text_value(value: &ScalarValue) -> Option<&str> {
    match value {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Some(s),
        _ => None,
    }
}

/// A constant argument of an aggregate, `None` when it is missing.
fn literal_argument(exprs: &[Arc<dyn PhysicalExpr>], at: usize) -> Option<&ScalarValue> {
    exprs
        .get(at)
        .and_then(|e| e.downcast_ref::<Literal>())
        .map(Literal::value)
}

/// A sketch size parameter (`lgConfigK`, `lgNomEntries`, `k`): absent means `default`; it
/// must be a constant integer in `range`.
fn size_parameter(
    value: Option<&ScalarValue>,
    present: bool,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
    class: &str,
    function: &str,
) -> Result<i64> {
    let v = match (present, value.and_then(integer_value)) {
        (false, _) => default,
        (true, Some(v)) => v,
        (true, None) => {
            return Err(sketch_error(
                class,
                format!(
                    "Invalid call to `{function}`; the size parameter must be a constant integer."
                ),
            ));
        }
    };
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(sketch_error(
            class,
            format!(
                "Invalid call to `{function}`; only size parameters between {} and {} are allowed, got {v}.",
                range.start(),
                range.end()
            ),
        ))
    }
}
