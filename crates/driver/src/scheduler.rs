//! The scheduler: one task that owns all scheduling state and reacts to events — executors
//! arriving and leaving, task outcomes, jobs submitted and cancelled — so no state is shared
//! behind locks. Jobs become stages, stages become one task per partition; a stage runs when
//! every stage it reads is complete. Lost blocks (an executor gone, a fetch failure) send
//! exactly the map tasks that made them back to pending, and the stages that read them wait.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ember_proto::{
    DriverMessage, KillTask, LaunchTask, MapOutputLocation, StageInput, TaskId, TaskStatus,
    driver_message, task_status,
};
use tokio::sync::mpsc;
use tonic::Status;

use crate::progress::StageProgress;

pub(crate) type ExecutorSender = mpsc::Sender<Result<DriverMessage, Status>>;

pub(crate) enum Event {
    Registered {
        executor_id: String,
        flight_address: String,
        cores: u32,
        sender: ExecutorSender,
    },
    Status {
        executor_id: String,
        status: TaskStatus,
    },
    Heartbeat {
        executor_id: String,
        peak_memory_bytes: u64,
    },
    Disconnected {
        executor_id: String,
        reason: String,
    },
    Submit(Box<JobSpec>),
    /// The final block could not be fetched from this executor.
    FinalLost {
        job_id: u64,
        executor_id: String,
    },
    /// The job's result has been taken, or its caller is gone: forget it.
    Finished {
        job_id: u64,
        cancelled: bool,
    },
    ListExecutors(tokio::sync::oneshot::Sender<Vec<ExecutorInfo>>),
    Shutdown,
}

pub(crate) struct StageSpec {
    pub id: u32,
    pub plan: std::sync::Arc<Vec<u8>>,
    pub inputs: Vec<u32>,
    pub tasks: usize,
}

pub(crate) struct JobSpec {
    pub id: u64,
    pub stages: Vec<StageSpec>,
    pub settings: HashMap<String, String>,
    pub updates: mpsc::UnboundedSender<JobUpdate>,
}

pub(crate) enum JobUpdate {
    /// Where the final stage's single block is.
    Ready(MapOutputLocation),
    Failed(String),
}

/// A registered executor, as the driver sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutorInfo {
    pub id: String,
    pub flight_address: String,
    pub cores: u32,
}

#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    pub heartbeat_interval: Duration,
    /// An executor silent for this long is lost (spark.network.timeout).
    pub network_timeout: Duration,
    /// Attempts of one task before its job fails (spark.task.maxFailures).
    pub task_max_failures: u32,
    /// Task failures after which an executor gets no more tasks, while others remain.
    pub executor_max_failures: u32,
    /// Times a stage may lose its outputs and run again before its job fails.
    pub stage_max_attempts: u32,
    pub progress: bool,
}

struct Executor {
    sender: ExecutorSender,
    flight_address: String,
    cores: u32,
    running: usize,
    last_seen: Instant,
    failures: u32,
}

struct StageRun {
    id: u32,
    plan: std::sync::Arc<Vec<u8>>,
    inputs: Vec<u32>,
    attempt: u32,
    outputs: Vec<Option<MapOutputLocation>>,
    pending: BTreeSet<u32>,
    /// partition -> (executor, task attempt)
    running: HashMap<u32, (String, u32)>,
    task_attempts: Vec<u32>,
    failures: Vec<u32>,
    progress: StageProgress,
}

impl StageRun {
    fn complete(&self) -> bool {
        self.outputs.iter().all(Option::is_some)
    }
}

struct Job {
    id: u64,
    stages: Vec<StageRun>,
    settings: HashMap<String, String>,
    updates: mpsc::UnboundedSender<JobUpdate>,
    delivered: bool,
}

impl Job {
    fn stage_mut(&mut self, id: u32) -> Option<&mut StageRun> {
        self.stages.iter_mut().find(|s| s.id == id)
    }

    fn fail(&mut self, message: String) {
        tracing::error!(job = self.id, "{message}");
        let _ = self.updates.send(JobUpdate::Failed(message));
        self.delivered = true;
    }
}

/// Counters the driver reports, shared with it.
#[derive(Debug, Default)]
pub struct DriverMetrics {
    /// Bytes of shuffle blocks written by successful map tasks (compressed, on disk).
    pub shuffle_bytes: AtomicU64,
    /// The highest peak resident memory any executor has reported.
    pub peak_executor_memory: AtomicU64,
}

pub(crate) struct Scheduler {
    options: SchedulerOptions,
    metrics: Arc<DriverMetrics>,
    executors: HashMap<String, Executor>,
    jobs: Vec<Job>,
    /// Since when no executor has been registered while jobs wait.
    idle_since: Option<Instant>,
}

impl Scheduler {
    pub fn new(options: SchedulerOptions, metrics: Arc<DriverMetrics>) -> Scheduler {
        Scheduler {
            options,
            metrics,
            executors: HashMap::new(),
            jobs: Vec::new(),
            idle_since: None,
        }
    }

    pub async fn run(mut self, mut events: mpsc::UnboundedReceiver<Event>) {
        let mut ticker = tokio::time::interval(self.options.heartbeat_interval);
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Some(Event::Shutdown) | None => break,
                    Some(event) => self.handle(event),
                },
                _ = ticker.tick() => self.check_heartbeats(),
            }
            self.schedule();
        }
        for (_, executor) in self.executors.drain() {
            let shutdown = DriverMessage {
                kind: Some(driver_message::Kind::Shutdown(ember_proto::Shutdown {
                    reason: "the application ended".into(),
                })),
            };
            let _ = executor.sender.try_send(Ok(shutdown));
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Registered {
                executor_id,
                flight_address,
                cores,
                sender,
            } => {
                tracing::info!(executor = %executor_id, %flight_address, cores, "executor registered");
                self.executors.insert(
                    executor_id,
                    Executor {
                        sender,
                        flight_address,
                        cores,
                        running: 0,
                        last_seen: Instant::now(),
                        failures: 0,
                    },
                );
            }
            Event::Heartbeat {
                executor_id,
                peak_memory_bytes,
            } => {
                if let Some(executor) = self.executors.get_mut(&executor_id) {
                    executor.last_seen = Instant::now();
                }
                self.metrics
                    .peak_executor_memory
                    .fetch_max(peak_memory_bytes, Ordering::Relaxed);
            }
            Event::Status {
                executor_id,
                status,
            } => self.on_status(&executor_id, status),
            Event::Disconnected {
                executor_id,
                reason,
            } => self.lose_executor(&executor_id, &reason),
            Event::Submit(spec) => self.submit(*spec),
            Event::FinalLost {
                job_id,
                executor_id,
            } => {
                if let Some(job) = self.jobs.iter_mut().find(|j| j.id == job_id) {
                    job.delivered = false;
                    lose_outputs(job, &executor_id, None);
                }
            }
            Event::Finished { job_id, cancelled } => self.finish(job_id, cancelled),
            Event::ListExecutors(reply) => {
                let mut executors: Vec<ExecutorInfo> = self
                    .executors
                    .iter()
                    .map(|(id, e)| ExecutorInfo {
                        id: id.clone(),
                        flight_address: e.flight_address.clone(),
                        cores: e.cores,
                    })
                    .collect();
                executors.sort_by(|a, b| a.id.cmp(&b.id));
                let _ = reply.send(executors);
            }
            Event::Shutdown => {}
        }
    }

    fn submit(&mut self, spec: JobSpec) {
        let stages = spec
            .stages
            .into_iter()
            .map(|s| StageRun {
                id: s.id,
                plan: s.plan,
                inputs: s.inputs,
                attempt: 0,
                outputs: vec![None; s.tasks],
                pending: (0..s.tasks as u32).collect(),
                running: HashMap::new(),
                task_attempts: vec![0; s.tasks],
                failures: vec![0; s.tasks],
                progress: StageProgress::new(s.id, s.tasks, self.options.progress),
            })
            .collect();
        self.jobs.push(Job {
            id: spec.id,
            stages,
            settings: spec.settings,
            updates: spec.updates,
            delivered: false,
        });
    }

    fn finish(&mut self, job_id: u64, cancelled: bool) {
        let Some(index) = self.jobs.iter().position(|j| j.id == job_id) else {
            return;
        };
        let job = self.jobs.remove(index);
        if !cancelled {
            return;
        }
        for stage in &job.stages {
            for (partition, (executor_id, task_attempt)) in &stage.running {
                if let Some(executor) = self.executors.get_mut(executor_id) {
                    executor.running = executor.running.saturating_sub(1);
                    let kill = DriverMessage {
                        kind: Some(driver_message::Kind::Kill(KillTask {
                            task: Some(TaskId {
                                job_id,
                                stage_id: stage.id,
                                stage_attempt: stage.attempt,
                                partition: *partition,
                                task_attempt: *task_attempt,
                            }),
                        })),
                    };
                    let _ = executor.sender.try_send(Ok(kill));
                }
            }
        }
        tracing::info!(job = job_id, "job cancelled; its running tasks were killed");
    }

    fn on_status(&mut self, executor_id: &str, status: TaskStatus) {
        let Some(task) = status.task else { return };
        let flight_address = match self.executors.get_mut(executor_id) {
            Some(executor) => {
                executor.last_seen = Instant::now();
                executor.flight_address.clone()
            }
            None => return, // already declared lost; its work was rescheduled
        };
        let Some(job) = self.jobs.iter_mut().find(|j| j.id == task.job_id) else {
            return;
        };
        let max_failures = self.options.task_max_failures;
        let stage_max_attempts = self.options.stage_max_attempts;
        let final_stage = job.stages.last().map(|s| s.id).unwrap_or_default();
        let Some(stage) = job.stage_mut(task.stage_id) else {
            return;
        };
        // Only the attempt the scheduler is waiting for counts; late reports of others do not.
        let is_current = stage.running.get(&task.partition)
            == Some(&(executor_id.to_string(), task.task_attempt));
        if !is_current {
            return;
        }
        stage.running.remove(&task.partition);
        if let Some(executor) = self.executors.get_mut(executor_id) {
            executor.running = executor.running.saturating_sub(1);
        }
        match status.result {
            Some(task_status::Result::Succeeded(succeeded)) => {
                let written: u64 = succeeded.partition_bytes.iter().sum();
                // The final stage's block is the result, not a shuffle.
                if stage.id != final_stage {
                    self.metrics
                        .shuffle_bytes
                        .fetch_add(written, Ordering::Relaxed);
                }
                stage.outputs[task.partition as usize] = Some(MapOutputLocation {
                    map_partition: task.partition,
                    executor_id: executor_id.to_string(),
                    flight_address,
                    stage_attempt: task.stage_attempt,
                });
                stage
                    .progress
                    .update(stage.outputs.iter().flatten().count(), stage.running.len());
            }
            Some(task_status::Result::Failed(failed)) => {
                let count = &mut stage.failures[task.partition as usize];
                *count += 1;
                tracing::warn!(executor = executor_id, stage = stage.id, partition = task.partition, attempt = task.task_attempt, error = %failed.message, "task failed");
                if *count >= max_failures {
                    let message = format!(
                        "task {} of stage {} failed {} times; last error: {}",
                        task.partition, stage.id, count, failed.message
                    );
                    job.fail(message);
                } else {
                    stage.pending.insert(task.partition);
                }
                if let Some(executor) = self.executors.get_mut(executor_id) {
                    executor.failures += 1;
                }
            }
            Some(task_status::Result::FetchFailed(fetch)) => {
                tracing::warn!(stage = task.stage_id, partition = task.partition, lost_stage = fetch.stage_id, lost_executor = %fetch.executor_id, "fetch failed: {}", fetch.message);
                stage.pending.insert(task.partition);
                let lost = lose_outputs(job, &fetch.executor_id, Some(fetch.stage_id));
                if let Some(producer) = job.stage_mut(fetch.stage_id)
                    && lost
                    && producer.attempt >= stage_max_attempts
                {
                    let message = format!(
                        "stage {} lost its output {} times; last: {}",
                        fetch.stage_id, producer.attempt, fetch.message
                    );
                    job.fail(message);
                }
            }
            Some(task_status::Result::Killed(_)) | None => {
                stage.pending.insert(task.partition);
            }
        }
    }

    fn lose_executor(&mut self, executor_id: &str, reason: &str) {
        let Some(executor) = self.executors.remove(executor_id) else {
            return;
        };
        drop(executor);
        let mut rerun = 0;
        for job in &mut self.jobs {
            for stage in &mut job.stages {
                let lost: Vec<u32> = stage
                    .running
                    .iter()
                    .filter(|(_, (e, _))| e == executor_id)
                    .map(|(p, _)| *p)
                    .collect();
                for partition in lost {
                    stage.running.remove(&partition);
                    stage.pending.insert(partition);
                    rerun += 1;
                }
            }
            lose_outputs(job, executor_id, None);
        }
        tracing::warn!(
            executor = executor_id,
            reason,
            running_tasks_rerun = rerun,
            "executor lost; its blocks will be recomputed"
        );
    }

    fn check_heartbeats(&mut self) {
        let timeout = self.options.network_timeout;
        let silent: Vec<String> = self
            .executors
            .iter()
            .filter(|(_, e)| e.last_seen.elapsed() > timeout)
            .map(|(id, _)| id.clone())
            .collect();
        for executor_id in silent {
            self.lose_executor(&executor_id, &format!("no heartbeat for {timeout:?}"));
        }
        // Jobs must not wait forever for executors that are not coming back.
        let waiting = self.jobs.iter().any(|j| !j.delivered);
        if !self.executors.is_empty() || !waiting {
            self.idle_since = None;
            return;
        }
        let since = *self.idle_since.get_or_insert_with(Instant::now);
        if since.elapsed() > timeout {
            for job in self.jobs.iter_mut().filter(|j| !j.delivered) {
                job.fail(format!(
                    "no executor has been available for {timeout:?}; the job cannot run"
                ));
            }
        }
    }

    fn schedule(&mut self) {
        let usable = self
            .executors
            .values()
            .filter(|e| e.failures < self.options.executor_max_failures)
            .count();
        let max_failures = self.options.executor_max_failures;
        for job in &mut self.jobs {
            if job.delivered {
                continue;
            }
            let final_stage = job.stages.last().map(|s| s.id).unwrap_or_default();
            if let Some(last) = job.stages.last()
                && last.complete()
                && let Some(location) = last.outputs[0].clone()
            {
                tracing::debug!(job = job.id, "job's final block ready");
                let _ = job.updates.send(JobUpdate::Ready(location));
                job.delivered = true;
                continue;
            }
            let complete: Vec<u32> = job
                .stages
                .iter()
                .filter(|s| s.complete())
                .map(|s| s.id)
                .collect();
            for index in 0..job.stages.len() {
                let ready = job.stages[index]
                    .inputs
                    .iter()
                    .all(|i| complete.contains(i));
                if !ready || job.stages[index].pending.is_empty() {
                    continue;
                }
                let inputs: Vec<StageInput> = job.stages[index]
                    .inputs
                    .iter()
                    .filter_map(|input| job.stages.iter().find(|s| s.id == *input))
                    .map(|s| StageInput {
                        stage_id: s.id,
                        map_outputs: s.outputs.iter().flatten().cloned().collect(),
                    })
                    .collect();
                let stage = &mut job.stages[index];
                let first_launch =
                    stage.running.is_empty() && stage.outputs.iter().all(Option::is_none);
                while let Some(&partition) = stage.pending.first() {
                    // The executor with the most free cores, skipping ones that keep failing
                    // tasks as long as there are others.
                    let chosen = self
                        .executors
                        .iter_mut()
                        .filter(|(_, e)| {
                            e.running < e.cores as usize
                                && (e.failures < max_failures || usable == 0)
                        })
                        .max_by_key(|(id, e)| {
                            (
                                e.cores as usize - e.running,
                                std::cmp::Reverse((*id).clone()),
                            )
                        });
                    let Some((executor_id, executor)) = chosen else {
                        break;
                    };
                    let task_attempt = stage.task_attempts[partition as usize];
                    stage.task_attempts[partition as usize] += 1;
                    let launch = LaunchTask {
                        task: Some(TaskId {
                            job_id: job.id,
                            stage_id: stage.id,
                            stage_attempt: stage.attempt,
                            partition,
                            task_attempt,
                        }),
                        plan: stage.plan.as_ref().clone(),
                        inputs: inputs.clone(),
                        settings: job.settings.clone(),
                    };
                    let message = DriverMessage {
                        kind: Some(driver_message::Kind::Launch(launch)),
                    };
                    if executor.sender.try_send(Ok(message)).is_err() {
                        // Its stream is gone or full; the disconnect event will follow.
                        break;
                    }
                    if first_launch && stage.running.is_empty() {
                        tracing::info!(job = job.id, stage = stage.id, attempt = stage.attempt, tasks = stage.outputs.len(), reads = ?stage.inputs, "stage started");
                    }
                    executor.running += 1;
                    stage.pending.remove(&partition);
                    stage
                        .running
                        .insert(partition, (executor_id.clone(), task_attempt));
                    tracing::debug!(job = job.id, stage = stage.id, partition, executor = %executor_id, final_stage = stage.id == final_stage, "task launched");
                }
                stage
                    .progress
                    .update(stage.outputs.iter().flatten().count(), stage.running.len());
            }
        }
    }
}

/// Marks every block of `job` held by `executor_id` (in one stage, or all) as lost, sends
/// the map tasks that made them back to pending under a new stage attempt, and returns whether
/// anything was lost.
fn lose_outputs(job: &mut Job, executor_id: &str, only_stage: Option<u32>) -> bool {
    let mut any = false;
    for stage in &mut job.stages {
        if only_stage.is_some_and(|s| s != stage.id) {
            continue;
        }
        let mut lost_here = false;
        for (partition, output) in stage.outputs.iter_mut().enumerate() {
            if output
                .as_ref()
                .is_some_and(|o| o.executor_id == executor_id)
            {
                *output = None;
                stage.pending.insert(partition as u32);
                lost_here = true;
            }
        }
        if lost_here {
            stage.attempt += 1;
            any = true;
        }
    }
    any
}
