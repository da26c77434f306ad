//! Spark's databases are the schemas of the session's default catalog; Spark's `default`
//! database is DataFusion's `public` schema. `CREATE DATABASE`/`DROP DATABASE` in SQL and
//! `spark.catalog`'s database calls both come here, so they agree.

use std::sync::Arc;

use datafusion::catalog::{CatalogProvider, MemorySchemaProvider};
use datafusion::prelude::SessionContext;

use crate::SqlError;

/// Spark's name for the database every session starts in.
pub const DEFAULT_DATABASE: &str = "default";
/// Spark's name for the session's catalog.
pub const DEFAULT_CATALOG: &str = "spark_catalog";
const PUBLIC_SCHEMA: &str = "public";
const INFORMATION_SCHEMA: &str = "information_schema";

/// The schema a Spark database name means: without the `spark_catalog.` prefix, `default`
/// as `public`.
fn schema_of(database: &str) -> String {
    let bare = database
        .strip_prefix(DEFAULT_CATALOG)
        .and_then(|rest| rest.strip_prefix('.'))
        .unwrap_or(database)
        .trim_matches('`');
    if bare.eq_ignore_ascii_case(DEFAULT_DATABASE) {
        PUBLIC_SCHEMA.to_string()
    } else {
        bare.to_ascii_lowercase()
    }
}

fn catalog(ctx: &SessionContext) -> Result<Arc<dyn CatalogProvider>, SqlError> {
    let name = ctx
        .state()
        .config()
        .options()
        .catalog
        .default_catalog
        .clone();
    ctx.catalog(&name)
        .ok_or_else(|| SqlError::Query(format!("the session has no catalog `{name}`")))
}

/// The session's databases by Spark's names, sorted.
pub fn database_names(ctx: &SessionContext) -> Result<Vec<String>, SqlError> {
    let mut names: Vec<String> = catalog(ctx)?
        .schema_names()
        .into_iter()
        .filter(|s| s != INFORMATION_SCHEMA)
        .map(|s| {
            if s == PUBLIC_SCHEMA {
                DEFAULT_DATABASE.to_string()
            } else {
                s
            }
        })
        .collect();
    names.sort();
    Ok(names)
}

pub fn database_exists(ctx: &SessionContext, database: &str) -> Result<bool, SqlError> {
    Ok(catalog(ctx)?.schema(&schema_of(database)).is_some())
}

/// `CREATE DATABASE [IF NOT EXISTS] name`.
pub fn create_database(
    ctx: &SessionContext,
    database: &str,
    if_not_exists: bool,
) -> Result<(), SqlError> {
    let catalog = catalog(ctx)?;
    let schema = schema_of(database);
    if catalog.schema(&schema).is_some() {
        if if_not_exists {
            return Ok(());
        }
        return Err(SqlError::Query(format!(
            "[SCHEMA_ALREADY_EXISTS] Cannot create schema `{database}` because it already exists. Choose a different name, drop the existing schema, or add the IF NOT EXISTS clause to tolerate pre-existing schema."
        )));
    }
    catalog.register_schema(&schema, Arc::new(MemorySchemaProvider::new()))?;
    Ok(())
}

/// `DROP DATABASE [IF EXISTS] name [CASCADE]`; whether it existed. The default database
/// cannot be dropped, and one with tables only with `cascade`.
pub fn drop_database(
    ctx: &SessionContext,
    database: &str,
    if_exists: bool,
    cascade: bool,
) -> Result<bool, SqlError> {
    let catalog = catalog(ctx)?;
    let schema = schema_of(database);
    if schema == PUBLIC_SCHEMA {
        return Err(SqlError::Query(
            "[UNSUPPORTED_FEATURE.DROP_DATABASE] Drop the default database `default` is not allowed."
                .into(),
        ));
    }
    let Some(provider) = catalog.schema(&schema) else {
        if if_exists {
            return Ok(false);
        }
        return Err(SqlError::Query(format!(
            "[SCHEMA_NOT_FOUND] The schema `{database}` cannot be found. Verify the spelling and correctness of the schema and catalog."
        )));
    };
    if !cascade && !provider.table_names().is_empty() {
        return Err(SqlError::Query(format!(
            "[SCHEMA_NOT_EMPTY] Cannot drop a schema `{database}` because it contains objects. Use DROP SCHEMA ... CASCADE to drop the schema and all its objects."
        )));
    }
    catalog.deregister_schema(&schema, true)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn databases_are_schemas_and_default_is_public() {
        let ctx = SessionContext::new();
        assert_eq!(database_names(&ctx).unwrap(), ["default"]);
        assert!(database_exists(&ctx, "spark_catalog.default").unwrap());
        create_database(&ctx, "Sales", false).unwrap();
        assert!(database_exists(&ctx, "sales").unwrap());
        assert!(create_database(&ctx, "sales", false).is_err());
        create_database(&ctx, "sales", true).unwrap();
        assert_eq!(database_names(&ctx).unwrap(), ["default", "sales"]);
        assert!(drop_database(&ctx, "default", true, true).is_err());
        assert!(drop_database(&ctx, "sales", false, false).unwrap());
        assert!(!drop_database(&ctx, "sales", true, false).unwrap());
        assert!(drop_database(&ctx, "sales", false, false).is_err());
    }
}
