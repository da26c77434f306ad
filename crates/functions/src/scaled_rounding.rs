//! `ceil(x, scale)`, `floor(x, scale)` and `bround(x [, scale])`: rounding a double to a
//! number of decimal places on its decimal text, as Spark's `BigDecimal.setScale` does
//! (`floor(0.29, 2)` stays 0.29, which `floor(0.29 * 100) / 100` would not). With one
//! argument `ceil` and `floor` stay `datafusion-spark`'s (a bigint, as Spark's).

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray};
use arrow::datatypes::{DataType, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::type_coercion::functions::fields_with_udf;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use crate::round::{Rounding, round_decimal_text};

/// `ceil` and `floor` over the one-argument implementations, and `bround`.
pub fn functions(
    ceil: Option<Arc<ScalarUDF>>,
    floor: Option<Arc<ScalarUDF>>,
) -> Vec<Arc<ScalarUDF>> {
    let mut all = vec![scaled("bround", Rounding::HalfEven, None)];
    if let Some(ceil) = ceil {
        all.push(scaled("ceil", Rounding::Ceiling, Some(ceil)));
    }
    if let Some(floor) = floor {
        all.push(scaled("floor", Rounding::Floor, Some(floor)));
    }
    all
}

fn scaled(name: &'static str, mode: Rounding, unscaled: Option<Arc<ScalarUDF>>) -> Arc<ScalarUDF> {
    let aliases = unscaled
        .as_ref()
        .map(|f| f.aliases().to_vec())
        .unwrap_or_default();
    Arc::new(ScalarUDF::from(ScaledRounding {
        name,
        mode,
        unscaled,
        aliases,
        signature: Signature::user_defined(Volatility::Immutable),
    }))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ScaledRounding {
    name: &'static str,
    mode: Rounding,
    /// The function for a call without a scale; `None` rounds to scale 0 here.
    unscaled: Option<Arc<ScalarUDF>>,
    aliases: Vec<String>,
    signature: Signature,
}

impl ScaledRounding {
    fn delegates(&self, argument_count: usize) -> Option<&Arc<ScalarUDF>> {
        (argument_count == 1)
            .then_some(self.unscaled.as_ref())
            .flatten()
    }
}

impl ScalarUDFImpl for ScaledRounding {
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
        if let Some(unscaled) = self.delegates(arg_types.len()) {
            let fields: Vec<FieldRef> = arg_types
                .iter()
                .map(|t| Arc::new(arrow::datatypes::Field::new("arg", t.clone(), true)))
                .collect();
            return Ok(fields_with_udf(&fields, unscaled.as_ref())?
                .iter()
                .map(|f| f.data_type().clone())
                .collect());
        }
        match arg_types {
            [value] | [value, _] if value.is_numeric() || value.is_null() => {
                let mut types = vec![DataType::Float64];
                if arg_types.len() == 2 {
                    types.push(DataType::Int32);
                }
                Ok(types)
            }
            _ => plan_err!(
                "`{}` takes a number and an optional constant scale, not ({})",
                self.name,
                arg_types
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match self.delegates(arg_types.len()) {
            Some(unscaled) => unscaled.return_type(arg_types),
            None => Ok(DataType::Float64),
        }
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        match self.delegates(args.arg_fields.len()) {
            Some(unscaled) => unscaled.return_field_from_args(args),
            None => Ok(Arc::new(arrow::datatypes::Field::new(
                self.name,
                DataType::Float64,
                true,
            ))),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if let Some(unscaled) = self.delegates(args.args.len()) {
            return unscaled.invoke_with_args(args);
        }
        let scale = match args.args.get(1) {
            None => 0,
            Some(ColumnarValue::Scalar(ScalarValue::Int32(Some(scale)))) => *scale,
            Some(ColumnarValue::Scalar(s)) if s.is_null() => {
                return Ok(ColumnarValue::Scalar(ScalarValue::Float64(None)));
            }
            Some(_) => return exec_err!("the scale of `{}` must be a constant", self.name),
        };
        let Some(value) = args.args.first() else {
            return exec_err!("`{}` takes a number", self.name);
        };
        let is_scalar = matches!(value, ColumnarValue::Scalar(_));
        let array = value.to_array(args.number_rows.max(1))?;
        let mode = self.mode;
        let rounded: ArrayRef = Arc::new(
            array
                .as_primitive::<Float64Type>()
                .unary::<_, Float64Type>(|v| round_decimal_text(v, scale, mode)),
        );
        if is_scalar {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(
                &rounded, 0,
            )?));
        }
        Ok(ColumnarValue::Array(rounded))
    }
}
