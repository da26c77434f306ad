//! `ember sql`: scripts from -e, -f or stdin run statement by statement; results to stdout or
//! to an --output file.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use ember_sql::{
    EmberSession, FileFormat, Outcome, PendingOutput, PrintFormat, ResultPrinter, SqlError,
    StatementKind, TableSpec,
};

use crate::progress::QueryProgress;
use crate::{ConfArgs, application, logging, runtime, shell};

#[derive(Args, Default)]
pub struct SqlArgs {
    #[command(flatten)]
    conf: ConfArgs,
    /// SQL to run; several statements separated by `;`.
    #[arg(short = 'e', long = "execute", conflicts_with = "files")]
    execute: Option<String>,
    /// SQL files to run in order; repeatable.
    #[arg(short = 'f', long = "file")]
    files: Vec<PathBuf>,
    /// Register a table: NAME=PATH, or NAME=PATH:FORMAT with FORMAT parquet, csv or json.
    #[arg(long = "table", value_name = "NAME=PATH[:FORMAT]")]
    tables: Vec<String>,
    /// How results are printed on standard output (sets ember.sql.format; default table).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write the result of the last query to this file instead of printing it.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Format of --output (default: from its extension, else parquet).
    #[arg(long, value_enum, requires = "output")]
    output_format: Option<OutputFormat>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    Parquet,
    Csv,
    Json,
}

/// Where results go, shared by batch scripts and the interactive shell.
pub struct Sink {
    pub format: PrintFormat,
    pub progress: bool,
}

pub fn run(args: SqlArgs) -> ExitCode {
    let conf = match args.conf.build() {
        Ok(conf) => conf,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    run_with_conf(conf, args)
}

/// Runs `file` as `ember sql -f FILE` would, with settings already gathered (`ember submit`
/// in client mode).
pub fn run_file(conf: ember_config::EmberConf, file: PathBuf) -> ExitCode {
    run_with_conf(
        conf,
        SqlArgs {
            files: vec![file],
            ..SqlArgs::default()
        },
    )
}

fn run_with_conf(conf: ember_config::EmberConf, args: SqlArgs) -> ExitCode {
    match run_inner(conf, args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            record_termination_message(&message);
            ExitCode::FAILURE
        }
    }
}

/// In a driver pod, why the application failed goes to the container's termination message
/// (the path comes from the pod spec Ember rendered), so `ember submit` and `--status` can
/// say why without the log.
fn record_termination_message(message: &str) {
    if let Some(path) = std::env::var_os("EMBER_TERMINATION_LOG") {
        // Kubernetes keeps at most 4096 bytes of it.
        let text: String = message.chars().take(4000).collect();
        if let Err(e) = std::fs::write(&path, text) {
            tracing::warn!(error = %e, "cannot write the termination message");
        }
    }
}

fn run_inner(conf: ember_config::EmberConf, args: SqlArgs) -> Result<ExitCode, String> {
    logging::init(&conf);
    let runtime = runtime(local_threads(&conf))?;
    let format = match args.format {
        Some(Format::Table) => PrintFormat::Table,
        Some(Format::Csv) => PrintFormat::Csv,
        Some(Format::Json) => PrintFormat::Json,
        None => match conf.get("ember.sql.format") {
            Some("csv") => PrintFormat::Csv,
            Some("json") => PrintFormat::Json,
            _ => PrintFormat::Table,
        },
    };
    let output = args.output.map(|path| {
        let format = match args.output_format {
            Some(OutputFormat::Parquet) => FileFormat::Parquet,
            Some(OutputFormat::Csv) => FileFormat::Csv,
            Some(OutputFormat::Json) => FileFormat::Json,
            None => FileFormat::from_path(&path).unwrap_or(FileFormat::Parquet),
        };
        (path, format)
    });
    let progress_wanted = conf.get_bool("ember.sql.progress").unwrap_or(true)
        && std::io::stderr().is_terminal()
        // Streamed CSV/JSON on the same terminal would interleave with the spinner.
        && (format == PrintFormat::Table || output.is_some() || !std::io::stdout().is_terminal());
    let sink = Sink {
        format,
        progress: progress_wanted,
    };

    let session = EmberSession::new(conf).map_err(|e| e.to_string())?;
    let (mut session, _application) = application::attach(&runtime, session)?;
    for table in &args.tables {
        let spec = TableSpec::parse(table).map_err(|e| e.to_string())?;
        runtime
            .block_on(session.register_table(&spec))
            .map_err(|e| format!("table `{}`: {e}", spec.name))?;
    }

    let mut scripts = Vec::new();
    if let Some(sql) = args.execute {
        scripts.push((None, sql));
    }
    for file in &args.files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        scripts.push((Some(file.display().to_string()), text));
    }
    if scripts.is_empty() {
        if std::io::stdin().is_terminal() {
            if output.is_some() {
                return Err("--output needs -e, -f or SQL on standard input".into());
            }
            return Ok(shell::run(&runtime, &mut session, &sink));
        }
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        scripts.push((None, text));
    }
    run_scripts(&runtime, &mut session, &sink, scripts, output)
}

/// Threads this process needs: the engine's threads in local mode; a few for planning and
/// scheduling when executors do the work.
fn local_threads(conf: &ember_config::EmberConf) -> usize {
    match conf.master() {
        ember_config::Master::LocalCluster { .. }
        | ember_config::Master::StandingDriver { .. }
        | ember_config::Master::Kubernetes { .. } => 2,
        master => master.threads(),
    }
}

/// Parses every script first, so a syntax error anywhere runs nothing, then runs the
/// statements in order; --output receives the last statement that returns rows.
fn run_scripts(
    runtime: &tokio::runtime::Runtime,
    session: &mut EmberSession,
    sink: &Sink,
    scripts: Vec<(Option<String>, String)>,
    output: Option<(PathBuf, FileFormat)>,
) -> Result<ExitCode, String> {
    let mut statements = Vec::new();
    for (name, text) in &scripts {
        let script = session.parse(text).map_err(|e| match name {
            Some(name) => format!("{name}: {e}"),
            None => e.to_string(),
        })?;
        statements.extend(script.statements);
    }
    let output_index = match &output {
        Some(_) => Some(
            statements
                .iter()
                .rposition(|s| StatementKind::of(s) == StatementKind::Rows)
                .ok_or("--output needs a query that returns rows")?,
        ),
        None => None,
    };
    let mut output = output;
    for (index, statement) in statements.into_iter().enumerate() {
        let target = if Some(index) == output_index {
            output.take()
        } else {
            None
        };
        match run_statement(runtime, session, sink, statement, target) {
            Ok(()) => {}
            Err(StatementError::Cancelled) => {
                eprintln!("query cancelled");
                return Ok(ExitCode::from(130));
            }
            Err(StatementError::Failed(e)) => return Err(e.to_string()),
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub enum StatementError {
    Cancelled,
    Failed(SqlError),
}

/// Runs one statement until it completes or Ctrl-C cancels it (dropping the query's stream
/// stops its work).
pub fn run_statement(
    runtime: &tokio::runtime::Runtime,
    session: &mut EmberSession,
    sink: &Sink,
    statement: datafusion::sql::parser::Statement,
    output: Option<(PathBuf, FileFormat)>,
) -> Result<(), StatementError> {
    runtime.block_on(async {
        let work = async {
            // Created before the query starts, so an unwritable path costs no work.
            let pending = match output {
                Some((path, format)) => Some(PendingOutput::create(&path, format)?),
                None => None,
            };
            let progress = QueryProgress::start(sink.progress);
            match session.execute(statement).await? {
                Outcome::Rows(stream) => {
                    let stream = progress.track(stream);
                    match pending {
                        Some(pending) => {
                            pending.write(stream).await?;
                        }
                        None => {
                            let mut printer =
                                ResultPrinter::new(std::io::stdout().lock(), sink.format);
                            printer.print(stream).await?;
                        }
                    }
                }
                Outcome::Done => {}
            }
            Ok::<(), SqlError>(())
        };
        // Biased so the Ctrl-C handler is installed before any work (or progress) starts.
        tokio::select! {
            biased;
            _ = tokio::signal::ctrl_c() => Err(StatementError::Cancelled),
            result = work => result.map_err(StatementError::Failed),
        }
    })
}
