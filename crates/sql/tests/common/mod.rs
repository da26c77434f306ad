//! What the SQL test files share: running a script in a fresh Ember session and reading the
//! cells of a one-row answer.

use ember_config::EmberConf;
use ember_sql::EmberSession;

/// The batches `sql` returns in a fresh session; panics with the statement on an error.
pub async fn rows(sql: &str) -> Vec<arrow::array::RecordBatch> {
    let mut session = EmberSession::new(EmberConf::default()).expect("session");
    session.run_script(sql).await.expect(sql)
}

/// The cells of a one-row result as the pretty printer shows them (an empty string is NULL).
pub async fn cells(sql: &str) -> Vec<String> {
    let text = arrow::util::pretty::pretty_format_batches(&rows(sql).await)
        .expect("printable")
        .to_string();
    let row = text
        .lines()
        .nth(3)
        .unwrap_or_else(|| panic!("no row in\n{text}"));
    row.trim_matches('|')
        .split('|')
        .map(|c| c.trim().to_string())
        .collect()
}
