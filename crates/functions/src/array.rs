//! Spark's array functions that DataFusion has under other terms: `sort_array(array, asc)`
//! sorts with nulls first ascending and last descending, on DataFusion's `array_sort` kernel.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::functions_nested::sort::array_sort_udf;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![Arc::new(ScalarUDF::from(SortArray {
        signature: Signature::user_defined(Volatility::Immutable),
    }))]
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SortArray {
    signature: Signature,
}

impl ScalarUDFImpl for SortArray {
    fn name(&self) -> &str {
        "sort_array"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [array] | [array, DataType::Boolean | DataType::Null]
                if matches!(
                    array,
                    DataType::List(_) | DataType::LargeList(_) | DataType::Null
                ) =>
            {
                let mut types = vec![array.clone()];
                if arg_types.len() == 2 {
                    types.push(DataType::Boolean);
                }
                Ok(types)
            }
            _ => plan_err!(
                "`sort_array` takes an array and an optional boolean (ascending), not ({})",
                arg_types
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let ascending = match args.args.get(1) {
            None => true,
            Some(ColumnarValue::Scalar(ScalarValue::Boolean(Some(asc)))) => *asc,
            Some(_) => {
                return plan_err!("`sort_array` needs a constant boolean as its second argument");
            }
        };
        let (order, nulls) = if ascending {
            ("ASC", "NULLS FIRST")
        } else {
            ("DESC", "NULLS LAST")
        };
        let text = |s: &str| ColumnarValue::Scalar(ScalarValue::Utf8(Some(s.to_string())));
        let text_field = Arc::new(Field::new("", DataType::Utf8, false));
        let delegated = ScalarFunctionArgs {
            args: vec![args.args[0].clone(), text(order), text(nulls)],
            arg_fields: vec![args.arg_fields[0].clone(), text_field.clone(), text_field],
            number_rows: args.number_rows,
            return_field: args.return_field.clone(),
            config_options: args.config_options.clone(),
        };
        array_sort_udf().invoke_with_args(delegated)
    }
}
