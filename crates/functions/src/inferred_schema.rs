//! Spark's schema inference over values: the type a JSON value reads as (`schema_of_json`,
//! Spark's `JsonInferSchema`), and the widening of two inferred types into one, which
//! `schema_of_variant` shares with a different fallback.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields};

use crate::json_text::Json;

/// The type Spark's schema inference gives a JSON value: integers `BIGINT` (a `DECIMAL` past a
/// long's range), other numbers `DOUBLE`, objects structs with their fields in name order,
/// NULL and empty arrays `STRING`.
pub(crate) fn inferred_type(value: &Json) -> DataType {
    settle(&infer(value))
}

fn infer(value: &Json) -> DataType {
    match value {
        Json::Null => DataType::Null,
        Json::Bool(_) => DataType::Boolean,
        Json::String(_) => DataType::Utf8,
        Json::Number(n) => {
            let integral = n.bytes().all(|b| b.is_ascii_digit() || b == b'-');
            if !integral {
                DataType::Float64
            } else if n.parse::<i64>().is_ok() {
                DataType::Int64
            } else {
                let digits = n.trim_start_matches('-').len();
                match u8::try_from(digits) {
                    Ok(p) if p <= 38 => DataType::Decimal128(p, 0),
                    _ => DataType::Float64,
                }
            }
        }
        Json::Array(items) => {
            let element = items
                .iter()
                .map(infer)
                .reduce(|a, b| merge(&a, &b))
                .unwrap_or(DataType::Null);
            DataType::List(Arc::new(Field::new("element", element, true)))
        }
        Json::Object(fields) => {
            let mut merged: Vec<(String, DataType)> = Vec::new();
            for (name, value) in fields {
                let inferred = infer(value);
                match merged.iter_mut().find(|(n, _)| n == name) {
                    Some((_, existing)) => *existing = merge(existing, &inferred),
                    None => merged.push((name.clone(), inferred)),
                }
            }
            merged.sort_by(|a, b| a.0.cmp(&b.0));
            DataType::Struct(
                merged
                    .into_iter()
                    .map(|(name, t)| Field::new(name, t, true))
                    .collect(),
            )
        }
    }
}

/// The type two inferred types widen to, as Spark's `JsonInferSchema.compatibleType`.
fn merge(a: &DataType, b: &DataType) -> DataType {
    merge_inferred(a, b, &DataType::Utf8)
}

/// Two inferred types as one, as Spark's schema inference widens them (JSON's and
/// `schema_of_variant`'s): numbers widen, structs merge their fields by name, arrays their
/// elements; anything else that differs becomes `otherwise`.
pub(crate) fn merge_inferred(a: &DataType, b: &DataType, otherwise: &DataType) -> DataType {
    let merge = |x: &DataType, y: &DataType| merge_inferred(x, y, otherwise);
    match (a, b) {
        (a, b) if a == b => a.clone(),
        (DataType::Null, other) | (other, DataType::Null) => other.clone(),
        (DataType::Int64, DataType::Float64) | (DataType::Float64, DataType::Int64) => {
            DataType::Float64
        }
        (DataType::Decimal128(_, _), DataType::Float64)
        | (DataType::Float64, DataType::Decimal128(_, _)) => DataType::Float64,
        // A long widens as the decimal that holds every long, `DECIMAL(20,0)`.
        (DataType::Int64, d @ DataType::Decimal128(_, _))
        | (d @ DataType::Decimal128(_, _), DataType::Int64) => {
            merge(&DataType::Decimal128(20, 0), d)
        }
        (DataType::Decimal128(p1, s1), DataType::Decimal128(p2, s2)) => {
            let scale = (*s1).max(*s2);
            let whole = (*p1 as i16 - *s1 as i16).max(*p2 as i16 - *s2 as i16);
            DataType::Decimal128((whole + scale as i16).clamp(1, 38) as u8, scale)
        }
        (DataType::List(x), DataType::List(y)) => DataType::List(Arc::new(Field::new(
            "element",
            merge(x.data_type(), y.data_type()),
            true,
        ))),
        (DataType::Struct(x), DataType::Struct(y)) => {
            let mut fields: Vec<(String, DataType)> = x
                .iter()
                .map(|f| (f.name().clone(), f.data_type().clone()))
                .collect();
            for field in y.iter() {
                match fields.iter_mut().find(|(n, _)| n == field.name()) {
                    Some((_, existing)) => *existing = merge(existing, field.data_type()),
                    None => fields.push((field.name().clone(), field.data_type().clone())),
                }
            }
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            DataType::Struct(
                fields
                    .into_iter()
                    .map(|(name, t)| Field::new(name, t, true))
                    .collect::<Fields>(),
            )
        }
        _ => otherwise.clone(),
    }
}

/// NULL types left after inference are strings.
fn settle(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Null => DataType::Utf8,
        DataType::List(f) => {
            DataType::List(Arc::new(Field::new("element", settle(f.data_type()), true)))
        }
        DataType::Struct(fields) => DataType::Struct(
            fields
                .iter()
                .map(|f| Field::new(f.name(), settle(f.data_type()), true))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_text::{self, JsonOptions};
    use crate::types::spark_sql_type_name;

    #[test]
    fn schemas_are_inferred_as_spark_infers_them() {
        let infer_text = |text: &str| {
            spark_sql_type_name(&inferred_type(
                &json_text::parse(text, &JsonOptions::default()).unwrap(),
            ))
        };
        assert_eq!(
            infer_text(r#"{"b": 0, "a": "x"}"#),
            "STRUCT<a: STRING, b: BIGINT>"
        );
        assert_eq!(infer_text("[1, 2.5]"), "ARRAY<DOUBLE>");
        assert_eq!(infer_text("[]"), "ARRAY<STRING>");
        assert_eq!(
            infer_text(r#"[{"a": 1}, {"b": null}]"#),
            "ARRAY<STRUCT<a: BIGINT, b: STRING>>"
        );
        assert_eq!(infer_text("12345678901234567890"), "DECIMAL(20,0)");
    }
}
