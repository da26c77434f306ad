//! Results to the terminal (aligned table, CSV, JSON lines) and to files (Parquet, CSV, JSON
//! lines). Files appear atomically: rows go to a hidden temporary file beside the target, which
//! is renamed into place only when the whole result has been written.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use datafusion::arrow::csv::WriterBuilder as CsvWriterBuilder;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::json::LineDelimitedWriter;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches_with_schema;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use futures::StreamExt;

use crate::SqlError;

/// How results are shown on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintFormat {
    Table,
    Csv,
    Json,
}

impl PrintFormat {
    pub fn parse(word: &str) -> Option<PrintFormat> {
        match word.to_ascii_lowercase().as_str() {
            "table" => Some(PrintFormat::Table),
            "csv" => Some(PrintFormat::Csv),
            "json" => Some(PrintFormat::Json),
            _ => None,
        }
    }
}

/// How results are stored with `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Parquet,
    Csv,
    Json,
}

impl FileFormat {
    pub fn parse(word: &str) -> Option<FileFormat> {
        match word.to_ascii_lowercase().as_str() {
            "parquet" => Some(FileFormat::Parquet),
            "csv" => Some(FileFormat::Csv),
            "json" => Some(FileFormat::Json),
            _ => None,
        }
    }

    /// The format a path's extension names, if any.
    pub fn from_path(path: &Path) -> Option<FileFormat> {
        FileFormat::parse(&path.extension()?.to_string_lossy())
    }
}

/// Prints result streams to a writer.
pub struct ResultPrinter<W: Write> {
    out: W,
    format: PrintFormat,
}

impl<W: Write> ResultPrinter<W> {
    pub fn new(out: W, format: PrintFormat) -> ResultPrinter<W> {
        ResultPrinter { out, format }
    }

    /// Prints every batch of `stream` and returns the number of rows. CSV and JSON are
    /// written as batches arrive; the table waits for all rows to align its columns.
    pub async fn print(&mut self, mut stream: SendableRecordBatchStream) -> Result<u64, SqlError> {
        let schema = stream.schema();
        let mut rows = 0u64;
        let io = |e: std::io::Error| SqlError::Query(format!("cannot write output: {e}"));
        match self.format {
            PrintFormat::Table => {
                let mut batches = Vec::new();
                while let Some(batch) = stream.next().await {
                    let batch = batch?;
                    rows += batch.num_rows() as u64;
                    batches.push(batch);
                }
                let table = pretty_format_batches_with_schema(schema, &batches)?;
                writeln!(self.out, "{table}").map_err(io)?;
            }
            PrintFormat::Csv => {
                let mut writer = CsvWriterBuilder::new()
                    .with_header(true)
                    .build(&mut self.out);
                let mut wrote_any = false;
                while let Some(batch) = stream.next().await {
                    let batch = batch?;
                    rows += batch.num_rows() as u64;
                    writer.write(&batch)?;
                    wrote_any = true;
                }
                if !wrote_any {
                    // The header alone still tells a reader which columns there were.
                    writer.write(&RecordBatch::new_empty(schema))?;
                }
            }
            PrintFormat::Json => {
                let mut writer = LineDelimitedWriter::new(&mut self.out);
                while let Some(batch) = stream.next().await {
                    let batch = batch?;
                    rows += batch.num_rows() as u64;
                    writer.write(&batch)?;
                }
                writer.finish()?;
            }
        }
        self.out.flush().map_err(io)?;
        Ok(rows)
    }
}

/// A result file being written. Created before the query starts, so an unwritable path fails
/// before any work is done; dropped without [`PendingOutput::write`] completing, it leaves
/// nothing behind.
pub struct PendingOutput {
    target: PathBuf,
    temporary: PathBuf,
    file: Option<File>,
    format: FileFormat,
}

impl PendingOutput {
    pub fn create(target: &Path, format: FileFormat) -> Result<PendingOutput, SqlError> {
        let fail = |message: String| SqlError::Output {
            path: target.to_path_buf(),
            message,
        };
        if target.is_dir() {
            return Err(fail("it is a directory; give a file path".into()));
        }
        let name = target
            .file_name()
            .ok_or_else(|| fail("the path has no file name".into()))?;
        let directory = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !directory.is_dir() {
            return Err(fail(format!(
                "directory {} does not exist",
                directory.display()
            )));
        }
        let temporary = directory.join(format!(
            ".{}.ember-tmp-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = File::create(&temporary).map_err(|e| fail(e.to_string()))?;
        Ok(PendingOutput {
            target: target.to_path_buf(),
            temporary,
            file: Some(file),
            format,
        })
    }

    /// Writes the whole stream, then renames the file into place. Returns the row count.
    pub async fn write(mut self, mut stream: SendableRecordBatchStream) -> Result<u64, SqlError> {
        let schema: SchemaRef = stream.schema();
        let file = self.file.take().ok_or_else(|| SqlError::Output {
            path: self.target.clone(),
            message: "output already written".into(),
        })?;
        let mut sink = BatchSink::new(BufWriter::new(file), schema, self.format)?;
        let mut rows = 0u64;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            rows += batch.num_rows() as u64;
            sink.write(&batch)?;
        }
        sink.finish().map_err(|e| self.error(e))?;
        std::fs::rename(&self.temporary, &self.target).map_err(|e| self.error(e.to_string()))?;
        Ok(rows)
    }

    fn error(&self, message: String) -> SqlError {
        SqlError::Output {
            path: self.target.clone(),
            message,
        }
    }
}

impl Drop for PendingOutput {
    fn drop(&mut self) {
        // After a successful rename the temporary name no longer exists; otherwise this removes
        // the partial file of a failed or cancelled query.
        let _ = std::fs::remove_file(&self.temporary);
    }
}

/// Writes `stream` to `path` atomically; see [`PendingOutput`].
pub async fn write_stream_to_file(
    stream: SendableRecordBatchStream,
    path: &Path,
    format: FileFormat,
) -> Result<u64, SqlError> {
    PendingOutput::create(path, format)?.write(stream).await
}

enum BatchSink {
    Parquet(ArrowWriter<BufWriter<File>>),
    Csv(datafusion::arrow::csv::Writer<BufWriter<File>>),
    Json(LineDelimitedWriter<BufWriter<File>>),
}

impl BatchSink {
    fn new(
        out: BufWriter<File>,
        schema: SchemaRef,
        format: FileFormat,
    ) -> Result<BatchSink, SqlError> {
        Ok(match format {
            FileFormat::Parquet => {
                let properties = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::default()))
                    .build();
                BatchSink::Parquet(ArrowWriter::try_new(out, schema, Some(properties))?)
            }
            FileFormat::Csv => BatchSink::Csv(CsvWriterBuilder::new().with_header(true).build(out)),
            FileFormat::Json => BatchSink::Json(LineDelimitedWriter::new(out)),
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<(), SqlError> {
        match self {
            BatchSink::Parquet(w) => w.write(batch)?,
            BatchSink::Csv(w) => w.write(batch)?,
            BatchSink::Json(w) => w.write(batch)?,
        }
        Ok(())
    }

    fn finish(self) -> Result<(), String> {
        let file = match self {
            BatchSink::Parquet(w) => w.into_inner().map_err(|e| e.to_string())?,
            BatchSink::Csv(w) => w.into_inner(),
            BatchSink::Json(mut w) => {
                w.finish().map_err(|e| e.to_string())?;
                w.into_inner()
            }
        };
        let file = file.into_inner().map_err(|e| e.to_string())?;
        file.sync_all().map_err(|e| e.to_string())
    }
}
