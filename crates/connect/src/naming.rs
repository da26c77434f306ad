//! The names Spark gives unnamed result columns (`sum(price)`, `(a + 1)`, `CAST(x AS INT)`),
//! so `row["sum(price)"]` finds what it finds on Spark.

use datafusion::logical_expr::Expr;
use spark_connect_proto::Expression;
use spark_connect_proto::expression::ExprType;
use spark_connect_proto::expression::cast::CastToType;
use spark_connect_proto::expression::literal::LiteralType;

use crate::expr::split_identifier;

const BINARY: &[(&str, &str)] = &[
    ("+", "+"),
    ("-", "-"),
    ("*", "*"),
    ("/", "/"),
    ("%", "%"),
    ("==", "="),
    ("!=", "!="),
    ("<", "<"),
    ("<=", "<="),
    (">", ">"),
    (">=", ">="),
    ("<=>", "<=>"),
    ("and", "AND"),
    ("or", "OR"),
    ("&", "&"),
    ("|", "|"),
    ("^", "^"),
];

/// Functions whose Spark expression has an upper-case pretty name (Spark's math expressions
/// are built with it: `Acos` is `UnaryMathExpression(math.acos, "ACOS")`).
const UPPER_CASE_NAMES: &[(&str, &str)] = &[
    ("acos", "ACOS"),
    ("acosh", "ACOSH"),
    ("asin", "ASIN"),
    ("asinh", "ASINH"),
    ("atan", "ATAN"),
    ("atanh", "ATANH"),
    ("atan2", "ATAN2"),
    ("cbrt", "CBRT"),
    ("cos", "COS"),
    ("cosh", "COSH"),
    ("cot", "COT"),
    ("csc", "CSC"),
    ("sec", "SEC"),
    ("degrees", "DEGREES"),
    ("radians", "RADIANS"),
    ("exp", "EXP"),
    ("expm1", "EXPM1"),
    ("log10", "LOG10"),
    ("log2", "LOG2"),
    ("log1p", "LOG1P"),
    ("sin", "SIN"),
    ("sinh", "SINH"),
    ("sqrt", "SQRT"),
    ("tan", "TAN"),
    ("tanh", "TANH"),
    ("signum", "SIGNUM"),
    ("power", "POWER"),
    ("hypot", "HYPOT"),
    ("ceil", "CEIL"),
    ("floor", "FLOOR"),
    ("regexp", "REGEXP"),
    ("regexp_like", "REGEXP_LIKE"),
    ("e", "E"),
    ("pi", "PI"),
    ("spark_partition_id", "SPARK_PARTITION_ID"),
];

/// Spark aliases whose result column shows the function's own name.
const CANONICAL_NAMES: &[(&str, &str)] = &[
    ("dateadd", "date_add"),
    ("current_database", "current_schema"),
];

/// Optional arguments Spark fills in before naming the column: a function called with
/// `given` arguments shows these after them (`hll_sketch_agg(value, 12)`).
const DEFAULT_ARGUMENTS: &[(&str, usize, &[&str])] = &[
    ("position", 2, &["1"]),
    ("locate", 2, &["1"]),
    ("mask", 1, &["X", "x", "n", "NULL"]),
    ("sentences", 1, &["", ""]),
    ("split", 2, &["-1"]),
    ("sort_array", 1, &["true"]),
    ("str_to_map", 1, &[",", ":"]),
    ("overlay", 3, &["-1"]),
    ("bround", 1, &["0"]),
    ("round", 1, &["0"]),
    ("regexp_extract", 2, &["1"]),
    ("unix_timestamp", 1, &["yyyy-MM-dd HH:mm:ss"]),
    ("from_unixtime", 1, &["yyyy-MM-dd HH:mm:ss"]),
    ("substr", 2, &["2147483647"]),
    ("substring", 2, &["2147483647"]),
    ("to_unix_timestamp", 1, &["yyyy-MM-dd HH:mm:ss"]),
    ("regexp_extract_all", 2, &["1"]),
    ("regexp_instr", 2, &["0"]),
    ("regexp_replace", 3, &["1"]),
    ("months_between", 2, &["true"]),
    ("listagg", 1, &["NULL"]),
    ("string_agg", 1, &["NULL"]),
    ("hll_sketch_agg", 1, &["12"]),
    ("hll_union", 2, &["false"]),
    ("hll_union_agg", 1, &["false"]),
    ("theta_sketch_agg", 1, &["12"]),
    ("theta_union", 2, &["12"]),
    ("theta_union_agg", 1, &["12"]),
    ("tuple_sketch_agg_double", 2, &["12", "sum"]),
    ("tuple_sketch_agg_integer", 2, &["12", "sum"]),
    ("tuple_union_agg_double", 1, &["12", "sum"]),
    ("tuple_union_agg_integer", 1, &["12", "sum"]),
    ("tuple_intersection_agg_double", 1, &["sum"]),
    ("tuple_intersection_agg_integer", 1, &["sum"]),
    ("tuple_sketch_summary_double", 1, &["sum"]),
    ("tuple_sketch_summary_integer", 1, &["sum"]),
    ("tuple_union_double", 2, &["12", "sum"]),
    ("tuple_union_integer", 2, &["12", "sum"]),
    ("tuple_union_theta_double", 2, &["12", "sum"]),
    ("tuple_union_theta_integer", 2, &["12", "sum"]),
    ("tuple_intersection_double", 2, &["sum"]),
    ("tuple_intersection_integer", 2, &["sum"]),
    ("tuple_intersection_theta_double", 2, &["sum"]),
    ("tuple_intersection_theta_integer", 2, &["sum"]),
];

/// Marks a repeated output name inside a plan. Spark allows a select to repeat a name
/// (`select(a, a)`, two `from_json(value)` calls); DataFusion needs unique names, so a repeat
/// is planned as `name<mark>n` and clients are shown the name before the mark.
const REPEAT_MARK: char = '\u{1f}';

/// The name a client sees for a column of a plan.
pub fn client_name(name: &str) -> &str {
    name.split(REPEAT_MARK).next().unwrap_or(name)
}

/// The plan name of the `count`-th use of output name `name` (see [`client_name`]).
pub(crate) fn repeated_name(name: &str, count: usize) -> String {
    format!("{name}{REPEAT_MARK}{count}")
}

/// `exprs` with every repeated output name marked apart (see [`client_name`]).
pub fn with_unique_names(exprs: Vec<Expr>) -> Vec<Expr> {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    exprs
        .into_iter()
        .map(|e| {
            let Ok(name) = e.name_for_alias() else {
                return e;
            };
            let count = seen.entry(name.clone()).or_insert(0);
            *count += 1;
            if *count == 1 {
                e
            } else {
                e.unalias().alias(repeated_name(&name, *count))
            }
        })
        .collect()
}

/// [`spark_name`] where an unqualified `*` among a function's arguments stands for
/// `columns` (`hash(*)` is named `hash(a, b)`).
pub fn spark_name_expanding_stars(e: &Expression, columns: &[String]) -> String {
    let mut expanded = e.clone();
    expand_stars(&mut expanded, columns);
    spark_name(&expanded)
}

fn expand_stars(e: &mut Expression, columns: &[String]) {
    use spark_connect_proto::expression::UnresolvedAttribute;
    let arguments = match &mut e.expr_type {
        // `count(*)` is named `count(1)`, not after the columns.
        Some(ExprType::UnresolvedFunction(f)) if f.function_name.eq_ignore_ascii_case("count") => {
            return;
        }
        Some(ExprType::UnresolvedFunction(f)) => &mut f.arguments,
        Some(ExprType::CallFunction(f)) => &mut f.arguments,
        Some(ExprType::Alias(a)) => {
            if let Some(inner) = a.expr.as_deref_mut() {
                expand_stars(inner, columns);
            }
            return;
        }
        _ => return,
    };
    let mut out = Vec::with_capacity(arguments.len());
    for mut argument in std::mem::take(arguments) {
        match &argument.expr_type {
            Some(ExprType::UnresolvedStar(star)) if star.unparsed_target.is_none() => {
                out.extend(columns.iter().map(|c| Expression {
                    expr_type: Some(ExprType::UnresolvedAttribute(UnresolvedAttribute {
                        unparsed_identifier: c.clone(),
                        ..Default::default()
                    })),
                    ..Default::default()
                }));
            }
            _ => {
                expand_stars(&mut argument, columns);
                out.push(argument);
            }
        }
    }
    *arguments = out;
}

/// The name Spark gives `e` as a result column. A cast of a named column keeps the column's
/// name (`col("x").cast("int")` is `x`, as Spark's analyzer aliases it); deeper down a cast
/// is `CAST(x AS INT)`.
pub fn spark_name(e: &Expression) -> String {
    if let Some(ExprType::Cast(cast)) = &e.expr_type
        && let Some(child) = cast.expr.as_deref()
        && matches!(
            child.expr_type,
            Some(ExprType::UnresolvedAttribute(_) | ExprType::Alias(_))
        )
    {
        return expression_name(child);
    }
    expression_name(e)
}

fn expression_name(e: &Expression) -> String {
    let Some(kind) = &e.expr_type else {
        return String::new();
    };
    match kind {
        ExprType::Literal(l) => match &l.literal_type {
            Some(LiteralType::String(s)) => s.clone(),
            Some(LiteralType::Integer(v)) => v.to_string(),
            Some(LiteralType::Long(v)) => v.to_string(),
            Some(LiteralType::Short(v)) | Some(LiteralType::Byte(v)) => v.to_string(),
            Some(LiteralType::Double(v)) => format!("{v:?}"),
            Some(LiteralType::Float(v)) => format!("{v:?}"),
            Some(LiteralType::Boolean(b)) => b.to_string(),
            Some(LiteralType::Decimal(d)) => d.value.clone(),
            Some(LiteralType::Null(_)) => "NULL".into(),
            Some(LiteralType::Binary(bytes)) => {
                let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
                format!("X'{hex}'")
            }
            Some(LiteralType::Date(days)) => {
                datafusion::arrow::temporal_conversions::date32_to_datetime(*days)
                    .map(|d| format!("DATE '{}'", d.format("%Y-%m-%d")))
                    .unwrap_or_else(|| "literal".into())
            }
            _ => "literal".into(),
        },
        ExprType::UnresolvedAttribute(a) => split_identifier(&a.unparsed_identifier)
            .pop()
            .unwrap_or_default(),
        ExprType::Alias(a) => a.name.first().cloned().unwrap_or_default(),
        ExprType::ExpressionString(s) => {
            crate::sql_naming::name_of_text(&s.expression).unwrap_or_else(|| s.expression.clone())
        }
        ExprType::UnresolvedStar(_) => "*".into(),
        ExprType::Cast(c) => {
            let inner = c.expr.as_deref().map(expression_name).unwrap_or_default();
            let target = match &c.cast_to_type {
                Some(CastToType::TypeStr(s)) => s.to_uppercase(),
                Some(CastToType::Type(t)) => crate::types::to_arrow(t, "UTC")
                    .map(|t| crate::types::simple_string(&t).to_uppercase())
                    .unwrap_or_default(),
                None => String::new(),
            };
            format!("CAST({inner} AS {target})")
        }
        ExprType::SortOrder(o) => o.child.as_deref().map(expression_name).unwrap_or_default(),
        ExprType::UnresolvedFunction(f) => {
            function_name(&f.function_name, &f.arguments, f.is_distinct)
        }
        ExprType::CallFunction(f) => function_name(&f.function_name, &f.arguments, false),
        ExprType::Window(w) => w
            .window_function
            .as_deref()
            .map(expression_name)
            .unwrap_or_default(),
        ExprType::UnresolvedExtractValue(x) => format!(
            "{}[{}]",
            x.child.as_deref().map(expression_name).unwrap_or_default(),
            x.extraction
                .as_deref()
                .map(expression_name)
                .unwrap_or_default()
        ),
        _ => "expr".into(),
    }
}

fn function_name(name: &str, args: &[Expression], distinct: bool) -> String {
    call_name(name, args.iter().map(expression_name).collect(), distinct)
}

/// The name Spark gives a call of function `name` whose arguments are named `names`.
pub(crate) fn call_name(name: &str, mut names: Vec<String>, distinct: bool) -> String {
    let lower = name.to_ascii_lowercase();
    if let Some((_, given, defaults)) = DEFAULT_ARGUMENTS.iter().find(|(n, _, _)| *n == lower)
        && names.len() >= *given
    {
        let missing = defaults.iter().skip(names.len() - given);
        names.extend(missing.map(|d| d.to_string()));
    }
    if let Some((_, op)) = BINARY.iter().find(|(n, _)| *n == lower)
        && names.len() == 2
    {
        return format!("({} {op} {})", names[0], names[1]);
    }
    match (lower.as_str(), names.as_slice()) {
        ("not", [a]) => format!("(NOT {a})"),
        ("-", [a]) => format!("(- {a})"),
        ("if", [c, a, b]) => format!("(IF({c}, {a}, {b}))"),
        // Casts written as type functions (`double('NaN')`) are named by their argument.
        (
            "boolean" | "tinyint" | "smallint" | "int" | "bigint" | "float" | "double" | "decimal"
            | "string" | "binary" | "date" | "timestamp",
            [a],
        ) => a.clone(),
        ("between", [a, low, high]) => format!("between({a}, {low}, {high})"),
        ("~", [a]) => format!("~{a}"),
        ("ltrim", [trim, a]) => format!("TRIM(LEADING {trim} FROM {a})"),
        ("rtrim", [trim, a]) => format!("TRIM(TRAILING {trim} FROM {a})"),
        ("trim", [trim, a]) => format!("TRIM(BOTH {trim} FROM {a})"),
        ("isnull", [a]) => format!("({a} IS NULL)"),
        ("isnotnull", [a]) => format!("({a} IS NOT NULL)"),
        ("in", [a, rest @ ..]) => format!("({a} IN ({}))", rest.join(", ")),
        ("like", [a, b]) => format!("{a} LIKE {b}"),
        ("rlike", [a, b]) => format!("RLIKE({a}, {b})"),
        ("when", _) => {
            let mut text = String::from("CASE");
            let mut chunks = names.chunks_exact(2);
            for pair in &mut chunks {
                text.push_str(&format!(" WHEN {} THEN {}", pair[0], pair[1]));
            }
            if let Some(otherwise) = chunks.remainder().first() {
                text.push_str(&format!(" ELSE {otherwise}"));
            }
            text.push_str(" END");
            text
        }
        ("count", [star]) if star == "*" => "count(1)".into(),
        // PySpark sends `ignorenulls`; Spark's name leaves it out.
        ("first" | "last" | "first_value" | "last_value" | "any_value", [a, flag])
            if flag == "true" || flag == "false" =>
        {
            format!("{lower}({a})")
        }
        // Spark names these after their input alone; the schema and options stay out.
        (
            "from_json" | "to_json" | "schema_of_json" | "from_csv" | "to_csv" | "schema_of_csv"
            | "from_xml" | "to_xml" | "schema_of_xml",
            [a, ..],
        ) => format!("{lower}({a})"),
        // Spark's name for the seven-argument form leaves the time zone out.
        ("try_make_timestamp", [fields @ .., _zone]) if fields.len() == 6 => {
            format!("try_make_timestamp({})", fields.join(", "))
        }
        ("positive", [a]) => format!("(+ {a})"),
        ("log", [a]) => format!("ln({a})"),
        ("log", [base, a]) => format!("LOG({base}, {a})"),
        // With a scale Spark's ceil and floor are other expressions, with lower-case names.
        ("ceil" | "ceiling" | "floor", [a, b]) => format!("{lower}({a}, {b})"),
        ("assert_true", [c]) => format!("assert_true({c}, '{c}' is not true!)"),
        // PySpark always sends `deterministic`; Spark names the deterministic form after the
        // ordered-set aggregate it becomes.
        ("mode", [a, flag]) if flag == "false" => format!("mode({a})"),
        ("mode", [a, flag]) if flag == "true" => {
            format!("mode() WITHIN GROUP (ORDER BY {a} DESC)")
        }
        _ => {
            let shown = match lower.as_str() {
                "countdistinct" | "count_distinct" => "count".to_string(),
                "mean" => "avg".to_string(),
                other => UPPER_CASE_NAMES
                    .iter()
                    .chain(CANONICAL_NAMES)
                    .find(|(n, _)| *n == other)
                    // Spark's built-in functions show lower-case names (`startsWith` from
                    // `Column.startswith` is `startswith`).
                    .map_or_else(|| lower.clone(), |(_, shown)| shown.to_string()),
            };
            let distinct = if distinct || lower == "countdistinct" || lower == "count_distinct" {
                "DISTINCT "
            } else {
                ""
            };
            format!("{shown}({distinct}{})", names.join(", "))
        }
    }
}
