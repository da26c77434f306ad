//! `ember sql` end to end: inputs, tables, formats, output files, settings and every class of
//! bad input, each through the real binary.

mod common;

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{assert_fails_with, ember, run, stderr, stdout};

fn sample_csv(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("people.csv");
    std::fs::write(&path, "name,age\nada,36\ngrace,85\nlinus,54\n").unwrap();
    path
}

#[test]
fn execute_prints_an_aligned_table() {
    let output = run(&["sql", "-e", "select 1 + 1 as two, 'x' as letter"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("| two | letter |"), "{text}");
    assert!(text.contains("| 2   | x      |"), "{text}");
}

#[test]
fn several_statements_and_csv_and_json_formats() {
    let output = run(&[
        "sql",
        "--format",
        "csv",
        "-e",
        "select 1 as a; select 'b' as b, 2 as c",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "a\n1\nb,c\nb,2\n");
    let output = run(&["sql", "--format", "json", "-e", "select 1 as a, 'x' as s"]);
    assert_eq!(stdout(&output).trim(), r#"{"a":1,"s":"x"}"#);
}

#[test]
fn script_from_standard_input() {
    let mut child = ember()
        .args(["sql", "--format", "csv"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"create view v as select 41 + 1 as answer;\nselect * from v;\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "answer\n42\n");
}

#[test]
fn table_shortcut_and_external_tables_over_csv_json_and_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let csv = sample_csv(dir.path());
    let parquet = dir.path().join("people.parquet");
    let json = dir.path().join("people.json");
    let table = format!("people={}", csv.display());
    // CSV in, Parquet and JSON out.
    for (path, format) in [(&parquet, "parquet"), (&json, "json")] {
        let output = run(&[
            "sql",
            "--table",
            &table,
            "-e",
            "select * from people",
            "--output",
            path.to_str().unwrap(),
            "--output-format",
            format,
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
    }
    // Read each back, by shortcut and by CREATE EXTERNAL TABLE.
    let from_parquet = run(&[
        "sql",
        "--format",
        "csv",
        "--table",
        &format!("p={}", parquet.display()),
        "-e",
        "select name from p where age > 50 order by name",
    ]);
    assert_eq!(
        stdout(&from_parquet),
        "name\ngrace\nlinus\n",
        "{}",
        stderr(&from_parquet)
    );
    let ddl = format!(
        "create external table j stored as json location '{}'; select sum(age) as total from j",
        json.display()
    );
    let from_json = run(&["sql", "--format", "csv", "-e", &ddl]);
    assert_eq!(stdout(&from_json), "total\n175\n", "{}", stderr(&from_json));
    // A directory of files is one table.
    let folder = dir.path().join("folder");
    std::fs::create_dir(&folder).unwrap();
    std::fs::copy(&parquet, folder.join("a.parquet")).unwrap();
    std::fs::copy(&parquet, folder.join("b.parquet")).unwrap();
    let output = run(&[
        "sql",
        "--format",
        "csv",
        "--table",
        &format!("d={}", folder.display()),
        "-e",
        "select count(*) as n from d",
    ]);
    assert_eq!(stdout(&output), "n\n6\n", "{}", stderr(&output));
}

#[test]
fn files_run_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("1.sql");
    let second = dir.path().join("2.sql");
    std::fs::write(&first, "create view v as select 7 as seven;").unwrap();
    std::fs::write(&second, "select seven * 6 as n from v;").unwrap();
    let output = run(&[
        "sql",
        "--format",
        "csv",
        "-f",
        first.to_str().unwrap(),
        "-f",
        second.to_str().unwrap(),
    ]);
    assert_eq!(stdout(&output), "n\n42\n", "{}", stderr(&output));
}

#[test]
fn set_changes_session_settings_and_refuses_the_rest() {
    let output = run(&[
        "sql",
        "--format",
        "csv",
        "-e",
        "set spark.sql.shuffle.partitions = 3; select value from information_schema.df_settings where name = 'datafusion.execution.target_partitions'",
    ]);
    assert_eq!(stdout(&output), "value\n3\n", "{}", stderr(&output));
    assert_fails_with(
        &run(&["sql", "-e", "set spark.master = 'local[1]'"]),
        &["spark.master", "--conf"],
    );
    assert_fails_with(
        &run(&["sql", "-e", "set spark.nope = 1"]),
        &["unknown setting `spark.nope`"],
    );
    assert_fails_with(
        &run(&["sql", "-e", "set spark.sql.shuffle.partitions = lots"]),
        &["spark.sql.shuffle.partitions", "expected an integer"],
    );
}

#[test]
fn master_sets_the_engine_threads() {
    let output = run(&[
        "sql",
        "--master",
        "local[3]",
        "--format",
        "csv",
        "-e",
        "select value from information_schema.df_settings where name = 'datafusion.execution.target_partitions'",
    ]);
    assert_eq!(stdout(&output), "value\n3\n", "{}", stderr(&output));
    assert_fails_with(
        &run(&["sql", "--master", "yarn", "-e", "select 1"]),
        &["spark.master", "yarn"],
    );
}

#[test]
fn syntax_error_names_line_and_column() {
    let output = run(&["sql", "-e", "select 1;\nselect * frm t"]);
    assert_fails_with(&output, &["syntax error", "Line: 2, Column: 10"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.sql");
    std::fs::write(&file, "selec 1").unwrap();
    assert_fails_with(
        &run(&["sql", "-f", file.to_str().unwrap()]),
        &["bad.sql", "syntax error"],
    );
}

#[test]
fn unknown_table_and_column_are_named() {
    assert_fails_with(
        &run(&["sql", "-e", "select * from no_such_table"]),
        &["no_such_table", "not found"],
    );
    let dir = tempfile::tempdir().unwrap();
    let table = format!("people={}", sample_csv(dir.path()).display());
    assert_fails_with(
        &run(&["sql", "--table", &table, "-e", "select salary from people"]),
        &["salary"],
    );
}

#[test]
fn missing_paths_are_named() {
    assert_fails_with(
        &run(&[
            "sql",
            "--table",
            "t=/no/such/file.parquet",
            "-e",
            "select 1",
        ]),
        &["path not found: /no/such/file.parquet"],
    );
    assert_fails_with(
        &run(&[
            "sql",
            "-e",
            "create external table t stored as parquet location '/no/such/dir/'",
        ]),
        &["path not found: /no/such/dir/"],
    );
    assert_fails_with(
        &run(&["sql", "-f", "/no/such/script.sql"]),
        &["cannot read /no/such/script.sql"],
    );
}

#[test]
fn bad_configuration_names_the_key_and_type() {
    assert_fails_with(
        &run(&[
            "sql",
            "--conf",
            "spark.sql.shuffle.partitions=abc",
            "-e",
            "select 1",
        ]),
        &["spark.sql.shuffle.partitions", "expected an integer"],
    );
    assert_fails_with(
        &run(&[
            "sql",
            "--conf",
            "spark.sql.shufle.partitions=4",
            "-e",
            "select 1",
        ]),
        &[
            "unknown setting `spark.sql.shufle.partitions`",
            "did you mean `spark.sql.shuffle.partitions`",
        ],
    );
    assert_fails_with(
        &run(&["sql", "--conf", "novalue", "-e", "select 1"]),
        &["KEY=VALUE"],
    );
    let env_bad = ember()
        .env("EMBER_CONF_ember_sql_batchSize", "0")
        .args(["sql", "-e", "select 1"])
        .output()
        .unwrap();
    assert_fails_with(
        &env_bad,
        &["ember.sql.batchSize", "EMBER_CONF_ember_sql_batchSize"],
    );
    assert_fails_with(
        &run(&[
            "sql",
            "--conf",
            "datafusion.execution.no_such_option=1",
            "-e",
            "select 1",
        ]),
        &["no_such_option"],
    );
}

#[test]
fn unwritable_output_fails_before_running() {
    assert_fails_with(
        &run(&[
            "sql",
            "-e",
            "select 1",
            "--output",
            "/no/such/dir/out.parquet",
        ]),
        &["cannot write /no/such/dir/out.parquet", "does not exist"],
    );
    let dir = tempfile::tempdir().unwrap();
    assert_fails_with(
        &run(&[
            "sql",
            "-e",
            "select 1",
            "--output",
            dir.path().to_str().unwrap(),
        ]),
        &["is a directory"],
    );
}

#[test]
fn failed_query_leaves_no_partial_output() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.csv");
    // Rows are produced before the cast of the last one fails.
    let output = run(&[
        "sql",
        "--conf",
        "ember.sql.batchSize=1",
        "-e",
        "select cast(v as int) from (values ('1'), ('2'), ('three')) t(v)",
        "--output",
        target.to_str().unwrap(),
    ]);
    assert_fails_with(&output, &["three"]);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn output_replaces_an_existing_file_only_on_success() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.csv");
    std::fs::write(&target, "old\n").unwrap();
    let failed = run(&[
        "sql",
        "-e",
        "select * from missing",
        "--output",
        target.to_str().unwrap(),
    ]);
    assert_eq!(failed.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "old\n");
    let ok = run(&[
        "sql",
        "-e",
        "select 5 as five",
        "--output",
        target.to_str().unwrap(),
    ]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "five\n5\n");
}

#[test]
fn ctrl_c_cancels_a_running_query() {
    let child = ember()
        .args([
            "sql",
            "--master",
            "local[1]",
            "-e",
            "select sum(value) from generate_series(1, 100000000000)",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let started = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "cancellation took {:?}",
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(stderr(&output).contains("query cancelled"));
}

#[test]
fn conf_lists_every_key_with_its_source() {
    let output = ember()
        .env("EMBER_CONF_spark_app_name", "from-env")
        .args(["conf", "--conf", "spark.sql.shuffle.partitions=9"])
        .output()
        .unwrap();
    let text = stdout(&output);
    for key in ember_config_keys() {
        assert!(text.contains(&key), "`ember conf` lacks {key}");
    }
    assert!(
        text.contains(
            "spark.app.name = from-env    (environment variable EMBER_CONF_spark_app_name)"
        ),
        "{text}"
    );
    assert!(
        text.contains("spark.sql.shuffle.partitions = 9    (--conf)"),
        "{text}"
    );
    let markdown = run(&["conf", "--markdown"]);
    let doc = std::fs::read_to_string(common::repo_root().join("docs/configuration.md")).unwrap();
    assert_eq!(stdout(&markdown), doc);
}

fn ember_config_keys() -> Vec<String> {
    let doc = std::fs::read_to_string(common::repo_root().join("docs/configuration.md")).unwrap();
    doc.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(String::from)
        .collect()
}

#[test]
fn json_logs_on_request() {
    let output = run(&[
        "sql",
        "--log-level",
        "debug",
        "--conf",
        "ember.log.format=json",
        "-e",
        "select 1",
    ]);
    assert!(output.status.success());
    let first = stderr(&output)
        .lines()
        .next()
        .map(String::from)
        .unwrap_or_default();
    assert!(
        first.starts_with('{') && first.contains("\"level\""),
        "not JSON: {first}"
    );
}

/// What a program has written to a pseudo-terminal so far, read on a thread so the test can wait
/// for the screen to show something before typing, as a person would.
struct Screen {
    text: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Screen {
    fn follow(mut source: impl std::io::Read + Send + 'static) -> Screen {
        let text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = text.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = source.read(&mut chunk) {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
        Screen { text }
    }

    fn contents(&self) -> String {
        self.text.lock().unwrap().clone()
    }

    /// Waits until `needle` appears at or after byte `from`; returns where it ends.
    fn wait_for(&self, from: usize, needle: &str) -> usize {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = self.contents();
            if let Some(at) = text.get(from..).and_then(|rest| rest.find(needle)) {
                return from + at + needle.len();
            }
            assert!(
                Instant::now() < deadline,
                "waited 60s for {needle:?}; screen:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The shell on a real terminal (a pseudo-terminal from util-linux `script`): a statement over
/// two lines, Ctrl-C during a long query returns to the prompt, history is saved, Ctrl-D quits.
#[test]
fn interactive_shell_survives_ctrl_c_and_keeps_history() {
    let home = tempfile::tempdir().unwrap();
    // `exec` so the Ctrl-C reaches only ember: dash (the /bin/sh `script` uses when SHELL is
    // unset) waits in the foreground instead of exec-ing, and would die of the SIGINT itself.
    let command = format!("exec {} sql --master local[1]", env!("CARGO_BIN_EXE_ember"));
    let mut child = std::process::Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .env("HOME", home.path())
        .env("SHELL", "/bin/sh")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` is installed");
    let mut input = child.stdin.take().unwrap();
    let screen = Screen::follow(child.stdout.take().unwrap());
    let mut type_keys = |text: &[u8]| {
        input.write_all(text).unwrap();
        input.flush().unwrap();
    };
    let at = screen.wait_for(0, "ember> ");
    type_keys(b"select 40 + 2\n");
    let at = screen.wait_for(at, "->");
    type_keys(b"  as answer;\n");
    let at = screen.wait_for(at, "| 42     |");
    let at = screen.wait_for(at, "ember> ");
    type_keys(b"select sum(value) from generate_series(1, 100000000000);\n");
    let at = screen.wait_for(at, "running query");
    type_keys(b"\x03");
    let at = screen.wait_for(at, "query cancelled");
    let at = screen.wait_for(at, "ember> ");
    type_keys(b"select 'still here' as status;\n");
    let at = screen.wait_for(at, "| still here |");
    screen.wait_for(at, "ember> ");
    type_keys(b"\x04");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}; screen:\n{}", screen.contents());
    let history = std::fs::read_to_string(home.path().join(".ember_history")).unwrap();
    assert!(
        history.contains("select 'still here' as status;"),
        "{history}"
    );
}

#[test]
fn sorts_beyond_the_memory_limit_spill_to_the_local_dir() {
    let dir = tempfile::tempdir().unwrap();
    let spill = dir.path().join("spill");
    let target = dir.path().join("sorted.csv");
    let output = run(&[
        "sql",
        "--master",
        "local[2]",
        "--log-level",
        "debug",
        "--conf",
        "ember.sql.memoryLimit=32m",
        "--conf",
        &format!("spark.local.dir={}", spill.display()),
        "-e",
        "select value from generate_series(1, 3000000) order by value desc",
        "--output",
        target.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("Spilling sort data"),
        "the sort did not spill"
    );
    let check = run(&[
        "sql",
        "--format",
        "csv",
        "--table",
        &format!("s={}", target.display()),
        "-e",
        "select count(*) as n, min(value) as lo, max(value) as hi from s",
    ]);
    assert_eq!(stdout(&check), "n,lo,hi\n3000000,1,3000000\n");
    let mut lines = std::fs::read_to_string(&target).unwrap();
    lines.truncate(30);
    assert!(
        lines.starts_with("value\n3000000\n2999999\n"),
        "not sorted: {lines}"
    );
}

#[test]
fn unsupported_location_schemes_are_named() {
    assert_fails_with(
        &run(&[
            "sql",
            "--table",
            "t=hdfs://namenode/data.parquet",
            "-e",
            "select 1",
        ]),
        &["hdfs://", "s3://"],
    );
}
