//! Errors as Spark reports them: each carries the Java exception class PySpark maps to its own
//! exception (`AnalysisException`, `ParseException`, …), Spark's error class and SQL state,
//! sent as a `google.rpc.ErrorInfo` in the gRPC status details.

use std::collections::BTreeMap;

use datafusion::arrow::error::ArrowError;
use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;
use ember_functions::type_syntax::TypeSyntaxError;
use prost::Message;

/// The Java exception a Spark server would raise; PySpark picks its exception from these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SparkClass {
    Analysis,
    Parse,
    Arithmetic,
    NumberFormat,
    IllegalArgument,
    Unsupported,
    NoSuchElement,
    DateTime,
    Runtime,
    InvalidPlan,
}

impl SparkClass {
    /// The class and the superclasses PySpark looks for, most specific first.
    fn hierarchy(self) -> &'static [&'static str] {
        match self {
            SparkClass::Analysis => &["org.apache.spark.sql.AnalysisException"],
            SparkClass::Parse => &[
                "org.apache.spark.sql.catalyst.parser.ParseException",
                "org.apache.spark.sql.AnalysisException",
            ],
            SparkClass::Arithmetic => &[
                "org.apache.spark.SparkArithmeticException",
                "java.lang.ArithmeticException",
            ],
            SparkClass::NumberFormat => &[
                "org.apache.spark.SparkNumberFormatException",
                "java.lang.NumberFormatException",
            ],
            SparkClass::IllegalArgument => &[
                "org.apache.spark.SparkIllegalArgumentException",
                "java.lang.IllegalArgumentException",
            ],
            SparkClass::Unsupported => &[
                "org.apache.spark.SparkUnsupportedOperationException",
                "java.lang.UnsupportedOperationException",
            ],
            SparkClass::NoSuchElement => &[
                "org.apache.spark.SparkNoSuchElementException",
                "java.util.NoSuchElementException",
            ],
            SparkClass::DateTime => &[
                "org.apache.spark.SparkDateTimeException",
                "java.time.DateTimeException",
            ],
            SparkClass::Runtime => &["org.apache.spark.SparkRuntimeException"],
            SparkClass::InvalidPlan => &["org.apache.spark.sql.connect.common.InvalidPlanInput"],
        }
    }

    fn code(self) -> tonic::Code {
        match self {
            SparkClass::Analysis | SparkClass::Parse | SparkClass::InvalidPlan => {
                tonic::Code::InvalidArgument
            }
            SparkClass::Unsupported => tonic::Code::Unimplemented,
            _ => tonic::Code::Internal,
        }
    }
}

/// One error for a Spark Connect client.
#[derive(Debug, Clone)]
pub struct SparkError {
    pub class: SparkClass,
    /// Spark's error class, e.g. `UNRESOLVED_COLUMN.WITH_SUGGESTION`.
    pub error_class: &'static str,
    pub sql_state: &'static str,
    pub message: String,
    pub parameters: BTreeMap<String, String>,
}

pub type ConnectResult<T> = Result<T, SparkError>;

impl SparkError {
    pub fn new(
        class: SparkClass,
        error_class: &'static str,
        sql_state: &'static str,
        message: impl Into<String>,
    ) -> SparkError {
        SparkError {
            class,
            error_class,
            sql_state,
            message: message.into(),
            parameters: BTreeMap::new(),
        }
    }

    pub fn with_parameter(mut self, key: &str, value: impl Into<String>) -> SparkError {
        self.parameters.insert(key.to_string(), value.into());
        self
    }

    /// Something the client asked for that Ember does not do yet.
    pub fn unsupported(what: impl Into<String>) -> SparkError {
        let what = what.into();
        SparkError::new(
            SparkClass::Unsupported,
            "UNSUPPORTED_FEATURE",
            "0A000",
            format!("[UNSUPPORTED_FEATURE] Ember does not support {what} yet."),
        )
        .with_parameter("feature", what)
    }

    /// A request that is malformed (a required field missing, say).
    pub fn invalid_plan(message: impl Into<String>) -> SparkError {
        SparkError::new(
            SparkClass::InvalidPlan,
            "CONNECT_INVALID_PLAN",
            "XXKD0",
            message,
        )
    }

    /// A failure inside Ember itself (a panic in a task, say): the operation ends with it and
    /// the server keeps serving.
    pub fn internal(what: impl Into<String>) -> SparkError {
        let what = what.into();
        SparkError::new(
            SparkClass::Runtime,
            "INTERNAL_ERROR",
            "XX000",
            format!("[INTERNAL_ERROR] {what}"),
        )
        .with_parameter("message", what)
    }

    pub fn analysis(error_class: &'static str, message: impl Into<String>) -> SparkError {
        SparkError::new(SparkClass::Analysis, error_class, "42000", message)
    }

    pub fn unresolved_column(name: &str, candidates: &[String]) -> SparkError {
        let proposal = candidates
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ");
        SparkError::new(
            SparkClass::Analysis,
            "UNRESOLVED_COLUMN.WITH_SUGGESTION",
            "42703",
            format!(
                "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `{name}` cannot be resolved. Did you mean one of the following? [{proposal}]."
            ),
        )
        .with_parameter("objectName", format!("`{name}`"))
        .with_parameter("proposal", proposal)
    }

    pub fn table_not_found(name: &str) -> SparkError {
        SparkError::new(
            SparkClass::Analysis,
            "TABLE_OR_VIEW_NOT_FOUND",
            "42P01",
            format!(
                "[TABLE_OR_VIEW_NOT_FOUND] The table or view `{name}` cannot be found. Verify the spelling and correctness of the schema and catalog."
            ),
        )
        .with_parameter("relationName", format!("`{name}`"))
    }

    /// The gRPC status PySpark turns back into this error.
    pub fn to_status(&self) -> tonic::Status {
        let classes = self.class.hierarchy();
        let quote = |s: &str| serde_json::Value::String(s.to_string()).to_string();
        let mut metadata = std::collections::HashMap::new();
        metadata.insert(
            "classes".to_string(),
            format!(
                "[{}]",
                classes
                    .iter()
                    .map(|c| quote(c))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        );
        metadata.insert("errorClass".to_string(), self.error_class.to_string());
        metadata.insert("sqlState".to_string(), self.sql_state.to_string());
        metadata.insert(
            "messageParameters".to_string(),
            serde_json::to_string(&self.parameters).unwrap_or_else(|_| "{}".into()),
        );
        let info = ErrorInfo {
            reason: classes[0].to_string(),
            domain: "org.apache.spark".to_string(),
            metadata,
        };
        let status = RpcStatus {
            code: self.class.code() as i32,
            message: self.message.clone(),
            details: vec![prost_types::Any {
                type_url: "type.googleapis.com/google.rpc.ErrorInfo".to_string(),
                value: info.encode_to_vec(),
            }],
        };
        tonic::Status::with_details(
            self.class.code(),
            self.message.clone(),
            status.encode_to_vec().into(),
        )
    }
}

impl std::fmt::Display for SparkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SparkError {}

impl From<SparkError> for tonic::Status {
    fn from(error: SparkError) -> tonic::Status {
        error.to_status()
    }
}

/// `google.rpc.ErrorInfo`, the detail PySpark reads.
#[derive(Clone, PartialEq, prost::Message)]
struct ErrorInfo {
    #[prost(string, tag = "1")]
    reason: String,
    #[prost(string, tag = "2")]
    domain: String,
    #[prost(map = "string, string", tag = "3")]
    metadata: std::collections::HashMap<String, String>,
}

/// `google.rpc.Status`, the envelope of the details.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<prost_types::Any>,
}

impl From<DataFusionError> for SparkError {
    fn from(error: DataFusionError) -> SparkError {
        classify(error)
    }
}

impl From<ArrowError> for SparkError {
    fn from(error: ArrowError) -> SparkError {
        classify(DataFusionError::ArrowError(Box::new(error), None))
    }
}

impl From<TypeSyntaxError> for SparkError {
    fn from(error: TypeSyntaxError) -> SparkError {
        match error {
            TypeSyntaxError::Syntax { .. } => SparkError::new(
                SparkClass::Parse,
                "PARSE_SYNTAX_ERROR",
                "42601",
                error.to_string(),
            ),
            TypeSyntaxError::DecimalOutOfRange { .. } => {
                SparkError::analysis("DECIMAL_PRECISION_EXCEEDS_MAX_PRECISION", error.to_string())
            }
            TypeSyntaxError::NotJson(_) | TypeSyntaxError::UnknownJsonType(_) => {
                SparkError::invalid_plan(error.to_string())
            }
        }
    }
}

impl From<ember_sql::SqlError> for SparkError {
    fn from(error: ember_sql::SqlError) -> SparkError {
        match error {
            ember_sql::SqlError::Syntax(message) => SparkError::new(
                SparkClass::Parse,
                "PARSE_SYNTAX_ERROR",
                "42601",
                format!("[PARSE_SYNTAX_ERROR] Syntax error: {message}"),
            ),
            other => SparkError::new(
                SparkClass::Analysis,
                "EMBER_ERROR",
                "42000",
                other.to_string(),
            ),
        }
    }
}

/// Maps DataFusion's errors onto the Spark error PySpark users expect to catch.
fn classify(error: DataFusionError) -> SparkError {
    let root = error.find_root();
    match root {
        DataFusionError::SchemaError(schema_error, _) => match schema_error.as_ref() {
            SchemaError::FieldNotFound {
                field,
                valid_fields,
            } => SparkError::unresolved_column(
                &field.name,
                &valid_fields
                    .iter()
                    .map(|f| f.name.clone())
                    .collect::<Vec<_>>(),
            ),
            other => SparkError::analysis("AMBIGUOUS_REFERENCE", format!("{other}")),
        },
        DataFusionError::SQL(parse, _) => SparkError::new(
            SparkClass::Parse,
            "PARSE_SYNTAX_ERROR",
            "42601",
            format!("[PARSE_SYNTAX_ERROR] Syntax error: {parse}"),
        ),
        DataFusionError::ArrowError(arrow, _) => match arrow.as_ref() {
            ArrowError::DivideByZero => SparkError::new(
                SparkClass::Arithmetic,
                "DIVIDE_BY_ZERO",
                "22012",
                "[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead.",
            ),
            ArrowError::CastError(message) => cast_error(message),
            ArrowError::ArithmeticOverflow(message) => SparkError::new(
                SparkClass::Arithmetic,
                "ARITHMETIC_OVERFLOW",
                "22003",
                format!("[ARITHMETIC_OVERFLOW] {message}."),
            ),
            ArrowError::ComputeError(message) if message.contains("Overflow") => SparkError::new(
                SparkClass::Arithmetic,
                "ARITHMETIC_OVERFLOW",
                "22003",
                format!("[ARITHMETIC_OVERFLOW] {message}."),
            ),
            other => runtime(other.to_string()),
        },
        DataFusionError::Plan(message) => plan_error(message),
        DataFusionError::NotImplemented(message) => SparkError::unsupported(message.clone()),
        DataFusionError::Execution(message) if message.contains("Cannot cast") => {
            cast_error(message)
        }
        DataFusionError::Execution(message) if message.contains("Divide by zero") => classify(
            DataFusionError::ArrowError(Box::new(ArrowError::DivideByZero), None),
        ),
        other => runtime(other.to_string()),
    }
}

fn plan_error(message: &str) -> SparkError {
    if let Some(rest) = message.strip_prefix("table '")
        && let Some(name) = rest.strip_suffix("' not found")
    {
        let name = name.rsplit('.').next().unwrap_or(name);
        return SparkError::table_not_found(name);
    }
    // The function exists; its arguments do not fit it.
    if message.contains("No function matches") {
        return SparkError::analysis(
            "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
            format!("[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] {message}"),
        );
    }
    // Ember's analyzer rules raise Spark's classes, written first in their messages.
    for class in [
        "DATATYPE_MISMATCH.CAST_WITHOUT_SUGGESTION",
        "DATATYPE_MISMATCH.CAST_WITH_CONF_SUGGESTION",
    ] {
        if message.starts_with(&format!("[{class}]")) {
            return SparkError::analysis(class, message.to_string());
        }
    }
    if let Some(mismatch) = type_mismatch(message) {
        return mismatch;
    }
    if message.contains("Invalid function") {
        return SparkError::analysis(
            "UNRESOLVED_ROUTINE",
            format!("[UNRESOLVED_ROUTINE] {message}"),
        );
    }
    SparkError::analysis("EMBER_ANALYSIS", message.to_string())
}

/// DataFusion's type coercion failures in Spark's `DATATYPE_MISMATCH` classes: operands of an
/// operator that no common type fits, and branches of `CASE` and `IN` likewise.
fn type_mismatch(message: &str) -> Option<SparkError> {
    let spark_type = |text: &str| {
        text.trim()
            .parse::<datafusion::arrow::datatypes::DataType>()
            .map(|t| ember_functions::spark_type_name(&t).to_uppercase())
            .unwrap_or_else(|_| text.trim().to_uppercase())
    };
    let operands = message
        .strip_prefix("Cannot coerce arithmetic expression ")
        .and_then(|rest| rest.strip_suffix(" to valid types"))
        .or_else(|| {
            message.strip_prefix("Cannot infer common argument type for comparison operation ")
        });
    if let Some(operands) = operands {
        let (left, operator, right) = [
            " IS NOT DISTINCT FROM ",
            " IS DISTINCT FROM ",
            " <= ",
            " >= ",
            " != ",
            " + ",
            " - ",
            " * ",
            " / ",
            " % ",
            " = ",
            " < ",
            " > ",
        ]
        .iter()
        .find_map(|op| operands.split_once(op).map(|(l, r)| (l, op.trim(), r)))?;
        let (left, right) = (spark_type(left), spark_type(right));
        // Spark casts a string operand to the other side's type, so a string that meets a
        // type without the operator is that type's mismatch, not a mismatch of two types.
        let class = if left == right || left == "STRING" || right == "STRING" {
            "DATATYPE_MISMATCH.BINARY_OP_WRONG_TYPE"
        } else {
            "DATATYPE_MISMATCH.BINARY_OP_DIFF_TYPES"
        };
        return Some(SparkError::analysis(
            class,
            format!(
                "[{class}] Cannot resolve the operator {operator} due to data type mismatch: its operands have the types \"{left}\" and \"{right}\", which it does not accept together."
            ),
        ));
    }
    let branches = message.starts_with("Failed to coerce then (")
        || message.starts_with("Can not find compatible types to compare ");
    branches.then(|| {
        SparkError::analysis(
            "DATATYPE_MISMATCH.DATA_DIFF_TYPES",
            format!(
                "[DATATYPE_MISMATCH.DATA_DIFF_TYPES] Cannot resolve the expression due to data type mismatch: its input should all be the same type, but here: {message}."
            ),
        )
    })
}

fn cast_error(message: &str) -> SparkError {
    let text = match spark_cast_message(message) {
        Some(spark) => spark,
        None => format!("{message}."),
    };
    SparkError::new(
        SparkClass::NumberFormat,
        "CAST_INVALID_INPUT",
        "22018",
        format!(
            "[CAST_INVALID_INPUT] {text} Use `try_cast` to tolerate malformed input and return NULL instead."
        ),
    )
}

/// Arrow's "Cannot cast string 'x' to value of Int32 type" in Spark's words, with Spark's
/// type names.
fn spark_cast_message(message: &str) -> Option<String> {
    let rest = message.strip_prefix("Cannot cast string '")?;
    let (value, rest) = rest.rsplit_once("' to value of ")?;
    let arrow_type = rest.strip_suffix(" type")?;
    let data_type: datafusion::arrow::datatypes::DataType = arrow_type.parse().ok()?;
    Some(format!(
        "The value '{value}' of the type \"STRING\" cannot be cast to \"{}\" because it is malformed. Correct the value as per the syntax, or change its target type.",
        ember_functions::spark_type_name(&data_type).to_uppercase()
    ))
}

/// The error classes Ember's own functions raise, written first in their messages.
const RAISED_CLASSES: &[(&str, &str)] = &[
    ("USER_RAISED_EXCEPTION", "P0001"),
    ("DUPLICATE_MAP_KEY", "23505"),
    ("NULL_MAP_KEY", "2200E"),
];

fn runtime(message: String) -> SparkError {
    // On a cluster the executor's message arrives inside the driver's report of the task.
    for (class, state) in RAISED_CLASSES {
        if let Some(at) = message.find(&format!("[{class}]")) {
            return SparkError::new(SparkClass::Runtime, class, state, &message[at..]);
        }
    }
    SparkError::new(SparkClass::Runtime, "EMBER_RUNTIME", "XX000", message)
}
