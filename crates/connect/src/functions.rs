//! Spark's functions and operators by their Spark names, as DataFusion expressions. Most map
//! onto DataFusion's function of the same (or a renamed) name; the rest are built here with
//! Spark's semantics (`/` always divides as double, `substring` counts from 1, `when` chains).

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::expr::{InList, Like};
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::{
    Between, BinaryExpr, Case, Cast, Expr, ExprFunctionExt, Operator, TryCast, binary_expr,
};
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use datafusion::prelude::lit;
use datafusion::scalar::ScalarValue;
use spark_connect_proto::Expression;
use spark_connect_proto::expression::ExprType;

use crate::error::{ConnectResult, SparkError};
use crate::expr::Scope;

/// Spark names the Connect client sends for functions the catalog knows by another name.
const RENAMED: &[(&str, &str)] = &[
    ("first", "first_value"),
    ("last", "last_value"),
    ("any_value", "first_value"),
    ("char_length", "character_length"),
    ("instr", "strpos"),
];

pub fn call(
    scope: &Scope<'_>,
    name: &str,
    arguments: &[Expression],
    distinct: bool,
) -> ConnectResult<Expr> {
    let lower = name.to_ascii_lowercase();
    // count(*) arrives as count over a star.
    if lower == "count"
        && match arguments.first().and_then(|a| a.expr_type.as_ref()) {
            Some(ExprType::UnresolvedStar(_)) => true,
            Some(ExprType::ExpressionString(s)) => s.expression.trim() == "*",
            _ => false,
        }
    {
        return Ok(datafusion::functions_aggregate::expr_fn::count(lit(1i32)));
    }
    // `hash(*)`, `concat(*)`: a star argument is every column, as in a select list.
    let args = scope.exprs(arguments)?;
    if let Some(expr) = operator(scope, &lower, &args)? {
        return Ok(expr);
    }
    if let Some(expr) = special(scope, &lower, args.clone(), distinct)? {
        return Ok(expr);
    }
    let target = RENAMED
        .iter()
        .find(|(spark, _)| *spark == lower)
        .map(|(_, df)| *df)
        .unwrap_or(lower.as_str());
    let mut args = args;
    if SCHEMA_TAKING.contains(&target) {
        fold_schema_argument(scope, &mut args)?;
    }
    registry_call(scope, name, target, args, distinct)
}

/// Functions typed by a schema given as their second argument.
const SCHEMA_TAKING: &[&str] = &["from_json", "from_csv"];

/// Spark folds a constant schema argument before it types the call
/// (`from_csv(v, schema_of_csv('1,2'))`); DataFusion types a call from literal arguments only,
/// so a schema argument that refers to no column is folded to its literal here.
fn fold_schema_argument(scope: &Scope<'_>, args: &mut [Expr]) -> ConnectResult<()> {
    let Some(schema) = args.get_mut(1) else {
        return Ok(());
    };
    if matches!(schema, Expr::Literal(..)) || !schema.column_refs().is_empty() {
        return Ok(());
    }
    let context = SimplifyContext::builder()
        .with_config_options(Arc::clone(scope.state.config_options()))
        .build();
    let folded = ExprSimplifier::new(context).simplify(schema.clone())?;
    if matches!(folded, Expr::Literal(..)) {
        *schema = folded;
    }
    Ok(())
}

/// Any function DataFusion knows by `target`.
fn registry_call(
    scope: &Scope<'_>,
    spark_name: &str,
    target: &str,
    args: Vec<Expr>,
    distinct: bool,
) -> ConnectResult<Expr> {
    let state = scope.state;
    if let Ok(udaf) = state.udaf(target) {
        let call = udaf.call(args);
        return if distinct {
            Ok(call.distinct().build()?)
        } else {
            Ok(call)
        };
    }
    if let Ok(udf) = state.udf(target) {
        return Ok(udf.call(args));
    }
    if let Ok(udwf) = state.udwf(target) {
        return Ok(udwf.call(args));
    }
    Err(SparkError::analysis(
        "UNRESOLVED_ROUTINE",
        format!(
            "[UNRESOLVED_ROUTINE] Cannot resolve routine `{spark_name}` on search path [`system`.`builtin`]."
        ),
    )
    .with_parameter("routineName", format!("`{spark_name}`")))
}

fn arity(name: &str, args: &[Expr], wanted: usize) -> ConnectResult<()> {
    if args.len() == wanted {
        Ok(())
    } else {
        Err(wrong_arguments(name, args, &wanted.to_string()))
    }
}

fn wrong_arguments(name: &str, args: &[Expr], wanted: &str) -> SparkError {
    SparkError::analysis(
        "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
        format!(
            "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{name}` requires {wanted} parameters but the actual number is {}.",
            args.len()
        ),
    )
    .with_parameter("functionName", format!("`{name}`"))
    .with_parameter("expectedNum", wanted)
    .with_parameter("actualNum", args.len().to_string())
}

fn binary(left: Expr, op: Operator, right: Expr) -> Expr {
    Expr::BinaryExpr(BinaryExpr::new(Box::new(left), op, Box::new(right)))
}

fn is_integral_or_float(t: &DataType) -> bool {
    t.is_integer() || t.is_floating() || matches!(t, DataType::Null)
}

/// Operators PySpark's Column methods send as functions.
fn operator(scope: &Scope<'_>, name: &str, args: &[Expr]) -> ConnectResult<Option<Expr>> {
    let op = match name {
        "+" => Operator::Plus,
        "-" => Operator::Minus,
        "*" => Operator::Multiply,
        "%" | "mod" => Operator::Modulo,
        "==" | "=" => Operator::Eq,
        "!=" | "<>" => Operator::NotEq,
        "<" => Operator::Lt,
        "<=" => Operator::LtEq,
        ">" => Operator::Gt,
        ">=" => Operator::GtEq,
        "<=>" => Operator::IsNotDistinctFrom,
        "and" => Operator::And,
        "or" => Operator::Or,
        "&" | "bitwiseand" => Operator::BitwiseAnd,
        "|" | "bitwiseor" => Operator::BitwiseOr,
        "^" | "bitwisexor" => Operator::BitwiseXor,
        "/" => {
            arity(name, args, 2)?;
            let (left, right) = (args[0].clone(), args[1].clone());
            // Spark's `/` on integers and floats is double division; decimals stay decimal.
            let numeric = is_integral_or_float(&scope.type_of(&left)?)
                && is_integral_or_float(&scope.type_of(&right)?);
            if !numeric {
                return Ok(Some(binary(left, Operator::Divide, right)));
            }
            let double = |e: Expr| Expr::Cast(Cast::new(Box::new(e), DataType::Float64));
            // ANSI mode (Spark 4's default) raises DIVIDE_BY_ZERO instead of giving infinity:
            // a zero divisor takes a branch that divides integers, which fails as Spark does.
            let as_long = Expr::Cast(Cast::new(Box::new(right.clone()), DataType::Int64));
            let failing = double(binary(as_long.clone(), Operator::Divide, as_long));
            return Ok(Some(Expr::Case(Case::new(
                None,
                vec![(Box::new(right.clone().eq(lit(0))), Box::new(failing))],
                Some(Box::new(binary(
                    double(left),
                    Operator::Divide,
                    double(right),
                ))),
            ))));
        }
        "not" | "!" => {
            arity(name, args, 1)?;
            return Ok(Some(Expr::Not(Box::new(args[0].clone()))));
        }
        "negative" | "-u" => {
            arity(name, args, 1)?;
            return Ok(Some(Expr::Negative(Box::new(args[0].clone()))));
        }
        "isnull" => {
            arity(name, args, 1)?;
            return Ok(Some(args[0].clone().is_null()));
        }
        "isnotnull" => {
            arity(name, args, 1)?;
            return Ok(Some(args[0].clone().is_not_null()));
        }
        "in" => {
            if args.is_empty() {
                return Err(SparkError::invalid_plan("`in` needs a value"));
            }
            return Ok(Some(Expr::InList(InList::new(
                Box::new(args[0].clone()),
                args[1..].to_vec(),
                false,
            ))));
        }
        "between" => {
            arity(name, args, 3)?;
            return Ok(Some(Expr::Between(Between::new(
                Box::new(args[0].clone()),
                false,
                Box::new(args[1].clone()),
                Box::new(args[2].clone()),
            ))));
        }
        "like" | "ilike" => {
            if args.len() < 2 {
                return Err(SparkError::invalid_plan(format!(
                    "`{name}` needs a pattern"
                )));
            }
            // The optional third argument is the escape character.
            let escape = match args.get(2) {
                None => None,
                Some(Expr::Literal(ScalarValue::Utf8(Some(text)), _))
                    if text.chars().count() == 1 =>
                {
                    text.chars().next()
                }
                Some(_) => {
                    return Err(SparkError::analysis(
                        "INVALID_ESCAPE_CHAR",
                        format!("the escape character of `{name}` must be one constant character"),
                    ));
                }
            };
            return Ok(Some(Expr::Like(Like::new(
                false,
                Box::new(args[0].clone()),
                Box::new(args[1].clone()),
                escape,
                name == "ilike",
            ))));
        }
        "rlike" | "regexp" | "regexp_like" => {
            arity(name, args, 2)?;
            Operator::RegexMatch
        }
        "when" | "case_when" => return Ok(Some(case_when(args)?)),
        _ => return Ok(None),
    };
    arity(name, args, 2)?;
    Ok(Some(binary_expr(args[0].clone(), op, args[1].clone())))
}

/// `when(c1, v1).when(c2, v2).otherwise(e)` arrives as when(c1, v1, c2, v2, e).
fn case_when(args: &[Expr]) -> ConnectResult<Expr> {
    if args.len() < 2 {
        return Err(SparkError::invalid_plan(
            "`when` needs a condition and a value",
        ));
    }
    let mut pairs = Vec::new();
    let mut chunks = args.chunks_exact(2);
    for pair in &mut chunks {
        pairs.push((Box::new(pair[0].clone()), Box::new(pair[1].clone())));
    }
    let otherwise = chunks.remainder().first().cloned().map(Box::new);
    Ok(Expr::Case(Case::new(None, pairs, otherwise)))
}

/// Functions whose Spark meaning differs from DataFusion's same-named one, or that DataFusion
/// lacks.
fn special(
    scope: &Scope<'_>,
    name: &str,
    args: Vec<Expr>,
    distinct: bool,
) -> ConnectResult<Option<Expr>> {
    use datafusion::functions::expr_fn as f;
    use datafusion::functions_aggregate::expr_fn as agg;
    Ok(Some(match name {
        // Spark's grouping_id() is DataFusion's grouping() over the grouping columns; the
        // aggregate fills them in (see `relation::with_grouping_columns`).
        "grouping_id" => datafusion::functions_aggregate::grouping::grouping_udaf().call(args),
        // Spark's concat joins arrays too (null when any is); datafusion-spark's joins text.
        "concat"
            if !args.is_empty()
                && args.iter().all(|a| {
                    matches!(
                        scope.type_of(a),
                        Ok(DataType::List(_) | DataType::LargeList(_))
                    )
                }) =>
        {
            let any_null = args
                .iter()
                .map(|a| a.clone().is_null())
                .reduce(Expr::or)
                .unwrap_or_else(|| lit(false));
            Expr::Case(Case::new(
                None,
                vec![(Box::new(any_null), Box::new(lit(ScalarValue::Null)))],
                Some(Box::new(
                    datafusion::functions_nested::expr_fn::array_concat(args),
                )),
            ))
        }
        // PySpark sends Spark's SQL argument order: the characters to trim first.
        "ltrim" | "rtrim" | "trim" if args.len() == 2 => {
            let (trim, value) = (args[0].clone(), args[1].clone());
            match name {
                "ltrim" => f::ltrim(vec![value, trim]),
                "rtrim" => f::rtrim(vec![value, trim]),
                _ => f::btrim(vec![value, trim]),
            }
        }
        // The number of top-level elements, an int (DataFusion's cardinality counts nested
        // arrays' elements too).
        "array_size" => Expr::Cast(Cast::new(
            Box::new(datafusion::functions_nested::expr_fn::array_length(single(
                name, &args,
            )?)),
            DataType::Int32,
        )),
        "count" if args.is_empty() => return Err(wrong_arguments(name, &args, "at least 1")),
        "count" if distinct => count_distinct(args)?,
        "count_distinct" | "countdistinct" => count_distinct(args)?,
        // DataFusion's approx_distinct takes no floats; their text has the same distinct
        // values. Spark's optional relative error only tunes its sketch.
        "approx_count_distinct" => {
            let Some(value) = args.first().filter(|_| args.len() <= 2) else {
                return Err(wrong_arguments(name, &args, "1 or 2"));
            };
            let value = if scope.type_of(value)?.is_floating() {
                Expr::Cast(Cast::new(Box::new(value.clone()), DataType::Utf8))
            } else {
                value.clone()
            };
            agg::approx_distinct(value)
        }
        // first(col, ignorenulls) / last(col, ignorenulls).
        "first" | "last" | "first_value" | "last_value" | "any_value" if !args.is_empty() => {
            let udaf = if name.starts_with("last") {
                datafusion::functions_aggregate::first_last::last_value_udaf()
            } else {
                datafusion::functions_aggregate::first_last::first_value_udaf()
            };
            let ignore_nulls = matches!(
                args.get(1),
                Some(Expr::Literal(ScalarValue::Boolean(Some(true)), _))
            );
            let call = udaf.call(vec![args[0].clone()]);
            if ignore_nulls {
                call.null_treatment(datafusion::logical_expr::expr::NullTreatment::IgnoreNulls)
                    .build()?
            } else {
                call
            }
        }
        "collect_set" => agg::array_agg(single(name, &args)?).distinct().build()?,
        "percentile_approx" | "approx_percentile" => {
            if args.len() < 2 {
                return Err(SparkError::invalid_plan(
                    "percentile_approx needs a column and a percentage",
                ));
            }
            let column = args[0].clone();
            agg::approx_percentile_cont(column.sort(true, false), args[1].clone(), None)
        }
        "substring" | "substr" => {
            if args.len() < 2 {
                return Err(SparkError::invalid_plan("substring needs a position"));
            }
            // Spark treats position 0 as 1.
            let position = position_clone(&args[1]);
            match args.get(2) {
                Some(length) => f::substring(args[0].clone(), position, length.clone()),
                None => f::substr(args[0].clone(), position),
            }
        }
        "regexp_replace" => {
            if args.len() < 3 {
                return Err(SparkError::invalid_plan(
                    "regexp_replace needs a pattern and a replacement",
                ));
            }
            // Spark replaces every match; DataFusion only the first unless told `g`.
            let replacement = spark_replacement(&args[2]);
            datafusion::functions::regex::expr_fn::regexp_replace(
                args[0].clone(),
                args[1].clone(),
                replacement,
                Some(lit("g")),
            )
        }
        // Spark's `len` of -1 (PySpark's default) replaces as many characters as `y` has.
        "overlay" if (3..=4).contains(&args.len()) => {
            let replacement_length = f::character_length(args[1].clone());
            let length = match args.get(3) {
                None => replacement_length,
                Some(len) => Expr::Case(Case::new(
                    None,
                    vec![(
                        Box::new(len.clone().lt(lit(0))),
                        Box::new(replacement_length),
                    )],
                    Some(Box::new(len.clone())),
                )),
            };
            f::overlay(vec![
                args[0].clone(),
                args[1].clone(),
                args[2].clone(),
                length,
            ])
        }
        "reverse"
            if args.len() == 1
                && matches!(
                    scope.type_of(&args[0]),
                    Ok(DataType::List(_) | DataType::LargeList(_))
                ) =>
        {
            datafusion::functions_nested::expr_fn::array_reverse(args[0].clone())
        }
        // The wall-clock time `ts` reads in `source` (the session's zone by default), as the
        // wall clock of `target`: a TIMESTAMP_NTZ.
        "convert_timezone" => {
            let (source, target, ts) = match args.as_slice() {
                [target, ts] => (lit(scope.time_zone), target.clone(), ts.clone()),
                [source, target, ts] => (source.clone(), target.clone(), ts.clone()),
                _ => return Err(wrong_arguments(name, &args, "2 or 3")),
            };
            let naive = DataType::Timestamp(TimeUnit::Microsecond, None);
            let catalog = |function: &str| {
                ember_functions::scalar_function(function).ok_or_else(|| {
                    SparkError::unsupported(format!("`{function}`, which convert_timezone needs"))
                })
            };
            let utc = catalog("to_utc_timestamp")?.call(vec![
                Expr::Cast(Cast::new(Box::new(ts), naive.clone())),
                source,
            ]);
            let local = catalog("from_utc_timestamp")?.call(vec![utc, target]);
            Expr::Cast(Cast::new(Box::new(local), naive))
        }
        "extract" => {
            let [field, source] = args.as_slice() else {
                return Err(wrong_arguments(name, &args, "2"));
            };
            extract(field, source.clone())?
        }
        "date_add" => date_shift(&args, false)?,
        "date_sub" => date_shift(&args, true)?,
        "datediff" => {
            arity(name, &args, 2)?;
            let days = |e: &Expr| {
                Expr::Cast(Cast::new(
                    Box::new(Expr::Cast(Cast::new(Box::new(e.clone()), DataType::Date32))),
                    DataType::Int32,
                ))
            };
            days(&args[0]) - days(&args[1])
        }
        "current_date" => Expr::Cast(Cast::new(Box::new(f::now()), DataType::Date32)),
        "to_date" => match args.as_slice() {
            [value] => Expr::Cast(Cast::new(Box::new(value.clone()), DataType::Date32)),
            [value, format] => f::to_date(vec![value.clone(), java_format(format)?]),
            _ => return Err(wrong_arguments(name, &args, "1 or 2")),
        },
        // NULL for text that is not a date.
        "try_to_date" => match args.as_slice() {
            [value] => Expr::TryCast(TryCast::new(Box::new(value.clone()), DataType::Date32)),
            [value, format] => Expr::Cast(Cast::new(
                Box::new(ember_functions::try_parse_timestamp_in_zone(
                    value.clone(),
                    java_format(format)?,
                    "UTC",
                )),
                DataType::Date32,
            )),
            _ => return Err(wrong_arguments(name, &args, "1 or 2")),
        },
        // A timestamp without a zone in its text is a time in the session's zone (Spark's
        // TIMESTAMP, `_ltz`); `_ntz` keeps it as it reads.
        "to_timestamp" | "to_timestamp_ltz" => session_timestamp(scope, name, &args)?,
        "try_to_timestamp" => match args.as_slice() {
            [value] => Expr::TryCast(TryCast::new(
                Box::new(value.clone()),
                DataType::Timestamp(TimeUnit::Microsecond, Some(scope.time_zone.into())),
            )),
            [value, format] => ember_functions::try_parse_timestamp_in_zone(
                value.clone(),
                java_format(format)?,
                scope.time_zone,
            ),
            _ => return Err(wrong_arguments(name, &args, "1 or 2")),
        },
        "to_timestamp_ntz" => match args.as_slice() {
            [value] => Expr::Cast(Cast::new(
                Box::new(value.clone()),
                DataType::Timestamp(TimeUnit::Microsecond, None),
            )),
            // Read as a UTC wall-clock time, whose value is the wall-clock time itself.
            [value, format] => Expr::Cast(Cast::new(
                Box::new(ember_functions::parse_timestamp_in_zone(
                    value.clone(),
                    java_format(format)?,
                    "UTC",
                )),
                DataType::Timestamp(TimeUnit::Microsecond, None),
            )),
            _ => return Err(wrong_arguments(name, &args, "1 or 2")),
        },
        // Seconds since the epoch of a time read with a format (`yyyy-MM-dd HH:mm:ss` by
        // default) in the session's zone; now without arguments.
        "unix_timestamp" | "to_unix_timestamp" => {
            let instant = match args.as_slice() {
                [] if name == "unix_timestamp" => f::now(),
                [value] => {
                    session_timestamp(scope, name, &[value.clone(), lit("yyyy-MM-dd HH:mm:ss")])?
                }
                [value, format] => {
                    session_timestamp(scope, name, &[value.clone(), format.clone()])?
                }
                _ => return Err(wrong_arguments(name, &args, "1 or 2")),
            };
            Expr::Cast(Cast::new(
                Box::new(f::date_part(lit("epoch"), instant)),
                DataType::Int64,
            ))
        }
        "struct" | "named_struct" if name == "struct" => {
            let mut fields = Vec::new();
            for (i, arg) in args.iter().enumerate() {
                let field_name = match arg {
                    Expr::Column(c) => c.name.clone(),
                    Expr::Alias(a) => a.name.clone(),
                    _ => format!("col{}", i + 1),
                };
                fields.push(lit(field_name));
                fields.push(arg.clone());
            }
            f::named_struct(fields)
        }
        "nanvl" => {
            arity(name, &args, 2)?;
            Expr::Case(Case::new(
                None,
                vec![(
                    Box::new(f::isnan(args[0].clone())),
                    Box::new(args[1].clone()),
                )],
                Some(Box::new(args[0].clone())),
            ))
        }
        "explode" | "explode_outer" | "posexplode" | "posexplode_outer" => {
            return Err(SparkError::analysis(
                "UNSUPPORTED_GENERATOR.OUTSIDE_SELECT",
                "[UNSUPPORTED_GENERATOR.OUTSIDE_SELECT] explode can only be used in a select list.",
            ));
        }
        _ => return Ok(None),
    }))
}

/// `count(DISTINCT a, b, …)`: Spark counts the distinct rows in which no value is null.
fn count_distinct(args: Vec<Expr>) -> ConnectResult<Expr> {
    use datafusion::functions_aggregate::expr_fn::count_distinct;
    match args.as_slice() {
        [] => Err(wrong_arguments("count", &args, "at least 1")),
        [single] => Ok(count_distinct(single.clone())),
        several => {
            let all_present = several
                .iter()
                .map(|a| a.clone().is_not_null())
                .reduce(Expr::and)
                .unwrap_or_else(|| lit(true));
            let mut fields = Vec::new();
            for (i, arg) in several.iter().enumerate() {
                fields.push(lit(format!("c{i}")));
                fields.push(arg.clone());
            }
            let row = datafusion::functions::expr_fn::named_struct(fields);
            Ok(count_distinct(Expr::Case(Case::new(
                None,
                vec![(Box::new(all_present), Box::new(row))],
                None,
            ))))
        }
    }
}

fn position_clone(position: &Expr) -> Expr {
    match position {
        Expr::Literal(ScalarValue::Int32(Some(0)), _)
        | Expr::Literal(ScalarValue::Int64(Some(0)), _) => lit(1i64),
        other => other.clone(),
    }
}

fn single(name: &str, args: &[Expr]) -> ConnectResult<Expr> {
    arity(name, args, 1)?;
    Ok(args[0].clone())
}

/// date_add(start, days) / date_sub: whole days on a date.
fn date_shift(args: &[Expr], subtract: bool) -> ConnectResult<Expr> {
    arity(if subtract { "date_sub" } else { "date_add" }, args, 2)?;
    let days = Expr::Cast(Cast::new(
        Box::new(Expr::Cast(Cast::new(
            Box::new(args[0].clone()),
            DataType::Date32,
        ))),
        DataType::Int32,
    ));
    let delta = Expr::Cast(Cast::new(Box::new(args[1].clone()), DataType::Int32));
    let shifted = if subtract { days - delta } else { days + delta };
    Ok(Expr::Cast(Cast::new(Box::new(shifted), DataType::Date32)))
}

/// Java's `$1` group references become the `${1}` DataFusion's regex engine reads.
fn spark_replacement(replacement: &Expr) -> Expr {
    match replacement {
        Expr::Literal(ScalarValue::Utf8(Some(text)), _) => {
            let mut out = String::new();
            let mut chars = text.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                    let mut digits = String::new();
                    while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                        digits.push(*d);
                        chars.next();
                    }
                    out.push_str(&format!("${{{digits}}}"));
                } else {
                    out.push(c);
                }
            }
            lit(out)
        }
        other => other.clone(),
    }
}

/// Spark's `extract(field, source)`: an `int` for each field (Spark's names and
/// abbreviations; `DAYOFWEEK` counts from Sunday = 1), the seconds with their fraction as
/// `decimal(8,6)`.
fn extract(field: &Expr, source: Expr) -> ConnectResult<Expr> {
    use datafusion::functions::expr_fn::date_part;
    let Expr::Literal(ScalarValue::Utf8(Some(text)), _) = field else {
        return Err(SparkError::analysis(
            "NON_FOLDABLE_ARGUMENT",
            "the field of `extract` must be a constant string",
        ));
    };
    let part = |p: &str| {
        Expr::Cast(Cast::new(
            Box::new(date_part(lit(p), source.clone())),
            DataType::Int32,
        ))
    };
    Ok(match text.to_ascii_uppercase().as_str() {
        "YEAR" | "Y" | "YEARS" | "YR" | "YRS" => part("year"),
        "QUARTER" | "QTR" => part("quarter"),
        "MONTH" | "MON" | "MONS" | "MONTHS" => part("month"),
        "WEEK" | "W" | "WEEKS" => part("week"),
        "DAY" | "D" | "DAYS" => part("day"),
        "DAYOFWEEK" | "DOW" => part("dow") + lit(1i32),
        "DOY" => part("doy"),
        "HOUR" | "H" | "HOURS" | "HR" | "HRS" => part("hour"),
        "MINUTE" | "M" | "MIN" | "MINS" | "MINUTES" => part("minute"),
        "SECOND" | "S" | "SEC" | "SECONDS" | "SECS" => Expr::Cast(Cast::new(
            Box::new(
                Expr::Cast(Cast::new(
                    Box::new(date_part(lit("microsecond"), source)),
                    DataType::Float64,
                )) / lit(1_000_000f64),
            ),
            DataType::Decimal128(8, 6),
        )),
        other => {
            return Err(SparkError::analysis(
                "INVALID_EXTRACT_FIELD",
                format!("[INVALID_EXTRACT_FIELD] Cannot extract {other} from {source}."),
            ));
        }
    })
}

/// `to_timestamp(value [, format])` as Spark's TIMESTAMP: text without a zone is a time in
/// the session's zone (text with one keeps it); a date or timestamp is cast.
fn session_timestamp(scope: &Scope<'_>, name: &str, args: &[Expr]) -> ConnectResult<Expr> {
    let zoned = DataType::Timestamp(TimeUnit::Microsecond, Some(scope.time_zone.into()));
    Ok(match args {
        [value] => Expr::Cast(Cast::new(Box::new(value.clone()), zoned)),
        // The format reads a wall-clock time in the session's zone.
        [value, format] => ember_functions::parse_timestamp_in_zone(
            value.clone(),
            java_format(format)?,
            scope.time_zone,
        ),
        _ => return Err(wrong_arguments(name, args, "1 or 2")),
    })
}

/// A Java date pattern (`yyyy-MM-dd HH:mm:ss`) in chrono's terms (`%Y-%m-%d %H:%M:%S`):
/// converted now when it is a literal, row by row when it is a column.
fn java_format(pattern: &Expr) -> ConnectResult<Expr> {
    Ok(match pattern {
        Expr::Literal(ScalarValue::Utf8(Some(text)), _) => {
            lit(ember_functions::java_to_chrono(text))
        }
        column => ember_functions::chrono_pattern_of(column.clone()),
    })
}
