//! The `ember` binary: parses arguments, builds the configuration and wires the library
//! crates together. Nothing here decides how a query runs.

mod application;
mod executor_command;
mod logging;
mod progress;
mod server_command;
mod shell;
mod sql_command;
mod submit_command;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ember_config::{ConfSource, EmberConf, KEYS, render_markdown};
use ember_sql::EmberSession;

#[derive(Parser)]
#[command(
    name = "ember",
    version,
    about = "Ember: Spark-compatible SQL on DataFusion, locally and on Kubernetes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run SQL: from -e, from -f files, from standard input, or in an interactive shell.
    Sql(sql_command::SqlArgs),
    /// Run an executor that joins a driver (started by a local-cluster master, or by hand).
    Executor(executor_command::ExecutorArgs),
    /// Submit an application to Kubernetes, as spark-submit does.
    Submit(submit_command::SubmitArgs),
    /// Serve Spark Connect: PySpark and other Spark Connect clients run on this driver.
    Server(server_command::ServerArgs),
    /// List every setting with its value, source and description.
    Conf {
        #[command(flatten)]
        conf: ConfArgs,
        /// Print the configuration reference as Markdown (docs/configuration.md).
        #[arg(long)]
        markdown: bool,
    },
    /// Generate benchmark data.
    Datagen {
        #[command(subcommand)]
        kind: DatagenKind,
    },
    /// Run a benchmark.
    Bench {
        #[command(subcommand)]
        kind: BenchKind,
    },
}

#[derive(Subcommand)]
enum DatagenKind {
    /// The eight TPC-H tables as Parquet, one directory per table.
    Tpch {
        /// Scale factor: 1 is about 1 GB of raw data (6 million lineitem rows).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Directory to create.
        #[arg(long)]
        out: PathBuf,
        /// Generator threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
}

#[derive(Subcommand)]
enum BenchKind {
    /// Time the 22 TPC-H queries.
    Tpch(BenchArgs),
}

#[derive(Args)]
struct BenchArgs {
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Queries to run, e.g. 1-22 or 1,3,18.
    #[arg(long, default_value = "1-22")]
    queries: String,
    /// Timed runs per query; the median is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Also time each query on plain DataFusion in the same run and print the ratio.
    #[arg(long, value_enum)]
    baseline: Option<Baseline>,
    /// Data directory; generated there when missing (default: tpch-data/sf<SCALE>).
    #[arg(long)]
    data: Option<PathBuf>,
    #[command(flatten)]
    conf: ConfArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum Baseline {
    /// Plain DataFusion with the same partitions.
    Datafusion,
    /// Ember in one process (local[N], N = the master's cores): what distribution costs.
    Local,
}

/// Options every command that runs queries shares; they feed the configuration.
#[derive(Args, Clone, Default)]
pub struct ConfArgs {
    /// Where queries run: local, local[N], local[*], local-cluster[E,C,M] (sets spark.master).
    #[arg(long)]
    master: Option<String>,
    /// A setting, key=value; repeatable. `ember conf` lists the keys.
    #[arg(long = "conf", short = 'c', value_name = "KEY=VALUE")]
    conf: Vec<String>,
    /// A Spark-style properties file read before --conf.
    #[arg(long)]
    properties_file: Option<PathBuf>,
    /// Log level (sets spark.log.level): OFF, ERROR, WARN, INFO, DEBUG, TRACE.
    #[arg(long)]
    log_level: Option<String>,
}

impl ConfArgs {
    /// Defaults, then the properties file, the environment, --conf, and the dedicated flags.
    pub fn build(&self) -> Result<EmberConf, String> {
        let mut pairs = Vec::new();
        for item in &self.conf {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| format!("--conf `{item}`: expected KEY=VALUE"))?;
            pairs.push((key, value));
        }
        let mut conf = EmberConf::layered(self.properties_file.as_deref(), std::env::vars(), pairs)
            .map_err(|e| e.to_string())?;
        let flags = [
            ("spark.master", &self.master),
            ("spark.log.level", &self.log_level),
        ];
        for (key, value) in flags {
            if let Some(value) = value {
                conf.set(key, value, ConfSource::CommandLine)
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(conf)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sql(args) => return sql_command::run(args),
        Command::Executor(args) => return executor_command::run_executor(args),
        Command::Submit(args) => return submit_command::run(args),
        Command::Server(args) => return server_command::run(args),
        Command::Conf { conf, markdown } => list_conf(&conf, markdown),
        Command::Datagen {
            kind:
                DatagenKind::Tpch {
                    scale,
                    out,
                    threads,
                },
        } => {
            let threads = threads.unwrap_or_else(|| ember_config::Master::LocalAllCores.threads());
            ember_tpch::generate(scale, &out, threads, std::io::stderr().is_terminal())
                .map(|()| eprintln!("wrote TPC-H scale {scale} to {}", out.display()))
                .map_err(|e| e.to_string())
        }
        Command::Bench {
            kind: BenchKind::Tpch(args),
        } => bench(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn list_conf(args: &ConfArgs, markdown: bool) -> Result<(), String> {
    if markdown {
        print!("{}", render_markdown());
        return Ok(());
    }
    let conf = args.build()?;
    for (key, value, source) in conf.display_entries() {
        println!("{key} = {value}    ({source})");
        if let Some(spec) = KEYS.iter().find(|k| k.name == key) {
            println!("    {}", spec.doc);
        }
    }
    // Key families have no value of their own; their members set above are listed already.
    for family in KEYS.iter().filter(|k| k.is_family()) {
        println!(
            "{}    (a family: name the key after the prefix)",
            family.name
        );
        println!("    {}", family.doc);
    }
    Ok(())
}

fn bench(args: BenchArgs) -> Result<(), String> {
    let conf = args.conf.build()?;
    logging::init(&conf);
    let queries = ember_tpch::parse_query_list(&args.queries)?;
    let data = args
        .data
        .unwrap_or_else(|| PathBuf::from(format!("tpch-data/sf{}", args.scale)));
    if !ember_tpch::is_complete(&data) {
        if let Some(parent) = data.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        eprintln!(
            "generating TPC-H scale {} in {}",
            args.scale,
            data.display()
        );
        let threads = ember_config::Master::LocalAllCores.threads();
        ember_tpch::generate(args.scale, &data, threads, std::io::stderr().is_terminal())
            .map_err(|e| e.to_string())?;
    }
    let threads = conf.master().threads();
    eprintln!(
        "TPC-H scale {} on {} ({} threads), {} run(s) per query, median reported",
        args.scale,
        conf.master(),
        threads,
        args.runs
    );
    // In-process engines get the master's cores as threads; a distributed run's driver
    // process gets the same, which its local baseline uses.
    let runtime = runtime(threads)?;
    let session = EmberSession::new(conf.clone()).map_err(|e| e.to_string())?;
    runtime
        .block_on(ember_tpch::bench::register_tables(&session, &data))
        .map_err(|e| e.to_string())?;
    let (mut session, application) = application::attach(&runtime, session)?;
    let baseline = match args.baseline {
        None => None,
        Some(Baseline::Datafusion) => Some(
            runtime
                .block_on(ember_tpch::bench::Baseline::datafusion(&data, threads))
                .map_err(|e| e.to_string())?,
        ),
        Some(Baseline::Local) => {
            let mut local_conf = conf.clone();
            local_conf
                .set(
                    "spark.master",
                    &format!("local[{threads}]"),
                    ConfSource::CommandLine,
                )
                .map_err(|e| e.to_string())?;
            let local = EmberSession::new(local_conf).map_err(|e| e.to_string())?;
            runtime
                .block_on(ember_tpch::bench::register_tables(&local, &data))
                .map_err(|e| e.to_string())?;
            Some(ember_tpch::bench::Baseline::Local(Box::new(local)))
        }
    };
    let baseline_name = baseline.as_ref().map(|b| b.name()).unwrap_or_default();
    let options = ember_tpch::bench::BenchOptions {
        queries,
        runs: args.runs,
    };
    let timings = runtime
        .block_on(ember_tpch::bench::run(
            &options,
            &mut session,
            baseline,
            |t| {
                eprintln!(
                    "Q{:02} done in {:.1} ms",
                    t.query,
                    t.ember.as_secs_f64() * 1000.0
                )
            },
        ))
        .map_err(|e| e.to_string())?;
    print!("{}", ember_tpch::bench::render(&timings, baseline_name));
    if let Some(driver) = application.driver() {
        let metrics = driver.metrics();
        let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
        println!(
            "shuffled {:.1} MiB (compressed, all runs); peak executor memory {:.1} MiB",
            mib(metrics
                .shuffle_bytes
                .load(std::sync::atomic::Ordering::Relaxed)),
            mib(metrics
                .peak_executor_memory
                .load(std::sync::atomic::Ordering::Relaxed))
        );
    }
    Ok(())
}

/// The runtime that executes queries: its worker threads are the engine's threads.
pub fn runtime(threads: usize) -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}
