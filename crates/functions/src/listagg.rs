//! `listagg(x [, delimiter])` and its alias `string_agg`: the non-null strings (or binaries)
//! of a group joined by the delimiter (none when it is NULL or left out), NULL when there
//! are none. With DISTINCT each value is kept once, at its first occurrence.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};
use datafusion::physical_expr::expressions::Literal;

use crate::columnar::{is_binary, is_text};

#[derive(Debug, PartialEq, Eq, Hash)]
struct ListAgg {
    signature: Signature,
    aliases: Vec<String>,
}

impl AggregateUDFImpl for ListAgg {
    fn name(&self) -> &str {
        "listagg"
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let (value, delimiter) = match arg_types {
            [value] => (value, None),
            [value, delimiter] => (value, Some(delimiter)),
            _ => {
                return plan_err!(
                    "[WRONG_NUM_ARGS] `listagg` takes a column and an optional delimiter, not {} arguments",
                    arg_types.len()
                );
            }
        };
        let target = if is_binary(value) {
            DataType::Binary
        } else if is_text(value) {
            DataType::Utf8
        } else {
            return plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `listagg` takes STRING or BINARY values, not {value}"
            );
        };
        match delimiter {
            None => Ok(vec![target]),
            Some(d) if d == &DataType::Null => Ok(vec![target.clone(), target]),
            Some(d) if is_binary(d) == is_binary(&target) && (is_binary(d) || is_text(d)) => {
                Ok(vec![target.clone(), target])
            }
            Some(d) => plan_err!(
                "[DATATYPE_MISMATCH.DATA_DIFF_TYPES] `listagg`'s delimiter ({d}) must have the type of its values ({value})"
            ),
        }
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.first() {
            Some(t) if is_binary(t) => Ok(DataType::Binary),
            _ => Ok(DataType::Utf8),
        }
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let value = args.return_field.data_type().clone();
        Ok(vec![Arc::new(Field::new(
            format!("{}[values]", args.name),
            DataType::List(Arc::new(Field::new_list_field(value, true))),
            true,
        ))])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let delimiter = match args.exprs.get(1) {
            None => Vec::new(),
            Some(e) => match e.downcast_ref::<Literal>().map(Literal::value) {
                Some(
                    ScalarValue::Utf8(d) | ScalarValue::LargeUtf8(d) | ScalarValue::Utf8View(d),
                ) => d.clone().map(String::into_bytes).unwrap_or_default(),
                Some(
                    ScalarValue::Binary(d)
                    | ScalarValue::LargeBinary(d)
                    | ScalarValue::BinaryView(d),
                ) => d.clone().unwrap_or_default(),
                Some(ScalarValue::Null) => Vec::new(),
                _ => {
                    return plan_err!(
                        "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] `listagg`'s delimiter must be a constant"
                    );
                }
            },
        };
        Ok(Box::new(ListAggAccumulator {
            binary: args.return_field.data_type() == &DataType::Binary,
            delimiter,
            values: Vec::new(),
            seen: args.is_distinct.then(HashSet::new),
        }))
    }
}

#[derive(Debug)]
struct ListAggAccumulator {
    binary: bool,
    delimiter: Vec<u8>,
    values: Vec<Vec<u8>>,
    /// The values kept so far, when DISTINCT.
    seen: Option<HashSet<Vec<u8>>>,
}

impl ListAggAccumulator {
    fn push(&mut self, value: &[u8]) {
        if let Some(seen) = &mut self.seen
            && !seen.insert(value.to_vec())
        {
            return;
        }
        self.values.push(value.to_vec());
    }

    fn push_all(&mut self, values: &dyn Array) -> Result<()> {
        let values = cast(values, &DataType::Binary)?;
        for value in values.as_binary::<i32>().iter().flatten() {
            self.push(value);
        }
        Ok(())
    }

    fn as_value(&self, bytes: Vec<u8>) -> Result<ScalarValue> {
        if self.binary {
            Ok(ScalarValue::Binary(Some(bytes)))
        } else {
            match String::from_utf8(bytes) {
                Ok(s) => Ok(ScalarValue::Utf8(Some(s))),
                Err(_) => exec_err!("`listagg` joined strings into bytes that are not UTF-8"),
            }
        }
    }
}

impl Accumulator for ListAggAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        match values.first() {
            Some(values) => self.push_all(values),
            None => exec_err!("`listagg` takes a column"),
        }
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let Some(lists) = states.first() else {
            return exec_err!("`listagg`'s state is a list of values");
        };
        let lists = lists.as_list::<i32>();
        for row in 0..lists.len() {
            if lists.is_valid(row) {
                self.push_all(&lists.value(row))?;
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let value_type = if self.binary {
            DataType::Binary
        } else {
            DataType::Utf8
        };
        let values = self
            .values
            .iter()
            .map(|v| self.as_value(v.clone()))
            .collect::<Result<Vec<_>>>()?;
        Ok(vec![ScalarValue::List(ScalarValue::new_list_nullable(
            &values,
            &value_type,
        ))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.values.is_empty() {
            return Ok(if self.binary {
                ScalarValue::Binary(None)
            } else {
                ScalarValue::Utf8(None)
            });
        }
        let joined = self.values.join(self.delimiter.as_slice());
        self.as_value(joined)
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
            + self.values.iter().map(Vec::capacity).sum::<usize>()
            + self
                .seen
                .as_ref()
                .map_or(0, |s| s.iter().map(Vec::capacity).sum::<usize>())
    }
}

pub fn aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    vec![Arc::new(AggregateUDF::from(ListAgg {
        signature: Signature::user_defined(Volatility::Immutable),
        aliases: vec!["string_agg".to_string()],
    }))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::StringArray;

    fn accumulator(delimiter: &str, distinct: bool) -> ListAggAccumulator {
        ListAggAccumulator {
            binary: false,
            delimiter: delimiter.as_bytes().to_vec(),
            values: Vec::new(),
            seen: distinct.then(HashSet::new),
        }
    }

    #[test]
    fn joins_non_null_values_in_order() {
        let mut acc = accumulator(", ", false);
        let input: ArrayRef = Arc::new(StringArray::from(vec![
            Some("a"),
            None,
            Some("b"),
            Some("a"),
        ]));
        acc.update_batch(&[input]).unwrap();
        assert_eq!(
            acc.evaluate().unwrap(),
            ScalarValue::Utf8(Some("a, b, a".into()))
        );
    }

    #[test]
    fn distinct_keeps_first_occurrences_across_merges() {
        let mut partial = accumulator("", true);
        let input: ArrayRef = Arc::new(StringArray::from(vec![Some("b"), Some("a"), Some("b")]));
        partial.update_batch(&[input]).unwrap();
        let state = partial.state().unwrap();
        let mut total = accumulator("", true);
        total.merge_batch(&[state[0].to_array().unwrap()]).unwrap();
        let more: ArrayRef = Arc::new(StringArray::from(vec![Some("c"), Some("a")]));
        total.update_batch(&[more]).unwrap();
        assert_eq!(
            total.evaluate().unwrap(),
            ScalarValue::Utf8(Some("bac".into()))
        );
    }

    #[test]
    fn no_values_is_null() {
        let mut acc = accumulator(",", false);
        let input: ArrayRef = Arc::new(StringArray::from(vec![None::<&str>, None]));
        acc.update_batch(&[input]).unwrap();
        assert_eq!(acc.evaluate().unwrap(), ScalarValue::Utf8(None));
    }
}
