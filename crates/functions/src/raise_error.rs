//! `raise_error(message)`: fails the query with Spark's `USER_RAISED_EXCEPTION` when it is
//! evaluated on a row. It is volatile, so planning never folds it into an error before any
//! row asks for it (`when(cond, x).otherwise(raise_error(…))` fails only where `cond` is
//! false); `assert_true` expands to it.

use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![Arc::new(ScalarUDF::from(RaiseError {
        signature: Signature::coercible(
            vec![datafusion::logical_expr::Coercion::new_exact(
                datafusion::logical_expr::TypeSignatureClass::Native(
                    datafusion::common::types::logical_string(),
                ),
            )],
            Volatility::Volatile,
        ),
    }))]
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct RaiseError {
    signature: Signature,
}

impl ScalarUDFImpl for RaiseError {
    fn name(&self) -> &str {
        "raise_error"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Null)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if args.number_rows == 0 {
            return Ok(ColumnarValue::Scalar(ScalarValue::Null));
        }
        let message = match args.args.first() {
            Some(ColumnarValue::Scalar(value)) => value.to_string(),
            Some(ColumnarValue::Array(array)) => {
                let text = arrow::compute::cast(array, &DataType::Utf8)?;
                let text = text.as_string::<i32>();
                if text.is_null(0) {
                    "NULL".to_string()
                } else {
                    text.value(0).to_string()
                }
            }
            None => "raise_error was called".to_string(),
        };
        exec_err!("[USER_RAISED_EXCEPTION] {message}")
    }
}
