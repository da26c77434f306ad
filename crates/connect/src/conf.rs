//! The `Config` RPC: a Spark session's settings. Ember's own keys go through Ember's session
//! (validated and applied); other Spark keys are kept as given; keys PySpark reads at start-up
//! answer with Spark's defaults.

use std::collections::BTreeMap;

use ember_config::lookup;

/// Settings PySpark reads that Ember answers as Spark 4.2 does by default.
const SPARK_DEFAULTS: &[(&str, &str)] = &[
    ("spark.sql.ansi.enabled", "true"),
    ("spark.sql.caseSensitive", "false"),
    ("spark.sql.timestampType", "TIMESTAMP_LTZ"),
    ("spark.sql.session.localRelationCacheThreshold", "67108864"),
    ("spark.sql.session.localRelationSizeLimit", "2147483647"),
    ("spark.sql.session.localRelationChunkSizeRows", "10000"),
    ("spark.sql.session.localRelationChunkSizeBytes", "16777216"),
    (
        "spark.sql.session.localRelationBatchOfChunksSizeBytes",
        "134217728",
    ),
    (
        "spark.sql.execution.pandas.convertToArrowArraySafely",
        "false",
    ),
    ("spark.sql.execution.pandas.inferPandasDictAsMap", "false"),
    ("spark.sql.execution.pandas.structHandlingMode", "legacy"),
    (
        "spark.sql.execution.arrow.pyspark.selfDestruct.enabled",
        "false",
    ),
    ("spark.sql.execution.arrow.pyspark.enabled", "true"),
    ("spark.sql.execution.arrow.useLargeVarTypes", "false"),
    ("spark.sql.execution.arrow.maxRecordsPerBatch", "10000"),
    ("spark.sql.execution.pythonUDF.arrow.enabled", "false"),
    ("spark.sql.execution.pythonUDTF.arrow.enabled", "false"),
    ("spark.sql.execution.pyspark.binaryAsBytes", "true"),
    ("spark.sql.pyspark.inferNestedDictAsStruct.enabled", "false"),
    (
        "spark.sql.pyspark.legacy.inferArrayTypeFromFirstElement.enabled",
        "false",
    ),
    (
        "spark.sql.pyspark.legacy.inferMapTypeFromFirstPair.enabled",
        "false",
    ),
    ("spark.sql.pyspark.jvmStacktrace.enabled", "false"),
    ("spark.sql.connect.serverStacktrace.enabled", "false"),
    ("spark.sql.repl.eagerEval.enabled", "false"),
    ("spark.sql.repl.eagerEval.maxNumRows", "20"),
    ("spark.sql.repl.eagerEval.truncate", "20"),
    ("spark.sql.session.timeZone", "UTC"),
    ("spark.sql.sources.default", "parquet"),
    ("spark.sql.warehouse.dir", "spark-warehouse"),
    // Plan compression is not implemented: -1 tells the client not to compress.
    ("spark.connect.session.planCompression.threshold", "-1"),
    (
        "spark.connect.session.planCompression.defaultAlgorithm",
        "NONE",
    ),
];

/// Keys Spark fixes when the application starts.
const STATIC_PREFIXES: &[&str] = &[
    "spark.master",
    "spark.app.",
    "spark.driver.",
    "spark.executor.",
    "spark.kubernetes.",
    "spark.sql.warehouse.dir",
];

pub fn spark_default(key: &str) -> Option<&'static str> {
    SPARK_DEFAULTS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
}

/// Whether Ember's own session handles the key (validation, effect).
pub fn ember_handles(key: &str) -> bool {
    key.starts_with("datafusion.") || lookup(key).is_some()
}

pub fn is_modifiable(key: &str) -> bool {
    match lookup(key) {
        Some(spec) => spec.session,
        None => !STATIC_PREFIXES.iter().any(|p| key.starts_with(p)),
    }
}

/// Every default, for `getAll`.
pub fn defaults() -> BTreeMap<String, String> {
    SPARK_DEFAULTS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
