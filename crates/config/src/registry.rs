//! The one list of settings Ember understands.

use crate::ValueKind;

/// One setting: its key, type, default and the sentence users read about it.
#[derive(Debug)]
pub struct ConfKey {
    pub name: &'static str,
    pub kind: ValueKind,
    /// `None` when the setting is unset unless given (its doc says what that means).
    pub default: Option<&'static str>,
    pub doc: &'static str,
    /// Secret values are never echoed: not in errors, listings or logs.
    pub secret: bool,
    /// Whether `SET` may change it inside a running session; the others are fixed when the
    /// application starts.
    pub session: bool,
}

/// Keys under this prefix are DataFusion's own options; they pass through to the engine,
/// which rejects the ones it does not know.
pub const ENGINE_PASSTHROUGH_PREFIX: &str = "datafusion.";

const LOG_LEVELS: &[&str] = &["OFF", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"];

/// Every setting, sorted by key.
pub static KEYS: &[ConfKey] = &[
    ConfKey {
        name: "ember.driver.minExecutors",
        kind: ValueKind::Int {
            min: 0,
            max: 100000,
        },
        default: Some("1"),
        doc: "With an ember-driver:// master: executors that must register before the first query runs.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "ember.log.format",
        kind: ValueKind::Enum(&["text", "json"]),
        default: Some("text"),
        doc: "Log line format on stderr: `text` for people, `json` (one object a line) for log collectors.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "ember.sql.batchSize",
        kind: ValueKind::Int {
            min: 1,
            max: 1 << 24,
        },
        default: Some("8192"),
        doc: "Rows per Arrow record batch inside the engine.",
        secret: false,
        session: true,
    },
    ConfKey {
        name: "ember.sql.memoryLimit",
        kind: ValueKind::Bytes,
        default: None,
        doc: "Caps the memory the local engine's operators may hold; sorts, aggregations and joins that can spill go to `spark.local.dir` beyond it. Unset means no cap.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "ember.sql.progress",
        kind: ValueKind::Bool,
        default: Some("true"),
        doc: "Show a progress indicator on stderr for queries running longer than a second (only when stderr is a terminal).",
        secret: false,
        session: true,
    },
    ConfKey {
        name: "ember.tls.ca",
        kind: ValueKind::String,
        default: None,
        doc: "PEM file of the CA that signed `ember.tls.cert`. With `ember.tls.cert` and `ember.tls.key` it turns on TLS for the driver's executor endpoint and every executor's block server: servers demand a client certificate from this CA and clients verify servers against it. The certificate must name the hosts executors and the driver are reached by.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "ember.tls.cert",
        kind: ValueKind::String,
        default: None,
        doc: "PEM certificate (chain) the driver and executors present; see `ember.tls.ca`.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "ember.tls.key",
        kind: ValueKind::String,
        default: None,
        doc: "PEM private key of `ember.tls.cert`; see `ember.tls.ca`.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.app.name",
        kind: ValueKind::String,
        default: Some("ember"),
        doc: "The application's name, shown in logs.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.authenticate.secret",
        kind: ValueKind::String,
        default: None,
        doc: "The secret every driver and executor call must present. Unset means a fresh random secret per application, handed to the executors Ember starts.",
        secret: true,
        session: false,
    },
    ConfKey {
        name: "spark.driver.bindAddress",
        kind: ValueKind::String,
        default: Some("127.0.0.1"),
        doc: "Address the driver's executor endpoint listens on; 0.0.0.0 accepts executors from other machines.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.driver.host",
        kind: ValueKind::String,
        default: Some("127.0.0.1"),
        doc: "Host name or address executors use to reach the driver.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.driver.port",
        kind: ValueKind::Int { min: 0, max: 65535 },
        default: Some("0"),
        doc: "Port of the driver's executor endpoint; 0 picks a free port.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.executor.heartbeatInterval",
        kind: ValueKind::Duration,
        default: Some("2s"),
        doc: "How often executors report to the driver; must be well below spark.network.timeout.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.local.dir",
        kind: ValueKind::String,
        default: None,
        doc: "Directory for spill files. Unset means the system temporary directory.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.log.level",
        kind: ValueKind::Enum(LOG_LEVELS),
        default: Some("WARN"),
        doc: "Log level on stderr. `RUST_LOG` (per-module filters) overrides it when set.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.master",
        kind: ValueKind::Master,
        default: Some("local[*]"),
        doc: "Where queries run: `local[N]` in this process on N threads (`local[*]`: every core); `local-cluster[E,C,M]` on E executor processes with C cores and M MiB each; `ember-driver://HOST:PORT` on executors that join a driver listening there.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.network.timeout",
        kind: ValueKind::Duration,
        default: Some("30s"),
        doc: "An executor silent for this long is declared lost and its work is recomputed elsewhere.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.scheduler.maxRegisteredResourcesWaitingTime",
        kind: ValueKind::Duration,
        default: Some("60s"),
        doc: "How long the driver waits for its executors to register before giving up.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.sql.autoBroadcastJoinThreshold",
        kind: ValueKind::SizeOrOff,
        default: Some("10m"),
        doc: "On a cluster master, a join side estimated below this size is broadcast: every task of the join reads all of it, and the other side is not shuffled. -1 turns broadcasting off. The local engine keeps DataFusion's smaller limits, which suit one process; setting `datafusion.optimizer.hash_join_single_partition_threshold` or `..._rows` directly overrides this.",
        secret: false,
        session: true,
    },
    ConfKey {
        name: "spark.sql.session.timeZone",
        kind: ValueKind::String,
        default: Some("UTC"),
        doc: "Session time zone for timestamps with a zone, e.g. `UTC`, `+02:00` or `Europe/Paris`.",
        secret: false,
        session: true,
    },
    ConfKey {
        name: "spark.sql.shuffle.partitions",
        kind: ValueKind::Int {
            min: 1,
            max: 1 << 20,
        },
        default: None,
        doc: "Partitions used when joins and aggregations repartition data. Unset means the master's thread count, which is what an engine without task overhead wants (Spark's 200 would only add overhead here).",
        secret: false,
        session: true,
    },
    ConfKey {
        name: "spark.stage.maxConsecutiveAttempts",
        kind: ValueKind::Int { min: 1, max: 1000 },
        default: Some("4"),
        doc: "Times a stage may lose its output (to a lost executor or a failed fetch) and run again before its job fails.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.task.maxFailures",
        kind: ValueKind::Int { min: 1, max: 1000 },
        default: Some("4"),
        doc: "Attempts of one task before its job fails.",
        secret: false,
        session: false,
    },
];

/// The registry entry for `name`, if Ember knows it. Exact spelling wins; otherwise case is ignored, because SQL `SET` lower-cases its
/// variable names and no two keys differ only in case.
pub fn lookup(name: &str) -> Option<&'static ConfKey> {
    KEYS.iter()
        .find(|k| k.name == name)
        .or_else(|| KEYS.iter().find(|k| k.name.eq_ignore_ascii_case(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sorted_unique_and_have_valid_defaults() {
        for pair in KEYS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} before {}",
                pair[0].name,
                pair[1].name
            );
        }
        for key in KEYS {
            assert!(!key.doc.is_empty(), "{} has no doc", key.name);
            if let Some(default) = key.default {
                assert!(
                    key.kind.normalize(default).is_some(),
                    "default of {} does not fit its own type",
                    key.name
                );
            }
        }
    }
}
