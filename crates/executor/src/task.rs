//! Running one task: decode the stage plan, execute one partition of it (which writes the
//! task's blocks), and report the outcome, keeping a fetch failure typed as such.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use datafusion::error::DataFusionError;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::prelude::{SessionConfig, SessionContext};
use ember_plan::{FetchFailedError, FlightFetcher, TaskEnv, decode_plan};
use ember_proto::{
    ExecutorMessage, FetchFailed, LaunchTask, TaskFailed, TaskId, TaskKilled, TaskStatus,
    TaskSucceeded, executor_message, task_status,
};
use futures::TryStreamExt;
use tokio::sync::mpsc;

pub(crate) struct TaskRunner {
    pub executor_id: String,
    pub shuffle_root: PathBuf,
    pub runtime: Arc<RuntimeEnv>,
    pub fetcher: Arc<FlightFetcher>,
    pub outbound: mpsc::Sender<ExecutorMessage>,
    pub running: AtomicU32,
}

impl TaskRunner {
    pub fn running_tasks(&self) -> u32 {
        self.running.load(Ordering::Relaxed)
    }

    pub async fn run(&self, launch: LaunchTask) {
        self.running.fetch_add(1, Ordering::Relaxed);
        let task = launch.task.unwrap_or_default();
        tracing::debug!(executor = %self.executor_id, job = task.job_id, stage = task.stage_id, partition = task.partition, attempt = task.task_attempt, "task started");
        let started = std::time::Instant::now();
        let result = self.execute(launch).await;
        self.running.fetch_sub(1, Ordering::Relaxed);
        tracing::debug!(executor = %self.executor_id, job = task.job_id, stage = task.stage_id, partition = task.partition, ok = result.is_ok(), elapsed_ms = started.elapsed().as_millis() as u64, "task finished");
        let outcome = match result {
            Ok(stats) => task_status::Result::Succeeded(stats),
            Err(error) => match FetchFailedError::find(&error) {
                Some(fetch) => task_status::Result::FetchFailed(FetchFailed {
                    stage_id: fetch.stage_id,
                    map_partition: fetch.map_partition,
                    executor_id: fetch.executor_id.clone(),
                    message: fetch.to_string(),
                }),
                None => task_status::Result::Failed(TaskFailed {
                    message: error.strip_backtrace(),
                }),
            },
        };
        self.report(task, outcome).await;
    }

    pub async fn report_killed(&self, task: Option<TaskId>) {
        self.report(
            task.unwrap_or_default(),
            task_status::Result::Killed(TaskKilled {}),
        )
        .await;
    }

    async fn report(&self, task: TaskId, result: task_status::Result) {
        let status = ExecutorMessage {
            kind: Some(executor_message::Kind::Status(TaskStatus {
                task: Some(task),
                result: Some(result),
            })),
        };
        // If the driver is gone the executor is shutting down anyway.
        let _ = self.outbound.send(status).await;
    }

    async fn execute(&self, launch: LaunchTask) -> Result<TaskSucceeded, DataFusionError> {
        let task = launch.task.unwrap_or_default();
        let mut config = SessionConfig::new();
        for (key, value) in &launch.settings {
            config.options_mut().set(key, value)?;
        }
        let inputs: HashMap<u32, Vec<_>> = launch
            .inputs
            .into_iter()
            .map(|input| (input.stage_id, input.map_outputs))
            .collect();
        let env = TaskEnv {
            job_id: task.job_id,
            stage_attempt: task.stage_attempt,
            shuffle_root: self.shuffle_root.clone(),
            inputs,
            fetcher: self.fetcher.clone(),
        };
        let config = config.with_extension(Arc::new(env));
        let session = SessionContext::new_with_config_rt(config, self.runtime.clone());
        // Functions that read a setting when they are made (`to_timestamp` takes the session
        // time zone) must see the driver's settings, as they did when the plan was made.
        ember_functions::configure_functions(&session);
        let context = session.task_ctx();
        let plan = decode_plan(&launch.plan, &context)?;
        let batches: Vec<_> = plan
            .execute(task.partition as usize, context)?
            .try_collect()
            .await?;
        let mut stats = TaskSucceeded::default();
        for batch in batches {
            let rows = batch
                .column(1)
                .as_any()
                .downcast_ref::<arrow::array::UInt64Array>();
            let bytes = batch
                .column(2)
                .as_any()
                .downcast_ref::<arrow::array::UInt64Array>();
            if let (Some(rows), Some(bytes)) = (rows, bytes) {
                stats.partition_rows.extend(rows.values().iter().copied());
                stats.partition_bytes.extend(bytes.values().iter().copied());
            }
        }
        Ok(stats)
    }
}
