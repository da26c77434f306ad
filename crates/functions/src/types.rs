//! Spark's names for types (`int`, `decimal(10,2)`, `array<string>`), as `printSchema`,
//! `simpleString` and `typeof` show them, and the `typeof` function.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// Spark's name for a type, as `printSchema` and `simpleString` show it.
pub fn spark_type_name(data_type: &DataType) -> String {
    if crate::variant::is_variant_type(data_type) {
        return "variant".into();
    }
    match data_type {
        DataType::Null => "void".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int8 => "tinyint".into(),
        DataType::Int16 | DataType::UInt8 => "smallint".into(),
        DataType::Int32 | DataType::UInt16 => "int".into(),
        DataType::Int64 | DataType::UInt32 => "bigint".into(),
        DataType::Float16 | DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => format!("decimal({p},{s})"),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "binary".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(_, Some(_)) => "timestamp".into(),
        DataType::Timestamp(_, None) => "timestamp_ntz".into(),
        DataType::Time32(_) | DataType::Time64(_) => "time(6)".into(),
        DataType::List(f) | DataType::LargeList(f) => {
            format!("array<{}>", spark_type_name(f.data_type()))
        }
        DataType::Struct(fields) => format!(
            "struct<{}>",
            fields
                .iter()
                .map(|f| format!("{}:{}", f.name(), spark_type_name(f.data_type())))
                .collect::<Vec<_>>()
                .join(",")
        ),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(pair) => format!(
                "map<{},{}>",
                spark_type_name(pair[0].data_type()),
                spark_type_name(pair[1].data_type())
            ),
            _ => "map".into(),
        },
        other => other.to_string().to_lowercase(),
    }
}

/// Spark's SQL name for a type (`DataType.sql`), as `schema_of_json` and error messages show
/// it: `BIGINT`, `DECIMAL(10,2)`, `ARRAY<STRING>`, `MAP<STRING, INT>`, `STRUCT<a: INT>`.
pub fn spark_sql_type_name(data_type: &DataType) -> String {
    if crate::variant::is_variant_type(data_type) {
        return "VARIANT".into();
    }
    match data_type {
        DataType::List(f) | DataType::LargeList(f) => {
            format!("ARRAY<{}>", spark_sql_type_name(f.data_type()))
        }
        DataType::Struct(fields) => format!(
            "STRUCT<{}>",
            fields
                .iter()
                .map(|f| format!(
                    "{}: {}",
                    quote_if_needed(f.name()),
                    spark_sql_type_name(f.data_type())
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(pair) if pair.len() == 2 => format!(
                "MAP<{}, {}>",
                spark_sql_type_name(pair[0].data_type()),
                spark_sql_type_name(pair[1].data_type())
            ),
            _ => "MAP".into(),
        },
        other => spark_type_name(other).to_uppercase(),
    }
}

/// A field name as Spark's SQL text writes it: back-quoted unless it is a plain word.
pub fn quote_if_needed(name: &str) -> String {
    let plain = !name.is_empty()
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        name.to_string()
    } else {
        format!("`{}`", name.replace('`', "``"))
    }
}

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![Arc::new(ScalarUDF::from(TypeOf {
        signature: Signature::any(1, Volatility::Immutable),
    }))]
}

/// `typeof(expr)`: the Spark name of the argument's type.
#[derive(Debug, PartialEq, Eq, Hash)]
struct TypeOf {
    signature: Signature,
}

impl ScalarUDFImpl for TypeOf {
    fn name(&self) -> &str {
        "typeof"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some(field) = args.arg_fields.first() else {
            return plan_err!("`typeof` takes 1 argument");
        };
        let name = spark_type_name(field.data_type());
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(name))))
    }
}
