//! Ember's embedded SQL engine: a DataFusion session configured from Ember's settings, table
//! registration from paths and URLs, statement-by-statement execution of SQL scripts with
//! Ember's own handling of `SET` and of missing paths, and writers that stream results to the
//! terminal or atomically to files. Everything `ember sql` does that is not argument parsing
//! or terminal interaction lives here, so other front ends (Spark Connect, the benchmark) share
//! the exact same engine.

mod databases;
mod error;
mod integer_literals;
mod object_stores;
mod output;
mod session;
mod set_values;
mod shared_tables;
mod spark_sql;
mod table_cache;
mod tables;
mod typed_literals;
mod values_types;

pub use databases::{
    DEFAULT_CATALOG, DEFAULT_DATABASE, create_database, database_exists, database_names,
    drop_database,
};
pub use error::SqlError;
pub use integer_literals::spark_integer_literals;
pub use output::{FileFormat, PendingOutput, PrintFormat, ResultPrinter, write_stream_to_file};
pub use session::{EmberSession, Outcome, PlanExecutor, Script, StatementKind};
pub use shared_tables::SharedTables;
pub use spark_sql::{drop_table, managed_directory, rewrite_spark_sql, truncate_table};
pub use table_cache::{
    cache_table, clear_cache, is_cached, refresh_by_path, refresh_table, uncache_table,
};
pub use tables::{TableFormat, TableSpec};
pub use typed_literals::rewrite_typed_literals;
