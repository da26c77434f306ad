//! Spark's array functions that DataFusion has under other terms or lacks: `sort_array(array,
//! asc)` sorts with nulls first ascending and last descending, on DataFusion's `array_sort`
//! kernel; `array_insert(array, pos, value)` inserts at a 1-based position, from the end when
//! negative, padding with nulls past either end.

use std::sync::Arc;

use arrow::array::Array;
use arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::functions_nested::sort::array_sort_udf;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        Arc::new(ScalarUDF::from(SortArray {
            signature: Signature::user_defined(Volatility::Immutable),
        })),
        crate::row_function::row_function_seeing_nulls(
            "array_insert",
            &[3],
            array_insert_type,
            array_insert,
        ),
    ]
}

fn array_insert_type(name: &str, types: &[DataType]) -> Result<DataType> {
    match types {
        [DataType::List(element), position, value]
            if position.is_integer() || position == &DataType::Null =>
        {
            let element_type = if element.data_type() == &DataType::Null {
                value.clone()
            } else {
                element.data_type().clone()
            };
            Ok(DataType::List(Arc::new(Field::new_list_field(
                element_type,
                true,
            ))))
        }
        _ => plan_err!(
            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{name}` takes an array, an integer position and a value, not ({})",
            types
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// One row of `array_insert`: NULL for a null array or position; a null value is inserted.
fn array_insert(name: &str, args: &[ScalarValue]) -> Result<ScalarValue> {
    let (ScalarValue::List(list), position, value) = (&args[0], &args[1], &args[2]) else {
        return plan_err!("`{name}` takes an array as its first argument");
    };
    let DataType::List(element) = list.data_type() else {
        return plan_err!("`{name}` takes an array as its first argument");
    };
    let element_type = if element.data_type() == &DataType::Null {
        value.data_type()
    } else {
        element.data_type().clone()
    };
    let result_type = DataType::List(Arc::new(Field::new_list_field(element_type.clone(), true)));
    let position = match position.cast_to(&DataType::Int64)? {
        ScalarValue::Int64(Some(p)) => p,
        _ => return ScalarValue::try_from(&result_type),
    };
    if list.is_null(0) {
        return ScalarValue::try_from(&result_type);
    }
    let mut items = ScalarValue::convert_array_to_scalar_vec(list.as_ref())?
        .into_iter()
        .next()
        .flatten()
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.cast_to(&element_type))
        .collect::<Result<Vec<_>>>()?;
    let value = value.cast_to(&element_type)?;
    let null = ScalarValue::try_from(&element_type)?;
    let len = items.len() as i64;
    if position == 0 {
        return datafusion::common::exec_err!(
            "[INVALID_INDEX_OF_ZERO] The index 0 is invalid. An index shall be either < 0 or > 0 (the first element has index 1)."
        );
    }
    let at = if position > 0 {
        position - 1
    } else {
        len + position + 1
    };
    if at > len {
        items.resize(at as usize, null);
        items.push(value);
    } else if at < 0 {
        let mut front = vec![value];
        front.extend(std::iter::repeat_n(null, at.unsigned_abs() as usize));
        front.append(&mut items);
        items = front;
    } else {
        items.insert(at as usize, value);
    }
    Ok(ScalarValue::List(ScalarValue::new_list_nullable(
        &items,
        &element_type,
    )))
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
