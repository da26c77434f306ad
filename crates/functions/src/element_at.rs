//! `element_at(array, i)` (1-based, negative from the end) and `element_at(map, key)`, and
//! `try_element_at`, which answers NULL where `element_at` fails. Under Spark's ANSI mode,
//! which Ember follows, an index past either end fails with
//! `INVALID_ARRAY_INDEX_IN_ELEMENT_AT`; index 0 always fails; a missing map key is NULL.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::functions::expr_fn::concat;
use datafusion::functions_nested::expr_fn::{array_element, cardinality, map_extract};
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::{Expr, ScalarUDF, Signature, Volatility, lit, when};

use crate::shorthand::{cast, catalog_call, element_type, one, shorthand};

fn map_types(t: &DataType) -> Option<(DataType, DataType)> {
    match t {
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(fields) if fields.len() == 2 => {
                Some((fields[0].data_type().clone(), fields[1].data_type().clone()))
            }
            _ => None,
        },
        _ => None,
    }
}

fn result_type(types: &[DataType]) -> Result<DataType> {
    match types.first() {
        Some(t) => match map_types(t) {
            Some((_, value)) => Ok(value),
            None => element_type(t),
        },
        None => plan_err!("`element_at` takes an array or a map and an index or key"),
    }
}

fn expand(name: &str, args: Vec<Expr>, info: &SimplifyContext, tolerant: bool) -> Result<Expr> {
    let [collection, at] = one(name, args)?;
    let collection_type = info.get_data_type(&collection)?;
    if let Some((key_type, _)) = map_types(&collection_type) {
        return Ok(array_element(
            map_extract(collection, cast(at, key_type)),
            lit(1i64),
        ));
    }
    if !matches!(
        collection_type,
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) | DataType::Null
    ) {
        return plan_err!(
            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{name}` takes an array or a map, not {collection_type}"
        );
    }
    let index = cast(at, DataType::Int64);
    let length = cast(cardinality(collection.clone()), DataType::Int64);
    let is_zero = index.clone().eq(lit(0i64));
    let is_past_end = datafusion::functions::math::expr_fn::abs(index.clone()).gt(length.clone());
    if tolerant {
        return when(!(is_zero.or(is_past_end)), array_element(collection, index)).end();
    }
    let zero = catalog_call(
        "raise_error",
        vec![lit(
            "[INVALID_INDEX_OF_ZERO] The index 0 is invalid. An index shall be either < 0 or > 0 (the first element has index 1).",
        )],
    )?;
    let past_end = catalog_call(
        "raise_error",
        vec![concat(vec![
            lit("[INVALID_ARRAY_INDEX_IN_ELEMENT_AT] The index "),
            cast(index.clone(), DataType::Utf8),
            lit(" is out of bounds. The array has "),
            cast(length.clone(), DataType::Utf8),
            lit(
                " elements. Use `try_element_at` to tolerate accessing element at invalid index and return NULL instead.",
            ),
        ])],
    )?;
    // The errors are typed as the element, so folding a constant call keeps the type.
    let element = element_type(&collection_type)?;
    when(is_zero, cast(zero, element.clone()))
        .when(is_past_end, cast(past_end, element))
        .otherwise(array_element(collection, index))
}

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        shorthand(
            "element_at",
            &[],
            Signature::any(2, Volatility::Immutable),
            result_type,
            |args, info| expand("element_at", args, info, false),
        ),
        shorthand(
            "try_element_at",
            &[],
            Signature::any(2, Volatility::Immutable),
            result_type,
            |args, info| expand("try_element_at", args, info, true),
        ),
    ]
}
