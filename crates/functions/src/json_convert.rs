//! Spark's conversions between JSON text and typed values: `from_json(text, schema[, options])`,
//! `to_json(value[, options])` and `schema_of_json(text[, options])`. The schema is a literal in
//! DDL form (`a INT`), JSON form or a type name (`MAP<STRING,INT>`), read by
//! [`crate::type_syntax`]. Parsing follows Spark's PERMISSIVE mode: a record that is not JSON
//! becomes a struct of NULLs (NULL for arrays and maps), and a value of the wrong kind becomes
//! NULL while its siblings are kept. `mode` `FAILFAST` raises instead.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BooleanArray, Date32Array, ListArray, MapArray,
    StringArray, StructArray, TimestampMicrosecondArray,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::compute::{CastOptions, cast, cast_with_options};
use arrow::datatypes::{DataType, Field, FieldRef, TimeUnit};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{NaiveDate, TimeZone};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use crate::columnar::{all_scalar, finish, is_text};
use crate::date_pattern::java_to_chrono;
use crate::inferred_schema::inferred_type;
use crate::java_text::{double_text, float_text};
use crate::json_text::{self, Json, JsonOptions, write_string};
use crate::type_syntax::{map_type, parse_type_or_schema};
use crate::types::spark_sql_type_name;

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    [Kind::Read, Kind::Write, Kind::InferSchema]
        .into_iter()
        .map(|kind| {
            Arc::new(ScalarUDF::from(JsonConversion {
                kind,
                label: "UTC".into(),
                signature: Signature::user_defined(Volatility::Immutable),
            }))
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
enum Kind {
    Read,
    Write,
    InferSchema,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct JsonConversion {
    kind: Kind,
    /// The session's time zone, the label of `TIMESTAMP` fields of a schema.
    label: Arc<str>,
    signature: Signature,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Read => "from_json",
            Kind::Write => "to_json",
            Kind::InferSchema => "schema_of_json",
        }
    }

    /// Where the options map sits among the arguments.
    fn options_at(self) -> usize {
        match self {
            Kind::Read => 2,
            Kind::Write | Kind::InferSchema => 1,
        }
    }
}

impl ScalarUDFImpl for JsonConversion {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.kind.name();
        let options_at = self.kind.options_at();
        if arg_types.len() < options_at || arg_types.len() > options_at + 1 {
            return plan_err!(
                "`{name}` takes {options_at} argument(s) and an optional map of options, not {} argument(s)",
                arg_types.len()
            );
        }
        arg_types
            .iter()
            .enumerate()
            .map(|(i, t)| match (i, t) {
                (i, DataType::Map(_, _)) if i == options_at => Ok(t.clone()),
                (i, other) if i == options_at => plan_err!(
                    "`{name}` takes its options as a map of strings, not {other}"
                ),
                (0, t) if self.kind == Kind::Write => {
                    if writable(t) {
                        Ok(t.clone())
                    } else {
                        plan_err!(
                            "[DATATYPE_MISMATCH.INVALID_JSON_SCHEMA] `to_json` takes a struct, array, map or variant, not {t}"
                        )
                    }
                }
                (_, t) if is_text(t) => Ok(DataType::Utf8),
                (_, other) => plan_err!("`{name}` takes JSON text, not {other}"),
            })
            .collect()
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        match self.kind {
            Kind::Read => plan_err!("`from_json` is typed by its schema argument"),
            Kind::Write | Kind::InferSchema => Ok(DataType::Utf8),
        }
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        match self.kind {
            Kind::Read => {
                let schema = args
                    .scalar_arguments
                    .get(1)
                    .copied()
                    .flatten()
                    .and_then(literal_text);
                let Some(schema) = schema else {
                    return plan_err!(
                        "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] `from_json` takes its schema as a string literal"
                    );
                };
                let parsed = parse_type_or_schema(&schema, &self.label)
                    .map_err(|e| datafusion::error::DataFusionError::Plan(e.to_string()))?;
                let data_type = nullable(&parsed);
                check_readable(&data_type)?;
                Ok(Arc::new(Field::new(self.name(), data_type, true)))
            }
            Kind::Write | Kind::InferSchema => {
                Ok(Arc::new(Field::new(self.name(), DataType::Utf8, true)))
            }
        }
    }

    fn with_updated_config(&self, config: &ConfigOptions) -> Option<ScalarUDF> {
        let label = crate::zones::session_label(config);
        (label != self.label).then(|| {
            ScalarUDF::from(JsonConversion {
                label,
                ..self.clone()
            })
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = all_scalar(&args.args);
        let rows = args.number_rows;
        let pairs = option_pairs(args.args.get(self.kind.options_at()))?;
        let zone = crate::zones::session_label(&args.config_options).to_string();
        let input = args.args[0].to_array(rows)?;
        let result = match self.kind {
            Kind::Read => {
                let reading = ReadOptions::new(&pairs, zone)?;
                from_json(&input, args.return_type(), &reading)?
            }
            Kind::Write => {
                let writing = WriteOptions::new(&pairs, zone)?;
                let mut out = Vec::with_capacity(input.len());
                for row in 0..input.len() {
                    if input.is_null(row) {
                        out.push(None);
                    } else {
                        let mut text = String::new();
                        write_json(input.as_ref(), row, &mut text, &writing)?;
                        out.push(Some(text));
                    }
                }
                Arc::new(StringArray::from(out)) as ArrayRef
            }
            Kind::InferSchema => {
                let options = JsonOptions::from_pairs(pairs.iter().map(|(k, v)| (&**k, &**v)));
                let text = cast(&input, &DataType::Utf8)?;
                let mut out = Vec::with_capacity(text.len());
                for value in text.as_string::<i32>() {
                    out.push(match value {
                        None => None,
                        Some(value) => match json_text::parse(value, &options) {
                            Some(json) => Some(spark_sql_type_name(&inferred_type(&json))),
                            None => {
                                return exec_err!(
                                    "[MALFORMED_RECORD_IN_PARSING] `schema_of_json` cannot read {value:?} as JSON"
                                );
                            }
                        },
                    });
                }
                Arc::new(StringArray::from(out)) as ArrayRef
            }
        };
        finish(result, scalar)
    }
}

fn literal_text(value: &ScalarValue) -> Option<String> {
    match value {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Some(s.clone()),
        _ => None,
    }
}

/// The options a map argument holds, as `(name, value)` text pairs; its first row when it is
/// a column.
pub(crate) fn option_pairs(value: Option<&ColumnarValue>) -> Result<Vec<(String, String)>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let array = value.to_array(1)?;
    let Some(map) = array.as_map_opt() else {
        return plan_err!("options are a map of strings, not {}", array.data_type());
    };
    if map.is_empty() || map.is_null(0) {
        return Ok(Vec::new());
    }
    let entries = map.value(0);
    let keys = cast(entries.column(0), &DataType::Utf8)?;
    let values = cast(entries.column(1), &DataType::Utf8)?;
    Ok(keys
        .as_string::<i32>()
        .iter()
        .zip(values.as_string::<i32>())
        .filter_map(|(k, v)| Some((k?.to_string(), v.unwrap_or_default().to_string())))
        .collect())
}

/// The value of option `name` (any case; the last one given wins).
pub(crate) fn option<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The type with every field, element and value nullable, as Spark reads JSON into a schema.
fn nullable(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Struct(fields) => DataType::Struct(
            fields
                .iter()
                .map(|f| Field::new(f.name(), nullable(f.data_type()), true))
                .collect(),
        ),
        DataType::List(f) => DataType::List(Arc::new(Field::new(
            f.name(),
            nullable(f.data_type()),
            true,
        ))),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(pair) if pair.len() == 2 => map_type(
                pair[0].data_type().clone(),
                nullable(pair[1].data_type()),
                true,
            ),
            _ => data_type.clone(),
        },
        other => other.clone(),
    }
}

/// Refuses, when the plan is made, types JSON text cannot be read into.
fn check_readable(data_type: &DataType) -> Result<()> {
    match data_type {
        DataType::Struct(fields) => fields
            .iter()
            .try_for_each(|f| check_readable(f.data_type())),
        DataType::List(f) => check_readable(f.data_type()),
        DataType::Map(entries, _) => check_readable(entries.data_type()),
        DataType::Null
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal128(_, _)
        | DataType::Utf8
        | DataType::Binary
        | DataType::Date32
        | DataType::Timestamp(TimeUnit::Microsecond, _) => Ok(()),
        other => plan_err!(
            "[DATATYPE_MISMATCH.INVALID_JSON_SCHEMA] `from_json` cannot read JSON into {}",
            crate::spark_type_name(other)
        ),
    }
}

struct ReadOptions {
    json: JsonOptions,
    fail_fast: bool,
    date_format: Option<String>,
    timestamp_format: Option<String>,
    zone: String,
}

impl ReadOptions {
    fn new(pairs: &[(String, String)], zone: String) -> Result<ReadOptions> {
        let fail_fast = match option(pairs, "mode").map(|m| m.to_ascii_uppercase()) {
            None => false,
            Some(mode) if mode == "PERMISSIVE" => false,
            Some(mode) if mode == "FAILFAST" => true,
            Some(other) => {
                return exec_err!(
                    "[PARSE_MODE_UNSUPPORTED] `from_json` takes mode PERMISSIVE or FAILFAST, not {other}"
                );
            }
        };
        Ok(ReadOptions {
            json: JsonOptions::from_pairs(pairs.iter().map(|(k, v)| (&**k, &**v))),
            fail_fast,
            date_format: option(pairs, "dateFormat").map(java_to_chrono),
            timestamp_format: option(pairs, "timestampFormat").map(java_to_chrono),
            zone,
        })
    }
}

fn from_json(input: &ArrayRef, data_type: &DataType, options: &ReadOptions) -> Result<ArrayRef> {
    let text = cast(input, &DataType::Utf8)?;
    let empty = Json::Object(Vec::new());
    let mut parsed: Vec<Option<Json>> = Vec::with_capacity(text.len());
    for value in text.as_string::<i32>() {
        let Some(value) = value else {
            parsed.push(None);
            continue;
        };
        let json = json_text::parse(value, &options.json);
        let fits_root = match (&json, data_type) {
            (Some(Json::Object(_)), DataType::Struct(_) | DataType::Map(_, _)) => true,
            (Some(Json::Array(_) | Json::Object(_)), DataType::List(_)) => true,
            (Some(_), DataType::Struct(_) | DataType::Map(_, _) | DataType::List(_)) => false,
            (Some(_), _) => true,
            (None, _) => false,
        };
        if !fits_root && options.fail_fast {
            return exec_err!(
                "[MALFORMED_RECORD_IN_PARSING] Malformed records are detected in record parsing: {value:?}. Parse Mode: FAILFAST."
            );
        }
        parsed.push(match (json, data_type) {
            // An object read as an array of structs is that array's one element, as on Spark.
            (Some(object @ Json::Object(_)), DataType::List(element))
                if matches!(element.data_type(), DataType::Struct(_)) =>
            {
                Some(Json::Array(vec![object]))
            }
            (Some(json), _) if fits_root => Some(json),
            // Spark's PERMISSIVE mode: a malformed record is a struct of NULLs.
            (_, DataType::Struct(_)) => Some(empty.clone()),
            _ => None,
        });
    }
    let values: Vec<Option<&Json>> = parsed.iter().map(Option::as_ref).collect();
    build(&values, data_type, options)
}

/// One JSON text read as `data_type`, as `from_json` reads it (for casts of variants).
pub(crate) fn read_json_as(text: &str, data_type: &DataType, zone: &str) -> Result<ArrayRef> {
    let input: ArrayRef = Arc::new(StringArray::from(vec![text]));
    let options = ReadOptions::new(&[], zone.to_string())?;
    from_json(&input, &nullable(data_type), &options)
}

fn present(value: &Json) -> Option<&Json> {
    (!matches!(value, Json::Null)).then_some(value)
}

/// The column of `data_type` that `values` read as.
fn build(
    values: &[Option<&Json>],
    data_type: &DataType,
    options: &ReadOptions,
) -> Result<ArrayRef> {
    let valid = |accept: fn(&Json) -> bool| {
        NullBuffer::from(
            values
                .iter()
                .map(|v| v.is_some_and(accept))
                .collect::<Vec<bool>>(),
        )
    };
    Ok(match data_type {
        DataType::Struct(fields) => {
            let nulls = valid(|v| matches!(v, Json::Object(_)));
            let columns = fields
                .iter()
                .map(|field| {
                    let child: Vec<Option<&Json>> = values
                        .iter()
                        .map(|v| match v {
                            // A repeated key keeps its last value, as Jackson reads it.
                            Some(Json::Object(entries)) => entries
                                .iter()
                                .rev()
                                .find(|(k, _)| k == field.name())
                                .and_then(|(_, v)| present(v)),
                            _ => None,
                        })
                        .collect();
                    build(&child, field.data_type(), options)
                })
                .collect::<Result<Vec<_>>>()?;
            Arc::new(StructArray::try_new(fields.clone(), columns, Some(nulls))?)
        }
        DataType::List(element) => {
            let mut offsets = Vec::with_capacity(values.len() + 1);
            offsets.push(0i32);
            let mut items = Vec::new();
            for value in values {
                if let Some(Json::Array(xs)) = value {
                    items.extend(xs.iter().map(present));
                }
                offsets.push(i32::try_from(items.len()).unwrap_or(i32::MAX));
            }
            let child = build(&items, element.data_type(), options)?;
            Arc::new(ListArray::try_new(
                element.clone(),
                OffsetBuffer::new(offsets.into()),
                child,
                Some(valid(|v| matches!(v, Json::Array(_)))),
            )?)
        }
        DataType::Map(entries, sorted) => {
            let DataType::Struct(pair) = entries.data_type() else {
                return exec_err!("a map's entries are a struct of key and value");
            };
            let mut offsets = Vec::with_capacity(values.len() + 1);
            offsets.push(0i32);
            let (mut keys, mut items) = (Vec::new(), Vec::new());
            for value in values {
                if let Some(Json::Object(fields)) = value {
                    for (key, item) in fields {
                        keys.push(key.as_str());
                        items.push(present(item));
                    }
                }
                offsets.push(i32::try_from(items.len()).unwrap_or(i32::MAX));
            }
            let keys = cast(
                &(Arc::new(StringArray::from(keys)) as ArrayRef),
                pair[0].data_type(),
            )?;
            if keys.null_count() > 0 {
                return exec_err!(
                    "`from_json` cannot read a map key as {}",
                    crate::spark_type_name(pair[0].data_type())
                );
            }
            let items = build(&items, pair[1].data_type(), options)?;
            Arc::new(MapArray::try_new(
                entries.clone(),
                OffsetBuffer::new(offsets.into()),
                StructArray::try_new(pair.clone(), vec![keys, items], None)?,
                Some(valid(|v| matches!(v, Json::Object(_)))),
                *sorted,
            )?)
        }
        DataType::Null => arrow::array::new_null_array(&DataType::Null, values.len()),
        DataType::Boolean => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    Some(Json::Bool(b)) => Some(*b),
                    _ => None,
                })
                .collect::<BooleanArray>(),
        ),
        DataType::Utf8 => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    Some(Json::String(s)) => Some(s.clone()),
                    // Spark keeps a nested value's text in a string field.
                    Some(other) => Some(other.to_text()),
                    None => None,
                })
                .collect::<StringArray>(),
        ),
        DataType::Binary => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    Some(Json::String(s)) => BASE64.decode(s).ok(),
                    _ => None,
                })
                .collect::<BinaryArray>(),
        ),
        DataType::Date32 => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    Some(Json::String(s)) => read_date(s, options.date_format.as_deref()),
                    _ => None,
                })
                .collect::<Date32Array>(),
        ),
        DataType::Timestamp(_, zone) => {
            let texts: StringArray = values
                .iter()
                .map(|v| match v {
                    Some(Json::String(s)) => Some(s.clone()),
                    _ => None,
                })
                .collect();
            let micros = read_timestamps(&texts, zone.is_some(), options)?;
            // Numbers are seconds since the epoch, as Spark reads them.
            let micros: TimestampMicrosecondArray = values
                .iter()
                .zip(micros.iter())
                .map(|(v, parsed)| match v {
                    Some(Json::Number(n)) => {
                        n.parse::<i64>().ok().and_then(|s| s.checked_mul(1_000_000))
                    }
                    _ => parsed,
                })
                .collect();
            Arc::new(micros.with_timezone_opt(zone.clone()))
        }
        numeric => {
            let accepts_words = matches!(numeric, DataType::Float32 | DataType::Float64);
            let texts: StringArray = values
                .iter()
                .map(|v| match v {
                    Some(Json::Number(n)) => Some(n.as_str()),
                    Some(Json::String(s)) if accepts_words && is_special_double(s) => {
                        Some(s.as_str())
                    }
                    _ => None,
                })
                .collect();
            let safe = CastOptions {
                safe: true,
                ..Default::default()
            };
            cast_with_options(&(Arc::new(texts) as ArrayRef), numeric, &safe)?
        }
    })
}

fn is_special_double(text: &str) -> bool {
    matches!(
        text,
        "NaN" | "Infinity" | "+Infinity" | "-Infinity" | "INF" | "+INF" | "-INF"
    )
}

fn read_date(text: &str, pattern: Option<&str>) -> Option<i32> {
    let date = match pattern {
        Some(pattern) => NaiveDate::parse_from_str(text, pattern).ok()?,
        None => {
            let head = text.trim().split(['T', ' ']).next()?;
            NaiveDate::parse_from_str(head, "%Y-%m-%d").ok()?
        }
    };
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    i32::try_from((date - epoch).num_days()).ok()
}

/// Timestamps from text: with `timestampFormat` by that pattern, otherwise as Spark casts
/// text; text without an offset is in the session's time zone (for `timestamp_ntz`, none).
fn read_timestamps(
    texts: &StringArray,
    with_zone: bool,
    options: &ReadOptions,
) -> Result<TimestampMicrosecondArray> {
    let zone: Option<Arc<str>> = with_zone.then(|| options.zone.as_str().into());
    if let Some(pattern) = &options.timestamp_format {
        let tz: Option<arrow::array::timezone::Tz> = if with_zone {
            options.zone.parse().ok()
        } else {
            None
        };
        return Ok(texts
            .iter()
            .map(|text| {
                let text = text?;
                if let Ok(at) = chrono::DateTime::parse_from_str(text, pattern) {
                    return Some(at.timestamp_micros());
                }
                let naive = chrono::NaiveDateTime::parse_from_str(text, pattern)
                    .ok()
                    .or_else(|| {
                        NaiveDate::parse_from_str(text, pattern)
                            .ok()
                            .and_then(|d| d.and_hms_opt(0, 0, 0))
                    })?;
                match &tz {
                    Some(tz) => tz
                        .from_local_datetime(&naive)
                        .earliest()
                        .map(|at| at.timestamp_micros()),
                    None => Some(naive.and_utc().timestamp_micros()),
                }
            })
            .collect());
    }
    let safe = CastOptions {
        safe: true,
        ..Default::default()
    };
    let parsed = cast_with_options(
        &(Arc::new(texts.clone()) as ArrayRef),
        &DataType::Timestamp(TimeUnit::Microsecond, zone),
        &safe,
    )?;
    Ok(parsed
        .as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
        .clone()
        .with_timezone_opt(None::<Arc<str>>))
}

/// Types `to_json` writes at the top level.
fn writable(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Struct(_) | DataType::List(_) | DataType::LargeList(_) | DataType::Map(_, _)
    )
}

struct WriteOptions {
    ignore_null_fields: bool,
    date_format: String,
    timestamp_format: Option<String>,
    zone: Option<arrow::array::timezone::Tz>,
    zone_name: String,
}

impl WriteOptions {
    fn new(pairs: &[(String, String)], zone: String) -> Result<WriteOptions> {
        Ok(WriteOptions {
            ignore_null_fields: option(pairs, "ignoreNullFields")
                .is_none_or(|v| !v.eq_ignore_ascii_case("false")),
            date_format: option(pairs, "dateFormat")
                .map_or_else(|| "%Y-%m-%d".to_string(), java_to_chrono),
            timestamp_format: option(pairs, "timestampFormat").map(java_to_chrono),
            zone: crate::zones::spark_zone(&zone),
            zone_name: zone,
        })
    }
}

/// Writes row `row` of `array` as Spark's JSON generator does: struct fields by name (NULL
/// fields left out unless `ignoreNullFields` is false), dates as `yyyy-MM-dd`, timestamps as
/// `yyyy-MM-dd'T'HH:mm:ss.SSSXXX` in the session's time zone, bytes in base64.
fn write_json(
    array: &dyn Array,
    row: usize,
    out: &mut String,
    options: &WriteOptions,
) -> Result<()> {
    if array.is_null(row) {
        out.push_str("null");
        return Ok(());
    }
    if crate::variant::is_variant_type(array.data_type()) {
        out.push_str(&crate::variant::variant_json(
            array,
            row,
            &options.zone_name,
        )?);
        return Ok(());
    }
    match array.data_type() {
        DataType::Struct(fields) => {
            let columns = array.as_struct();
            out.push('{');
            let mut first = true;
            for (field, column) in fields.iter().zip(columns.columns()) {
                if column.is_null(row) && options.ignore_null_fields {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                write_string(out, field.name());
                out.push(':');
                write_json(column.as_ref(), row, out, options)?;
            }
            out.push('}');
        }
        DataType::List(_) | DataType::LargeList(_) => {
            let items = match array.as_list_opt::<i32>() {
                Some(list) => list.value(row),
                None => array.as_list::<i64>().value(row),
            };
            out.push('[');
            for i in 0..items.len() {
                if i > 0 {
                    out.push(',');
                }
                write_json(items.as_ref(), i, out, options)?;
            }
            out.push(']');
        }
        DataType::Map(_, _) => {
            let entries = array.as_map().value(row);
            let keys = cast(entries.column(0), &DataType::Utf8)?;
            let keys = keys.as_string::<i32>();
            out.push('{');
            for i in 0..entries.len() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, keys.value(i));
                out.push(':');
                write_json(entries.column(1).as_ref(), i, out, options)?;
            }
            out.push('}');
        }
        DataType::Boolean => out.push_str(if array.as_boolean().value(row) {
            "true"
        } else {
            "false"
        }),
        DataType::Float64 => out.push_str(&double_text(
            array
                .as_primitive::<arrow::datatypes::Float64Type>()
                .value(row),
        )),
        DataType::Float32 => out.push_str(&float_text(
            array
                .as_primitive::<arrow::datatypes::Float32Type>()
                .value(row),
        )),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let text = cast(&array.slice(row, 1), &DataType::Utf8)?;
            write_string(out, text.as_string::<i32>().value(0));
        }
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            let bytes = cast(&array.slice(row, 1), &DataType::Binary)?;
            write_string(out, &BASE64.encode(bytes.as_binary::<i32>().value(0)));
        }
        DataType::Date32 => {
            let days = array
                .as_primitive::<arrow::datatypes::Date32Type>()
                .value(row);
            let date = NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(days.into())));
            match date {
                Some(date) => write_string(out, &date.format(&options.date_format).to_string()),
                None => out.push_str("null"),
            }
        }
        DataType::Timestamp(_, zone) => {
            let micros = cast(
                &array.slice(row, 1),
                &DataType::Timestamp(TimeUnit::Microsecond, zone.clone()),
            )?;
            let micros = micros
                .as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
                .value(0);
            write_string(out, &timestamp_text(micros, zone.is_some(), options));
        }
        DataType::Null => out.push_str("null"),
        _ => {
            // Numbers and decimals: their plain text.
            let formatter = ArrayFormatter::try_new(array, &FormatOptions::default())?;
            out.push_str(&formatter.value(row).to_string());
        }
    }
    Ok(())
}

/// A zoned time in Spark's default text form for JSON and CSV,
/// `yyyy-MM-dd'T'HH:mm:ss.SSSXXX` (`Z` for a zero offset).
pub(crate) fn default_timestamp_text<Z: chrono::TimeZone>(local: &chrono::DateTime<Z>) -> String
where
    Z::Offset: std::fmt::Display,
{
    let offset = local.format("%:z").to_string();
    let offset = if offset == "+00:00" {
        "Z".into()
    } else {
        offset
    };
    format!("{}{offset}", local.format("%Y-%m-%dT%H:%M:%S%.3f"))
}

fn timestamp_text(micros: i64, with_zone: bool, options: &WriteOptions) -> String {
    let Some(utc) = chrono::DateTime::from_timestamp_micros(micros) else {
        return String::new();
    };
    match (&options.zone, with_zone) {
        (Some(tz), true) => {
            let local = utc.with_timezone(tz);
            match &options.timestamp_format {
                Some(pattern) => local.format(pattern).to_string(),
                None => default_timestamp_text(&local),
            }
        }
        _ => {
            let naive = utc.naive_utc();
            match &options.timestamp_format {
                Some(pattern) => naive.format(pattern).to_string(),
                None => naive.format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(texts: &[Option<&str>], schema: &str) -> ArrayRef {
        let data_type = nullable(&parse_type_or_schema(schema, "UTC").unwrap());
        let input: ArrayRef = Arc::new(StringArray::from(texts.to_vec()));
        let options = ReadOptions::new(&[], "UTC".into()).unwrap();
        from_json(&input, &data_type, &options).unwrap()
    }

    fn written(array: &ArrayRef) -> Vec<String> {
        let options = WriteOptions::new(&[], "America/Los_Angeles".into()).unwrap();
        (0..array.len())
            .map(|row| {
                let mut out = String::new();
                write_json(array.as_ref(), row, &mut out, &options).unwrap();
                out
            })
            .collect()
    }

    #[test]
    fn records_read_permissively_and_write_back() {
        let rows = read(
            &[
                Some(r#"{"a": 1, "b": "x", "c": [1.5, null], "d": {"k": 2}}"#),
                Some(r#"{"a": "not a number", "b": {"nested": true}}"#),
                Some("{broken"),
                None,
            ],
            "a INT, b STRING, c ARRAY<DOUBLE>, d MAP<STRING, BIGINT>",
        );
        assert_eq!(
            written(&rows),
            [
                r#"{"a":1,"b":"x","c":[1.5,null],"d":{"k":2}}"#,
                r#"{"b":"{\"nested\":true}"}"#,
                "{}",
                "null",
            ]
        );
        assert!(rows.is_null(3));
        assert!(!rows.is_null(2), "a malformed record is a struct of NULLs");
    }

    #[test]
    fn arrays_and_maps_at_the_top() {
        let arrays = read(&[Some("[1, 2, 3]"), Some("{}"), Some("nope")], "array<int>");
        assert_eq!(written(&arrays)[0], "[1,2,3]");
        assert!(arrays.is_null(1) && arrays.is_null(2));
        let one_struct = read(&[Some(r#"{"a": 1}"#)], "array<struct<a:int>>");
        assert_eq!(written(&one_struct), [r#"[{"a":1}]"#]);
    }

    #[test]
    fn dates_and_timestamps_read_and_write_as_spark() {
        let rows = read(
            &[Some(r#"{"d": "2022-02-22", "t": "2015-08-26 12:00:00"}"#)],
            "d DATE, t TIMESTAMP",
        );
        assert_eq!(
            written(&rows),
            [r#"{"d":"2022-02-22","t":"2015-08-26T05:00:00.000-07:00"}"#]
        );
    }
}
