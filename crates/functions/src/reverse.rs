//! Spark's `reverse`: strings by character and arrays by element on DataFusion's kernel, and
//! binaries by byte, which DataFusion's kernel reads as text and refuses.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BinaryBuilder};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::type_coercion::functions::fields_with_udf;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::columnar::{all_scalar, finish, is_binary};

/// `reverse` over `strings_and_arrays`, DataFusion's function of the same name.
pub fn udf(strings_and_arrays: Arc<ScalarUDF>) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::from(Reverse {
        inner: strings_and_arrays,
        signature: Signature::user_defined(Volatility::Immutable),
    }))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Reverse {
    inner: Arc<ScalarUDF>,
    signature: Signature,
}

impl ScalarUDFImpl for Reverse {
    fn name(&self) -> &str {
        "reverse"
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] if is_binary(t) => Ok(vec![DataType::Binary]),
            [_] => {
                let fields: Vec<FieldRef> = arg_types
                    .iter()
                    .map(|t| Arc::new(Field::new("arg", t.clone(), true)))
                    .collect();
                Ok(fields_with_udf(&fields, self.inner.as_ref())?
                    .iter()
                    .map(|f| f.data_type().clone())
                    .collect())
            }
            other => plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] `reverse` takes 1 argument, not {}",
                other.len()
            ),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [t] if is_binary(t) => Ok(DataType::Binary),
            _ => self.inner.return_type(arg_types),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if !args
            .arg_fields
            .first()
            .is_some_and(|f| is_binary(f.data_type()))
        {
            return self.inner.invoke_with_args(args);
        }
        let scalar = all_scalar(&args.args);
        let bytes: ArrayRef = cast(&args.args[0].to_array(args.number_rows)?, &DataType::Binary)?;
        let bytes = bytes.as_binary::<i32>();
        let mut out = BinaryBuilder::with_capacity(bytes.len(), bytes.values().len());
        for row in 0..bytes.len() {
            if bytes.is_null(row) {
                out.append_null();
            } else {
                let mut reversed = bytes.value(row).to_vec();
                reversed.reverse();
                out.append_value(reversed);
            }
        }
        finish(Arc::new(out.finish()), scalar)
    }
}
