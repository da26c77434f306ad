//! Spark's implicit casts of function arguments. Spark's date and time functions take a
//! string where they expect a date or a timestamp (`add_months('2015-04-08', 1)`), its
//! integer functions take any integer (`factorial(id)` with a `bigint` id), and its string
//! functions any atomic value as text (`upper(age)`); the
//! `datafusion-spark` implementations of the same functions accept only the exact types. The
//! wrapper here casts first, as Spark's `ImplicitCastInputTypes` does, then lets the wrapped
//! function coerce the rest its own way.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, FieldRef, TimeUnit};
use datafusion::common::Result;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::type_coercion::functions::fields_with_udf;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature,
};

/// What Spark casts one argument to before the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Expect {
    /// A date: strings and timestamps become dates.
    Date,
    /// A timestamp: strings and dates become timestamps.
    Timestamp,
    /// An `int`: every other integer type becomes one.
    Int,
    /// A string: numbers, booleans, dates and timestamps become their text.
    Text,
    /// Whatever the wrapped function accepts.
    Any,
}

impl Expect {
    fn cast(self, from: &DataType) -> DataType {
        use DataType::*;
        match (self, from) {
            (Expect::Date, Utf8 | LargeUtf8 | Utf8View | Timestamp(_, _)) => Date32,
            (Expect::Timestamp, Utf8 | LargeUtf8 | Utf8View | Date32 | Date64) => {
                Timestamp(TimeUnit::Microsecond, None)
            }
            (Expect::Int, Int8 | Int16 | Int64 | UInt8 | UInt16 | UInt32 | UInt64) => Int32,
            (
                Expect::Text,
                Boolean
                | Int8
                | Int16
                | Int32
                | Int64
                | UInt8
                | UInt16
                | UInt32
                | UInt64
                | Float32
                | Float64
                | Decimal128(_, _)
                | Date32
                | Timestamp(_, _),
            ) => Utf8,
            _ => from.clone(),
        }
    }
}

/// `inner` with Spark's implicit casts: argument `i` is cast as `expects[i]` says (the last
/// entry covers any further arguments).
pub fn with_implicit_casts(inner: Arc<ScalarUDF>, expects: &[Expect]) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::from(ImplicitCast {
        signature: Signature::user_defined(inner.signature().volatility),
        inner,
        expects: expects.to_vec(),
    }))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ImplicitCast {
    inner: Arc<ScalarUDF>,
    expects: Vec<Expect>,
    signature: Signature,
}

impl ScalarUDFImpl for ImplicitCast {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let cast: Vec<FieldRef> = arg_types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let expect = self
                    .expects
                    .get(i)
                    .or(self.expects.last())
                    .copied()
                    .unwrap_or(Expect::Any);
                Arc::new(Field::new(format!("arg{i}"), expect.cast(t), true))
            })
            .collect();
        Ok(fields_with_udf(&cast, self.inner.as_ref())?
            .iter()
            .map(|f| f.data_type().clone())
            .collect())
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        self.inner.simplify(args, info)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.inner.invoke_with_args(args)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
}

/// `datafusion-spark` functions that Spark calls with implicit casts, with what each argument
/// is cast to.
pub const SPARK_IMPLICIT_CASTS: &[(&str, &[Expect])] = &[
    ("add_months", &[Expect::Date, Expect::Int]),
    ("date_add", &[Expect::Date, Expect::Int]),
    ("date_sub", &[Expect::Date, Expect::Int]),
    ("last_day", &[Expect::Date]),
    ("next_day", &[Expect::Date, Expect::Any]),
    ("weekday", &[Expect::Date]),
    ("monthname", &[Expect::Date]),
    ("hour", &[Expect::Timestamp]),
    ("minute", &[Expect::Timestamp]),
    ("second", &[Expect::Timestamp]),
    ("factorial", &[Expect::Int]),
    // Spark's string functions take any atomic value as its text (`upper(age)`).
    ("upper", &[Expect::Text]),
    ("lower", &[Expect::Text]),
    ("initcap", &[Expect::Text]),
    ("ascii", &[Expect::Text]),
    ("lpad", &[Expect::Text, Expect::Any]),
    ("rpad", &[Expect::Text, Expect::Any]),
    ("repeat", &[Expect::Text, Expect::Any]),
];
