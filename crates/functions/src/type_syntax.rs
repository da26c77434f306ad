//! Spark's type syntax read into Arrow types: one type (`int`, `decimal(10,2)`,
//! `array<string>`, `map<string,int>`, `struct<a:int,b:string>`), a schema in DDL form
//! (`a INT, b STRING NOT NULL`) and the JSON form of a struct type (`StructType.json()`). Spark
//! Connect reads schemas with it, and functions that take a schema as a string (`from_json`,
//! `from_csv`) read theirs with the same parser.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields, Schema, TimeUnit};

/// Why a type or schema could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TypeSyntaxError {
    #[error(
        "[PARSE_SYNTAX_ERROR] Syntax error in the type `{text}` at position {at}: expected {expected}."
    )]
    Syntax {
        text: String,
        at: usize,
        expected: String,
    },
    #[error(
        "[DECIMAL_PRECISION_EXCEEDS_MAX_PRECISION] decimal({precision},{scale}): precision must be 1 to 38 and scale at most the precision"
    )]
    DecimalOutOfRange { precision: i32, scale: i32 },
    #[error("the schema is not valid JSON: {0}")]
    NotJson(String),
    #[error("cannot read the schema type {0}")]
    UnknownJsonType(String),
}

type Result<T> = std::result::Result<T, TypeSyntaxError>;

/// Spark's map type as Arrow holds it: non-null keys, values nullable or not.
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

/// Parses Spark's type syntax: one type (`int`, `decimal(10,2)`, `array<string>`,
/// `map<string,int>`, `struct<a:int,b:string>`). `timestamp` is in `time_zone`.
pub fn parse_type(text: &str, time_zone: &str) -> Result<DataType> {
    let mut parser = TypeParser::new(text, time_zone);
    let parsed = parser.data_type()?;
    parser.end()?;
    Ok(parsed)
}

/// Parses a schema in DDL form (`a INT, b STRING NOT NULL`), the JSON form of a struct type,
/// or a single type, as PySpark's `createDataFrame(data, "a int, b string")`,
/// `spark.read.schema(...)` and `from_json(value, schema)` send it. A bare type becomes one
/// column named `value`.
pub fn parse_schema(text: &str, time_zone: &str) -> Result<Schema> {
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
    match parse_type(trimmed, time_zone)? {
        DataType::Struct(fields) => Ok(Schema::new(fields)),
        other => Ok(Schema::new(vec![Field::new("value", other, true)])),
    }
}

/// A type in DDL form, JSON form or a bare type name, kept as it is: `from_json(v, "a INT")`
/// is a struct, `from_json(v, "array<int>")` an array.
pub fn parse_type_or_schema(text: &str, time_zone: &str) -> Result<DataType> {
    let trimmed = text.trim();
    if trimmed.starts_with('{') {
        let value: serde_json::Value =
            serde_json::from_str(trimmed).map_err(|e| TypeSyntaxError::NotJson(e.to_string()))?;
        return json_type(&value, time_zone);
    }
    if let Ok(data_type) = parse_type(trimmed, time_zone) {
        return Ok(data_type);
    }
    Ok(DataType::Struct(
        parse_schema(trimmed, time_zone)?.fields().clone(),
    ))
}

/// Spark's JSON form of a struct type (`StructType.json()`).
fn parse_json_schema(text: &str, time_zone: &str) -> Result<Schema> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| TypeSyntaxError::NotJson(e.to_string()))?;
    match json_type(&value, time_zone)? {
        DataType::Struct(fields) => Ok(Schema::new(fields)),
        other => Ok(Schema::new(vec![Field::new("value", other, true)])),
    }
}

fn json_type(value: &serde_json::Value, time_zone: &str) -> Result<DataType> {
    if let Some(name) = value.as_str() {
        return parse_type(name, time_zone);
    }
    let field = |key: &str| value.get(key);
    let null = serde_json::Value::Null;
    match field("type").and_then(|t| t.as_str()) {
        Some("struct") => Ok(DataType::Struct(
            field("fields")
                .and_then(|f| f.as_array())
                .into_iter()
                .flatten()
                .map(|f| {
                    let name = f.get("name").and_then(|n| n.as_str()).unwrap_or_default();
                    let data_type = json_type(f.get("type").unwrap_or(&null), time_zone)?;
                    let nullable = f.get("nullable").and_then(|n| n.as_bool()).unwrap_or(true);
                    Ok(Field::new(name, data_type, nullable))
                })
                .collect::<Result<Fields>>()?,
        )),
        Some("array") => {
            let element = json_type(field("elementType").unwrap_or(&null), time_zone)?;
            let nullable = field("containsNull")
                .and_then(|n| n.as_bool())
                .unwrap_or(true);
            Ok(DataType::List(Arc::new(Field::new(
                "element", element, nullable,
            ))))
        }
        Some("map") => Ok(map_type(
            json_type(field("keyType").unwrap_or(&null), time_zone)?,
            json_type(field("valueType").unwrap_or(&null), time_zone)?,
            field("valueContainsNull")
                .and_then(|n| n.as_bool())
                .unwrap_or(true),
        )),
        _ => Err(TypeSyntaxError::UnknownJsonType(value.to_string())),
    }
}

/// `decimal(precision, scale)`, refused outside Spark's range (precision 1 to 38, scale at most
/// the precision).
pub fn decimal_type(precision: i32, scale: i32) -> Result<DataType> {
    let out_of_range = TypeSyntaxError::DecimalOutOfRange { precision, scale };
    let (Ok(p), Ok(s)) = (u8::try_from(precision), i8::try_from(scale)) else {
        return Err(out_of_range);
    };
    if p == 0 || p > 38 || i16::from(s) > i16::from(p) {
        return Err(out_of_range);
    }
    Ok(DataType::Decimal128(p, s))
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

    fn error(&self, expected: &str) -> TypeSyntaxError {
        TypeSyntaxError::Syntax {
            text: self.text.to_string(),
            at: self.at,
            expected: expected.to_string(),
        }
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

    fn expect(&mut self, token: char) -> Result<()> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.error(&format!("`{token}`")))
        }
    }

    fn end(&mut self) -> Result<()> {
        self.skip_space();
        if self.at == self.text.len() {
            Ok(())
        } else {
            Err(self.error("the end"))
        }
    }

    /// A word, or a `back-quoted` name.
    fn identifier(&mut self) -> Result<String> {
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

    fn number(&mut self) -> Result<i32> {
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
    fn field_list(&mut self, top_level: bool) -> Result<Vec<Field>> {
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

    fn data_type(&mut self) -> Result<DataType> {
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
            "variant" => crate::variant::variant_type(),
            "decimal" | "dec" | "numeric" => {
                if self.eat('(') {
                    let precision = self.number()?;
                    let scale = if self.eat(',') { self.number()? } else { 0 };
                    self.expect(')')?;
                    decimal_type(precision, scale)?
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
        assert_eq!(
            crate::spark_type_name(schema.field(3).data_type()),
            "array<string>"
        );
        assert_eq!(
            crate::spark_type_name(schema.field(4).data_type()),
            "map<string,int>"
        );
        assert_eq!(
            crate::spark_type_name(schema.field(5).data_type()),
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
        assert_eq!(
            crate::spark_type_name(schema.field(1).data_type()),
            "array<string>"
        );
    }
}
