//! Spark's functions over JSON text: `get_json_object(json, path)` (Spark's JSONPath subset:
//! `$`, `.name`, `['name']`, `[n]` and `[*]`), `json_array_length` and `json_object_keys`.
//! Text that is not JSON, or a path that is not valid, gives NULL, as on Spark. Objects keep
//! their keys in document order.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Int32Builder, ListBuilder, StringArray, StringBuilder,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use serde_json::Value;

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    [
        JsonKind::GetObject,
        JsonKind::ArrayLength,
        JsonKind::ObjectKeys,
    ]
    .into_iter()
    .map(|kind| {
        let arity = if kind == JsonKind::GetObject { 2 } else { 1 };
        Arc::new(ScalarUDF::from(JsonFunction {
            kind,
            signature: Signature::new(TypeSignature::String(arity), Volatility::Immutable),
        }))
    })
    .collect()
}

#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
enum JsonKind {
    GetObject,
    ArrayLength,
    ObjectKeys,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonFunction {
    kind: JsonKind,
    signature: Signature,
}

impl ScalarUDFImpl for JsonFunction {
    fn name(&self) -> &str {
        match self.kind {
            JsonKind::GetObject => "get_json_object",
            JsonKind::ArrayLength => "json_array_length",
            JsonKind::ObjectKeys => "json_object_keys",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            JsonKind::GetObject => DataType::Utf8,
            JsonKind::ArrayLength => DataType::Int32,
            JsonKind::ObjectKeys => {
                DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
            }
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let all_scalar = crate::columnar::all_scalar(&args.args);
        let texts = as_utf8(&args.args[0], rows)?;
        let result: ArrayRef = match self.kind {
            JsonKind::GetObject => {
                let paths = match args.args.get(1) {
                    Some(p) => as_utf8(p, rows)?,
                    None => return plan_err!("`get_json_object` takes a JSON string and a path"),
                };
                let mut builder = StringBuilder::new();
                let mut parsed: Option<(String, Option<Vec<Step>>)> = None;
                for row in 0..rows {
                    if texts.is_null(row) || paths.is_null(row) {
                        builder.append_null();
                        continue;
                    }
                    let path = paths.value(row);
                    if parsed.as_ref().is_none_or(|(p, _)| p != path) {
                        parsed = Some((path.to_string(), parse_path(path)));
                    }
                    let steps = parsed.as_ref().and_then(|(_, s)| s.as_deref());
                    let found = steps.and_then(|steps| {
                        let value: Value = serde_json::from_str(texts.value(row)).ok()?;
                        extract(&value, steps)
                    });
                    builder.append_option(found);
                }
                Arc::new(builder.finish())
            }
            JsonKind::ArrayLength => {
                let mut builder = Int32Builder::new();
                for row in 0..rows {
                    let length = (!texts.is_null(row))
                        .then(|| serde_json::from_str::<Value>(texts.value(row)).ok())
                        .flatten()
                        .and_then(|v| match v {
                            Value::Array(items) => i32::try_from(items.len()).ok(),
                            _ => None,
                        });
                    builder.append_option(length);
                }
                Arc::new(builder.finish())
            }
            JsonKind::ObjectKeys => {
                let mut builder = ListBuilder::new(StringBuilder::new());
                for row in 0..rows {
                    let object = (!texts.is_null(row))
                        .then(|| serde_json::from_str::<Value>(texts.value(row)).ok())
                        .flatten();
                    match object {
                        Some(Value::Object(fields)) => {
                            for key in fields.keys() {
                                builder.values().append_value(key);
                            }
                            builder.append(true);
                        }
                        _ => builder.append_null(),
                    }
                }
                Arc::new(builder.finish())
            }
        };
        crate::columnar::finish(result, all_scalar)
    }
}

fn as_utf8(value: &ColumnarValue, rows: usize) -> Result<StringArray> {
    let array = cast(&value.to_array(rows)?, &DataType::Utf8)?;
    Ok(array.as_string::<i32>().clone())
}

/// One step of a JSONPath.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
    Wildcard,
}

/// Spark's JSONPath subset; `None` for anything else.
pub(crate) fn parse_path(path: &str) -> Option<Vec<Step>> {
    let mut rest = path.strip_prefix('$')?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("['") {
            let end = after.find("']")?;
            steps.push(Step::Key(after[..end].to_string()));
            rest = &after[end + 2..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let inside = &after[..end];
            steps.push(if inside == "*" {
                Step::Wildcard
            } else {
                Step::Index(inside.parse().ok()?)
            });
            rest = &after[end + 1..];
        } else if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let key = &after[..end];
            if key.is_empty() {
                return None;
            }
            steps.push(if key == "*" {
                Step::Wildcard
            } else {
                Step::Key(key.to_string())
            });
            rest = &after[end..];
        } else {
            return None;
        }
    }
    Some(steps)
}

/// What `get_json_object` returns for `steps` into `value`: a string match as its text,
/// anything else as compact JSON; with a wildcard, several matches as a JSON array and one
/// match as JSON (a string keeps its quotes).
fn extract(value: &Value, steps: &[Step]) -> Option<String> {
    let wildcard = steps.contains(&Step::Wildcard);
    let mut matches = Vec::new();
    walk(value, steps, &mut matches);
    if wildcard {
        return match matches.as_slice() {
            [] => None,
            [one] => Some(one.to_string()),
            many => Some(Value::Array(many.iter().map(|v| (*v).clone()).collect()).to_string()),
        };
    }
    match matches.first()? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn walk<'a>(value: &'a Value, steps: &[Step], out: &mut Vec<&'a Value>) {
    let Some((step, rest)) = steps.split_first() else {
        out.push(value);
        return;
    };
    match (step, value) {
        (Step::Key(key), Value::Object(fields)) => {
            if let Some(v) = fields.get(key) {
                walk(v, rest, out);
            }
        }
        (Step::Index(i), Value::Array(items)) => {
            if let Some(v) = items.get(*i) {
                walk(v, rest, out);
            }
        }
        (Step::Wildcard, Value::Array(items)) => {
            for item in items {
                walk(item, rest, out);
            }
        }
        (Step::Wildcard, Value::Object(fields)) => {
            for v in fields.values() {
                walk(v, rest, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(json: &str, path: &str) -> Option<String> {
        let value: Value = serde_json::from_str(json).ok()?;
        extract(&value, &parse_path(path)?)
    }

    #[test]
    fn paths_select_as_sparks_get_json_object() {
        let doc = r#"{"a": {"b": [1, {"c": "x"}]}, "s": "text", "n": null}"#;
        assert_eq!(get(doc, "$.s").as_deref(), Some("text"));
        assert_eq!(get(doc, "$.a.b[0]").as_deref(), Some("1"));
        assert_eq!(get(doc, "$['a']['b'][1].c").as_deref(), Some("x"));
        assert_eq!(get(doc, "$.a.b[1]").as_deref(), Some(r#"{"c":"x"}"#));
        assert_eq!(get(doc, "$.n"), None);
        assert_eq!(get(doc, "$.missing"), None);
        assert_eq!(get(doc, "a.b"), None);
        assert_eq!(get("not json", "$.a"), None);
        let rows = r#"[{"f1": "v1"}, {"f1": "v2"}, {"f2": "v3"}]"#;
        assert_eq!(get(rows, "$[*].f1").as_deref(), Some(r#"["v1","v2"]"#));
        assert_eq!(get(rows, "$[*].f2").as_deref(), Some(r#""v3""#));
    }

    #[test]
    fn object_keys_keep_document_order() {
        let value: Value = serde_json::from_str(r#"{"z": 1, "a": 2}"#).unwrap();
        let Value::Object(fields) = value else {
            panic!("an object")
        };
        assert_eq!(fields.keys().collect::<Vec<_>>(), ["z", "a"]);
    }
}
