//! Spark's `date_format(value, pattern)`: a date, timestamp or timestamp text written with a
//! Java date pattern (`yyyy-MM-dd HH:mm:ss`), in the session's time zone, for SQL text and the
//! DataFrame API alike; and `from_unixtime(seconds[, pattern])`, seconds since the epoch so
//! written.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use chrono::DateTime;
use datafusion::common::config::ConfigOptions;
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility, lit,
};

use crate::columnar::{all_scalar, finish, is_text};
use crate::date_pattern::java_to_chrono;
use crate::shorthand::{arities, session_call, shorthand};
use crate::zones::{session_label, spark_zone};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        Arc::new(ScalarUDF::from(DateFormat {
            label: "UTC".into(),
            signature: Signature::user_defined(Volatility::Immutable),
        })),
        // `from_unixtime(seconds[, pattern])`: the instant, written in the session's zone.
        shorthand(
            "from_unixtime",
            &[],
            arities(TypeSignature::Any, &[1, 2], Volatility::Immutable),
            |_| Ok(DataType::Utf8),
            |args, info| {
                let mut args = args.into_iter();
                let Some(seconds) = args.next() else {
                    return plan_err!("`from_unixtime` takes seconds and an optional pattern");
                };
                let pattern = args.next().unwrap_or_else(|| lit("yyyy-MM-dd HH:mm:ss"));
                let instant = session_call(
                    "timestamp_seconds",
                    vec![crate::shorthand::cast(seconds, DataType::Int64)],
                    info,
                )?;
                session_call("date_format", vec![instant, pattern], info)
            },
        ),
    ]
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct DateFormat {
    /// The session's time zone: text is read in it and timestamps are written in it.
    label: Arc<str>,
    signature: Signature,
}

impl ScalarUDFImpl for DateFormat {
    fn name(&self) -> &str {
        "date_format"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [value, pattern] = arg_types else {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] `date_format` takes 2 arguments, not {}",
                arg_types.len()
            );
        };
        if !is_text(pattern) {
            return plan_err!("`date_format` takes its pattern as a string, not {pattern}");
        }
        let value = match value {
            DataType::Timestamp(_, None) => DataType::Timestamp(TimeUnit::Microsecond, None),
            DataType::Timestamp(_, Some(_))
            | DataType::Date32
            | DataType::Date64
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Null => {
                DataType::Timestamp(TimeUnit::Microsecond, Some(self.label.clone()))
            }
            other => {
                return plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `date_format` takes a timestamp, not {}",
                    crate::spark_type_name(other)
                );
            }
        };
        Ok(vec![value, DataType::Utf8])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn with_updated_config(&self, config: &ConfigOptions) -> Option<ScalarUDF> {
        let label = session_label(config);
        (label != self.label).then(|| {
            ScalarUDF::from(DateFormat {
                label,
                ..self.clone()
            })
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = all_scalar(&args.args);
        let rows = args.number_rows;
        let zoned = matches!(
            args.arg_fields[0].data_type(),
            DataType::Timestamp(_, Some(_))
        );
        let zone = if zoned { spark_zone(&self.label) } else { None };
        let values: ArrayRef = args.args[0].to_array(rows)?;
        let values = values.as_primitive::<TimestampMicrosecondType>();
        let patterns = cast(&args.args[1].to_array(rows)?, &DataType::Utf8)?;
        let patterns = patterns.as_string::<i32>();
        let mut out = StringBuilder::with_capacity(rows, rows * 20);
        let mut converted: Option<(String, String)> = None;
        for row in 0..rows {
            if values.is_null(row) || patterns.is_null(row) {
                out.append_null();
                continue;
            }
            let pattern = patterns.value(row);
            // A constant pattern is converted once.
            let chrono_pattern = match &converted {
                Some((java, chrono)) if java == pattern => chrono.clone(),
                _ => {
                    let chrono = java_to_chrono(pattern);
                    converted = Some((pattern.to_string(), chrono.clone()));
                    chrono
                }
            };
            let Some(at) = DateTime::from_timestamp_micros(values.value(row)) else {
                return exec_err!("the timestamp {} is out of range", values.value(row));
            };
            let mut text = String::new();
            let written = match &zone {
                Some(zone) => {
                    use std::fmt::Write;
                    write!(text, "{}", at.with_timezone(zone).format(&chrono_pattern))
                }
                None => {
                    use std::fmt::Write;
                    write!(text, "{}", at.naive_utc().format(&chrono_pattern))
                }
            };
            if written.is_err() {
                return exec_err!(
                    "[INVALID_DATETIME_PATTERN.ILLEGAL_CHARACTER] `date_format` cannot write the pattern '{pattern}'"
                );
            }
            out.append_value(text);
        }
        finish(Arc::new(out.finish()), scalar)
    }
}
