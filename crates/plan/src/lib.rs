//! Distributed plans for Ember. [`plan_stages`] cuts a DataFusion physical plan at its
//! exchanges into a DAG of stages; every stage ends in a [`ShuffleWriteExec`] that writes each
//! task's output as blocks (one data file plus an index per map task, compressed Arrow IPC),
//! and reads its inputs through [`ShuffleReadExec`], which fetches blocks from disk or over
//! Arrow Flight. [`encode_plan`]/[`decode_plan`] carry stage plans to executors.

mod blocks;
mod codec;
mod flight_client;
mod partition_id;
mod shuffle;
mod stages;

pub use blocks::{
    BlockError, BlockFetcher, MapOutputWriter, SharedFetcher, ipc_messages, map_output_path,
    read_block, read_block_encoded,
};
pub use codec::{EmberCodec, decode_plan, encode_plan};
pub use flight_client::{FlightFetcher, LocalBlocks};
pub use partition_id::{PartitionIdExec, PartitionIdRule};
pub use shuffle::{FetchFailedError, ReadMode, ShuffleReadExec, ShuffleWriteExec, TaskEnv};
pub use stages::{Stage, StageDag, plan_stages};

use std::sync::Arc;

use datafusion::error::Result;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::ExecutionPlan;
use futures::future::BoxFuture;

/// Something that runs a whole physical plan somewhere other than the calling process — the
/// driver's distributed scheduler. The SQL layer hands it every query plan; `context` carries
/// the session's settings (and is where plans that cannot be distributed run).
pub trait PlanRunner: Send + Sync {
    /// Session settings the plans given to this runner must be planned with.
    fn required_settings(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    fn run(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        context: Arc<TaskContext>,
    ) -> BoxFuture<'static, Result<SendableRecordBatchStream>>;
}
