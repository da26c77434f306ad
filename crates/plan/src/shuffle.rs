//! The two operators at every stage boundary: [`ShuffleWriteExec`] ends a stage and writes
//! each of its tasks' output as blocks; [`ShuffleReadExec`] starts the next one and reads them.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{ArrayRef, UInt32Array, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::{EquivalenceProperties, Partitioning, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::Time;
use datafusion::physical_plan::repartition::{BatchPartitioner, RepartitionExec};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties,
};
use ember_proto::{BlockTicket, MapOutputLocation};
use futures::{StreamExt, TryStreamExt};

use crate::blocks::{BlockError, MapOutputWriter, SharedFetcher, map_output_path};

/// What a task needs beyond its plan: where to write, what to read, and how to fetch.
/// Attached to the task's session config as an extension.
#[derive(Debug)]
pub struct TaskEnv {
    pub job_id: u64,
    pub stage_attempt: u32,
    pub shuffle_root: PathBuf,
    /// Map output locations of every stage the task reads, by stage id, in map order.
    pub inputs: HashMap<u32, Vec<MapOutputLocation>>,
    pub fetcher: SharedFetcher,
}

fn task_env(context: &TaskContext) -> Result<Arc<TaskEnv>> {
    context
        .session_config()
        .get_extension::<TaskEnv>()
        .ok_or_else(|| {
            DataFusionError::Internal("shuffle operator run outside an Ember task".into())
        })
}

/// A block could not be fetched: its producer is presumed lost. Travels inside
/// `DataFusionError::External` so the executor can report it as a fetch failure, which makes
/// the scheduler re-run the map task that produced the block.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "fetch failed for stage {stage_id} map {map_partition} on executor {executor_id}: {source}"
)]
pub struct FetchFailedError {
    pub stage_id: u32,
    pub map_partition: u32,
    pub executor_id: String,
    pub source: BlockError,
}

impl FetchFailedError {
    /// Finds a fetch failure anywhere in an error's chain of causes.
    pub fn find(error: &DataFusionError) -> Option<&FetchFailedError> {
        let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(err) = current {
            if let Some(found) = err.downcast_ref::<FetchFailedError>() {
                return Some(found);
            }
            if let Some(DataFusionError::Shared(shared)) = err.downcast_ref::<DataFusionError>() {
                current = Some(shared.as_ref());
                continue;
            }
            current = err.source();
        }
        None
    }
}

fn stats_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("partition", DataType::UInt32, false),
        Field::new("rows", DataType::UInt64, false),
        Field::new("bytes", DataType::UInt64, false),
    ]))
}

/// Ends a stage. Its child is either the `RepartitionExec` DataFusion chose as the exchange,
/// which this operator performs across processes (each task runs one input partition of the
/// exchange and splits it into the exchange's output partitions), or any other plan, whose
/// partitions are written whole (one output partition per task).
#[derive(Debug)]
pub struct ShuffleWriteExec {
    stage_id: u32,
    input: Arc<dyn ExecutionPlan>,
    properties: Arc<PlanProperties>,
}

impl ShuffleWriteExec {
    pub fn new(stage_id: u32, input: Arc<dyn ExecutionPlan>) -> ShuffleWriteExec {
        let tasks = Self::source_of(&input)
            .output_partitioning()
            .partition_count();
        let properties = PlanProperties::new(
            EquivalenceProperties::new(stats_schema()),
            Partitioning::UnknownPartitioning(tasks),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        ShuffleWriteExec {
            stage_id,
            input,
            properties: Arc::new(properties),
        }
    }

    fn source_of(input: &Arc<dyn ExecutionPlan>) -> &Arc<dyn ExecutionPlan> {
        match input.downcast_ref::<RepartitionExec>() {
            Some(exchange) => exchange.input(),
            None => input,
        }
    }

    fn exchange(&self) -> Option<&RepartitionExec> {
        self.input.downcast_ref::<RepartitionExec>()
    }

    pub fn stage_id(&self) -> u32 {
        self.stage_id
    }

    pub fn input(&self) -> &Arc<dyn ExecutionPlan> {
        &self.input
    }

    /// How many tasks the stage has: one per input partition of the exchange.
    pub fn tasks(&self) -> usize {
        self.properties.partitioning.partition_count()
    }

    /// How many blocks each task writes: one per output partition of the exchange.
    pub fn output_partitions(&self) -> usize {
        self.exchange()
            .map(|e| e.partitioning().partition_count())
            .unwrap_or(1)
    }
}

impl DisplayAs for ShuffleWriteExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "ShuffleWriteExec: stage={}, tasks={}, partitions={}",
            self.stage_id,
            self.tasks(),
            self.output_partitions()
        )
    }
}

impl ExecutionPlan for ShuffleWriteExec {
    fn name(&self) -> &'static str {
        "ShuffleWriteExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
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
        let input = children
            .into_iter()
            .next()
            .ok_or_else(|| DataFusionError::Internal("ShuffleWriteExec needs one child".into()))?;
        Ok(Arc::new(ShuffleWriteExec::new(self.stage_id, input)))
    }

    /// Writes this task's blocks and yields one row per output partition: rows and bytes.
    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let env = task_env(&context)?;
        let batch_size = context.session_config().batch_size();
        let source = Self::source_of(&self.input);
        let schema = source.schema();
        let mut input = source.execute(partition, context)?;
        let outputs = self.output_partitions();
        let mut partitioner = match self.exchange() {
            Some(exchange) => Some(BatchPartitioner::try_new(
                exchange.partitioning().clone(),
                Time::new(),
                partition,
                self.tasks(),
            )?),
            None => None,
        };
        let path = map_output_path(
            &env.shuffle_root,
            env.job_id,
            self.stage_id,
            env.stage_attempt,
            partition as u32,
        );
        let write = async move {
            let mut writer = MapOutputWriter::new(path, outputs, schema, batch_size)?;
            while let Some(batch) = input.next().await {
                let batch = batch?;
                match partitioner.as_mut() {
                    Some(partitioner) => {
                        partitioner.partition(batch, |p, part| Ok(writer.write(p, &part)?))?
                    }
                    None => writer.write(0, &batch)?,
                }
            }
            let stats = writer.finish()?;
            let column = |values: Vec<u64>| Arc::new(UInt64Array::from(values)) as ArrayRef;
            Ok(RecordBatch::try_new(
                stats_schema(),
                vec![
                    Arc::new(UInt32Array::from_iter_values(0..stats.len() as u32)),
                    column(stats.iter().map(|s| s.1).collect()),
                    column(stats.iter().map(|s| s.0).collect()),
                ],
            )?)
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            stats_schema(),
            futures::stream::once(write),
        )))
    }
}

/// How a reading task's partition maps onto the blocks of the stage it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    /// Reduce partition p reads block p of every map task (after a hash or round-robin exchange).
    Partitioned,
    /// Partition p is map task p's only block (below a coalesce or a sort-preserving merge).
    Passthrough,
}

/// Starts a stage: reads the blocks an earlier stage wrote.
#[derive(Debug)]
pub struct ShuffleReadExec {
    stage_id: u32,
    mode: ReadMode,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
}

impl ShuffleReadExec {
    pub fn new(
        stage_id: u32,
        schema: SchemaRef,
        partitions: usize,
        mode: ReadMode,
    ) -> ShuffleReadExec {
        let properties = PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        ShuffleReadExec {
            stage_id,
            mode,
            schema,
            properties: Arc::new(properties),
        }
    }

    pub fn stage_id(&self) -> u32 {
        self.stage_id
    }

    pub fn mode(&self) -> ReadMode {
        self.mode
    }

    pub fn partitions(&self) -> usize {
        self.properties.partitioning.partition_count()
    }
}

impl DisplayAs for ShuffleReadExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "ShuffleReadExec: stage={}, partitions={}, mode={:?}",
            self.stage_id,
            self.partitions(),
            self.mode
        )
    }
}

impl ExecutionPlan for ShuffleReadExec {
    fn name(&self) -> &'static str {
        "ShuffleReadExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let env = task_env(&context)?;
        let locations = env.inputs.get(&self.stage_id).ok_or_else(|| {
            DataFusionError::Internal(format!("no block locations for stage {}", self.stage_id))
        })?;
        let blocks: Vec<(MapOutputLocation, u32)> = match self.mode {
            ReadMode::Partitioned => locations
                .iter()
                .map(|l| (l.clone(), partition as u32))
                .collect(),
            ReadMode::Passthrough => locations
                .iter()
                .filter(|l| l.map_partition as usize == partition)
                .map(|l| (l.clone(), 0))
                .collect(),
        };
        let stage_id = self.stage_id;
        let job_id = env.job_id;
        let fetcher = env.fetcher.clone();
        let batches = futures::stream::iter(blocks)
            .map(move |(location, reduce_partition)| {
                let ticket = BlockTicket {
                    job_id,
                    stage_id,
                    stage_attempt: location.stage_attempt,
                    map_partition: location.map_partition,
                    reduce_partition,
                };
                let fetch = fetcher.fetch(&location, ticket);
                async move {
                    fetch.await.map_err(|source| {
                        DataFusionError::External(Box::new(FetchFailedError {
                            stage_id,
                            map_partition: location.map_partition,
                            executor_id: location.executor_id.clone(),
                            source,
                        }))
                    })
                }
            })
            .buffer_unordered(4)
            .map_ok(|batches| futures::stream::iter(batches.into_iter().map(Ok)))
            .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            batches,
        )))
    }
}
