//! Spark's `try_add`, `try_subtract`, `try_multiply`, `try_divide` and `try_mod` over numbers:
//! the operator's result, NULL where it would overflow its type or divide by zero, in ANSI
//! mode or not. Integers keep the wider integer type (`try_divide` gives a double, as `/`
//! does), floating-point numbers are doubles, and a date plus or minus days is
//! `date_add`/`date_sub`. Decimals and intervals are refused with a clear error for now.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, PrimitiveArray};
use arrow::compute::cast;
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::columnar::{all_scalar, finish};
use crate::shorthand::catalog_call;

#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
enum Op {
    Add,
    Subtract,
    Multiply,
    Divide,
    Mod,
}

impl Op {
    const ALL: [Op; 5] = [Op::Add, Op::Subtract, Op::Multiply, Op::Divide, Op::Mod];

    fn name(self) -> &'static str {
        match self {
            Op::Add => "try_add",
            Op::Subtract => "try_subtract",
            Op::Multiply => "try_multiply",
            Op::Divide => "try_divide",
            Op::Mod => "try_mod",
        }
    }

    fn integers(self, a: i128, b: i128) -> Option<i128> {
        match self {
            Op::Add => a.checked_add(b),
            Op::Subtract => a.checked_sub(b),
            Op::Multiply => a.checked_mul(b),
            Op::Divide => a.checked_div(b),
            Op::Mod => a.checked_rem(b),
        }
    }

    fn doubles(self, a: f64, b: f64) -> Option<f64> {
        match self {
            Op::Add => Some(a + b),
            Op::Subtract => Some(a - b),
            Op::Multiply => Some(a * b),
            Op::Divide | Op::Mod if b == 0.0 => None,
            Op::Divide => Some(a / b),
            Op::Mod => Some(a % b),
        }
    }
}

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    Op::ALL
        .into_iter()
        .map(|op| {
            Arc::new(ScalarUDF::from(TryArithmetic {
                op,
                signature: Signature::user_defined(Volatility::Immutable),
            }))
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct TryArithmetic {
    op: Op,
    signature: Signature,
}

fn integer_rank(t: &DataType) -> Option<u8> {
    match t {
        DataType::Null => Some(0),
        DataType::Int8 => Some(1),
        DataType::Int16 => Some(2),
        DataType::Int32 => Some(3),
        DataType::Int64 => Some(4),
        _ => None,
    }
}

fn is_decimal(t: &DataType) -> bool {
    matches!(t, DataType::Decimal128(_, _))
}

impl TryArithmetic {
    /// The type both operands are computed in, or `None` when the pair is not numbers.
    fn common(&self, a: &DataType, b: &DataType) -> Option<DataType> {
        match (integer_rank(a), integer_rank(b)) {
            (Some(_), Some(_)) if self.op == Op::Divide => Some(DataType::Float64),
            (Some(x), Some(y)) => Some(match x.max(y) {
                0 | 3 => DataType::Int32,
                1 => DataType::Int8,
                2 => DataType::Int16,
                _ => DataType::Int64,
            }),
            _ if (a.is_numeric() || a == &DataType::Null)
                && (b.is_numeric() || b == &DataType::Null) =>
            {
                Some(DataType::Float64)
            }
            _ => None,
        }
    }
}

impl ScalarUDFImpl for TryArithmetic {
    fn name(&self) -> &str {
        self.op.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [a, b] = arg_types else {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] `{}` takes 2 arguments, not {}",
                self.name(),
                arg_types.len()
            );
        };
        let date_days = matches!(self.op, Op::Add | Op::Subtract)
            && matches!(a, DataType::Date32)
            && integer_rank(b).is_some();
        if date_days {
            // Planned as `date_add`/`date_sub` when simplified.
            return Ok(vec![a.clone(), b.clone()]);
        }
        if is_decimal(a) || is_decimal(b) {
            return plan_err!(
                "[UNSUPPORTED_FEATURE] Ember does not support `{}` of decimals yet; use the operator, which follows Spark's decimal types",
                self.name()
            );
        }
        match self.common(a, b) {
            Some(common) => Ok(vec![common.clone(), common]),
            None => plan_err!(
                "[DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES] `{}` takes two numbers (or a date and days), not {} and {}",
                self.name(),
                crate::spark_type_name(a),
                crate::spark_type_name(b)
            ),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [DataType::Date32, _] => Ok(DataType::Date32),
            [a, _] => Ok(a.clone()),
            _ => plan_err!("`{}` takes 2 arguments", self.name()),
        }
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let [a, b] = args.as_slice() else {
            return Ok(ExprSimplifyResult::Original(args));
        };
        let (ta, tb) = (info.get_data_type(a)?, info.get_data_type(b)?);
        if matches!(ta, DataType::Date32) && integer_rank(&tb).is_some() {
            let name = if self.op == Op::Add {
                "date_add"
            } else {
                "date_sub"
            };
            return Ok(ExprSimplifyResult::Simplified(catalog_call(
                name,
                vec![a.clone(), b.clone()],
            )?));
        }
        Ok(ExprSimplifyResult::Original(args))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = all_scalar(&args.args);
        let rows = args.number_rows;
        let target = args.return_type().clone();
        let left = cast(&args.args[0].to_array(rows)?, &target)?;
        let right = cast(&args.args[1].to_array(rows)?, &target)?;
        let result: ArrayRef = match target {
            DataType::Int8 => integers::<Int8Type>(self.op, &left, &right),
            DataType::Int16 => integers::<Int16Type>(self.op, &left, &right),
            DataType::Int32 => integers::<Int32Type>(self.op, &left, &right),
            DataType::Int64 => integers::<Int64Type>(self.op, &left, &right),
            DataType::Float64 => {
                let (x, y) = (
                    left.as_primitive::<Float64Type>(),
                    right.as_primitive::<Float64Type>(),
                );
                Arc::new(
                    (0..rows)
                        .map(|i| {
                            (x.is_valid(i) && y.is_valid(i))
                                .then(|| self.op.doubles(x.value(i), y.value(i)))
                                .flatten()
                        })
                        .collect::<Float64Array>(),
                )
            }
            other => return exec_err!("`{}` does not compute in {other}", self.name()),
        };
        finish(result, scalar)
    }
}

/// `op` row by row in `T`, NULL where the result leaves `T`'s range or divides by zero.
fn integers<T>(op: Op, left: &ArrayRef, right: &ArrayRef) -> ArrayRef
where
    T: ArrowPrimitiveType,
    T::Native: Into<i128> + TryFrom<i128>,
{
    let (x, y) = (left.as_primitive::<T>(), right.as_primitive::<T>());
    let values: PrimitiveArray<T> = (0..x.len())
        .map(|i| {
            if !(x.is_valid(i) && y.is_valid(i)) {
                return None;
            }
            let result = op.integers(x.value(i).into(), y.value(i).into())?;
            T::Native::try_from(result).ok()
        })
        .collect();
    Arc::new(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;

    #[test]
    fn overflow_and_division_by_zero_are_null() {
        let left: ArrayRef = Arc::new(Int64Array::from(vec![i64::MAX, 6000, 1234, -7]));
        let right: ArrayRef = Arc::new(Int64Array::from(vec![1, 15, 0, 2]));
        let added = integers::<Int64Type>(Op::Add, &left, &right);
        assert!(added.is_null(0));
        let remainders = integers::<Int64Type>(Op::Mod, &left, &right);
        let remainders = remainders.as_primitive::<Int64Type>();
        assert_eq!(remainders.value(1), 0);
        assert!(remainders.is_null(2));
        assert_eq!(
            remainders.value(3),
            -1,
            "the sign follows the dividend, as on Spark"
        );
        assert_eq!(Op::Divide.doubles(1.0, 0.0), None);
        assert_eq!(Op::Divide.doubles(6000.0, 15.0), Some(400.0));
    }
}
