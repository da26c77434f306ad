//! Spark Connect expressions as DataFusion expressions, resolved against the schema of the
//! relation they apply to with Spark's rules: case-insensitive names, `t.col` qualifiers,
//! `df["col"]` pinned to the DataFrame it came from, `a.b` reaching into structs.

use std::collections::HashMap;

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Column, DFSchema, TableReference};
use datafusion::execution::SessionState;
use datafusion::functions::core::expr_fn::get_field;
use datafusion::logical_expr::expr::{Sort, WindowFunction, WindowFunctionParams};
use datafusion::logical_expr::{
    Cast, Expr, ExprSchemable, TryCast, WindowFrame, WindowFrameBound, WindowFrameUnits,
};
use datafusion::prelude::lit;
use datafusion::scalar::ScalarValue;
use spark_connect_proto::Expression;
use spark_connect_proto::expression::cast::{CastToType, EvalMode};
use spark_connect_proto::expression::sort_order::{NullOrdering, SortDirection};
use spark_connect_proto::expression::window::window_frame::frame_boundary::Boundary;
use spark_connect_proto::expression::window::window_frame::{FrameBoundary, FrameType};
use spark_connect_proto::expression::{ExprType, SortOrder};

use crate::error::{ConnectResult, SparkError};
use crate::{functions, lambda, literal, types};

/// What expressions are resolved against.
pub struct Scope<'a> {
    pub schema: &'a DFSchema,
    pub state: &'a SessionState,
    pub time_zone: &'a str,
    /// The qualifier each DataFrame's columns carry in this plan, by the DataFrame's plan id.
    pub plans: &'a HashMap<i64, TableReference>,
    /// The parameters of the lambdas around the expression being resolved, by name.
    pub lambda_variables: HashMap<String, FieldRef>,
}

impl Scope<'_> {
    /// Converts expressions of a select list; `*` and `t.*` expand to columns.
    pub fn exprs(&self, expressions: &[Expression]) -> ConnectResult<Vec<Expr>> {
        let mut out = Vec::with_capacity(expressions.len());
        for e in expressions {
            match &e.expr_type {
                Some(ExprType::UnresolvedStar(star)) => {
                    out.extend(self.star(star.unparsed_target.as_deref(), star.plan_id)?)
                }
                // `expr("*")` is the star too.
                Some(ExprType::ExpressionString(s)) if s.expression.trim() == "*" => {
                    out.extend(self.star(None, None)?)
                }
                _ => out.push(self.expr(e)?),
            }
        }
        Ok(out)
    }

    fn star(&self, target: Option<&str>, plan_id: Option<i64>) -> ConnectResult<Vec<Expr>> {
        let qualifier = match (target, plan_id.and_then(|id| self.plans.get(&id))) {
            (Some(target), _) => Some(
                target
                    .trim_end_matches(".*")
                    .trim_end_matches('*')
                    .trim_end_matches('.')
                    .to_string(),
            ),
            (None, Some(q)) => Some(q.table().to_string()),
            (None, None) => None,
        };
        let columns: Vec<Expr> = self
            .schema
            .iter()
            .filter(|(q, _)| match (&qualifier, q) {
                (None, _) => true,
                (Some(want), Some(q)) => q.table().eq_ignore_ascii_case(want),
                (Some(_), None) => false,
            })
            .map(|(q, f)| Expr::Column(Column::new(q.cloned(), f.name())))
            .collect();
        if columns.is_empty()
            && let Some(target) = &qualifier
            && let Ok(parent) = self.column(target, plan_id)
            && let Ok(DataType::Struct(fields)) = self.type_of(&parent)
        {
            // `s.*` of a struct column: its fields, under their own names.
            return Ok(fields
                .iter()
                .map(|f| get_field(parent.clone(), f.name().as_str()).alias(f.name()))
                .collect());
        }
        if columns.is_empty() && qualifier.is_some() {
            return Err(SparkError::analysis(
                "CANNOT_RESOLVE_STAR_EXPAND",
                format!(
                    "[CANNOT_RESOLVE_STAR_EXPAND] Cannot resolve `{}.*` given input columns {}.",
                    qualifier.unwrap_or_default(),
                    self.column_names().join(", ")
                ),
            ));
        }
        Ok(columns)
    }

    pub fn column_names(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    pub fn expr(&self, e: &Expression) -> ConnectResult<Expr> {
        let Some(expr_type) = &e.expr_type else {
            return Err(SparkError::invalid_plan("an expression without a kind"));
        };
        match expr_type {
            ExprType::Literal(l) => Ok(Expr::Literal(literal::to_scalar(l, self.time_zone)?, None)),
            ExprType::UnresolvedAttribute(a) => self.column(&a.unparsed_identifier, a.plan_id),
            ExprType::UnresolvedFunction(f) if lambda::takes_lambdas(&f.arguments) => {
                lambda::call(self, &f.function_name, &f.arguments)
            }
            ExprType::UnresolvedFunction(f) => {
                functions::call(self, &f.function_name, &f.arguments, f.is_distinct)
            }
            ExprType::UnresolvedNamedLambdaVariable(v) => lambda::variable(self, &v.name_parts),
            ExprType::LambdaFunction(_) => Err(SparkError::analysis(
                "INVALID_LAMBDA_FUNCTION_CALL",
                "[INVALID_LAMBDA_FUNCTION_CALL] A lambda function can only be an argument of a \
                 higher-order function such as `transform` or `filter`.",
            )),
            ExprType::CallFunction(f) => {
                functions::call(self, &f.function_name, &f.arguments, false)
            }
            ExprType::ExpressionString(s) => self.sql(&s.expression),
            ExprType::Alias(alias) => {
                let inner = self.required(alias.expr.as_deref(), "alias")?;
                match alias.name.as_slice() {
                    [name] => Ok(types::alias_with_spark_metadata(
                        inner,
                        name,
                        alias.metadata.as_ref(),
                    )),
                    _ => Err(SparkError::unsupported("aliases with several names")),
                }
            }
            ExprType::Cast(cast) => {
                let inner = self.required(cast.expr.as_deref(), "cast")?;
                let target = match &cast.cast_to_type {
                    Some(CastToType::Type(t)) => types::to_arrow(t, self.time_zone)?,
                    Some(CastToType::TypeStr(s)) => types::parse_type(s, self.time_zone)?,
                    None => return Err(SparkError::invalid_plan("a cast without a type")),
                };
                Ok(
                    match EvalMode::try_from(cast.eval_mode).unwrap_or(EvalMode::Unspecified) {
                        EvalMode::Try => Expr::TryCast(TryCast::new(Box::new(inner), target)),
                        _ => Expr::Cast(Cast::new(Box::new(inner), target)),
                    },
                )
            }
            ExprType::SortOrder(_) => Err(SparkError::analysis(
                "INVALID_SORT_ORDER",
                "a sort order (asc/desc) can only be used to sort",
            )),
            ExprType::UnresolvedExtractValue(extract) => {
                let child = self.required(extract.child.as_deref(), "extract")?;
                let key = self.required(extract.extraction.as_deref(), "extract")?;
                extract_value(self, child, key)
            }
            ExprType::Window(window) => self.window(window),
            ExprType::UpdateFields(update) => {
                let base = self.required(update.struct_expression.as_deref(), "withField")?;
                let value = match update.value_expression.as_deref() {
                    Some(v) => Some(self.expr(v)?),
                    None => None,
                };
                let path = split_identifier(&update.field_name);
                self.update_field(base, &path, value)
            }
            ExprType::UnresolvedStar(_) => Err(SparkError::analysis(
                "INVALID_USAGE_OF_STAR_OR_REGEX",
                "[INVALID_USAGE_OF_STAR_OR_REGEX] `*` can only be used in a select list or count(*).",
            )),
            ExprType::CommonInlineUserDefinedFunction(f) => Err(SparkError::unsupported(format!(
                "user-defined functions (`{}`): Ember runs no Python or JVM code",
                f.function_name
            ))),
            other => Err(SparkError::unsupported(format!(
                "the expression {}",
                expression_kind(other)
            ))),
        }
    }

    pub fn required(&self, e: Option<&Expression>, what: &str) -> ConnectResult<Expr> {
        match e {
            Some(e) => self.expr(e),
            None => Err(SparkError::invalid_plan(format!(
                "{what} is missing its expression"
            ))),
        }
    }

    /// A SQL expression (`selectExpr`, `expr()`, `filter("a > 1")`).
    pub fn sql(&self, text: &str) -> ConnectResult<Expr> {
        let text = ember_sql::rewrite_typed_literals(text);
        let expr = self
            .state
            .create_logical_expr(&text, self.schema)
            .map_err(SparkError::from)?;
        Ok(expr)
    }

    /// A column by name, with Spark's resolution rules.
    pub fn column(&self, identifier: &str, plan_id: Option<i64>) -> ConnectResult<Expr> {
        let parts = split_identifier(identifier);
        if parts.is_empty() {
            return Err(SparkError::invalid_plan("an empty column name"));
        }
        // `df["col"]`: the column of that DataFrame, even when other inputs share its name.
        if let Some(qualifier) = plan_id.and_then(|id| self.plans.get(&id))
            && let Some(expr) = self.find(Some(qualifier), &parts[0])?
        {
            return Ok(nest(expr, &parts[1..]));
        }
        let full = parts.join(".");
        if parts.len() > 1
            && let Some(expr) = self.find(None, &full)?
        {
            return Ok(expr);
        }
        if parts.len() > 1 {
            let qualifier = TableReference::bare(parts[0].clone());
            if let Some(expr) = self.find(Some(&qualifier), &parts[1])? {
                return Ok(nest(expr, &parts[2..]));
            }
        }
        match self.find(None, &parts[0])? {
            Some(expr) => Ok(nest(expr, &parts[1..])),
            None => Err(SparkError::unresolved_column(&full, &self.column_names())),
        }
    }

    /// The one column named `name` (case-insensitively, an exact match preferred), under
    /// `qualifier` when given.
    fn find(&self, qualifier: Option<&TableReference>, name: &str) -> ConnectResult<Option<Expr>> {
        let candidates: Vec<(Option<&TableReference>, &str)> = self
            .schema
            .iter()
            .filter(|(q, _)| match qualifier {
                None => true,
                Some(want) => q.is_some_and(|q| q.table().eq_ignore_ascii_case(want.table())),
            })
            .filter(|(_, f)| f.name().eq_ignore_ascii_case(name))
            .map(|(q, f)| (q, f.name().as_str()))
            .collect();
        let exact: Vec<_> = candidates.iter().filter(|(_, n)| *n == name).collect();
        let chosen = match (exact.as_slice(), candidates.as_slice()) {
            ([one], _) => Some(**one),
            ([], [one]) => Some(*one),
            ([], []) => None,
            _ => {
                return Err(SparkError::analysis(
                    "AMBIGUOUS_REFERENCE",
                    format!(
                        "[AMBIGUOUS_REFERENCE] Reference `{name}` is ambiguous, could be: [{}].",
                        candidates
                            .iter()
                            .map(|(q, n)| match q {
                                Some(q) => format!("`{q}`.`{n}`"),
                                None => format!("`{n}`"),
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .with_parameter("name", format!("`{name}`")));
            }
        };
        Ok(chosen.map(|(q, n)| Expr::Column(Column::new(q.cloned(), n))))
    }

    /// A sort order (`col.asc()`, `desc_nulls_last`). Spark puts nulls first when ascending
    /// and last when descending unless told otherwise.
    pub fn sort_order(&self, order: &SortOrder) -> ConnectResult<Sort> {
        let child = self.required(order.child.as_deref(), "sort order")?;
        let ascending = SortDirection::try_from(order.direction)
            .map(|d| d != SortDirection::Descending)
            .unwrap_or(true);
        let nulls_first = match NullOrdering::try_from(order.null_ordering) {
            Ok(NullOrdering::SortNullsFirst) => true,
            Ok(NullOrdering::SortNullsLast) => false,
            _ => ascending,
        };
        Ok(Sort::new(child, ascending, nulls_first))
    }

    fn window(&self, window: &spark_connect_proto::expression::Window) -> ConnectResult<Expr> {
        let function = self.required(window.window_function.as_deref(), "window")?;
        let partition_by = window
            .partition_spec
            .iter()
            .map(|e| self.expr(e))
            .collect::<ConnectResult<Vec<_>>>()?;
        let order_by = window
            .order_spec
            .iter()
            .map(|o| self.sort_order(o))
            .collect::<ConnectResult<Vec<_>>>()?;
        let frame = match &window.frame_spec {
            Some(frame) => {
                let units = match FrameType::try_from(frame.frame_type) {
                    Ok(FrameType::Range) => WindowFrameUnits::Range,
                    _ => WindowFrameUnits::Rows,
                };
                WindowFrame::new_bounds(
                    units,
                    bound(frame.lower.as_deref(), true, self)?,
                    bound(frame.upper.as_deref(), false, self)?,
                )
            }
            None => WindowFrame::new(if order_by.is_empty() {
                None
            } else {
                Some(false)
            }),
        };
        let (fun, args, distinct) = match function {
            Expr::AggregateFunction(agg) => (
                datafusion::logical_expr::expr::WindowFunctionDefinition::AggregateUDF(agg.func),
                agg.params.args,
                agg.params.distinct,
            ),
            Expr::WindowFunction(w) => (w.fun, w.params.args, false),
            other => {
                return Err(SparkError::analysis(
                    "UNSUPPORTED_EXPR_FOR_WINDOW",
                    format!(
                        "[UNSUPPORTED_EXPR_FOR_WINDOW] Expression {other} not supported within a window function."
                    ),
                ));
            }
        };
        Ok(Expr::from(WindowFunction {
            fun,
            params: WindowFunctionParams {
                args,
                partition_by,
                order_by,
                window_frame: frame,
                filter: None,
                null_treatment: None,
                distinct,
            },
        }))
    }

    /// The type of `e` here.
    /// `withField(path, value)` (`value` given) or `dropFields(path)` on the struct `base`:
    /// the struct rebuilt field by field, a null struct staying null, as Spark's
    /// `UpdateFields`. A new field goes last; dropping a field that is not there changes
    /// nothing.
    fn update_field(
        &self,
        base: Expr,
        path: &[String],
        value: Option<Expr>,
    ) -> ConnectResult<Expr> {
        use datafusion::functions::core::expr_fn::get_field;
        let datafusion::arrow::datatypes::DataType::Struct(fields) = self.type_of(&base)? else {
            return Err(SparkError::analysis(
                "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
                format!(
                    "withField/dropFields need a struct, not {}",
                    crate::types::simple_string(&self.type_of(&base)?)
                ),
            ));
        };
        let Some((head, rest)) = path.split_first() else {
            return Err(SparkError::analysis(
                "INVALID_FIELD_NAME",
                "withField/dropFields need a field name",
            ));
        };
        let mut parts = Vec::new();
        let mut found = false;
        for field in fields.iter() {
            let current = get_field(base.clone(), field.name().as_str());
            if !field.name().eq_ignore_ascii_case(head) {
                parts.extend([lit(field.name().as_str()), current]);
                continue;
            }
            found = true;
            match (rest.is_empty(), &value) {
                (true, Some(v)) => parts.extend([lit(field.name().as_str()), v.clone()]),
                (true, None) => {}
                (false, _) => parts.extend([
                    lit(field.name().as_str()),
                    self.update_field(current, rest, value.clone())?,
                ]),
            }
        }
        if !found {
            match (rest.is_empty(), value) {
                (true, Some(v)) => parts.extend([lit(head.as_str()), v]),
                (true, None) => {}
                (false, _) => {
                    return Err(SparkError::analysis(
                        "FIELD_NOT_FOUND",
                        format!("[FIELD_NOT_FOUND] No such struct field `{head}`."),
                    ));
                }
            }
        }
        if parts.is_empty() {
            return Err(SparkError::analysis(
                "DATATYPE_MISMATCH.CANNOT_DROP_ALL_FIELDS",
                "[DATATYPE_MISMATCH.CANNOT_DROP_ALL_FIELDS] Cannot drop all fields in struct.",
            ));
        }
        let rebuilt = datafusion::functions::expr_fn::named_struct(parts);
        // A null struct stays null (CASE without ELSE is null where the struct is).
        Ok(Expr::Case(datafusion::logical_expr::Case::new(
            None,
            vec![(Box::new(base.is_not_null()), Box::new(rebuilt))],
            None,
        )))
    }

    pub fn type_of(&self, e: &Expr) -> ConnectResult<datafusion::arrow::datatypes::DataType> {
        Ok(e.get_type(self.schema)?)
    }
}

fn bound(
    b: Option<&FrameBoundary>,
    lower: bool,
    scope: &Scope<'_>,
) -> ConnectResult<WindowFrameBound> {
    let unbounded = || {
        if lower {
            WindowFrameBound::Preceding(ScalarValue::Null)
        } else {
            WindowFrameBound::Following(ScalarValue::Null)
        }
    };
    Ok(match b.and_then(|b| b.boundary.as_ref()) {
        None | Some(Boundary::Unbounded(_)) => unbounded(),
        Some(Boundary::CurrentRow(_)) => WindowFrameBound::CurrentRow,
        Some(Boundary::Value(v)) => {
            let value = match scope.expr(v)? {
                Expr::Literal(value, _) => value,
                other => {
                    return Err(SparkError::analysis(
                        "INVALID_FRAME_BOUNDARY",
                        format!("a window frame boundary must be a literal, not {other}"),
                    ));
                }
            };
            let offset = match &value {
                ScalarValue::Int32(Some(v)) => i64::from(*v),
                ScalarValue::Int64(Some(v)) => *v,
                _ => 0,
            };
            if offset == i64::from(i32::MIN) || offset == i64::MIN {
                return Ok(unbounded());
            }
            if offset == i64::from(i32::MAX) || offset == i64::MAX {
                return Ok(unbounded());
            }
            let magnitude = ScalarValue::UInt64(Some(offset.unsigned_abs()));
            match offset {
                0 => WindowFrameBound::CurrentRow,
                o if o < 0 => WindowFrameBound::Preceding(magnitude),
                _ => WindowFrameBound::Following(magnitude),
            }
        }
    })
}

/// `col["key"]`, `col[0]`, `col.field`: struct fields by name, array elements from 0 (Spark),
/// map values by key.
fn extract_value(scope: &Scope<'_>, child: Expr, key: Expr) -> ConnectResult<Expr> {
    use datafusion::arrow::datatypes::DataType;
    let child_type = scope.type_of(&child)?;
    Ok(match (&child_type, &key) {
        (DataType::Struct(_), Expr::Literal(ScalarValue::Utf8(Some(name)), _)) => {
            datafusion::functions::core::expr_fn::get_field(child, name.clone())
        }
        (DataType::List(_) | DataType::LargeList(_), _) => {
            datafusion::functions_nested::expr_fn::array_element(child, key + lit(1i64))
        }
        (DataType::Map(_, _), _) => datafusion::functions_nested::expr_fn::array_element(
            datafusion::functions_nested::expr_fn::map_extract(child, key),
            lit(1i64),
        ),
        _ => {
            return Err(SparkError::analysis(
                "INVALID_EXTRACT_BASE_FIELD_TYPE",
                format!(
                    "[INVALID_EXTRACT_BASE_FIELD_TYPE] Can't extract a value from {child}. Need a complex type [STRUCT, ARRAY, MAP] but got \"{}\".",
                    types::simple_string(&child_type).to_uppercase()
                ),
            ));
        }
    })
}

/// `a.b.c` after the column: fields of nested structs.
fn nest(mut expr: Expr, fields: &[String]) -> Expr {
    for field in fields {
        expr = datafusion::functions::core::expr_fn::get_field(expr, field.clone());
    }
    expr
}

/// Splits `a.b`, `` `a.b`.c `` into its parts, as Spark's parser does.
pub fn split_identifier(identifier: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = identifier.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' if quoted && chars.peek() == Some(&'`') => {
                current.push('`');
                chars.next();
            }
            '`' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    parts.push(current);
    parts
}

fn expression_kind(e: &ExprType) -> &'static str {
    match e {
        ExprType::UnresolvedRegex(_) => "colRegex",
        ExprType::LambdaFunction(_) => "lambda functions (higher-order functions)",
        ExprType::UpdateFields(_) => "withField/dropFields",
        ExprType::UnresolvedNamedLambdaVariable(_) => "lambda variables",
        ExprType::NamedArgumentExpression(_) => "named arguments",
        ExprType::MergeAction(_) => "MERGE",
        ExprType::SubqueryExpression(_) => "subquery expressions",
        _ => "of this kind",
    }
}

#[cfg(test)]
mod tests {
    use super::split_identifier;

    #[test]
    fn identifiers_split_like_spark() {
        assert_eq!(split_identifier("a"), vec!["a"]);
        assert_eq!(split_identifier("t.a"), vec!["t", "a"]);
        assert_eq!(split_identifier("`a.b`.c"), vec!["a.b", "c"]);
        assert_eq!(split_identifier("`we``ird`"), vec!["we`ird"]);
    }
}
