//! Spark's TIME type (a time of day to the microsecond, `time(6)`), held as Arrow's
//! `Time64(ns)` as DataFusion's `TIME '…'` literals and casts make it and as PySpark sends
//! and reads it. `hour`/`minute`/`second` read a time as well as a timestamp; `make_time`,
//! `to_time`/`try_to_time`, `time_diff`, `time_trunc` and the `time_from_*`/`time_to_*`
//! conversions are here (`datafusion-spark`'s `time_trunc` takes only a constant unit; Spark's
//! takes a column too).

use std::sync::Arc;

use arrow::array::{AsArray, Int32Array};
use arrow::compute::kernels::cast_utils::string_to_time_nanoseconds;
use arrow::datatypes::{DataType, FieldRef, Time64NanosecondType, TimeUnit};
use chrono::{NaiveTime, Timelike};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature,
};

use crate::columnar::{all_scalar, finish};
use crate::row_function::{row_function, row_function_seeing_nulls};

/// Spark's TIME as Ember computes it.
pub const TIME: DataType = DataType::Time64(TimeUnit::Nanosecond);

const NANOS_PER_MICRO: i64 = 1_000;
const NANOS_PER_MILLI: i64 = 1_000_000;
const NANOS_PER_SECOND: i64 = 1_000_000_000;
const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SECOND;

fn is_time(t: &DataType) -> bool {
    matches!(t, DataType::Time32(_) | DataType::Time64(_))
}

/// A time of day from nanoseconds since midnight, refused outside the day.
fn time_value(name: &str, nanos: i64) -> Result<ScalarValue> {
    if !(0..NANOS_PER_DAY).contains(&nanos) {
        return exec_err!(
            "[DATETIME_FIELD_OUT_OF_BOUNDS] `{name}`: {nanos} ns since midnight is not a time of day (0 to 24 hours)"
        );
    }
    // TIME(6): the microsecond is the finest unit kept.
    Ok(ScalarValue::Time64Nanosecond(Some(
        nanos - nanos % NANOS_PER_MICRO,
    )))
}

fn nanos_of(value: &ScalarValue) -> Result<i64> {
    match value.cast_to(&TIME)? {
        ScalarValue::Time64Nanosecond(Some(n)) => Ok(n),
        other => exec_err!("expected a time, got {other}"),
    }
}

fn int_of(name: &str, value: &ScalarValue) -> Result<i64> {
    match value.cast_to(&DataType::Int64)? {
        ScalarValue::Int64(Some(v)) => Ok(v),
        other => exec_err!("`{name}` expects a whole number, got {other}"),
    }
}

/// `hour`, `minute` and `second` of a time; of anything else, the catalog's function as it
/// was (a timestamp's, with Spark's casts).
#[derive(Debug, PartialEq, Eq, Hash)]
struct TimeOrTimestampField {
    inner: Arc<ScalarUDF>,
    /// Nanoseconds per unit of the field and units per the next larger field.
    unit: i64,
    modulus: i64,
    signature: Signature,
}

impl ScalarUDFImpl for TimeOrTimestampField {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] if is_time(t) => Ok(vec![TIME]),
            _ => self.inner.coerce_types(arg_types),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [t] if is_time(t) => Ok(DataType::Int32),
            _ => self.inner.return_type(arg_types),
        }
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        match args.arg_fields {
            [f] if is_time(f.data_type()) => Ok(Arc::new(arrow::datatypes::Field::new(
                self.name(),
                DataType::Int32,
                true,
            ))),
            _ => self.inner.return_field_from_args(args),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        match args.args.as_slice() {
            [arg] if is_time(&arg.data_type()) => {
                let scalar = all_scalar(&args.args);
                let times = arrow::compute::cast(&arg.to_array(args.number_rows)?, &TIME)?;
                let fields: Int32Array = times
                    .as_primitive::<Time64NanosecondType>()
                    .iter()
                    .map(|t| t.map(|n| ((n / self.unit) % self.modulus) as i32))
                    .collect();
                finish(Arc::new(fields), scalar)
            }
            _ => self.inner.invoke_with_args(args),
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
}

/// The catalog's `hour`, `minute` or `second` made to read times too.
pub fn reading_times_too(inner: Arc<ScalarUDF>) -> Arc<ScalarUDF> {
    let (unit, modulus) = match inner.name() {
        "hour" => (3_600 * NANOS_PER_SECOND, 24),
        "minute" => (60 * NANOS_PER_SECOND, 60),
        _ => (NANOS_PER_SECOND, 60),
    };
    Arc::new(ScalarUDF::from(TimeOrTimestampField {
        signature: Signature::user_defined(inner.signature().volatility),
        inner,
        unit,
        modulus,
    }))
}

fn time_result(_: &str, _: &[DataType]) -> Result<DataType> {
    Ok(TIME)
}

fn make_time(name: &str, args: &[ScalarValue]) -> Result<ScalarValue> {
    let [hour, minute, second] = args else {
        return plan_err!("`{name}` takes an hour, a minute and a second");
    };
    let (hour, minute) = (int_of(name, hour)?, int_of(name, minute)?);
    let micros = match second.cast_to(&DataType::Decimal128(16, 6))? {
        ScalarValue::Decimal128(Some(m), _, _) => m,
        other => return exec_err!("`{name}` expects seconds, got {other}"),
    };
    if !(0..24).contains(&hour) || !(0..60).contains(&minute) || !(0..60_000_000).contains(&micros)
    {
        return exec_err!(
            "[DATETIME_FIELD_OUT_OF_BOUNDS] `{name}`: {hour}:{minute}:{second} is not a time of day (hours 0-23, minutes 0-59, seconds 0 to under 60)"
        );
    }
    let micros = i64::try_from(micros).unwrap_or(i64::MAX);
    time_value(
        name,
        (hour * 3_600 + minute * 60) * NANOS_PER_SECOND + micros * NANOS_PER_MICRO,
    )
}

/// Text read as a time: by a Java pattern when one is given, else in ISO form (`HH:mm`,
/// `HH:mm:ss`, `HH:mm:ss.ffffff`).
fn parse_time(text: &str, pattern: Option<&str>) -> Option<i64> {
    let parsed = match pattern {
        Some(p) => NaiveTime::parse_from_str(text, &crate::java_to_chrono(p)).ok()?,
        None => {
            let nanos = string_to_time_nanoseconds(text.trim()).ok()?;
            return Some(nanos - nanos % NANOS_PER_MICRO);
        }
    };
    let nanos = i64::from(parsed.num_seconds_from_midnight()) * NANOS_PER_SECOND
        + i64::from(parsed.nanosecond());
    Some(nanos - nanos % NANOS_PER_MICRO)
}

fn text_of(value: &ScalarValue) -> Result<Option<String>> {
    Ok(match value.cast_to(&DataType::Utf8)? {
        ScalarValue::Utf8(t) => t,
        _ => None,
    })
}

fn to_time(name: &str, args: &[ScalarValue]) -> Result<ScalarValue> {
    let tolerant = name == "try_to_time";
    let (text, pattern) = match args {
        [text] => (text_of(text)?, None),
        [text, pattern] => (text_of(text)?, text_of(pattern)?),
        _ => return plan_err!("`{name}` takes text and an optional pattern"),
    };
    let Some(text) = text else {
        return Ok(ScalarValue::Time64Nanosecond(None));
    };
    if args.len() == 2 && pattern.is_none() {
        return Ok(ScalarValue::Time64Nanosecond(None));
    }
    match parse_time(&text, pattern.as_deref()) {
        Some(nanos) => Ok(ScalarValue::Time64Nanosecond(Some(nanos))),
        None if tolerant => Ok(ScalarValue::Time64Nanosecond(None)),
        None => exec_err!(
            "[CANNOT_PARSE_TIME] The input string '{text}' cannot be parsed to a TIME value because it does not match the datetime format '{}'. Use `try_to_time` to tolerate invalid input and return NULL instead.",
            pattern.as_deref().unwrap_or("HH:mm:ss.SSSSSS")
        ),
    }
}

/// Nanoseconds in one of `time_diff`'s units.
fn unit_nanos(name: &str, unit: &str) -> Result<i64> {
    Ok(match unit.to_ascii_uppercase().as_str() {
        "HOUR" => 3_600 * NANOS_PER_SECOND,
        "MINUTE" => 60 * NANOS_PER_SECOND,
        "SECOND" => NANOS_PER_SECOND,
        "MILLISECOND" => NANOS_PER_MILLI,
        "MICROSECOND" => NANOS_PER_MICRO,
        other => {
            return exec_err!(
                "[INVALID_PARAMETER_VALUE.TIME_UNIT] `{name}` takes HOUR, MINUTE, SECOND, MILLISECOND or MICROSECOND, not `{other}`"
            );
        }
    })
}

fn time_diff(name: &str, args: &[ScalarValue]) -> Result<ScalarValue> {
    let [unit, start, end] = args else {
        return plan_err!("`{name}` takes a unit, a start time and an end time");
    };
    let Some(unit) = text_of(unit)? else {
        return Ok(ScalarValue::Int64(None));
    };
    let unit = unit_nanos(name, &unit)?;
    Ok(ScalarValue::Int64(Some(
        (nanos_of(end)? - nanos_of(start)?) / unit,
    )))
}

fn time_trunc(name: &str, args: &[ScalarValue]) -> Result<ScalarValue> {
    let [unit, time] = args else {
        return plan_err!("`{name}` takes a unit and a time");
    };
    let Some(unit) = text_of(unit)? else {
        return Ok(ScalarValue::Time64Nanosecond(None));
    };
    let unit = unit_nanos(name, &unit)?;
    let nanos = nanos_of(time)?;
    Ok(ScalarValue::Time64Nanosecond(Some(nanos - nanos % unit)))
}

fn time_from(name: &str, args: &[ScalarValue]) -> Result<ScalarValue> {
    let [value] = args else {
        return plan_err!("`{name}` takes one number");
    };
    let nanos = match name {
        "time_from_micros" => int_of(name, value)?.checked_mul(NANOS_PER_MICRO),
        "time_from_millis" => int_of(name, value)?.checked_mul(NANOS_PER_MILLI),
        _ => match value.cast_to(&DataType::Decimal128(38, 9))? {
            ScalarValue::Decimal128(Some(n), _, _) => i64::try_from(n).ok(),
            other => return exec_err!("`{name}` expects seconds, got {other}"),
        },
    };
    match nanos {
        Some(n) => time_value(name, n),
        None => exec_err!("[DATETIME_FIELD_OUT_OF_BOUNDS] `{name}`: {value} is not a time of day"),
    }
}

fn time_to(name: &str, args: &[ScalarValue]) -> Result<ScalarValue> {
    let [value] = args else {
        return plan_err!("`{name}` takes one time");
    };
    let nanos = nanos_of(value)?;
    Ok(match name {
        "time_to_micros" => ScalarValue::Int64(Some(nanos / NANOS_PER_MICRO)),
        "time_to_millis" => ScalarValue::Int64(Some(nanos / NANOS_PER_MILLI)),
        _ => ScalarValue::Decimal128(Some(i128::from(nanos / NANOS_PER_MICRO)), 14, 6),
    })
}

fn expect_time(name: &str, types: &[DataType]) -> Result<()> {
    match types.first() {
        Some(t) if is_time(t) || t == &DataType::Null => Ok(()),
        Some(t) => {
            plan_err!("[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{name}` takes a TIME, not {t}")
        }
        None => plan_err!("`{name}` takes a TIME"),
    }
}

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    let mut all = vec![
        row_function("make_time", &[3], time_result, make_time),
        row_function_seeing_nulls("to_time", &[1, 2], time_result, to_time),
        row_function_seeing_nulls("try_to_time", &[1, 2], time_result, to_time),
        row_function(
            "time_diff",
            &[3],
            |name, types| {
                expect_time(name, &types[1..])?;
                expect_time(name, &types[2..])?;
                Ok(DataType::Int64)
            },
            time_diff,
        ),
    ];
    all.push(row_function(
        "time_trunc",
        &[2],
        |name, types| {
            expect_time(name, &types[1..])?;
            Ok(TIME)
        },
        time_trunc,
    ));
    for name in ["time_from_micros", "time_from_millis", "time_from_seconds"] {
        all.push(row_function(name, &[1], time_result, time_from));
    }
    for name in ["time_to_micros", "time_to_millis", "time_to_seconds"] {
        all.push(row_function(
            name,
            &[1],
            |name, types| {
                expect_time(name, types)?;
                Ok(if name == "time_to_seconds" {
                    DataType::Decimal128(14, 6)
                } else {
                    DataType::Int64
                })
            },
            time_to,
        ));
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nanos(array: &arrow::array::ArrayRef) -> Vec<Option<i64>> {
        array
            .as_primitive::<Time64NanosecondType>()
            .iter()
            .collect()
    }

    #[test]
    fn text_reads_as_iso_or_by_pattern() {
        assert_eq!(
            parse_time("10:30:00", None),
            Some(37_800 * NANOS_PER_SECOND)
        );
        assert_eq!(
            parse_time("14:30:00.5", None),
            Some(52_200_500 * NANOS_PER_MILLI)
        );
        assert_eq!(
            parse_time("10.30", Some("HH.mm")),
            Some(37_800 * NANOS_PER_SECOND)
        );
        assert_eq!(parse_time("malformed", None), None);
    }

    #[test]
    fn make_time_keeps_microseconds_and_refuses_bad_fields() {
        let v = make_time(
            "make_time",
            &[
                ScalarValue::Int32(Some(6)),
                ScalarValue::Int32(Some(30)),
                ScalarValue::Float64(Some(45.887)),
            ],
        )
        .unwrap();
        assert_eq!(
            nanos(&v.to_array().unwrap()),
            [Some(
                (6 * 3600 + 30 * 60 + 45) * NANOS_PER_SECOND + 887 * NANOS_PER_MILLI
            )]
        );
        let err = make_time(
            "make_time",
            &[
                ScalarValue::Int32(Some(24)),
                ScalarValue::Int32(Some(0)),
                ScalarValue::Int32(Some(0)),
            ],
        )
        .unwrap_err();
        assert!(err.to_string().contains("DATETIME_FIELD_OUT_OF_BOUNDS"));
    }

    #[test]
    fn time_diff_truncates_towards_zero() {
        let t = |s: &str| ScalarValue::Time64Nanosecond(parse_time(s, None));
        let diff = |unit: &str, a, b| {
            time_diff(
                "time_diff",
                &[ScalarValue::Utf8(Some(unit.into())), t(a), t(b)],
            )
            .unwrap()
        };
        assert_eq!(
            diff("HOUR", "13:08:15", "21:30:28"),
            ScalarValue::Int64(Some(8))
        );
        assert_eq!(
            diff("minute", "21:30:28", "13:08:15"),
            ScalarValue::Int64(Some(-502))
        );
    }
}
