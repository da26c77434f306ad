//! Spark's `timestampadd(unit, quantity, ts)` and `timestampdiff(unit, start, end)` over the
//! units `MICROSECOND`, `MILLISECOND`, `SECOND`, `MINUTE`, `HOUR`, `DAY` (`DAYOFYEAR`), `WEEK`,
//! `MONTH`, `QUARTER` and `YEAR`. Days, weeks and months move the wall clock in the session's
//! time zone (so a day across a clock change is still a calendar day), smaller units move the
//! instant; differences count whole units as Java's `ChronoUnit.between` does.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, TimestampMicrosecondArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use chrono::{DateTime, Datelike, Months, NaiveDateTime, Timelike};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::columnar::{all_scalar, finish, is_text};
use crate::make_timestamp::instant_of;
use crate::zones::{session_label, spark_zone};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    [Operation::Add, Operation::Diff]
        .into_iter()
        .map(|operation| {
            Arc::new(ScalarUDF::from(TimestampUnits {
                operation,
                label: "UTC".into(),
                signature: Signature::user_defined(Volatility::Immutable),
            }))
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
enum Operation {
    Add,
    Diff,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TimestampUnits {
    operation: Operation,
    /// The session's time zone, the label of timestamps made from dates and text.
    label: Arc<str>,
    signature: Signature,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Micros(i64),
    Days(i64),
    Months(i64),
}

fn unit_of(name: &str) -> Option<Unit> {
    Some(match name.trim().to_ascii_uppercase().as_str() {
        "MICROSECOND" => Unit::Micros(1),
        "MILLISECOND" => Unit::Micros(1_000),
        "SECOND" => Unit::Micros(1_000_000),
        "MINUTE" => Unit::Micros(60_000_000),
        "HOUR" => Unit::Micros(3_600_000_000),
        "DAY" | "DAYOFYEAR" => Unit::Days(1),
        "WEEK" => Unit::Days(7),
        "MONTH" => Unit::Months(1),
        "QUARTER" => Unit::Months(3),
        "YEAR" => Unit::Months(12),
        _ => return None,
    })
}

impl TimestampUnits {
    fn zoned_timestamp(&self) -> DataType {
        DataType::Timestamp(TimeUnit::Microsecond, Some(self.label.clone()))
    }

    /// A timestamp argument's type: timestamps keep theirs, dates and text become `TIMESTAMP`.
    fn timestamp_of(&self, t: &DataType) -> Option<DataType> {
        match t {
            DataType::Timestamp(_, zone) => {
                Some(DataType::Timestamp(TimeUnit::Microsecond, zone.clone()))
            }
            DataType::Date32 | DataType::Date64 | DataType::Null => Some(self.zoned_timestamp()),
            t if is_text(t) => Some(self.zoned_timestamp()),
            _ => None,
        }
    }
}

impl ScalarUDFImpl for TimestampUnits {
    fn name(&self) -> &str {
        match self.operation {
            Operation::Add => "timestampadd",
            Operation::Diff => "timestampdiff",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [unit, second, third] = arg_types else {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] `{}` takes 3 arguments, not {}",
                self.name(),
                arg_types.len()
            );
        };
        if !is_text(unit) {
            return plan_err!("`{}` takes its unit as a string", self.name());
        }
        let mismatch = || {
            plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{}` takes {}",
                self.name(),
                match self.operation {
                    Operation::Add => "a unit, an integer quantity and a timestamp",
                    Operation::Diff => "a unit and two timestamps",
                }
            )
        };
        match self.operation {
            Operation::Add => {
                let quantity = match second {
                    DataType::Int8
                    | DataType::Int16
                    | DataType::Int32
                    | DataType::Int64
                    | DataType::Null => DataType::Int64,
                    _ => return mismatch(),
                };
                let Some(ts) = self.timestamp_of(third) else {
                    return mismatch();
                };
                Ok(vec![DataType::Utf8, quantity, ts])
            }
            Operation::Diff => {
                let (Some(start), Some(end)) =
                    (self.timestamp_of(second), self.timestamp_of(third))
                else {
                    return mismatch();
                };
                // Both sides in one type: a zone-less timestamp meets a zoned one as zoned.
                let common = if start == end {
                    start
                } else {
                    self.zoned_timestamp()
                };
                Ok(vec![DataType::Utf8, common.clone(), common])
            }
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match self.operation {
            Operation::Add => Ok(arg_types
                .get(2)
                .cloned()
                .unwrap_or_else(|| self.zoned_timestamp())),
            Operation::Diff => Ok(DataType::Int64),
        }
    }

    fn with_updated_config(&self, config: &ConfigOptions) -> Option<ScalarUDF> {
        let label = session_label(config);
        (label != self.label).then(|| {
            ScalarUDF::from(TimestampUnits {
                label,
                ..self.clone()
            })
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = all_scalar(&args.args);
        let rows = args.number_rows;
        let unit = match &args.args[0] {
            ColumnarValue::Scalar(ScalarValue::Utf8(Some(name))) => name.clone(),
            _ => {
                return exec_err!(
                    "`{}` takes its unit as a string literal (YEAR, MONTH, DAY, …)",
                    self.name()
                );
            }
        };
        let Some(unit) = unit_of(&unit) else {
            return exec_err!(
                "[INVALID_PARAMETER_VALUE.DATETIME_UNIT] The value of parameter(s) `unit` in `{}` is invalid: expects one of the units without quotes YEAR, QUARTER, MONTH, WEEK, DAY, DAYOFYEAR, HOUR, MINUTE, SECOND, MILLISECOND, MICROSECOND, but got the string literal '{unit}'.",
                self.name()
            );
        };
        let zoned = matches!(
            args.arg_fields[2].data_type(),
            DataType::Timestamp(_, Some(_))
        );
        let session = crate::zones::session_label(&args.config_options).to_string();
        let zone = if zoned { spark_zone(&session) } else { None };
        let wall = |micros: i64| -> Option<NaiveDateTime> {
            let at = DateTime::from_timestamp_micros(micros)?;
            Some(match &zone {
                Some(zone) => at.with_timezone(zone).naive_local(),
                None => at.naive_utc(),
            })
        };
        let instant = |local: NaiveDateTime| -> Option<i64> {
            match &zone {
                Some(zone) => instant_of(&local, zone),
                None => Some(local.and_utc().timestamp_micros()),
            }
        };
        let second = args.args[1].to_array(rows)?;
        let third: ArrayRef = args.args[2].to_array(rows)?;
        let third = third.as_primitive::<TimestampMicrosecondType>();
        let result: ArrayRef = match self.operation {
            Operation::Add => {
                let quantities = cast(&second, &DataType::Int64)?;
                let quantities = quantities.as_primitive::<arrow::datatypes::Int64Type>();
                let mut out = Vec::with_capacity(rows);
                for row in 0..rows {
                    if quantities.is_null(row) || third.is_null(row) {
                        out.push(None);
                        continue;
                    }
                    let (amount, micros) = (quantities.value(row), third.value(row));
                    let added = match unit {
                        Unit::Micros(size) => {
                            amount.checked_mul(size).and_then(|d| micros.checked_add(d))
                        }
                        Unit::Days(size) => wall(micros)
                            .and_then(|local| {
                                local.checked_add_signed(chrono::Duration::days(
                                    amount.checked_mul(size)?,
                                ))
                            })
                            .and_then(instant),
                        Unit::Months(size) => wall(micros)
                            .and_then(|local| add_months(local, amount.checked_mul(size)?))
                            .and_then(instant),
                    };
                    match added {
                        Some(v) => out.push(Some(v)),
                        None => {
                            return exec_err!(
                                "[DATETIME_OVERFLOW] Datetime operation overflow: add {amount} {unit:?} to TIMESTAMP."
                            );
                        }
                    }
                }
                let zone = match args.return_type() {
                    DataType::Timestamp(_, zone) => zone.clone(),
                    _ => None,
                };
                Arc::new(TimestampMicrosecondArray::from(out).with_timezone_opt(zone))
            }
            Operation::Diff => {
                let second = second.as_primitive::<TimestampMicrosecondType>();
                let mut out = Vec::with_capacity(rows);
                for row in 0..rows {
                    if second.is_null(row) || third.is_null(row) {
                        out.push(None);
                        continue;
                    }
                    let (start, end) = (second.value(row), third.value(row));
                    out.push(match unit {
                        Unit::Micros(size) => end.checked_sub(start).map(|d| d / size),
                        Unit::Days(size) => match (wall(start), wall(end)) {
                            (Some(a), Some(b)) => Some(whole_days(a, b) / size),
                            _ => None,
                        },
                        Unit::Months(size) => match (wall(start), wall(end)) {
                            (Some(a), Some(b)) => Some(whole_months(a, b) / size),
                            _ => None,
                        },
                    });
                }
                Arc::new(Int64Array::from(out))
            }
        };
        finish(result, scalar)
    }
}

/// `local` moved by `months`, the day clamped to the month's last, as Java's `plusMonths`.
fn add_months(local: NaiveDateTime, months: i64) -> Option<NaiveDateTime> {
    let magnitude = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
    if months >= 0 {
        local.checked_add_months(magnitude)
    } else {
        local.checked_sub_months(magnitude)
    }
}

/// Whole days from `a` to `b`, counting a day only once its time of day is reached.
fn whole_days(a: NaiveDateTime, b: NaiveDateTime) -> i64 {
    let mut days = (b.date() - a.date()).num_days();
    if days > 0 && b.time() < a.time() {
        days -= 1;
    } else if days < 0 && b.time() > a.time() {
        days += 1;
    }
    days
}

/// Whole months from `a` to `b`, as Java's `ChronoUnit.MONTHS.between`.
fn whole_months(a: NaiveDateTime, b: NaiveDateTime) -> i64 {
    let index = |t: NaiveDateTime| i64::from(t.year()) * 12 + i64::from(t.month0());
    let rest = |t: NaiveDateTime| (t.day(), t.num_seconds_from_midnight(), t.nanosecond());
    let mut months = index(b) - index(a);
    if months > 0 && rest(b) < rest(a) {
        months -= 1;
    } else if months < 0 && rest(b) > rest(a) {
        months += 1;
    }
    months
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn units_count_as_java_counts_them() {
        let (a, b) = (at("2016-03-11 09:00:07"), at("2024-04-02 09:00:07"));
        assert_eq!(whole_months(a, b) / 12, 8);
        assert_eq!(whole_days(a, b) / 7, 420);
        assert_eq!(whole_days(b, a), -2944);
        assert_eq!(
            whole_months(at("2020-01-31 00:00:00"), at("2020-02-29 00:00:00")),
            0
        );
        assert_eq!(
            add_months(at("2020-01-31 10:00:00"), 1),
            Some(at("2020-02-29 10:00:00"))
        );
        assert_eq!(
            add_months(at("2016-03-11 09:00:07"), -24),
            Some(at("2014-03-11 09:00:07"))
        );
        assert_eq!(unit_of("week"), Some(Unit::Days(7)));
        assert_eq!(unit_of("fortnight"), None);
    }
}
