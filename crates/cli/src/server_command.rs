//! `ember server`: a long-running driver serving Spark Connect, so PySpark programs
//! (`SparkSession.builder.remote("sc://HOST:15002")`) run on Ember unchanged.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use ember_connect::{ConnectService, SessionFactory, SparkConnectServer};
use ember_sql::EmberSession;

use crate::{ConfArgs, application, logging, runtime};

#[derive(Args)]
pub struct ServerArgs {
    #[command(flatten)]
    conf: ConfArgs,
    /// Port to listen on (sets spark.connect.grpc.binding.port; default 15002).
    #[arg(long)]
    port: Option<u16>,
    /// Address to listen on (sets spark.connect.grpc.binding.address; default 127.0.0.1,
    /// 0.0.0.0 for every interface).
    #[arg(long)]
    host: Option<String>,
}

pub fn run(args: ServerArgs) -> ExitCode {
    exit_code(configure(args).and_then(serve))
}

/// Serves with settings already gathered (`ember submit --server` in client mode).
pub fn run_with(conf: ember_config::EmberConf) -> ExitCode {
    exit_code(serve(conf))
}

fn exit_code(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn configure(args: ServerArgs) -> Result<ember_config::EmberConf, String> {
    let mut conf = args.conf.build()?;
    if let Some(port) = args.port {
        conf.set(
            "spark.connect.grpc.binding.port",
            &port.to_string(),
            ember_config::ConfSource::CommandLine,
        )
        .map_err(|e| e.to_string())?;
    }
    if let Some(host) = &args.host {
        conf.set(
            "spark.connect.grpc.binding.address",
            host,
            ember_config::ConfSource::CommandLine,
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(conf)
}

fn serve(conf: ember_config::EmberConf) -> Result<(), String> {
    logging::init(&conf);
    let threads = match conf.master() {
        ember_config::Master::Local { .. } | ember_config::Master::LocalAllCores => {
            conf.master().threads()
        }
        _ => 2,
    };
    let runtime = runtime(threads.max(2))?;
    let first = EmberSession::new(conf.clone()).map_err(|e| e.to_string())?;
    let (first, application) = application::attach(&runtime, first)?;
    // Sessions made later are sized like the first, whose partitions match the executors
    // registered at start-up.
    let cores = u32::try_from(
        first
            .context()
            .state()
            .config()
            .options()
            .execution
            .target_partitions,
    )
    .unwrap_or(1);
    drop(first);
    let application = Arc::new(application);
    let factory: SessionFactory = {
        let conf = conf.clone();
        let application = application.clone();
        Arc::new(move || application.new_session(conf.clone(), cores))
    };
    let host = conf
        .get("spark.connect.grpc.binding.address")
        .unwrap_or("127.0.0.1")
        .to_string();
    let port = conf
        .get_usize("spark.connect.grpc.binding.port")
        .unwrap_or(15002);
    let token = conf.get("ember.connect.token").map(str::to_string);
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind((host.as_str(), port as u16)))
        .map_err(|e| format!("cannot listen on {host}:{port}: {e}"))?;
    let address = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    let service = SparkConnectServer::new(Arc::new(ConnectService::new(factory)), token.clone());
    let scheme_note = match (
        conf.get("ember.connect.tls.cert").is_some(),
        token.is_some(),
    ) {
        (true, true) => "/;use_ssl=true;token=…",
        (true, false) => "/;use_ssl=true",
        (false, true) => "/;token=…",
        (false, false) => "",
    };
    eprintln!(
        "Ember {} serving Spark Connect on sc://{address}{scheme_note} (master {})",
        env!("CARGO_PKG_VERSION"),
        conf.get("spark.master").unwrap_or("local[*]"),
    );
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = connect_tls(&conf)? {
        builder = builder
            .tls_config(tls)
            .map_err(|e| format!("ember.connect.tls.*: {e}"))?;
    }
    runtime
        .block_on(
            builder
                .add_service(service)
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = tokio::signal::ctrl_c().await;
                }),
        )
        .map_err(|e| format!("the Spark Connect server stopped: {e}"))?;
    drop(application);
    Ok(())
}

/// Server TLS from `ember.connect.tls.cert` and `.key`: both or neither.
fn connect_tls(
    conf: &ember_config::EmberConf,
) -> Result<Option<tonic::transport::ServerTlsConfig>, String> {
    let (cert, key) = match (
        conf.get("ember.connect.tls.cert"),
        conf.get("ember.connect.tls.key"),
    ) {
        (None, None) => return Ok(None),
        (Some(cert), Some(key)) => (cert, key),
        _ => {
            return Err(
                "TLS for Spark Connect needs both ember.connect.tls.cert and ember.connect.tls.key"
                    .into(),
            );
        }
    };
    let read = |path: &str, key: &str| {
        std::fs::read(path).map_err(|e| format!("{key}: cannot read {path}: {e}"))
    };
    let identity = tonic::transport::Identity::from_pem(
        read(cert, "ember.connect.tls.cert")?,
        read(key, "ember.connect.tls.key")?,
    );
    Ok(Some(
        tonic::transport::ServerTlsConfig::new().identity(identity),
    ))
}
