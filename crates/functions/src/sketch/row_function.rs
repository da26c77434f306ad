//! A scalar function defined on one row's argument values. Sketch functions read and write
//! whole sketch images, usually one per group, so a row at a time costs nothing next to the
//! (de)serialisation, and each function is then a few lines about its sketch.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

/// The result type from the argument types (after checking them).
pub type ReturnType = fn(&str, &[DataType]) -> Result<DataType>;
/// One row's result from its arguments, none of them null.
pub type Evaluate = fn(&str, &[ScalarValue]) -> Result<ScalarValue>;

pub struct RowFunction {
    name: &'static str,
    signature: Signature,
    return_type: ReturnType,
    evaluate: Evaluate,
}

impl std::fmt::Debug for RowFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowFunction")
            .field("name", &self.name)
            .finish()
    }
}

// A row function is defined by its name: there is one of each in the catalog.
impl PartialEq for RowFunction {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for RowFunction {}

impl std::hash::Hash for RowFunction {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

/// A function taking any of `arities` arguments; a null argument gives a null result, as
/// for Spark's null-intolerant expressions.
pub fn row_function(
    name: &'static str,
    arities: &[usize],
    return_type: ReturnType,
    evaluate: Evaluate,
) -> Arc<ScalarUDF> {
    let signature = Signature::one_of(
        arities.iter().map(|n| TypeSignature::Any(*n)).collect(),
        Volatility::Immutable,
    );
    Arc::new(ScalarUDF::from(RowFunction {
        name,
        signature,
        return_type,
        evaluate,
    }))
}

impl ScalarUDFImpl for RowFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        (self.return_type)(self.name, arg_types)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let result_type = args.return_field.data_type().clone();
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let mut results = Vec::with_capacity(rows);
        let mut values = Vec::with_capacity(args.args.len());
        for row in 0..rows {
            values.clear();
            for arg in &args.args {
                values.push(match arg {
                    ColumnarValue::Scalar(s) => s.clone(),
                    ColumnarValue::Array(a) => ScalarValue::try_from_array(a, row)?,
                });
            }
            results.push(if values.iter().any(ScalarValue::is_null) {
                ScalarValue::try_from(&result_type)?
            } else {
                let v = (self.evaluate)(self.name, &values)?;
                // The evaluators build the natural Arrow type; the declared one may differ
                // in width (a float sketch's quantile, say).
                if v.data_type() == result_type {
                    v
                } else {
                    v.cast_to(&result_type)?
                }
            });
        }
        if all_scalar {
            match results.pop() {
                Some(v) => Ok(ColumnarValue::Scalar(v)),
                None => plan_err!("`{}` produced no value", self.name),
            }
        } else if results.is_empty() {
            Ok(ColumnarValue::Array(arrow::array::new_empty_array(
                &result_type,
            )))
        } else {
            Ok(ColumnarValue::Array(ScalarValue::iter_to_array(results)?))
        }
    }
}

/// Checks that every argument at `binaries` is a binary (or null) type.
pub fn expect_binaries(name: &str, arg_types: &[DataType], binaries: usize) -> Result<()> {
    for (i, t) in arg_types.iter().take(binaries).enumerate() {
        if !matches!(
            t,
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::Null
        ) {
            return plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] argument {} of `{name}` must be a sketch (BINARY), not {t}",
                i + 1
            );
        }
    }
    Ok(())
}
