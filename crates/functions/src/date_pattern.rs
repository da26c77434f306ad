//! Spark's date patterns (Java's `DateTimeFormatter` letters: `yyyy-MM-dd HH:mm:ss`) in
//! chrono's terms (`%Y-%m-%d %H:%M:%S`), which DataFusion's date functions read. A pattern
//! given as a literal is converted once while planning; one given as a column goes through
//! `spark_date_pattern` row by row. `spark_parse_timestamp(text, pattern, zone)` reads text
//! with such a pattern as a wall-clock time in `zone` (the session's), as Spark's
//! `to_timestamp(s, fmt)` does; DataFusion's `to_timestamp` with a format reads it as UTC.

use std::sync::Arc;

use arrow::array::{Array, AsArray, StringBuilder};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        date_pattern_udf(),
        parse_timestamp_udf(false),
        parse_timestamp_udf(true),
    ]
}

fn date_pattern_udf() -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::from(DatePattern {
        signature: Signature::new(TypeSignature::String(1), Volatility::Immutable),
    }))
}

/// The parser that fails on text its pattern does not read, or (`tolerant`, for Spark's
/// `try_` functions) answers NULL for it.
fn parse_timestamp_udf(tolerant: bool) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::from(ParseTimestamp {
        tolerant,
        signature: Signature::new(TypeSignature::String(3), Volatility::Immutable),
    }))
}

/// `spark_parse_timestamp(text, chrono_pattern, zone)`: a `Timestamp(µs, zone)`.
pub fn parse_timestamp_in_zone(text: Expr, chrono_pattern: Expr, zone: &str) -> Expr {
    parse_with(parse_timestamp_udf(false), text, chrono_pattern, zone)
}

/// `spark_try_parse_timestamp(text, chrono_pattern, zone)`: as [`parse_timestamp_in_zone`],
/// with NULL for text the pattern does not read.
pub fn try_parse_timestamp_in_zone(text: Expr, chrono_pattern: Expr, zone: &str) -> Expr {
    parse_with(parse_timestamp_udf(true), text, chrono_pattern, zone)
}

fn parse_with(parser: Arc<ScalarUDF>, text: Expr, chrono_pattern: Expr, zone: &str) -> Expr {
    Expr::ScalarFunction(datafusion::logical_expr::expr::ScalarFunction::new_udf(
        parser,
        vec![text, chrono_pattern, datafusion::logical_expr::lit(zone)],
    ))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ParseTimestamp {
    tolerant: bool,
    signature: Signature,
}

impl ScalarUDFImpl for ParseTimestamp {
    fn name(&self) -> &str {
        if self.tolerant {
            "spark_try_parse_timestamp"
        } else {
            "spark_parse_timestamp"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        datafusion::common::plan_err!("`spark_parse_timestamp` needs its zone argument")
    }

    fn return_field_from_args(
        &self,
        args: datafusion::logical_expr::ReturnFieldArgs,
    ) -> Result<arrow::datatypes::FieldRef> {
        let zone = match args.scalar_arguments.get(2) {
            Some(Some(ScalarValue::Utf8(Some(z)) | ScalarValue::Utf8View(Some(z)))) => z.clone(),
            _ => {
                return datafusion::common::plan_err!(
                    "the zone of `spark_parse_timestamp` must be a constant string"
                );
            }
        };
        Ok(Arc::new(arrow::datatypes::Field::new(
            self.name(),
            DataType::Timestamp(arrow::datatypes::TimeUnit::Microsecond, Some(zone.into())),
            true,
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use arrow::array::TimestampMicrosecondBuilder;
        use chrono::TimeZone;
        let rows = args.number_rows;
        let all_scalar = crate::columnar::all_scalar(&args.args);
        let column = |i: usize| -> Result<arrow::array::StringArray> {
            let array = cast(&args.args[i].to_array(rows)?, &DataType::Utf8)?;
            Ok(array.as_string::<i32>().clone())
        };
        let (texts, patterns, zones) = (column(0)?, column(1)?, column(2)?);
        let DataType::Timestamp(_, zone_type) = args.return_field.data_type() else {
            return datafusion::common::exec_err!("`spark_parse_timestamp` returns a timestamp");
        };
        let mut builder = TimestampMicrosecondBuilder::with_capacity(rows);
        for row in 0..rows {
            if texts.is_null(row) || patterns.is_null(row) || zones.is_null(row) {
                builder.append_null();
                continue;
            }
            let (text, pattern) = (texts.value(row), patterns.value(row));
            let zone: arrow::array::timezone::Tz = zones.value(row).parse()?;
            let wall_clock = chrono::NaiveDateTime::parse_from_str(text, pattern).or_else(|_| {
                chrono::NaiveDate::parse_from_str(text, pattern)
                    .map(|d| d.and_time(chrono::NaiveTime::MIN))
            });
            let Ok(wall_clock) = wall_clock else {
                if self.tolerant {
                    builder.append_null();
                    continue;
                }
                return datafusion::common::exec_err!(
                    "[CANNOT_PARSE_TIMESTAMP] Text '{text}' could not be parsed with the pattern of the format. Use `try_to_timestamp` to tolerate invalid input string and return NULL instead."
                );
            };
            // A time the zone skips (a DST gap) moves forward, as Java's ZonedDateTime does.
            let instant = match zone.from_local_datetime(&wall_clock) {
                chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t,
                chrono::LocalResult::None => {
                    match zone.from_local_datetime(&(wall_clock + chrono::Duration::hours(1))) {
                        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t,
                        chrono::LocalResult::None => {
                            return datafusion::common::exec_err!(
                                "`{text}` is not a time in zone {zone}"
                            );
                        }
                    }
                }
            };
            builder.append_value(instant.timestamp_micros());
        }
        let result = Arc::new(builder.finish().with_timezone_opt(zone_type.clone()));
        crate::columnar::finish(result, all_scalar)
    }
}

/// `spark_date_pattern(pattern)`: the chrono pattern of each row's Java pattern.
pub fn chrono_pattern_of(pattern: Expr) -> Expr {
    Expr::ScalarFunction(datafusion::logical_expr::expr::ScalarFunction::new_udf(
        date_pattern_udf(),
        vec![pattern],
    ))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct DatePattern {
    signature: Signature,
}

impl ScalarUDFImpl for DatePattern {
    fn name(&self) -> &str {
        "spark_date_pattern"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        match &args.args[0] {
            ColumnarValue::Scalar(value) => {
                let text = match value.cast_to(&DataType::Utf8)? {
                    ScalarValue::Utf8(Some(t)) => Some(java_to_chrono(&t)),
                    _ => None,
                };
                Ok(ColumnarValue::Scalar(ScalarValue::Utf8(text)))
            }
            ColumnarValue::Array(array) => {
                let text = cast(array, &DataType::Utf8)?;
                let text = text.as_string::<i32>();
                let mut builder = StringBuilder::with_capacity(text.len(), text.len() * 8);
                for pattern in text.iter() {
                    builder.append_option(pattern.map(java_to_chrono));
                }
                Ok(ColumnarValue::Array(Arc::new(builder.finish())))
            }
        }
    }
}

pub fn java_to_chrono(pattern: &str) -> String {
    const TOKENS: &[(&str, &str)] = &[
        ("yyyy", "%Y"),
        ("yy", "%y"),
        ("MMMM", "%B"),
        ("MMM", "%b"),
        ("MM", "%m"),
        ("dd", "%d"),
        ("HH", "%H"),
        ("hh", "%I"),
        ("mm", "%M"),
        ("ss", "%S"),
        ("SSSSSS", "%6f"),
        ("SSS", "%3f"),
        ("EEEE", "%A"),
        ("EEE", "%a"),
        ("a", "%p"),
        ("M", "%-m"),
        ("d", "%-d"),
        ("H", "%-H"),
    ];
    let mut out = String::new();
    let mut rest = pattern;
    'outer: while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('\'') {
            let end = quoted.find('\'').unwrap_or(quoted.len());
            out.push_str(&quoted[..end]);
            rest = quoted.get(end + 1..).unwrap_or("");
            continue;
        }
        for (java, chrono) in TOKENS {
            if let Some(after) = rest.strip_prefix(java) {
                out.push_str(chrono);
                rest = after;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        if c == '%' {
            out.push_str("%%");
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::java_to_chrono;

    #[test]
    fn java_date_patterns_become_chrono_ones() {
        assert_eq!(java_to_chrono("yyyy-MM-dd"), "%Y-%m-%d");
        assert_eq!(java_to_chrono("dd/MM/yyyy HH:mm:ss"), "%d/%m/%Y %H:%M:%S");
        assert_eq!(java_to_chrono("yyyy-MM-dd'T'HH:mm"), "%Y-%m-%dT%H:%M");
    }
}
