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

impl ConfKey {
    /// A family of keys named by the user after a fixed prefix: `spark.kubernetes.driver.label.*`
    /// stands for `spark.kubernetes.driver.label.team`, `...label.tier` and so on.
    pub fn is_family(&self) -> bool {
        self.name.ends_with(".*")
    }

    /// The fixed part of a family's keys, ending in `.`.
    pub fn family_prefix(&self) -> &'static str {
        self.name.strip_suffix('*').unwrap_or(self.name)
    }
}

/// Keys under this prefix are DataFusion's own options; they pass through to the engine,
/// which rejects the ones it does not know.
pub const ENGINE_PASSTHROUGH_PREFIX: &str = "datafusion.";

const LOG_LEVELS: &[&str] = &["OFF", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"];

/// Every setting, sorted by key.
pub static KEYS: &[ConfKey] = &[
    ConfKey {
        name: "ember.connect.tls.cert",
        kind: ValueKind::String,
        default: None,
        doc: "PEM certificate chain `ember server` presents to Spark Connect clients; with `ember.connect.tls.key` it serves TLS. PySpark sends a token to any host but `localhost` only over TLS (`sc://HOST:PORT/;token=TOKEN`, trusting the CA through GRPC_DEFAULT_SSL_ROOTS_FILE_PATH or the system store).",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "ember.connect.tls.key",
        kind: ValueKind::String,
        default: None,
        doc: "PEM private key for `ember.connect.tls.cert`.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "ember.connect.token",
        kind: ValueKind::String,
        default: None,
        doc: "Bearer token `ember server` requires of Spark Connect clients (`sc://HOST:PORT/;token=TOKEN`); calls without it are refused with UNAUTHENTICATED. Unset: no token is asked for, so bind only to addresses strangers cannot reach.",
        secret: true,
        session: false,
    },
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
        name: "ember.kubernetes.appId",
        kind: ValueKind::String,
        default: None,
        doc: "The application's id (the `ember-app-id` label of its objects). Set by `ember submit` for the driver pod; unset means a new one.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "ember.kubernetes.priorityClassName",
        kind: ValueKind::String,
        default: None,
        doc: "Priority class of driver and executor pods (Spark has no key for it and uses pod templates; a template's value is kept when this is unset).",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "ember.kubernetes.submissionId",
        kind: ValueKind::String,
        default: None,
        doc: "The `ember-submission-id` label of an application's objects. Set by `ember submit`; a retried submission with the same id finds the objects the first one made instead of starting the application twice.",
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
        name: "ember.sql.format",
        kind: ValueKind::Enum(&["table", "csv", "json"]),
        default: Some("table"),
        doc: "How `ember sql` prints results on standard output; `--format` overrides it. Lets an application submitted to Kubernetes choose how its results appear in the driver's log.",
        secret: false,
        session: false,
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
        name: "spark.connect.grpc.binding.address",
        kind: ValueKind::String,
        default: Some("127.0.0.1"),
        doc: "Address `ember server` listens on for Spark Connect clients (0.0.0.0: every interface). Spark listens on every interface by default; Ember only on this machine unless told.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.connect.grpc.binding.port",
        kind: ValueKind::Int { min: 0, max: 65535 },
        default: Some("15002"),
        doc: "Port `ember server` listens on for Spark Connect clients.",
        secret: false,
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
        name: "spark.driver.cores",
        kind: ValueKind::Int { min: 1, max: 1024 },
        default: Some("1"),
        doc: "CPU request of the driver pod in cluster mode, unless `spark.kubernetes.driver.request.cores` is set.",
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
        name: "spark.driver.memory",
        kind: ValueKind::Bytes,
        default: Some("1g"),
        doc: "Memory of the driver pod in cluster mode; the pod's request and limit add the overhead.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.driver.memoryOverhead",
        kind: ValueKind::Bytes,
        default: None,
        doc: "Memory added to `spark.driver.memory` for the driver pod. Unset means `spark.driver.memoryOverheadFactor` × memory, at least 384 MiB.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.driver.memoryOverheadFactor",
        kind: ValueKind::Fraction,
        default: Some("0.1"),
        doc: "Fraction of `spark.driver.memory` added as overhead when `spark.driver.memoryOverhead` is unset.",
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
        name: "spark.executor.cores",
        kind: ValueKind::Int { min: 1, max: 1024 },
        default: Some("1"),
        doc: "Cores (task slots) of each executor pod; also its CPU request unless `spark.kubernetes.executor.request.cores` is set.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.executor.failuresValidityInterval",
        kind: ValueKind::Duration,
        default: Some("1h"),
        doc: "Window in which executor failures count towards `spark.executor.maxNumFailures`.",
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
        name: "spark.executor.instances",
        kind: ValueKind::Int {
            min: 0,
            max: 100000,
        },
        default: Some("2"),
        doc: "Executor pods a Kubernetes application asks for.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.executor.maxNumFailures",
        kind: ValueKind::Int {
            min: 1,
            max: 1000000,
        },
        default: None,
        doc: "Executor failures within `spark.executor.failuresValidityInterval` after which a Kubernetes application fails with the last reason instead of replacing executors forever. Unset means twice `spark.executor.instances`, at least 3.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.executor.memory",
        kind: ValueKind::Bytes,
        default: Some("1g"),
        doc: "Memory of each executor pod for tasks (its DataFusion memory pool is sized from it); the pod's memory request and limit add the overhead.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.executor.memoryOverhead",
        kind: ValueKind::Bytes,
        default: None,
        doc: "Memory added to `spark.executor.memory` for the pod's request and limit. Unset means `spark.executor.memoryOverheadFactor` × memory, at least 384 MiB (as Spark).",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.executor.memoryOverheadFactor",
        kind: ValueKind::Fraction,
        default: Some("0.1"),
        doc: "Fraction of `spark.executor.memory` added as overhead when `spark.executor.memoryOverhead` is unset.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.executorEnv.*",
        kind: ValueKind::String,
        default: None,
        doc: "Environment variable of executor pods: `spark.executorEnv.NAME=value`.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.allocation.batch.delay",
        kind: ValueKind::Duration,
        default: Some("1s"),
        doc: "Pause between batches of executor pod requests.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.allocation.batch.size",
        kind: ValueKind::Int { min: 1, max: 10000 },
        default: Some("5"),
        doc: "Executor pods requested per batch.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.allocation.executor.timeout",
        kind: ValueKind::Duration,
        default: Some("600s"),
        doc: "An executor pod not yet seen, or still Pending, this long after it was requested is deleted, counted as a failure and replaced.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.allocation.maxPendingPods",
        kind: ValueKind::Int {
            min: 1,
            max: 1000000,
        },
        default: Some("1000000"),
        doc: "Executor pods that may be pending (created, not yet running) at once.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.authenticate.driver.serviceAccountName",
        kind: ValueKind::String,
        default: None,
        doc: "Service account of the driver pod; it needs the Role in `deploy/rbac.yaml` to create executor pods. Unset means the namespace's `default` account.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.authenticate.executor.serviceAccountName",
        kind: ValueKind::String,
        default: None,
        doc: "Service account of executor pods (they call no Kubernetes API). Unset means the namespace's `default` account.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.container.image",
        kind: ValueKind::String,
        default: None,
        doc: "Image of driver and executor pods, e.g. `ember:0.1.0` built from the project's Dockerfile. Required for `k8s://` masters.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.container.image.pullPolicy",
        kind: ValueKind::Enum(&["Always", "IfNotPresent", "Never"]),
        default: Some("IfNotPresent"),
        doc: "Image pull policy of Ember's containers.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.container.image.pullSecrets",
        kind: ValueKind::String,
        default: None,
        doc: "Comma-separated names of Secrets used to pull the image.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.driver.annotation.*",
        kind: ValueKind::String,
        default: None,
        doc: "Annotation of the driver pod: `spark.kubernetes.driver.annotation.NAME=value`.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.driver.container.image",
        kind: ValueKind::String,
        default: None,
        doc: "Image of the driver pod; unset means `spark.kubernetes.container.image`.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.driver.label.*",
        kind: ValueKind::String,
        default: None,
        doc: "Label of the driver pod: `spark.kubernetes.driver.label.NAME=value`.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.driver.limit.cores",
        kind: ValueKind::String,
        default: None,
        doc: "CPU limit of the driver pod (a Kubernetes quantity such as `2` or `1500m`). Unset means no CPU limit.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.driver.node.selector.*",
        kind: ValueKind::String,
        default: None,
        doc: "Node selector of the driver pod only: `spark.kubernetes.driver.node.selector.KEY=value`; wins over `spark.kubernetes.node.selector.KEY`.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.driver.pod.name",
        kind: ValueKind::String,
        default: None,
        doc: "Name of the driver pod. In cluster mode unset means `<app name>-<id>-driver`; inside a driver pod it is how the driver finds itself, to own its executors.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.driver.podTemplateContainerName",
        kind: ValueKind::String,
        default: None,
        doc: "Which container of the driver pod template is Ember's. Unset means the first.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.driver.podTemplateFile",
        kind: ValueKind::String,
        default: None,
        doc: "YAML pod to start the driver pod from: it supplies what Ember does not set (affinity, tolerations, sidecars, security context, extra volumes…); Ember's name, labels, image, command, resources and environment are laid over it.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.driver.request.cores",
        kind: ValueKind::String,
        default: None,
        doc: "CPU request of the driver pod (a Kubernetes quantity); unset means `spark.driver.cores`.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.driver.scheduler.name",
        kind: ValueKind::String,
        default: None,
        doc: "Scheduler of the driver pod; unset means `spark.kubernetes.scheduler.name`.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.driver.volumes.*",
        kind: ValueKind::String,
        default: None,
        doc: "Volumes of the driver pod, as in Spark: `spark.kubernetes.driver.volumes.TYPE.NAME.mount.path`, `.mount.readOnly`, `.mount.subPath` and `.options.*` (`hostPath`: `path`, `type`; `emptyDir`: `medium`, `sizeLimit`; `persistentVolumeClaim`: `claimName`).",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.driverEnv.*",
        kind: ValueKind::String,
        default: None,
        doc: "Environment variable of the driver pod: `spark.kubernetes.driverEnv.NAME=value`.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.executor.annotation.*",
        kind: ValueKind::String,
        default: None,
        doc: "Annotation of executor pods: `spark.kubernetes.executor.annotation.NAME=value`.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.executor.apiPollingInterval",
        kind: ValueKind::Duration,
        default: Some("30s"),
        doc: "How often the driver lists its executor pods in full, beside watching them, to catch changes a watch missed.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.executor.container.image",
        kind: ValueKind::String,
        default: None,
        doc: "Image of executor pods; unset means `spark.kubernetes.container.image`.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.executor.deleteOnTermination",
        kind: ValueKind::Bool,
        default: Some("true"),
        doc: "Delete executor pods when they end or the application ends. `false` keeps ended pods for inspection (they are still owned by the driver pod, so deleting it removes them).",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.executor.label.*",
        kind: ValueKind::String,
        default: None,
        doc: "Label of executor pods: `spark.kubernetes.executor.label.NAME=value`.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.executor.limit.cores",
        kind: ValueKind::String,
        default: None,
        doc: "CPU limit of executor pods (a Kubernetes quantity). Unset means no CPU limit.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.executor.missingPodDetectDelta",
        kind: ValueKind::Duration,
        default: Some("30s"),
        doc: "An executor pod the driver has seen that is missing from full listings this long is taken as lost: its executor's work is recomputed and a replacement is requested.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.executor.node.selector.*",
        kind: ValueKind::String,
        default: None,
        doc: "Node selector of executor pods only; wins over `spark.kubernetes.node.selector.KEY`.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.executor.podNamePrefix",
        kind: ValueKind::String,
        default: None,
        doc: "Prefix of executor pod names (`<prefix>-exec-<n>`). Unset means the application's name and id.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.executor.podTemplateContainerName",
        kind: ValueKind::String,
        default: None,
        doc: "Which container of the executor pod template is Ember's. Unset means the first.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.executor.podTemplateFile",
        kind: ValueKind::String,
        default: None,
        doc: "YAML pod to start executor pods from; merged as for `spark.kubernetes.driver.podTemplateFile`.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.executor.request.cores",
        kind: ValueKind::String,
        default: None,
        doc: "CPU request of executor pods (a Kubernetes quantity); unset means `spark.executor.cores`.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.executor.scheduler.name",
        kind: ValueKind::String,
        default: None,
        doc: "Scheduler of executor pods; unset means `spark.kubernetes.scheduler.name`.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.executor.volumes.*",
        kind: ValueKind::String,
        default: None,
        doc: "Volumes of executor pods, spelled as for `spark.kubernetes.driver.volumes.*`. A volume named `ember-local` replaces the default `emptyDir` for shuffle and spill files.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.file.upload.path",
        kind: ValueKind::String,
        default: None,
        doc: "Not supported yet, and refused when set: an application's files travel in a ConfigMap (1 MiB at most); larger ones must be baked into a custom image or read from object storage.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.namespace",
        kind: ValueKind::String,
        default: Some("default"),
        doc: "Namespace of every object an application creates.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.node.selector.*",
        kind: ValueKind::String,
        default: None,
        doc: "Node selector of driver and executor pods: `spark.kubernetes.node.selector.KEY=value`.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.report.interval",
        kind: ValueKind::Duration,
        default: Some("1s"),
        doc: "How often `ember submit` reports the driver pod's phase while it waits.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.scheduler.name",
        kind: ValueKind::String,
        default: None,
        doc: "Scheduler of driver and executor pods. Unset means the cluster's default scheduler.",
        secret: false,
        session: false,
    },
    ConfKey {
        name: "spark.kubernetes.submission.waitAppCompletion",
        kind: ValueKind::Bool,
        default: Some("true"),
        doc: "`ember submit` in cluster mode follows the driver and exits with the application's result; `false` returns once the driver pod is created.",
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
        name: "spark.sql.mapKeyDedupPolicy",
        kind: ValueKind::Enum(&["EXCEPTION", "LAST_WIN"]),
        default: Some("EXCEPTION"),
        doc: "What building a map (`map`, `map_concat`, `map_from_entries`, `str_to_map`, …) does with a key it already has: `EXCEPTION` fails with `DUPLICATE_MAP_KEY`, `LAST_WIN` keeps the last value.",
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
        name: "spark.sql.warehouse.dir",
        kind: ValueKind::String,
        default: Some("spark-warehouse"),
        doc: "Where managed tables live: `CREATE TABLE … USING` and `saveAsTable` write each table to a directory of this name under it. A relative path is taken from the working directory of the driver (or of the Spark Connect server).",
        secret: false,
        session: false,
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
        name: "spark.submit.deployMode",
        kind: ValueKind::Enum(&["client", "cluster"]),
        default: Some("client"),
        doc: "Where the driver of a `k8s://` application runs: `cluster` (a pod created by `ember submit`) or `client` (the process that ran `ember submit`/`ember sql`; executors are pods).",
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
        .or_else(|| {
            // The longest matching family, so `spark.kubernetes.driver.label.*` is not taken
            // for a shorter family that happens to share its start.
            KEYS.iter()
                .filter(|k| k.is_family())
                .filter(|k| {
                    name.strip_prefix(k.family_prefix())
                        .is_some_and(|rest| !rest.is_empty())
                })
                .max_by_key(|k| k.name.len())
        })
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
