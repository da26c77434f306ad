//! Names for SQL expressions: the unaliased select items of `spark.sql` and the text of
//! `selectExpr("age * 2")` and `expr("…")`. Spark names them from the parsed expression, not
//! the text (`(age * 2)`, `CASE WHEN (d > 0) THEN pos END`, `CEIL(x)`), and never with a table
//! qualifier, so the parsed SQL is named here and each unaliased select item is given its
//! name as an alias before DataFusion plans it. Calls are named by the same rules as the
//! DataFrame API's (`naming::call_name`); a form without a rule keeps DataFusion's name.

use std::collections::HashMap;
use std::ops::ControlFlow;

use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{
    self, AccessExpr, BinaryOperator, CastKind, CeilFloorKind, Expr, FunctionArg, FunctionArgExpr,
    FunctionArguments, Ident, Query, SelectItem, SetExpr, Subscript, TableFactor, TrimWhereField,
    UnaryOperator, Value, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::dialect_from_str;
use datafusion::sql::sqlparser::parser::Parser;

use crate::naming::{call_name, repeated_name};

/// The name Spark gives the SQL expression `text` as a result column.
pub fn name_of_text(text: &str) -> Option<String> {
    let dialect = dialect_from_str("spark")?;
    let expr = Parser::new(dialect.as_ref())
        .try_with_sql(text)
        .ok()?
        .parse_expr()
        .ok()?;
    column_name(&expr).or_else(|| result_name(&expr, &[]))
}

/// The name of a (possibly qualified) column reference: its last part.
fn column_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Identifier(ident) => Some(ident.value.clone()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|p| p.value.clone()),
        _ => None,
    }
}

/// Gives every unaliased select item of `statement`'s queries Spark's name for it, marking
/// repeated names apart as the DataFrame API does (`naming::client_name`).
pub fn name_projections(statement: &mut Statement) {
    if let Statement::Statement(ast) = statement {
        let _ = ast.visit(&mut ProjectionNamer);
    }
}

struct ProjectionNamer;

impl VisitorMut for ProjectionNamer {
    type Break = ();

    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        name_body(&mut query.body);
        ControlFlow::Continue(())
    }
}

fn name_body(body: &mut SetExpr) {
    match body {
        SetExpr::Select(select) => {
            let relations = relation_names(&select.from);
            let mut seen: HashMap<String, usize> = HashMap::new();
            for item in &mut select.projection {
                let SelectItem::UnnamedExpr(expr) = item else {
                    if let SelectItem::ExprWithAlias { alias, .. } = item {
                        *seen.entry(alias.value.to_lowercase()).or_insert(0) += 1;
                    }
                    continue;
                };
                let column = column_name(expr);
                let Some(name) = column.clone().or_else(|| result_name(expr, &relations)) else {
                    continue;
                };
                let count = seen.entry(name.to_lowercase()).or_insert(0);
                *count += 1;
                // A plain column keeps DataFusion's own name (and its qualifier) unless it
                // repeats one before it.
                if column.is_some() && *count == 1 {
                    continue;
                }
                let alias = if *count == 1 {
                    name
                } else {
                    repeated_name(&name, *count)
                };
                *item = SelectItem::ExprWithAlias {
                    expr: expr.clone(),
                    alias: Ident::with_quote('`', alias),
                };
            }
        }
        SetExpr::SetOperation { left, right, .. } => {
            name_body(left);
            name_body(right);
        }
        _ => {}
    }
}

/// The names a select's columns may be qualified with: its tables and their aliases.
fn relation_names(from: &[ast::TableWithJoins]) -> Vec<String> {
    let mut names = Vec::new();
    let mut add = |factor: &TableFactor| match factor {
        TableFactor::Table { name, alias, .. } => {
            if let Some(last) = name.0.last().and_then(|p| p.as_ident()) {
                names.push(last.value.to_lowercase());
            }
            if let Some(alias) = alias {
                names.push(alias.name.value.to_lowercase());
            }
        }
        TableFactor::Derived {
            alias: Some(alias), ..
        }
        | TableFactor::TableFunction {
            alias: Some(alias), ..
        }
        | TableFactor::Function {
            alias: Some(alias), ..
        } => names.push(alias.name.value.to_lowercase()),
        _ => {}
    };
    for table in from {
        add(&table.relation);
        for join in &table.joins {
            add(&join.relation);
        }
    }
    names
}

/// The name of `expr` as a whole result column: a struct field or a cast column is named
/// after the field or column alone.
fn result_name(expr: &Expr, relations: &[String]) -> Option<String> {
    let namer = Namer {
        relations,
        lambda_variables: Vec::new(),
    };
    match expr {
        Expr::Cast { expr: inner, .. } => column_name(inner).or_else(|| namer.name(expr)),
        Expr::CompoundFieldAccess { access_chain, .. } => match access_chain.last() {
            Some(AccessExpr::Dot(Expr::Identifier(field))) => Some(field.value.clone()),
            _ => namer.name(expr),
        },
        Expr::Nested(inner) => result_name(inner, relations),
        _ => namer.name(expr),
    }
}

struct Namer<'a> {
    relations: &'a [String],
    lambda_variables: Vec<String>,
}

impl Namer<'_> {
    fn names(&self, exprs: &[Expr]) -> Option<Vec<String>> {
        exprs.iter().map(|e| self.name(e)).collect()
    }

    fn boxed(&self, e: &Option<Box<Expr>>) -> Option<Option<String>> {
        match e {
            Some(e) => Some(Some(self.name(e)?)),
            None => Some(None),
        }
    }

    /// The name of `e` inside a larger expression.
    fn name(&self, e: &Expr) -> Option<String> {
        Some(match e {
            Expr::Identifier(ident) => {
                if self.lambda_variables.contains(&ident.value) {
                    "namedlambdavariable()".into()
                } else {
                    ident.value.clone()
                }
            }
            Expr::CompoundIdentifier(parts) => {
                let skip = usize::from(
                    parts.len() > 1 && self.relations.contains(&parts[0].value.to_lowercase()),
                );
                parts[skip..]
                    .iter()
                    .map(|p| p.value.as_str())
                    .collect::<Vec<_>>()
                    .join(".")
            }
            Expr::Nested(inner) => self.name(inner)?,
            Expr::Value(value) => literal_name(&value.value)?,
            Expr::TypedString(typed) => {
                let text = match &typed.value.value {
                    Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.clone(),
                    _ => return None,
                };
                format!("{} '{text}'", typed.data_type.to_string().to_uppercase())
            }
            Expr::Interval(interval) => {
                let value = match interval.value.as_ref() {
                    Expr::Value(v) => match &v.value {
                        Value::Number(n, _) => n.clone(),
                        Value::SingleQuotedString(s) => s.clone(),
                        _ => return None,
                    },
                    _ => return None,
                };
                let mut text = format!("INTERVAL '{value}'");
                if let Some(field) = &interval.leading_field {
                    text.push_str(&format!(" {}", field.to_string().to_uppercase()));
                }
                if let Some(field) = &interval.last_field {
                    text.push_str(&format!(" TO {}", field.to_string().to_uppercase()));
                }
                text
            }
            Expr::BinaryOp { left, op, right } => self.binary(left, op, right)?,
            Expr::UnaryOp { op, expr } => {
                let inner = self.name(expr)?;
                match op {
                    UnaryOperator::Minus if is_number(expr) => format!("-{inner}"),
                    UnaryOperator::Minus => format!("(- {inner})"),
                    UnaryOperator::Plus => format!("(+ {inner})"),
                    UnaryOperator::Not => format!("(NOT {inner})"),
                    UnaryOperator::BitwiseNot => {
                        format!("~{inner}")
                    }
                    _ => return None,
                }
            }
            Expr::IsNull(e) => format!("({} IS NULL)", self.name(e)?),
            Expr::IsNotNull(e) => format!("({} IS NOT NULL)", self.name(e)?),
            Expr::IsTrue(e) => format!("({} <=> true)", self.name(e)?),
            Expr::IsNotTrue(e) => format!("(NOT ({} <=> true))", self.name(e)?),
            Expr::IsFalse(e) => format!("({} <=> false)", self.name(e)?),
            Expr::IsNotFalse(e) => format!("(NOT ({} <=> false))", self.name(e)?),
            Expr::IsNotDistinctFrom(a, b) => format!("({} <=> {})", self.name(a)?, self.name(b)?),
            Expr::IsDistinctFrom(a, b) => {
                format!("(NOT ({} <=> {}))", self.name(a)?, self.name(b)?)
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                let text = format!(
                    "({} IN ({}))",
                    self.name(expr)?,
                    self.names(list)?.join(", ")
                );
                negate(text, *negated)
            }
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => negate(
                call_name(
                    "between",
                    vec![self.name(expr)?, self.name(low)?, self.name(high)?],
                    false,
                ),
                *negated,
            ),
            Expr::Like {
                negated,
                expr,
                pattern,
                escape_char,
                any: false,
            } => {
                let mut text = format!("{} LIKE {}", self.name(expr)?, self.name(pattern)?);
                if let Some(escape) = escape_char {
                    text.push_str(&format!(" ESCAPE '{}'", literal_name(&escape.value)?));
                }
                negate(text, *negated)
            }
            Expr::ILike {
                negated,
                expr,
                pattern,
                escape_char: None,
                any: false,
            } => negate(
                format!("ilike({}, {})", self.name(expr)?, self.name(pattern)?),
                *negated,
            ),
            Expr::RLike {
                negated,
                expr,
                pattern,
                regexp,
            } => {
                let keyword = if *regexp { "REGEXP" } else { "RLIKE" };
                negate(
                    format!("{keyword}({}, {})", self.name(expr)?, self.name(pattern)?),
                    *negated,
                )
            }
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                let operand = self.boxed(operand)?;
                let mut text = String::from("CASE");
                for when in conditions {
                    let condition = self.name(&when.condition)?;
                    let condition = match &operand {
                        Some(operand) => format!("({operand} = {condition})"),
                        None => condition,
                    };
                    text.push_str(&format!(
                        " WHEN {condition} THEN {}",
                        self.name(&when.result)?
                    ));
                }
                if let Some(otherwise) = self.boxed(else_result)? {
                    text.push_str(&format!(" ELSE {otherwise}"));
                }
                text.push_str(" END");
                text
            }
            Expr::Cast {
                kind,
                expr,
                data_type,
                format: None,
                ..
            } => {
                if let Some(typed) = typed_literal_name(expr, data_type) {
                    return Some(typed);
                }
                let keyword = match kind {
                    CastKind::TryCast | CastKind::SafeCast => "TRY_CAST",
                    CastKind::Cast | CastKind::DoubleColon => "CAST",
                };
                format!(
                    "{keyword}({} AS {})",
                    self.name(expr)?,
                    data_type.to_string().to_uppercase()
                )
            }
            Expr::Extract { field, expr, .. } => {
                format!(
                    "extract({} FROM {})",
                    field.to_string().to_uppercase(),
                    self.name(expr)?
                )
            }
            Expr::Ceil { expr, field } | Expr::Floor { expr, field } => {
                let function = if matches!(e, Expr::Ceil { .. }) {
                    "ceil"
                } else {
                    "floor"
                };
                let mut names = vec![self.name(expr)?];
                match field {
                    CeilFloorKind::Scale(scale) => names.push(literal_name(&scale.value)?),
                    CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime) => {}
                    CeilFloorKind::DateTimeField(_) => return None,
                }
                call_name(function, names, false)
            }
            Expr::Position { expr, r#in } => {
                call_name("position", vec![self.name(expr)?, self.name(r#in)?], false)
            }
            Expr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                let mut names = vec![self.name(expr)?];
                names.extend(self.boxed(substring_from)?);
                names.extend(self.boxed(substring_for)?);
                call_name("substring", names, false)
            }
            Expr::Trim {
                trim_where,
                trim_what,
                expr,
                trim_characters: None,
            } => {
                let function = match trim_where {
                    Some(TrimWhereField::Leading) => "ltrim",
                    Some(TrimWhereField::Trailing) => "rtrim",
                    Some(TrimWhereField::Both) | None => "trim",
                };
                let mut names: Vec<String> = self.boxed(trim_what)?.into_iter().collect();
                names.push(self.name(expr)?);
                call_name(function, names, false)
            }
            Expr::Overlay {
                expr,
                overlay_what,
                overlay_from,
                overlay_for,
            } => {
                let mut names = vec![
                    self.name(expr)?,
                    self.name(overlay_what)?,
                    self.name(overlay_from)?,
                ];
                names.extend(self.boxed(overlay_for)?);
                call_name("overlay", names, false)
            }
            Expr::Array(array) => call_name("array", self.names(&array.elem)?, false),
            Expr::CompoundFieldAccess { root, access_chain } => {
                let mut text = self.name(root)?;
                for access in access_chain {
                    match access {
                        AccessExpr::Dot(Expr::Identifier(field)) => {
                            text.push('.');
                            text.push_str(&field.value);
                        }
                        AccessExpr::Subscript(Subscript::Index { index }) => {
                            text.push_str(&format!("[{}]", self.name(index)?));
                        }
                        _ => return None,
                    }
                }
                text
            }
            Expr::Function(function) => self.function(function)?,
            _ => return None,
        })
    }

    fn binary(&self, left: &Expr, op: &BinaryOperator, right: &Expr) -> Option<String> {
        let (a, b) = (self.name(left)?, self.name(right)?);
        let symbol = match op {
            // Date and timestamp arithmetic with an interval has no parentheses in Spark.
            BinaryOperator::Plus | BinaryOperator::Minus
                if matches!(left, Expr::Interval(_)) || matches!(right, Expr::Interval(_)) =>
            {
                let symbol = if *op == BinaryOperator::Plus {
                    "+"
                } else {
                    "-"
                };
                return Some(format!("{a} {symbol} {b}"));
            }
            BinaryOperator::NotEq => return Some(format!("(NOT ({a} = {b}))")),
            BinaryOperator::StringConcat => return Some(call_name("concat", vec![a, b], false)),
            BinaryOperator::Plus => "+",
            BinaryOperator::Minus => "-",
            BinaryOperator::Multiply => "*",
            BinaryOperator::Divide => "/",
            BinaryOperator::Modulo => "%",
            BinaryOperator::MyIntegerDivide => "div",
            BinaryOperator::Eq => "=",
            BinaryOperator::Lt => "<",
            BinaryOperator::LtEq => "<=",
            BinaryOperator::Gt => ">",
            BinaryOperator::GtEq => ">=",
            BinaryOperator::Spaceship => "<=>",
            BinaryOperator::And => "AND",
            BinaryOperator::Or => "OR",
            BinaryOperator::BitwiseAnd => "&",
            BinaryOperator::BitwiseOr => "|",
            BinaryOperator::BitwiseXor => "^",
            _ => return None,
        };
        Some(format!("({a} {symbol} {b})"))
    }

    fn function(&self, function: &ast::Function) -> Option<String> {
        if function.over.is_some() || !function.within_group.is_empty() {
            return None;
        }
        let name = function
            .name
            .0
            .last()?
            .as_ident()?
            .value
            .to_ascii_lowercase();
        let (names, distinct) = match &function.args {
            FunctionArguments::None => (Vec::new(), false),
            FunctionArguments::List(list) if list.clauses.is_empty() => {
                let distinct = matches!(
                    list.duplicate_treatment,
                    Some(ast::DuplicateTreatment::Distinct)
                );
                let names = list
                    .args
                    .iter()
                    .map(|argument| match argument {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Lambda(lambda))) => {
                            self.lambda(lambda)
                        }
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => self.name(e),
                        FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => Some("*".into()),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()?;
                (names, distinct)
            }
            _ => return None,
        };
        let mut text = call_name(&name, names, distinct);
        if let Some(filter) = &function.filter {
            text.push_str(&format!(" FILTER (WHERE {})", self.name(filter)?));
        }
        Some(text)
    }

    /// Spark names a lambda by its body with every variable as `namedlambdavariable()`.
    fn lambda(&self, lambda: &ast::LambdaFunction) -> Option<String> {
        let params: Vec<String> = lambda.params.iter().map(|p| p.name.value.clone()).collect();
        let mut inner = Namer {
            relations: self.relations,
            lambda_variables: self.lambda_variables.clone(),
        };
        inner.lambda_variables.extend(params.iter().cloned());
        let body = inner.name(&lambda.body)?;
        let variables = vec!["namedlambdavariable()"; params.len()].join(", ");
        Some(format!("lambdafunction({body}, {variables})"))
    }
}

fn negate(text: String, negated: bool) -> String {
    if negated {
        format!("(NOT {text})")
    } else {
        text
    }
}

fn is_number(e: &Expr) -> bool {
    match e {
        Expr::Value(v) => matches!(v.value, Value::Number(..)),
        Expr::Cast { expr, .. } => is_number(expr),
        _ => false,
    }
}

/// A literal as Spark shows it in a name: strings bare, numbers as their value's text.
fn literal_name(value: &Value) -> Option<String> {
    Some(match value {
        Value::Number(text, _) => number_name(text),
        Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.clone(),
        Value::Boolean(b) => b.to_string(),
        Value::Null => "NULL".into(),
        Value::HexStringLiteral(hex) => format!("X'{}'", hex.to_uppercase()),
        _ => return None,
    })
}

/// A number literal's name: integers and decimals as written, exponent forms (doubles) as
/// Java prints a double.
fn number_name(text: &str) -> String {
    if text.contains(['e', 'E'])
        && let Ok(value) = text.parse::<f64>()
    {
        return ember_functions::double_text(value);
    }
    text.to_string()
}

/// Spark's typed number literals (`1L`, `0D`, `1.5BD`) reach the parser as casts of a number
/// (`ember_sql::rewrite_typed_literals`); Spark names them by their value.
fn typed_literal_name(expr: &Expr, data_type: &ast::DataType) -> Option<String> {
    let Expr::Value(value) = expr else {
        return None;
    };
    let Value::Number(text, _) = &value.value else {
        return None;
    };
    use ast::DataType as T;
    Some(match data_type {
        T::BigInt(_) | T::SmallInt(_) | T::TinyInt(_) => text.clone(),
        T::Double(_) | T::DoublePrecision => ember_functions::double_text(text.parse().ok()?),
        T::Float(_) => ember_functions::float_text(text.parse().ok()?),
        T::Decimal(_) => text.clone(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> String {
        name_of_text(text).unwrap_or_else(|| text.to_string())
    }

    #[test]
    fn sql_text_is_named_like_spark_names_the_parsed_expression() {
        assert_eq!(name("age * 2"), "(age * 2)");
        assert_eq!(name("abs(age)"), "abs(age)");
        assert_eq!(name("(a + 1) > b AND NOT c"), "(((a + 1) > b) AND (NOT c))");
        assert_eq!(name("count(*)"), "count(1)");
        assert_eq!(name("COUNT(DISTINCT name)"), "count(DISTINCT name)");
        assert_eq!(name("ACOS(x)"), "ACOS(x)");
        assert_eq!(name("x BETWEEN -1 AND 2"), "between(x, -1, 2)");
        assert_eq!(name("a != b"), "(NOT (a = b))");
        assert_eq!(name("b IS TRUE"), "(b <=> true)");
        assert_eq!(name("x IN (1, 7)"), "(x IN (1, 7))");
        assert_eq!(
            name("CASE WHEN d > 0 THEN 'pos' ELSE 'zero' END"),
            "CASE WHEN (d > 0) THEN pos ELSE zero END"
        );
        assert_eq!(
            name("CASE x WHEN 1 THEN 'a' END"),
            "CASE WHEN (x = 1) THEN a END"
        );
        assert_eq!(name("s || 'x'"), "concat(s, x)");
        assert_eq!(name("f * 1e300"), "(f * 1.0E300)");
        assert_eq!(name("d + 0.001"), "(d + 0.001)");
        assert_eq!(name("cast(x AS int)"), "x");
        assert_eq!(name("hex(cast(d AS bigint))"), "hex(CAST(d AS BIGINT))");
        assert_eq!(name("st.x"), "x");
        assert_eq!(name("m['a']"), "m[a]");
        assert_eq!(name("ts + INTERVAL 1 DAY"), "ts + INTERVAL '1' DAY");
        assert_eq!(name("dt > DATE '2000-01-01'"), "(dt > DATE '2000-01-01')");
        assert_eq!(name("n RLIKE '^[A-Z]'"), "RLIKE(n, ^[A-Z])");
        assert_eq!(name("substring(n, -3)"), "substring(n, -3, 2147483647)");
        assert_eq!(
            name("transform(arr, x -> x + 1)"),
            "transform(arr, lambdafunction((namedlambdavariable() + 1), namedlambdavariable()))"
        );
        // Forms without a rule keep their text.
        assert_eq!(name("x IN (SELECT 1)"), "x IN (SELECT 1)");
    }

    fn projection_names(sql: &str) -> Vec<String> {
        let dialect = dialect_from_str("spark").expect("spark dialect");
        let parsed = Parser::parse_sql(dialect.as_ref(), sql).expect("parses");
        let mut statement = Statement::Statement(Box::new(parsed[0].clone()));
        name_projections(&mut statement);
        let Statement::Statement(ast) = statement else {
            unreachable!()
        };
        let ast::Statement::Query(query) = *ast else {
            panic!("not a query")
        };
        let SetExpr::Select(select) = *query.body else {
            panic!("not a select")
        };
        select
            .projection
            .iter()
            .map(|item| match item {
                SelectItem::ExprWithAlias { alias, .. } => alias.value.clone(),
                other => other.to_string(),
            })
            .collect()
    }

    #[test]
    fn select_items_are_aliased_with_spark_names_without_table_qualifiers() {
        assert_eq!(
            projection_names("SELECT -t.d, t.a, t.a + 1 AS x, upper(t.s), a FROM t"),
            vec![
                "(- d)".to_string(),
                "t.a".into(),
                "x".into(),
                "upper(s)".into(),
                crate::naming::repeated_name("a", 2),
            ]
        );
    }
}
