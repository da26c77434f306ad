//! Spark's data types and Arrow's: the Spark Connect `DataType` message both ways, Spark's
//! type names (`decimal(10,2)`, `array<int>`, `a INT, b STRING`), its JSON schema form, and the
//! Arrow types results are sent in (the ones PySpark can read back).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, IntervalUnit, Schema, TimeUnit};
use spark_connect_proto::data_type::{self as spark, Kind};

use ember_functions::{type_syntax, variant};

use crate::error::{ConnectResult, SparkError};

pub type SparkType = spark_connect_proto::DataType;

/// The Arrow field metadata key that holds a column's Spark metadata (its JSON text), from
/// `alias(name, metadata=…)` and `withMetadata`.
pub const SPARK_METADATA: &str = "spark.metadata";

/// `expr AS name`, carrying Spark's column metadata when there is some.
pub fn alias_with_spark_metadata(
    expr: datafusion::logical_expr::Expr,
    name: &str,
    metadata: Option<&String>,
) -> datafusion::logical_expr::Expr {
    match metadata {
        Some(json) => expr.alias_with_metadata(
            name,
            Some(datafusion::common::metadata::FieldMetadata::from(
                std::collections::BTreeMap::from([(SPARK_METADATA.to_string(), json.clone())]),
            )),
        ),
        None => expr.alias(name),
    }
}

fn kind(kind: Kind) -> SparkType {
    SparkType { kind: Some(kind) }
}

/// The Spark type an Arrow type is shown as.
pub fn to_spark(data_type: &DataType) -> ConnectResult<SparkType> {
    Ok(kind(match data_type {
        DataType::Null => Kind::Null(spark::Null::default()),
        DataType::Boolean => Kind::Boolean(spark::Boolean::default()),
        DataType::Int8 => Kind::Byte(spark::Byte::default()),
        DataType::Int16 | DataType::UInt8 => Kind::Short(spark::Short::default()),
        DataType::Int32 | DataType::UInt16 => Kind::Integer(spark::Integer::default()),
        DataType::Int64 | DataType::UInt32 => Kind::Long(spark::Long::default()),
        DataType::UInt64 => Kind::Decimal(spark::Decimal {
            precision: Some(20),
            scale: Some(0),
            ..Default::default()
        }),
        DataType::Float16 | DataType::Float32 => Kind::Float(spark::Float::default()),
        DataType::Float64 => Kind::Double(spark::Double::default()),
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => Kind::Decimal(spark::Decimal {
            precision: Some(i32::from(*p)),
            scale: Some(i32::from(*s)),
            ..Default::default()
        }),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            Kind::String(spark::String::default())
        }
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => Kind::Binary(spark::Binary::default()),
        DataType::Date32 | DataType::Date64 => Kind::Date(spark::Date::default()),
        DataType::Timestamp(_, Some(_)) => Kind::Timestamp(spark::Timestamp::default()),
        DataType::Timestamp(_, None) => Kind::TimestampNtz(spark::TimestampNtz::default()),
        DataType::Time32(_) | DataType::Time64(_) => Kind::Time(spark::Time {
            precision: Some(6),
            ..Default::default()
        }),
        DataType::Interval(IntervalUnit::YearMonth) => {
            Kind::YearMonthInterval(spark::YearMonthInterval {
                start_field: Some(0),
                end_field: Some(1),
                ..Default::default()
            })
        }
        DataType::Duration(_) | DataType::Interval(IntervalUnit::DayTime) => {
            Kind::DayTimeInterval(spark::DayTimeInterval {
                start_field: Some(0),
                end_field: Some(3),
                ..Default::default()
            })
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            Kind::CalendarInterval(spark::CalendarInterval::default())
        }
        DataType::List(field) | DataType::LargeList(field) | DataType::FixedSizeList(field, _) => {
            Kind::Array(Box::new(spark::Array {
                element_type: Some(Box::new(to_spark(field.data_type())?)),
                contains_null: field.is_nullable(),
                ..Default::default()
            }))
        }
        t if variant::is_variant_type(t) => Kind::Variant(spark::Variant::default()),
        DataType::Struct(fields) => Kind::Struct(struct_of(fields)?),
        DataType::Map(entries, _) => {
            let DataType::Struct(pair) = entries.data_type() else {
                return Err(SparkError::unsupported(format!(
                    "the Arrow type {data_type}"
                )));
            };
            Kind::Map(Box::new(spark::Map {
                key_type: Some(Box::new(to_spark(pair[0].data_type())?)),
                value_type: Some(Box::new(to_spark(pair[1].data_type())?)),
                value_contains_null: pair[1].is_nullable(),
                ..Default::default()
            }))
        }
        DataType::Dictionary(_, value) => return to_spark(value),
        other => return Err(SparkError::unsupported(format!("the Arrow type {other}"))),
    }))
}

fn struct_of(fields: &Fields) -> ConnectResult<spark::Struct> {
    Ok(spark::Struct {
        fields: fields
            .iter()
            .map(|f| {
                Ok(spark::StructField {
                    name: f.name().clone(),
                    data_type: Some(to_spark(f.data_type())?),
                    nullable: f.is_nullable(),
                    metadata: f.metadata().get(SPARK_METADATA).cloned(),
                })
            })
            .collect::<ConnectResult<_>>()?,
        ..Default::default()
    })
}

/// A schema as Spark's struct type.
pub fn schema_to_spark(schema: &Schema) -> ConnectResult<SparkType> {
    Ok(kind(Kind::Struct(struct_of(schema.fields())?)))
}

/// The Arrow type a Spark type is computed in.
pub fn to_arrow(spark_type: &SparkType, time_zone: &str) -> ConnectResult<DataType> {
    let Some(kind) = &spark_type.kind else {
        return Err(SparkError::invalid_plan("a data type without a kind"));
    };
    Ok(match kind {
        Kind::Null(_) => DataType::Null,
        Kind::Variant(_) => variant::variant_type(),
        Kind::Boolean(_) => DataType::Boolean,
        Kind::Byte(_) => DataType::Int8,
        Kind::Short(_) => DataType::Int16,
        Kind::Integer(_) => DataType::Int32,
        Kind::Long(_) => DataType::Int64,
        Kind::Float(_) => DataType::Float32,
        Kind::Double(_) => DataType::Float64,
        Kind::Decimal(d) => {
            type_syntax::decimal_type(d.precision.unwrap_or(10), d.scale.unwrap_or(0))?
        }
        Kind::String(_) | Kind::Char(_) | Kind::VarChar(_) => DataType::Utf8,
        Kind::Binary(_) => DataType::Binary,
        Kind::Date(_) => DataType::Date32,
        Kind::Timestamp(_) | Kind::TimestampLtzNanos(_) => {
            DataType::Timestamp(TimeUnit::Microsecond, Some(time_zone.into()))
        }
        Kind::TimestampNtz(_) | Kind::TimestampNtzNanos(_) => {
            DataType::Timestamp(TimeUnit::Microsecond, None)
        }
        Kind::Time(_) => DataType::Time64(TimeUnit::Nanosecond),
        Kind::YearMonthInterval(_) => DataType::Interval(IntervalUnit::YearMonth),
        Kind::DayTimeInterval(_) => DataType::Duration(TimeUnit::Microsecond),
        Kind::CalendarInterval(_) => DataType::Interval(IntervalUnit::MonthDayNano),
        Kind::Array(array) => {
            let element = array
                .element_type
                .as_deref()
                .ok_or_else(|| SparkError::invalid_plan("an array type without its element"))?;
            DataType::List(Arc::new(Field::new(
                "element",
                to_arrow(element, time_zone)?,
                array.contains_null,
            )))
        }
        Kind::Struct(s) => DataType::Struct(
            s.fields
                .iter()
                .map(|f| {
                    let data_type = f.data_type.as_ref().ok_or_else(|| {
                        SparkError::invalid_plan(format!("struct field {} has no type", f.name))
                    })?;
                    Ok(Field::new(
                        &f.name,
                        to_arrow(data_type, time_zone)?,
                        f.nullable,
                    ))
                })
                .collect::<ConnectResult<Fields>>()?,
        ),
        Kind::Map(map) => {
            let (Some(key), Some(value)) = (map.key_type.as_deref(), map.value_type.as_deref())
            else {
                return Err(SparkError::invalid_plan("a map type without key or value"));
            };
            map_type(
                to_arrow(key, time_zone)?,
                to_arrow(value, time_zone)?,
                map.value_contains_null,
            )
        }
        Kind::Unparsed(u) => parse_type(&u.data_type_string, time_zone)?,
        other => return Err(SparkError::unsupported(format!("the Spark type {other:?}"))),
    })
}

pub use ember_functions::spark_type_name as simple_string;
pub use ember_functions::type_syntax::map_type;

/// The Arrow type results are sent in: what PySpark can turn back into Spark types
/// (microsecond timestamps, plain strings and binaries, 32-bit dates).
pub fn wire_type(data_type: &DataType, time_zone: &str) -> DataType {
    match data_type {
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        DataType::BinaryView | DataType::LargeBinary | DataType::FixedSizeBinary(_) => {
            DataType::Binary
        }
        DataType::Date64 => DataType::Date32,
        DataType::Float16 => DataType::Float32,
        DataType::UInt8 => DataType::Int16,
        DataType::UInt16 => DataType::Int32,
        DataType::UInt32 => DataType::Int64,
        DataType::UInt64 => DataType::Decimal128(20, 0),
        DataType::Decimal32(p, s) | DataType::Decimal64(p, s) => DataType::Decimal128(*p, *s),
        DataType::Timestamp(_, Some(_)) => {
            DataType::Timestamp(TimeUnit::Microsecond, Some(time_zone.into()))
        }
        DataType::Timestamp(_, None) => DataType::Timestamp(TimeUnit::Microsecond, None),
        DataType::Duration(_) => DataType::Duration(TimeUnit::Microsecond),
        DataType::Time32(_) | DataType::Time64(_) => DataType::Time64(TimeUnit::Nanosecond),
        DataType::Dictionary(_, value) => wire_type(value, time_zone),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            DataType::List(Arc::new(Field::new(
                f.name(),
                wire_type(f.data_type(), time_zone),
                f.is_nullable(),
            )))
        }
        DataType::Struct(fields) => DataType::Struct(
            fields
                .iter()
                // Field metadata stays: it marks a variant's parts.
                .map(|f| {
                    Field::new(
                        f.name(),
                        wire_type(f.data_type(), time_zone),
                        f.is_nullable(),
                    )
                    .with_metadata(f.metadata().clone())
                })
                .collect(),
        ),
        DataType::Map(entries, sorted) => DataType::Map(
            Arc::new(Field::new(
                entries.name(),
                wire_type(entries.data_type(), time_zone),
                entries.is_nullable(),
            )),
            *sorted,
        ),
        other => other.clone(),
    }
}

/// Parses Spark's type syntax: one type (`int`, `decimal(10,2)`, `array<string>`,
/// `map<string,int>`, `struct<a:int,b:string>`).
pub fn parse_type(text: &str, time_zone: &str) -> ConnectResult<DataType> {
    Ok(type_syntax::parse_type(text, time_zone)?)
}

/// Parses a schema in DDL form (`a INT, b STRING NOT NULL`), JSON form or as a single type,
/// as PySpark's `createDataFrame(data, "a int, b string")` and `spark.read.schema(...)` send it.
pub fn parse_schema(text: &str, time_zone: &str) -> ConnectResult<Schema> {
    Ok(type_syntax::parse_schema(text, time_zone)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_types_round_trip_through_arrow() {
        for text in [
            "int",
            "bigint",
            "decimal(12,3)",
            "string",
            "date",
            "timestamp",
            "timestamp_ntz",
            "time(6)",
            "array<double>",
            "map<string,bigint>",
            "struct<a:int,b:string>",
        ] {
            let arrow = parse_type(text, "UTC").unwrap();
            let spark = to_spark(&arrow).unwrap();
            let back = to_arrow(&spark, "UTC").unwrap();
            assert_eq!(simple_string(&back), simple_string(&arrow), "{text}");
        }
    }
}
