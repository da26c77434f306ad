//! Spark functions that are shorthand for an expression DataFusion already plans:
//! `zeroifnull(a)` is `coalesce(a, 0)`, `float(x)` is `CAST(x AS FLOAT)`,
//! `current_database()` is the session's schema. Each is a function for name resolution and
//! typing, and DataFusion's simplifier replaces it by its expansion before a plan runs, so
//! executors never see it and there is no kernel to keep in step with the expansion.

use std::sync::Arc;

use arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::functions::expr_fn::{coalesce, nullif};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    Cast, ColumnarValue, Expr, Operator, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    TypeSignature, Volatility, binary_expr, lit,
};

/// How a shorthand expands, given its (already coerced) arguments and the simplifier.
type Expand = fn(Vec<Expr>, &SimplifyContext) -> Result<Expr>;
/// A shorthand's result type from its argument types.
type ReturnType = fn(&[DataType]) -> Result<DataType>;

struct Shorthand {
    name: &'static str,
    aliases: Vec<String>,
    signature: Signature,
    return_type: ReturnType,
    expand: Expand,
}

impl std::fmt::Debug for Shorthand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shorthand")
            .field("name", &self.name)
            .finish()
    }
}

// A shorthand is defined by its name: there is one of each in the catalog.
impl PartialEq for Shorthand {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Shorthand {}

impl std::hash::Hash for Shorthand {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for Shorthand {
    fn name(&self) -> &str {
        self.name
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        (self.return_type)(arg_types)
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        Ok(ExprSimplifyResult::Simplified((self.expand)(args, info)?))
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        exec_err!(
            "`{}` reached execution without being expanded; run the plan through the optimizer",
            self.name
        )
    }
}

pub(crate) fn shorthand(
    name: &'static str,
    aliases: &[&str],
    signature: Signature,
    return_type: ReturnType,
    expand: Expand,
) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::from(Shorthand {
        name,
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        signature,
        return_type,
        expand,
    }))
}

/// A signature taking any of `counts` arguments of one kind (`TypeSignature::Any`, …).
pub(crate) fn arities(
    kind: fn(usize) -> TypeSignature,
    counts: &[usize],
    volatility: Volatility,
) -> Signature {
    Signature::one_of(counts.iter().map(|n| kind(*n)).collect(), volatility)
}

pub(crate) fn one<const N: usize>(name: &str, args: Vec<Expr>) -> Result<[Expr; N]> {
    let count = args.len();
    args.try_into()
        .or_else(|_| plan_err!("`{name}` takes {N} argument(s), not {count}"))
}

fn first_type(types: &[DataType]) -> Result<DataType> {
    match types.first() {
        Some(t) => Ok(t.clone()),
        None => plan_err!("the function takes one argument"),
    }
}

fn boolean(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Boolean)
}

fn utf8(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Utf8)
}

/// The argument, typed `int` when it is an untyped NULL, and the zero of its type.
fn with_zero(expr: Expr, info: &SimplifyContext) -> Result<(Expr, Expr)> {
    Ok(match info.get_data_type(&expr)? {
        DataType::Null => (
            cast(expr, DataType::Int32),
            Expr::Literal(ScalarValue::Int32(Some(0)), None),
        ),
        other => (expr, Expr::Literal(ScalarValue::new_zero(&other)?, None)),
    })
}

fn session_zone(info: &SimplifyContext) -> String {
    crate::zones::session_label(info.config_options()).to_string()
}

fn config_literal(value: String) -> Expr {
    lit(value)
}

/// Spark's `timestamp_seconds(x)` and its kin: a number of units since the epoch as a
/// timestamp, and `date_from_unix_date(days)`.
fn epoch_functions() -> Vec<Arc<ScalarUDF>> {
    fn session_timestamp(_: &[DataType]) -> Result<DataType> {
        Ok(DataType::Timestamp(
            TimeUnit::Microsecond,
            Some("UTC".into()),
        ))
    }
    fn micros(value: Expr, per_unit: i64, info: &SimplifyContext) -> Result<Expr> {
        let scaled = match info.get_data_type(&value)? {
            t if t.is_integer() => cast(value, DataType::Int64) * lit(per_unit),
            _ => cast(
                cast(value, DataType::Float64) * lit(per_unit as f64),
                DataType::Int64,
            ),
        };
        Ok(cast(
            scaled,
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        ))
    }
    /// `timestamp_seconds` and its kin, one per unit.
    fn from_epoch<const MICROS_PER_UNIT: i64>(
        args: Vec<Expr>,
        info: &SimplifyContext,
    ) -> Result<Expr> {
        let [a] = one("timestamp_seconds/millis/micros", args)?;
        micros(a, MICROS_PER_UNIT, info)
    }
    let units: [(&'static str, Expand); 3] = [
        ("timestamp_seconds", from_epoch::<1_000_000>),
        ("timestamp_millis", from_epoch::<1_000>),
        ("timestamp_micros", from_epoch::<1>),
    ];
    let mut all: Vec<Arc<ScalarUDF>> = units
        .into_iter()
        .map(|(name, expand)| {
            shorthand(
                name,
                &[],
                Signature::numeric(1, Volatility::Immutable),
                session_timestamp,
                expand,
            )
        })
        .collect();
    all.push(shorthand(
        "date_from_unix_date",
        &[],
        Signature::numeric(1, Volatility::Immutable),
        |_| Ok(DataType::Date32),
        |args, _| {
            let [a] = one("date_from_unix_date", args)?;
            Ok(cast(cast(a, DataType::Int32), DataType::Date32))
        },
    ));
    all
}

/// A catalog function called on already-typed arguments.
pub(crate) fn catalog_call(name: &str, args: Vec<Expr>) -> Result<Expr> {
    match crate::scalar_function(name) {
        Some(f) => Ok(f.call(args)),
        None => plan_err!("the catalog has no `{name}`"),
    }
}

/// A call of the catalog's `name` as this session configures it (its time zone).
pub(crate) fn session_call(name: &str, args: Vec<Expr>, info: &SimplifyContext) -> Result<Expr> {
    let Some(f) = crate::scalar_function(name) else {
        return plan_err!("the catalog has no `{name}`");
    };
    Ok(match f.inner().with_updated_config(info.config_options()) {
        Some(configured) => configured.call(args),
        None => f.call(args),
    })
}

fn literal_text(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Literal(ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)), _) => {
            Some(s.clone())
        }
        _ => None,
    }
}

/// `to_binary(s [, fmt])` and friends: string to binary, as hex (the default), base64 or
/// UTF-8 bytes.
fn to_binary(args: Vec<Expr>, name: &str) -> Result<Expr> {
    let mut args = args.into_iter();
    let Some(text) = args.next() else {
        return plan_err!("`{name}` takes a string and an optional format");
    };
    let format = match args.next() {
        None => "hex".to_string(),
        Some(f) => match literal_text(&f) {
            Some(f) => f.to_ascii_lowercase(),
            None => return plan_err!("the format of `{name}` must be a constant string"),
        },
    };
    match format.as_str() {
        "hex" => catalog_call("unhex", vec![text]),
        "base64" => catalog_call("unbase64", vec![text]),
        "utf-8" | "utf8" => Ok(cast(text, DataType::Binary)),
        other => plan_err!(
            "[INVALID_PARAMETER_VALUE.BINARY_FORMAT] The format of `{name}` must be one of \
             'hex', 'utf-8', 'utf8' or 'base64', not '{other}'"
        ),
    }
}

/// Spark's `encode`/`decode` name a character set; Ember's strings are UTF-8 (US-ASCII is
/// a subset of it for the text it can hold).
fn utf8_charset(name: &str, charset: &Expr) -> Result<()> {
    match literal_text(charset).map(|c| c.to_ascii_uppercase()) {
        Some(c) if matches!(c.as_str(), "UTF-8" | "UTF8" | "US-ASCII") => Ok(()),
        Some(other) => plan_err!(
            "[INVALID_PARAMETER_VALUE.CHARSET] `{name}` supports the charsets UTF-8 and \
             US-ASCII, not '{other}'"
        ),
        None => plan_err!("the charset of `{name}` must be a constant string"),
    }
}

/// `locate(substr, str [, pos])` and `position`: 1-based, searching from `pos`; 0 when the
/// substring is absent or `pos` is below 1.
fn locate(args: Vec<Expr>, name: &str) -> Result<Expr> {
    use datafusion::functions::expr_fn::{strpos, substr};
    let mut args = args.into_iter();
    let (Some(needle), Some(haystack)) = (args.next(), args.next()) else {
        return plan_err!("`{name}` takes a substring, a string and a position");
    };
    let needle = cast(needle, DataType::Utf8);
    let haystack = cast(haystack, DataType::Utf8);
    let Some(pos) = args.next() else {
        return Ok(cast(strpos(haystack, needle), DataType::Int32));
    };
    let pos = cast(pos, DataType::Int64);
    let found = cast(
        strpos(substr(haystack, pos.clone()), needle),
        DataType::Int64,
    );
    let located = datafusion::logical_expr::when(
        found.clone().gt(lit(0i64)),
        found + pos.clone() - lit(1i64),
    )
    .otherwise(lit(0i64))?;
    Ok(cast(
        datafusion::logical_expr::when(pos.lt(lit(1i64)), lit(0i64)).otherwise(located)?,
        DataType::Int32,
    ))
}

fn binary(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Binary)
}

pub(crate) fn element_type(t: &DataType) -> Result<DataType> {
    match t {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            Ok(f.data_type().clone())
        }
        DataType::Null => Ok(DataType::Null),
        other => plan_err!("expected an array, got {other}"),
    }
}

/// The map type of `map_concat`'s result: the first argument's that has key types (`map()`
/// has none).
fn concatenated_map_type(types: &[DataType]) -> Result<DataType> {
    let typed = types.iter().find(|t| match t {
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(fields) => fields
                .first()
                .is_some_and(|k| k.data_type() != &DataType::Null),
            _ => false,
        },
        _ => false,
    });
    match (typed, types.first()) {
        (Some(t), _) => Ok(t.clone()),
        (None, Some(t @ DataType::Map(..))) => Ok(t.clone()),
        (None, None) => plan_err!("`map_concat` takes at least one map"),
        (None, Some(other)) => plan_err!(
            "[DATATYPE_MISMATCH.MAP_CONCAT_DIFF_TYPES] `map_concat` takes maps, not {other}"
        ),
    }
}

/// Spark's collection and string functions that are expressions over DataFusion's.
fn collection_and_string_functions() -> Vec<Arc<ScalarUDF>> {
    use datafusion::functions::expr_fn::to_char;
    use datafusion::functions_nested::expr_fn::{array_element, array_has, gen_series, map_keys};
    vec![
        shorthand(
            "map_concat",
            &[],
            Signature::variadic_any(Volatility::Immutable),
            concatenated_map_type,
            |args, info| {
                // The entries of every map in order, made a map again: the last of
                // duplicate keys wins or fails as `spark.sql.mapKeyDedupPolicy` says.
                let types = args
                    .iter()
                    .map(|a| info.get_data_type(a))
                    .collect::<Result<Vec<_>>>()?;
                let result = concatenated_map_type(&types)?;
                let entries = args
                    .into_iter()
                    .map(|m| {
                        datafusion::functions_nested::expr_fn::map_entries(cast(m, result.clone()))
                    })
                    .collect();
                catalog_call(
                    "map_from_entries",
                    vec![datafusion::functions_nested::expr_fn::array_concat(entries)],
                )
            },
        ),
        shorthand(
            "to_binary",
            &[],
            arities(TypeSignature::String, &[1, 2], Volatility::Immutable),
            binary,
            |args, _| to_binary(args, "to_binary"),
        ),
        shorthand(
            "try_to_binary",
            &[],
            arities(TypeSignature::String, &[1, 2], Volatility::Immutable),
            binary,
            |args, _| to_binary(args, "try_to_binary"),
        ),
        shorthand(
            "locate",
            &[],
            arities(TypeSignature::Any, &[2, 3], Volatility::Immutable),
            |_| Ok(DataType::Int32),
            |args, _| locate(args, "locate"),
        ),
        shorthand(
            "position",
            &[],
            arities(TypeSignature::Any, &[2, 3], Volatility::Immutable),
            |_| Ok(DataType::Int32),
            |args, _| locate(args, "position"),
        ),
        shorthand(
            "replace",
            &[],
            arities(TypeSignature::String, &[2, 3], Volatility::Immutable),
            utf8,
            |args, _| {
                // Without a replacement Spark removes the search string.
                let mut args = args.into_iter().map(|a| cast(a, DataType::Utf8));
                let (Some(text), Some(search)) = (args.next(), args.next()) else {
                    return plan_err!(
                        "`replace` takes a string, a search string and a replacement"
                    );
                };
                let replacement = args.next().unwrap_or_else(|| lit(""));
                Ok(datafusion::functions::expr_fn::replace(
                    text,
                    search,
                    replacement,
                ))
            },
        ),
        shorthand(
            "levenshtein",
            &[],
            arities(TypeSignature::Any, &[2, 3], Volatility::Immutable),
            |_| Ok(DataType::Int32),
            |args, _| {
                // With a threshold, -1 when the distance exceeds it.
                let mut args = args.into_iter();
                let (Some(a), Some(b)) = (args.next(), args.next()) else {
                    return plan_err!("`levenshtein` takes two strings and an optional threshold");
                };
                let distance = cast(
                    datafusion::functions::expr_fn::levenshtein(
                        cast(a, DataType::Utf8),
                        cast(b, DataType::Utf8),
                    ),
                    DataType::Int32,
                );
                match args.next() {
                    None => Ok(distance),
                    Some(threshold) => datafusion::logical_expr::when(
                        distance.clone().gt(cast(threshold, DataType::Int32)),
                        lit(-1i32),
                    )
                    .otherwise(distance),
                }
            },
        ),
        shorthand(
            "map_contains_key",
            &[],
            Signature::any(2, Volatility::Immutable),
            boolean,
            |args, info| {
                let [map, key] = one("map_contains_key", args)?;
                let key_type = match info.get_data_type(&map)? {
                    DataType::Map(entries, _) => match entries.data_type() {
                        DataType::Struct(fields) if !fields.is_empty() => {
                            fields[0].data_type().clone()
                        }
                        other => return plan_err!("a map's entries are structs, not {other}"),
                    },
                    other => return plan_err!("`map_contains_key` takes a map, not {other}"),
                };
                Ok(array_has(map_keys(map), cast(key, key_type)))
            },
        ),
        shorthand(
            "get",
            &[],
            Signature::any(2, Volatility::Immutable),
            |types| element_type(&first_type(types)?),
            |args, _| {
                // 0-based; NULL outside the array (a negative index included).
                let [array, index] = one("get", args)?;
                let index = cast(index, DataType::Int64);
                datafusion::logical_expr::when(
                    index.clone().gt_eq(lit(0i64)),
                    array_element(array, index + lit(1i64)),
                )
                .end()
            },
        ),
        shorthand(
            "sequence",
            &[],
            arities(TypeSignature::Any, &[2, 3], Volatility::Immutable),
            |_| {
                Ok(DataType::List(Arc::new(
                    arrow::datatypes::Field::new_list_field(DataType::Int64, true),
                )))
            },
            |args, _| {
                let mut args = args.into_iter().map(|a| cast(a, DataType::Int64));
                let (Some(start), Some(stop)) = (args.next(), args.next()) else {
                    return plan_err!("`sequence` takes a start, a stop and an optional step");
                };
                // Without a step Spark counts down when the start is past the stop.
                let step = match args.next() {
                    Some(step) => step,
                    None => {
                        datafusion::logical_expr::when(start.clone().lt_eq(stop.clone()), lit(1i64))
                            .otherwise(lit(-1i64))?
                    }
                };
                Ok(gen_series(start, stop, step))
            },
        ),
        shorthand(
            "sqrt",
            &[],
            Signature::uniform(1, vec![DataType::Float64], Volatility::Immutable),
            |_| Ok(DataType::Float64),
            |args, _| {
                // Spark's square root of a negative number is NaN; DataFusion's fails.
                let [a] = one("sqrt", args)?;
                datafusion::logical_expr::when(a.clone().lt(lit(0.0)), lit(f64::NAN))
                    .otherwise(datafusion::functions::math::sqrt().call(vec![a]))
            },
        ),
        shorthand(
            "encode",
            &[],
            Signature::any(2, Volatility::Immutable),
            binary,
            |args, _| {
                let [text, charset] = one("encode", args)?;
                utf8_charset("encode", &charset)?;
                Ok(cast(cast(text, DataType::Utf8), DataType::Binary))
            },
        ),
        shorthand(
            "decode",
            &[],
            Signature::any(2, Volatility::Immutable),
            utf8,
            |args, _| {
                let [bytes, charset] = one("decode", args)?;
                utf8_charset("decode", &charset)?;
                Ok(cast(cast(bytes, DataType::Binary), DataType::Utf8))
            },
        ),
        shorthand(
            "assert_true",
            &[],
            arities(TypeSignature::Any, &[1, 2], Volatility::Volatile),
            |_| Ok(DataType::Null),
            |args, _| {
                // NULL where the condition holds; elsewhere the query fails, as on Spark.
                let mut args = args.into_iter();
                let Some(condition) = args.next() else {
                    return plan_err!("`assert_true` takes a condition and an optional message");
                };
                let message = args
                    .next()
                    .unwrap_or_else(|| lit(format!("'{condition}' is not true!")));
                let raise = catalog_call("raise_error", vec![cast(message, DataType::Utf8)])?;
                datafusion::logical_expr::when(
                    condition.is_true(),
                    Expr::Literal(ScalarValue::Null, None),
                )
                .otherwise(raise)
            },
        ),
        // Strings are UTF-8 already; bytes become a string, or fail (NULL for `try_`).
        shorthand(
            "validate_utf8",
            &[],
            Signature::any(1, Volatility::Immutable),
            utf8,
            |args, _| {
                let [a] = one("validate_utf8", args)?;
                Ok(cast(a, DataType::Utf8))
            },
        ),
        shorthand(
            "try_validate_utf8",
            &[],
            Signature::any(1, Volatility::Immutable),
            utf8,
            |args, _| {
                let [a] = one("try_validate_utf8", args)?;
                Ok(Expr::TryCast(datafusion::logical_expr::TryCast::new(
                    Box::new(a),
                    DataType::Utf8,
                )))
            },
        ),
        shorthand(
            "dayname",
            &[],
            Signature::any(1, Volatility::Immutable),
            utf8,
            |args, info| {
                let [a] = one("dayname", args)?;
                let day = match info.get_data_type(&a)? {
                    DataType::Date32 => a,
                    t if t.is_temporal() => cast(a, DataType::Date32),
                    _ => cast(
                        cast(a, DataType::Timestamp(TimeUnit::Microsecond, None)),
                        DataType::Date32,
                    ),
                };
                Ok(to_char(day, lit("%a")))
            },
        ),
    ]
}

pub(crate) fn cast(expr: Expr, to: DataType) -> Expr {
    Expr::Cast(Cast::new(Box::new(expr), to))
}

/// Spark's `float(x)`, `int(x)`, …: a cast written as a function call.
fn cast_functions() -> Vec<Arc<ScalarUDF>> {
    /// Each cast function and its target type.
    type Target = fn() -> DataType;
    const CASTS: &[(&str, Target)] = &[
        ("boolean", || DataType::Boolean),
        ("tinyint", || DataType::Int8),
        ("smallint", || DataType::Int16),
        ("int", || DataType::Int32),
        ("bigint", || DataType::Int64),
        ("float", || DataType::Float32),
        ("double", || DataType::Float64),
        ("decimal", || DataType::Decimal128(10, 0)),
        ("string", || DataType::Utf8),
        ("binary", || DataType::Binary),
        ("date", || DataType::Date32),
        ("timestamp", || {
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        }),
    ];
    CASTS
        .iter()
        .map(|(name, target)| {
            Arc::new(ScalarUDF::from(CastFunction {
                name,
                target: target(),
                signature: Signature::any(1, Volatility::Immutable),
            }))
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct CastFunction {
    name: &'static str,
    target: DataType,
    signature: Signature,
}

impl ScalarUDFImpl for CastFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.target.clone())
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let [arg] = one(self.name, args)?;
        // Spark reads a zone-less timestamp string in the session time zone; the result is
        // an instant, typed in UTC like every timestamp the catalog returns.
        let expanded = match &self.target {
            DataType::Timestamp(unit, Some(_)) => cast(
                cast(
                    arg,
                    DataType::Timestamp(*unit, Some(session_zone(info).into())),
                ),
                self.target.clone(),
            ),
            other => cast(arg, other.clone()),
        };
        Ok(ExprSimplifyResult::Simplified(expanded))
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        exec_err!(
            "`{}` reached execution without being expanded; run the plan through the optimizer",
            self.name
        )
    }
}

pub fn functions() -> Vec<Arc<ScalarUDF>> {
    let mut all = vec![
        shorthand(
            "equal_null",
            &[],
            Signature::comparable(2, Volatility::Immutable),
            boolean,
            |args, _| {
                let [a, b] = one("equal_null", args)?;
                Ok(binary_expr(a, Operator::IsNotDistinctFrom, b))
            },
        ),
        shorthand(
            "zeroifnull",
            &[],
            Signature::any(1, Volatility::Immutable),
            |types| match first_type(types)? {
                DataType::Null => Ok(DataType::Int32),
                other => Ok(other),
            },
            |args, info| {
                let [a] = one("zeroifnull", args)?;
                let (a, zero) = with_zero(a, info)?;
                Ok(coalesce(vec![a, zero]))
            },
        ),
        shorthand(
            "nullifzero",
            &[],
            Signature::any(1, Volatility::Immutable),
            |types| match first_type(types)? {
                DataType::Null => Ok(DataType::Int32),
                other => Ok(other),
            },
            |args, info| {
                let [a] = one("nullifzero", args)?;
                let (a, zero) = with_zero(a, info)?;
                Ok(nullif(a, zero))
            },
        ),
        shorthand(
            "positive",
            &[],
            Signature::any(1, Volatility::Immutable),
            first_type,
            |args, _| {
                let [a] = one("positive", args)?;
                Ok(a)
            },
        ),
        shorthand(
            "div",
            &[],
            Signature::numeric(2, Volatility::Immutable),
            |_| Ok(DataType::Int64),
            |args, info| {
                // Spark's integral division: the quotient truncated toward zero, a bigint.
                let [a, b] = one("div", args)?;
                let integral =
                    info.get_data_type(&a)?.is_integer() && info.get_data_type(&b)?.is_integer();
                Ok(if integral {
                    cast(a, DataType::Int64) / cast(b, DataType::Int64)
                } else {
                    let quotient = cast(a, DataType::Float64) / cast(b, DataType::Float64);
                    cast(
                        datafusion::functions::expr_fn::trunc(vec![quotient]),
                        DataType::Int64,
                    )
                })
            },
        ),
        shorthand(
            "e",
            &[],
            Signature::nullary(Volatility::Immutable),
            |_| Ok(DataType::Float64),
            |_, _| Ok(lit(std::f64::consts::E)),
        ),
        shorthand(
            "current_database",
            &["current_schema"],
            Signature::nullary(Volatility::Stable),
            utf8,
            |_, info| {
                // DataFusion's default schema is what Spark calls the `default` database.
                let schema = &info.config_options().catalog.default_schema;
                Ok(config_literal(if schema == "public" {
                    "default".into()
                } else {
                    schema.clone()
                }))
            },
        ),
        shorthand(
            "current_catalog",
            &[],
            Signature::nullary(Volatility::Stable),
            utf8,
            // Spark's one session catalog; Ember's tables all live in it.
            |_, _| Ok(config_literal("spark_catalog".into())),
        ),
        shorthand(
            "current_timezone",
            &[],
            Signature::nullary(Volatility::Stable),
            utf8,
            |_, info| Ok(config_literal(session_zone(info))),
        ),
    ];
    all.extend(epoch_functions());
    all.extend(collection_and_string_functions());
    all.extend(cast_functions());
    all
}
