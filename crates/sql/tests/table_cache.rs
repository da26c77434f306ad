//! Spark's table cache through an Ember session: a cached table answers from memory until it
//! is refreshed, and writes reach the table's files.

use arrow::array::AsArray;
use arrow::datatypes::Int64Type;
use ember_config::EmberConf;
use ember_sql::EmberSession;

async fn count(session: &mut EmberSession) -> i64 {
    let batches = session
        .run_script("SELECT count(*) FROM ct")
        .await
        .expect("count");
    batches[0].column(0).as_primitive::<Int64Type>().value(0)
}

#[tokio::test]
async fn a_cached_table_answers_from_memory_until_refreshed() {
    let dir = tempfile::tempdir().expect("a directory");
    let location = dir.path().join("ct");
    let mut session = EmberSession::new(EmberConf::default()).expect("session");
    session
        .run_script(&format!(
            "CREATE TABLE ct (a INT) USING parquet LOCATION '{}'; \
             INSERT INTO ct VALUES (1)",
            location.display()
        ))
        .await
        .expect("create");
    session.run_script("CACHE TABLE ct").await.expect("cache");
    assert!(ember_sql::is_cached(session.context(), "ct").expect("cache state"));

    // The files go; the cache still holds the row, until the table is refreshed.
    for file in std::fs::read_dir(&location).expect("the table's files") {
        std::fs::remove_file(file.expect("a file").path()).expect("removed");
    }
    assert_eq!(count(&mut session).await, 1);
    ember_sql::refresh_table(session.context(), "ct")
        .await
        .expect("refresh");
    assert_eq!(count(&mut session).await, 0);

    // A write to a cached table reaches its files, and reads see it.
    session
        .run_script("INSERT INTO ct VALUES (2)")
        .await
        .expect("insert");
    assert_eq!(count(&mut session).await, 1);
    session
        .run_script("UNCACHE TABLE ct")
        .await
        .expect("uncache");
    assert!(!ember_sql::is_cached(session.context(), "ct").expect("cache state"));
    assert_eq!(count(&mut session).await, 1);
}
