//! TPC-H data as Parquet: one directory per table, split into part files so that generation
//! and later scans run in parallel.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::array::RecordBatchReader;
use ember_sql::{TableFormat, TableSpec};
use indicatif::{ProgressBar, ProgressStyle};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use tpchgen::generators::{
    CustomerGenerator, LineItemGenerator, NationGenerator, OrderGenerator, PartGenerator,
    PartSuppGenerator, RegionGenerator, SupplierGenerator,
};
use tpchgen_arrow::{
    CustomerArrow, LineItemArrow, NationArrow, OrderArrow, PartArrow, PartSuppArrow, RegionArrow,
    SupplierArrow,
};

/// The eight tables with their row counts at scale factor 1.
pub const TABLES: [(&str, u64); 8] = [
    ("lineitem", 6_001_215),
    ("orders", 1_500_000),
    ("partsupp", 800_000),
    ("part", 200_000),
    ("customer", 150_000),
    ("supplier", 10_000),
    ("nation", 25),
    ("region", 5),
];

/// Rows per part file; also bounds the memory a generating thread holds.
const ROWS_PER_PART: f64 = 1_500_000.0;
/// Small row groups let a single file be scanned by several threads.
const ROW_GROUP_ROWS: usize = 128 * 1024;
/// Written last: a directory without it is incomplete.
const COMPLETE_MARKER: &str = "_SUCCESS";

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("scale factor must be positive, got {0}")]
    BadScale(f64),
    #[error("{} already exists; remove it or choose another --out", .0.display())]
    Exists(PathBuf),
    #[error("cannot write {}: {message}", path.display())]
    Io { path: PathBuf, message: String },
}

/// Table specs for a directory written by [`generate`].
pub fn table_specs(dir: &Path) -> Vec<TableSpec> {
    TABLES
        .iter()
        .map(|(name, _)| TableSpec {
            name: name.to_string(),
            location: dir.join(name).to_string_lossy().into_owned(),
            format: TableFormat::Parquet,
        })
        .collect()
}

/// Whether `dir` holds a complete data set written by [`generate`].
pub fn is_complete(dir: &Path) -> bool {
    dir.join(COMPLETE_MARKER).is_file()
}

/// Writes the eight tables at `scale` under `out` (which must not exist), using `threads`
/// threads. The data appears all at once: it is written beside `out` and renamed into place.
pub fn generate(
    scale: f64,
    out: &Path,
    threads: usize,
    progress: bool,
) -> Result<(), GenerateError> {
    if !(scale > 0.0 && scale.is_finite()) {
        return Err(GenerateError::BadScale(scale));
    }
    if out.exists() {
        return Err(GenerateError::Exists(out.to_path_buf()));
    }
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tpch".into());
    let staging = out.with_file_name(format!(".{name}.ember-tmp-{}", std::process::id()));
    let result = generate_into(scale, &staging, threads, progress)
        .and_then(|()| std::fs::rename(&staging, out).map_err(io_error(out)));
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

fn generate_into(
    scale: f64,
    dir: &Path,
    threads: usize,
    progress: bool,
) -> Result<(), GenerateError> {
    let mut work = Vec::new();
    for (table, base_rows) in TABLES {
        let table_dir = dir.join(table);
        std::fs::create_dir_all(&table_dir).map_err(io_error(&table_dir))?;
        let rows = base_rows as f64
            * if matches!(table, "nation" | "region") {
                1.0
            } else {
                scale
            };
        let parts = (rows / ROWS_PER_PART).ceil().max(1.0) as i32;
        for part in 1..=parts {
            work.push((table, part, parts));
        }
    }
    let total_rows: u64 = TABLES
        .iter()
        .map(|(t, rows)| {
            if matches!(*t, "nation" | "region") {
                *rows
            } else {
                (*rows as f64 * scale) as u64
            }
        })
        .sum();
    let bar = if progress {
        ProgressBar::new(total_rows)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {human_pos}/{human_len} rows ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(format!("TPC-H scale {scale}"));

    let next = AtomicUsize::new(0);
    let first_error = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                while let Some(&(table, part, parts)) =
                    work.get(next.fetch_add(1, Ordering::Relaxed))
                {
                    let path = dir.join(table).join(format!("part-{part}.parquet"));
                    if let Err(e) = write_part(table, scale, part, parts, &path, &bar) {
                        first_error
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .get_or_insert(e);
                        return;
                    }
                }
            });
        }
    });
    bar.finish_and_clear();
    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    let marker = dir.join(COMPLETE_MARKER);
    File::create(&marker).map_err(io_error(&marker))?;
    Ok(())
}

fn write_part(
    table: &str,
    scale: f64,
    part: i32,
    parts: i32,
    path: &Path,
    bar: &ProgressBar,
) -> Result<(), GenerateError> {
    let reader: Box<dyn RecordBatchReader + Send> = match table {
        "lineitem" => Box::new(LineItemArrow::new(LineItemGenerator::new(
            scale, part, parts,
        ))),
        "orders" => Box::new(OrderArrow::new(OrderGenerator::new(scale, part, parts))),
        "partsupp" => Box::new(PartSuppArrow::new(PartSuppGenerator::new(
            scale, part, parts,
        ))),
        "part" => Box::new(PartArrow::new(PartGenerator::new(scale, part, parts))),
        "customer" => Box::new(CustomerArrow::new(CustomerGenerator::new(
            scale, part, parts,
        ))),
        "supplier" => Box::new(SupplierArrow::new(SupplierGenerator::new(
            scale, part, parts,
        ))),
        "nation" => Box::new(NationArrow::new(NationGenerator::new(scale, part, parts))),
        _ => Box::new(RegionArrow::new(RegionGenerator::new(scale, part, parts))),
    };
    let file = File::create(path).map_err(io_error(path))?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build();
    let fail = |message: String| GenerateError::Io {
        path: path.to_path_buf(),
        message,
    };
    let mut writer = ArrowWriter::try_new(file, reader.schema(), Some(properties))
        .map_err(|e| fail(e.to_string()))?;
    for batch in reader {
        let batch = batch.map_err(|e| fail(e.to_string()))?;
        bar.inc(batch.num_rows() as u64);
        writer.write(&batch).map_err(|e| fail(e.to_string()))?;
    }
    writer.close().map_err(|e| fail(e.to_string()))?;
    Ok(())
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> GenerateError + '_ {
    move |e| GenerateError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_existing_directory_and_bad_scale() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            generate(0.01, dir.path(), 1, false),
            Err(GenerateError::Exists(_))
        ));
        let out = dir.path().join("x");
        assert!(matches!(
            generate(-1.0, &out, 1, false),
            Err(GenerateError::BadScale(_))
        ));
        assert!(!out.exists());
    }

    #[test]
    fn writes_every_table_with_the_specified_row_counts() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("sf");
        generate(0.01, &out, 2, false).unwrap();
        assert!(is_complete(&out));
        let count = |table: &str| -> usize {
            std::fs::read_dir(out.join(table))
                .unwrap()
                .map(|e| {
                    let file = File::open(e.unwrap().path()).unwrap();
                    parquet::file::reader::SerializedFileReader::new(file)
                        .map(|r| {
                            use parquet::file::reader::FileReader;
                            r.metadata().file_metadata().num_rows() as usize
                        })
                        .unwrap()
                })
                .sum()
        };
        assert_eq!(count("nation"), 25);
        assert_eq!(count("region"), 5);
        assert_eq!(count("supplier"), 100);
        assert_eq!(count("customer"), 1_500);
        assert_eq!(count("orders"), 15_000);
        // lineitem has 1 to 7 lines per order; dbgen gives 60,175 at scale 0.01.
        assert_eq!(count("lineitem"), 60_175);
    }
}
