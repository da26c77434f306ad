//! Wires an application to its master: `local[N]` needs nothing; `local-cluster[E,C,M]`
//! starts a driver in this process and E executor processes, and hands the session a runner
//! that sends queries to them.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ember_cluster::LocalProcessCluster;
use ember_config::{EmberConf, Master};
use ember_driver::{DistributedRunner, Driver, DriverOptions, SchedulerOptions};
use ember_proto::{Tls, TlsFiles};
use ember_sql::EmberSession;
use rand::Rng;

/// How long a local cluster's executors get to register.
const REGISTRATION_TIMEOUT: Duration = Duration::from_secs(60);

/// What an application holds for its lifetime; dropping it stops the executors.
pub struct Application {
    driver: Option<Arc<Driver>>,
    _local_dir: Option<tempfile::TempDir>,
}

impl Application {
    pub fn local() -> Application {
        Application {
            driver: None,
            _local_dir: None,
        }
    }

    /// The driver, when queries run on executors.
    pub fn driver(&self) -> Option<&Driver> {
        self.driver.as_deref()
    }
}

impl Drop for Application {
    fn drop(&mut self) {
        if let Some(driver) = self.driver.take() {
            driver.stop();
        }
    }
}

/// `session` sending its queries to `driver`'s executors, for as long as the application
/// lives. Unless spark.sql.shuffle.partitions says otherwise, queries get one partition per
/// executor core registered now (executors that join later share them).
fn on_executors(
    runtime: &tokio::runtime::Runtime,
    session: EmberSession,
    driver: Arc<Driver>,
    local_dir: Option<tempfile::TempDir>,
) -> Result<(EmberSession, Application), String> {
    let cores: u32 = runtime
        .block_on(driver.executors())
        .iter()
        .map(|e| e.cores)
        .sum();
    let session = distribute(session, &driver, cores)?;
    Ok((
        session,
        Application {
            driver: Some(driver),
            _local_dir: local_dir,
        },
    ))
}

/// `session` with its queries sent to `driver`, `cores` partitions each unless
/// spark.sql.shuffle.partitions says otherwise.
fn distribute(
    session: EmberSession,
    driver: &Arc<Driver>,
    cores: u32,
) -> Result<EmberSession, String> {
    let mut session = session
        .with_runner(Arc::new(DistributedRunner(driver.clone())))
        .map_err(|e| e.to_string())?;
    if session.conf().get("spark.sql.shuffle.partitions").is_none() {
        session
            .set_option(
                "datafusion.execution.target_partitions",
                &cores.max(1).to_string(),
            )
            .map_err(|e| e.to_string())?;
    }
    Ok(session)
}

impl Application {
    /// Another session on this application's master, planned like the first: the Spark
    /// Connect server makes one per client session. `cores` is what the first session's
    /// partitions were sized by.
    pub fn new_session(&self, conf: EmberConf, cores: u32) -> Result<EmberSession, String> {
        let session = EmberSession::new(conf).map_err(|e| e.to_string())?;
        match &self.driver {
            Some(driver) => distribute(session, driver, cores),
            None => Ok(session),
        }
    }
}

/// Connects `session` to the master in `conf`.
pub fn attach(
    runtime: &tokio::runtime::Runtime,
    session: EmberSession,
) -> Result<(EmberSession, Application), String> {
    match session.conf().master() {
        Master::LocalCluster {
            executors,
            cores,
            memory_mb,
        } => attach_local_cluster(runtime, session, executors, cores, memory_mb),
        Master::StandingDriver { host, port } => {
            attach_standing_driver(runtime, session, host, port)
        }
        Master::Kubernetes { api_server } => attach_kubernetes(runtime, session, api_server),
        Master::Local { .. } | Master::LocalAllCores => Ok((session, Application::local())),
    }
}

/// A driver in this process (client mode) or in this pod (cluster mode) whose executors are
/// Kubernetes pods it creates and deletes.
fn attach_kubernetes(
    runtime: &tokio::runtime::Runtime,
    session: EmberSession,
    api_server: Option<String>,
) -> Result<(EmberSession, Application), String> {
    let conf = session.conf().clone();
    let cluster_mode = conf.get("spark.submit.deployMode") == Some("cluster");
    let explicit = |key: &str| {
        conf.get(key)
            .filter(|_| conf.source(key) != ember_config::ConfSource::Default)
    };
    if !cluster_mode {
        explicit("spark.driver.host").ok_or(
            "a k8s:// master in client mode needs spark.driver.host: the address executor pods reach this process at",
        )?;
        conf.get_usize("spark.driver.port").filter(|p| *p > 0).ok_or(
            "a k8s:// master in client mode needs spark.driver.port: a fixed port executor pods can reach",
        )?;
    }
    let identity = ember_kubernetes::AppIdentity::from_conf(&conf);
    // Validates the settings (image, volumes, templates) before any pod is asked for.
    ember_kubernetes::Renderer::new(&conf, identity.clone()).map_err(|e| e.to_string())?;
    let executors = conf.get_usize("spark.executor.instances").unwrap_or(2);
    let cluster = ember_kubernetes::KubernetesCluster::new(conf.clone(), identity, api_server);
    let mut options = driver_options(&conf)?;
    // Without an explicit bind address the driver listens where executors are told to find it.
    if explicit("spark.driver.bindAddress").is_none() {
        options.bind_host = options.advertise_host.clone();
    }
    let driver = runtime
        .block_on(Driver::start(options, Some(Box::new(cluster))))
        .map_err(|e| e.to_string())?;
    // As Spark does on Kubernetes: after the registration wait, start with the executors
    // there are (a quota may allow fewer pods) while the rest are still asked for.
    let wait = registration_wait(&conf);
    match runtime.block_on(driver.wait_for_executors(executors.max(1), wait)) {
        Ok(()) => {}
        Err(ember_driver::DriverError::ExecutorsMissing { registered, .. }) if registered > 0 => {
            tracing::warn!(
                "starting with {registered} of {executors} executors after waiting {wait:?}; the others are still being asked for"
            );
        }
        Err(e) => return Err(e.to_string()),
    }
    on_executors(runtime, session, driver, None)
}

/// A driver that executors started elsewhere join. They need the secret, so it must be given.
fn attach_standing_driver(
    runtime: &tokio::runtime::Runtime,
    session: EmberSession,
    host: String,
    port: u16,
) -> Result<(EmberSession, Application), String> {
    let conf = session.conf().clone();
    if conf.get("spark.authenticate.secret").is_none() {
        return Err("an ember-driver:// master needs spark.authenticate.secret, which the executors you start must also be given (EMBER_SECRET or --secret-file)".into());
    }
    let mut options = driver_options(&conf)?;
    options.bind_host = host;
    options.port = port;
    let driver = runtime
        .block_on(Driver::start(options, None))
        .map_err(|e| e.to_string())?;
    eprintln!(
        "driver waiting for executors: ember executor --driver {}",
        driver.address()
    );
    let wanted = conf.get_usize("ember.driver.minExecutors").unwrap_or(1);
    let wait = registration_wait(&conf);
    runtime
        .block_on(driver.wait_for_executors(wanted, wait))
        .map_err(|e| e.to_string())?;
    on_executors(runtime, session, driver, None)
}

fn registration_wait(conf: &EmberConf) -> Duration {
    conf.get_duration("spark.scheduler.maxRegisteredResourcesWaitingTime")
        .unwrap_or(REGISTRATION_TIMEOUT)
}

/// A driver in this process and executor child processes on this machine.
fn attach_local_cluster(
    runtime: &tokio::runtime::Runtime,
    session: EmberSession,
    executors: usize,
    cores: usize,
    memory_mb: u64,
) -> Result<(EmberSession, Application), String> {
    let conf = session.conf().clone();
    let local_root = conf
        .get("spark.local.dir")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&local_root)
        .map_err(|e| format!("spark.local.dir {}: {e}", local_root.display()))?;
    let local_dir = tempfile::Builder::new()
        .prefix("ember-app-")
        .tempdir_in(&local_root)
        .map_err(|e| format!("cannot create a directory in {}: {e}", local_root.display()))?;
    let binary =
        std::env::current_exe().map_err(|e| format!("cannot find the ember binary: {e}"))?;
    let cluster = LocalProcessCluster::new(
        binary,
        executors,
        cores,
        memory_mb,
        local_dir.path().to_path_buf(),
        conf.get("spark.log.level").unwrap_or("WARN").to_string(),
    );
    let options = driver_options(&conf)?;
    let driver = runtime
        .block_on(Driver::start(options, Some(Box::new(cluster))))
        .map_err(|e| e.to_string())?;
    let wait = registration_wait(&conf);
    runtime
        .block_on(driver.wait_for_executors(executors, wait))
        .map_err(|e| e.to_string())?;
    on_executors(runtime, session, driver, Some(local_dir))
}

/// TLS from `ember.tls.cert`, `ember.tls.key` and `ember.tls.ca`: all three, or none.
fn tls_from_conf(conf: &EmberConf) -> Result<Option<Tls>, String> {
    let keys = ["ember.tls.cert", "ember.tls.key", "ember.tls.ca"];
    let values: Vec<Option<&str>> = keys.iter().map(|k| conf.get(k)).collect();
    match values.as_slice() {
        [Some(cert), Some(key), Some(ca)] => {
            let files = TlsFiles {
                cert: cert.into(),
                key: key.into(),
                ca: ca.into(),
            };
            Tls::load(&files).map(Some).map_err(|e| e.to_string())
        }
        [None, None, None] => Ok(None),
        _ => {
            let missing: Vec<&str> = keys
                .iter()
                .zip(&values)
                .filter(|(_, v)| v.is_none())
                .map(|(k, _)| *k)
                .collect();
            Err(format!(
                "TLS needs ember.tls.cert, ember.tls.key and ember.tls.ca together; {} not set",
                missing.join(" and ")
            ))
        }
    }
}

fn driver_options(conf: &EmberConf) -> Result<DriverOptions, String> {
    let secret = match conf.get("spark.authenticate.secret") {
        Some(secret) => secret.to_string(),
        None => {
            let bytes: [u8; 32] = rand::rng().random();
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        }
    };
    let duration = |key: &str, fallback: u64| {
        conf.get_duration(key)
            .unwrap_or(Duration::from_secs(fallback))
    };
    let count = |key: &str, fallback: usize| conf.get_usize(key).unwrap_or(fallback) as u32;
    Ok(DriverOptions {
        bind_host: conf
            .get("spark.driver.bindAddress")
            .unwrap_or("127.0.0.1")
            .to_string(),
        port: conf.get_usize("spark.driver.port").unwrap_or(0) as u16,
        advertise_host: conf
            .get("spark.driver.host")
            .unwrap_or("127.0.0.1")
            .to_string(),
        secret,
        tls: tls_from_conf(conf)?,
        scheduler: SchedulerOptions {
            heartbeat_interval: duration("spark.executor.heartbeatInterval", 2),
            network_timeout: duration("spark.network.timeout", 30),
            task_max_failures: count("spark.task.maxFailures", 4),
            executor_max_failures: 3,
            stage_max_attempts: count("spark.stage.maxConsecutiveAttempts", 4),
            progress: conf.get_bool("ember.sql.progress").unwrap_or(true)
                && std::io::stderr().is_terminal(),
        },
    })
}
