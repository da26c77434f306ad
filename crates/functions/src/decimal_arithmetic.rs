//! Decimal `+ - * / %` with Spark's result type and HALF_UP rounding, for the cases where
//! DataFusion's kernels give another type or truncate (every division; results past 38 digits).

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, ArrayRef, AsArray, Decimal128Array, Decimal128Builder};
use arrow::datatypes::{DataType, Decimal128Type, i256};
use arrow::error::ArrowError;
use datafusion::common::{DataFusionError, Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::decimal::{DecimalFailure, DecimalOp, apply, fit};

static FUNCTIONS: LazyLock<Vec<Arc<ScalarUDF>>> = LazyLock::new(|| {
    DecimalOp::ALL
        .into_iter()
        .map(|op| Arc::new(ScalarUDF::from(DecimalArithmetic::new(op))))
        .collect()
});

/// The function computing `op`.
pub fn udf(op: DecimalOp) -> Arc<ScalarUDF> {
    let index = DecimalOp::ALL
        .iter()
        .position(|candidate| *candidate == op)
        .unwrap_or_default();
    FUNCTIONS[index].clone()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct DecimalArithmetic {
    op: DecimalOp,
    signature: Signature,
}

impl DecimalArithmetic {
    fn new(op: DecimalOp) -> DecimalArithmetic {
        DecimalArithmetic {
            op,
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

fn decimal_parts(data_type: &DataType) -> Result<(u8, i8)> {
    match data_type {
        DataType::Decimal128(p, s) => Ok((*p, *s)),
        other => exec_err!("decimal arithmetic needs decimal(p,s) operands, not {other}"),
    }
}

impl ScalarUDFImpl for DecimalArithmetic {
    fn name(&self) -> &str {
        self.op.function_name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let [left, right] = arg_types else {
            return exec_err!("{} takes two arguments", self.name());
        };
        let (p, s) =
            crate::decimal::spark_result_type(self.op, decimal_parts(left)?, decimal_parts(right)?);
        Ok(DataType::Decimal128(p, s))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|arg| matches!(arg, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [left, right] = arrays.as_slice() else {
            return exec_err!("{} takes two arguments", self.name());
        };
        let DataType::Decimal128(precision, scale) = args.return_field.data_type().clone() else {
            return exec_err!("{} returns a decimal", self.name());
        };
        let result = compute(
            self.op,
            left.as_primitive::<Decimal128Type>(),
            right.as_primitive::<Decimal128Type>(),
            (precision, scale),
        )?;
        let result: ArrayRef = Arc::new(result);
        if all_scalar {
            return Ok(ColumnarValue::Scalar(
                datafusion::common::ScalarValue::try_from_array(&result, 0)?,
            ));
        }
        Ok(ColumnarValue::Array(result))
    }
}

fn compute(
    op: DecimalOp,
    left: &Decimal128Array,
    right: &Decimal128Array,
    (precision, scale): (u8, i8),
) -> Result<Decimal128Array> {
    let s1 = i32::from(left.scale());
    let s2 = i32::from(right.scale());
    let s = i32::from(scale);
    let mut builder = Decimal128Builder::with_capacity(left.len());
    for row in 0..left.len() {
        if left.is_null(row) || right.is_null(row) {
            builder.append_null();
            continue;
        }
        let a = i256::from_i128(left.value(row));
        let b = i256::from_i128(right.value(row));
        let value = apply(op, a, s1, b, s2, s)
            .and_then(|v| fit(v, precision))
            .map_err(|failure| failure_error(failure, op, precision, scale))?;
        builder.append_value(value);
    }
    Ok(builder
        .finish()
        .with_precision_and_scale(precision, scale)?)
}

fn failure_error(
    failure: DecimalFailure,
    op: DecimalOp,
    precision: u8,
    scale: i8,
) -> DataFusionError {
    let arrow = match failure {
        DecimalFailure::DivideByZero => ArrowError::DivideByZero,
        DecimalFailure::Overflow => ArrowError::ArithmeticOverflow(format!(
            "decimal {op:?} does not fit in decimal({precision},{scale})"
        )),
    };
    DataFusionError::ArrowError(Box::new(arrow), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(op: DecimalOp, left: (i128, u8, i8), right: (i128, u8, i8)) -> Result<String> {
        let l = Decimal128Array::from(vec![left.0]).with_precision_and_scale(left.1, left.2)?;
        let r = Decimal128Array::from(vec![right.0]).with_precision_and_scale(right.1, right.2)?;
        let ty = crate::decimal::spark_result_type(op, (left.1, left.2), (right.1, right.2));
        let out = compute(op, &l, &r, ty)?;
        Ok(out.value_as_string(0))
    }

    #[test]
    fn division_rounds_half_up_at_sparks_scale() -> Result<()> {
        // 2.00 / 3.00 is decimal(23,13) in Spark: 0.6666666666667.
        assert_eq!(
            run(DecimalOp::Divide, (200, 10, 2), (300, 10, 2))?,
            "0.6666666666667"
        );
        assert_eq!(
            run(DecimalOp::Divide, (-200, 10, 2), (300, 10, 2))?,
            "-0.6666666666667"
        );
        // 1 / 8 at decimal(1,0) / decimal(1,0): scale 6.
        assert_eq!(run(DecimalOp::Divide, (1, 1, 0), (8, 1, 0))?, "0.125000");
        assert!(matches!(
            run(DecimalOp::Divide, (1, 1, 0), (0, 1, 0)),
            Err(DataFusionError::ArrowError(e, _)) if matches!(*e, ArrowError::DivideByZero)
        ));
        Ok(())
    }

    #[test]
    fn wide_products_give_up_scale_with_rounding() -> Result<()> {
        // decimal(20,10) * decimal(20,10) is decimal(38,17): the 20-digit scale is rounded.
        let product = run(
            DecimalOp::Multiply,
            (1_2345678905, 20, 10),
            (1_0000000005, 20, 10),
        )?;
        assert_eq!(product, "1.23456789111728395");
        assert_eq!(
            run(DecimalOp::Remainder, (-755, 10, 2), (200, 10, 2))?,
            "-1.55"
        );
        Ok(())
    }
}
