//! Shuffle blocks on disk and on the wire.
//!
//! A map task writes its whole output as one data file plus an index: the data file holds one
//! compressed Arrow IPC stream per reduce partition, back to back; the index holds the
//! `partitions + 1` byte offsets that delimit them (little-endian u64). Both are written under
//! temporary names and renamed into place, index last, so a reader that finds the index finds
//! complete data. The path carries the stage attempt, so an older attempt's late write never
//! lands on a newer attempt's file.

use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::ipc::CompressionType;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::{IpcWriteOptions, StreamWriter};
use arrow::record_batch::RecordBatch;
use ember_proto::{BlockTicket, MapOutputLocation};
use futures::future::BoxFuture;

/// Where one map task's output lives under an executor's shuffle root.
pub fn map_output_path(root: &Path, job: u64, stage: u32, stage_attempt: u32, map: u32) -> PathBuf {
    root.join(format!("job-{job}"))
        .join(format!("stage-{stage}-{stage_attempt}"))
        .join(format!("map-{map}.data"))
}

fn index_path(data: &Path) -> PathBuf {
    data.with_extension("index")
}

fn write_options() -> IpcWriteOptions {
    IpcWriteOptions::default()
        .try_with_compression(Some(CompressionType::LZ4_FRAME))
        .unwrap_or_default()
}

/// Collects a map task's output, one spool file per reduce partition, then joins them into
/// the data file and its index.
pub struct MapOutputWriter {
    target: PathBuf,
    spools: Vec<Option<StreamWriter<BufWriter<File>>>>,
    spool_paths: Vec<PathBuf>,
    schema: SchemaRef,
    rows: Vec<u64>,
}

impl MapOutputWriter {
    pub fn new(target: PathBuf, partitions: usize, schema: SchemaRef) -> std::io::Result<Self> {
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let unique = format!("{}-{:?}", std::process::id(), std::thread::current().id())
            .replace(['(', ')'], "");
        let spool_paths = (0..partitions)
            .map(|p| target.with_extension(format!("spool-{p}-{unique}")))
            .collect();
        Ok(MapOutputWriter {
            target,
            spools: (0..partitions).map(|_| None).collect(),
            spool_paths,
            schema,
            rows: vec![0; partitions],
        })
    }

    pub fn write(
        &mut self,
        partition: usize,
        batch: &RecordBatch,
    ) -> Result<(), arrow::error::ArrowError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let spool = match &mut self.spools[partition] {
            Some(writer) => writer,
            slot => {
                let file = BufWriter::new(File::create(&self.spool_paths[partition])?);
                slot.insert(StreamWriter::try_new_with_options(
                    file,
                    &self.schema,
                    write_options(),
                )?)
            }
        };
        spool.write(&compact_views(batch)?)?;
        self.rows[partition] += batch.num_rows() as u64;
        Ok(())
    }

    /// Joins the spools into the data file and index; returns (bytes, rows) per partition.
    pub fn finish(mut self) -> Result<Vec<(u64, u64)>, arrow::error::ArrowError> {
        let tmp_data = self.target.with_extension("data.tmp");
        let mut data = BufWriter::new(File::create(&tmp_data)?);
        let mut offsets = vec![0u64];
        let mut position = 0u64;
        for partition in 0..self.spools.len() {
            let written = match self.spools[partition].take() {
                Some(mut writer) => {
                    writer.finish()?;
                    drop(writer);
                    let mut spool = File::open(&self.spool_paths[partition])?;
                    let copied = std::io::copy(&mut spool, &mut data)?;
                    std::fs::remove_file(&self.spool_paths[partition])?;
                    copied
                }
                None => 0,
            };
            position += written;
            offsets.push(position);
        }
        // No fsync: blocks need to be visible to readers, not durable. An executor that
        // crashes loses its blocks either way, and the driver has them recomputed.
        data.into_inner().map_err(|e| e.into_error())?;
        let tmp_index = index_path(&self.target).with_extension("index.tmp");
        let mut index = File::create(&tmp_index)?;
        for offset in &offsets {
            index.write_all(&offset.to_le_bytes())?;
        }
        std::fs::rename(&tmp_data, &self.target)?;
        std::fs::rename(&tmp_index, index_path(&self.target))?;
        Ok(offsets
            .windows(2)
            .zip(&self.rows)
            .map(|(w, rows)| (w[1] - w[0], *rows))
            .collect())
    }
}

impl Drop for MapOutputWriter {
    fn drop(&mut self) {
        // Only spools of an unfinished write are still here.
        for path in &self.spool_paths {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// String and binary view columns of a partitioned batch still point into the whole input
/// batch's buffers, which IPC would write out in full for every partition (and readers would
/// then account in full, in memory). Copy out just the values this batch uses.
fn compact_views(batch: &RecordBatch) -> Result<RecordBatch, arrow::error::ArrowError> {
    use arrow::array::{Array, ArrayRef, AsArray};
    use arrow::datatypes::DataType;
    if !batch
        .columns()
        .iter()
        .any(|c| matches!(c.data_type(), DataType::Utf8View | DataType::BinaryView))
    {
        return Ok(batch.clone());
    }
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|column| match column.data_type() {
            DataType::Utf8View => Arc::new(column.as_string_view().gc()) as ArrayRef,
            DataType::BinaryView => Arc::new(column.as_binary_view().gc()) as ArrayRef,
            _ => column.clone(),
        })
        .collect();
    RecordBatch::try_new(batch.schema(), columns)
}

/// Reads one reduce partition's block from a map output's data file.
pub fn read_block(
    data_path: &Path,
    reduce_partition: usize,
) -> Result<Vec<RecordBatch>, BlockError> {
    let missing = |e: std::io::Error| BlockError::Missing(format!("{}: {e}", data_path.display()));
    let mut index = File::open(index_path(data_path)).map_err(missing)?;
    let mut bounds = [0u8; 16];
    index
        .seek(SeekFrom::Start(reduce_partition as u64 * 8))
        .and_then(|_| index.read_exact(&mut bounds))
        .map_err(|e| BlockError::Corrupt(format!("{}: index: {e}", data_path.display())))?;
    let start = u64::from_le_bytes(bounds[..8].try_into().unwrap_or_default());
    let end = u64::from_le_bytes(bounds[8..].try_into().unwrap_or_default());
    if end == start {
        return Ok(Vec::new());
    }
    let mut file = File::open(data_path).map_err(missing)?;
    file.seek(SeekFrom::Start(start)).map_err(missing)?;
    let reader = StreamReader::try_new(file.take(end - start), None)
        .map_err(|e| BlockError::Corrupt(format!("{}: {e}", data_path.display())))?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| BlockError::Corrupt(format!("{}: {e}", data_path.display())))
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum BlockError {
    #[error("block not found: {0}")]
    Missing(String),
    #[error("block unreadable: {0}")]
    Corrupt(String),
    #[error("cannot reach {address}: {message}")]
    Unreachable { address: String, message: String },
    #[error("refused: {0}")]
    Refused(String),
}

/// Fetches blocks for shuffle reads, from this executor's own disk or from another's Flight
/// server.
pub trait BlockFetcher: Send + Sync + fmt::Debug {
    fn fetch(
        &self,
        location: &MapOutputLocation,
        ticket: BlockTicket,
    ) -> BoxFuture<'static, Result<Vec<RecordBatch>, BlockError>>;
}

pub type SharedFetcher = Arc<dyn BlockFetcher>;

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    fn batch(values: &[i64]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("s", DataType::Utf8, false),
        ]));
        let strings: Vec<String> = values.iter().map(|v| format!("v{v}")).collect();
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from(values.to_vec())),
                Arc::new(StringArray::from(strings)),
            ],
        )
        .unwrap()
    }

    #[test]
    fn each_partition_reads_back_exactly_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = map_output_path(dir.path(), 1, 2, 0, 3);
        let mut writer = MapOutputWriter::new(path.clone(), 3, batch(&[]).schema()).unwrap();
        writer.write(0, &batch(&[1, 2])).unwrap();
        writer.write(2, &batch(&[5])).unwrap();
        writer.write(0, &batch(&[3])).unwrap();
        let stats = writer.finish().unwrap();
        assert_eq!(stats.iter().map(|s| s.1).collect::<Vec<_>>(), vec![3, 0, 1]);
        assert!(stats[0].0 > 0 && stats[1].0 == 0);
        let values = |p| -> Vec<i64> {
            read_block(&path, p)
                .unwrap()
                .iter()
                .flat_map(|b| {
                    b.column(0)
                        .as_any()
                        .downcast_ref::<Int64Array>()
                        .unwrap()
                        .values()
                        .to_vec()
                })
                .collect()
        };
        assert_eq!(values(0), vec![1, 2, 3]);
        assert!(values(1).is_empty());
        assert_eq!(values(2), vec![5]);
        // Only the data file and its index remain.
        let mut names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, vec!["map-3.data", "map-3.index"]);
    }

    #[test]
    fn a_missing_block_is_reported_as_missing() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_block(&dir.path().join("nope.data"), 0).unwrap_err();
        assert!(matches!(err, BlockError::Missing(_)));
    }
}
