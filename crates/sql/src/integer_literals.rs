//! Spark types an integer literal by its value: `1` is an INT, `3000000000` a BIGINT (and
//! `1L` a BIGINT by its suffix). DataFusion's SQL planner makes every integer literal an
//! Int64, which would turn `int_col + 1` into a BIGINT and `greatest(int_col, 0)` likewise,
//! so after planning a statement its Int64 literals that fit in an INT become Int32.
//! Suffixed literals reach the plan as casts (`rewrite_typed_literals`) and keep their type.

use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::error::Result;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::scalar::ScalarValue;

use crate::values_types::spark_values_types;

/// `plan` with its integer literals typed as Spark types them.
pub fn spark_integer_literals(plan: LogicalPlan) -> Result<LogicalPlan> {
    // An INSERT's VALUES take the table's column types.
    if matches!(plan, LogicalPlan::Dml(_)) {
        return Ok(plan);
    }
    // Once a VALUES table is retyped, the nodes above it carry stale schemas.
    let mut retyped_below = false;
    plan.transform_up_with_subqueries(|node| {
        // LIMIT and OFFSET take their counts as they are.
        if matches!(node, LogicalPlan::Limit(_)) {
            return Ok(Transformed::no(node));
        }
        if let LogicalPlan::Values(values) = node {
            let retyped = spark_values_types(values)?;
            retyped_below |= retyped.transformed;
            return Ok(retyped);
        }
        // Parents refer to an aggregate's or a window's results by name: names stay.
        let names = NamePreserver::new(&node);
        let rewritten = node.map_expressions(|e| {
            let name = names.save(&e);
            e.transform_down(narrow)
                .map(|t| t.update_data(|e| name.restore(e)))
        })?;
        if rewritten.transformed || retyped_below {
            rewritten.map_data(|node| node.recompute_schema())
        } else {
            Ok(rewritten)
        }
    })
    .map(|t| t.data)
}

fn narrow(e: Expr) -> Result<Transformed<Expr>> {
    match e {
        // `count(*)` is planned as `count(1)`, which DataFusion's rules recognise as such.
        Expr::AggregateFunction(ref f) if f.func.name() == "count" => {
            Ok(Transformed::new(e, false, TreeNodeRecursion::Jump))
        }
        // A lambda's variables were typed from the call's other arguments when it was planned.
        Expr::HigherOrderFunction(_) => Ok(Transformed::new(e, false, TreeNodeRecursion::Jump)),
        Expr::Literal(ScalarValue::Int64(Some(v)), metadata) if i32::try_from(v).is_ok() => {
            let narrowed = i32::try_from(v).ok();
            Ok(Transformed::yes(Expr::Literal(
                ScalarValue::Int32(narrowed),
                metadata,
            )))
        }
        other => Ok(Transformed::no(other)),
    }
}
