//! The stage DAG: DataFusion's physical plan cut at its exchanges.
//!
//! Cuts are made where data must move between partitions: every `RepartitionExec` (hash or
//! round-robin), and below every `CoalescePartitionsExec` and `SortPreservingMergeExec`
//! (which also covers the collected side of joins, which DataFusion feeds through a coalesce).
//! Everything between two cuts runs inside one task, pipelined, exactly as DataFusion runs it.

use std::fmt::Write;
use std::sync::Arc;

use datafusion::common::JoinType;
use datafusion::error::Result;
use datafusion::physical_expr::Partitioning;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::joins::{HashJoinExec, NestedLoopJoinExec, PartitionMode};
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;
use datafusion::physical_plan::{
    ExecutionPlan, ExecutionPlanProperties, displayable, replace_children_if_necessary,
};

use crate::shuffle::{ReadMode, ShuffleReadExec, ShuffleWriteExec};

/// One stage: a plan ending in a [`ShuffleWriteExec`], run as one task per partition.
#[derive(Debug, Clone)]
pub struct Stage {
    pub id: u32,
    pub plan: Arc<dyn ExecutionPlan>,
    /// Stages whose output this stage reads.
    pub inputs: Vec<u32>,
    pub tasks: usize,
}

/// Stages in dependency order: every stage comes after the stages it reads. The last stage
/// is the final one, with a single task whose single block is the query's result.
#[derive(Debug, Clone)]
pub struct StageDag {
    pub stages: Vec<Stage>,
}

impl StageDag {
    pub fn final_stage(&self) -> &Stage {
        self.stages
            .last()
            .expect("a stage DAG has at least its final stage")
    }

    /// The DAG as text, for EXPLAIN.
    pub fn display(&self) -> String {
        let mut out = String::new();
        for stage in &self.stages {
            let inputs = if stage.inputs.is_empty() {
                "reads no stage".to_string()
            } else {
                format!(
                    "reads stages {}",
                    stage
                        .inputs
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let _ = writeln!(out, "Stage {} ({} tasks, {inputs}):", stage.id, stage.tasks);
            for line in displayable(stage.plan.as_ref())
                .indent(false)
                .to_string()
                .lines()
            {
                let _ = writeln!(out, "  {line}");
            }
        }
        out
    }
}

/// Cuts `plan` into stages.
pub fn plan_stages(plan: Arc<dyn ExecutionPlan>) -> Result<StageDag> {
    let plan = partition_joins_that_emit_build_rows(plan)?;
    let plan = if plan.output_partitioning().partition_count() > 1 {
        Arc::new(CoalescePartitionsExec::new(plan)) as Arc<dyn ExecutionPlan>
    } else {
        plan
    };
    let mut stages = Vec::new();
    let root = cut(plan, &mut stages)?;
    add_stage(&mut stages, root);
    Ok(StageDag { stages })
}

/// A join that collects its build side once and emits unmatched build rows (left outer,
/// full, left semi/anti/mark) emits them from whichever of its output partitions finishes last,
/// counting partitions within one process. Distributed, every task runs its own copy with one
/// partition, so no copy would ever see the others finish. Hash joins of that kind become
/// partitioned joins (both sides hash-shuffled on the join keys, so each task owns its share
/// of the build side and emits its own unmatched rows); joins that cannot be partitioned
/// (nested loops, null-aware anti joins) get a single probe partition instead.
fn partition_joins_that_emit_build_rows(
    plan: Arc<dyn ExecutionPlan>,
) -> Result<Arc<dyn ExecutionPlan>> {
    let children = plan
        .children()
        .into_iter()
        .map(|child| partition_joins_that_emit_build_rows(child.clone()))
        .collect::<Result<Vec<_>>>()?;
    let plan = if children.is_empty() {
        plan
    } else {
        replace_children_if_necessary(plan, children)?
    };
    let emits_build_rows = |join_type: &JoinType| {
        matches!(
            join_type,
            JoinType::Left
                | JoinType::Full
                | JoinType::LeftSemi
                | JoinType::LeftAnti
                | JoinType::LeftMark
        )
    };
    let children: Vec<Arc<dyn ExecutionPlan>> = plan.children().into_iter().cloned().collect();
    if children.len() != 2 {
        return Ok(plan);
    }
    let partitions = children
        .iter()
        .map(|c| c.output_partitioning().partition_count())
        .max()
        .unwrap_or(1);
    if let Some(join) = plan.downcast_ref::<HashJoinExec>()
        && *join.partition_mode() == PartitionMode::CollectLeft
        && emits_build_rows(join.join_type())
    {
        if !join.null_aware && partitions > 1 {
            // The collected side arrives through a coalesce; shuffle its input instead.
            let build = match children[0].downcast_ref::<CoalescePartitionsExec>() {
                Some(coalesce) => coalesce.input().clone(),
                None => children[0].clone(),
            };
            let (build_keys, probe_keys): (Vec<_>, Vec<_>) = join.on().iter().cloned().unzip();
            let build = Arc::new(RepartitionExec::try_new(
                build,
                Partitioning::Hash(build_keys, partitions),
            )?);
            let probe = Arc::new(RepartitionExec::try_new(
                children[1].clone(),
                Partitioning::Hash(probe_keys, partitions),
            )?);
            return join
                .builder()
                .with_partition_mode(PartitionMode::Partitioned)
                .with_new_children(vec![build, probe])?
                .recompute_properties()
                .build_exec();
        }
    } else if !plan
        .downcast_ref::<NestedLoopJoinExec>()
        .is_some_and(|j| emits_build_rows(j.join_type()))
    {
        return Ok(plan);
    }
    if children[1].output_partitioning().partition_count() <= 1 {
        return Ok(plan);
    }
    let probe: Arc<dyn ExecutionPlan> = Arc::new(CoalescePartitionsExec::new(children[1].clone()));
    replace_children_if_necessary(plan, vec![children[0].clone(), probe])
}

fn add_stage(stages: &mut Vec<Stage>, plan: Arc<dyn ExecutionPlan>) -> u32 {
    let id = stages.len() as u32 + 1;
    let mut inputs = Vec::new();
    collect_reads(&plan, &mut inputs);
    let write = ShuffleWriteExec::new(id, plan);
    stages.push(Stage {
        id,
        tasks: write.tasks(),
        plan: Arc::new(write),
        inputs,
    });
    id
}

fn collect_reads(plan: &Arc<dyn ExecutionPlan>, out: &mut Vec<u32>) {
    if let Some(read) = plan.downcast_ref::<ShuffleReadExec>() {
        if !out.contains(&read.stage_id()) {
            out.push(read.stage_id());
        }
        return;
    }
    for child in plan.children() {
        collect_reads(child, out);
    }
}

fn cut(plan: Arc<dyn ExecutionPlan>, stages: &mut Vec<Stage>) -> Result<Arc<dyn ExecutionPlan>> {
    let children = plan
        .children()
        .into_iter()
        .map(|child| cut(child.clone(), stages))
        .collect::<Result<Vec<_>>>()?;
    let plan = if children.is_empty() {
        plan
    } else {
        replace_children_if_necessary(plan, children)?
    };

    if let Some(exchange) = plan.downcast_ref::<RepartitionExec>() {
        let partitions = exchange.partitioning().partition_count();
        let ordering = exchange
            .preserve_order()
            .then(|| exchange.properties().output_ordering().cloned())
            .flatten();
        let schema = plan.schema();
        let stage = add_stage(stages, plan);
        let read: Arc<dyn ExecutionPlan> = Arc::new(ShuffleReadExec::new(
            stage,
            schema,
            partitions,
            ReadMode::Partitioned,
        ));
        // An order-preserving exchange promised sorted partitions; blocks from several map
        // tasks arrive interleaved, so sort them again.
        return Ok(match ordering {
            Some(ordering) => {
                Arc::new(SortExec::new(ordering, read).with_preserve_partitioning(true))
            }
            None => read,
        });
    }
    let merges = plan.is::<CoalescePartitionsExec>() || plan.is::<SortPreservingMergeExec>();
    if merges && let Some(child) = plan.children().first().map(|c| (*c).clone()) {
        let partitions = child.output_partitioning().partition_count();
        let schema = child.schema();
        let stage = add_stage(stages, child);
        let read: Arc<dyn ExecutionPlan> = Arc::new(ShuffleReadExec::new(
            stage,
            schema,
            partitions,
            ReadMode::Passthrough,
        ));
        return replace_children_if_necessary(plan, vec![read]);
    }
    Ok(plan)
}
