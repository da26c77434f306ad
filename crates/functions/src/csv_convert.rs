//! Spark's conversions between one CSV record and a struct: `from_csv(text, schema[, options])`,
//! `to_csv(struct[, options])` and `schema_of_csv(text[, options])`, with Spark's CSV options
//! (`sep`/`delimiter`, `quote`, `escape`, `nullValue`, `ignoreLeadingWhiteSpace`,
//! `ignoreTrailingWhiteSpace`, `quoteAll`). Fields are matched to the schema by position; a
//! field that does not read as its type is NULL (Spark's PERMISSIVE mode).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, StringArray, StructArray};
use arrow::buffer::NullBuffer;
use arrow::compute::{CastOptions, cast, cast_with_options};
use arrow::datatypes::{DataType, Field, FieldRef, Fields, TimeUnit};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use chrono::NaiveDate;
use datafusion::common::config::ConfigOptions;
use datafusion::common::{DataFusionError, Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use crate::columnar::{all_scalar, finish, is_text};
use crate::java_text::{double_text, float_text};
use crate::json_convert::{default_timestamp_text, option, option_pairs};
use crate::type_syntax::parse_type_or_schema;
use crate::types::spark_sql_type_name;
use crate::zones::spark_zone;

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    [Kind::Read, Kind::Write, Kind::InferSchema]
        .into_iter()
        .map(|kind| {
            Arc::new(ScalarUDF::from(CsvConversion {
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

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Read => "from_csv",
            Kind::Write => "to_csv",
            Kind::InferSchema => "schema_of_csv",
        }
    }

    fn options_at(self) -> usize {
        match self {
            Kind::Read => 2,
            Kind::Write | Kind::InferSchema => 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CsvConversion {
    kind: Kind,
    /// The session's time zone, the label of `TIMESTAMP` fields of a schema.
    label: Arc<str>,
    signature: Signature,
}

impl ScalarUDFImpl for CsvConversion {
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
                (i, other) if i == options_at => {
                    plan_err!("`{name}` takes its options as a map of strings, not {other}")
                }
                (0, DataType::Struct(_)) if self.kind == Kind::Write => Ok(t.clone()),
                (0, other) if self.kind == Kind::Write => plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `to_csv` takes a struct, not {}",
                    crate::spark_type_name(other)
                ),
                (_, t) if is_text(t) => Ok(DataType::Utf8),
                (_, other) => plan_err!("`{name}` takes CSV text, not {other}"),
            })
            .collect()
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        match self.kind {
            Kind::Read => plan_err!("`from_csv` is typed by its schema argument"),
            Kind::Write | Kind::InferSchema => Ok(DataType::Utf8),
        }
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        if self.kind != Kind::Read {
            return Ok(Arc::new(Field::new(self.name(), DataType::Utf8, true)));
        }
        let schema = match args.scalar_arguments.get(1).copied().flatten() {
            Some(ScalarValue::Utf8(Some(s))) => s.clone(),
            _ => {
                return plan_err!(
                    "[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] `from_csv` takes its schema as a string literal"
                );
            }
        };
        let parsed = parse_type_or_schema(&schema, &self.label)
            .map_err(|e| DataFusionError::Plan(e.to_string()))?;
        let DataType::Struct(fields) = parsed else {
            return plan_err!(
                "[INVALID_SCHEMA.NON_STRUCT_TYPE] `from_csv` takes a struct schema, not {}",
                crate::spark_type_name(&parsed)
            );
        };
        for field in fields.iter() {
            if matches!(
                field.data_type(),
                DataType::Struct(_) | DataType::List(_) | DataType::Map(_, _)
            ) {
                return plan_err!(
                    "[UNSUPPORTED_DATATYPE] CSV data source does not support {} data type",
                    crate::spark_type_name(field.data_type())
                );
            }
        }
        let fields: Fields = fields
            .iter()
            .map(|f| Field::new(f.name(), f.data_type().clone(), true))
            .collect();
        Ok(Arc::new(Field::new(
            self.name(),
            DataType::Struct(fields),
            true,
        )))
    }

    fn with_updated_config(&self, config: &ConfigOptions) -> Option<ScalarUDF> {
        let label = crate::zones::session_label(config);
        (label != self.label).then(|| {
            ScalarUDF::from(CsvConversion {
                label,
                ..self.clone()
            })
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = all_scalar(&args.args);
        let rows = args.number_rows;
        let pairs = option_pairs(args.args.get(self.kind.options_at()))?;
        let options = CsvOptions::new(&pairs)?;
        let zone = crate::zones::session_label(&args.config_options).to_string();
        let input = args.args[0].to_array(rows)?;
        let result: ArrayRef = match self.kind {
            Kind::Read => {
                let DataType::Struct(fields) = args.return_type() else {
                    return exec_err!("`from_csv` returns a struct");
                };
                from_csv(&input, fields, &options, &zone)?
            }
            Kind::Write => {
                let columns = input.as_struct();
                let mut out = Vec::with_capacity(input.len());
                for row in 0..input.len() {
                    out.push(if input.is_null(row) {
                        None
                    } else {
                        Some(write_record(columns, row, &options, &zone)?)
                    });
                }
                Arc::new(StringArray::from(out))
            }
            Kind::InferSchema => {
                let text = cast(&input, &DataType::Utf8)?;
                let out: StringArray = text
                    .as_string::<i32>()
                    .iter()
                    .map(|line| line.map(|line| spark_sql_type_name(&inferred(line, &options))))
                    .collect();
                Arc::new(out)
            }
        };
        finish(result, scalar)
    }
}

struct CsvOptions {
    separator: String,
    quote: Option<char>,
    escape: char,
    null_value: String,
    trim_leading: bool,
    trim_trailing: bool,
    quote_all: bool,
}

impl CsvOptions {
    fn new(pairs: &[(String, String)]) -> Result<CsvOptions> {
        let get = |name: &str| option(pairs, name);
        let flag = |name: &str| get(name).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let separator = get("sep").or_else(|| get("delimiter")).unwrap_or(",");
        let separator = match separator {
            "\\t" => "\t".to_string(),
            "" => {
                return exec_err!(
                    "[INVALID_DELIMITER_VALUE.EMPTY_STRING] The delimiter cannot be empty"
                );
            }
            other => other.to_string(),
        };
        let single = |name: &str, default: char| -> Result<Option<char>> {
            match get(name) {
                None => Ok(Some(default)),
                Some("") => Ok(None),
                Some(text) => {
                    let mut chars = text.chars();
                    match (chars.next(), chars.next()) {
                        (Some(c), None) => Ok(Some(c)),
                        _ => exec_err!("the CSV option `{name}` is one character, not {text:?}"),
                    }
                }
            }
        };
        Ok(CsvOptions {
            separator,
            quote: single("quote", '"')?,
            escape: single("escape", '\\')?.unwrap_or('\\'),
            null_value: get("nullValue").unwrap_or("").to_string(),
            trim_leading: flag("ignoreLeadingWhiteSpace"),
            trim_trailing: flag("ignoreTrailingWhiteSpace"),
            quote_all: flag("quoteAll"),
        })
    }
}

/// Splits one record into its fields; `None` for a field that is the null value.
fn split_record(line: &str, options: &CsvOptions) -> Vec<Option<String>> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut in_quotes = false;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        let width = c.len_utf8();
        if in_quotes {
            let next = rest[width..].chars().next();
            if Some(c) == options.quote && next == options.quote {
                current.push(c);
                rest = &rest[width * 2..];
                continue;
            }
            if c == options.escape && next.is_some() && next == options.quote {
                current.push(next.unwrap_or(c));
                rest = &rest[width + next.map_or(0, char::len_utf8)..];
                continue;
            }
            if Some(c) == options.quote {
                in_quotes = false;
            } else {
                current.push(c);
            }
            rest = &rest[width..];
            continue;
        }
        if rest.starts_with(&options.separator) {
            fields.push(finish_field(std::mem::take(&mut current), quoted, options));
            quoted = false;
            rest = &rest[options.separator.len()..];
            continue;
        }
        if Some(c) == options.quote && current.trim_start().is_empty() {
            current.clear();
            quoted = true;
            in_quotes = true;
        } else {
            current.push(c);
        }
        rest = &rest[width..];
    }
    fields.push(finish_field(current, quoted, options));
    fields
}

fn finish_field(text: String, quoted: bool, options: &CsvOptions) -> Option<String> {
    if quoted {
        return Some(text);
    }
    let mut text = text.as_str();
    if options.trim_leading {
        text = text.trim_start();
    }
    if options.trim_trailing {
        text = text.trim_end();
    }
    (text != options.null_value).then(|| text.to_string())
}

fn from_csv(
    input: &ArrayRef,
    fields: &Fields,
    options: &CsvOptions,
    zone: &str,
) -> Result<ArrayRef> {
    let text = cast(input, &DataType::Utf8)?;
    let text = text.as_string::<i32>();
    let records: Vec<Option<Vec<Option<String>>>> = text
        .iter()
        .map(|line| line.map(|line| split_record(line, options)))
        .collect();
    let safe = CastOptions {
        safe: true,
        ..Default::default()
    };
    let columns = fields
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let cells: StringArray = records
                .iter()
                .map(|record| record.as_ref().and_then(|r| r.get(i).cloned().flatten()))
                .collect();
            let cells: ArrayRef = Arc::new(cells);
            match field.data_type() {
                DataType::Boolean => Ok(Arc::new(
                    cells
                        .as_string::<i32>()
                        .iter()
                        .map(|c| c.and_then(|c| c.trim().to_ascii_lowercase().parse::<bool>().ok()))
                        .collect::<BooleanArray>(),
                ) as ArrayRef),
                DataType::Timestamp(unit, Some(_)) => {
                    // Text without an offset is in the session's time zone.
                    let local = cast_with_options(
                        &cells,
                        &DataType::Timestamp(*unit, Some(zone.into())),
                        &safe,
                    )?;
                    Ok(cast(&local, field.data_type())?)
                }
                target => Ok(cast_with_options(&cells, target, &safe)?),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let nulls = NullBuffer::from(records.iter().map(Option::is_some).collect::<Vec<_>>());
    Ok(Arc::new(StructArray::try_new(
        fields.clone(),
        columns,
        Some(nulls),
    )?))
}

fn write_record(
    columns: &StructArray,
    row: usize,
    options: &CsvOptions,
    zone: &str,
) -> Result<String> {
    let mut fields = Vec::with_capacity(columns.num_columns());
    for column in columns.columns() {
        if column.is_null(row) {
            fields.push(options.null_value.clone());
            continue;
        }
        let text = value_text(column.as_ref(), row, zone)?;
        let needs_quotes = options.quote_all
            || text.contains(options.separator.as_str())
            || text.contains(['\n', '\r'])
            || options.quote.is_some_and(|q| text.contains(q))
            || (text.is_empty() && !options.null_value.is_empty());
        match options.quote {
            Some(quote) if needs_quotes => {
                let escaped = text.replace(quote, &format!("{}{quote}", options.escape));
                fields.push(format!("{quote}{escaped}{quote}"));
            }
            _ => fields.push(text),
        }
    }
    Ok(fields.join(&options.separator))
}

/// A value as Spark writes it into CSV text: nested values as Spark casts them to strings
/// (`[1, 2]`, `{a, 1}`, `{k -> v}`), dates `yyyy-MM-dd`, timestamps
/// `yyyy-MM-dd'T'HH:mm:ss.SSSXXX` in the session's time zone.
fn value_text(array: &dyn Array, row: usize, zone: &str) -> Result<String> {
    if array.is_null(row) {
        return Ok("null".into());
    }
    let joined = |values: &dyn Array| -> Result<String> {
        (0..values.len())
            .map(|i| value_text(values, i, zone))
            .collect::<Result<Vec<_>>>()
            .map(|v| v.join(", "))
    };
    Ok(match array.data_type() {
        DataType::List(_) => format!("[{}]", joined(array.as_list::<i32>().value(row).as_ref())?),
        DataType::LargeList(_) => {
            format!("[{}]", joined(array.as_list::<i64>().value(row).as_ref())?)
        }
        DataType::Struct(_) => {
            let values = array
                .as_struct()
                .columns()
                .iter()
                .map(|c| value_text(c.as_ref(), row, zone))
                .collect::<Result<Vec<_>>>()?;
            format!("{{{}}}", values.join(", "))
        }
        DataType::Map(_, _) => {
            let entries = array.as_map().value(row);
            let pairs = (0..entries.len())
                .map(|i| {
                    Ok(format!(
                        "{} -> {}",
                        value_text(entries.column(0).as_ref(), i, zone)?,
                        value_text(entries.column(1).as_ref(), i, zone)?
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            format!("{{{}}}", pairs.join(", "))
        }
        DataType::Float64 => double_text(
            array
                .as_primitive::<arrow::datatypes::Float64Type>()
                .value(row),
        ),
        DataType::Float32 => float_text(
            array
                .as_primitive::<arrow::datatypes::Float32Type>()
                .value(row),
        ),
        DataType::Timestamp(_, Some(_)) => {
            let micros = cast(
                &array.slice(row, 1),
                &DataType::Timestamp(TimeUnit::Microsecond, None),
            )?;
            let micros = micros
                .as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
                .value(0);
            match (
                chrono::DateTime::from_timestamp_micros(micros),
                spark_zone(zone),
            ) {
                (Some(at), Some(tz)) => default_timestamp_text(&at.with_timezone(&tz)),
                _ => String::new(),
            }
        }
        DataType::Timestamp(_, None) => {
            let options =
                FormatOptions::default().with_timestamp_format(Some("%Y-%m-%dT%H:%M:%S%.3f"));
            ArrayFormatter::try_new(array, &options)?
                .value(row)
                .to_string()
        }
        _ => ArrayFormatter::try_new(array, &FormatOptions::default())?
            .value(row)
            .to_string(),
    })
}

/// The struct Spark's CSV inference gives one record: columns `_c0`, `_c1`, … typed `INT`,
/// `BIGINT`, `DOUBLE`, `BOOLEAN`, `DATE`, `TIMESTAMP` or `STRING`, in that order of preference.
fn inferred(line: &str, options: &CsvOptions) -> DataType {
    let fields: Vec<Field> = split_record(line, options)
        .into_iter()
        .enumerate()
        .map(|(i, cell)| Field::new(format!("_c{i}"), cell_type(cell.as_deref()), true))
        .collect();
    DataType::Struct(fields.into())
}

fn cell_type(cell: Option<&str>) -> DataType {
    let Some(cell) = cell else {
        return DataType::Utf8;
    };
    if cell.parse::<i32>().is_ok() {
        DataType::Int32
    } else if cell.parse::<i64>().is_ok() {
        DataType::Int64
    } else if cell.parse::<f64>().is_ok() && !cell.chars().any(char::is_alphabetic)
        || matches!(cell, "NaN" | "Infinity" | "-Infinity")
    {
        DataType::Float64
    } else if cell.eq_ignore_ascii_case("true") || cell.eq_ignore_ascii_case("false") {
        DataType::Boolean
    } else if NaiveDate::parse_from_str(cell, "%Y-%m-%d").is_ok() {
        DataType::Date32
    } else if cell.contains(':')
        && cast(
            &(Arc::new(StringArray::from(vec![cell])) as ArrayRef),
            &DataType::Timestamp(TimeUnit::Microsecond, None),
        )
        .is_ok_and(|parsed| parsed.null_count() == 0)
    {
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
    } else {
        DataType::Utf8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, &str)]) -> CsvOptions {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        CsvOptions::new(&pairs).unwrap()
    }

    #[test]
    fn records_split_with_quotes_escapes_and_nulls() {
        let plain = options(&[]);
        assert_eq!(
            split_record(r#"1,"a,b",,"say ""hi""",\x"#, &plain),
            [
                Some("1".into()),
                Some("a,b".into()),
                None,
                Some(r#"say "hi""#.into()),
                Some(r"\x".into())
            ]
        );
        let trimmed = options(&[("sep", ";"), ("ignoreLeadingWhiteSpace", "true")]);
        assert_eq!(
            split_record("   abc;2", &trimmed),
            [Some("abc".into()), Some("2".into())]
        );
    }

    #[test]
    fn records_read_into_structs_by_position() {
        let fields: Fields = vec![
            Field::new("a", DataType::Int32, true),
            Field::new("b", DataType::Boolean, true),
            Field::new("c", DataType::Utf8, true),
        ]
        .into();
        let input: ArrayRef = Arc::new(StringArray::from(vec![
            Some("1,true"),
            Some("x,no,z,extra"),
            None,
        ]));
        let rows = from_csv(&input, &fields, &options(&[]), "UTC").unwrap();
        let rows = rows.as_struct();
        let a = rows.column(0).as_primitive::<arrow::datatypes::Int32Type>();
        assert_eq!((a.value(0), a.is_null(1)), (1, true));
        assert!(rows.column(1).as_boolean().value(0));
        assert!(rows.column(1).is_null(1));
        assert!(rows.column(2).is_null(0));
        assert_eq!(rows.column(2).as_string::<i32>().value(1), "z");
        assert!(rows.is_null(2));
        assert_eq!(
            write_record(rows, 0, &options(&[]), "UTC").unwrap(),
            "1,true,"
        );
    }

    #[test]
    fn schemas_are_inferred_per_field() {
        let pipe = options(&[("sep", "|")]);
        assert_eq!(
            spark_sql_type_name(&inferred("1|a|true||2.5|9999999999", &pipe)),
            "STRUCT<_c0: INT, _c1: STRING, _c2: BOOLEAN, _c3: STRING, _c4: DOUBLE, _c5: BIGINT>"
        );
    }
}
