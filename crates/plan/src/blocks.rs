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

use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::compute::BatchCoalescer;
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::ipc::CompressionType;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::{IpcWriteOptions, StreamWriter};
use arrow::record_batch::RecordBatch;
use ember_proto::{BlockTicket, MapOutputLocation};
use futures::future::BoxFuture;
use prost::bytes::Bytes;

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

/// How many encoded bytes a map task keeps in memory across its partitions before spools go
/// to disk. Below it, each block is written once, straight into the data file.
const SPOOL_MEMORY_BYTES: usize = 32 * 1024 * 1024;

/// Where one reduce partition's encoded stream collects until the data file is assembled:
/// memory while the task's budget lasts, then its own file.
struct Spool {
    path: PathBuf,
    state: SpoolState,
    in_memory: Arc<AtomicUsize>,
}

enum SpoolState {
    Memory(Vec<u8>),
    File(BufWriter<File>),
}

impl Write for Spool {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let SpoolState::Memory(buffer) = &mut self.state {
            let total = self.in_memory.fetch_add(bytes.len(), Ordering::Relaxed) + bytes.len();
            if total <= SPOOL_MEMORY_BYTES {
                buffer.extend_from_slice(bytes);
                return Ok(bytes.len());
            }
            self.in_memory
                .fetch_sub(bytes.len() + buffer.len(), Ordering::Relaxed);
            let mut file = BufWriter::new(File::create(&self.path)?);
            file.write_all(buffer)?;
            self.state = SpoolState::File(file);
        }
        match &mut self.state {
            SpoolState::File(file) => file.write(bytes),
            SpoolState::Memory(_) => unreachable!("moved to a file above"),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.state {
            SpoolState::File(file) => file.flush(),
            SpoolState::Memory(_) => Ok(()),
        }
    }
}

/// One reduce partition in progress: rows gathered into full batches, then encoded.
struct PartitionOutput {
    coalescer: BatchCoalescer,
    stream: Option<StreamWriter<Spool>>,
    rows: u64,
}

/// Collects a map task's output per reduce partition (in memory, spilling to spool files past
/// a budget), then writes the data file and its index.
///
/// Partitioning splits every input batch into small pieces; they are gathered back into
/// batches of the session's batch size before encoding, so readers get the batch sizes
/// operators are tuned for and each IPC message carries enough rows to compress well.
pub struct MapOutputWriter {
    target: PathBuf,
    partitions: Vec<PartitionOutput>,
    spool_paths: Vec<PathBuf>,
    schema: SchemaRef,
    in_memory: Arc<AtomicUsize>,
}

impl MapOutputWriter {
    pub fn new(
        target: PathBuf,
        partitions: usize,
        schema: SchemaRef,
        batch_size: usize,
    ) -> std::io::Result<Self> {
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
            partitions: (0..partitions)
                .map(|_| PartitionOutput {
                    coalescer: BatchCoalescer::new(schema.clone(), batch_size.max(1)),
                    stream: None,
                    rows: 0,
                })
                .collect(),
            spool_paths,
            schema,
            in_memory: Arc::new(AtomicUsize::new(0)),
        })
    }

    pub fn write(&mut self, partition: usize, batch: &RecordBatch) -> Result<(), ArrowError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.partitions[partition]
            .coalescer
            .push_batch(batch.clone())?;
        self.encode_completed(partition)
    }

    fn encode_completed(&mut self, partition: usize) -> Result<(), ArrowError> {
        let output = &mut self.partitions[partition];
        while let Some(batch) = output.coalescer.next_completed_batch() {
            let stream = match &mut output.stream {
                Some(stream) => stream,
                slot => {
                    let spool = Spool {
                        path: self.spool_paths[partition].clone(),
                        state: SpoolState::Memory(Vec::new()),
                        in_memory: self.in_memory.clone(),
                    };
                    slot.insert(StreamWriter::try_new_with_options(
                        spool,
                        &self.schema,
                        write_options(),
                    )?)
                }
            };
            stream.write(&batch)?;
            output.rows += batch.num_rows() as u64;
        }
        Ok(())
    }

    /// Writes the data file and index; returns (bytes, rows) per partition.
    pub fn finish(mut self) -> Result<Vec<(u64, u64)>, ArrowError> {
        let tmp_data = self.target.with_extension("data.tmp");
        let mut data = BufWriter::new(File::create(&tmp_data)?);
        let mut offsets = vec![0u64];
        let mut position = 0u64;
        for partition in 0..self.partitions.len() {
            self.partitions[partition]
                .coalescer
                .finish_buffered_batch()?;
            self.encode_completed(partition)?;
            let written = match self.partitions[partition].stream.take() {
                Some(mut stream) => {
                    stream.finish()?;
                    match stream.into_inner()?.state {
                        SpoolState::Memory(buffer) => {
                            data.write_all(&buffer)?;
                            buffer.len() as u64
                        }
                        SpoolState::File(file) => {
                            drop(file.into_inner().map_err(|e| e.into_error())?);
                            let path = &self.spool_paths[partition];
                            let copied = std::io::copy(&mut File::open(path)?, &mut data)?;
                            std::fs::remove_file(path)?;
                            copied
                        }
                    }
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
            .zip(&self.partitions)
            .map(|(w, output)| (w[1] - w[0], output.rows))
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

/// Where one reduce partition's block lies in a map output's data file: `start..end`.
fn block_bounds(data_path: &Path, reduce_partition: usize) -> Result<(u64, u64), BlockError> {
    let missing = |e: std::io::Error| BlockError::Missing(format!("{}: {e}", data_path.display()));
    let mut index = File::open(index_path(data_path)).map_err(missing)?;
    let mut bounds = [0u8; 16];
    index
        .seek(SeekFrom::Start(reduce_partition as u64 * 8))
        .and_then(|_| index.read_exact(&mut bounds))
        .map_err(|e| BlockError::Corrupt(format!("{}: index: {e}", data_path.display())))?;
    let start = u64::from_le_bytes(bounds[..8].try_into().unwrap_or_default());
    let end = u64::from_le_bytes(bounds[8..].try_into().unwrap_or_default());
    if end < start {
        return Err(BlockError::Corrupt(format!(
            "{}: index: block {reduce_partition} ends before it starts",
            data_path.display()
        )));
    }
    Ok((start, end))
}

/// Reads one reduce partition's block from a map output's data file, still encoded: a
/// compressed Arrow IPC stream (empty when the map task wrote no rows for it).
pub fn read_block_encoded(
    data_path: &Path,
    reduce_partition: usize,
) -> Result<Vec<u8>, BlockError> {
    let (start, end) = block_bounds(data_path, reduce_partition)?;
    let missing = |e: std::io::Error| BlockError::Missing(format!("{}: {e}", data_path.display()));
    let mut file = File::open(data_path).map_err(missing)?;
    file.seek(SeekFrom::Start(start)).map_err(missing)?;
    let mut encoded = vec![0u8; (end - start) as usize];
    file.read_exact(&mut encoded)
        .map_err(|e| BlockError::Corrupt(format!("{}: {e}", data_path.display())))?;
    Ok(encoded)
}

/// Reads and decodes one reduce partition's block from a map output's data file.
pub fn read_block(
    data_path: &Path,
    reduce_partition: usize,
) -> Result<Vec<RecordBatch>, BlockError> {
    let encoded = read_block_encoded(data_path, reduce_partition)?;
    if encoded.is_empty() {
        return Ok(Vec::new());
    }
    let corrupt = |e: ArrowError| BlockError::Corrupt(format!("{}: {e}", data_path.display()));
    StreamReader::try_new(encoded.as_slice(), None)
        .map_err(corrupt)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(corrupt)
}

/// Splits an encoded block (an Arrow IPC stream) into its messages, each as the flatbuffer
/// header and the body that Arrow Flight carries in `FlightData`, so a block can be served
/// without being decoded and encoded again (and stays compressed on the wire).
pub fn ipc_messages(stream: Bytes) -> Result<Vec<(Bytes, Bytes)>, BlockError> {
    const CONTINUATION: [u8; 4] = [0xff; 4];
    let corrupt = |what: &str| BlockError::Corrupt(format!("block stream: {what}"));
    let mut messages = Vec::new();
    let mut at = 0usize;
    let word = |at: usize| -> Result<[u8; 4], BlockError> {
        stream
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| corrupt("truncated"))
    };
    while at < stream.len() {
        let mut length = word(at)?;
        at += 4;
        if length == CONTINUATION {
            length = word(at)?;
            at += 4;
        }
        let length = i32::from_le_bytes(length);
        if length == 0 {
            break; // end of stream
        }
        let length = usize::try_from(length).map_err(|_| corrupt("negative length"))?;
        let header = stream
            .get(at..at + length)
            .ok_or_else(|| corrupt("truncated header"))?;
        let body_length = arrow::ipc::root_as_message(header)
            .map_err(|e| corrupt(&e.to_string()))?
            .bodyLength();
        let body_length = usize::try_from(body_length).map_err(|_| corrupt("negative body"))?;
        let body_start = at + length;
        if body_start + body_length > stream.len() {
            return Err(corrupt("truncated body"));
        }
        messages.push((
            stream.slice(at..body_start),
            stream.slice(body_start..body_start + body_length),
        ));
        at = body_start + body_length;
    }
    Ok(messages)
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

    /// The `n` column of every batch, in order.
    fn first_column(batches: &[RecordBatch]) -> Vec<i64> {
        batches
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
    }

    #[test]
    fn each_partition_reads_back_exactly_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = map_output_path(dir.path(), 1, 2, 0, 3);
        let mut writer = MapOutputWriter::new(path.clone(), 3, batch(&[]).schema(), 2).unwrap();
        writer.write(0, &batch(&[1, 2])).unwrap();
        writer.write(2, &batch(&[5])).unwrap();
        writer.write(0, &batch(&[3])).unwrap();
        let stats = writer.finish().unwrap();
        assert_eq!(stats.iter().map(|s| s.1).collect::<Vec<_>>(), vec![3, 0, 1]);
        assert!(stats[0].0 > 0 && stats[1].0 == 0);
        let values = |p| first_column(&read_block(&path, p).unwrap());
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

    /// A block served as its stored IPC messages decodes, through Arrow Flight's own decoder,
    /// to the rows that were written; a cut-off block is reported as corrupt, not misread.
    #[tokio::test]
    async fn stored_messages_decode_as_flight_data() {
        use arrow_flight::FlightData;
        use arrow_flight::decode::FlightRecordBatchStream;
        use futures::TryStreamExt;
        let dir = tempfile::tempdir().unwrap();
        let path = map_output_path(dir.path(), 1, 1, 0, 0);
        let mut writer = MapOutputWriter::new(path.clone(), 1, batch(&[]).schema(), 2).unwrap();
        writer.write(0, &batch(&[7, 8, 9])).unwrap();
        writer.finish().unwrap();
        let encoded = Bytes::from(read_block_encoded(&path, 0).unwrap());
        let messages = ipc_messages(encoded.clone()).unwrap();
        assert_eq!(
            messages.len(),
            3,
            "schema and two batches of at most 2 rows"
        );
        let flight = messages.into_iter().map(|(header, body)| {
            Ok(FlightData {
                data_header: header,
                data_body: body,
                ..FlightData::default()
            })
        });
        let batches: Vec<RecordBatch> =
            FlightRecordBatchStream::new_from_flight_data(futures::stream::iter(flight))
                .try_collect()
                .await
                .unwrap();
        assert_eq!(first_column(&batches), vec![7, 8, 9]);
        let cut = encoded.slice(..encoded.len() - 10);
        assert!(matches!(ipc_messages(cut), Err(BlockError::Corrupt(_))));
    }

    #[test]
    fn a_missing_block_is_reported_as_missing() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_block(&dir.path().join("nope.data"), 0).unwrap_err();
        assert!(matches!(err, BlockError::Missing(_)));
    }
}
