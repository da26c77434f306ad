//! Spark's rules over DataFusion's array functions where the two differ: `array_append` and
//! `array_prepend` of a NULL array are NULL (DataFusion starts a new array), `array_prepend`
//! takes the array first, and `array_position` is 0 when the element is not there (DataFusion
//! gives NULL) and a `bigint`. Each is a shorthand over DataFusion's kernel.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::functions::expr_fn::coalesce;
use datafusion::functions_nested::concat::{array_append_udf, array_prepend_udf};
use datafusion::functions_nested::position::array_position_udf;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::{Expr, ReturnFieldArgs, ScalarUDF, lit, when};

use crate::shorthand::{cast, one, shorthand};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        shorthand(
            "array_append",
            &["array_push_back"],
            array_append_udf().signature().clone(),
            appended_type,
            |args, info| {
                let [array, element] = one("array_append", args)?;
                unless_null(
                    array.clone(),
                    array_append_udf().call(vec![array, element]),
                    info,
                )
            },
        ),
        shorthand(
            "array_prepend",
            &["array_push_front"],
            // Spark's order, the array first, is `array_append`'s.
            array_append_udf().signature().clone(),
            appended_type,
            |args, info| {
                let [array, element] = one("array_prepend", args)?;
                unless_null(
                    array.clone(),
                    array_prepend_udf().call(vec![element, array]),
                    info,
                )
            },
        ),
        shorthand(
            "array_position",
            &["array_indexof"],
            array_position_udf().signature().clone(),
            |_| Ok(DataType::Int64),
            |args, _| {
                let [array, element] = one("array_position", args)?;
                let found = array_position_udf().call(vec![array.clone(), element.clone()]);
                when(
                    array.is_null().or(element.is_null()),
                    Expr::Literal(ScalarValue::Int64(None), None),
                )
                .otherwise(coalesce(vec![cast(found, DataType::Int64), lit(0i64)]))
            },
        ),
    ]
}

/// The type `array_append` gives: DataFusion's kernel types itself from fields.
fn appended_type(types: &[DataType]) -> Result<DataType> {
    let fields: Vec<FieldRef> = types
        .iter()
        .enumerate()
        .map(|(i, t)| Arc::new(Field::new(format!("arg{i}"), t.clone(), true)))
        .collect();
    let scalars = vec![None; fields.len()];
    let field = array_append_udf().return_field_from_args(ReturnFieldArgs {
        arg_fields: &fields,
        scalar_arguments: &scalars,
    })?;
    Ok(field.data_type().clone())
}

/// `value`, or NULL (of `value`'s type) where `array` is NULL.
fn unless_null(array: Expr, value: Expr, info: &SimplifyContext) -> Result<Expr> {
    let null = ScalarValue::try_from(info.get_data_type(&value)?)?;
    when(array.is_null(), Expr::Literal(null, None)).otherwise(value)
}
