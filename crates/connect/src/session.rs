//! One Spark Connect session: its own Ember session (catalog of temporary views, settings),
//! its running and finished operations, and the artifacts its client uploaded.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use datafusion::logical_expr::LogicalPlan;
use ember_sql::{EmberSession, PlanExecutor};
use spark_connect_proto::ExecutePlanResponse;
use tokio::sync::Notify;

use crate::conf;
use crate::error::{ConnectResult, SparkClass, SparkError};
use crate::relation::Planner;
use ember_sql::SharedTables;

pub struct ConnectSession {
    pub id: String,
    /// Changes when the server restarts, so clients can tell their session is gone.
    pub server_side_id: String,
    ember: tokio::sync::Mutex<EmberSession>,
    pub executor: PlanExecutor,
    /// Spark settings this session's client set that Ember keeps but does not act on.
    spark_conf: Mutex<BTreeMap<String, String>>,
    operations: Mutex<HashMap<String, Arc<Operation>>>,
    artifacts: Mutex<BTreeMap<String, Bytes>>,
    pub tables: Arc<SharedTables>,
    /// Where managed tables live (`spark.sql.warehouse.dir`, fixed when the server starts).
    pub warehouse: std::path::PathBuf,
    /// Ember's settings as the session started, which `unset` goes back to.
    initial_conf: ember_config::EmberConf,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ConnectSession {
    pub fn new(
        id: String,
        ember: EmberSession,
        tables: Arc<SharedTables>,
    ) -> ConnectResult<ConnectSession> {
        let executor = ember.executor();
        let warehouse = ember.warehouse();
        let initial_conf = ember.conf().clone();
        ember.share_tables(tables.clone())?;
        Ok(ConnectSession {
            warehouse,
            initial_conf,
            id,
            server_side_id: uuid::Uuid::new_v4().to_string(),
            ember: tokio::sync::Mutex::new(ember),
            executor,
            spark_conf: Mutex::new(BTreeMap::new()),
            operations: Mutex::new(HashMap::new()),
            artifacts: Mutex::new(BTreeMap::new()),
            tables,
        })
    }

    pub fn time_zone(&self) -> String {
        self.executor
            .context()
            .state()
            .config()
            .options()
            .execution
            .time_zone
            .clone()
            .unwrap_or_else(|| "UTC".into())
    }

    pub fn context(&self) -> &datafusion::prelude::SessionContext {
        self.executor.context()
    }

    /// The plan as it will run. The schema a client is told must carry the types its results
    /// will have, which the analyzer (type coercion, Spark's numeric rules) settles.
    pub fn analyzed(&self, plan: LogicalPlan) -> ConnectResult<LogicalPlan> {
        let state = self.context().state();
        Ok(state
            .analyzer()
            .execute_and_check(plan, state.config_options(), |_, _| {})?)
    }

    pub fn planner(&self) -> Planner {
        Planner::new(
            self.executor.context().clone(),
            self.time_zone(),
            self.executor.clone(),
            self.tables.clone(),
            self.warehouse.clone(),
        )
    }

    pub async fn ember(&self) -> tokio::sync::MutexGuard<'_, EmberSession> {
        self.ember.lock().await
    }

    /// A setting's value: the client's, Ember's, or Spark's default.
    pub async fn conf_get(&self, key: &str) -> Option<String> {
        if let Some(value) = lock(&self.spark_conf).get(key) {
            return Some(value.clone());
        }
        if key == "spark.sql.shuffle.partitions" {
            let state = self.executor.context().state();
            return Some(
                state
                    .config()
                    .options()
                    .execution
                    .target_partitions
                    .to_string(),
            );
        }
        if key == "spark.sql.session.timeZone" {
            return Some(self.time_zone());
        }
        if conf::ember_handles(key) {
            let ember = self.ember.lock().await;
            if let Some(value) = ember.conf().get(key) {
                return Some(value.to_string());
            }
            if key.starts_with("datafusion.") {
                let state = self.executor.context().state();
                return state
                    .config()
                    .options()
                    .entries()
                    .into_iter()
                    .find(|e| e.key == key)
                    .and_then(|e| e.value);
            }
        }
        conf::spark_default(key).map(str::to_string)
    }

    pub async fn conf_set(&self, key: &str, value: &str) -> ConnectResult<()> {
        if !conf::is_modifiable(key) {
            return Err(SparkError::new(
                SparkClass::Analysis,
                "CANNOT_MODIFY_STATIC_CONFIG",
                "46110",
                format!("[CANNOT_MODIFY_STATIC_CONFIG] Cannot modify the value of the static Spark config: \"{key}\"."),
            )
            .with_parameter("key", format!("\"{key}\"")));
        }
        if conf::ember_handles(key) {
            let mut ember = self.ember.lock().await;
            ember.set(key, value).await.map_err(|e| {
                SparkError::new(
                    SparkClass::IllegalArgument,
                    "INVALID_CONF_VALUE",
                    "22022",
                    e.to_string(),
                )
            })?;
            drop(ember);
        }
        lock(&self.spark_conf).insert(key.to_string(), value.to_string());
        Ok(())
    }

    /// Forgets a setting the client made. An Ember setting goes back to its value when the
    /// session started; `false` when it has none to go back to and keeps its value.
    pub async fn conf_unset(&self, key: &str) -> bool {
        lock(&self.spark_conf).remove(key);
        if !conf::ember_handles(key) {
            return true;
        }
        let Some(initial) = self.initial_conf.get(key) else {
            return false;
        };
        let mut ember = self.ember.lock().await;
        ember.set(key, initial).await.is_ok()
    }

    pub async fn conf_all(&self, prefix: Option<&str>) -> BTreeMap<String, String> {
        let mut all = conf::defaults();
        {
            let ember = self.ember.lock().await;
            for (key, value, _) in ember.conf().display_entries() {
                all.insert(key, value);
            }
        }
        all.extend(lock(&self.spark_conf).clone());
        all.retain(|k, _| prefix.is_none_or(|p| k.starts_with(p)));
        all
    }

    pub fn add_operation(&self, id: &str, tags: Vec<String>) -> ConnectResult<Arc<Operation>> {
        let mut operations = lock(&self.operations);
        if operations.contains_key(id) {
            return Err(SparkError::new(
                SparkClass::Runtime,
                "INVALID_HANDLE.OPERATION_ALREADY_EXISTS",
                "HY000",
                format!(
                    "[INVALID_HANDLE.OPERATION_ALREADY_EXISTS] Operation already exists: {id}."
                ),
            ));
        }
        let operation = Arc::new(Operation::new(id.to_string(), tags));
        operations.insert(id.to_string(), operation.clone());
        Ok(operation)
    }

    pub fn operation(&self, id: &str) -> ConnectResult<Arc<Operation>> {
        lock(&self.operations).get(id).cloned().ok_or_else(|| {
            SparkError::new(
                SparkClass::Runtime,
                "INVALID_HANDLE.OPERATION_NOT_FOUND",
                "HY000",
                format!("[INVALID_HANDLE.OPERATION_NOT_FOUND] Operation not found: {id}."),
            )
        })
    }

    /// Drops a finished operation's bookkeeping; readers holding it still get its responses.
    pub fn forget_operation(&self, id: &str) {
        lock(&self.operations).remove(id);
    }

    pub fn release_operation(&self, id: &str) {
        if let Some(operation) = lock(&self.operations).remove(id) {
            operation.interrupt();
        }
    }

    /// Interrupts the operations `select` picks; returns their ids.
    pub fn interrupt(&self, select: impl Fn(&Operation) -> bool) -> Vec<String> {
        let operations: Vec<Arc<Operation>> = lock(&self.operations).values().cloned().collect();
        operations
            .into_iter()
            .filter(|op| select(op) && op.interrupt())
            .map(|op| op.id.clone())
            .collect()
    }

    pub fn close(&self) {
        let operations: Vec<Arc<Operation>> =
            lock(&self.operations).drain().map(|(_, op)| op).collect();
        for operation in operations {
            operation.interrupt();
        }
    }

    pub fn add_artifact(&self, name: String, data: Bytes) {
        lock(&self.artifacts).insert(name, data);
    }

    pub fn has_artifact(&self, name: &str) -> bool {
        lock(&self.artifacts).contains_key(name)
    }
}

/// One ExecutePlan: its responses so far (kept until released, so a client can reattach and
/// read them again), whether it has finished, and how to stop it.
pub struct Operation {
    pub id: String,
    pub tags: Vec<String>,
    state: Mutex<OperationState>,
    changed: Notify,
    task: Mutex<Option<tokio::task::AbortHandle>>,
}

#[derive(Default)]
struct OperationState {
    responses: Vec<ExecutePlanResponse>,
    finished: bool,
    error: Option<tonic::Status>,
}

impl Operation {
    fn new(id: String, tags: Vec<String>) -> Operation {
        Operation {
            id,
            tags,
            state: Mutex::new(OperationState::default()),
            changed: Notify::new(),
            task: Mutex::new(None),
        }
    }

    pub fn set_task(&self, task: tokio::task::AbortHandle) {
        *lock(&self.task) = Some(task);
    }

    pub fn push(&self, response: ExecutePlanResponse) {
        lock(&self.state).responses.push(response);
        self.changed.notify_waiters();
    }

    pub fn finish(&self, error: Option<tonic::Status>) {
        {
            let mut state = lock(&self.state);
            if state.finished {
                return;
            }
            state.finished = true;
            state.error = error;
        }
        self.changed.notify_waiters();
    }

    /// Stops the operation if it is still running; true if it was.
    pub fn interrupt(&self) -> bool {
        let running = !lock(&self.state).finished;
        if running {
            if let Some(task) = lock(&self.task).take() {
                task.abort();
            }
            self.finish(Some(
                SparkError::new(
                    SparkClass::Runtime,
                    "OPERATION_CANCELED",
                    "HY008",
                    "[OPERATION_CANCELED] Operation has been cancelled.",
                )
                .to_status(),
            ));
        }
        running
    }

    /// Where a reader that last saw `response_id` continues.
    pub fn position_after(&self, response_id: Option<&str>) -> usize {
        match response_id {
            None => 0,
            Some(id) => lock(&self.state)
                .responses
                .iter()
                .position(|r| r.response_id == id)
                .map_or(0, |i| i + 1),
        }
    }

    /// The responses from `index` on, as they come, then the operation's error if it failed.
    pub fn responses_from(
        self: Arc<Self>,
        index: usize,
    ) -> impl futures::Stream<Item = Result<ExecutePlanResponse, tonic::Status>> + Send + 'static
    {
        futures::stream::unfold(
            (self, index, false),
            |(operation, index, done)| async move {
                if done {
                    return None;
                }
                let waiter = operation.clone();
                loop {
                    let notified = waiter.changed.notified();
                    tokio::pin!(notified);
                    notified.as_mut().enable();
                    {
                        let state = lock(&operation.state);
                        if let Some(response) = state.responses.get(index) {
                            let response = response.clone();
                            drop(state);
                            return Some((Ok(response), (operation, index + 1, false)));
                        }
                        if state.finished {
                            let error = state.error.clone();
                            drop(state);
                            return error.map(|e| (Err(e), (operation, index, true)));
                        }
                    }
                    notified.await;
                }
            },
        )
    }
}
