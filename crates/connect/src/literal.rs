//! Spark Connect literals as DataFusion scalar values.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, IntervalMonthDayNano};
use datafusion::common::ScalarValue;
use spark_connect_proto::expression::Literal;
use spark_connect_proto::expression::literal::{self, LiteralType};

use crate::error::{ConnectResult, SparkError};
use crate::types;

/// The value of a literal; `time_zone` is the session's, for timestamps.
pub fn to_scalar(literal: &Literal, time_zone: &str) -> ConnectResult<ScalarValue> {
    let Some(value) = &literal.literal_type else {
        return Err(SparkError::invalid_plan("a literal without a value"));
    };
    let tz: Option<Arc<str>> = Some(time_zone.into());
    Ok(match value {
        LiteralType::Null(data_type) => {
            let arrow = types::to_arrow(data_type, time_zone)?;
            ScalarValue::try_from(&arrow)?
        }
        LiteralType::Binary(bytes) => ScalarValue::Binary(Some(bytes.to_vec())),
        LiteralType::Boolean(b) => ScalarValue::Boolean(Some(*b)),
        LiteralType::Byte(v) => ScalarValue::Int8(Some(narrow(*v)?)),
        LiteralType::Short(v) => ScalarValue::Int16(Some(narrow(*v)?)),
        LiteralType::Integer(v) => ScalarValue::Int32(Some(*v)),
        LiteralType::Long(v) => ScalarValue::Int64(Some(*v)),
        LiteralType::Float(v) => ScalarValue::Float32(Some(*v)),
        LiteralType::Double(v) => ScalarValue::Float64(Some(*v)),
        LiteralType::Decimal(d) => decimal(d)?,
        LiteralType::String(s) => ScalarValue::Utf8(Some(s.clone())),
        LiteralType::Date(days) => ScalarValue::Date32(Some(*days)),
        LiteralType::Timestamp(micros) => ScalarValue::TimestampMicrosecond(Some(*micros), tz),
        LiteralType::TimestampNtz(micros) => ScalarValue::TimestampMicrosecond(Some(*micros), None),
        // Held as Arrow's nanosecond time of day, as Ember holds TIME.
        LiteralType::Time(time) => ScalarValue::Time64Nanosecond(Some(time.nano)),
        LiteralType::CalendarInterval(i) => ScalarValue::IntervalMonthDayNano(Some(
            IntervalMonthDayNano::new(i.months, i.days, i.microseconds.saturating_mul(1000)),
        )),
        LiteralType::YearMonthInterval(months) => ScalarValue::IntervalYearMonth(Some(*months)),
        LiteralType::DayTimeInterval(micros) => ScalarValue::DurationMicrosecond(Some(*micros)),
        LiteralType::Array(array) => {
            let values = array
                .elements
                .iter()
                .map(|e| to_scalar(e, time_zone))
                .collect::<ConnectResult<Vec<_>>>()?;
            let element_type = match (&literal.data_type, values.first()) {
                (Some(t), _) => match types::to_arrow(t, time_zone)? {
                    DataType::List(field) => field.data_type().clone(),
                    other => other,
                },
                (None, Some(first)) => first.data_type(),
                (None, None) => DataType::Null,
            };
            ScalarValue::List(ScalarValue::new_list_nullable(&values, &element_type))
        }
        LiteralType::Struct(s) => {
            let values = s
                .elements
                .iter()
                .map(|e| to_scalar(e, time_zone))
                .collect::<ConnectResult<Vec<_>>>()?;
            let names: Vec<String> = match &literal.data_type {
                Some(t) => match types::to_arrow(t, time_zone)? {
                    DataType::Struct(fields) => fields.iter().map(|f| f.name().clone()).collect(),
                    _ => Vec::new(),
                },
                None => Vec::new(),
            };
            let mut builder = datafusion::common::scalar::ScalarStructBuilder::new();
            for (i, value) in values.into_iter().enumerate() {
                let name = names
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("col{}", i + 1));
                builder = builder.with_scalar(Field::new(name, value.data_type(), true), value);
            }
            builder.build()?
        }
        other => {
            return Err(SparkError::unsupported(format!("the literal {other:?}")));
        }
    })
}

fn narrow<T: TryFrom<i32>>(value: i32) -> ConnectResult<T> {
    T::try_from(value)
        .map_err(|_| SparkError::invalid_plan(format!("literal {value} is out of range")))
}

/// A decimal literal: its digits as text, with optional precision and scale.
fn decimal(d: &literal::Decimal) -> ConnectResult<ScalarValue> {
    let text = d.value.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    // Spark types a decimal literal by its digits (PySpark sends decimal(10,0) for any
    // `lit(Decimal(...))`), widening to the declared scale when that is larger.
    let scale = d.scale.unwrap_or(0).max(fraction.len() as i32);
    let mut fraction = fraction.to_string();
    let wanted = usize::try_from(scale).unwrap_or(0);
    while fraction.len() < wanted {
        fraction.push('0');
    }
    fraction.truncate(wanted);
    let combined = format!("{whole}{fraction}");
    let unscaled: i128 = combined
        .trim_start_matches('0')
        .parse()
        .or_else(|e| {
            if combined.trim_start_matches('0').is_empty() {
                Ok(0)
            } else {
                Err(e)
            }
        })
        .map_err(|_| SparkError::invalid_plan(format!("`{text}` is not a decimal number")))?;
    let digits_count = combined.trim_start_matches('0').len().max(1) as i32;
    let precision = digits_count.max(scale).clamp(1, 38);
    Ok(ScalarValue::Decimal128(
        Some(if negative { -unscaled } else { unscaled }),
        precision as u8,
        scale as i8,
    ))
}
