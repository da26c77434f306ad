//! The Spark Connect RPCs over Ember sessions.

use std::any::Any;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::logical_expr::LogicalPlan;
use ember_sql::{EmberSession, StatementKind};
use futures::{FutureExt, Stream, TryStreamExt};
use spark_connect_proto as sc;
use spark_connect_proto::command::CommandType;
use spark_connect_proto::config_request::operation::OpType as ConfigOp;
use spark_connect_proto::execute_plan_response::{self as response, ResponseType};
use spark_connect_proto::interrupt_request::{Interrupt, InterruptType};
use spark_connect_proto::plan::OpType;
use spark_connect_proto::relation::RelType;
use tonic::{Request, Response, Status, Streaming};

use crate::error::{ConnectResult, SparkError};
use crate::session::{ConnectSession, Operation};
use crate::types;
use ember_sql::SharedTables;

/// The Spark version Ember answers `spark.version` with: the protocol it speaks.
pub const SPARK_VERSION: &str = "4.2.0";

/// Makes the Ember session behind each new Spark Connect session.
pub type SessionFactory = Arc<dyn Fn() -> Result<EmberSession, String> + Send + Sync>;

type ResponseStream = Pin<Box<dyn Stream<Item = Result<sc::ExecutePlanResponse, Status>> + Send>>;

pub struct ConnectService {
    factory: SessionFactory,
    sessions: Mutex<HashMap<(String, String), Arc<ConnectSession>>>,
    tables: Arc<SharedTables>,
}

fn user_of(context: &Option<sc::UserContext>) -> String {
    context
        .as_ref()
        .map(|c| c.user_id.clone())
        .unwrap_or_default()
}

impl ConnectService {
    pub fn new(factory: SessionFactory) -> ConnectService {
        ConnectService {
            factory,
            sessions: Mutex::new(HashMap::new()),
            tables: Arc::new(SharedTables::default()),
        }
    }

    fn session(&self, user: &str, id: &str) -> Result<Arc<ConnectSession>, Status> {
        if id.is_empty() {
            return Err(SparkError::invalid_plan("a request without a session id").into());
        }
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let key = (user.to_string(), id.to_string());
        if let Some(session) = sessions.get(&key) {
            return Ok(session.clone());
        }
        let ember = (self.factory)()
            .map_err(|e| Status::internal(format!("cannot start a session: {e}")))?;
        let session = Arc::new(ConnectSession::new(
            id.to_string(),
            ember,
            self.tables.clone(),
        )?);
        tracing::info!(session = id, user, "Spark Connect session started");
        sessions.insert(key, session.clone());
        Ok(session)
    }

    fn existing(&self, user: &str, id: &str) -> Option<Arc<ConnectSession>> {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(user.to_string(), id.to_string()))
            .cloned()
    }

    pub async fn execute_plan(
        &self,
        request: Request<sc::ExecutePlanRequest>,
    ) -> Result<Response<ResponseStream>, Status> {
        let request = request.into_inner();
        let session = self.session(&user_of(&request.user_context), &request.session_id)?;
        let operation_id = request
            .operation_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let operation = session.add_operation(&operation_id, request.tags.clone())?;
        // Clients that cannot reattach never release: their responses go when they are read.
        let reattachable = request.request_options.iter().any(|o| {
            matches!(
                &o.request_option,
                Some(sc::execute_plan_request::request_option::RequestOption::ReattachOptions(r)) if r.reattachable
            )
        });
        let plan = request
            .plan
            .ok_or_else(|| Status::from(SparkError::invalid_plan("ExecutePlan without a plan")))?;
        let task = {
            let session = session.clone();
            let operation = operation.clone();
            tokio::spawn(async move {
                let replies = Replies::new(&session, &operation);
                // A panic anywhere under the operation ends it with an error the client
                // receives; it must never leave the client waiting.
                let outcome = AssertUnwindSafe(run_plan(&session, &replies, plan))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|panic| Err(SparkError::internal(panic_message(&*panic))));
                match outcome {
                    Ok(()) => {
                        replies.send(ResponseType::ResultComplete(response::ResultComplete {}));
                        operation.finish(None);
                    }
                    Err(e) => {
                        tracing::debug!(error = %e.message, "operation failed");
                        operation.finish(Some(e.to_status()));
                    }
                }
                if !reattachable {
                    session.forget_operation(&operation.id);
                }
            })
        };
        operation.set_task(task.abort_handle());
        Ok(Response::new(Box::pin(operation.responses_from(0))))
    }

    pub async fn reattach_execute(
        &self,
        request: Request<sc::ReattachExecuteRequest>,
    ) -> Result<Response<ResponseStream>, Status> {
        let request = request.into_inner();
        let session = self
            .existing(&user_of(&request.user_context), &request.session_id)
            .ok_or_else(|| session_not_found(&request.session_id))?;
        let operation = session.operation(&request.operation_id)?;
        let from = operation.position_after(request.last_response_id.as_deref());
        Ok(Response::new(Box::pin(operation.responses_from(from))))
    }

    pub async fn release_execute(
        &self,
        request: Request<sc::ReleaseExecuteRequest>,
    ) -> Result<Response<sc::ReleaseExecuteResponse>, Status> {
        let request = request.into_inner();
        if let Some(session) = self.existing(&user_of(&request.user_context), &request.session_id)
            && matches!(
                request.release,
                Some(sc::release_execute_request::Release::ReleaseAll(_))
            )
        {
            session.release_operation(&request.operation_id);
        }
        Ok(Response::new(sc::ReleaseExecuteResponse {
            session_id: request.session_id,
            server_side_session_id: String::new(),
            operation_id: Some(request.operation_id),
        }))
    }

    pub async fn interrupt(
        &self,
        request: Request<sc::InterruptRequest>,
    ) -> Result<Response<sc::InterruptResponse>, Status> {
        let request = request.into_inner();
        let session = self.session(&user_of(&request.user_context), &request.session_id)?;
        let kind = InterruptType::try_from(request.interrupt_type).unwrap_or(InterruptType::All);
        let ids = match (kind, &request.interrupt) {
            (InterruptType::Tag, Some(Interrupt::OperationTag(tag))) => {
                session.interrupt(|op| op.tags.contains(tag))
            }
            (InterruptType::OperationId, Some(Interrupt::OperationId(id))) => {
                session.interrupt(|op| &op.id == id)
            }
            _ => session.interrupt(|_| true),
        };
        Ok(Response::new(sc::InterruptResponse {
            session_id: request.session_id,
            server_side_session_id: session.server_side_id.clone(),
            interrupted_ids: ids,
        }))
    }

    pub async fn release_session(
        &self,
        request: Request<sc::ReleaseSessionRequest>,
    ) -> Result<Response<sc::ReleaseSessionResponse>, Status> {
        let request = request.into_inner();
        let key = (user_of(&request.user_context), request.session_id.clone());
        let removed = self
            .sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key);
        let server_side_session_id = match removed {
            Some(session) => {
                session.close();
                session.server_side_id.clone()
            }
            None => String::new(),
        };
        Ok(Response::new(sc::ReleaseSessionResponse {
            session_id: request.session_id,
            server_side_session_id,
        }))
    }

    pub async fn fetch_error_details(
        &self,
        request: Request<sc::FetchErrorDetailsRequest>,
    ) -> Result<Response<sc::FetchErrorDetailsResponse>, Status> {
        // Errors carry their whole message in the status; there are no further details.
        let request = request.into_inner();
        Ok(Response::new(sc::FetchErrorDetailsResponse {
            server_side_session_id: String::new(),
            session_id: request.session_id,
            root_error_idx: None,
            errors: Vec::new(),
        }))
    }

    pub async fn add_artifacts(
        &self,
        request: Request<Streaming<sc::AddArtifactsRequest>>,
    ) -> Result<Response<sc::AddArtifactsResponse>, Status> {
        use sc::add_artifacts_request::Payload;
        let mut stream = request.into_inner();
        let mut summaries = Vec::new();
        let mut session_id = String::new();
        let mut chunked: Option<(String, Vec<u8>, bool)> = None;
        let mut session: Option<Arc<ConnectSession>> = None;
        while let Some(message) = stream.message().await? {
            session_id = message.session_id.clone();
            let current = match &session {
                Some(s) => s.clone(),
                None => {
                    let s = self.session(&user_of(&message.user_context), &message.session_id)?;
                    session = Some(s.clone());
                    s
                }
            };
            match message.payload {
                Some(Payload::Batch(batch)) => {
                    for artifact in batch.artifacts {
                        let chunk = artifact.data.unwrap_or_default();
                        let ok = crc32(&chunk.data) == chunk.crc;
                        if ok {
                            current.add_artifact(artifact.name.clone(), chunk.data);
                        }
                        summaries.push(sc::add_artifacts_response::ArtifactSummary {
                            name: artifact.name,
                            is_crc_successful: ok,
                        });
                    }
                }
                Some(Payload::BeginChunk(begin)) => {
                    let chunk = begin.initial_chunk.unwrap_or_default();
                    let ok = crc32(&chunk.data) == chunk.crc;
                    chunked = Some((begin.name, chunk.data.to_vec(), ok));
                }
                Some(Payload::Chunk(chunk)) => {
                    if let Some((_, data, ok)) = chunked.as_mut() {
                        *ok &= crc32(&chunk.data) == chunk.crc;
                        data.extend_from_slice(&chunk.data);
                    }
                }
                None => {}
            }
        }
        if let (Some((name, data, ok)), Some(session)) = (chunked, &session) {
            if ok {
                session.add_artifact(name.clone(), Bytes::from(data));
            }
            summaries.push(sc::add_artifacts_response::ArtifactSummary {
                name,
                is_crc_successful: ok,
            });
        }
        Ok(Response::new(sc::AddArtifactsResponse {
            session_id,
            server_side_session_id: session
                .map(|s| s.server_side_id.clone())
                .unwrap_or_default(),
            artifacts: summaries,
        }))
    }

    pub async fn artifact_status(
        &self,
        request: Request<sc::ArtifactStatusesRequest>,
    ) -> Result<Response<sc::ArtifactStatusesResponse>, Status> {
        let request = request.into_inner();
        let session = self.session(&user_of(&request.user_context), &request.session_id)?;
        let statuses = request
            .names
            .iter()
            .map(|name| {
                (
                    name.clone(),
                    sc::artifact_statuses_response::ArtifactStatus {
                        exists: session.has_artifact(name),
                    },
                )
            })
            .collect();
        Ok(Response::new(sc::ArtifactStatusesResponse {
            session_id: request.session_id,
            server_side_session_id: session.server_side_id.clone(),
            statuses,
        }))
    }

    pub async fn config(
        &self,
        request: Request<sc::ConfigRequest>,
    ) -> Result<Response<sc::ConfigResponse>, Status> {
        let request = request.into_inner();
        let session = self.session(&user_of(&request.user_context), &request.session_id)?;
        let operation = request.operation.and_then(|o| o.op_type).ok_or_else(|| {
            Status::from(SparkError::invalid_plan(
                "a Config call without an operation",
            ))
        })?;
        let pair = |key: String, value: Option<String>| sc::KeyValue { key, value };
        let mut pairs = Vec::new();
        let mut warnings = Vec::new();
        match operation {
            ConfigOp::Set(set) => {
                let silent = set.silent.unwrap_or(false);
                for kv in set.pairs {
                    let value = kv.value.as_deref().unwrap_or_default();
                    match session.conf_set(&kv.key, value).await {
                        Ok(()) => {}
                        // The builder's options (`appName`, …) arrive silent: a key that
                        // cannot be set is skipped, as Spark skips it.
                        Err(error) if silent => {
                            tracing::debug!(key = kv.key, %error, "silent config set skipped");
                        }
                        Err(error) => return Err(error.into()),
                    }
                }
            }
            ConfigOp::Get(get) => {
                for key in get.keys {
                    let value = session
                        .conf_get(&key)
                        .await
                        .ok_or_else(|| Status::from(conf_not_found(&key)))?;
                    pairs.push(pair(key, Some(value)));
                }
            }
            ConfigOp::GetWithDefault(get) => {
                for kv in get.pairs {
                    let value = match session.conf_get(&kv.key).await {
                        Some(v) => Some(v),
                        None => kv.value,
                    };
                    pairs.push(pair(kv.key, value));
                }
            }
            ConfigOp::GetOption(get) => {
                for key in get.keys {
                    let value = session.conf_get(&key).await;
                    pairs.push(pair(key, value));
                }
            }
            ConfigOp::GetAll(all) => {
                for (key, value) in session.conf_all(all.prefix.as_deref()).await {
                    pairs.push(pair(key, Some(value)));
                }
            }
            ConfigOp::Unset(unset) => {
                for key in unset.keys {
                    if !session.conf_unset(&key).await {
                        warnings.push(format!(
                            "{key} keeps its value: it had none before this session set it"
                        ));
                    }
                }
            }
            ConfigOp::IsModifiable(keys) => {
                for key in keys.keys {
                    let modifiable = crate::conf::is_modifiable(&key);
                    pairs.push(pair(key, Some(modifiable.to_string())));
                }
            }
        }
        Ok(Response::new(sc::ConfigResponse {
            session_id: request.session_id,
            server_side_session_id: session.server_side_id.clone(),
            pairs,
            warnings,
        }))
    }

    pub async fn analyze_plan(
        &self,
        request: Request<sc::AnalyzePlanRequest>,
    ) -> Result<Response<sc::AnalyzePlanResponse>, Status> {
        let request = request.into_inner();
        let session = self.session(&user_of(&request.user_context), &request.session_id)?;
        let analyze = request.analyze.ok_or_else(|| {
            Status::from(SparkError::invalid_plan(
                "an AnalyzePlan call without a question",
            ))
        })?;
        let result = crate::analyze::answer(&session, analyze).await?;
        Ok(Response::new(sc::AnalyzePlanResponse {
            session_id: request.session_id,
            server_side_session_id: session.server_side_id.clone(),
            result: Some(result),
        }))
    }
}

fn conf_not_found(key: &str) -> SparkError {
    SparkError::new(
        crate::error::SparkClass::NoSuchElement,
        "SQL_CONF_NOT_FOUND",
        "42K0I",
        format!("[SQL_CONF_NOT_FOUND] The SQL config \"{key}\" cannot be found. Please verify that the config exists."),
    )
    .with_parameter("sqlConf", format!("\"{key}\""))
}

fn session_not_found(id: &str) -> Status {
    SparkError::new(
        crate::error::SparkClass::Runtime,
        "INVALID_HANDLE.SESSION_NOT_FOUND",
        "HY000",
        format!("[INVALID_HANDLE.SESSION_NOT_FOUND] Session not found: {id}."),
    )
    .to_status()
}

/// zlib's CRC-32, which PySpark checks artifact chunks with.
fn crc32(data: &[u8]) -> i64 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    i64::from(!crc)
}

/// Builds an operation's responses with the ids every response carries.
pub struct Replies<'a> {
    session: &'a ConnectSession,
    operation: &'a Operation,
}

impl<'a> Replies<'a> {
    fn new(session: &'a ConnectSession, operation: &'a Operation) -> Replies<'a> {
        Replies { session, operation }
    }

    fn response(
        &self,
        response_type: Option<ResponseType>,
        schema: Option<sc::DataType>,
    ) -> sc::ExecutePlanResponse {
        sc::ExecutePlanResponse {
            session_id: self.session.id.clone(),
            server_side_session_id: self.session.server_side_id.clone(),
            operation_id: self.operation.id.clone(),
            response_id: uuid::Uuid::new_v4().to_string(),
            response_type,
            metrics: None,
            observed_metrics: Vec::new(),
            schema,
        }
    }

    pub fn send(&self, response_type: ResponseType) {
        self.operation
            .push(self.response(Some(response_type), None));
    }

    fn send_schema(&self, schema: sc::DataType) {
        self.operation.push(self.response(None, Some(schema)));
    }
}

async fn run_plan(
    session: &ConnectSession,
    replies: &Replies<'_>,
    plan: sc::Plan,
) -> ConnectResult<()> {
    match plan.op_type {
        Some(OpType::Root(relation)) => {
            let mut planner = session.planner();
            let logical = planner.plan(&relation).await?;
            stream_rows(session, replies, logical).await
        }
        Some(OpType::Command(command)) => run_command(session, replies, command).await,
        Some(OpType::CompressedOperation(_)) => Err(SparkError::new(
            crate::error::SparkClass::InvalidPlan,
            "CONNECT_INVALID_PLAN.CANNOT_PARSE",
            "XXKD0",
            "[CONNECT_INVALID_PLAN.CANNOT_PARSE] Ember does not read compressed plans.",
        )),
        None => Err(SparkError::invalid_plan(
            "a plan without a relation or command",
        )),
    }
}

/// The schema results are sent in, and whether batches need converting to it.
fn wire_schema(schema: &Schema, time_zone: &str) -> (SchemaRef, bool) {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            Field::new(
                crate::naming::client_name(f.name()),
                types::wire_type(f.data_type(), time_zone),
                f.is_nullable(),
            )
        })
        .collect();
    let converted = Schema::new(fields);
    let differs = converted
        .fields()
        .iter()
        .zip(schema.fields())
        .any(|(a, b)| a.data_type() != b.data_type());
    (Arc::new(converted), differs)
}

fn to_wire(batch: RecordBatch, schema: &SchemaRef, convert: bool) -> ConnectResult<RecordBatch> {
    let columns = if convert {
        batch
            .columns()
            .iter()
            .zip(schema.fields())
            .map(|(c, f)| datafusion::arrow::compute::cast(c, f.data_type()))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        batch.columns().to_vec()
    };
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )?)
}

/// Batches as one Arrow IPC stream (schema, batches, end), as PySpark reads each response's
/// data and a local relation's.
fn encode(schema: &SchemaRef, batches: &[RecordBatch]) -> ConnectResult<Bytes> {
    let mut buffer = Vec::new();
    {
        let mut writer =
            datafusion::arrow::ipc::writer::StreamWriter::try_new(&mut buffer, schema)?;
        for batch in batches {
            writer.write(batch)?;
        }
        writer.finish()?;
    }
    Ok(Bytes::from(buffer))
}

async fn stream_rows(
    session: &ConnectSession,
    replies: &Replies<'_>,
    plan: LogicalPlan,
) -> ConnectResult<()> {
    let time_zone = session.time_zone();
    let plan_schema = session.analyzed(plan.clone())?.schema().as_arrow().clone();
    let (schema, convert) = wire_schema(&plan_schema, &time_zone);
    replies.send_schema(types::schema_to_spark(&schema)?);
    let mut stream = session.executor.run(plan).await?;
    let mut offset = 0i64;
    let mut sent_any = false;
    while let Some(batch) = stream.try_next().await? {
        if batch.num_rows() == 0 && sent_any {
            continue;
        }
        let batch = to_wire(batch, &schema, convert)?;
        let rows = batch.num_rows() as i64;
        replies.send(ResponseType::ArrowBatch(response::ArrowBatch {
            row_count: rows,
            data: encode(&schema, std::slice::from_ref(&batch))?,
            start_offset: Some(offset),
            chunk_index: None,
            num_chunks_in_batch: None,
        }));
        offset += rows;
        sent_any = true;
    }
    if !sent_any {
        let empty = RecordBatch::new_empty(schema.clone());
        replies.send(ResponseType::ArrowBatch(response::ArrowBatch {
            row_count: 0,
            data: encode(&schema, &[empty])?,
            start_offset: Some(0),
            chunk_index: None,
            num_chunks_in_batch: None,
        }));
    }
    Ok(())
}

async fn run_command(
    session: &ConnectSession,
    replies: &Replies<'_>,
    command: sc::Command,
) -> ConnectResult<()> {
    let Some(command) = command.command_type else {
        return Err(SparkError::invalid_plan("a command without a kind"));
    };
    match command {
        CommandType::SqlCommand(sql) => {
            #[allow(deprecated)]
            let relation = match sql.input {
                Some(input) => input,
                None => sc::Relation {
                    common: None,
                    rel_type: Some(RelType::Sql(sc::Sql {
                        query: sql.sql.clone(),
                        args: sql.args.clone(),
                        pos_args: sql.pos_args.clone(),
                        named_arguments: sql.named_arguments.clone(),
                        pos_arguments: sql.pos_arguments.clone(),
                    })),
                },
            };
            let result = sql_command(session, relation).await?;
            replies.send(ResponseType::SqlCommandResult(response::SqlCommandResult {
                relation: Some(result),
            }));
            Ok(())
        }
        CommandType::CreateDataframeView(view) => {
            let input = view
                .input
                .ok_or_else(|| SparkError::invalid_plan("createTempView without a DataFrame"))?;
            let mut planner = session.planner();
            let plan = planner.plan(&input).await?;
            let ctx = session.executor.context();
            if !view.replace && ctx.table_exist(view.name.as_str())? {
                return Err(SparkError::analysis(
                    "TEMP_TABLE_OR_VIEW_ALREADY_EXISTS",
                    format!("[TEMP_TABLE_OR_VIEW_ALREADY_EXISTS] Cannot create the temporary view `{}` because it already exists.", view.name),
                )
                .with_parameter("relationName", format!("`{}`", view.name)));
            }
            let table = datafusion::datasource::ViewTable::new(plan, None);
            ctx.deregister_table(view.name.as_str())?;
            ctx.register_table(view.name.as_str(), Arc::new(table))?;
            Ok(())
        }
        CommandType::WriteOperation(write) => crate::write::write(session, write).await,
        other => Err(SparkError::unsupported(format!(
            "the command {}",
            format!("{other:?}").split('(').next().unwrap_or("")
        ))),
    }
}

/// `spark.sql(text)`: queries stay lazy (the client gets the relation back to run when it
/// wants rows); commands run now, and their rows come back as a local relation.
async fn sql_command(
    session: &ConnectSession,
    relation: sc::Relation,
) -> ConnectResult<sc::Relation> {
    let Some(RelType::Sql(sql)) = &relation.rel_type else {
        return Ok(relation);
    };
    let statements = {
        let ember = session.ember().await;
        ember
            .parse(&sql.query)
            .map_err(SparkError::from)?
            .statements
    };
    if statements.len() == 1 && StatementKind::of(&statements[0]) == StatementKind::Rows {
        return Ok(relation);
    }
    let mut last: Option<(SchemaRef, Vec<RecordBatch>)> = None;
    for statement in statements {
        let mut ember = session.ember().await;
        match ember.execute(statement).await? {
            ember_sql::Outcome::Rows(stream) => {
                let schema = stream.schema();
                let batches: Vec<RecordBatch> = stream.try_collect().await?;
                last = Some((schema, batches));
            }
            ember_sql::Outcome::Done => {}
        }
    }
    let data = match last {
        Some((schema, batches)) => {
            let (wire, convert) = wire_schema(&schema, &session.time_zone());
            let batches = batches
                .into_iter()
                .map(|b| to_wire(b, &wire, convert))
                .collect::<ConnectResult<Vec<_>>>()?;
            Some(encode(&wire, &batches)?)
        }
        None => None,
    };
    Ok(sc::Relation {
        common: None,
        rel_type: Some(RelType::LocalRelation(sc::LocalRelation {
            data,
            schema: None,
        })),
    })
}

/// What a caught panic said, for the error the client receives.
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string());
    format!("the request failed inside Ember: {text}")
}
