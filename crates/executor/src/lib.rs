//! An Ember executor: it registers with its driver over one long-lived gRPC stream, runs the
//! tasks the driver launches (up to its cores at once), writes their shuffle blocks under its
//! local directory, serves them to other executors over Arrow Flight, and exits when the
//! driver is gone. It never knows where it runs: a child process, a pod, a script.

mod flight_server;
mod task;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use ember_plan::{FlightFetcher, LocalBlocks};
use ember_proto::driver_client::DriverClient;
use ember_proto::{
    AUTH_HEADER, ExecutorMessage, Heartbeat, MAX_MESSAGE_BYTES, Register, TaskId, driver_message,
    executor_message,
};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Endpoint, Server};

/// Share of the executor's memory setting given to DataFusion's pool; the rest covers the
/// process itself, network buffers and blocks in flight.
const MEMORY_POOL_FRACTION: f64 = 0.75;

#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The driver's control address, HOST:PORT.
    pub driver: String,
    pub executor_id: String,
    /// Address other processes use to reach this executor's Flight server.
    pub advertise_host: String,
    /// Address the Flight server binds.
    pub bind_host: String,
    pub cores: usize,
    pub memory_bytes: u64,
    pub local_dir: PathBuf,
    pub secret: String,
    /// Connection attempts before giving up on an unreachable driver.
    pub connect_attempts: u32,
    /// TLS for the block server and for calls to the driver and other executors.
    pub tls: Option<ember_proto::Tls>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExecutorError {
    #[error("cannot reach the driver at {address} after {attempts} attempts: {message}")]
    DriverUnreachable {
        address: String,
        attempts: u32,
        message: String,
    },
    #[error("the driver refused this executor: {0}")]
    Refused(String),
    #[error(
        "cannot register with the driver at {address}: {message}. If the driver runs with TLS (ember.tls.*), start this executor with --tls-cert, --tls-key and --tls-ca from the same CA"
    )]
    RegistrationFailed { address: String, message: String },
    #[error("lost the driver: {0}")]
    DriverLost(String),
    #[error("cannot start the block server on {address}: {message}")]
    FlightServer { address: String, message: String },
    #[error("local directory {}: {message}", path.display())]
    LocalDir { path: PathBuf, message: String },
}

/// Runs the executor until the driver shuts it down (Ok) or is lost (Err).
pub async fn run(options: ExecutorOptions) -> Result<(), ExecutorError> {
    let shuffle_root = options
        .local_dir
        .join(format!("ember-{}", options.executor_id));
    std::fs::create_dir_all(&shuffle_root).map_err(|e| ExecutorError::LocalDir {
        path: shuffle_root.clone(),
        message: e.to_string(),
    })?;
    let result = serve(&options, shuffle_root.clone()).await;
    // The application's blocks are of no use to anyone once this executor stops.
    let _ = std::fs::remove_dir_all(&shuffle_root);
    result
}

async fn serve(options: &ExecutorOptions, shuffle_root: PathBuf) -> Result<(), ExecutorError> {
    let secret: Arc<str> = options.secret.as_str().into();
    let flight_address = start_flight_server(options, shuffle_root.clone(), secret.clone()).await?;
    let runtime = executor_runtime(options, &shuffle_root)?;
    let fetcher = Arc::new(FlightFetcher::new(
        Some(LocalBlocks {
            executor_id: options.executor_id.clone(),
            root: shuffle_root.clone(),
        }),
        &options.secret,
        options.tls.clone(),
    ));

    let channel = connect_with_retries(options).await?;
    let mut client = DriverClient::new(channel)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let (outbound, outbound_rx) = mpsc::channel::<ExecutorMessage>(256);
    let register = ExecutorMessage {
        kind: Some(executor_message::Kind::Register(Register {
            executor_id: options.executor_id.clone(),
            flight_address: flight_address.clone(),
            cores: options.cores as u32,
            memory_bytes: options.memory_bytes,
        })),
    };
    outbound
        .send(register)
        .await
        .map_err(|e| ExecutorError::DriverLost(e.to_string()))?;
    let mut request = tonic::Request::new(ReceiverStream::new(outbound_rx));
    request.metadata_mut().insert(
        AUTH_HEADER,
        ember_proto::bearer(&options.secret)
            .map_err(|s| ExecutorError::Refused(s.message().into()))?,
    );
    let mut inbound = match client.attach(request).await {
        Ok(response) => response.into_inner(),
        Err(status) if status.code() == tonic::Code::Unauthenticated => {
            return Err(ExecutorError::Refused(status.message().to_string()));
        }
        Err(status) => {
            return Err(ExecutorError::RegistrationFailed {
                address: options.driver.clone(),
                message: source_chain(&status),
            });
        }
    };
    tracing::info!(executor = %options.executor_id, %flight_address, driver = %options.driver, "registered");

    let context = Arc::new(task::TaskRunner {
        executor_id: options.executor_id.clone(),
        shuffle_root,
        runtime,
        fetcher,
        outbound: outbound.clone(),
        running: Default::default(),
    });
    let mut running: HashMap<TaskKey, AbortHandle> = HashMap::new();
    let mut heartbeat: Option<tokio::task::JoinHandle<()>> = None;
    let outcome = loop {
        let message = match inbound.message().await {
            Ok(Some(message)) => message,
            Ok(None) => {
                break Err(ExecutorError::DriverLost(
                    "the driver closed the connection".into(),
                ));
            }
            Err(status) => break Err(ExecutorError::DriverLost(status.message().to_string())),
        };
        running.retain(|_, handle| !handle.is_finished());
        match message.kind {
            Some(driver_message::Kind::Registered(registered)) => {
                let interval = Duration::from_millis(registered.heartbeat_interval_ms.max(100));
                let outbound = outbound.clone();
                let context = context.clone();
                heartbeat = Some(tokio::spawn(async move {
                    let mut ticker = tokio::time::interval(interval);
                    loop {
                        ticker.tick().await;
                        let beat = ExecutorMessage {
                            kind: Some(executor_message::Kind::Heartbeat(Heartbeat {
                                running_tasks: context.running_tasks(),
                                peak_memory_bytes: peak_memory_bytes(),
                            })),
                        };
                        if outbound.send(beat).await.is_err() {
                            return;
                        }
                    }
                }));
            }
            Some(driver_message::Kind::Launch(launch)) => {
                let key = TaskKey::of(launch.task.as_ref());
                let runner = context.clone();
                let handle = tokio::spawn(async move { runner.run(launch).await });
                running.insert(key, handle.abort_handle());
            }
            Some(driver_message::Kind::Kill(kill)) => {
                if let Some(handle) = running.remove(&TaskKey::of(kill.task.as_ref())) {
                    handle.abort();
                    context.report_killed(kill.task).await;
                }
            }
            Some(driver_message::Kind::Shutdown(shutdown)) => {
                tracing::info!(reason = %shutdown.reason, "shutting down at the driver's request");
                break Ok(());
            }
            None => {}
        }
    };
    for handle in running.values() {
        handle.abort();
    }
    if let Some(heartbeat) = heartbeat {
        heartbeat.abort();
    }
    outcome
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TaskKey(u64, u32, u32, u32, u32);

impl TaskKey {
    fn of(task: Option<&TaskId>) -> TaskKey {
        let t = task.copied().unwrap_or_default();
        TaskKey(
            t.job_id,
            t.stage_id,
            t.stage_attempt,
            t.partition,
            t.task_attempt,
        )
    }
}

/// DataFusion's runtime for tasks. Spill files go under the executor's own directory, so
/// they are removed with it when the executor stops.
fn executor_runtime(
    options: &ExecutorOptions,
    root: &std::path::Path,
) -> Result<Arc<RuntimeEnv>, ExecutorError> {
    let spill_dir = root.join("spill");
    std::fs::create_dir_all(&spill_dir).map_err(|e| ExecutorError::LocalDir {
        path: spill_dir.clone(),
        message: e.to_string(),
    })?;
    let pool = (options.memory_bytes as f64 * MEMORY_POOL_FRACTION) as usize;
    RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(pool)))
        .with_disk_manager_builder(
            DiskManagerBuilder::default()
                .with_mode(DiskManagerMode::Directories(vec![spill_dir.clone()])),
        )
        .build_arc()
        .map_err(|e| ExecutorError::LocalDir {
            path: spill_dir,
            message: e.to_string(),
        })
}

async fn start_flight_server(
    options: &ExecutorOptions,
    root: PathBuf,
    secret: Arc<str>,
) -> Result<String, ExecutorError> {
    let bind = format!("{}:0", options.bind_host);
    let fail = |message: String| ExecutorError::FlightServer {
        address: bind.clone(),
        message,
    };
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let port = listener
        .local_addr()
        .map_err(|e| fail(e.to_string()))?
        .port();
    let service = flight_server::BlockServer::new(root).into_service(secret);
    // Nagle's algorithm with delayed ACKs stalls small responses by ~40 ms each; `tcp_nodelay`
    // on the builder applies only to listeners tonic binds itself, so set it here.
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let mut builder = Server::builder();
    if let Some(tls) = &options.tls {
        builder = builder
            .tls_config(tls.server())
            .map_err(|e| fail(e.to_string()))?;
    }
    tokio::spawn(async move {
        if let Err(e) = builder
            .add_service(service)
            .serve_with_incoming(incoming)
            .await
        {
            tracing::error!(error = %e, "block server stopped");
        }
    });
    Ok(format!("{}:{port}", options.advertise_host))
}

async fn connect_with_retries(
    options: &ExecutorOptions,
) -> Result<tonic::transport::Channel, ExecutorError> {
    let unreachable = |attempts, message: String| ExecutorError::DriverUnreachable {
        address: options.driver.clone(),
        attempts,
        message,
    };
    let mut endpoint = Endpoint::from_shared(format!(
        "{}://{}",
        ember_proto::scheme(options.tls.as_ref()),
        options.driver
    ))
    .map_err(|e| unreachable(0, e.to_string()))?
    .connect_timeout(Duration::from_secs(5))
    .tcp_nodelay(true)
    .http2_keep_alive_interval(Duration::from_secs(10))
    .keep_alive_timeout(Duration::from_secs(20));
    if let Some(tls) = &options.tls {
        endpoint = endpoint
            .tls_config(tls.client())
            .map_err(|e| unreachable(0, source_chain(&e)))?;
    }
    let mut delay = Duration::from_millis(200);
    let attempts = options.connect_attempts.max(1);
    for attempt in 1..=attempts {
        match endpoint.connect().await {
            Ok(channel) => return Ok(channel),
            Err(e) if attempt == attempts => return Err(unreachable(attempt, source_chain(&e))),
            Err(e) => {
                tracing::warn!(driver = %options.driver, attempt, error = %source_chain(&e), "driver not reachable yet");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
    Err(unreachable(attempts, "no attempt made".into()))
}

/// Peak resident set size of this process (Linux `VmHWM`); 0 where unknown.
fn peak_memory_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
        })
        .map(|kib| kib * 1024)
        .unwrap_or(0)
}

/// The innermost cause is what tells a person what happened ("connection refused").
fn source_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut current = error.source();
    while let Some(cause) = current {
        message = format!("{message}: {cause}");
        current = cause.source();
    }
    message
}
