//! A DataFusion session configured from Ember's settings, running scripts one statement at a
//! time.

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::array::StringArray;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::{
    DdlStatement, Explain, LogicalPlan, SetVariable, Statement as PlanStatement,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::{
    CsvReadOptions, JsonReadOptions, ParquetReadOptions, SessionConfig, SessionContext,
};
use datafusion::sql::parser::{DFParserBuilder, Statement};
use datafusion::sql::sqlparser::ast::Statement as AstStatement;
use datafusion::sql::sqlparser::dialect::dialect_from_str;
use ember_config::{ConfSource, ENGINE_PASSTHROUGH_PREFIX, EmberConf, lookup};
use ember_plan::{PlanRunner, plan_stages};
use futures::TryStreamExt;

use crate::databases;
use crate::object_stores::ensure_readable;
use crate::shared_tables::{SessionSchema, SharedTables};
use crate::spark_sql;
use crate::{SqlError, TableFormat, TableSpec};

/// The parsed statements of a script, in order.
pub struct Script {
    pub statements: Vec<Statement>,
}

/// Whether a statement answers with rows (a query, `EXPLAIN`, `SHOW`) or only acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    Rows,
    Command,
}

impl StatementKind {
    pub fn of(statement: &Statement) -> StatementKind {
        match statement {
            Statement::Explain(_) => StatementKind::Rows,
            Statement::Statement(ast) => match ast.as_ref() {
                AstStatement::Query(_)
                | AstStatement::Explain { .. }
                | AstStatement::ExplainTable { .. }
                | AstStatement::ShowTables { .. }
                | AstStatement::ShowColumns { .. }
                | AstStatement::ShowVariable { .. }
                | AstStatement::ShowFunctions { .. } => StatementKind::Rows,
                _ => StatementKind::Command,
            },
            _ => StatementKind::Command,
        }
    }
}

/// What running one statement produced.
pub enum Outcome {
    /// Rows, streamed: dropping the stream cancels the query.
    Rows(SendableRecordBatchStream),
    /// A command that completed.
    Done,
}

/// Spark's `CREATE TEMPORARY VIEW`: every view Ember makes lives in its session already, so
/// the TEMPORARY (and GLOBAL TEMPORARY) view is planned as a plain one.
fn session_scoped_views(statement: Statement) -> Statement {
    match statement {
        Statement::Statement(ast) => {
            let mut ast = *ast;
            if let AstStatement::CreateView(view) = &mut ast {
                view.temporary = false;
            }
            Statement::Statement(Box::new(ast))
        }
        other => other,
    }
}

const BROADCAST_THRESHOLD: &str = "spark.sql.autoBroadcastJoinThreshold";
const BROADCAST_BYTES: &str = "datafusion.optimizer.hash_join_single_partition_threshold";
const BROADCAST_ROWS: &str = "datafusion.optimizer.hash_join_single_partition_threshold_rows";

/// Runs logical plans where a session runs them: in this process, or on its runner's
/// executors.
#[derive(Clone)]
pub struct PlanExecutor {
    ctx: SessionContext,
    runner: Option<Arc<dyn PlanRunner>>,
}

impl PlanExecutor {
    pub async fn run(
        &self,
        plan: LogicalPlan,
    ) -> datafusion::error::Result<SendableRecordBatchStream> {
        let frame = self.ctx.execute_logical_plan(plan).await?;
        match &self.runner {
            Some(runner) => {
                let task_context = frame.task_ctx();
                let physical = frame.create_physical_plan().await?;
                runner.run(physical, Arc::new(task_context)).await
            }
            None => frame.execute_stream().await,
        }
    }

    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }
}

/// One user session on the embedded engine.
pub struct EmberSession {
    ctx: SessionContext,
    conf: EmberConf,
    /// Runs queries elsewhere (a driver's executors); `None` runs them in this process.
    runner: Option<Arc<dyn PlanRunner>>,
}

impl EmberSession {
    /// A session whose threads, partitions, memory and spill directory come from `conf`.
    pub fn new(conf: EmberConf) -> Result<EmberSession, SqlError> {
        let mut config = SessionConfig::new().with_information_schema(true);
        // Spark reads `1.5` in SQL as decimal(2,1), not as a double.
        config.options_mut().sql_parser.parse_float_as_decimal = true;
        // Spark sorts nulls first ascending and last descending unless told otherwise.
        config.options_mut().sql_parser.default_null_ordering = "nulls_min".to_string();
        // sqlparser's Spark SQL grammar: backticks, `x -> x + 1` lambdas, `DIV`,
        // `CREATE TABLE … USING`, `VALUES` as a table.
        config.options_mut().sql_parser.dialect = datafusion::config::Dialect::Spark;
        for (key, value) in conf.engine_options() {
            config.options_mut().set(key, value)?;
        }
        apply_session_settings(&conf, &mut config)?;

        // No cached file listings: a directory written to (by this session or anyone) must
        // read back as it is now, as Spark reads it.
        let mut runtime = RuntimeEnvBuilder::new().with_cache_manager(
            datafusion::execution::cache::cache_manager::CacheManagerConfig::default()
                .with_list_files_cache_limit(0),
        );
        if let Some(limit) = conf.get_bytes("ember.sql.memoryLimit") {
            let limit = usize::try_from(limit).unwrap_or(usize::MAX);
            runtime = runtime.with_memory_pool(Arc::new(FairSpillPool::new(limit)));
        }
        if let Some(dir) = conf.get("spark.local.dir") {
            std::fs::create_dir_all(dir).map_err(|e| SqlError::Output {
                path: dir.into(),
                message: format!("spark.local.dir is not usable: {e}"),
            })?;
            runtime = runtime.with_disk_manager_builder(
                DiskManagerBuilder::default()
                    .with_mode(DiskManagerMode::Directories(vec![dir.into()])),
            );
        }
        let state = datafusion::execution::SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime.build_arc()?)
            .with_default_features()
            .build();
        // Last, so no other rule moves a projection calling it off its partitions.
        let mut rules = state.physical_optimizers().to_vec();
        rules.push(Arc::new(ember_plan::PartitionIdRule));
        // Spark's casts are read before DataFusion's type coercion adds casts of its own.
        let mut analyzer_rules = state.analyzer().rules.clone();
        analyzer_rules.insert(0, Arc::new(ember_functions::SparkCastRule));
        let state = datafusion::execution::SessionStateBuilder::new_from_existing(state)
            .with_physical_optimizer_rules(rules)
            .with_analyzer_rules(analyzer_rules)
            .build();
        let mut ctx = SessionContext::new_with_state(state);
        ember_functions::register_spark_functions(&mut ctx)?;
        ctx.add_analyzer_rule(Arc::new(ember_functions::SparkNumericRule));
        ember_functions::configure_functions(&ctx);
        let session = EmberSession {
            ctx,
            conf,
            runner: None,
        };
        // Its own tables until a server shares its tables with it.
        session.share_tables(Arc::new(SharedTables::default()))?;
        Ok(session)
    }

    /// Sets one of DataFusion's options for this session.
    pub fn set_option(&mut self, key: &str, value: &str) -> Result<(), SqlError> {
        let state = self.ctx.state_ref();
        state.write().config_mut().options_mut().set(key, value)?;
        ember_functions::configure_functions(&self.ctx);
        Ok(())
    }

    /// Sends every query to `runner` instead of running it in this process.
    pub fn with_runner(mut self, runner: Arc<dyn PlanRunner>) -> Result<EmberSession, SqlError> {
        {
            let state = self.ctx.state_ref();
            let mut state = state.write();
            for (key, value) in runner.required_settings() {
                state.config_mut().options_mut().set(key, value)?;
            }
            apply_broadcast_threshold(&self.conf, state.config_mut())?;
        }
        self.runner = Some(runner);
        Ok(self)
    }

    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// Makes this session's default database hold `shared`'s tables beside its own views, so
    /// every session given the same tables sees the tables any of them saves or drops. Call
    /// it before the session registers anything.
    pub fn share_tables(&self, shared: Arc<SharedTables>) -> Result<(), SqlError> {
        let options = self.ctx.state().config().options().catalog.clone();
        let catalog = self.ctx.catalog(&options.default_catalog).ok_or_else(|| {
            SqlError::Query(format!(
                "the session has no catalog `{}`",
                options.default_catalog
            ))
        })?;
        catalog.register_schema(
            &options.default_schema,
            Arc::new(SessionSchema::new(shared)),
        )?;
        Ok(())
    }

    pub fn conf(&self) -> &EmberConf {
        &self.conf
    }

    /// Registers a table over a file, a directory or an object-store URL.
    pub async fn register_table(&self, spec: &TableSpec) -> Result<(), SqlError> {
        ensure_readable(&self.ctx, &spec.location)?;
        let extension = file_extension(&spec.location);
        match spec.format {
            TableFormat::Parquet => {
                let options = ParquetReadOptions {
                    file_extension: extension.as_deref().unwrap_or(".parquet"),
                    ..Default::default()
                };
                self.ctx
                    .register_parquet(&spec.name, &spec.location, options)
                    .await?
            }
            TableFormat::Csv => {
                let options = CsvReadOptions::new()
                    .has_header(true)
                    .file_extension(extension.as_deref().unwrap_or(".csv"));
                self.ctx
                    .register_csv(&spec.name, &spec.location, options)
                    .await?
            }
            TableFormat::Json => {
                let options = JsonReadOptions {
                    file_extension: extension.as_deref().unwrap_or(".json"),
                    ..Default::default()
                };
                self.ctx
                    .register_json(&spec.name, &spec.location, options)
                    .await?
            }
        }
        Ok(())
    }

    /// Parses a script of `;`-separated statements. Error positions are relative to `sql`.
    pub fn parse(&self, sql: &str) -> Result<Script, SqlError> {
        let state = self.ctx.state();
        let options = &state.config().options().sql_parser;
        let dialect = dialect_from_str(options.dialect).ok_or_else(|| {
            SqlError::Unsupported(format!("unknown SQL dialect {}", options.dialect))
        })?;
        let sql = crate::typed_literals::rewrite_typed_literals(
            &crate::set_values::quote_set_values(sql),
        );
        let statements = DFParserBuilder::new(sql.as_str())
            .with_dialect(dialect.as_ref())
            .with_recursion_limit(options.recursion_limit.get())
            .build()?
            .parse_statements()?;
        let mut script = Vec::with_capacity(statements.len());
        for statement in statements {
            script.extend(self.spark_statement(session_scoped_views(statement))?);
        }
        Ok(Script { statements: script })
    }

    /// Where managed tables live (`spark.sql.warehouse.dir`).
    pub fn warehouse(&self) -> PathBuf {
        PathBuf::from(
            self.conf
                .get("spark.sql.warehouse.dir")
                .unwrap_or("spark-warehouse"),
        )
    }

    /// Spark SQL's forms of a statement in the ones DataFusion plans (see [`spark_sql`]).
    fn spark_statement(&self, statement: Statement) -> Result<Vec<Statement>, SqlError> {
        let Statement::Statement(mut ast) = statement else {
            return Ok(vec![statement]);
        };
        spark_sql::rewrite_expressions(&mut ast);
        if let AstStatement::CreateTable(create) = ast.as_ref()
            && let Some(table) = spark_sql::managed_table(create, &self.warehouse())?
        {
            std::fs::create_dir_all(&table.location).map_err(|e| {
                SqlError::Unsupported(format!(
                    "cannot create the directory of table `{}` at {}: {e}",
                    table.name,
                    table.location.display()
                ))
            })?;
            return Ok(table.statements);
        }
        Ok(vec![Statement::Statement(ast)])
    }

    /// Runs `CREATE DATABASE`/`CREATE SCHEMA` and `DROP DATABASE`/`DROP SCHEMA` on the
    /// session's databases (see [`databases`]); false for any other statement.
    fn database_statement(&self, statement: &Statement) -> Result<bool, SqlError> {
        use datafusion::sql::sqlparser::ast::{ObjectType, SchemaName};
        let Statement::Statement(ast) = statement else {
            return Ok(false);
        };
        match ast.as_ref() {
            AstStatement::CreateDatabase {
                db_name,
                if_not_exists,
                ..
            } => databases::create_database(&self.ctx, &db_name.to_string(), *if_not_exists)?,
            AstStatement::CreateSchema {
                schema_name: SchemaName::Simple(name),
                if_not_exists,
                ..
            } => databases::create_database(&self.ctx, &name.to_string(), *if_not_exists)?,
            AstStatement::Drop {
                object_type: ObjectType::Database | ObjectType::Schema,
                names,
                if_exists,
                cascade,
                ..
            } => {
                for name in names {
                    databases::drop_database(&self.ctx, &name.to_string(), *if_exists, *cascade)?;
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Runs `CACHE TABLE name [AS query]` and `UNCACHE TABLE [IF EXISTS] name` on the
    /// session's table cache (see [`crate::table_cache`]); false for any other statement.
    async fn cache_statement(&self, statement: &Statement) -> Result<bool, SqlError> {
        let Statement::Statement(ast) = statement else {
            return Ok(false);
        };
        match ast.as_ref() {
            AstStatement::Cache {
                table_name, query, ..
            } => {
                let name = table_name.to_string();
                if let Some(query) = query {
                    // `CACHE TABLE name AS SELECT …` caches a temporary view of the query.
                    let plan = self
                        .ctx
                        .state()
                        .statement_to_plan(Statement::Statement(Box::new(AstStatement::Query(
                            query.clone(),
                        ))))
                        .await?;
                    let plan = crate::spark_integer_literals(plan)?;
                    let view = datafusion::datasource::ViewTable::new(plan, None);
                    self.ctx.deregister_table(name.as_str())?;
                    self.ctx.register_table(name.as_str(), Arc::new(view))?;
                }
                crate::cache_table(&self.ctx, &name).await?;
            }
            AstStatement::UNCache {
                table_name,
                if_exists,
            } => {
                let name = table_name.to_string();
                if !*if_exists && !self.ctx.table_exist(name.as_str())? {
                    return Err(SqlError::Query(format!(
                        "[TABLE_OR_VIEW_NOT_FOUND] The table or view `{name}` cannot be found. Verify the spelling and correctness of the schema and catalog."
                    )));
                }
                crate::uncache_table(&self.ctx, &name)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The directories of the managed tables a `DROP TABLE` drops.
    async fn managed_directories(&self, statement: &Statement) -> Vec<PathBuf> {
        let Statement::Statement(ast) = statement else {
            return Vec::new();
        };
        let AstStatement::Drop {
            object_type: datafusion::sql::sqlparser::ast::ObjectType::Table,
            names,
            ..
        } = ast.as_ref()
        else {
            return Vec::new();
        };
        let mut directories = Vec::new();
        for name in names {
            if let Ok(provider) = self.ctx.table_provider(name.to_string().as_str()).await
                && let Some(directory) = spark_sql::managed_directory(&provider, &self.warehouse())
            {
                directories.push(directory);
            }
        }
        directories
    }

    /// Plans and starts one statement. Commands complete before this returns; queries return
    /// a stream that runs as it is polled.
    pub async fn execute(&mut self, statement: Statement) -> Result<Outcome, SqlError> {
        let kind = StatementKind::of(&statement);
        tracing::debug!(%statement, "planning");
        if self.database_statement(&statement)? || self.cache_statement(&statement).await? {
            return Ok(Outcome::Done);
        }
        let dropped = self.managed_directories(&statement).await;
        let plan = self.ctx.state().statement_to_plan(statement).await?;
        let plan = crate::spark_integer_literals(plan)?;
        if !dropped.is_empty() {
            self.ctx.execute_logical_plan(plan).await?.collect().await?;
            for directory in dropped {
                spark_sql::remove_directory(&directory)?;
            }
            return Ok(Outcome::Done);
        }
        match &plan {
            LogicalPlan::Statement(PlanStatement::SetVariable(set)) => {
                self.set_variable(set).await?;
                return Ok(Outcome::Done);
            }
            LogicalPlan::Ddl(DdlStatement::CreateExternalTable(table)) => {
                for location in &table.locations {
                    ensure_readable(&self.ctx, location)?;
                }
            }
            _ => {}
        }
        if let (Some(_), StatementKind::Rows, LogicalPlan::Explain(explain)) =
            (&self.runner, kind, &plan)
        {
            return Ok(Outcome::Rows(self.explain_stages(explain).await?));
        }
        match kind {
            StatementKind::Rows => Ok(Outcome::Rows(self.execute_logical_plan(plan).await?)),
            StatementKind::Command => {
                self.ctx.execute_logical_plan(plan).await?.collect().await?;
                Ok(Outcome::Done)
            }
        }
    }

    /// Runs a planned query where this session runs queries: in this process, or on the
    /// executors of the runner it was given. Errors stay DataFusion's, for callers that
    /// classify them (the Spark Connect endpoint).
    pub async fn execute_logical_plan(
        &self,
        plan: LogicalPlan,
    ) -> datafusion::error::Result<SendableRecordBatchStream> {
        self.executor().run(plan).await
    }

    /// A handle that runs plans as this session does, usable without borrowing the session.
    pub fn executor(&self) -> PlanExecutor {
        PlanExecutor {
            ctx: self.ctx.clone(),
            runner: self.runner.clone(),
        }
    }

    /// EXPLAIN for distributed execution: the logical plan and the stage DAG the query would
    /// run as.
    async fn explain_stages(
        &self,
        explain: &Explain,
    ) -> Result<SendableRecordBatchStream, SqlError> {
        let physical = self.ctx.state().create_physical_plan(&explain.plan).await?;
        let dag = plan_stages(physical)?;
        let batch = RecordBatch::try_new(
            explain.schema.inner().clone(),
            vec![
                Arc::new(StringArray::from(vec!["logical_plan", "stages"])),
                Arc::new(StringArray::from(vec![
                    explain.plan.display_indent().to_string(),
                    dag.display(),
                ])),
            ],
        )?;
        let stream = futures::stream::iter(vec![Ok(batch)]);
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            explain.schema.inner().clone(),
            stream,
        )))
    }

    /// Runs every statement of a script and returns the rows of the last one that has rows.
    pub async fn run_script(&mut self, sql: &str) -> Result<Vec<RecordBatch>, SqlError> {
        let mut last = Vec::new();
        for statement in self.parse(sql)?.statements {
            if let Outcome::Rows(stream) = self.execute(statement).await? {
                last = stream.try_collect().await?;
            }
        }
        Ok(last)
    }

    /// `SET key = value`: validated against Ember's settings, applied to this session.
    pub async fn set(&mut self, key: &str, value: &str) -> Result<(), SqlError> {
        self.set_variable(&SetVariable {
            variable: key.to_string(),
            value: value.to_string(),
        })
        .await
    }

    async fn set_variable(&mut self, set: &SetVariable) -> Result<(), SqlError> {
        if set.variable.starts_with(ENGINE_PASSTHROUGH_PREFIX) {
            let state = self.ctx.state_ref();
            state
                .write()
                .config_mut()
                .options_mut()
                .set(&set.variable, &set.value)?;
            ember_functions::configure_functions(&self.ctx);
            return Ok(self.conf.set(&set.variable, &set.value, ConfSource::Sql)?);
        }
        // Validate first, so an unknown key or bad value is reported as such.
        let mut updated = self.conf.clone();
        updated.set(&set.variable, &set.value, ConfSource::Sql)?;
        if let Some(spec) = lookup(&set.variable)
            && !spec.session
        {
            return Err(SqlError::Unsupported(format!(
                "`{}` is fixed when the application starts and cannot be changed with SET; pass it with --conf",
                spec.name
            )));
        }
        {
            let state = self.ctx.state_ref();
            let mut state = state.write();
            apply_session_settings(&updated, state.config_mut())?;
            if self.runner.is_some() {
                apply_broadcast_threshold(&updated, state.config_mut())?;
            }
        }
        ember_functions::configure_functions(&self.ctx);
        self.conf = updated;
        Ok(())
    }
}

/// Copies the settings a session may change with `SET` into DataFusion's options.
fn apply_session_settings(conf: &EmberConf, config: &mut SessionConfig) -> Result<(), SqlError> {
    let partitions = conf
        .get_usize("spark.sql.shuffle.partitions")
        .unwrap_or_else(|| conf.master().threads());
    let options = config.options_mut();
    options.set(
        "datafusion.execution.target_partitions",
        &partitions.to_string(),
    )?;
    if let Some(batch_size) = conf.get("ember.sql.batchSize") {
        options.set("datafusion.execution.batch_size", batch_size)?;
    }
    if let Some(zone) = conf.get("spark.sql.session.timeZone") {
        options.set("datafusion.execution.time_zone", zone)?;
    }
    if let Some(policy) = conf.get("spark.sql.mapKeyDedupPolicy") {
        options.set("datafusion.spark.map_key_dedup_policy", policy)?;
    }
    Ok(())
}

/// Across processes a shuffle costs far more than within one, so a cluster broadcasts join
/// sides far larger than DataFusion's in-process defaults allow, unless the user set
/// DataFusion's own thresholds directly.
fn apply_broadcast_threshold(conf: &EmberConf, config: &mut SessionConfig) -> Result<(), SqlError> {
    let explicit: Vec<&str> = conf.engine_options().map(|(k, _)| k).collect();
    let (bytes, rows) = match conf.get_size_or_off(BROADCAST_THRESHOLD) {
        // Row estimates stand in when byte estimates are missing: about 10 bytes a row.
        Some(bytes) => (bytes, bytes / 10),
        None => (0, 0),
    };
    for (key, value) in [(BROADCAST_BYTES, bytes), (BROADCAST_ROWS, rows)] {
        if !explicit.contains(&key) {
            config.options_mut().set(key, &value.to_string())?;
        }
    }
    Ok(())
}

/// The extension of a single file (so a file named without the usual extension still reads),
/// or `None` for a directory, where the format's usual extension selects the files.
fn file_extension(location: &str) -> Option<String> {
    let path = std::path::Path::new(location);
    if !path.is_file() {
        return None;
    }
    Some(
        path.extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default(),
    )
}
