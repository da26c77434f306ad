//! Helpers for tests that run the real `ember` binary.

#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn ember() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ember"));
    // Tests must not depend on the developer's environment.
    for (var, _) in std::env::vars() {
        if var.starts_with("EMBER_CONF_") || var == "RUST_LOG" {
            command.env_remove(var);
        }
    }
    command
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `ember` with `args` and returns its output.
pub fn run(args: &[&str]) -> Output {
    ember().args(args).output().expect("ember runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts a clean failure: exit code 1, a message containing every `needle`, no panic.
pub fn assert_fails_with(output: &Output, needles: &[&str]) {
    let err = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "expected exit 1; stderr:\n{err}"
    );
    assert!(!err.contains("panicked"), "panic:\n{err}");
    assert!(
        err.lines().any(|l| l.starts_with("error: ")),
        "no line starts with `error: `:\n{err}"
    );
    for needle in needles {
        assert!(err.contains(needle), "stderr lacks `{needle}`:\n{err}");
    }
}

/// TPC-H data at `scale`, generated once per target directory by `ember datagen` and shared
/// by every test process (a file lock keeps concurrent test processes from racing).
pub fn tpch_data(scale: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(root).unwrap();
    let dir = root.join(format!("tpch-sf{scale}"));
    let lock = File::create(root.join(format!("tpch-sf{scale}.lock"))).unwrap();
    lock.lock().unwrap();
    if !ember_tpch::is_complete(&dir) {
        if dir.exists() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
        let output = run(&[
            "datagen",
            "tpch",
            "--scale",
            scale,
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert!(
            output.status.success(),
            "datagen failed: {}",
            stderr(&output)
        );
    }
    dir
}

/// `--table` arguments for every TPC-H table in `dir`.
pub fn tpch_table_args(dir: &Path) -> Vec<String> {
    ember_tpch::TABLES
        .iter()
        .flat_map(|(table, _)| {
            [
                "--table".to_string(),
                format!("{table}={}", dir.join(table).display()),
            ]
        })
        .collect()
}

/// Asserts that `actual` is TPC-H query `query`'s answer `expected` (CSV with headers), with
/// numeric tolerance and, where the query has no ORDER BY, in any row order.
pub fn assert_same_answer(query: usize, expected: &str, actual: &str, context: &str) {
    let sql = std::fs::read_to_string(repo_root().join(format!("examples/tpch/q{query:02}.sql")))
        .unwrap();
    if let Err(difference) =
        ember_tpch::compare_results(expected, actual, ember_tpch::query_is_ordered(&sql))
    {
        panic!("Q{query} {context}: {difference}");
    }
}

/// Asserts that `actual` is TPC-H query `query`'s reference answer at scale 0.1 (computed by
/// DuckDB, checked in under testdata/tpch/sf0.1).
#[allow(dead_code)]
pub fn assert_reference_answer(query: usize, actual: &str, context: &str) {
    let expected =
        std::fs::read_to_string(repo_root().join(format!("testdata/tpch/sf0.1/q{query:02}.csv")))
            .expect("reference answer exists");
    assert_same_answer(query, &expected, actual, context);
}

/// A port nothing listens on right now, for a process that must be told its port.
#[allow(dead_code)]
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A program from the test virtual environment scripts/setup.sh creates (pinned PySpark,
/// kubernetes-validate); `what` names the package in the message when it is missing.
pub fn test_venv_program(program: &str, what: &str) -> PathBuf {
    let path = repo_root().join("target/ember-py/bin").join(program);
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup.sh, which installs the pinned {what}",
        path.display()
    );
    path
}
