//! All 22 TPC-H queries at scale 0.1 through `ember sql`, compared with answers computed by
//! DuckDB (scripts/tpch_reference_answers.py) and checked in under testdata/: in one process
//! (`local[2]`) and distributed over executor processes (`local-cluster`), so every master must
//! give the same, independently computed answers.

mod common;

use common::{assert_reference_answer, repo_root, run, stderr, stdout, tpch_data, tpch_table_args};

fn check(query: usize, master: &str) {
    let data = tpch_data("0.1");
    let file = repo_root().join(format!("examples/tpch/q{query:02}.sql"));
    let mut args = vec![
        "sql",
        "--master",
        master,
        "--format",
        "csv",
        "-f",
        file.to_str().unwrap(),
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    args.extend(tpch_table_args(&data));
    let output = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        output.status.success(),
        "Q{query} on {master} failed:\n{}",
        stderr(&output)
    );
    assert_reference_answer(
        query,
        &stdout(&output),
        &format!("on {master} differs from the reference"),
    );
}

macro_rules! tpch_tests {
    ($($name:ident => $n:expr),* $(,)?) => {
        mod local {
            $(#[test] fn $name() { super::check($n, "local[2]"); })*
        }
        mod cluster_2x1 {
            $(#[test] fn $name() { super::check($n, "local-cluster[2,1,1024]"); })*
        }
        mod cluster_3x1 {
            $(#[test] fn $name() { super::check($n, "local-cluster[3,1,512]"); })*
        }
    };
}

tpch_tests!(
    q01 => 1, q02 => 2, q03 => 3, q04 => 4, q05 => 5, q06 => 6, q07 => 7, q08 => 8,
    q09 => 9, q10 => 10, q11 => 11, q12 => 12, q13 => 13, q14 => 14, q15 => 15, q16 => 16,
    q17 => 17, q18 => 18, q19 => 19, q20 => 20, q21 => 21, q22 => 22,
);
