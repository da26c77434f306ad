//! Plans survive the trip to an executor: a decoded plan computes what the original computes.

use std::sync::Arc;

use arrow::array::{Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::physical_plan::{ExecutionPlanProperties, collect};
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use ember_plan::{decode_plan, encode_plan};

#[tokio::test]
async fn byte_range_scans_keep_their_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("numbers.parquet");
    let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
    let properties = WriterProperties::builder()
        .set_max_row_group_row_count(Some(10_000))
        .build();
    let mut writer = ArrowWriter::try_new(
        std::fs::File::create(&path).unwrap(),
        schema.clone(),
        Some(properties),
    )
    .unwrap();
    for chunk in 0..10 {
        let values: Vec<i64> = (chunk * 10_000..(chunk + 1) * 10_000).collect();
        writer
            .write(
                &RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(values))])
                    .unwrap(),
            )
            .unwrap();
    }
    writer.close().unwrap();

    let config = SessionConfig::new()
        .with_target_partitions(2)
        .set_usize("datafusion.optimizer.repartition_file_min_size", 1);
    let ctx = SessionContext::new_with_config(config);
    ctx.register_parquet("t", path.to_str().unwrap(), ParquetReadOptions::default())
        .await
        .unwrap();
    let plan = ctx
        .sql("select n from t where n >= 0")
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    assert_eq!(
        plan.output_partitioning().partition_count(),
        2,
        "the scan should be split"
    );
    // Decoded the way an executor does: a fresh context with the session's settings.
    let mut executor_config = SessionConfig::new();
    for entry in ctx.task_ctx().session_config().options().entries() {
        if let Some(value) = entry.value {
            executor_config
                .options_mut()
                .set(&entry.key, &value)
                .unwrap();
        }
    }
    let executor = SessionContext::new_with_config(executor_config);
    let decoded = decode_plan(&encode_plan(plan.clone()).unwrap(), &executor.task_ctx()).unwrap();
    let mut rows = Vec::new();
    for partition in 0..2 {
        let stream = decoded.execute(partition, executor.task_ctx()).unwrap();
        let batches: Vec<RecordBatch> = futures::TryStreamExt::try_collect(stream).await.unwrap();
        rows.push(batches.iter().map(|b| b.num_rows()).sum::<usize>());
    }
    let original = collect(plan, ctx.task_ctx())
        .await
        .unwrap()
        .iter()
        .map(|b| b.num_rows())
        .sum::<usize>();
    assert_eq!(original, 100_000);
    assert_eq!(
        rows.iter().sum::<usize>(),
        100_000,
        "partitions read {rows:?}"
    );
}
