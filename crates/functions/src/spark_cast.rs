//! Spark's `CAST`, where it differs from Arrow's: which casts exist at all (Spark refuses
//! `CAST(true AS DATE)` when the query is analysed, with a `DATATYPE_MISMATCH.CAST_*` class),
//! timestamps as seconds since the epoch when cast to and from numbers, booleans to and from
//! decimals, dates to timestamps at midnight in the session's zone, and Spark's TIMESTAMP in
//! microseconds. Runs before DataFusion's type coercion, so every cast it sees is one the user
//! wrote (coercion's own casts come later and keep Arrow's meaning).

use std::sync::Arc;

use arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{
    BinaryExpr, Cast, Expr, ExprSchemable, LogicalPlan, Operator, TryCast, lit,
};
use datafusion::optimizer::AnalyzerRule;

use crate::types::spark_type_name;

const MICROS_PER_SECOND: i64 = 1_000_000;

/// Gives the casts users write Spark's meaning (see the module documentation).
#[derive(Debug, Default)]
pub struct SparkCastRule;

impl AnalyzerRule for SparkCastRule {
    fn name(&self) -> &str {
        "spark_cast_semantics"
    }

    fn analyze(&self, plan: LogicalPlan, config: &ConfigOptions) -> Result<LogicalPlan> {
        let zone = crate::zones::session_label(config);
        Ok(plan
            .transform_up_with_subqueries(|node| rewrite_plan(node, &zone))?
            .data)
    }
}

fn rewrite_plan(plan: LogicalPlan, zone: &Arc<str>) -> Result<Transformed<LogicalPlan>> {
    let schema = crate::rule::expression_schema(&plan)?;
    let names = NamePreserver::new(&plan);
    let rewritten = plan.map_expressions(|expr| {
        let name = names.save(&expr);
        expr.transform_up(|e| rewrite_expr(e, &schema, zone))
            .map(|t| t.update_data(|e| name.restore(e)))
    })?;
    if rewritten.transformed {
        rewritten.map_data(|plan| plan.recompute_schema())
    } else {
        Ok(rewritten)
    }
}

fn rewrite_expr(expr: Expr, schema: &DFSchema, zone: &Arc<str>) -> Result<Transformed<Expr>> {
    let (inner, target, is_try) = match expr {
        Expr::Cast(Cast { expr, field }) => (*expr, field.data_type().clone(), false),
        Expr::TryCast(TryCast { expr, field }) => (*expr, field.data_type().clone(), true),
        other => return Ok(Transformed::no(other)),
    };
    let Ok(source) = inner.get_type(schema) else {
        return Ok(Transformed::no(make_cast(inner, target, is_try)));
    };
    spark_cast(inner, &source, target, is_try, zone)
}

fn make_cast(expr: Expr, target: DataType, is_try: bool) -> Expr {
    if is_try {
        Expr::TryCast(TryCast::new(Box::new(expr), target))
    } else {
        Expr::Cast(Cast::new(Box::new(expr), target))
    }
}

fn arrow_cast(expr: Expr, target: DataType) -> Expr {
    Expr::Cast(Cast::new(Box::new(expr), target))
}

fn binary(left: Expr, op: Operator, right: Expr) -> Expr {
    Expr::BinaryExpr(BinaryExpr::new(Box::new(left), op, Box::new(right)))
}

fn spark_cast(
    inner: Expr,
    source: &DataType,
    target: DataType,
    is_try: bool,
    zone: &Arc<str>,
) -> Result<Transformed<Expr>> {
    use DataType as T;
    // Spark's timestamps count microseconds; SQL's TIMESTAMP reaches here in nanoseconds.
    let target = match target {
        T::Timestamp(TimeUnit::Nanosecond, tz) => T::Timestamp(TimeUnit::Microsecond, tz),
        other => other,
    };
    if let Some(class) = refused(source, &target) {
        return Err(DataFusionError::Plan(format!(
            "[DATATYPE_MISMATCH.{class}] Cannot resolve the cast due to data type mismatch: cannot cast \"{}\" to \"{}\".",
            spark_type_name(source).to_uppercase(),
            spark_type_name(&target).to_uppercase()
        )));
    }
    let micros = |e: Expr| {
        arrow_cast(
            arrow_cast(e, T::Timestamp(TimeUnit::Microsecond, None)),
            T::Int64,
        )
    };
    let rewritten = match (source, &target) {
        // A timestamp as a number is seconds since the epoch, whole seconds rounded down.
        (T::Timestamp(..), t) if t.is_integer() => {
            let raw = micros(inner);
            let remainder = binary(
                binary(
                    binary(raw.clone(), Operator::Modulo, lit(MICROS_PER_SECOND)),
                    Operator::Plus,
                    lit(MICROS_PER_SECOND),
                ),
                Operator::Modulo,
                lit(MICROS_PER_SECOND),
            );
            let seconds = binary(
                binary(raw, Operator::Minus, remainder),
                Operator::Divide,
                lit(MICROS_PER_SECOND),
            );
            make_cast(seconds, target, is_try)
        }
        (T::Timestamp(..), T::Float32 | T::Float64) => {
            let seconds = binary(
                arrow_cast(micros(inner), T::Float64),
                Operator::Divide,
                lit(MICROS_PER_SECOND as f64),
            );
            make_cast(seconds, target, is_try)
        }
        // A number as a timestamp is that many seconds after the epoch.
        (s, T::Timestamp(_, Some(_))) if s.is_integer() => {
            let value = binary(
                arrow_cast(inner, T::Int64),
                Operator::Multiply,
                lit(MICROS_PER_SECOND),
            );
            make_cast(value, target, is_try)
        }
        (s, T::Timestamp(_, Some(_))) if s.is_floating() || is_decimal(s) => {
            let value = binary(
                arrow_cast(inner, T::Float64),
                Operator::Multiply,
                lit(MICROS_PER_SECOND as f64),
            );
            make_cast(make_cast(value, T::Int64, is_try), target, is_try)
        }
        // A date becomes midnight of that day in the session's zone.
        (T::Date32 | T::Date64, T::Timestamp(unit, Some(_))) => {
            let wall = arrow_cast(inner, T::Timestamp(*unit, None));
            make_cast(wall, T::Timestamp(*unit, Some(zone.clone())), is_try)
        }
        (T::Boolean, T::Decimal128(..) | T::Decimal256(..)) => {
            make_cast(arrow_cast(inner, T::Int32), target, is_try)
        }
        (s, T::Boolean) if is_decimal(s) => binary(
            inner,
            Operator::NotEq,
            Expr::Literal(ScalarValue::Int32(Some(0)), None),
        ),
        _ => make_cast(inner, target, is_try),
    };
    Ok(Transformed::yes(rewritten))
}

fn is_decimal(t: &DataType) -> bool {
    matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..))
}

/// The `DATATYPE_MISMATCH` subclass Spark raises for a cast it does not have (ANSI mode).
/// Numbers and dates cast to each other, and dates and timestamps to booleans, are refused by
/// Spark too, but Ember's own expansions of Spark functions cast dates and numbers both ways,
/// so those pairs pass here.
fn refused(source: &DataType, target: &DataType) -> Option<&'static str> {
    use DataType as T;
    let numeric = |t: &T| t.is_integer() || t.is_floating() || is_decimal(t);
    let timestamp = |t: &T| matches!(t, T::Timestamp(_, Some(_)));
    let timestamp_ntz = |t: &T| matches!(t, T::Timestamp(_, None));
    let date = |t: &T| matches!(t, T::Date32 | T::Date64);
    let binary = |t: &T| matches!(t, T::Binary | T::LargeBinary | T::BinaryView);
    let text = |t: &T| matches!(t, T::Utf8 | T::LargeUtf8 | T::Utf8View);
    const NONE: &str = "CAST_WITHOUT_SUGGESTION";
    const CONF: &str = "CAST_WITH_CONF_SUGGESTION";
    if source == target || matches!(source, T::Null) {
        return None;
    }
    Some(match (source, target) {
        (T::Boolean, t) if timestamp(t) => CONF,
        (T::Boolean, t) if binary(t) || date(t) || timestamp_ntz(t) => NONE,
        (s, t) if s.is_integer() && binary(t) => CONF,
        (s, t) if numeric(s) && binary(t) => NONE,
        (s, t) if numeric(s) && timestamp_ntz(t) => NONE,
        (s, t) if binary(s) && !(text(t) || binary(t)) => NONE,
        (s, t) if (date(s) || timestamp(s) || timestamp_ntz(s)) && binary(t) => NONE,
        (s, t) if timestamp_ntz(s) && numeric(t) => NONE,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_refuses_the_casts_it_has_no_meaning_for() {
        use DataType as T;
        let ts = T::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let ntz = T::Timestamp(TimeUnit::Microsecond, None);
        assert_eq!(
            refused(&T::Boolean, &T::Binary),
            Some("CAST_WITHOUT_SUGGESTION")
        );
        assert_eq!(refused(&T::Boolean, &ts), Some("CAST_WITH_CONF_SUGGESTION"));
        // Refused by Spark, passed by Ember (see `refused`).
        assert_eq!(refused(&T::Int32, &T::Date32), None);
        assert_eq!(refused(&T::Date32, &T::Int64), None);
        assert_eq!(
            refused(&T::Binary, &T::Int32),
            Some("CAST_WITHOUT_SUGGESTION")
        );
        assert_eq!(refused(&T::Int32, &ntz), Some("CAST_WITHOUT_SUGGESTION"));
        assert_eq!(refused(&T::Int32, &ts), None);
        assert_eq!(refused(&T::Utf8, &T::Binary), None);
        assert_eq!(refused(&T::Binary, &T::Utf8), None);
        assert_eq!(refused(&T::Date32, &ts), None);
        assert_eq!(refused(&T::Null, &T::Date32), None);
    }
}
