//! `ember submit`: spark-submit for Kubernetes. Cluster mode creates the driver pod and what
//! it needs, follows it and exits with its result; client mode runs the driver here with
//! executor pods; `--status` and `--kill` find drivers by NAMESPACE:NAME; `--dry-run=client`
//! prints every object instead of creating it.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use ember_config::{ConfSource, EmberConf, Master};
use ember_kubernetes::{AppIdentity, DriverProgram, LocalFile, Renderer, to_yaml_documents};

use crate::ConfArgs;

#[derive(Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    conf: ConfArgs,
    /// Where the driver runs: in a pod (cluster) or in this process (client). Sets
    /// spark.submit.deployMode.
    #[arg(long, value_enum)]
    deploy_mode: Option<DeployMode>,
    /// The application's name (sets spark.app.name).
    #[arg(long)]
    name: Option<String>,
    /// Print the objects instead of creating them; `client` is the only mode, as in kubectl.
    #[arg(long, value_enum, value_name = "MODE", num_args = 0..=1, default_missing_value = "client")]
    dry_run: Option<DryRun>,
    /// Format of --dry-run output.
    #[arg(short = 'o', long = "output", value_enum, default_value = "yaml")]
    output: OutputFormat,
    /// Show the state of a driver: NAMESPACE:NAME (a trailing * matches a prefix).
    #[arg(long, value_name = "NAMESPACE:NAME", conflicts_with_all = ["kill", "app"])]
    status: Option<String>,
    /// Stop an application by deleting its driver pod (and with it everything it owns):
    /// NAMESPACE:NAME (a trailing * matches a prefix).
    #[arg(long, value_name = "NAMESPACE:NAME", conflicts_with = "app")]
    kill: Option<String>,
    /// Run a Spark Connect server as the application instead of a SQL file: in cluster mode
    /// the driver pod serves it behind the driver's Service (port
    /// spark.connect.grpc.binding.port, default 15002); in client mode this process does.
    #[arg(long, conflicts_with = "app")]
    server: bool,
    /// The application: a SQL file.
    app: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum DeployMode {
    Cluster,
    Client,
}

#[derive(Clone, Copy, ValueEnum)]
enum DryRun {
    Client,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputFormat {
    Yaml,
    Json,
}

/// The owner uid and secret are only known once the application is submitted.
const UID_PLACEHOLDER: &str = "(the driver pod's uid, assigned when it is created)";
const SECRET_PLACEHOLDER: &str = "(generated when the application is submitted)";

pub fn run(args: SubmitArgs) -> std::process::ExitCode {
    match run_inner(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn api_server(conf: &EmberConf) -> Option<String> {
    match conf.master() {
        Master::Kubernetes { api_server } => api_server,
        _ => None,
    }
}

fn run_inner(args: SubmitArgs) -> Result<std::process::ExitCode, String> {
    let mut conf = args.conf.build()?;
    if let Some(mode) = args.deploy_mode {
        let mode = match mode {
            DeployMode::Cluster => "cluster",
            DeployMode::Client => "client",
        };
        set(&mut conf, "spark.submit.deployMode", mode)?;
    }
    if let Some(name) = &args.name {
        set(&mut conf, "spark.app.name", name)?;
    }
    if !matches!(conf.master(), Master::Kubernetes { .. }) || conf.get("spark.master").is_none() {
        return Err(
            "ember submit needs --master k8s://https://HOST:PORT (or k8s:// for the current context)"
                .into(),
        );
    }
    if let Some(target) = args.status.as_deref().or(args.kill.as_deref()) {
        let runtime = crate::runtime(1)?;
        let api = api_server(&conf);
        let lines = runtime.block_on(async {
            let client = ember_kubernetes::submit::connect(api.as_deref()).await?;
            match &args.status {
                Some(_) => ember_kubernetes::submit::status(&client, target).await,
                None => ember_kubernetes::submit::kill(&client, target)
                    .await
                    .map(|killed| {
                        killed
                            .into_iter()
                            .map(|k| format!("deleted driver pod {k}"))
                            .collect()
                    }),
            }
        })?;
        for line in lines {
            println!("{line}");
        }
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let cluster = conf.get("spark.submit.deployMode") == Some("cluster");
    let (files, program) = if args.server {
        (Vec::new(), DriverProgram::ConnectServer)
    } else {
        let app = args
            .app
            .as_ref()
            .ok_or("name the application to submit: a SQL file (or --server)")?;
        let file = LocalFile {
            name: app
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| format!("{} is not a file", app.display()))?,
            contents: std::fs::read_to_string(app)
                .map_err(|e| format!("cannot read the application {}: {e}", app.display()))?,
        };
        let main = file.name.clone();
        (vec![file], DriverProgram::SqlFile(main))
    };
    if args.dry_run.is_none() {
        if !cluster {
            // Client mode: the driver is this process.
            return Ok(match (&program, &args.app) {
                (DriverProgram::SqlFile(_), Some(app)) => {
                    crate::sql_command::run_file(conf, app.clone())
                }
                _ => crate::server_command::run_with(conf),
            });
        }
        return submit_cluster(conf, &files, &program);
    }
    let identity = AppIdentity::from_conf(&conf);
    let renderer = Renderer::new(&conf, identity).map_err(|e| e.to_string())?;
    let instances = conf.get_usize("spark.executor.instances").unwrap_or(2) as u32;
    let mut objects = Vec::new();
    if cluster {
        let rendered = renderer
            .cluster_mode(&files, &program, SECRET_PLACEHOLDER, UID_PLACEHOLDER)
            .map_err(|e| e.to_string())?;
        let mut secret = rendered.secret.clone();
        // A printed Secret shows none of its values (a Spark Connect token is the user's own).
        if let Some(data) = secret.data.as_mut() {
            for value in data.values_mut() {
                value.0 = SECRET_PLACEHOLDER.as_bytes().to_vec();
            }
        }
        objects.push(serde_json::to_value(&rendered.driver_pod));
        objects.push(serde_json::to_value(&secret));
        objects.push(serde_json::to_value(&rendered.config_map));
        objects.push(serde_json::to_value(&rendered.service));
        let owner = Renderer::owner_reference(&renderer.driver_pod_name(), UID_PLACEHOLDER);
        let driver = renderer.driver_service_address();
        for index in 1..=instances {
            let pod = renderer
                .executor_pod(index, &driver, Some(owner.clone()))
                .map_err(|e| e.to_string())?;
            objects.push(serde_json::to_value(&pod));
        }
    } else {
        // The default (loopback) is no address a pod can reach.
        let host = conf
            .get("spark.driver.host")
            .filter(|_| conf.source("spark.driver.host") != ConfSource::Default)
            .ok_or(
                "client mode needs spark.driver.host: the address executor pods reach this process at",
            )?;
        let port = conf
            .get_usize("spark.driver.port")
            .filter(|p| *p > 0)
            .ok_or("client mode needs spark.driver.port: a fixed port executor pods can reach")?;
        let driver = format!("{host}:{port}");
        for index in 1..=instances {
            let pod = renderer
                .executor_pod(index, &driver, None)
                .map_err(|e| e.to_string())?;
            objects.push(serde_json::to_value(&pod));
        }
    }
    let objects = objects
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("cannot render: {e}"))?;
    match args.output {
        OutputFormat::Yaml => {
            println!(
                "# {} objects of application {} ({}). Executor pods are created by the driver once it runs.",
                objects.len(),
                renderer.app().id,
                if cluster {
                    "cluster mode"
                } else {
                    "client mode"
                }
            );
            print!("{}", to_yaml_documents(&objects));
        }
        OutputFormat::Json => {
            let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": objects});
            println!(
                "{}",
                serde_json::to_string_pretty(&list).map_err(|e| e.to_string())?
            );
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// Creates the application on the cluster, then (unless
/// spark.kubernetes.submission.waitAppCompletion is false) follows its driver and exits with
/// its exit code.
fn submit_cluster(
    conf: EmberConf,
    files: &[LocalFile],
    program: &DriverProgram,
) -> Result<std::process::ExitCode, String> {
    let runtime = crate::runtime(2)?;
    let identity = AppIdentity::from_conf(&conf);
    let renderer = Renderer::new(&conf, identity).map_err(|e| e.to_string())?;
    let secret = match conf.get("spark.authenticate.secret") {
        Some(secret) => secret.to_string(),
        None => {
            use rand::Rng;
            let bytes: [u8; 32] = rand::rng().random();
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        }
    };
    let wait = conf
        .get_bool("spark.kubernetes.submission.waitAppCompletion")
        .unwrap_or(true);
    let interval = conf
        .get_duration("spark.kubernetes.report.interval")
        .unwrap_or(std::time::Duration::from_secs(1));
    let api = api_server(&conf);
    runtime.block_on(async {
        let client = ember_kubernetes::submit::connect(api.as_deref()).await?;
        let name =
            ember_kubernetes::submit::submit(&client, &renderer, files, program, &secret).await?;
        let namespace = renderer.namespace();
        eprintln!(
            "submitted {} as driver pod {namespace}/{name} (status: ember submit --status {namespace}:{name})",
            renderer.app().id
        );
        if *program == DriverProgram::ConnectServer {
            let port = renderer.connect_port();
            eprintln!(
                "Spark Connect: sc://{}.{namespace}.svc:{port} inside the cluster; from elsewhere `kubectl port-forward -n {namespace} pod/{name} {port}` and sc://localhost:{port}",
                renderer.service_name()
            );
        }
        if !wait {
            return Ok(std::process::ExitCode::SUCCESS);
        }
        let mut stdout = std::io::stdout();
        let outcome =
            ember_kubernetes::submit::follow(&client, namespace, &name, interval, &mut stdout)
                .await?;
        if outcome.exit_code == 0 {
            eprintln!("application {name} succeeded");
            return Ok(std::process::ExitCode::SUCCESS);
        }
        let why = outcome
            .message
            .as_deref()
            .and_then(|m| m.lines().rev().find(|l| !l.trim().is_empty()))
            .unwrap_or("no reason recorded");
        eprintln!(
            "error: application {name} failed with exit code {}: {why}",
            outcome.exit_code
        );
        Ok(std::process::ExitCode::from(
            u8::try_from(outcome.exit_code).unwrap_or(1).max(1),
        ))
    })
}

fn set(conf: &mut EmberConf, key: &str, value: &str) -> Result<(), String> {
    conf.set(key, value, ConfSource::CommandLine)
        .map_err(|e| e.to_string())
}
