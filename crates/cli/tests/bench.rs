//! `ember bench tpch` generates missing data, times both engines and prints comparable rows.

mod common;

use common::{run, stderr, stdout};

#[test]
fn bench_reports_each_query_and_the_total_against_datafusion() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("sf");
    let output = run(&[
        "bench",
        "tpch",
        "--scale",
        "0.01",
        "--queries",
        "1,6",
        "--runs",
        "1",
        "--master",
        "local[2]",
        "--baseline",
        "datafusion",
        "--data",
        data.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(data.join("_SUCCESS").is_file(), "data was not generated");
    let text = stdout(&output);
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines[0],
        ["query", "rows", "ember", "ms", "datafusion", "ms", "ratio"],
        "{text}"
    );
    assert_eq!(&lines[1][..2], ["Q01", "4"], "{text}");
    assert_eq!(&lines[2][..2], ["Q06", "1"], "{text}");
    assert_eq!(lines[3][0], "total", "{text}");
    for line in &lines[1..] {
        let ratio: f64 = line.last().unwrap().parse().unwrap();
        assert!(ratio > 0.0 && ratio.is_finite(), "{text}");
    }
    let bad = run(&[
        "bench",
        "tpch",
        "--queries",
        "23",
        "--data",
        data.to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("`23` is not a TPC-H query"),
        "{}",
        stderr(&bad)
    );
}
