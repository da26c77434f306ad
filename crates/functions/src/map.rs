//! Spark's `map(k1, v1, k2, v2, …)` (`create_map` in PySpark): one map per row from
//! alternating key and value arguments. DataFusion's `map` takes an array of keys and an
//! array of values instead, so the Spark form needs its own function. `map()` is the empty
//! map, typed `map<void, void>` until a union or cast gives it types, as on Spark.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, MapArray, StructArray, new_null_array};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::{cast, interleave};
use arrow::datatypes::{DataType, Field};
use arrow::row::{RowConverter, SortField};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::type_syntax::map_type;

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
        Ok(map_type(key, value, true))
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
        let last_win = args.config_options.spark.map_key_dedup_policy
            == datafusion::common::config::MapKeyDedupPolicy::LastWin;
        let per_row = row_entries(&keys, rows, last_win)?;
        // Row-major order: the entries of row 0, then of row 1, ….
        let key_order: Vec<(usize, usize)> = per_row
            .iter()
            .enumerate()
            .flat_map(|(row, entries)| entries.iter().map(move |(k, _)| (*k, row)))
            .collect();
        let value_order: Vec<(usize, usize)> = per_row
            .iter()
            .enumerate()
            .flat_map(|(row, entries)| entries.iter().map(move |(_, v)| (*v, row)))
            .collect();
        let gather =
            |columns: &[ArrayRef], order: &[(usize, usize)], field: &Field| -> Result<ArrayRef> {
                if pairs == 0 {
                    return Ok(new_null_array(field.data_type(), 0));
                }
                let refs: Vec<&dyn Array> = columns.iter().map(|a| a.as_ref()).collect();
                let gathered = interleave(&refs, order)?;
                Ok(cast(&gathered, field.data_type())?)
            };
        let entries = StructArray::try_new(
            entry_fields.clone(),
            vec![
                gather(&keys, &key_order, &entry_fields[0])?,
                gather(&values, &value_order, &entry_fields[1])?,
            ],
            None,
        )?;
        let offsets = OffsetBuffer::from_lengths(per_row.iter().map(Vec::len));
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

/// Each row's entries as (pair giving the key, pair giving the value). A key given twice is
/// an error under Spark's default `spark.sql.mapKeyDedupPolicy` (EXCEPTION); under
/// LAST_WIN the key keeps its first place and takes its last value, as Spark's map builder
/// does.
fn row_entries(keys: &[ArrayRef], rows: usize, last_win: bool) -> Result<Vec<Vec<(usize, usize)>>> {
    let pairs = keys.len();
    if pairs < 2 {
        return Ok((0..rows)
            .map(|_| (0..pairs).map(|p| (p, p)).collect())
            .collect());
    }
    let converter = RowConverter::new(vec![SortField::new(keys[0].data_type().clone())])?;
    let converted = keys
        .iter()
        .map(|k| converter.convert_columns(std::slice::from_ref(k)))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut all = Vec::with_capacity(rows);
    for row in 0..rows {
        let mut entries: Vec<(usize, usize)> = Vec::with_capacity(pairs);
        for pair in 0..pairs {
            let key = converted[pair].row(row);
            match entries
                .iter_mut()
                .find(|(first, _)| converted[*first].row(row) == key)
            {
                None => entries.push((pair, pair)),
                Some(entry) if last_win => entry.1 = pair,
                Some(_) => {
                    let shown = arrow::util::display::array_value_to_string(&keys[pair], row)?;
                    return exec_err!(
                        "[DUPLICATE_MAP_KEY] Duplicate map key {shown} was found, please check \
                         the input data. If you want to remove the duplicated keys, you can set \
                         spark.sql.mapKeyDedupPolicy to LAST_WIN so that the key inserted at \
                         last takes precedence."
                    );
                }
            }
        }
        all.push(entries);
    }
    Ok(all)
}
