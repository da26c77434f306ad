//! Spark's `map(k1, v1, k2, v2, …)` (`create_map` in PySpark): one map per row from
//! alternating key and value arguments. DataFusion's `map` takes an array of keys and an
//! array of values instead, so the Spark form needs its own function. `map()` is the empty
//! map, typed `map<void, void>` until a union or cast gives it types, as on Spark.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, MapArray, StructArray, new_null_array};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::{cast, interleave};
use arrow::datatypes::{DataType, Field, Fields};
use arrow::row::{RowConverter, SortField};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![Arc::new(ScalarUDF::from(CreateMap {
        signature: Signature::user_defined(Volatility::Immutable),
        aliases: vec!["create_map".to_string()],
    }))]
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct CreateMap {
    signature: Signature,
    aliases: Vec<String>,
}

fn common_type(types: &[DataType], what: &str) -> Result<DataType> {
    if types.is_empty() {
        return Ok(DataType::Null);
    }
    match type_union_resolution(types) {
        Some(t) => Ok(t),
        None => plan_err!(
            "the {what} of `map` must share one type, not ({})",
            types
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn map_type(key: DataType, value: DataType) -> DataType {
    let entries = Fields::from(vec![
        Field::new("key", key, false),
        Field::new("value", value, true),
    ]);
    DataType::Map(
        Arc::new(Field::new("entries", DataType::Struct(entries), false)),
        false,
    )
}

impl ScalarUDFImpl for CreateMap {
    fn name(&self) -> &str {
        "map"
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if !arg_types.len().is_multiple_of(2) {
            return plan_err!(
                "`map` takes keys and values in pairs, not {} arguments",
                arg_types.len()
            );
        }
        let keys: Vec<DataType> = arg_types.iter().step_by(2).cloned().collect();
        let values: Vec<DataType> = arg_types.iter().skip(1).step_by(2).cloned().collect();
        let (key, value) = (common_type(&keys, "keys")?, common_type(&values, "values")?);
        Ok(arg_types
            .iter()
            .enumerate()
            .map(|(i, _)| {
                if i % 2 == 0 {
                    key.clone()
                } else {
                    value.clone()
                }
            })
            .collect())
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let key = arg_types.first().cloned().unwrap_or(DataType::Null);
        let value = arg_types.get(1).cloned().unwrap_or(DataType::Null);
        Ok(map_type(key, value))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let DataType::Map(entries_field, _) = args.return_type() else {
            return exec_err!("`map` returns a map");
        };
        let DataType::Struct(entry_fields) = entries_field.data_type() else {
            return exec_err!("a map's entries are structs");
        };
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let pairs = arrays.len() / 2;
        let keys: Vec<ArrayRef> = arrays.iter().step_by(2).cloned().collect();
        let values: Vec<ArrayRef> = arrays.iter().skip(1).step_by(2).cloned().collect();
        for key in &keys {
            if key.null_count() > 0 {
                return exec_err!("[NULL_MAP_KEY] Cannot use null as map key.");
            }
        }
        if pairs > 1 {
            reject_duplicate_keys(&keys, rows)?;
        }
        // Row-major order: every pair of row 0, then of row 1, ….
        let order: Vec<(usize, usize)> = (0..rows)
            .flat_map(|row| (0..pairs).map(move |pair| (pair, row)))
            .collect();
        let gather = |columns: &[ArrayRef], field: &Field| -> Result<ArrayRef> {
            if pairs == 0 {
                return Ok(new_null_array(field.data_type(), 0));
            }
            let refs: Vec<&dyn Array> = columns.iter().map(|a| a.as_ref()).collect();
            let gathered = interleave(&refs, &order)?;
            Ok(cast(&gathered, field.data_type())?)
        };
        let entries = StructArray::try_new(
            entry_fields.clone(),
            vec![
                gather(&keys, &entry_fields[0])?,
                gather(&values, &entry_fields[1])?,
            ],
            None,
        )?;
        let offsets = OffsetBuffer::from_lengths(std::iter::repeat_n(pairs, rows));
        let map = MapArray::try_new(
            entries_field.clone(),
            offsets,
            entries,
            None::<NullBuffer>,
            false,
        )?;
        Ok(ColumnarValue::Array(Arc::new(map)))
    }
}

/// Spark's default `spark.sql.mapKeyDedupPolicy` (EXCEPTION): a key given twice in one map
/// is an error.
fn reject_duplicate_keys(keys: &[ArrayRef], rows: usize) -> Result<()> {
    let converter = RowConverter::new(vec![SortField::new(keys[0].data_type().clone())])?;
    let converted = keys
        .iter()
        .map(|k| converter.convert_columns(std::slice::from_ref(k)))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    for row in 0..rows {
        for a in 0..converted.len() {
            for b in a + 1..converted.len() {
                if converted[a].row(row) == converted[b].row(row) {
                    let shown = arrow::util::display::array_value_to_string(&keys[a], row)?;
                    return exec_err!(
                        "[DUPLICATE_MAP_KEY] Duplicate map key {shown} was found, please check \
                         the input data. If you want to remove the duplicated keys, you can set \
                         spark.sql.mapKeyDedupPolicy to LAST_WIN so that the key inserted at \
                         last takes precedence."
                    );
                }
            }
        }
    }
    Ok(())
}
