//! Spark's `make_timestamp`, `make_timestamp_ltz` and `make_timestamp_ntz`, and their `try_`
//! forms: a timestamp from its fields (`year, month, day, hour, min, sec[, timezone]`, seconds
//! with a microsecond fraction) or from a date and a time (`date, time[, timezone]`). Fields
//! are read in the given time zone, else the session's (`_ntz` has none). A field out of range
//! raises Spark's `DATETIME_FIELD_OUT_OF_BOUNDS`; the `try_` forms give NULL instead.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, TimestampMicrosecondArray};
use arrow::compute::cast;
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Int32Type, Time64NanosecondType, TimeUnit,
};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::columnar::{all_scalar, finish};
use crate::zones::{session_label, spark_zone};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    let mut out = Vec::new();
    for zone in [Zone::Session, Zone::Local, Zone::None] {
        for tolerant in [false, true] {
            out.push(Arc::new(ScalarUDF::from(MakeTimestamp {
                zone,
                tolerant,
                label: "UTC".into(),
                signature: Signature::user_defined(Volatility::Immutable),
            })));
        }
    }
    out
}

/// Which timestamp is made: `make_timestamp` (the session's timestamp type, `TIMESTAMP`),
/// `make_timestamp_ltz` (the same, by name) or `make_timestamp_ntz` (no time zone).
#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
enum Zone {
    Session,
    Local,
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct MakeTimestamp {
    zone: Zone,
    tolerant: bool,
    /// The session's time zone, which labels the timestamps made.
    label: Arc<str>,
    signature: Signature,
}

impl ScalarUDFImpl for MakeTimestamp {
    fn name(&self) -> &str {
        match (self.zone, self.tolerant) {
            (Zone::Session, false) => "make_timestamp",
            (Zone::Session, true) => "try_make_timestamp",
            (Zone::Local, false) => "make_timestamp_ltz",
            (Zone::Local, true) => "try_make_timestamp_ltz",
            (Zone::None, false) => "make_timestamp_ntz",
            (Zone::None, true) => "try_make_timestamp_ntz",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let zoned = self.zone != Zone::None;
        let decimal = DataType::Decimal128(16, 6);
        let time = DataType::Time64(TimeUnit::Nanosecond);
        let mut wanted = match arg_types.len() {
            6 | 7 => vec![
                DataType::Int32,
                DataType::Int32,
                DataType::Int32,
                DataType::Int32,
                DataType::Int32,
                decimal,
            ],
            2 | 3 => vec![DataType::Date32, time],
            n => {
                return plan_err!(
                    "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] `{}` takes (year, month, day, hour, min, sec{}) or (date, time{}), not {n} argument(s)",
                    self.name(),
                    if zoned { "[, timezone]" } else { "" },
                    if zoned { "[, timezone]" } else { "" }
                );
            }
        };
        if arg_types.len() == 7 || arg_types.len() == 3 {
            if !zoned {
                return plan_err!(
                    "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] `{}` takes no time zone",
                    self.name()
                );
            }
            wanted.push(DataType::Utf8);
        }
        Ok(wanted)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Timestamp(
            TimeUnit::Microsecond,
            (self.zone != Zone::None).then(|| self.label.clone()),
        ))
    }

    fn with_updated_config(&self, config: &ConfigOptions) -> Option<ScalarUDF> {
        let label = session_label(config);
        (label != self.label).then(|| {
            ScalarUDF::from(MakeTimestamp {
                label,
                ..self.clone()
            })
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = all_scalar(&args.args);
        let rows = args.number_rows;
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<Vec<ArrayRef>>>()?;
        let session = crate::zones::session_label(&args.config_options).to_string();
        let from_fields = arrays.len() >= 6;
        let zone_column = arrays.get(if from_fields { 6 } else { 2 });
        let zone_names = zone_column.map(|z| cast(z, &DataType::Utf8)).transpose()?;
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            if arrays.iter().any(|a| a.is_null(row)) {
                out.push(None);
                continue;
            }
            let local = if from_fields {
                from_parts(&arrays, row)
            } else {
                from_date_and_time(&arrays, row)
            };
            let local = match local {
                Ok(local) => local,
                Err(_) if self.tolerant => {
                    out.push(None);
                    continue;
                }
                Err(message) => return exec_err!("{message}"),
            };
            let micros = match self.zone {
                Zone::None => Some(local.and_utc().timestamp_micros()),
                Zone::Session | Zone::Local => {
                    let name = zone_names
                        .as_ref()
                        .map_or(session.as_str(), |z| z.as_string::<i32>().value(row));
                    let Some(zone) = spark_zone(name) else {
                        if self.tolerant {
                            out.push(None);
                            continue;
                        }
                        return exec_err!(
                            "[INVALID_TIMEZONE] The timezone: {name} is invalid. The timezone must be either a region-based zone ID or a zone offset."
                        );
                    };
                    instant_of(&local, &zone)
                }
            };
            out.push(micros);
        }
        let made = TimestampMicrosecondArray::from(out)
            .with_timezone_opt((self.zone != Zone::None).then(|| self.label.clone()));
        finish(Arc::new(made), scalar)
    }
}

/// The instant a wall-clock time names in `zone`: the earlier of two in a repeated hour, and
/// one shifted past a skipped hour, as Java's `LocalDateTime.atZone` resolves them.
pub(crate) fn instant_of(local: &NaiveDateTime, zone: &impl TimeZone) -> Option<i64> {
    match zone.from_local_datetime(local).earliest() {
        Some(at) => Some(at.timestamp_micros()),
        None => {
            let later = *local + chrono::Duration::hours(1);
            let at = zone.from_local_datetime(&later).earliest()?;
            Some(at.timestamp_micros() - 3_600_000_000)
        }
    }
}

fn out_of_bounds(field: &str, range: &str, value: impl std::fmt::Display) -> String {
    format!(
        "[DATETIME_FIELD_OUT_OF_BOUNDS] Invalid value for {field} (valid values {range}): {value}. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error."
    )
}

fn from_parts(arrays: &[ArrayRef], row: usize) -> std::result::Result<NaiveDateTime, String> {
    let int = |i: usize| arrays[i].as_primitive::<Int32Type>().value(row);
    let (year, month, day, hour, minute) = (int(0), int(1), int(2), int(3), int(4));
    let seconds = arrays[5].as_primitive::<Decimal128Type>().value(row);
    if !(1..=12).contains(&month) {
        return Err(out_of_bounds("MonthOfYear", "1 - 12", month));
    }
    if !(1..=31).contains(&day) {
        return Err(out_of_bounds("DayOfMonth", "1 - 28/31", day));
    }
    if !(0..=23).contains(&hour) {
        return Err(out_of_bounds("HourOfDay", "0 - 23", hour));
    }
    if !(0..=59).contains(&minute) {
        return Err(out_of_bounds("MinuteOfHour", "0 - 59", minute));
    }
    let (whole, micros) = (seconds.div_euclid(1_000_000), seconds.rem_euclid(1_000_000));
    // Sixty seconds with no fraction is the next minute, as on Spark.
    let (whole, carry) = match whole {
        0..=59 => (whole, 0),
        60 if micros == 0 => (0, 1),
        _ => {
            return Err(format!(
                "[INVALID_FRACTION_OF_SECOND] Valid range for seconds is [0, 60] (inclusive), but the provided value is {}. To avoid this error, use `try_make_timestamp`, which returns NULL on error.",
                crate::java_text::decimal_text(seconds, 6)
            ));
        }
    };
    let date = NaiveDate::from_ymd_opt(year, month as u32, day as u32)
        .ok_or_else(|| format!("[DATETIME_FIELD_OUT_OF_BOUNDS] Invalid date '{year}-{month:02}-{day:02}'. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error."))?;
    let time =
        NaiveTime::from_hms_micro_opt(hour as u32, minute as u32, whole as u32, micros as u32)
            .ok_or_else(|| out_of_bounds("SecondOfMinute", "0 - 59", whole))?;
    Ok(date.and_time(time) + chrono::Duration::minutes(carry))
}

fn from_date_and_time(
    arrays: &[ArrayRef],
    row: usize,
) -> std::result::Result<NaiveDateTime, String> {
    let days = arrays[0].as_primitive::<Date32Type>().value(row);
    let nanos = arrays[1].as_primitive::<Time64NanosecondType>().value(row);
    let date = NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(days.into())))
        .ok_or_else(|| format!("the date {days} days from the epoch is out of range"))?;
    let seconds = u32::try_from(nanos.div_euclid(1_000_000_000)).unwrap_or(u32::MAX);
    let fraction = u32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0);
    let time = NaiveTime::from_num_seconds_from_midnight_opt(seconds, fraction)
        .ok_or_else(|| format!("the time {nanos} ns from midnight is out of range"))?;
    Ok(date.and_time(time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Date32Array, Decimal128Array, Int32Array, Time64NanosecondArray};

    fn parts(year: i32, month: i32, second_micros: i128) -> Vec<ArrayRef> {
        vec![
            Arc::new(Int32Array::from(vec![year])),
            Arc::new(Int32Array::from(vec![month])),
            Arc::new(Int32Array::from(vec![28])),
            Arc::new(Int32Array::from(vec![6])),
            Arc::new(Int32Array::from(vec![30])),
            Arc::new(
                Decimal128Array::from(vec![second_micros])
                    .with_precision_and_scale(16, 6)
                    .unwrap(),
            ),
        ]
    }

    #[test]
    fn fields_make_local_date_times() {
        let made = from_parts(&parts(2014, 12, 45_887_000), 0).unwrap();
        assert_eq!(made.to_string(), "2014-12-28 06:30:45.887");
        let carried = from_parts(&parts(2014, 12, 60_000_000), 0).unwrap();
        assert_eq!(carried.to_string(), "2014-12-28 06:31:00");
        let message = from_parts(&parts(2014, 13, 0), 0).unwrap_err();
        assert!(
            message.contains("DATETIME_FIELD_OUT_OF_BOUNDS"),
            "{message}"
        );
        assert!(from_parts(&parts(2014, 12, 60_500_000), 0).is_err());
    }

    #[test]
    fn zones_place_the_wall_clock() {
        let local = from_parts(&parts(2014, 12, 45_887_000), 0).unwrap();
        let cet = spark_zone("CET").unwrap();
        let micros = instant_of(&local, &cet).unwrap();
        let utc = chrono::DateTime::from_timestamp_micros(micros).unwrap();
        assert_eq!(utc.naive_utc().to_string(), "2014-12-28 05:30:45.887");
        let date_time = vec![
            Arc::new(Date32Array::from(vec![16432])) as ArrayRef,
            Arc::new(Time64NanosecondArray::from(vec![23_445_887_000_000])),
        ];
        assert_eq!(
            from_date_and_time(&date_time, 0).unwrap().to_string(),
            "2014-12-28 06:30:45.887"
        );
    }
}
