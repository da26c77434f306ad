//! `df.na.fill`, `df.na.drop` and `df.na.replace` with Spark's rules: a value only touches
//! columns of a compatible type.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Column;
use datafusion::logical_expr::{Case, Cast, Expr, LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::lit;
use datafusion::scalar::ScalarValue;
use spark_connect_proto::{NaDrop, NaFill, NaReplace};

use crate::error::{ConnectResult, SparkError};
use crate::literal;
use crate::relation::Planner;

/// Whether a value of `value` type applies to a column of `column` type.
fn compatible(value: &DataType, column: &DataType) -> bool {
    let numeric = |t: &DataType| t.is_numeric();
    (numeric(value) && numeric(column))
        || (value == &DataType::Boolean && column == &DataType::Boolean)
        || (matches!(value, DataType::Utf8)
            && matches!(
                column,
                DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
            ))
}

fn chosen_columns(input: &LogicalPlan, names: &[String]) -> Vec<(Column, DataType)> {
    input
        .schema()
        .iter()
        .filter(|(_, f)| names.is_empty() || names.iter().any(|n| n.eq_ignore_ascii_case(f.name())))
        .map(|(q, f)| (Column::new(q.cloned(), f.name()), f.data_type().clone()))
        .collect()
}

pub fn fill(planner: &Planner, input: LogicalPlan, fill: &NaFill) -> ConnectResult<LogicalPlan> {
    let values = fill
        .values
        .iter()
        .map(|v| literal::to_scalar(v, &planner.time_zone))
        .collect::<ConnectResult<Vec<ScalarValue>>>()?;
    if values.is_empty() {
        return Err(SparkError::invalid_plan("na.fill needs a value"));
    }
    let targets = chosen_columns(&input, &fill.cols);
    let exprs: Vec<Expr> = input
        .schema()
        .iter()
        .map(|(q, f)| {
            let column = Column::new(q.cloned(), f.name());
            let e = Expr::Column(column.clone());
            // One value for all columns, or one per listed column.
            let value = if values.len() == 1 {
                Some(&values[0])
            } else {
                fill.cols
                    .iter()
                    .position(|n| n.eq_ignore_ascii_case(f.name()))
                    .and_then(|i| values.get(i))
            };
            match value {
                Some(v)
                    if targets.iter().any(|(c, _)| c == &column)
                        && compatible(&v.data_type(), f.data_type()) =>
                {
                    let filler =
                        Expr::Cast(Cast::new(Box::new(lit(v.clone())), f.data_type().clone()));
                    datafusion::functions::expr_fn::coalesce(vec![e, filler]).alias(f.name())
                }
                _ => e,
            }
        })
        .collect();
    Ok(LogicalPlanBuilder::from(input).project(exprs)?.build()?)
}

pub fn drop(_planner: &Planner, input: LogicalPlan, drop: &NaDrop) -> ConnectResult<LogicalPlan> {
    let targets = chosen_columns(&input, &drop.cols);
    let minimum = drop
        .min_non_nulls
        .map(|m| i64::from(m.max(0)))
        .unwrap_or(targets.len() as i64);
    // Spark counts NaN as missing too.
    let present = targets.iter().fold(lit(0i64), |acc, (c, t)| {
        let column = Expr::Column(c.clone());
        let mut there = column.clone().is_not_null();
        if t.is_floating() {
            there = there.and(Expr::Not(Box::new(datafusion::functions::expr_fn::isnan(
                column,
            ))));
        }
        acc + Expr::Case(Case::new(
            None,
            vec![(Box::new(there), Box::new(lit(1i64)))],
            Some(Box::new(lit(0i64))),
        ))
    });
    Ok(LogicalPlanBuilder::from(input)
        .filter(present.gt_eq(lit(minimum)))?
        .build()?)
}

pub fn replace(
    planner: &Planner,
    input: LogicalPlan,
    replace: &NaReplace,
) -> ConnectResult<LogicalPlan> {
    let mut pairs = Vec::new();
    for r in &replace.replacements {
        let (Some(old), Some(new)) = (&r.old_value, &r.new_value) else {
            return Err(SparkError::invalid_plan(
                "na.replace needs old and new values",
            ));
        };
        pairs.push((
            literal::to_scalar(old, &planner.time_zone)?,
            literal::to_scalar(new, &planner.time_zone)?,
        ));
    }
    let targets = chosen_columns(&input, &replace.cols);
    let exprs: Vec<Expr> = input
        .schema()
        .iter()
        .map(|(q, f)| {
            let column = Column::new(q.cloned(), f.name());
            let e = Expr::Column(column.clone());
            let applicable: Vec<_> = pairs
                .iter()
                .filter(|(old, _)| old.is_null() || compatible(&old.data_type(), f.data_type()))
                .collect();
            if applicable.is_empty() || !targets.iter().any(|(c, _)| c == &column) {
                return e;
            }
            let as_column = |v: &ScalarValue| {
                Expr::Cast(Cast::new(Box::new(lit(v.clone())), f.data_type().clone()))
            };
            let when = applicable
                .iter()
                .map(|(old, new)| {
                    let test = if old.is_null() {
                        e.clone().is_null()
                    } else {
                        e.clone().eq(as_column(old))
                    };
                    (Box::new(test), Box::new(as_column(new)))
                })
                .collect();
            Expr::Case(Case::new(None, when, Some(Box::new(e)))).alias(f.name())
        })
        .collect();
    Ok(LogicalPlanBuilder::from(input).project(exprs)?.build()?)
}
