//! Every function an Ember session knows, called with the wrong number and types of
//! arguments, answers or fails with a planning or execution error: never a panic, never an
//! internal error, never a hang.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use datafusion::error::DataFusionError;
use ember_config::EmberConf;
use ember_sql::EmberSession;
use futures::FutureExt;

/// Argument lists of several arities and types, as SQL text.
const ARGUMENTS: &[&str] = &[
    "",
    "1",
    "'a'",
    "NULL",
    "1.5",
    "DATE '2024-02-29'",
    "1, 2",
    "'a', 'b'",
    "'a', 1",
    "ARRAY(1, 2), 1",
    "1, 'a', 2.5, NULL, TRUE",
];

/// Functions that take no ordinary arguments (SQL syntax, table functions) or whose planning
/// needs context a bare SELECT has not.
fn skipped(name: &str) -> bool {
    matches!(
        name,
        "unnest" | "struct" | "named_struct" | "get_field" | "grouping"
    )
}

/// The root cause, past DataFusion's context wrappers.
fn root(error: &DataFusionError) -> &DataFusionError {
    match error {
        DataFusionError::Context(_, inner) => root(inner),
        DataFusionError::Diagnostic(_, inner) => root(inner),
        DataFusionError::Shared(inner) => root(inner),
        other => other,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_answers_or_fails_cleanly_for_any_arguments() {
    let session = EmberSession::new(EmberConf::default()).expect("session");
    let ctx = session.context().clone();
    let state = session.context().state();
    let mut names: Vec<String> = state
        .scalar_functions()
        .keys()
        .chain(state.aggregate_functions().keys())
        .filter(|name| !skipped(name))
        .cloned()
        .collect();
    names.sort();
    assert!(
        names.len() > 300,
        "the catalog lists only {} functions",
        names.len()
    );
    let mut internal = Vec::new();
    for name in &names {
        for arguments in ARGUMENTS {
            let sql = format!("SELECT {name}({arguments})");
            let query = async {
                match ctx.sql(&sql).await {
                    Ok(frame) => frame.collect().await.map(|_| ()),
                    Err(e) => Err(e),
                }
            };
            let run = AssertUnwindSafe(query).catch_unwind();
            match tokio::time::timeout(Duration::from_secs(20), run).await {
                Err(_) => panic!("`{sql}` did not finish within 20 s"),
                Ok(Err(_)) => panic!("`{sql}` panicked"),
                Ok(Ok(Ok(_))) => {}
                Ok(Ok(Err(error))) => {
                    if matches!(root(&error), DataFusionError::Internal(_)) {
                        internal.push(format!("{sql}: {error}"));
                    }
                }
            }
        }
    }
    assert!(
        internal.is_empty(),
        "internal errors (bugs, not user errors):\n{}",
        internal.join("\n")
    );
}
