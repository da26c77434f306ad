//! `spark.catalog`: tables and temporary views, and the tables `saveAsTable` makes, which
//! every session of the server sees (temporary views stay in the session that made them).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use spark_connect_proto::Catalog;
use spark_connect_proto::catalog::CatType;

use crate::error::{ConnectResult, SparkError};
use crate::relation::{Planner, batches_plan};
use crate::types;

const CATALOG: &str = ember_sql::DEFAULT_CATALOG;
const DATABASE: &str = ember_sql::DEFAULT_DATABASE;

fn strings(values: Vec<Option<String>>) -> ArrayRef {
    Arc::new(StringArray::from(values))
}

fn bools(values: Vec<bool>) -> ArrayRef {
    Arc::new(BooleanArray::from(values))
}

fn one_bool(name: &str, value: bool) -> ConnectResult<LogicalPlan> {
    let schema = Arc::new(Schema::new(vec![Field::new(
        name,
        DataType::Boolean,
        false,
    )]));
    batches_plan(
        schema.clone(),
        vec![RecordBatch::try_new(schema, vec![bools(vec![value])])?],
    )
}

fn one_string(name: &str, value: &str) -> ConnectResult<LogicalPlan> {
    crate::relation::single_string(name, value.to_string())
}

/// The last part of `db.table`; Ember has one database.
fn bare(name: &str) -> String {
    crate::expr::split_identifier(name)
        .pop()
        .unwrap_or_default()
}

pub async fn plan(planner: &Planner, catalog: &Catalog) -> ConnectResult<LogicalPlan> {
    let ctx = &planner.ctx;
    let Some(cat_type) = &catalog.cat_type else {
        return Err(SparkError::invalid_plan("a catalog call without a kind"));
    };
    match cat_type {
        CatType::CurrentDatabase(_) => one_string("current_database", DATABASE),
        CatType::CurrentCatalog(_) => one_string("current_catalog", CATALOG),
        CatType::SetCurrentDatabase(set) if set.db_name == DATABASE => one_bool("ok", true),
        CatType::SetCurrentCatalog(set) if set.catalog_name == CATALOG => one_bool("ok", true),
        CatType::DatabaseExists(exists) => {
            one_bool("exists", ember_sql::database_exists(ctx, &exists.db_name)?)
        }
        CatType::CreateDatabase(create) => {
            ember_sql::create_database(ctx, &create.db_name, create.if_not_exists)?;
            one_bool("ok", true)
        }
        CatType::DropDatabase(drop) => {
            let dropped =
                ember_sql::drop_database(ctx, &drop.db_name, drop.if_exists, drop.cascade)?;
            one_bool("dropped", dropped)
        }
        CatType::ListDatabases(list) => {
            let pattern = list.pattern.as_deref();
            let names = ember_sql::database_names(ctx)?
                .into_iter()
                .filter(|n| pattern.is_none_or(|p| like(p, n)))
                .collect();
            databases_plan(names)
        }
        CatType::GetDatabase(get) => {
            if !ember_sql::database_exists(ctx, &get.db_name)? {
                return Err(SparkError::analysis(
                    "SCHEMA_NOT_FOUND",
                    format!(
                        "[SCHEMA_NOT_FOUND] The schema `{}` cannot be found. Verify the spelling and correctness of the schema and catalog.",
                        get.db_name
                    ),
                ));
            }
            let name = get
                .db_name
                .strip_prefix("spark_catalog.")
                .unwrap_or(&get.db_name)
                .to_ascii_lowercase();
            databases_plan(vec![name])
        }
        CatType::ListCatalogs(list) => {
            let schema = Arc::new(Schema::new(vec![
                Field::new("name", DataType::Utf8, false),
                Field::new("description", DataType::Utf8, true),
            ]));
            let shown = list.pattern.as_deref().is_none_or(|p| like(p, CATALOG));
            let (names, descriptions) = if shown {
                (vec![Some(CATALOG.into())], vec![None])
            } else {
                (Vec::new(), Vec::new())
            };
            let columns = vec![strings(names), strings(descriptions)];
            batches_plan(schema.clone(), vec![RecordBatch::try_new(schema, columns)?])
        }
        CatType::ListTables(list) => {
            let pattern = list.pattern.as_deref();
            let names = table_names(ctx)?
                .into_iter()
                .filter(|n| pattern.is_none_or(|p| like(p, n)))
                .collect::<Vec<_>>();
            tables_plan(planner, names).await
        }
        CatType::ListViews(list) => {
            let pattern = list.pattern.as_deref();
            let mut views = Vec::new();
            for name in table_names(ctx)? {
                if pattern.is_none_or(|p| like(p, &name)) && is_temporary(planner, &name).await {
                    views.push(name);
                }
            }
            tables_plan(planner, views).await
        }
        CatType::DropTable(drop) => {
            let name = bare(&drop.table_name);
            let dropped = ember_sql::drop_table(ctx, &name, &planner.warehouse).await?;
            if !dropped && !drop.if_exists {
                return Err(SparkError::table_not_found(&drop.table_name));
            }
            one_bool("dropped", dropped)
        }
        CatType::DropView(drop) => {
            let name = bare(&drop.view_name);
            let exists = ctx.table_exist(name.as_str())? && is_temporary(planner, &name).await;
            if exists {
                ctx.deregister_table(name.as_str())?;
            } else if !drop.if_exists {
                return Err(SparkError::table_not_found(&drop.view_name));
            }
            one_bool("dropped", exists)
        }
        CatType::TruncateTable(truncate) => {
            let name = bare(&truncate.table_name);
            if !ctx.table_exist(name.as_str())? {
                return Err(SparkError::table_not_found(&truncate.table_name));
            }
            ember_sql::truncate_table(ctx, &name).await?;
            one_bool("ok", true)
        }
        CatType::ListFunctions(list) => functions_plan(planner, list.pattern.as_deref()),
        CatType::GetTable(get) => {
            let name = bare(&get.table_name);
            if !ctx.table_exist(name.as_str())? {
                return Err(SparkError::table_not_found(&get.table_name));
            }
            tables_plan(planner, vec![name]).await
        }
        CatType::TableExists(exists) => one_bool(
            "exists",
            ctx.table_exist(bare(&exists.table_name).as_str())?,
        ),
        CatType::ListColumns(list) => {
            let name = bare(&list.table_name);
            let table = ctx
                .table(name.as_str())
                .await
                .map_err(|_| SparkError::table_not_found(&list.table_name))?;
            let fields = table.schema().fields().clone();
            let schema = Arc::new(Schema::new(vec![
                Field::new("name", DataType::Utf8, false),
                Field::new("description", DataType::Utf8, true),
                Field::new("dataType", DataType::Utf8, false),
                Field::new("nullable", DataType::Boolean, false),
                Field::new("isPartition", DataType::Boolean, false),
                Field::new("isBucket", DataType::Boolean, false),
                Field::new("isCluster", DataType::Boolean, false),
            ]));
            let n = fields.len();
            let columns = vec![
                strings(fields.iter().map(|f| Some(f.name().clone())).collect()),
                strings(vec![None; n]),
                strings(
                    fields
                        .iter()
                        .map(|f| Some(types::simple_string(f.data_type())))
                        .collect(),
                ),
                bools(fields.iter().map(|f| f.is_nullable()).collect()),
                bools(vec![false; n]),
                bools(vec![false; n]),
                bools(vec![false; n]),
            ];
            batches_plan(schema.clone(), vec![RecordBatch::try_new(schema, columns)?])
        }
        CatType::DropTempView(drop) => {
            let name = bare(&drop.view_name);
            let temporary = ctx.table_exist(name.as_str())? && is_temporary(planner, &name).await;
            if temporary {
                ctx.deregister_table(name.as_str())?;
            }
            one_bool("dropped", temporary)
        }
        CatType::DropGlobalTempView(drop) => {
            let name = bare(&drop.view_name);
            let existed = ctx.table_exist(name.as_str())? && !planner.tables.contains(&name);
            if existed {
                ctx.deregister_table(name.as_str())?;
            }
            one_bool("dropped", existed)
        }
        CatType::IsCached(cached) => {
            require_table(ctx, &cached.table_name)?;
            one_bool(
                "cached",
                ember_sql::is_cached(ctx, &bare(&cached.table_name))?,
            )
        }
        CatType::CacheTable(cache) => {
            require_table(ctx, &cache.table_name)?;
            ember_sql::cache_table(ctx, &bare(&cache.table_name)).await?;
            one_bool("ok", true)
        }
        CatType::UncacheTable(uncache) => {
            require_table(ctx, &uncache.table_name)?;
            ember_sql::uncache_table(ctx, &bare(&uncache.table_name))?;
            one_bool("ok", true)
        }
        CatType::RefreshTable(refresh) => {
            require_table(ctx, &refresh.table_name)?;
            ember_sql::refresh_table(ctx, &bare(&refresh.table_name)).await?;
            one_bool("ok", true)
        }
        CatType::RefreshByPath(refresh) => {
            ember_sql::refresh_by_path(ctx, &refresh.path).await?;
            one_bool("ok", true)
        }
        CatType::ClearCache(_) => {
            ember_sql::clear_cache(ctx)?;
            one_bool("ok", true)
        }
        CatType::FunctionExists(exists) => {
            let name = bare(&exists.function_name).to_lowercase();
            let state = &planner.state;
            let known = state.scalar_functions().contains_key(&name)
                || state.aggregate_functions().contains_key(&name)
                || state.window_functions().contains_key(&name);
            one_bool("exists", known)
        }
        other => Err(SparkError::unsupported(format!(
            "the catalog call {}",
            format!("{other:?}").split('(').next().unwrap_or("")
        ))),
    }
}

/// Databases as PySpark reads them: name, catalog, description and location.
fn databases_plan(names: Vec<String>) -> ConnectResult<LogicalPlan> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("catalog", DataType::Utf8, true),
        Field::new("description", DataType::Utf8, true),
        Field::new("locationUri", DataType::Utf8, true),
    ]));
    let descriptions = names
        .iter()
        .map(|n| (n == DATABASE).then(|| "default database".to_string()))
        .collect();
    let columns = vec![
        strings(names.iter().cloned().map(Some).collect()),
        strings(vec![Some(CATALOG.to_string()); names.len()]),
        strings(descriptions),
        strings(vec![None; names.len()]),
    ];
    batches_plan(schema.clone(), vec![RecordBatch::try_new(schema, columns)?])
}

fn table_names(ctx: &SessionContext) -> ConnectResult<Vec<String>> {
    let catalog = ctx
        .catalog("datafusion")
        .ok_or_else(|| SparkError::analysis("CATALOG_NOT_FOUND", "the session has no catalog"))?;
    let schema = catalog
        .schema("public")
        .ok_or_else(|| SparkError::analysis("SCHEMA_NOT_FOUND", "the session has no schema"))?;
    let mut names = schema.table_names();
    names.sort();
    Ok(names)
}

fn require_table(ctx: &SessionContext, name: &str) -> ConnectResult<()> {
    if ctx.table_exist(bare(name).as_str())? {
        Ok(())
    } else {
        Err(SparkError::table_not_found(name))
    }
}

/// A temporary view: neither a table `saveAsTable` saved nor one stored as files
/// (`CREATE TABLE … USING`).
async fn is_temporary(planner: &Planner, name: &str) -> bool {
    if planner.tables.contains(name) {
        return false;
    }
    match planner.ctx.table_provider(name).await {
        Ok(provider) => provider
            .downcast_ref::<datafusion::datasource::listing::ListingTable>()
            .is_none(),
        Err(_) => false,
    }
}

/// The columns PySpark reads for a table or a function: name, catalog, namespace,
/// description, `kind` (tableType or className) and isTemporary; with the namespace's item.
fn object_schema(kind: Field) -> (Arc<Schema>, Arc<Field>) {
    let item = Arc::new(Field::new("element", DataType::Utf8, true));
    let schema = Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("catalog", DataType::Utf8, true),
        Field::new("namespace", DataType::List(item.clone()), true),
        Field::new("description", DataType::Utf8, true),
        kind,
        Field::new("isTemporary", DataType::Boolean, false),
    ]));
    (schema, item)
}

/// `spark.catalog.listFunctions`: the catalog's functions, as Spark lists its built-ins.
fn functions_plan(planner: &Planner, pattern: Option<&str>) -> ConnectResult<LogicalPlan> {
    let state = &planner.state;
    let mut names: Vec<String> = state
        .scalar_functions()
        .keys()
        .chain(state.aggregate_functions().keys())
        .chain(state.window_functions().keys())
        .chain(state.higher_order_functions().keys())
        .filter(|n| pattern.is_none_or(|p| like(p, n)))
        .cloned()
        .collect();
    names.sort();
    names.dedup();
    let n = names.len();
    let (schema, item) = object_schema(Field::new("className", DataType::Utf8, true));
    let columns = vec![
        strings(names.into_iter().map(Some).collect()),
        strings(vec![None; n]),
        datafusion::arrow::array::new_null_array(&DataType::List(item), n),
        strings(vec![None; n]),
        strings(vec![None; n]),
        bools(vec![true; n]),
    ];
    batches_plan(schema.clone(), vec![RecordBatch::try_new(schema, columns)?])
}

async fn tables_plan(planner: &Planner, names: Vec<String>) -> ConnectResult<LogicalPlan> {
    let mut temporary = Vec::with_capacity(names.len());
    for name in &names {
        temporary.push(is_temporary(planner, name).await);
    }
    let n = names.len();
    let (schema, item) = object_schema(Field::new("tableType", DataType::Utf8, false));
    let namespaces: Vec<Option<Vec<Option<String>>>> = temporary
        .iter()
        .map(|t| {
            if *t {
                Some(vec![])
            } else {
                Some(vec![Some(DATABASE.to_string())])
            }
        })
        .collect();
    let mut builder =
        datafusion::arrow::array::ListBuilder::new(datafusion::arrow::array::StringBuilder::new())
            .with_field(item.clone());
    for ns in namespaces {
        match ns {
            Some(parts) => {
                for p in parts {
                    builder.values().append_option(p);
                }
                builder.append(true);
            }
            None => builder.append(false),
        }
    }
    let columns = vec![
        strings(names.iter().map(|n| Some(n.clone())).collect()),
        strings(
            temporary
                .iter()
                .map(|t| if *t { None } else { Some(CATALOG.into()) })
                .collect(),
        ),
        Arc::new(builder.finish()) as ArrayRef,
        strings(vec![None; n]),
        strings(
            temporary
                .iter()
                .map(|t| Some(if *t { "TEMPORARY" } else { "MANAGED" }.into()))
                .collect(),
        ),
        bools(temporary),
    ];
    batches_plan(schema.clone(), vec![RecordBatch::try_new(schema, columns)?])
}

/// Spark's catalog patterns: `*` any run of characters, `|` alternatives.
fn like(pattern: &str, name: &str) -> bool {
    pattern
        .split('|')
        .any(|alternative| glob(alternative.trim(), name))
}

fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern.eq_ignore_ascii_case(name),
        Some((head, tail)) => {
            let lower = name.to_lowercase();
            let head = head.to_lowercase();
            lower.starts_with(&head)
                && (0..=lower.len() - head.len()).any(|i| glob(tail, &name[head.len() + i..]))
        }
    }
}
