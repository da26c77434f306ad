//! Spark's `from_utc_timestamp(ts, zone)` and `to_utc_timestamp(ts, zone)`: shift a timestamp
//! by a zone's offset, reading the zone as Java does (`PST`, `+08:00`, region IDs), so the wall
//! clock of `ts` in UTC becomes the wall clock in `zone`, and back.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, TimestampMicrosecondArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use chrono::{DateTime, Offset, TimeZone};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::columnar::{all_scalar, finish};
use crate::make_timestamp::instant_of;
use crate::zones::{session_label, spark_zone};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    [Direction::FromUtc, Direction::ToUtc]
        .into_iter()
        .map(|direction| {
            Arc::new(ScalarUDF::from(ZoneShift {
                direction,
                label: "UTC".into(),
                signature: Signature::user_defined(Volatility::Immutable),
            }))
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
enum Direction {
    FromUtc,
    ToUtc,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ZoneShift {
    direction: Direction,
    /// The session's time zone: it labels the result, and text is read in it.
    label: Arc<str>,
    signature: Signature,
}

impl ZoneShift {
    fn timestamp(&self) -> DataType {
        DataType::Timestamp(TimeUnit::Microsecond, Some(self.label.clone()))
    }
}

impl ScalarUDFImpl for ZoneShift {
    fn name(&self) -> &str {
        match self.direction {
            Direction::FromUtc => "from_utc_timestamp",
            Direction::ToUtc => "to_utc_timestamp",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [ts, zone]
                if matches!(
                    ts,
                    DataType::Timestamp(_, _)
                        | DataType::Date32
                        | DataType::Utf8
                        | DataType::LargeUtf8
                        | DataType::Utf8View
                        | DataType::Null
                ) && matches!(
                    zone,
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
                ) =>
            {
                Ok(vec![self.timestamp(), DataType::Utf8])
            }
            [_, _] => plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{}` takes a timestamp and a time zone name",
                self.name()
            ),
            other => plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] `{}` takes 2 arguments, not {}",
                self.name(),
                other.len()
            ),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.timestamp())
    }

    fn with_updated_config(&self, config: &ConfigOptions) -> Option<ScalarUDF> {
        let label = session_label(config);
        (label != self.label).then(|| {
            ScalarUDF::from(ZoneShift {
                label,
                ..self.clone()
            })
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = all_scalar(&args.args);
        let rows = args.number_rows;
        let stamps = args.args[0].to_array(rows)?;
        let stamps = stamps.as_primitive::<TimestampMicrosecondType>();
        let zones: ArrayRef = cast(&args.args[1].to_array(rows)?, &DataType::Utf8)?;
        let zones = zones.as_string::<i32>();
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            if stamps.is_null(row) || zones.is_null(row) {
                out.push(None);
                continue;
            }
            let name = zones.value(row);
            let Some(zone) = spark_zone(name) else {
                return exec_err!(
                    "[INVALID_TIMEZONE] The timezone: {name} is invalid. The timezone must be either a region-based zone ID or a zone offset."
                );
            };
            let micros = stamps.value(row);
            let Some(at) = DateTime::from_timestamp_micros(micros) else {
                out.push(None);
                continue;
            };
            out.push(match self.direction {
                // The instant's wall clock in `zone`, read as UTC.
                Direction::FromUtc => {
                    let offset = zone.offset_from_utc_datetime(&at.naive_utc()).fix();
                    Some(micros + i64::from(offset.local_minus_utc()) * 1_000_000)
                }
                // The instant's UTC wall clock, read in `zone`.
                Direction::ToUtc => instant_of(&at.naive_utc(), &zone),
            });
        }
        let shifted = TimestampMicrosecondArray::from(out).with_timezone(self.label.clone());
        finish(Arc::new(shifted), scalar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::Field;
    use datafusion::common::ScalarValue;

    fn shift(direction: Direction, micros: i64, zone: &str) -> i64 {
        let udf = ZoneShift {
            direction,
            label: "UTC".into(),
            signature: Signature::user_defined(Volatility::Immutable),
        };
        let args = ScalarFunctionArgs {
            args: vec![
                ColumnarValue::Scalar(ScalarValue::TimestampMicrosecond(
                    Some(micros),
                    Some("UTC".into()),
                )),
                ColumnarValue::Scalar(ScalarValue::Utf8(Some(zone.into()))),
            ],
            arg_fields: vec![
                Arc::new(Field::new("ts", udf.timestamp(), true)),
                Arc::new(Field::new("zone", DataType::Utf8, true)),
            ],
            number_rows: 1,
            return_field: Arc::new(Field::new("out", udf.timestamp(), true)),
            config_options: Arc::new(ConfigOptions::default()),
        };
        match udf.invoke_with_args(args).unwrap() {
            ColumnarValue::Scalar(ScalarValue::TimestampMicrosecond(Some(v), _)) => v,
            other => panic!("a timestamp, not {other:?}"),
        }
    }

    #[test]
    fn wall_clocks_shift_by_the_zone() {
        let hour = 3_600_000_000i64;
        // 1997-02-28 10:30 UTC.
        let at = 857_125_800_000_000i64;
        assert_eq!(shift(Direction::FromUtc, at, "PST"), at - 8 * hour);
        assert_eq!(shift(Direction::FromUtc, at, "JST"), at + 9 * hour);
        assert_eq!(shift(Direction::ToUtc, at, "PST"), at + 8 * hour);
        assert_eq!(shift(Direction::ToUtc, at, "+01:00"), at - hour);
    }
}
