//! The schemas of variants: `schema_of_variant(v)` and the aggregate `schema_of_variant_agg(v)`,
//! as Spark prints them (`OBJECT<a: BIGINT>`, `ARRAY<STRING>`, `VARIANT`), merged across values
//! as Spark's `SchemaOfVariant` widens them.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray};
use arrow::datatypes::{DataType, Field, FieldRef, TimeUnit};
use datafusion::common::{DataFusionError, Result, ScalarValue, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};
use parquet_variant::Variant;

use crate::types::quote_if_needed;
use crate::variant::{is_variant_type, open, variant_parts, variant_type};

pub fn aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    vec![Arc::new(AggregateUDF::from(SchemaOfVariantAgg {
        signature: Signature::user_defined(Volatility::Immutable),
    }))]
}

/// The type `schema_of_variant` reports for a variant: objects as structs (shown `OBJECT<…>`),
/// every integer `BIGINT`, decimals by their digits, arrays by their merged elements.
pub(crate) fn variant_schema(variant: &Variant) -> DataType {
    match variant {
        Variant::Null => DataType::Null,
        Variant::BooleanTrue | Variant::BooleanFalse => DataType::Boolean,
        Variant::Int8(_) | Variant::Int16(_) | Variant::Int32(_) | Variant::Int64(_) => {
            DataType::Int64
        }
        Variant::Float(_) => DataType::Float32,
        Variant::Double(_) => DataType::Float64,
        Variant::Decimal4(d) => decimal_schema(i128::from(d.integer()), d.scale()),
        Variant::Decimal8(d) => decimal_schema(i128::from(d.integer()), d.scale()),
        Variant::Decimal16(d) => decimal_schema(d.integer(), d.scale()),
        Variant::String(_) | Variant::ShortString(_) | Variant::Uuid(_) => DataType::Utf8,
        Variant::Binary(_) => DataType::Binary,
        Variant::Date(_) => DataType::Date32,
        Variant::TimestampMicros(_) | Variant::TimestampNanos(_) => {
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        }
        Variant::TimestampNtzMicros(_) | Variant::TimestampNtzNanos(_) => {
            DataType::Timestamp(TimeUnit::Microsecond, None)
        }
        Variant::Time(_) => DataType::Time64(TimeUnit::Nanosecond),
        Variant::Object(object) => DataType::Struct(
            object
                .iter()
                .map(|(name, value)| Field::new(name, variant_schema(&value), true))
                .collect(),
        ),
        Variant::List(list) => {
            let element = list
                .iter()
                .map(|item| variant_schema(&item))
                .reduce(|a, b| merge_schema(&a, &b))
                .unwrap_or(DataType::Null);
            DataType::List(Arc::new(Field::new("element", element, true)))
        }
    }
}

pub(crate) fn decimal_schema(unscaled: i128, scale: u8) -> DataType {
    let digits = u8::try_from(unscaled.unsigned_abs().to_string().len()).unwrap_or(38);
    DataType::Decimal128(
        digits.max(scale).clamp(1, 38),
        i8::try_from(scale).unwrap_or(0),
    )
}

/// Two schemas as one, as Spark's `SchemaOfVariant.mergeSchema`: numbers widen, objects merge
/// their fields, anything else that differs is `VARIANT`.
fn merge_schema(a: &DataType, b: &DataType) -> DataType {
    crate::inferred_schema::merge_inferred(a, b, &variant_type())
}

/// A variant schema as Spark prints it: `OBJECT<a: BIGINT>`, `ARRAY<STRING>`, `VARIANT`, `VOID`.
pub(crate) fn schema_text(data_type: &DataType) -> String {
    if is_variant_type(data_type) {
        return "VARIANT".into();
    }
    match data_type {
        DataType::Struct(fields) => format!(
            "OBJECT<{}>",
            fields
                .iter()
                .map(|f| format!(
                    "{}: {}",
                    quote_if_needed(f.name()),
                    schema_text(f.data_type())
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        DataType::List(f) => format!("ARRAY<{}>", schema_text(f.data_type())),
        other => crate::types::spark_sql_type_name(other),
    }
}

/// `schema_of_variant_agg(v)`: the merged schema of every variant in a group.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SchemaOfVariantAgg {
    signature: Signature,
}

impl AggregateUDFImpl for SchemaOfVariantAgg {
    fn name(&self) -> &str {
        "schema_of_variant_agg"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] if is_variant_type(t) || t == &DataType::Null => Ok(vec![t.clone()]),
            _ => plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `schema_of_variant_agg` takes one variant"
            ),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format!("{}[schema]", args.name),
            DataType::Utf8,
            true,
        ))])
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(SchemaAccumulator { merged: None }))
    }
}

#[derive(Debug)]
struct SchemaAccumulator {
    merged: Option<DataType>,
}

impl SchemaAccumulator {
    fn add(&mut self, schema: DataType) {
        self.merged = Some(match self.merged.take() {
            Some(merged) => merge_schema(&merged, &schema),
            None => schema,
        });
    }
}

impl Accumulator for SchemaAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(column) = values.first() else {
            return Ok(());
        };
        for row in 0..column.len() {
            if let Some((metadata, value)) = variant_parts(column, row)? {
                let schema = variant_schema(&open(metadata, value)?);
                self.add(schema);
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let Some(column) = states.first() else {
            return Ok(());
        };
        for text in column.as_string::<i32>().iter().flatten() {
            let schema = crate::type_syntax::parse_type(text, "UTC")
                .map_err(|e| DataFusionError::Internal(e.to_string()))?;
            self.add(schema);
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Utf8(
            self.merged.as_ref().map(crate::spark_type_name),
        )])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Utf8(self.merged.as_ref().map(schema_text)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}
