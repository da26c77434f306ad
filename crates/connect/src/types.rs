//! Spark's data types and Arrow's: the Spark Connect `DataType` message both ways, Spark's
//! type names (`decimal(10,2)`, `array<int>`, `a INT, b STRING`), its JSON schema form, and the
//! Arrow types results are sent in (the ones PySpark can read back).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, IntervalUnit, Schema, TimeUnit};
use spark_connect_proto::data_type::{self as spark, Kind};

use crate::error::{ConnectResult, SparkError};

pub type SparkType = spark_connect_proto::DataType;

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
                    metadata: None,
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
        Kind::Boolean(_) => DataType::Boolean,
        Kind::Byte(_) => DataType::Int8,
        Kind::Short(_) => DataType::Int16,
        Kind::Integer(_) => DataType::Int32,
        Kind::Long(_) => DataType::Int64,
        Kind::Float(_) => DataType::Float32,
        Kind::Double(_) => DataType::Float64,
        Kind::Decimal(d) => decimal(d.precision.unwrap_or(10), d.scale.unwrap_or(0))?,
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

fn decimal(precision: i32, scale: i32) -> ConnectResult<DataType> {
    let (Ok(p), Ok(s)) = (u8::try_from(precision), i8::try_from(scale)) else {
        return Err(SparkError::analysis(
            "DECIMAL_PRECISION_EXCEEDS_MAX_PRECISION",
            format!("decimal({precision},{scale}) is out of range"),
        ));
    };
    if p == 0 || p > 38 || i16::from(s) > i16::from(p) {
        return Err(SparkError::analysis(
            "DECIMAL_PRECISION_EXCEEDS_MAX_PRECISION",
            format!(
                "[DECIMAL_PRECISION_EXCEEDS_MAX_PRECISION] decimal({precision},{scale}): precision must be 1 to 38 and scale at most the precision"
            ),
        ));
    }
    Ok(DataType::Decimal128(p, s))
}

pub fn map_type(key: DataType, value: DataType, value_nullable: bool) -> DataType {
    DataType::Map(
        Arc::new(Field::new(
            "entries",
            DataType::Struct(Fields::from(vec![
                Field::new("key", key, false),
                Field::new("value", value, value_nullable),
            ])),
            false,
        )),
        false,
    )
}

pub use ember_functions::spark_type_name as simple_string;

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
                .map(|f| {
                    Field::new(
                        f.name(),
                        wire_type(f.data_type(), time_zone),
                        f.is_nullable(),
                    )
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
    let mut parser = TypeParser::new(text, time_zone);
    let parsed = parser.data_type()?;
    parser.end()?;
    Ok(parsed)
}

/// Parses a schema in DDL form (`a INT, b STRING NOT NULL`), or a single type, as PySpark's
/// `createDataFrame(data, "a int, b string")` and `spark.read.schema(...)` send it.
pub fn parse_schema(text: &str, time_zone: &str) -> ConnectResult<Schema> {
    let trimmed = text.trim();
    if trimmed.starts_with('{') {
        return parse_json_schema(trimmed, time_zone);
    }
    let mut parser = TypeParser::new(trimmed, time_zone);
    if let Ok(fields) = parser.field_list(true)
        && parser.end().is_ok()
    {
        return Ok(Schema::new(fields));
    }
    // `struct<...>` or a bare type: a bare type becomes one column named `value`.
    match parse_type(trimmed, time_zone)? {
        DataType::Struct(fields) => Ok(Schema::new(fields)),
        other => Ok(Schema::new(vec![Field::new("value", other, true)])),
    }
}

/// Spark's JSON form of a struct type (`StructType.json()`).
fn parse_json_schema(text: &str, time_zone: &str) -> ConnectResult<Schema> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| SparkError::invalid_plan(format!("the schema is not valid JSON: {e}")))?;
    match json_type(&value, time_zone)? {
        DataType::Struct(fields) => Ok(Schema::new(fields)),
        other => Ok(Schema::new(vec![Field::new("value", other, true)])),
    }
}

fn json_type(value: &serde_json::Value, time_zone: &str) -> ConnectResult<DataType> {
    if let Some(name) = value.as_str() {
        return parse_type(name, time_zone);
    }
    let field = |key: &str| value.get(key);
    match field("type").and_then(|t| t.as_str()) {
        Some("struct") => Ok(DataType::Struct(
            field("fields")
                .and_then(|f| f.as_array())
                .into_iter()
                .flatten()
                .map(|f| {
                    let name = f.get("name").and_then(|n| n.as_str()).unwrap_or_default();
                    let data_type =
                        json_type(f.get("type").unwrap_or(&serde_json::Value::Null), time_zone)?;
                    let nullable = f.get("nullable").and_then(|n| n.as_bool()).unwrap_or(true);
                    Ok(Field::new(name, data_type, nullable))
                })
                .collect::<ConnectResult<Fields>>()?,
        )),
        Some("array") => {
            let element = json_type(
                field("elementType").unwrap_or(&serde_json::Value::Null),
                time_zone,
            )?;
            let nullable = field("containsNull")
                .and_then(|n| n.as_bool())
                .unwrap_or(true);
            Ok(DataType::List(Arc::new(Field::new(
                "element", element, nullable,
            ))))
        }
        Some("map") => Ok(map_type(
            json_type(
                field("keyType").unwrap_or(&serde_json::Value::Null),
                time_zone,
            )?,
            json_type(
                field("valueType").unwrap_or(&serde_json::Value::Null),
                time_zone,
            )?,
            field("valueContainsNull")
                .and_then(|n| n.as_bool())
                .unwrap_or(true),
        )),
        _ => Err(SparkError::invalid_plan(format!(
            "cannot read the schema type {value}"
        ))),
    }
}

/// A recursive-descent parser for Spark's type names.
struct TypeParser<'a> {
    text: &'a str,
    at: usize,
    time_zone: &'a str,
}

impl<'a> TypeParser<'a> {
    fn new(text: &'a str, time_zone: &'a str) -> TypeParser<'a> {
        TypeParser {
            text,
            at: 0,
            time_zone,
        }
    }

    fn error(&self, expected: &str) -> SparkError {
        SparkError::new(
            crate::error::SparkClass::Parse,
            "PARSE_SYNTAX_ERROR",
            "42601",
            format!(
                "[PARSE_SYNTAX_ERROR] Syntax error in the type `{}` at position {}: expected {expected}.",
                self.text, self.at
            ),
        )
    }

    fn skip_space(&mut self) {
        while self.text[self.at..].starts_with(char::is_whitespace) {
            self.at += self.text[self.at..]
                .chars()
                .next()
                .map_or(1, char::len_utf8);
        }
    }

    fn eat(&mut self, token: char) -> bool {
        self.skip_space();
        if self.text[self.at..].starts_with(token) {
            self.at += token.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: char) -> ConnectResult<()> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.error(&format!("`{token}`")))
        }
    }

    fn end(&mut self) -> ConnectResult<()> {
        self.skip_space();
        if self.at == self.text.len() {
            Ok(())
        } else {
            Err(self.error("the end"))
        }
    }

    /// A word, or a `back-quoted` name.
    fn identifier(&mut self) -> ConnectResult<String> {
        self.skip_space();
        let rest = &self.text[self.at..];
        if let Some(quoted) = rest.strip_prefix('`') {
            let end = quoted.find('`').ok_or_else(|| self.error("a closing `"))?;
            self.at += end + 2;
            return Ok(quoted[..end].to_string());
        }
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if len == 0 {
            return Err(self.error("a name"));
        }
        self.at += len;
        Ok(rest[..len].to_string())
    }

    fn number(&mut self) -> ConnectResult<i32> {
        self.skip_space();
        let rest = &self.text[self.at..];
        let len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '-'))
            .unwrap_or(rest.len());
        let value = rest[..len].parse().map_err(|_| self.error("a number"))?;
        self.at += len;
        Ok(value)
    }

    /// `name type [NOT NULL] [COMMENT '…'], …` (`name: type` inside struct<>).
    fn field_list(&mut self, top_level: bool) -> ConnectResult<Vec<Field>> {
        let mut fields = Vec::new();
        loop {
            let name = self.identifier()?;
            self.eat(':');
            let data_type = self.data_type()?;
            let mut nullable = true;
            let save = self.at;
            if let Ok(word) = self.identifier() {
                if word.eq_ignore_ascii_case("not")
                    && self
                        .identifier()
                        .is_ok_and(|w| w.eq_ignore_ascii_case("null"))
                {
                    nullable = false;
                } else {
                    self.at = save;
                }
            }
            let save = self.at;
            if let Ok(word) = self.identifier() {
                if word.eq_ignore_ascii_case("comment") {
                    self.skip_space();
                    let rest = &self.text[self.at..];
                    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"');
                    let Some(quote) = quote else {
                        return Err(self.error("a quoted comment"));
                    };
                    let end = rest[1..]
                        .find(quote)
                        .ok_or_else(|| self.error("a closing quote"))?;
                    self.at += end + 2;
                } else {
                    self.at = save;
                }
            }
            fields.push(Field::new(name, data_type, nullable));
            if !self.eat(',') {
                break;
            }
        }
        if top_level && fields.is_empty() {
            return Err(self.error("a column"));
        }
        Ok(fields)
    }

    fn data_type(&mut self) -> ConnectResult<DataType> {
        let name = self.identifier()?.to_ascii_lowercase();
        Ok(match name.as_str() {
            "boolean" | "bool" => DataType::Boolean,
            "tinyint" | "byte" => DataType::Int8,
            "smallint" | "short" => DataType::Int16,
            "int" | "integer" => DataType::Int32,
            "bigint" | "long" => DataType::Int64,
            "float" | "real" => DataType::Float32,
            "double" => DataType::Float64,
            "string" | "text" => DataType::Utf8,
            "char" | "varchar" | "character" => {
                if self.eat('(') {
                    self.number()?;
                    self.expect(')')?;
                }
                DataType::Utf8
            }
            "binary" => DataType::Binary,
            "date" => DataType::Date32,
            "timestamp" | "timestamp_ltz" => {
                DataType::Timestamp(TimeUnit::Microsecond, Some(self.time_zone.into()))
            }
            "timestamp_ntz" => DataType::Timestamp(TimeUnit::Microsecond, None),
            // Held as Arrow's `Time64(ns)`, as DataFusion and PySpark hold times.
            "time" => {
                if self.eat('(') {
                    self.number()?;
                    self.expect(')')?;
                }
                DataType::Time64(TimeUnit::Nanosecond)
            }
            "void" | "null" => DataType::Null,
            "decimal" | "dec" | "numeric" => {
                if self.eat('(') {
                    let precision = self.number()?;
                    let scale = if self.eat(',') { self.number()? } else { 0 };
                    self.expect(')')?;
                    decimal(precision, scale)?
                } else {
                    DataType::Decimal128(10, 0)
                }
            }
            "array" => {
                self.expect('<')?;
                let element = self.data_type()?;
                self.expect('>')?;
                DataType::List(Arc::new(Field::new("element", element, true)))
            }
            "map" => {
                self.expect('<')?;
                let key = self.data_type()?;
                self.expect(',')?;
                let value = self.data_type()?;
                self.expect('>')?;
                map_type(key, value, true)
            }
            "struct" => {
                self.expect('<')?;
                let fields = if self.eat('>') {
                    Vec::new()
                } else {
                    let fields = self.field_list(false)?;
                    self.expect('>')?;
                    fields
                };
                DataType::Struct(Fields::from(fields))
            }
            _ => return Err(self.error("a Spark type name")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddl_schemas_parse_as_spark_reads_them() {
        let schema = parse_schema(
            "id BIGINT NOT NULL, name string, price decimal(10, 2), tags array<string>, attrs map<string,int>, point struct<x:double, y:double>",
            "UTC",
        )
        .unwrap();
        assert_eq!(schema.fields().len(), 6);
        assert!(!schema.field(0).is_nullable());
        assert_eq!(schema.field(2).data_type(), &DataType::Decimal128(10, 2));
        assert_eq!(simple_string(schema.field(3).data_type()), "array<string>");
        assert_eq!(
            simple_string(schema.field(4).data_type()),
            "map<string,int>"
        );
        assert_eq!(
            simple_string(schema.field(5).data_type()),
            "struct<x:double,y:double>"
        );
        let single = parse_schema("int", "UTC").unwrap();
        assert_eq!(single.field(0).name(), "value");
        assert!(parse_schema("a int,", "UTC").is_err());
        assert!(parse_schema("a decimal(40,2)", "UTC").is_err());
    }

    #[test]
    fn json_schemas_parse() {
        let schema = parse_schema(
            r#"{"type":"struct","fields":[{"name":"a","type":"long","nullable":false,"metadata":{}},{"name":"b","type":{"type":"array","elementType":"string","containsNull":true},"nullable":true,"metadata":{}}]}"#,
            "UTC",
        )
        .unwrap();
        assert_eq!(schema.field(0).data_type(), &DataType::Int64);
        assert!(!schema.field(0).is_nullable());
        assert_eq!(simple_string(schema.field(1).data_type()), "array<string>");
    }

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
