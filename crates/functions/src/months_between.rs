//! Spark's `months_between(end, start [, roundOff])`: whole months when both days of the
//! month are equal or both are the last of their month, else months plus the remaining
//! seconds over a 31-day month, rounded to 8 decimals unless `roundOff` is false. Times are
//! compared on the wall clock of the zone a timestamp carries (the session's); strings and
//! dates are wall-clock times already.

use std::sync::Arc;

use arrow::array::timezone::Tz;
use arrow::array::{Array, AsArray, BooleanArray, Float64Builder};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use chrono::{Datelike, NaiveDateTime, TimeZone, Timelike};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![Arc::new(ScalarUDF::from(MonthsBetween {
        signature: Signature::user_defined(Volatility::Immutable),
    }))]
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct MonthsBetween {
    signature: Signature,
}

fn as_timestamp(t: &DataType) -> Option<DataType> {
    match t {
        DataType::Timestamp(_, zone) => {
            Some(DataType::Timestamp(TimeUnit::Microsecond, zone.clone()))
        }
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Date32
        | DataType::Date64
        | DataType::Null => Some(DataType::Timestamp(TimeUnit::Microsecond, None)),
        _ => None,
    }
}

impl ScalarUDFImpl for MonthsBetween {
    fn name(&self) -> &str {
        "months_between"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let (Some(end), Some(start)) = (arg_types.first(), arg_types.get(1)) else {
            return plan_err!("`months_between` takes two timestamps and an optional boolean");
        };
        let (Some(end), Some(start)) = (as_timestamp(end), as_timestamp(start)) else {
            return plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `months_between` takes timestamps, dates or strings, not ({end}, {start})"
            );
        };
        let mut types = vec![end, start];
        match arg_types.get(2) {
            None => {}
            Some(DataType::Boolean | DataType::Null) => types.push(DataType::Boolean),
            Some(other) => {
                return plan_err!(
                    "the third argument of `months_between` is a boolean, not {other}"
                );
            }
        }
        if arg_types.len() > 3 {
            return plan_err!("`months_between` takes two or three arguments");
        }
        Ok(types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let all_scalar = crate::columnar::all_scalar(&args.args);
        let wall_clock = |i: usize| -> Result<Vec<Option<NaiveDateTime>>> {
            let array = args.args[i].to_array(rows)?;
            let zone = match array.data_type() {
                DataType::Timestamp(_, Some(zone)) => Some(zone.parse::<Tz>()?),
                _ => None,
            };
            let micros = cast(&array, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
            Ok(micros
                .as_primitive::<TimestampMicrosecondType>()
                .iter()
                .map(|v| {
                    let utc = chrono::DateTime::from_timestamp_micros(v?)?.naive_utc();
                    Some(match &zone {
                        Some(zone) => zone.from_utc_datetime(&utc).naive_local(),
                        None => utc,
                    })
                })
                .collect())
        };
        let (ends, starts) = (wall_clock(0)?, wall_clock(1)?);
        let round_off = match args.args.get(2) {
            Some(flag) => {
                let array = flag.to_array(rows)?;
                array.as_boolean().clone()
            }
            None => BooleanArray::from(vec![true; rows]),
        };
        let mut builder = Float64Builder::with_capacity(rows);
        for row in 0..rows {
            match (ends[row], starts[row], round_off.is_valid(row)) {
                (Some(end), Some(start), true) => {
                    builder.append_value(months_between(end, start, round_off.value(row)))
                }
                _ => builder.append_null(),
            }
        }
        crate::columnar::finish(Arc::new(builder.finish()), all_scalar)
    }
}

fn is_last_day(t: &NaiveDateTime) -> bool {
    t.date()
        .succ_opt()
        .is_none_or(|next| next.month() != t.month())
}

fn months_between(end: NaiveDateTime, start: NaiveDateTime, round_off: bool) -> f64 {
    let months = |t: &NaiveDateTime| i64::from(t.year()) * 12 + i64::from(t.month());
    let month_diff = (months(&end) - months(&start)) as f64;
    if end.day() == start.day() || (is_last_day(&end) && is_last_day(&start)) {
        return month_diff;
    }
    let day_diff = i64::from(end.day()) - i64::from(start.day());
    let seconds = day_diff * 86_400 + i64::from(end.num_seconds_from_midnight())
        - i64::from(start.num_seconds_from_midnight());
    let diff = month_diff + seconds as f64 / (31.0 * 86_400.0);
    if round_off {
        // Java's Math.round: half up, towards positive infinity.
        (diff * 1e8 + 0.5).floor() / 1e8
    } else {
        diff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn months_between_follows_sparks_rules() {
        let (end, start) = (at("1997-02-28 10:30:00"), at("1996-10-30 00:00:00"));
        assert_eq!(months_between(end, start, true), 3.94959677);
        assert_eq!(months_between(start, end, true), -3.94959677);
        assert!((months_between(end, start, false) - 3.949_596_774_193_548).abs() < 1e-12);
        // Both last days of their months: whole months.
        assert_eq!(
            months_between(at("2024-02-29 00:00:00"), at("2024-01-31 12:00:00"), true),
            1.0
        );
        assert_eq!(
            months_between(at("2024-03-15 00:00:00"), at("2024-01-15 23:00:00"), true),
            2.0
        );
    }
}
