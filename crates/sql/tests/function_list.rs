//! `docs/functions.md` lists every function an Ember session resolves, with where it is
//! implemented; this test keeps it true. `EMBER_BLESS=1 cargo test -p ember-sql --test
//! function_list` rewrites it.

use std::collections::BTreeMap;
use std::path::Path;

use ember_config::EmberConf;
use ember_functions::Origin;
use ember_sql::EmberSession;

fn function_list() -> String {
    let session = EmberSession::new(EmberConf::default()).expect("session");
    let state = session.context().state();
    // name -> (kind, aliases, primary name)
    let mut rows: BTreeMap<String, (&str, String)> = BTreeMap::new();
    let mut add = |kind: &'static str, name: &str, primary: &str, aliases: &[String]| {
        let implemented = match ember_functions::origin(primary) {
            Some(Origin::Ember) => "Ember",
            Some(Origin::DataFusionSpark) => "datafusion-spark",
            Some(Origin::DataFusion) | None => "DataFusion",
        };
        let note = if name == primary {
            let mut aliases: Vec<&str> = aliases.iter().map(String::as_str).collect();
            aliases.sort();
            if aliases.is_empty() {
                implemented.to_string()
            } else {
                format!("{implemented}; also `{}`", aliases.join("`, `"))
            }
        } else {
            format!("alias of `{primary}`")
        };
        rows.entry(name.to_string()).or_insert((kind, note));
    };
    for (name, f) in state.scalar_functions() {
        add("scalar", name, f.name(), f.aliases());
    }
    for (name, f) in state.aggregate_functions() {
        add("aggregate", name, f.name(), f.aliases());
    }
    for (name, f) in state.window_functions() {
        add("window", name, f.name(), f.aliases());
    }
    let mut text = String::from(
        "# Functions\n\n\
         Every function name an Ember session resolves, in SQL (`spark.sql`, `ember sql`) and in\n\
         the DataFrame API (`pyspark.sql.functions`, `call_function`), and where it is\n\
         implemented: Ember's own Spark-compatible code, the Apache DataFusion project's\n\
         `datafusion-spark`, or DataFusion's built-in under the same or a Spark name.\n\
         Generated from the catalog by `crates/sql/tests/function_list.rs`\n\
         (`EMBER_BLESS=1 cargo test -p ember-sql --test function_list`). Functions Spark has\n\
         and Ember does not are listed in `docs/spark-connect.md`.\n\n\
         | Function | Kind | Implementation |\n|---|---|---|\n",
    );
    for (name, (kind, note)) in rows {
        text.push_str(&format!("| `{name}` | {kind} | {note} |\n"));
    }
    text
}

#[test]
fn docs_function_list_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/functions.md");
    let expected = function_list();
    if std::env::var_os("EMBER_BLESS").is_some() {
        std::fs::write(&path, &expected).expect("write docs/functions.md");
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/functions.md is out of date: run EMBER_BLESS=1 cargo test -p ember-sql --test function_list"
    );
}
