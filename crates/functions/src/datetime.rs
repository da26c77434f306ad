//! Spark's date-part functions (`year`, `month`, `dayofweek`, …): an `int` from a date, a
//! timestamp or a string that casts to one, as Spark gives them.

use std::sync::Arc;

use arrow::compute::cast;
use arrow::compute::kernels::temporal::{DatePart, date_part};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The Spark date-part functions with the part of a date each extracts.
pub fn functions() -> Vec<Arc<ScalarUDF>> {
    [
        ("year", DatePart::Year, &[][..]),
        ("quarter", DatePart::Quarter, &[]),
        ("month", DatePart::Month, &[]),
        ("day", DatePart::Day, &["dayofmonth"]),
        ("dayofweek", DatePart::DayOfWeekSunday1, &[]),
        ("dayofyear", DatePart::DayOfYear, &[]),
        ("weekofyear", DatePart::WeekISO, &[]),
    ]
    .into_iter()
    .map(|(name, part, aliases)| {
        Arc::new(ScalarUDF::from(DatePartFunction {
            name,
            part,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            signature: Signature::user_defined(Volatility::Immutable),
        }))
    })
    .collect()
}

#[derive(Debug)]
struct DatePartFunction {
    name: &'static str,
    part: DatePart,
    aliases: Vec<String>,
    signature: Signature,
}

// The name says which part a function extracts (`DatePart` itself is not hashable).
impl PartialEq for DatePartFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for DatePartFunction {}

impl std::hash::Hash for DatePartFunction {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for DatePartFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [arg] = arg_types else {
            return plan_err!(
                "`{}` takes 1 argument (a date or timestamp), not {}",
                self.name,
                arg_types.len()
            );
        };
        match arg {
            DataType::Date32 | DataType::Timestamp(_, _) => Ok(vec![arg.clone()]),
            DataType::Date64 => Ok(vec![DataType::Date32]),
            // Spark casts strings to dates for these functions.
            DataType::Null | DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                Ok(vec![DataType::Date32])
            }
            other => plan_err!("`{}` takes a date or timestamp, not {other}", self.name),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [value] = args.args.as_slice() else {
            return plan_err!("`{}` takes 1 argument", self.name);
        };
        let scalar = matches!(value, ColumnarValue::Scalar(_));
        let array = value.to_array(args.number_rows)?;
        let part = date_part(&array, self.part)?;
        let part = cast(&part, &DataType::Int32)?;
        if scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &part, 0,
            )?))
        } else {
            Ok(ColumnarValue::Array(part))
        }
    }
}
