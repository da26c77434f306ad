//! Spark's VARIANT type and its functions. A variant is held as Spark sends it over Arrow: a
//! struct of two binaries, `value` and `metadata` (the latter marked `variant: true`), in the
//! encoding Spark and Parquet share, which the `parquet-variant` crate reads and writes.
//! `parse_json`/`try_parse_json` build variants from JSON text (integers as the narrowest
//! integer, other numbers as decimals where they fit, as Spark does), `to_variant_object` from
//! structs, maps and arrays; `variant_get`/`try_variant_get` extract a path as a type,
//! `is_variant_null`, `is_valid_variant` and `schema_of_variant` inspect them (their schemas,
//! and the aggregate `schema_of_variant_agg`, are in `variant_schema.rs`), and `to_json`
//! writes them back.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::timezone::Tz;
use arrow::array::{
    Array, ArrayRef, AsArray, BinaryBuilder, BooleanArray, StringArray, StructArray,
};
use arrow::buffer::NullBuffer;
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, FieldRef, Fields, TimeUnit};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::NaiveDate;
use datafusion::common::{DataFusionError, Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use parquet_variant::{
    ObjectFieldBuilder, Variant, VariantBuilder, VariantBuilderExt, VariantDecimal4,
    VariantDecimal8, VariantDecimal16,
};

use crate::columnar::{all_scalar, finish, is_text};
use crate::java_text::{decimal_text, double_text, float_text};
use crate::json::{Step, parse_path};
use crate::json_text::{self, Json, JsonOptions, write_string};
use crate::variant_schema::{decimal_schema, schema_text, variant_schema};
use crate::zones::spark_zone;

/// The Arrow form of Spark's VARIANT: `struct<value: binary, metadata: binary>`, its
/// `metadata` field marked as PySpark marks it.
pub fn variant_type() -> DataType {
    DataType::Struct(Fields::from(vec![
        Field::new("value", DataType::Binary, false),
        Field::new("metadata", DataType::Binary, false)
            .with_metadata(HashMap::from([("variant".to_string(), "true".to_string())])),
    ]))
}

/// Whether `data_type` is [`variant_type`] (the marked struct, from Ember or a client).
pub fn is_variant_type(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Struct(fields)
        if fields.len() == 2
            && fields[0].name() == "value"
            && fields[1].name() == "metadata"
            && fields[1].metadata().get("variant").is_some_and(|v| v == "true"))
}

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    Kind::ALL
        .into_iter()
        .map(|kind| {
            Arc::new(ScalarUDF::from(VariantFunction {
                kind,
                signature: Signature::user_defined(Volatility::Immutable),
            }))
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
enum Kind {
    ParseJson,
    TryParseJson,
    IsVariantNull,
    IsValidVariant,
    SchemaOfVariant,
    VariantGet,
    TryVariantGet,
    ToVariantObject,
}

impl Kind {
    const ALL: [Kind; 8] = [
        Kind::ParseJson,
        Kind::TryParseJson,
        Kind::IsVariantNull,
        Kind::IsValidVariant,
        Kind::SchemaOfVariant,
        Kind::VariantGet,
        Kind::TryVariantGet,
        Kind::ToVariantObject,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::ParseJson => "parse_json",
            Kind::TryParseJson => "try_parse_json",
            Kind::IsVariantNull => "is_variant_null",
            Kind::IsValidVariant => "is_valid_variant",
            Kind::SchemaOfVariant => "schema_of_variant",
            Kind::VariantGet => "variant_get",
            Kind::TryVariantGet => "try_variant_get",
            Kind::ToVariantObject => "to_variant_object",
        }
    }

    fn arities(self) -> &'static [usize] {
        match self {
            Kind::VariantGet | Kind::TryVariantGet => &[2, 3],
            _ => &[1],
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct VariantFunction {
    kind: Kind,
    signature: Signature,
}

impl ScalarUDFImpl for VariantFunction {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.kind.name();
        if !self.kind.arities().contains(&arg_types.len()) {
            return plan_err!(
                "`{name}` takes {:?} argument(s), not {}",
                self.kind.arities(),
                arg_types.len()
            );
        }
        let first = &arg_types[0];
        let first = match self.kind {
            Kind::ParseJson | Kind::TryParseJson if is_text(first) => DataType::Utf8,
            Kind::ParseJson | Kind::TryParseJson => {
                return plan_err!("`{name}` takes JSON text, not {first}");
            }
            Kind::ToVariantObject
                if matches!(
                    first,
                    DataType::Struct(_) | DataType::Map(_, _) | DataType::List(_)
                ) =>
            {
                first.clone()
            }
            Kind::ToVariantObject => {
                return plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `to_variant_object` takes a struct, map or array, not {first}"
                );
            }
            _ if is_variant_type(first) || first == &DataType::Null => first.clone(),
            _ => {
                return plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{name}` takes a variant, not {}",
                    crate::spark_type_name(first)
                );
            }
        };
        let mut coerced = vec![first];
        for other in &arg_types[1..] {
            if !is_text(other) {
                return plan_err!("`{name}` takes a path and a type name as strings, not {other}");
            }
            coerced.push(DataType::Utf8);
        }
        Ok(coerced)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            Kind::ParseJson | Kind::TryParseJson | Kind::ToVariantObject => variant_type(),
            Kind::IsVariantNull | Kind::IsValidVariant => DataType::Boolean,
            Kind::SchemaOfVariant => DataType::Utf8,
            Kind::VariantGet | Kind::TryVariantGet => variant_type(),
        })
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let data_type = match self.kind {
            Kind::VariantGet | Kind::TryVariantGet if args.arg_fields.len() == 3 => {
                let target = args.scalar_arguments.get(2).copied().flatten();
                let Some(ScalarValue::Utf8(Some(target))) = target else {
                    return plan_err!(
                        "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] `{}` takes its type as a string literal",
                        self.name()
                    );
                };
                crate::type_syntax::parse_type(target, "UTC")
                    .map_err(|e| DataFusionError::Plan(e.to_string()))?
            }
            _ => self.return_type(&[])?,
        };
        Ok(Arc::new(Field::new(self.name(), data_type, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = all_scalar(&args.args);
        let rows = args.number_rows;
        let input = args.args[0].to_array(rows)?;
        let zone = crate::zones::session_label(&args.config_options).to_string();
        let result: ArrayRef = match self.kind {
            Kind::ParseJson | Kind::TryParseJson => {
                parse_json(&input, self.kind == Kind::TryParseJson)?
            }
            Kind::ToVariantObject => {
                let mut column = VariantColumn::with_capacity(input.len());
                for row in 0..input.len() {
                    if input.is_null(row) {
                        column.push_null();
                    } else {
                        let mut builder = VariantBuilder::new();
                        append_arrow(&mut builder, input.as_ref(), row)?;
                        column.push(builder.finish());
                    }
                }
                column.finish()?
            }
            Kind::IsVariantNull | Kind::IsValidVariant => {
                let mut out = Vec::with_capacity(input.len());
                for row in 0..input.len() {
                    out.push(match variant_parts(&input, row)? {
                        // Spark: a SQL NULL is not a variant NULL, and has no validity.
                        None => (self.kind == Kind::IsVariantNull).then_some(false),
                        Some((metadata, value)) => {
                            let checked = Variant::try_new(metadata, value)
                                .and_then(|v| v.with_full_validation());
                            Some(match self.kind {
                                Kind::IsValidVariant => checked.is_ok(),
                                _ => matches!(checked, Ok(Variant::Null)),
                            })
                        }
                    });
                }
                Arc::new(BooleanArray::from(out))
            }
            Kind::SchemaOfVariant => {
                let mut out = Vec::with_capacity(input.len());
                for row in 0..input.len() {
                    out.push(match variant_parts(&input, row)? {
                        None => None,
                        Some((metadata, value)) => {
                            let variant = open(metadata, value)?;
                            Some(schema_text(&variant_schema(&variant)))
                        }
                    });
                }
                Arc::new(StringArray::from(out))
            }
            Kind::VariantGet | Kind::TryVariantGet => {
                let paths = cast(&args.args[1].to_array(rows)?, &DataType::Utf8)?;
                let target = args.return_type().clone();
                variant_get(
                    &input,
                    paths.as_string::<i32>(),
                    &target,
                    self.kind == Kind::TryVariantGet,
                    &zone,
                )?
            }
        };
        finish(result, scalar)
    }
}

/// A column of variants being built.
struct VariantColumn {
    values: BinaryBuilder,
    metadata: BinaryBuilder,
    valid: Vec<bool>,
}

impl VariantColumn {
    fn with_capacity(rows: usize) -> VariantColumn {
        VariantColumn {
            values: BinaryBuilder::with_capacity(rows, rows * 16),
            metadata: BinaryBuilder::with_capacity(rows, rows * 8),
            valid: Vec::with_capacity(rows),
        }
    }

    fn push(&mut self, (metadata, value): (Vec<u8>, Vec<u8>)) {
        self.values.append_value(value);
        self.metadata.append_value(metadata);
        self.valid.push(true);
    }

    /// A NULL row; its (non-nullable) parts hold empty bytes under the struct's NULL.
    fn push_null(&mut self) {
        self.values.append_value([]);
        self.metadata.append_value([]);
        self.valid.push(false);
    }

    fn finish(mut self) -> Result<ArrayRef> {
        let DataType::Struct(fields) = variant_type() else {
            return exec_err!("the variant type is a struct");
        };
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.values.finish()),
            Arc::new(self.metadata.finish()),
        ];
        Ok(Arc::new(StructArray::try_new(
            fields,
            columns,
            Some(NullBuffer::from(self.valid)),
        )?))
    }
}

/// The `(metadata, value)` bytes of row `row` of a variant column; `None` for NULL.
pub(crate) fn variant_parts(array: &dyn Array, row: usize) -> Result<Option<(&[u8], &[u8])>> {
    if array.is_null(row) || array.data_type() == &DataType::Null {
        return Ok(None);
    }
    let Some(parts) = array.as_struct_opt() else {
        return exec_err!("a variant is a struct of value and metadata");
    };
    let (Some(value), Some(metadata)) = (
        parts.column(0).as_binary_opt::<i32>(),
        parts.column(1).as_binary_opt::<i32>(),
    ) else {
        return exec_err!("a variant's value and metadata are binaries");
    };
    Ok(Some((metadata.value(row), value.value(row))))
}

/// Reads variant bytes, checking them all, so a malformed variant from a client is an error
/// rather than a panic further in.
pub(crate) fn open<'a>(metadata: &'a [u8], value: &'a [u8]) -> Result<Variant<'a, 'a>> {
    Variant::try_new(metadata, value)
        .and_then(|v| v.with_full_validation())
        .map_err(|e| {
            DataFusionError::Execution(format!("[MALFORMED_VARIANT] the variant is not valid: {e}"))
        })
}

/// Row `row` of the variant column `array` written as JSON, as `to_json` and `show()` write it;
/// timestamps in `zone`.
pub fn variant_json(array: &dyn Array, row: usize, zone: &str) -> Result<String> {
    let Some((metadata, value)) = variant_parts(array, row)? else {
        return Ok("null".into());
    };
    let variant = open(metadata, value)?;
    let tz = spark_zone(zone);
    let mut out = String::new();
    write_variant(&variant, &mut out, tz.as_ref());
    Ok(out)
}

fn write_variant(variant: &Variant, out: &mut String, tz: Option<&Tz>) {
    match variant {
        Variant::Null => out.push_str("null"),
        Variant::BooleanTrue => out.push_str("true"),
        Variant::BooleanFalse => out.push_str("false"),
        Variant::Int8(v) => out.push_str(&v.to_string()),
        Variant::Int16(v) => out.push_str(&v.to_string()),
        Variant::Int32(v) => out.push_str(&v.to_string()),
        Variant::Int64(v) => out.push_str(&v.to_string()),
        Variant::Float(v) => out.push_str(&float_text(*v)),
        Variant::Double(v) => out.push_str(&double_text(*v)),
        Variant::Decimal4(d) => out.push_str(&decimal_text(i128::from(d.integer()), d.scale())),
        Variant::Decimal8(d) => out.push_str(&decimal_text(i128::from(d.integer()), d.scale())),
        Variant::Decimal16(d) => out.push_str(&decimal_text(d.integer(), d.scale())),
        Variant::String(s) => write_string(out, s),
        Variant::ShortString(s) => write_string(out, s.as_str()),
        Variant::Binary(bytes) => write_string(out, &BASE64.encode(bytes)),
        Variant::Date(date) => write_string(out, &date.format("%Y-%m-%d").to_string()),
        Variant::TimestampMicros(at) | Variant::TimestampNanos(at) => {
            let text = match tz {
                Some(tz) => {
                    let local = at.with_timezone(tz);
                    format!(
                        "{}{}",
                        local.format("%Y-%m-%d %H:%M:%S%.6f"),
                        local.format("%:z")
                    )
                }
                None => format!("{}+00:00", at.format("%Y-%m-%d %H:%M:%S%.6f")),
            };
            write_string(out, &text);
        }
        Variant::TimestampNtzMicros(at) | Variant::TimestampNtzNanos(at) => {
            write_string(out, &at.format("%Y-%m-%d %H:%M:%S%.6f").to_string())
        }
        Variant::Time(time) => write_string(out, &time.format("%H:%M:%S%.6f").to_string()),
        Variant::Uuid(uuid) => write_string(out, &uuid.to_string()),
        Variant::Object(object) => {
            out.push('{');
            for (i, (key, value)) in object.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_variant(&value, out, tz);
            }
            out.push('}');
        }
        Variant::List(list) => {
            out.push('[');
            for (i, item) in list.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_variant(&item, out, tz);
            }
            out.push(']');
        }
    }
}

fn parse_json(input: &ArrayRef, tolerant: bool) -> Result<ArrayRef> {
    // Spark parses variants with Jackson's defaults: no single quotes, no NaN.
    let options = JsonOptions {
        allow_single_quotes: false,
        allow_non_numeric_numbers: false,
        ..JsonOptions::default()
    };
    let text = cast(input, &DataType::Utf8)?;
    let mut column = VariantColumn::with_capacity(text.len());
    for value in text.as_string::<i32>() {
        let Some(value) = value else {
            column.push_null();
            continue;
        };
        let built = json_text::parse(value, &options).ok_or_else(|| {
            format!(
                "[MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION] Malformed records are detected in record parsing: {value}"
            )
        });
        let built = built.and_then(|json| {
            let mut builder = VariantBuilder::new();
            append_json(&mut builder, &json)?;
            Ok(builder.finish())
        });
        match built {
            Ok(parts) => column.push(parts),
            Err(_) if tolerant => column.push_null(),
            Err(message) => return exec_err!("{message}"),
        }
    }
    column.finish()
}

fn append_json(
    builder: &mut impl VariantBuilderExt,
    json: &Json,
) -> std::result::Result<(), String> {
    match json {
        Json::Null => builder.append_value(Variant::Null),
        Json::Bool(b) => builder.append_value(*b),
        Json::String(s) => builder.append_value(s.as_str()),
        Json::Number(n) => builder.append_value(number_variant(n)),
        Json::Array(items) => {
            let mut list = builder.try_new_list().map_err(|e| e.to_string())?;
            for item in items {
                append_json(&mut list, item)?;
            }
            list.finish();
        }
        Json::Object(fields) => {
            for (i, (key, _)) in fields.iter().enumerate() {
                if fields[..i].iter().any(|(k, _)| k == key) {
                    return Err(format!(
                        "[VARIANT_DUPLICATE_KEY] Failed to build variant because of a duplicate object key `{key}`."
                    ));
                }
            }
            let mut object = builder.try_new_object().map_err(|e| e.to_string())?;
            for (key, value) in fields {
                let mut field = ObjectFieldBuilder::new(key, &mut object);
                append_json(&mut field, value)?;
            }
            object.finish();
        }
    }
    Ok(())
}

/// A JSON number as Spark's variant builder keeps it: the narrowest integer that holds it,
/// else the narrowest decimal (without an exponent, up to 38 digits), else a double.
fn number_variant(text: &str) -> Variant<'static, 'static> {
    if let Ok(v) = text.parse::<i64>() {
        return if let Ok(v) = i8::try_from(v) {
            v.into()
        } else if let Ok(v) = i16::try_from(v) {
            v.into()
        } else if let Ok(v) = i32::try_from(v) {
            v.into()
        } else {
            v.into()
        };
    }
    if !text.contains(['e', 'E'])
        && let Some(decimal) = decimal_variant(text)
    {
        return decimal;
    }
    text.parse::<f64>().map_or(Variant::Null, Variant::from)
}

fn decimal_variant(text: &str) -> Option<Variant<'static, 'static>> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let scale = u8::try_from(fraction.len()).ok()?;
    let unscaled: i128 = format!("{whole}{fraction}").parse().ok()?;
    let digits = unscaled
        .unsigned_abs()
        .to_string()
        .len()
        .max(usize::from(scale));
    if digits > 38 {
        return None;
    }
    if digits <= 9 {
        VariantDecimal4::try_new(i32::try_from(unscaled).ok()?, scale)
            .ok()
            .map(Variant::from)
    } else if digits <= 18 {
        VariantDecimal8::try_new(i64::try_from(unscaled).ok()?, scale)
            .ok()
            .map(Variant::from)
    } else {
        VariantDecimal16::try_new(unscaled, scale)
            .ok()
            .map(Variant::from)
    }
}

/// Appends row `row` of `array` as a variant: structs and maps as objects, arrays as lists.
fn append_arrow(builder: &mut impl VariantBuilderExt, array: &dyn Array, row: usize) -> Result<()> {
    use arrow::datatypes as t;
    if array.is_null(row) {
        builder.append_value(Variant::Null);
        return Ok(());
    }
    if is_variant_type(array.data_type()) {
        if let Some((metadata, value)) = variant_parts(array, row)? {
            builder.append_value(open(metadata, value)?);
        }
        return Ok(());
    }
    let failed = |e: arrow::error::ArrowError| DataFusionError::ArrowError(Box::new(e), None);
    match array.data_type() {
        DataType::Struct(fields) => {
            let columns = array.as_struct();
            let mut object = builder.try_new_object().map_err(failed)?;
            for (field, column) in fields.iter().zip(columns.columns()) {
                let mut slot = ObjectFieldBuilder::new(field.name(), &mut object);
                append_arrow(&mut slot, column.as_ref(), row)?;
            }
            object.finish();
        }
        DataType::Map(_, _) => {
            let entries = array.as_map().value(row);
            let keys = cast(entries.column(0), &DataType::Utf8)?;
            let keys = keys.as_string::<i32>();
            let mut object = builder.try_new_object().map_err(failed)?;
            for i in 0..entries.len() {
                let mut slot = ObjectFieldBuilder::new(keys.value(i), &mut object);
                append_arrow(&mut slot, entries.column(1).as_ref(), i)?;
            }
            object.finish();
        }
        DataType::List(_) | DataType::LargeList(_) => {
            let items = match array.as_list_opt::<i32>() {
                Some(list) => list.value(row),
                None => array.as_list::<i64>().value(row),
            };
            let mut list = builder.try_new_list().map_err(failed)?;
            for i in 0..items.len() {
                append_arrow(&mut list, items.as_ref(), i)?;
            }
            list.finish();
        }
        DataType::Boolean => builder.append_value(array.as_boolean().value(row)),
        DataType::Int8 => builder.append_value(array.as_primitive::<t::Int8Type>().value(row)),
        DataType::Int16 => builder.append_value(array.as_primitive::<t::Int16Type>().value(row)),
        DataType::Int32 => builder.append_value(array.as_primitive::<t::Int32Type>().value(row)),
        DataType::Int64 => builder.append_value(array.as_primitive::<t::Int64Type>().value(row)),
        DataType::Float32 => {
            builder.append_value(array.as_primitive::<t::Float32Type>().value(row))
        }
        DataType::Float64 => {
            builder.append_value(array.as_primitive::<t::Float64Type>().value(row))
        }
        DataType::Decimal128(_, scale) => {
            let unscaled = array.as_primitive::<t::Decimal128Type>().value(row);
            let scale = u8::try_from(*scale).unwrap_or(0);
            let decimal = VariantDecimal16::try_new(unscaled, scale).map_err(failed)?;
            builder.append_value(decimal);
        }
        DataType::Date32 => {
            let days = array.as_primitive::<t::Date32Type>().value(row);
            let date = NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|e| e.checked_add_signed(chrono::Duration::days(days.into())));
            builder.append_value(date.map_or(Variant::Null, Variant::from));
        }
        DataType::Timestamp(_, zone) => {
            let micros = cast(
                &array.slice(row, 1),
                &DataType::Timestamp(TimeUnit::Microsecond, zone.clone()),
            )?;
            let micros = micros
                .as_primitive::<t::TimestampMicrosecondType>()
                .value(0);
            let at = chrono::DateTime::from_timestamp_micros(micros);
            builder.append_value(match (at, zone) {
                (Some(at), Some(_)) => Variant::from(at),
                (Some(at), None) => Variant::from(at.naive_utc()),
                (None, _) => Variant::Null,
            });
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let text = cast(&array.slice(row, 1), &DataType::Utf8)?;
            builder.append_value(text.as_string::<i32>().value(0));
        }
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            let bytes = cast(&array.slice(row, 1), &DataType::Binary)?;
            builder.append_value(bytes.as_binary::<i32>().value(0));
        }
        DataType::Null => builder.append_value(Variant::Null),
        other => {
            return exec_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] a variant cannot hold {}",
                crate::spark_type_name(other)
            );
        }
    }
    Ok(())
}

fn variant_get(
    input: &ArrayRef,
    paths: &StringArray,
    target: &DataType,
    tolerant: bool,
    zone: &str,
) -> Result<ArrayRef> {
    let mut extracted: Vec<Option<(Vec<u8>, Vec<u8>)>> = Vec::with_capacity(input.len());
    for row in 0..input.len() {
        let Some((metadata, value)) = variant_parts(input, row)? else {
            extracted.push(None);
            continue;
        };
        if paths.is_null(row) {
            extracted.push(None);
            continue;
        }
        let path = paths.value(row);
        let steps = parse_path(path)
            .filter(|steps| !steps.contains(&Step::Wildcard))
            .ok_or_else(|| {
                DataFusionError::Execution(format!(
                    "[INVALID_VARIANT_GET_PATH] The path `{path}` is not a valid variant extraction path."
                ))
            })?;
        let mut at = open(metadata, value)?;
        let mut found = true;
        for step in &steps {
            let next = match (step, &at) {
                (Step::Key(name), Variant::Object(object)) => object.get(name),
                (Step::Index(i), Variant::List(list)) => list.get(*i),
                _ => None,
            };
            match next {
                Some(next) => at = next,
                None => {
                    found = false;
                    break;
                }
            }
        }
        extracted.push(found.then(|| {
            let mut builder = VariantBuilder::new();
            builder.append_value(at);
            builder.finish()
        }));
    }
    let mut column = VariantColumn::with_capacity(extracted.len());
    for parts in extracted {
        match parts {
            Some(parts) => column.push(parts),
            None => column.push_null(),
        }
    }
    let variants = column.finish()?;
    if is_variant_type(target) {
        return Ok(variants);
    }
    cast_variants(&variants, target, tolerant, zone)
}

/// Variants cast to `target`, as Spark's `variant_get` casts: a variant NULL is NULL, a value
/// that cannot become `target` an `INVALID_VARIANT_CAST` error (NULL when `tolerant`).
fn cast_variants(
    variants: &ArrayRef,
    target: &DataType,
    tolerant: bool,
    zone: &str,
) -> Result<ArrayRef> {
    let tz = spark_zone(zone);
    let mut cells = Vec::with_capacity(variants.len());
    for row in 0..variants.len() {
        let Some((metadata, value)) = variant_parts(variants, row)? else {
            cells.push(ScalarValue::try_from(target)?);
            continue;
        };
        let variant = open(metadata, value)?;
        match cast_variant(&variant, target, zone, tz.as_ref()) {
            Some(cell) => cells.push(cell),
            None if tolerant => cells.push(ScalarValue::try_from(target)?),
            None => {
                let mut text = String::new();
                write_variant(&variant, &mut text, tz.as_ref());
                return exec_err!(
                    "[INVALID_VARIANT_CAST] The variant value `{text}` cannot be cast into `{}`. Please use `try_variant_get` instead.",
                    crate::types::spark_sql_type_name(target)
                );
            }
        }
    }
    ScalarValue::iter_to_array(cells)
}

/// One variant as a value of `target`; `None` when it cannot be one. `zone` names the
/// session's time zone, `tz` is that zone read.
fn cast_variant(
    variant: &Variant,
    target: &DataType,
    zone: &str,
    tz: Option<&Tz>,
) -> Option<ScalarValue> {
    if matches!(variant, Variant::Null) {
        return ScalarValue::try_from(target).ok();
    }
    match (variant, target) {
        (Variant::Object(_) | Variant::List(_), DataType::Utf8) => {
            let mut text = String::new();
            write_variant(variant, &mut text, tz);
            Some(ScalarValue::Utf8(Some(text)))
        }
        (Variant::Object(_) | Variant::List(_), _) => {
            // Nested targets are read as `from_json` reads the variant's JSON text.
            let mut text = String::new();
            write_variant(variant, &mut text, tz);
            let array = crate::json_convert::read_json_as(&text, target, zone).ok()?;
            ScalarValue::try_from_array(&array, 0).ok()
        }
        (_, DataType::Struct(_) | DataType::List(_) | DataType::Map(_, _)) => None,
        _ => {
            let natural = natural_scalar(variant)?;
            if natural.data_type() == *target {
                return Some(natural);
            }
            if matches!(target, DataType::Binary) != matches!(natural, ScalarValue::Binary(_)) {
                return None;
            }
            natural.cast_to(target).ok().filter(|v| !v.is_null())
        }
    }
}

/// A primitive variant as the scalar of its own type.
fn natural_scalar(variant: &Variant) -> Option<ScalarValue> {
    let decimal = |unscaled: i128, scale: u8| {
        let DataType::Decimal128(p, s) = decimal_schema(unscaled, scale) else {
            return None;
        };
        Some(ScalarValue::Decimal128(Some(unscaled), p, s))
    };
    Some(match variant {
        Variant::BooleanTrue => ScalarValue::Boolean(Some(true)),
        Variant::BooleanFalse => ScalarValue::Boolean(Some(false)),
        Variant::Int8(v) => ScalarValue::Int8(Some(*v)),
        Variant::Int16(v) => ScalarValue::Int16(Some(*v)),
        Variant::Int32(v) => ScalarValue::Int32(Some(*v)),
        Variant::Int64(v) => ScalarValue::Int64(Some(*v)),
        Variant::Float(v) => ScalarValue::Float32(Some(*v)),
        Variant::Double(v) => ScalarValue::Float64(Some(*v)),
        Variant::Decimal4(d) => decimal(i128::from(d.integer()), d.scale())?,
        Variant::Decimal8(d) => decimal(i128::from(d.integer()), d.scale())?,
        Variant::Decimal16(d) => decimal(d.integer(), d.scale())?,
        Variant::String(s) => ScalarValue::Utf8(Some(s.to_string())),
        Variant::ShortString(s) => ScalarValue::Utf8(Some(s.as_str().to_string())),
        Variant::Uuid(u) => ScalarValue::Utf8(Some(u.to_string())),
        Variant::Binary(b) => ScalarValue::Binary(Some(b.to_vec())),
        Variant::Date(d) => {
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
            ScalarValue::Date32(Some(i32::try_from((*d - epoch).num_days()).ok()?))
        }
        Variant::TimestampMicros(at) | Variant::TimestampNanos(at) => {
            ScalarValue::TimestampMicrosecond(Some(at.timestamp_micros()), Some("UTC".into()))
        }
        Variant::TimestampNtzMicros(at) | Variant::TimestampNtzNanos(at) => {
            ScalarValue::TimestampMicrosecond(Some(at.and_utc().timestamp_micros()), None)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(texts: &[Option<&str>]) -> ArrayRef {
        let input: ArrayRef = Arc::new(StringArray::from(texts.to_vec()));
        parse_json(&input, true).unwrap()
    }

    fn json_of(column: &ArrayRef, row: usize) -> String {
        variant_json(column.as_ref(), row, "UTC").unwrap()
    }

    #[test]
    fn json_round_trips_with_sparks_number_kinds() {
        let column = parsed(&[
            Some(r#"{ "b": [1, 1.50, 1e3, 12345678901234567890], "a": "x", "c": [1, 1.50] }"#),
            Some("{a : 1}"),
            None,
        ]);
        assert_eq!(
            json_of(&column, 0),
            r#"{"a":"x","b":[1,1.50,1000.0,12345678901234567890],"c":[1,1.50]}"#
        );
        assert!(
            column.is_null(1),
            "try_parse_json gives NULL for text that is not JSON"
        );
        assert!(column.is_null(2));
        let schema = {
            let (metadata, value) = variant_parts(&column, 0).unwrap().unwrap();
            schema_text(&variant_schema(&open(metadata, value).unwrap()))
        };
        assert_eq!(
            schema,
            "OBJECT<a: STRING, b: ARRAY<DOUBLE>, c: ARRAY<DECIMAL(22,2)>>"
        );
    }

    #[test]
    fn strict_parsing_refuses_bad_text_and_duplicate_keys() {
        let input: ArrayRef = Arc::new(StringArray::from(vec!["{a: 1}"]));
        assert!(parse_json(&input, false).is_err());
        let input: ArrayRef = Arc::new(StringArray::from(vec![r#"{"a": 1, "a": 2}"#]));
        let message = parse_json(&input, false).unwrap_err().to_string();
        assert!(message.contains("VARIANT_DUPLICATE_KEY"), "{message}");
    }

    #[test]
    fn paths_extract_and_cast_as_spark() {
        let column = parsed(&[Some(r#"{"a": 1, "b": {"c": [10, "x"]}}"#)]);
        let get = |path: &str, target: DataType, tolerant: bool| {
            let paths = StringArray::from(vec![path]);
            variant_get(&column, &paths, &target, tolerant, "UTC")
        };
        let a = get("$.a", DataType::Int32, false).unwrap();
        assert_eq!(a.as_primitive::<arrow::datatypes::Int32Type>().value(0), 1);
        let c = get("$.b.c[1]", DataType::Utf8, false).unwrap();
        assert_eq!(c.as_string::<i32>().value(0), "x");
        assert!(get("$.missing", DataType::Int32, false).unwrap().is_null(0));
        assert!(get("$.a", DataType::Binary, true).unwrap().is_null(0));
        let message = get("$.a", DataType::Binary, false).unwrap_err().to_string();
        assert!(message.contains("INVALID_VARIANT_CAST"), "{message}");
        let nested = get("$.b", DataType::Utf8, false).unwrap();
        assert_eq!(nested.as_string::<i32>().value(0), r#"{"c":[10,"x"]}"#);
    }
}
