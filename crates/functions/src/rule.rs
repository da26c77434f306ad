//! The analyzer rule that gives plans Spark's numeric semantics once DataFusion has coerced
//! their types, and Spark's LIKE escape characters.

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr::{ScalarFunction, WindowFunction};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::type_coercion::binary::BinaryTypeCoercer;
use datafusion::logical_expr::utils::merge_schema;
use datafusion::logical_expr::{
    BinaryExpr, Cast, Expr, ExprSchemable, LogicalPlan, Operator, Projection,
    WindowFunctionDefinition,
};
use datafusion::optimizer::AnalyzerRule;

use crate::decimal::{DecimalOp, literal_integer_type, spark_result_type};
use crate::{average, decimal_arithmetic, round};

/// Rewrites decimal arithmetic, decimal `avg` and `round` to Spark's result types and digits.
/// Runs after DataFusion's type coercion, so every operand already has its final type.
#[derive(Debug, Default)]
pub struct SparkNumericRule;

impl AnalyzerRule for SparkNumericRule {
    fn name(&self) -> &str {
        "spark_numeric_semantics"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        Ok(plan.transform_up_with_subqueries(rewrite_plan)?.data)
    }
}

/// The schema a node's expressions are typed against: its inputs', or a scan's table's.
pub(crate) fn expression_schema(plan: &LogicalPlan) -> Result<DFSchema> {
    let mut schema = merge_schema(&plan.inputs());
    if let LogicalPlan::TableScan(scan) = plan {
        schema.merge(&DFSchema::try_from_qualified_schema(
            scan.table_name.clone(),
            &scan.source.schema(),
        )?);
    }
    Ok(schema)
}

fn rewrite_plan(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    let schema = expression_schema(&plan)?;
    let names = NamePreserver::new(&plan);
    let rewritten = plan.map_expressions(|expr| {
        let name = names.save(&expr);
        expr.transform_up(|e| rewrite_expr(e, &schema))
            .map(|t| t.update_data(|e| name.restore(e)))
    })?;
    // A rewritten input changes the types its parents see, so every schema is recomputed.
    let plan = rewritten.data.recompute_schema()?;
    let ranked = spark_ranking_types(plan)?;
    Ok(Transformed::new(
        ranked.data,
        rewritten.transformed || ranked.transformed,
        rewritten.tnr,
    ))
}

/// Spark's ranking window functions give `int`; DataFusion's give unsigned 64-bit integers.
/// A projection above the window casts them, under the same names.
fn spark_ranking_types(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    let LogicalPlan::Window(window) = &plan else {
        return Ok(Transformed::no(plan));
    };
    let first_window_column = window.input.schema().fields().len();
    let ranking: Vec<bool> = window.window_expr.iter().map(is_ranking).collect();
    if !ranking.contains(&true) {
        return Ok(Transformed::no(plan));
    }
    let columns = plan
        .schema()
        .iter()
        .enumerate()
        .map(|(i, (qualifier, field))| {
            let column = Expr::Column(Column::new(qualifier.cloned(), field.name()));
            let is_rank = i >= first_window_column && ranking[i - first_window_column];
            if is_rank && field.data_type() == &DataType::UInt64 {
                cast(column, DataType::Int32).alias_qualified(qualifier.cloned(), field.name())
            } else {
                column
            }
        })
        .collect::<Vec<_>>();
    Ok(Transformed::yes(LogicalPlan::Projection(
        Projection::try_new(columns, Arc::new(plan))?,
    )))
}

fn is_ranking(expr: &Expr) -> bool {
    match expr {
        Expr::Alias(alias) => is_ranking(&alias.expr),
        Expr::WindowFunction(window) => matches!(
            &window.fun,
            WindowFunctionDefinition::WindowUDF(f)
                if matches!(f.name(), "row_number" | "rank" | "dense_rank" | "ntile")
        ),
        _ => false,
    }
}

fn rewrite_expr(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    match expr {
        Expr::BinaryExpr(binary) => match decimal_op(binary.op) {
            Some(op) => arithmetic(binary, op, schema),
            None if binary.op.supports_propagation() => comparison(binary, schema),
            None => Ok(Transformed::no(Expr::BinaryExpr(binary))),
        },
        Expr::ScalarFunction(function) if function.name() == "round" => round(function, schema),
        // DataFusion's LIKE reads only backslash escapes; another escape character is
        // rewritten into them.
        Expr::Like(mut like) if like.escape_char.is_some_and(|c| c != '\\') => {
            let escape = like.escape_char.take().unwrap_or('\\');
            like.pattern = Box::new(match *like.pattern {
                Expr::Literal(ScalarValue::Utf8(Some(text)), metadata) => {
                    let rewritten = crate::like_escape::backslash_pattern(&text, escape)
                        .map_err(datafusion::error::DataFusionError::Plan)?;
                    Expr::Literal(ScalarValue::Utf8(Some(rewritten)), metadata)
                }
                pattern => Expr::ScalarFunction(ScalarFunction::new_udf(
                    crate::like_escape::udf(),
                    vec![
                        pattern,
                        Expr::Literal(ScalarValue::Utf8(Some(escape.to_string())), None),
                    ],
                )),
            });
            Ok(Transformed::yes(Expr::Like(like)))
        }
        Expr::AggregateFunction(mut aggregate)
            if is_decimal_avg(aggregate.func.name(), &aggregate.params.args, schema)?
                && !aggregate.params.distinct =>
        {
            aggregate.func = average::udaf();
            Ok(Transformed::yes(Expr::AggregateFunction(aggregate)))
        }
        // DataFusion's `avg` takes a NULL-typed column without casting it, then has no
        // accumulator for it; as a double it averages to NULL, as on Spark.
        Expr::AggregateFunction(mut aggregate)
            if aggregate.func.name() == "avg"
                && matches!(
                    aggregate
                        .params
                        .args
                        .first()
                        .map(|a| a.get_type(schema))
                        .transpose()?,
                    Some(DataType::Null)
                ) =>
        {
            aggregate.params.args = aggregate
                .params
                .args
                .into_iter()
                .map(|a| {
                    Expr::Cast(datafusion::logical_expr::Cast::new(
                        Box::new(a),
                        DataType::Float64,
                    ))
                })
                .collect();
            Ok(Transformed::yes(Expr::AggregateFunction(aggregate)))
        }
        Expr::WindowFunction(mut window) => {
            let avg = matches!(&window.fun, WindowFunctionDefinition::AggregateUDF(f)
                if is_decimal_avg(f.name(), &window.params.args, schema)?);
            if !avg {
                return Ok(Transformed::no(Expr::WindowFunction(window)));
            }
            let WindowFunction { params, .. } = *window;
            window = Box::new(WindowFunction {
                fun: WindowFunctionDefinition::AggregateUDF(average::udaf()),
                params,
            });
            Ok(Transformed::yes(Expr::WindowFunction(window)))
        }
        other => Ok(Transformed::no(other)),
    }
}

fn is_decimal_avg(name: &str, args: &[Expr], schema: &DFSchema) -> Result<bool> {
    Ok(name == "avg"
        && matches!(
            args.first().map(|a| a.get_type(schema)).transpose()?,
            Some(DataType::Decimal128(..))
        ))
}

fn decimal_op(op: Operator) -> Option<DecimalOp> {
    match op {
        Operator::Plus => Some(DecimalOp::Add),
        Operator::Minus => Some(DecimalOp::Subtract),
        Operator::Multiply => Some(DecimalOp::Multiply),
        Operator::Divide => Some(DecimalOp::Divide),
        Operator::Modulo => Some(DecimalOp::Remainder),
        _ => None,
    }
}

/// The expression a coercion cast wrapped, when it cast `from` a type `is` accepts.
fn coerced_from(expr: &Expr, schema: &DFSchema, is: fn(&DataType) -> bool) -> Result<Option<Expr>> {
    if let Expr::Cast(Cast { expr: inner, field }) = expr
        && field.data_type().is_decimal()
        && is(&inner.get_type(schema)?)
    {
        return Ok(Some(inner.as_ref().clone()));
    }
    Ok(None)
}

fn cast(expr: Expr, data_type: DataType) -> Expr {
    Expr::Cast(Cast::new(Box::new(expr), data_type))
}

fn arithmetic(binary: BinaryExpr, op: DecimalOp, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let BinaryExpr {
        left,
        op: operator,
        right,
    } = binary;
    let (left, right) = (*left, *right);
    // Spark computes a decimal mixed with a float or double as doubles; DataFusion made the
    // double a decimal(30,15).
    let left_float = coerced_from(&left, schema, DataType::is_floating)?;
    let right_float = coerced_from(&right, schema, DataType::is_floating)?;
    if left_float.is_some() || right_float.is_some() {
        let double = |e: Expr| cast(e, DataType::Float64);
        let l = left_float.map_or_else(|| double(left), double);
        let r = right_float.map_or_else(|| double(right), double);
        return Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
            Box::new(l),
            operator,
            Box::new(r),
        ))));
    }
    let (DataType::Decimal128(p1, s1), DataType::Decimal128(p2, s2)) =
        (left.get_type(schema)?, right.get_type(schema)?)
    else {
        return Ok(Transformed::no(Expr::BinaryExpr(BinaryExpr::new(
            Box::new(left),
            operator,
            Box::new(right),
        ))));
    };
    let (left, left_type) = narrow_integer_literal(left, (p1, s1));
    let (right, right_type) = narrow_integer_literal(right, (p2, s2));
    let (p, s) = spark_result_type(op, left_type, right_type);
    let native = BinaryTypeCoercer::new(
        &DataType::Decimal128(left_type.0, left_type.1),
        &operator,
        &DataType::Decimal128(right_type.0, right_type.1),
    )
    .get_result_type()
    .ok();
    if op != DecimalOp::Divide && native == Some(DataType::Decimal128(p, s)) {
        return Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
            Box::new(left),
            operator,
            Box::new(right),
        ))));
    }
    Ok(Transformed::yes(Expr::ScalarFunction(
        ScalarFunction::new_udf(decimal_arithmetic::udf(op), vec![left, right]),
    )))
}

/// A comparison of two decimals whose types this rule changed below it (DataFusion coerced
/// them to one type before): both sides take the type that holds either, as Spark compares.
fn comparison(binary: BinaryExpr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let (left_type, right_type) = (
        binary.left.get_type(schema)?,
        binary.right.get_type(schema)?,
    );
    if !(left_type.is_decimal() && right_type.is_decimal()) || left_type == right_type {
        return Ok(Transformed::no(Expr::BinaryExpr(binary)));
    }
    let Some(common) = datafusion::logical_expr::type_coercion::binary::comparison_coercion(
        &left_type,
        &right_type,
    ) else {
        return Ok(Transformed::no(Expr::BinaryExpr(binary)));
    };
    let BinaryExpr { left, op, right } = binary;
    let side = |e: Expr, t: &DataType| {
        if *t == common {
            e
        } else {
            cast(e, common.clone())
        }
    };
    Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
        Box::new(side(*left, &left_type)),
        op,
        Box::new(side(*right, &right_type)),
    ))))
}

/// Spark gives an integer literal beside a decimal the narrowest decimal type holding it
/// (`1 - x` is `decimal(1,0) - x`); DataFusion's coercion gives it its integer type's whole
/// width (`decimal(20,0)` for a bigint). A cast to any other type was written by the user
/// and stays.
fn narrow_integer_literal(expr: Expr, data_type: (u8, i8)) -> (Expr, (u8, i8)) {
    if let Expr::Cast(Cast { expr: inner, .. }) = &expr
        && let Expr::Literal(value, _) = inner.as_ref()
        && let Some(value) = integer_value(value)
        && Some(data_type) == coercion_width(value_type(inner))
    {
        let (p, s) = literal_integer_type(value);
        let literal = Expr::Literal(ScalarValue::Decimal128(Some(value), p, s), None);
        return (literal, (p, s));
    }
    (expr, data_type)
}

fn value_type(literal: &Expr) -> DataType {
    match literal {
        Expr::Literal(value, _) => value.data_type(),
        _ => DataType::Null,
    }
}

/// The decimal type DataFusion coerces an integer type to beside a decimal.
fn coercion_width(integer: DataType) -> Option<(u8, i8)> {
    match integer {
        DataType::Int8 => Some((3, 0)),
        DataType::Int16 => Some((5, 0)),
        DataType::Int32 => Some((10, 0)),
        DataType::Int64 => Some((20, 0)),
        _ => None,
    }
}

fn integer_value(value: &ScalarValue) -> Option<i128> {
    match value {
        ScalarValue::Int8(Some(v)) => Some(i128::from(*v)),
        ScalarValue::Int16(Some(v)) => Some(i128::from(*v)),
        ScalarValue::Int32(Some(v)) => Some(i128::from(*v)),
        ScalarValue::Int64(Some(v)) => Some(i128::from(*v)),
        _ => None,
    }
}

/// Spark's `round`: doubles round their decimal text HALF_UP; decimals take Spark's type,
/// which leaves room for a carry into one more integral digit.
fn round(function: ScalarFunction, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Some(value) = function.args.first() else {
        return Ok(Transformed::no(Expr::ScalarFunction(function)));
    };
    let scale_arg = function.args.get(1).cloned();
    match value.get_type(schema)? {
        DataType::Float64 | DataType::Float32 => {
            let scale = scale_arg.unwrap_or(Expr::Literal(ScalarValue::Int32(Some(0)), None));
            let value = value.clone();
            Ok(Transformed::yes(Expr::ScalarFunction(
                ScalarFunction::new_udf(round::udf(), vec![value, scale]),
            )))
        }
        DataType::Decimal128(p, s) => {
            let Some(target) = scale_arg.as_ref().map_or(Some(0), constant_scale) else {
                return Ok(Transformed::no(Expr::ScalarFunction(function)));
            };
            let (p, s) = (i32::from(p), i32::from(s));
            let integral = p - s + 1;
            let (precision, scale) = if target < 0 {
                (integral.max(1 - target), 0)
            } else {
                let scale = s.min(target);
                (integral + scale, scale)
            };
            let spark = DataType::Decimal128(precision.min(38) as u8, scale as i8);
            Ok(Transformed::yes(cast(
                Expr::ScalarFunction(function),
                spark,
            )))
        }
        _ => Ok(Transformed::no(Expr::ScalarFunction(function))),
    }
}

fn constant_scale(expr: &Expr) -> Option<i32> {
    match expr {
        Expr::Literal(value, _) => integer_value(value).and_then(|v| i32::try_from(v).ok()),
        Expr::Cast(Cast { expr, .. }) => constant_scale(expr),
        _ => None,
    }
}
