//! `ember executor`: joins a driver and runs its tasks until the driver lets it go.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use ember_config::parse_bytes;
use ember_executor::{ExecutorOptions, run};

#[derive(Args)]
pub struct ExecutorArgs {
    /// The driver's executor endpoint, HOST:PORT.
    #[arg(long)]
    driver: String,
    /// This executor's id, unique within the application (default: exec-<pid>).
    #[arg(long)]
    id: Option<String>,
    /// Tasks run at once.
    #[arg(long, default_value_t = 1)]
    cores: usize,
    /// Memory for tasks, e.g. 1g or 512m; sorts, joins and aggregations spill beyond it.
    #[arg(long, default_value = "1g")]
    memory: String,
    /// Directory for shuffle blocks and spill files.
    #[arg(long, default_value_os_t = std::env::temp_dir())]
    local_dir: PathBuf,
    /// Address other executors and the driver use to reach this one.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Address the block server binds (default: --host).
    #[arg(long)]
    bind: Option<String>,
    /// File holding the application secret (default: the EMBER_SECRET environment variable).
    #[arg(long)]
    secret_file: Option<PathBuf>,
    /// PEM certificate to serve and present; with --tls-key and --tls-ca turns TLS on.
    #[arg(long, requires_all = ["tls_key", "tls_ca"])]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, requires_all = ["tls_cert", "tls_ca"])]
    tls_key: Option<PathBuf>,
    /// PEM CA certificate that peers' certificates must be signed by.
    #[arg(long, requires_all = ["tls_cert", "tls_key"])]
    tls_ca: Option<PathBuf>,
    /// Attempts to reach the driver before giving up.
    #[arg(long, default_value_t = 10)]
    connect_attempts: u32,
    /// Log level: OFF, ERROR, WARN, INFO, DEBUG, TRACE.
    #[arg(long, default_value = "WARN")]
    log_level: String,
}

pub fn run_executor(args: ExecutorArgs) -> ExitCode {
    match run_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run_inner(args: ExecutorArgs) -> Result<(), String> {
    let mut conf = ember_config::EmberConf::new();
    conf.set(
        "spark.log.level",
        &args.log_level,
        ember_config::ConfSource::CommandLine,
    )
    .map_err(|e| e.to_string())?;
    crate::logging::init(&conf);
    let memory_bytes = parse_bytes(&args.memory)
        .filter(|b| *b > 0)
        .ok_or_else(|| {
            format!(
                "--memory `{}`: expected a size such as 512m or 4g",
                args.memory
            )
        })?;
    if args.cores == 0 {
        return Err("--cores must be at least 1".into());
    }
    let secret = match &args.secret_file {
        Some(path) => std::fs::read_to_string(path)
            .map(|s| s.trim().to_string())
            .map_err(|e| format!("cannot read the secret file {}: {e}", path.display()))?,
        None => std::env::var("EMBER_SECRET").map_err(|_| {
            "the application secret is missing: set EMBER_SECRET or pass --secret-file".to_string()
        })?,
    };
    let tls = match (args.tls_cert, args.tls_key, args.tls_ca) {
        (Some(cert), Some(key), Some(ca)) => Some(
            ember_proto::Tls::load(&ember_proto::TlsFiles { cert, key, ca })
                .map_err(|e| e.to_string())?,
        ),
        _ => None,
    };
    let options = ExecutorOptions {
        driver: args.driver,
        executor_id: args
            .id
            .unwrap_or_else(|| format!("exec-{}", std::process::id())),
        bind_host: args.bind.unwrap_or_else(|| args.host.clone()),
        advertise_host: args.host,
        cores: args.cores,
        memory_bytes,
        local_dir: args.local_dir,
        secret,
        connect_attempts: args.connect_attempts,
        tls,
    };
    let runtime = crate::runtime(options.cores)?;
    runtime.block_on(run(options)).map_err(|e| e.to_string())
}
