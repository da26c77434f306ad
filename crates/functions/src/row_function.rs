//! A scalar function defined on one row's argument values, for functions whose work per row
//! outweighs handling the row as a `ScalarValue`: sketch functions (a whole sketch image per
//! row, usually one per group) and nested-value builders like `array_insert`. Each such
//! function is then a few lines about its own semantics.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

/// The result type from the argument types (after checking them).
pub type ReturnType = fn(&str, &[DataType]) -> Result<DataType>;
/// One row's result from its arguments (none of them null, unless the function sees nulls).
pub type Evaluate = fn(&str, &[ScalarValue]) -> Result<ScalarValue>;

pub struct RowFunction {
    name: &'static str,
    signature: Signature,
    /// Whether a null argument makes the result null without calling `evaluate`.
    null_intolerant: bool,
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
    new(name, arities, true, return_type, evaluate)
}

/// A function whose `evaluate` sees null arguments too (`mask`'s null replacement means
/// "keep the character").
pub fn row_function_seeing_nulls(
    name: &'static str,
    arities: &[usize],
    return_type: ReturnType,
    evaluate: Evaluate,
) -> Arc<ScalarUDF> {
    new(name, arities, false, return_type, evaluate)
}

fn new(
    name: &'static str,
    arities: &[usize],
    null_intolerant: bool,
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
        null_intolerant,
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
            results.push(
                if self.null_intolerant && values.iter().any(ScalarValue::is_null) {
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
                },
            );
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
