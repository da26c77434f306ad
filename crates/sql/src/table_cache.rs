//! Spark's table cache: `CACHE TABLE` and `spark.catalog.cacheTable` keep a table's rows in
//! memory and reads take them from there, so a cached table does not see later changes to
//! its files until it is refreshed (`REFRESH TABLE`, `refreshTable`, `refreshByPath`), which
//! reads the files again, or uncached. The rows are read when the table is cached.

use std::path::Path;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::Result as DataFusionResult;
use datafusion::datasource::MemTable;
use datafusion::datasource::listing::ListingTable;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;

use crate::SqlError;
use crate::shared_tables::SessionSchema;

/// The session's default database, where tables and views live.
fn schema(ctx: &SessionContext) -> Result<Arc<dyn datafusion::catalog::SchemaProvider>, SqlError> {
    let options = ctx.state().config().options().catalog.clone();
    ctx.catalog(&options.default_catalog)
        .and_then(|c| c.schema(&options.default_schema))
        .ok_or_else(|| SqlError::Query("the session has no default database".into()))
}

fn with_schema<T>(
    ctx: &SessionContext,
    f: impl FnOnce(&SessionSchema) -> T,
) -> Result<Option<T>, SqlError> {
    let schema = schema(ctx)?;
    Ok(schema.downcast_ref::<SessionSchema>().map(f))
}

fn key(name: &str) -> String {
    name.trim_matches('`').to_lowercase()
}

fn not_found(name: &str) -> SqlError {
    SqlError::Query(format!(
        "[TABLE_OR_VIEW_NOT_FOUND] The table or view `{name}` cannot be found. Verify the spelling and correctness of the schema and catalog."
    ))
}

/// Reads `name`'s rows into memory; reads of it take them from there from now on.
pub async fn cache_table(ctx: &SessionContext, name: &str) -> Result<(), SqlError> {
    let key = key(name);
    let table = with_schema(ctx, |s| s.uncached_table(&key))?
        .flatten()
        .ok_or_else(|| not_found(name))?;
    let data = rows_of(ctx, table).await?;
    with_schema(ctx, |s| s.cache(&key, data))?;
    Ok(())
}

async fn rows_of(
    ctx: &SessionContext,
    table: Arc<dyn TableProvider>,
) -> Result<Arc<dyn TableProvider>, SqlError> {
    let schema = table.schema();
    let partitions = ctx.read_table(table.clone())?.collect_partitioned().await?;
    Ok(Arc::new(CachedTable {
        rows: RwLock::new(Some(Arc::new(MemTable::try_new(schema, partitions)?))),
        stored: table,
    }))
}

/// A cached table: reads take its rows from memory, writes go to the table itself and
/// drop the rows, so later reads see what was written (Spark refreshes a cached table a
/// write changes).
#[derive(Debug)]
struct CachedTable {
    rows: RwLock<Option<Arc<MemTable>>>,
    stored: Arc<dyn TableProvider>,
}

impl CachedTable {
    fn rows(&self) -> Option<Arc<MemTable>> {
        self.rows.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[async_trait]
impl TableProvider for CachedTable {
    fn schema(&self) -> SchemaRef {
        self.stored.schema()
    }

    fn table_type(&self) -> TableType {
        self.stored.table_type()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DataFusionResult<Arc<dyn ExecutionPlan>> {
        match self.rows() {
            Some(rows) => rows.scan(state, projection, filters, limit).await,
            None => self.stored.scan(state, projection, filters, limit).await,
        }
    }

    async fn insert_into(
        &self,
        state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> DataFusionResult<Arc<dyn ExecutionPlan>> {
        *self.rows.write().unwrap_or_else(|p| p.into_inner()) = None;
        self.stored.insert_into(state, input, insert_op).await
    }
}

/// Forgets `name`'s cached rows; `false` when it had none.
pub fn uncache_table(ctx: &SessionContext, name: &str) -> Result<bool, SqlError> {
    Ok(with_schema(ctx, |s| s.uncache(&key(name)))?.unwrap_or(false))
}

pub fn is_cached(ctx: &SessionContext, name: &str) -> Result<bool, SqlError> {
    Ok(with_schema(ctx, |s| s.is_cached(&key(name)))?.unwrap_or(false))
}

/// Forgets every cached table.
pub fn clear_cache(ctx: &SessionContext) -> Result<(), SqlError> {
    with_schema(ctx, |s| {
        for name in s.cached_names() {
            s.uncache(&name);
        }
    })?;
    Ok(())
}

/// Reads a cached table's files again; a table that is not cached is read afresh anyway.
pub async fn refresh_table(ctx: &SessionContext, name: &str) -> Result<(), SqlError> {
    if is_cached(ctx, name)? {
        cache_table(ctx, name).await?;
    }
    Ok(())
}

/// Refreshes every cached table stored under `path`.
pub async fn refresh_by_path(ctx: &SessionContext, path: &str) -> Result<(), SqlError> {
    let wanted = Path::new(path.strip_prefix("file:").unwrap_or(path));
    let names = with_schema(ctx, |s| {
        s.cached_names()
            .into_iter()
            .filter(|name| {
                s.uncached_table(name)
                    .is_some_and(|t| stored_under(&t, wanted))
            })
            .collect::<Vec<_>>()
    })?
    .unwrap_or_default();
    for name in names {
        cache_table(ctx, &name).await?;
    }
    Ok(())
}

fn stored_under(table: &Arc<dyn TableProvider>, wanted: &Path) -> bool {
    let Some(listing) = table.downcast_ref::<ListingTable>() else {
        return false;
    };
    listing.table_paths().iter().any(|url| {
        let local = Path::new("/").join(url.prefix().as_ref());
        local.starts_with(wanted) || wanted.starts_with(&local)
    })
}
