//! Spark's rules over DataFusion's array functions where the two differ: `array_append` and
//! `array_prepend` of a NULL array are NULL (DataFusion starts a new array), `array_prepend`
//! takes the array first, `array_position` is 0 when the element is not there (DataFusion
//! gives NULL) and a `bigint`, and `flatten` of an array holding a NULL array is NULL. Each is
//! a shorthand over DataFusion's kernel; [`has_null_element`] is the test `flatten` needs.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, AsArray, BooleanArray};

use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::functions::expr_fn::coalesce;
use datafusion::functions_nested::concat::{array_append_udf, array_prepend_udf};
use datafusion::functions_nested::flatten::flatten_udf;
use datafusion::functions_nested::position::array_position_udf;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility, lit, when,
};

use crate::columnar::{all_scalar, finish};
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
            "flatten",
            &[],
            flatten_udf().signature().clone(),
            |types| flatten_udf().return_type(types),
            |args, info| {
                let [array] = one("flatten", args)?;
                let flat = flatten_udf().call(vec![array.clone()]);
                let null = ScalarValue::try_from(info.get_data_type(&flat)?)?;
                let has_null = has_null_element().call(vec![array.clone()]);
                when(array.is_null().or(has_null), Expr::Literal(null, None)).otherwise(flat)
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

/// `spark_has_null_element(array)`: whether an array holds a NULL element.
pub fn has_null_element() -> Arc<ScalarUDF> {
    HAS_NULL_ELEMENT.clone()
}

static HAS_NULL_ELEMENT: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| {
    Arc::new(ScalarUDF::from(HasNullElement {
        signature: Signature::any(1, Volatility::Immutable),
    }))
});

#[derive(Debug, PartialEq, Eq, Hash)]
struct HasNullElement {
    signature: Signature,
}

impl ScalarUDFImpl for HasNullElement {
    fn name(&self) -> &str {
        "spark_has_null_element"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = all_scalar(&args.args);
        let lists = args.args[0].to_array(args.number_rows)?;
        let Some(lists) = lists.as_list_opt::<i32>() else {
            return exec_err!("`spark_has_null_element` takes an array");
        };
        let answers: BooleanArray = (0..lists.len())
            .map(|row| (!lists.is_null(row)).then(|| lists.value(row).null_count() > 0))
            .collect();
        finish(Arc::new(answers), scalar)
    }
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
