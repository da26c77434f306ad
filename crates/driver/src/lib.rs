//! Ember's driver: it accepts executors on a gRPC endpoint (each holds one long-lived stream,
//! authenticated by the application's secret), cuts every query plan into stages, schedules
//! their tasks on free cores, recovers from failed tasks and lost executors, and streams the
//! final stage's result back. It asks a [`ClusterManager`] for executors and never knows
//! whether they are child processes, pods or something else.

mod progress;
mod scheduler;
mod service;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use ember_plan::{BlockFetcher, FlightFetcher, PlanRunner, encode_plan, plan_stages};
use ember_proto::{BlockTicket, MAX_MESSAGE_BYTES, require_secret};
use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::sync::mpsc;

pub use crate::scheduler::{DriverMetrics, ExecutorInfo, SchedulerOptions};
use crate::scheduler::{Event, JobSpec, JobUpdate, Scheduler, StageSpec};

/// What a cluster manager needs to start executors that can find this driver.
#[derive(Clone)]
pub struct ExecutorLaunch {
    /// HOST:PORT of the driver's executor endpoint.
    pub driver_address: String,
    pub secret: String,
    /// The TLS files executors must use, when the application runs with TLS.
    pub tls: Option<ember_proto::TlsFiles>,
    /// Where the manager reports executors it knows are gone (their pod ended or vanished),
    /// so their work is recomputed without waiting for missed heartbeats.
    pub losses: ExecutorLosses,
}

/// Tells the driver's scheduler that an executor is gone, and why.
#[derive(Clone)]
pub struct ExecutorLosses(mpsc::UnboundedSender<Event>);

impl ExecutorLosses {
    /// Reporting an executor that never registered, or is already lost, does nothing.
    pub fn report(&self, executor_id: &str, reason: &str) {
        let _ = self.0.send(Event::Disconnected {
            executor_id: executor_id.to_string(),
            reason: reason.to_string(),
        });
    }
}

/// Where executors come from: the driver asks for them when it starts and gives them back
/// when it stops.
pub trait ClusterManager: Send {
    fn start(&mut self, launch: &ExecutorLaunch) -> Result<(), String>;
    /// Stops every executor this manager started. Must be safe to call more than once.
    fn stop(&mut self);
    /// Why this manager has given up providing executors (say, too many of them failed), if
    /// it has; the driver then stops waiting for executors and says why.
    fn failure(&self) -> Option<String> {
        None
    }
}

#[derive(Debug, Clone)]
pub struct DriverOptions {
    /// Host the executor endpoint binds (0.0.0.0 for executors on other machines).
    pub bind_host: String,
    /// Port of the executor endpoint; 0 picks a free one.
    pub port: u16,
    /// Host executors use to reach the driver.
    pub advertise_host: String,
    pub secret: String,
    /// TLS for the executor endpoint and for fetching results, when configured.
    pub tls: Option<ember_proto::Tls>,
    pub scheduler: SchedulerOptions,
}

#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("cannot listen on {address}: {message}")]
    Listen { address: String, message: String },
    #[error("cannot serve TLS on the executor endpoint: {0}")]
    Tls(String),
    #[error("cannot start executors: {0}")]
    Cluster(String),
    #[error(
        "{wanted} executor(s) did not register within {waited:?} ({registered} did); check the executors' logs"
    )]
    ExecutorsMissing {
        wanted: usize,
        registered: usize,
        waited: Duration,
    },
}

pub struct Driver {
    events: mpsc::UnboundedSender<Event>,
    address: String,
    fetcher: Arc<FlightFetcher>,
    cluster: Mutex<Option<Box<dyn ClusterManager>>>,
    next_job: AtomicU64,
    metrics: Arc<DriverMetrics>,
}

impl Driver {
    /// Starts the executor endpoint and the scheduler, then asks `cluster` for executors.
    pub async fn start(
        options: DriverOptions,
        cluster: Option<Box<dyn ClusterManager>>,
    ) -> Result<Arc<Driver>, DriverError> {
        let bind = format!("{}:{}", options.bind_host, options.port);
        let listener =
            tokio::net::TcpListener::bind(&bind)
                .await
                .map_err(|e| DriverError::Listen {
                    address: bind.clone(),
                    message: e.to_string(),
                })?;
        let port = listener
            .local_addr()
            .map_err(|e| DriverError::Listen {
                address: bind.clone(),
                message: e.to_string(),
            })?
            .port();
        let address = format!("{}:{port}", options.advertise_host);
        let (events, receiver) = mpsc::unbounded_channel();
        let metrics = Arc::new(DriverMetrics::default());
        tokio::spawn(Scheduler::new(options.scheduler.clone(), metrics.clone()).run(receiver));

        let service =
            service::DriverService::new(events.clone(), options.scheduler.heartbeat_interval);
        let server = ember_proto::driver_server::DriverServer::new(service)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let intercepted = tonic::service::interceptor::InterceptedService::new(
            server,
            require_secret(options.secret.as_str().into(), "driver"),
        );
        // Nagle's algorithm with delayed ACKs stalls small responses by ~40 ms each; `tcp_nodelay`
        // on the builder applies only to listeners tonic binds itself, so set it here.
        let incoming =
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
        let mut builder = tonic::transport::Server::builder();
        if let Some(tls) = &options.tls {
            builder = builder
                .tls_config(tls.server())
                .map_err(|e| DriverError::Tls(e.to_string()))?;
        }
        tokio::spawn(async move {
            if let Err(e) = builder
                .add_service(intercepted)
                .serve_with_incoming(incoming)
                .await
            {
                tracing::error!(error = %e, "driver endpoint stopped");
            }
        });
        tracing::info!(%address, "driver listening for executors");

        let driver = Arc::new(Driver {
            events,
            address: address.clone(),
            fetcher: Arc::new(FlightFetcher::new(
                None,
                &options.secret,
                options.tls.clone(),
            )),
            cluster: Mutex::new(None),
            next_job: AtomicU64::new(1),
            metrics,
        });
        if let Some(mut cluster) = cluster {
            cluster
                .start(&ExecutorLaunch {
                    driver_address: address,
                    secret: options.secret.clone(),
                    tls: options.tls.as_ref().map(|t| t.files().clone()),
                    losses: ExecutorLosses(driver.events.clone()),
                })
                .map_err(DriverError::Cluster)?;
            *driver.cluster.lock().unwrap_or_else(|p| p.into_inner()) = Some(cluster);
        }
        Ok(driver)
    }

    /// Shuffle bytes written and peak executor memory, since the driver started.
    pub fn metrics(&self) -> &DriverMetrics {
        &self.metrics
    }

    /// HOST:PORT executors connect to.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The executors registered now.
    pub async fn executors(&self) -> Vec<ExecutorInfo> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        if self.events.send(Event::ListExecutors(reply)).is_err() {
            return Vec::new();
        }
        answer.await.unwrap_or_default()
    }

    /// Waits until at least `wanted` executors have registered.
    pub async fn wait_for_executors(
        &self,
        wanted: usize,
        timeout: Duration,
    ) -> Result<(), DriverError> {
        let started = std::time::Instant::now();
        loop {
            let registered = self.executors().await.len();
            if registered >= wanted {
                return Ok(());
            }
            if let Some(reason) = self.cluster_failure() {
                return Err(DriverError::Cluster(reason));
            }
            if started.elapsed() > timeout {
                return Err(DriverError::ExecutorsMissing {
                    wanted,
                    registered,
                    waited: timeout,
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs `plan` on the executors and returns its result.
    pub async fn execute(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        if let Some(reason) = self.cluster_failure() {
            return Err(DataFusionError::Execution(reason));
        }
        let dag = plan_stages(plan)?;
        let schema = dag.final_stage().plan.children()[0].schema();
        let stages = dag
            .stages
            .iter()
            .map(|stage| {
                Ok(StageSpec {
                    id: stage.id,
                    plan: Arc::new(encode_plan(stage.plan.clone())?),
                    inputs: stage.inputs.clone(),
                    tasks: stage.tasks,
                })
            })
            .collect::<DfResult<Vec<_>>>()?;
        let settings: HashMap<String, String> = context
            .session_config()
            .options()
            .entries()
            .into_iter()
            .filter_map(|entry| entry.value.map(|value| (entry.key, value)))
            .collect();
        let job_id = self.next_job.fetch_add(1, Ordering::Relaxed);
        let (updates, mut receiver) = mpsc::unbounded_channel();
        self.events
            .send(Event::Submit(Box::new(JobSpec {
                id: job_id,
                stages,
                settings,
                updates,
            })))
            .map_err(|_| DataFusionError::Execution("the driver has stopped".into()))?;
        let mut guard = JobGuard {
            events: self.events.clone(),
            job_id,
            done: false,
        };
        // The cluster manager can give up while the job runs (spark.executor.maxNumFailures):
        // then the job fails with its reason, as the application does in Spark.
        let mut cluster_check = tokio::time::interval(Duration::from_millis(250));
        loop {
            let update = tokio::select! {
                update = receiver.recv() => update,
                _ = cluster_check.tick() => match self.cluster_failure() {
                    // The guard cancels the job's running tasks.
                    Some(reason) => return Err(DataFusionError::Execution(reason)),
                    None => continue,
                },
            };
            match update {
                Some(JobUpdate::Ready(location)) => {
                    let ticket = BlockTicket {
                        job_id,
                        stage_id: dag.final_stage().id,
                        stage_attempt: location.stage_attempt,
                        map_partition: 0,
                        reduce_partition: 0,
                    };
                    match self.fetcher.fetch(&location, ticket).await {
                        Ok(batches) => {
                            guard.done = true;
                            let _ = self.events.send(Event::Finished {
                                job_id,
                                cancelled: false,
                            });
                            let stream = futures::stream::iter(batches.into_iter().map(Ok));
                            return Ok(Box::pin(RecordBatchStreamAdapter::new(schema, stream)));
                        }
                        Err(e) => {
                            tracing::warn!(executor = %location.executor_id, error = %e, "cannot fetch the result; recomputing it");
                            let _ = self.events.send(Event::FinalLost {
                                job_id,
                                executor_id: location.executor_id,
                            });
                        }
                    }
                }
                Some(JobUpdate::Failed(message)) => {
                    guard.done = true;
                    let _ = self.events.send(Event::Finished {
                        job_id,
                        cancelled: false,
                    });
                    return Err(DataFusionError::Execution(message));
                }
                None => return Err(DataFusionError::Execution("the driver has stopped".into())),
            }
        }
    }

    /// Why the cluster manager gave up providing executors, if it did.
    pub fn cluster_failure(&self) -> Option<String> {
        self.cluster
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .and_then(|c| c.failure())
    }

    /// Stops the scheduler (which tells executors to shut down) and the cluster manager.
    pub fn stop(&self) {
        let _ = self.events.send(Event::Shutdown);
        if let Some(mut cluster) = self
            .cluster
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            cluster.stop();
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Cancels the job if the caller stops waiting for it (Ctrl-C drops the future).
struct JobGuard {
    events: mpsc::UnboundedSender<Event>,
    job_id: u64,
    done: bool,
}

impl Drop for JobGuard {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.events.send(Event::Finished {
                job_id: self.job_id,
                cancelled: true,
            });
        }
    }
}

/// The driver as the SQL layer's plan runner. Plans that cannot be encoded (those reading
/// data that lives only in the driver, such as `information_schema`) run in the driver.
pub struct DistributedRunner(pub Arc<Driver>);

impl PlanRunner for DistributedRunner {
    /// Each task runs its own decoded copy of a stage's plan, one partition of it, so nothing
    /// may rely on sibling partitions in the same process: file scans must read exactly their
    /// planned file group (no work stealing, or every copy reads every file), and join and
    /// aggregate dynamic filters wait for every partition's build side (they would wait
    /// forever). Uncorrelated scalar subqueries are planned as joins rather than as a
    /// `ScalarSubqueryExec`, whose results reach their expressions through shared memory.
    fn required_settings(&self) -> &'static [(&'static str, &'static str)] {
        &[
            (
                "datafusion.optimizer.enable_physical_uncorrelated_scalar_subquery",
                "false",
            ),
            (
                "datafusion.execution.enable_file_stream_work_stealing",
                "false",
            ),
            (
                "datafusion.optimizer.enable_join_dynamic_filter_pushdown",
                "false",
            ),
            (
                "datafusion.optimizer.enable_aggregate_dynamic_filter_pushdown",
                "false",
            ),
        ]
    }

    fn run(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        context: Arc<TaskContext>,
    ) -> BoxFuture<'static, DfResult<SendableRecordBatchStream>> {
        let driver = self.0.clone();
        async move {
            if let Err(e) = encode_plan(plan.clone()) {
                tracing::debug!(reason = %e, "plan runs in the driver");
                return datafusion::physical_plan::execute_stream(plan, context);
            }
            driver.execute(plan, context).await
        }
        .boxed()
    }
}
