//! Functions of a select list whose value depends on the partition: `spark_partition_id()`,
//! and Spark's seeded random functions (`rand`, `randn`, `randstr`), whose generator Spark
//! seeds with `seed + partition`. [`PartitionIdRule`], the last physical optimizer rule, wraps
//! every projection that calls one in a [`PartitionIdExec`]; asked for partition `p`, that
//! node runs the projection with each `spark_partition_id()` replaced by the literal `p` and
//! each random call given its own generator for `p`. The node's child is the projection
//! itself, so it travels to executors as DataFusion encodes a projection, under a one-byte
//! marker of Ember's codec.

use std::fmt;
use std::sync::Arc;

use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::config::ConfigOptions;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::expressions::Literal;
use datafusion::physical_expr::{PhysicalExpr, ScalarFunctionExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};

use datafusion::arrow::datatypes::Schema;
use ember_functions::SPARK_PARTITION_ID;
use ember_functions::random::{self, Draw};

/// A projection calling `spark_partition_id()`, run partition by partition.
#[derive(Debug)]
pub struct PartitionIdExec {
    projection: Arc<dyn ExecutionPlan>,
}

impl PartitionIdExec {
    /// `projection` must be a [`ProjectionExec`].
    pub fn new(projection: Arc<dyn ExecutionPlan>) -> Result<Self> {
        if projection.downcast_ref::<ProjectionExec>().is_none() {
            return Err(DataFusionError::Internal(format!(
                "PartitionIdExec wraps a projection, not {}",
                projection.name()
            )));
        }
        Ok(Self { projection })
    }
}

fn depends_on_partition(f: &ScalarFunctionExpr) -> bool {
    f.name() == SPARK_PARTITION_ID || Draw::of(f.fun().name()).is_some()
}

fn calls_partition_id(expr: &Arc<dyn PhysicalExpr>) -> bool {
    expr.exists(|e| {
        Ok(e.downcast_ref::<ScalarFunctionExpr>()
            .is_some_and(depends_on_partition))
    })
    .unwrap_or(false)
}

/// `expr` with every `spark_partition_id()` replaced by `partition`, and every random call
/// given a generator of its own, seeded for `partition`.
fn with_partition(
    expr: &Arc<dyn PhysicalExpr>,
    partition: usize,
    schema: &Schema,
) -> Result<Arc<dyn PhysicalExpr>> {
    let number = i32::try_from(partition)
        .map_err(|_| DataFusionError::Execution(format!("partition {partition} is past int")))?;
    Ok(Arc::clone(expr)
        .transform_down(|e| {
            let Some(call) = e.downcast_ref::<ScalarFunctionExpr>() else {
                return Ok(Transformed::no(e));
            };
            if call.name() == SPARK_PARTITION_ID {
                let literal: Arc<dyn PhysicalExpr> =
                    Arc::new(Literal::new(ScalarValue::Int32(Some(number))));
                return Ok(Transformed::new(literal, true, TreeNodeRecursion::Jump));
            }
            let Some(draw) = Draw::of(call.fun().name()) else {
                return Ok(Transformed::no(e));
            };
            let seed = call
                .args()
                .get(draw.seed_at())
                .and_then(|a| a.downcast_ref::<Literal>())
                .and_then(|l| random::seed_of(l.value()));
            let Some(seed) = seed else {
                return Ok(Transformed::no(e));
            };
            let seeded: Arc<dyn PhysicalExpr> = Arc::new(ScalarFunctionExpr::new(
                call.name(),
                random::seeded(draw, seed, partition),
                call.args().to_vec(),
                e.return_field(schema)?,
                Arc::new(call.config_options().clone()),
            ));
            Ok(Transformed::new(seeded, true, TreeNodeRecursion::Jump))
        })?
        .data)
}

impl DisplayAs for PartitionIdExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "PartitionIdExec")
    }
}

impl ExecutionPlan for PartitionIdExec {
    fn name(&self) -> &'static str {
        "PartitionIdExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.projection.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.projection]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let projection = children
            .into_iter()
            .next()
            .ok_or_else(|| DataFusionError::Internal("PartitionIdExec needs one child".into()))?;
        Ok(Arc::new(PartitionIdExec::new(projection)?))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let Some(projection) = self.projection.downcast_ref::<ProjectionExec>() else {
            return Err(DataFusionError::Internal(
                "PartitionIdExec wraps a projection".into(),
            ));
        };
        let input_schema = projection.input().schema();
        let exprs = projection
            .expr()
            .iter()
            .map(|p| {
                Ok(ProjectionExpr {
                    expr: with_partition(&p.expr, partition, &input_schema)?,
                    alias: p.alias.clone(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        ProjectionExec::try_new(exprs, Arc::clone(projection.input()))?.execute(partition, context)
    }
}

/// Wraps each projection calling `spark_partition_id()` in a [`PartitionIdExec`]; it runs
/// after every other physical rule, so none moves the projection off its partitions.
#[derive(Debug, Default)]
pub struct PartitionIdRule;

impl PhysicalOptimizerRule for PartitionIdRule {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(plan
            .transform_down(|node| {
                if node.downcast_ref::<PartitionIdExec>().is_some() {
                    return Ok(Transformed::new(node, false, TreeNodeRecursion::Jump));
                }
                let wraps = node
                    .downcast_ref::<ProjectionExec>()
                    .is_some_and(|p| p.expr().iter().any(|e| calls_partition_id(&e.expr)));
                if wraps {
                    let wrapped: Arc<dyn ExecutionPlan> = Arc::new(PartitionIdExec::new(node)?);
                    Ok(Transformed::new(wrapped, true, TreeNodeRecursion::Jump))
                } else {
                    Ok(Transformed::no(node))
                }
            })?
            .data)
    }

    fn name(&self) -> &str {
        "spark_partition_id"
    }

    fn schema_check(&self) -> bool {
        true
    }
}
