//! `df.write`: Parquet, CSV, JSON and text to a path or a saved table, with Spark's save modes and
//! `partitionBy`. A failed write leaves nothing where the data would have gone.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::parsers::CsvQuoteStyle;
use datafusion::dataframe::{DataFrame, DataFrameWriteOptions};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::logical_expr::dml::InsertOp;
use spark_connect_proto::WriteOperation;
use spark_connect_proto::write_operation::save_table::TableSaveMethod;
use spark_connect_proto::write_operation::{SaveMode, SaveType};

use crate::error::{ConnectResult, SparkError};
use crate::session::ConnectSession;

fn path_exists(path: &str) -> SparkError {
    SparkError::analysis(
        "PATH_ALREADY_EXISTS",
        format!("[PATH_ALREADY_EXISTS] Path file:{path} already exists. Set mode as \"overwrite\" to overwrite the existing path."),
    )
    .with_parameter("outputPath", format!("file:{path}"))
}

pub async fn write(session: &ConnectSession, write: WriteOperation) -> ConnectResult<()> {
    let input = write
        .input
        .as_ref()
        .ok_or_else(|| SparkError::invalid_plan("a write without a DataFrame"))?;
    if write.bucket_by.is_some() || !write.sort_column_names.is_empty() {
        return Err(SparkError::unsupported("bucketBy and sortBy on writes"));
    }
    let mut planner = session.planner();
    let plan = planner.plan(input).await?;
    let format = write
        .source
        .clone()
        .unwrap_or_else(|| "parquet".into())
        .to_ascii_lowercase();
    let mode = SaveMode::try_from(write.mode).unwrap_or(SaveMode::ErrorIfExists);
    let frame = DataFrame::new(session.executor.context().state(), plan);
    match &write.save_type {
        Some(SaveType::Path(path)) => {
            write_path(frame, &format, Path::new(path), mode, &write).await
        }
        Some(SaveType::Table(table)) => {
            let method = TableSaveMethod::try_from(table.save_method)
                .unwrap_or(TableSaveMethod::SaveAsTable);
            save_table(
                session,
                frame,
                &format,
                &table.table_name,
                mode,
                method,
                &write,
            )
            .await
        }
        None => Err(SparkError::analysis(
            "SAVE_WITHOUT_PATH",
            "a write needs save(path) or saveAsTable(name)",
        )),
    }
}

async fn write_path(
    frame: DataFrame,
    format: &str,
    path: &Path,
    mode: SaveMode,
    write: &WriteOperation,
) -> ConnectResult<()> {
    let exists = path.exists();
    match mode {
        SaveMode::Ignore if exists => return Ok(()),
        SaveMode::ErrorIfExists | SaveMode::Unspecified if exists => {
            return Err(path_exists(&path.display().to_string()));
        }
        _ => {}
    }
    let append = mode == SaveMode::Append && exists;
    // Written beside the target and moved into place, so a failure leaves nothing behind
    // (and an overwrite keeps the old data until the new data is complete).
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| io_error(path, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".ember-write-")
        .tempdir_in(parent)
        .map_err(|e| io_error(path, e))?;
    let target = staging.path().join("data");
    std::fs::create_dir_all(&target).map_err(|e| io_error(path, e))?;
    write_files(frame, format, &target, write).await?;
    if append {
        for entry in walk(&target) {
            let relative = entry.strip_prefix(&target).unwrap_or(&entry).to_path_buf();
            let destination = path.join(&relative);
            if let Some(dir) = destination.parent() {
                std::fs::create_dir_all(dir).map_err(|e| io_error(path, e))?;
            }
            std::fs::rename(&entry, &destination).map_err(|e| io_error(path, e))?;
        }
    } else {
        if exists {
            let old = staging.path().join("old");
            std::fs::rename(path, &old).map_err(|e| io_error(path, e))?;
        }
        std::fs::rename(&target, path).map_err(|e| io_error(path, e))?;
    }
    Ok(())
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                files.extend(walk(&path));
            } else {
                files.push(path);
            }
        }
    }
    files
}

fn io_error(path: &Path, e: std::io::Error) -> SparkError {
    SparkError::new(
        crate::error::SparkClass::Runtime,
        "FAILED_WRITE",
        "58030",
        format!("cannot write {}: {e}", path.display()),
    )
}

async fn write_files(
    frame: DataFrame,
    format: &str,
    dir: &Path,
    write: &WriteOperation,
) -> ConnectResult<()> {
    let url = format!("{}/", dir.display());
    let options = DataFrameWriteOptions::new()
        .with_single_file_output(false)
        .with_partition_by(write.partitioning_columns.clone());
    let option = |key: &str| {
        write
            .options
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    };
    let byte = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| option(k))
            .and_then(|v| v.bytes().next())
    };
    match format {
        "parquet" => {
            frame.write_parquet(&url, options, None).await?;
        }
        "csv" => {
            let mut csv = datafusion::config::CsvOptions::default()
                .with_has_header(option("header").is_some_and(|v| v.eq_ignore_ascii_case("true")));
            if let Some(delimiter) = byte(&["sep", "delimiter"]) {
                csv = csv.with_delimiter(delimiter);
            }
            if let Some(quote) = byte(&["quote"]) {
                csv = csv.with_quote(quote);
            }
            if let Some(escape) = byte(&["escape"]) {
                csv = csv.with_escape(Some(escape));
            }
            // Spark writes a NULL as its `nullValue`, empty by default.
            csv.null_value = option("nullValue").map(str::to_string);
            frame.write_csv(&url, options, Some(csv)).await?;
        }
        "json" => {
            frame.write_json(&url, options, None).await?;
        }
        "text" => write_text(frame, &url, options, dir).await?,
        other => {
            return Err(SparkError::unsupported(format!(
                "writing `{other}` (Ember writes parquet, csv, json and text)"
            )));
        }
    }
    Ok(())
}

/// Spark's text source: one line per row of a single string column, written as it is.
async fn write_text(
    frame: DataFrame,
    url: &str,
    options: DataFrameWriteOptions,
    dir: &Path,
) -> ConnectResult<()> {
    let fields = frame.schema().fields();
    if fields.len() != 1
        || !matches!(
            fields[0].data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        )
    {
        let types: Vec<String> = fields
            .iter()
            .map(|f| ember_functions::spark_sql_type_name(f.data_type()))
            .collect();
        return Err(SparkError::analysis(
            "UNSUPPORTED_DATA_TYPE_FOR_DATASOURCE",
            format!(
                "[UNSUPPORTED_DATA_TYPE_FOR_DATASOURCE] The text data source writes a single STRING column, not ({}).",
                types.join(", ")
            ),
        ));
    }
    let mut csv = datafusion::config::CsvOptions::default()
        .with_has_header(false)
        .with_quote_style(CsvQuoteStyle::Never);
    csv.null_value = Some(String::new());
    frame.write_csv(url, options, Some(csv)).await?;
    // Text files are `.txt`, which is what Ember's text reader lists in a directory.
    for file in walk(dir) {
        if file.extension().is_some_and(|e| e == "csv") {
            std::fs::rename(&file, file.with_extension("txt")).map_err(|e| io_error(dir, e))?;
        }
    }
    Ok(())
}

/// saveAsTable / insertInto: Parquet under spark.sql.warehouse.dir, visible to every session.
async fn save_table(
    session: &ConnectSession,
    frame: DataFrame,
    format: &str,
    name: &str,
    mode: SaveMode,
    method: TableSaveMethod,
    write: &WriteOperation,
) -> ConnectResult<()> {
    let name = crate::expr::split_identifier(name)
        .pop()
        .unwrap_or_default()
        .to_lowercase();
    let ctx = session.executor.context();
    let exists = ctx.table_exist(name.as_str())?;
    if method == TableSaveMethod::InsertInto {
        if !exists {
            return Err(SparkError::table_not_found(&name));
        }
        let op = if mode == SaveMode::Overwrite {
            InsertOp::Overwrite
        } else {
            InsertOp::Append
        };
        frame
            .write_table(
                &name,
                DataFrameWriteOptions::new().with_insert_operation(op),
            )
            .await?;
        return Ok(());
    }
    if format != "parquet" {
        return Err(SparkError::unsupported(format!(
            "saveAsTable in `{format}` (Ember saves tables as parquet)"
        )));
    }
    match mode {
        SaveMode::Ignore if exists => return Ok(()),
        SaveMode::ErrorIfExists | SaveMode::Unspecified if exists => {
            return Err(SparkError::analysis(
                "TABLE_OR_VIEW_ALREADY_EXISTS",
                format!(
                    "[TABLE_OR_VIEW_ALREADY_EXISTS] Cannot create table or view `{name}` because it already exists."
                ),
            ));
        }
        _ => {}
    }
    let warehouse = session
        .conf_get("spark.sql.warehouse.dir")
        .await
        .unwrap_or_else(|| "spark-warehouse".into());
    let location = std::path::absolute(Path::new(&warehouse).join(&name))
        .map_err(|e| io_error(Path::new(&warehouse), e))?;
    let append = mode == SaveMode::Append && exists;
    write_path(
        frame,
        "parquet",
        &location,
        if append {
            SaveMode::Append
        } else {
            SaveMode::Overwrite
        },
        write,
    )
    .await?;
    let url = ListingTableUrl::parse(format!("{}/", location.display()))?;
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let state = ctx.state();
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .infer_schema(&state)
        .await?;
    let table = Arc::new(ListingTable::try_new(config)?);
    ctx.deregister_table(name.as_str())?;
    ctx.register_table(name.as_str(), table)?;
    Ok(())
}
