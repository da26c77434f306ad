//! `spark.read`: Parquet, CSV, JSON and text files with Spark's options and defaults (CSV
//! without `inferSchema` reads strings; without `header` its columns are `_c0`, `_c1`, …).

use std::collections::HashMap;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::functions::expr_fn::nullif;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, TryCast, lit};
use datafusion::prelude::{CsvReadOptions, JsonReadOptions, ParquetReadOptions};
use spark_connect_proto::read::DataSource;

use crate::error::{ConnectResult, SparkError};
use crate::relation::Planner;
use crate::types;

fn option<'a>(options: &'a HashMap<String, String>, key: &str) -> Option<&'a str> {
    options
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

fn flag(options: &HashMap<String, String>, key: &str) -> bool {
    option(options, key).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The extension DataFusion filters a directory's files by: a file's own, or the format's.
fn extension(paths: &[String], default: &str) -> String {
    match paths.first().map(std::path::Path::new) {
        Some(path) if path.is_file() => path
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default(),
        _ => default.to_string(),
    }
}

pub async fn read(planner: &Planner, source: &DataSource) -> ConnectResult<LogicalPlan> {
    let format = source
        .format
        .as_deref()
        .unwrap_or("parquet")
        .to_ascii_lowercase();
    let paths: Vec<String> = match option(&source.options, "path") {
        Some(path) if source.paths.is_empty() => vec![path.to_string()],
        _ => source.paths.clone(),
    };
    if paths.is_empty() {
        return Err(SparkError::analysis(
            "UNABLE_TO_INFER_SCHEMA",
            format!("[UNABLE_TO_INFER_SCHEMA] Unable to infer schema for {format}: no path given."),
        ));
    }
    for path in &paths {
        if !path.contains("://") && !std::path::Path::new(path).exists() {
            return Err(SparkError::analysis(
                "PATH_NOT_FOUND",
                format!("[PATH_NOT_FOUND] Path does not exist: file:{path}."),
            )
            .with_parameter("path", format!("file:{path}")));
        }
    }
    let schema = match &source.schema {
        Some(text) if !text.trim().is_empty() => {
            Some(types::parse_schema(text, &planner.time_zone)?)
        }
        _ => None,
    };
    let ctx = &planner.ctx;
    let partitions = partition_columns(&paths);
    let frame = match format.as_str() {
        "parquet" => {
            let ext = extension(&paths, ".parquet");
            let mut options = ParquetReadOptions::default()
                .file_extension(&ext)
                .table_partition_cols(partitions.clone());
            if let Some(schema) = &schema {
                options = options.schema(schema);
            }
            ctx.read_parquet(paths.clone(), options).await?
        }
        "csv" => return read_csv(planner, &paths, schema, &source.options).await,
        "json" => {
            let ext = extension(&paths, ".json");
            let mut options = JsonReadOptions::default()
                .file_extension(&ext)
                .table_partition_cols(partitions.clone());
            if let Some(schema) = &schema {
                options = options.schema(schema);
            }
            ctx.read_json(paths.clone(), options).await?
        }
        "text" => {
            let ext = extension(&paths, ".txt");
            // One string column, `value` unless a schema names it.
            let name = match &schema {
                Some(given) if given.fields().len() == 1 => given.field(0).name().clone(),
                _ => "value".to_string(),
            };
            let schema = Schema::new(vec![Field::new(name, DataType::Utf8, true)]);
            let options = CsvReadOptions::new()
                .has_header(false)
                .delimiter(b'\x1f')
                .quote(b'\x1e')
                .file_extension(&ext)
                .schema(&schema);
            ctx.read_csv(paths.clone(), options).await?
        }
        other => {
            return Err(SparkError::unsupported(format!(
                "the data source `{other}` (Ember reads parquet, csv, json and text)"
            )));
        }
    };
    Ok(frame.into_unoptimized_plan())
}

/// Hive-style partition directories under the first path (`k=a/…`), as Spark discovers
/// them: integer-valued ones are read as bigint, others as string.
fn partition_columns(paths: &[String]) -> Vec<(String, DataType)> {
    let mut columns = Vec::new();
    let Some(mut dir) = paths.first().map(std::path::PathBuf::from) else {
        return columns;
    };
    while dir.is_dir() {
        let mut values: Vec<String> = Vec::new();
        let mut name: Option<String> = None;
        let mut next = None;
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let file_name = entry.file_name().to_string_lossy().to_string();
            if !entry.path().is_dir() || file_name.starts_with(['.', '_']) {
                continue;
            }
            let Some((key, value)) = file_name.split_once('=') else {
                continue;
            };
            if name.get_or_insert_with(|| key.to_string()) != key {
                return columns;
            }
            values.push(value.to_string());
            next.get_or_insert(entry.path());
        }
        let (Some(name), Some(next)) = (name, next) else {
            break;
        };
        let integral = values.iter().all(|v| v.parse::<i64>().is_ok());
        columns.push((
            name,
            if integral {
                DataType::Int64
            } else {
                DataType::Utf8
            },
        ));
        dir = next;
    }
    columns
}

async fn read_csv(
    planner: &Planner,
    paths: &[String],
    schema: Option<Schema>,
    options: &HashMap<String, String>,
) -> ConnectResult<LogicalPlan> {
    let header = flag(options, "header");
    let infer = flag(options, "inferSchema");
    let delimiter = option(options, "sep")
        .or(option(options, "delimiter"))
        .and_then(|d| d.bytes().next())
        .unwrap_or(b',');
    let quote = option(options, "quote")
        .and_then(|q| q.bytes().next())
        .unwrap_or(b'"');
    let ext = extension(paths, ".csv");
    let partitions = partition_columns(paths);
    let base = || {
        CsvReadOptions::new()
            .table_partition_cols(partitions.clone())
            .has_header(header)
            .delimiter(delimiter)
            .quote(quote)
            .file_extension(&ext)
    };
    let ctx = &planner.ctx;
    // Spark reads every column as a string unless asked to infer types.
    let schema = match schema {
        Some(schema) => Some(schema),
        None if infer => None,
        None => {
            let inferred = ctx.read_csv(paths.to_vec(), base()).await?;
            Some(Schema::new(
                inferred
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| Field::new(f.name(), DataType::Utf8, true))
                    .collect::<Vec<_>>(),
            ))
        }
    };
    let null_value = option(options, "nullValue");
    let frame = match (&schema, null_value) {
        // A field that is exactly `nullValue` reads as NULL: the file is read as text, the
        // marker made NULL, and the text then cast to the schema's types (DataFusion's CSV
        // reader takes no null marker).
        (Some(schema), Some(marker)) => {
            let text = Schema::new(
                schema
                    .fields()
                    .iter()
                    .map(|f| Field::new(f.name(), DataType::Utf8, true))
                    .collect::<Vec<_>>(),
            );
            let frame = ctx.read_csv(paths.to_vec(), base().schema(&text)).await?;
            let columns = frame
                .schema()
                .columns()
                .into_iter()
                .zip(schema.fields())
                .map(|(c, f)| {
                    let value = nullif(Expr::Column(c), lit(marker));
                    Expr::TryCast(TryCast::new(Box::new(value), f.data_type().clone()))
                        .alias(f.name())
                })
                .collect::<Vec<_>>();
            frame.select(columns)?
        }
        (Some(schema), None) => ctx.read_csv(paths.to_vec(), base().schema(schema)).await?,
        (None, _) => ctx.read_csv(paths.to_vec(), base()).await?,
    };
    let plan = frame.into_unoptimized_plan();
    if header {
        return Ok(plan);
    }
    // Without a header Spark names the columns _c0, _c1, … (unless a schema named them).
    if let Some(schema) = &schema
        && !schema
            .fields()
            .iter()
            .all(|f| f.name().starts_with("column_"))
    {
        return Ok(plan);
    }
    let exprs: Vec<Expr> = plan
        .schema()
        .columns()
        .into_iter()
        .enumerate()
        .map(|(i, c)| Expr::Column(c).alias(format!("_c{i}")))
        .collect();
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}
