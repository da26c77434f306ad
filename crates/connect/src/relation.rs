//! Spark Connect relations as DataFusion logical plans. The planner walks the relation tree
//! bottom-up, resolving each node's expressions against its input's schema with Spark's
//! rules, and remembers the qualifier each DataFrame's columns carry so `df["col"]` finds
//! them across joins.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema, JoinType, TableReference};
use datafusion::dataframe::DataFrame;
use datafusion::datasource::provider_as_source;
use datafusion::execution::SessionState;
use datafusion::logical_expr::expr::Sort;
use datafusion::logical_expr::{
    Cast, Expr, ExprFunctionExt, GroupingSet, LogicalPlan, LogicalPlanBuilder,
};
use datafusion::prelude::{SessionContext, lit};
use datafusion::scalar::ScalarValue;
use futures::future::BoxFuture;
use spark_connect_proto::aggregate::GroupType;
use spark_connect_proto::join::JoinType as SparkJoin;
use spark_connect_proto::read::ReadType;
use spark_connect_proto::relation::RelType;
use spark_connect_proto::set_operation::SetOpType;
use spark_connect_proto::{Expression, Relation};

use crate::error::{ConnectResult, SparkError};
use crate::expr::Scope;
use crate::generator::{Generator, Generators};
use crate::naming::spark_name;
use crate::{literal, show, stat_functions, types};
use ember_sql::PlanExecutor;
use ember_sql::SharedTables;

/// Plans the relations of one request.
pub struct Planner {
    pub ctx: SessionContext,
    pub state: SessionState,
    pub time_zone: String,
    /// Qualifier of each DataFrame's columns, by plan id (see `Scope::plans`).
    pub plans: HashMap<i64, TableReference>,
    /// Runs plans where the session runs them (for `show`, `describe`, pivot values).
    pub executor: PlanExecutor,
    pub tables: Arc<SharedTables>,
    /// Where managed tables live.
    pub warehouse: std::path::PathBuf,
}

impl Planner {
    pub fn new(
        ctx: SessionContext,
        time_zone: String,
        executor: PlanExecutor,
        tables: Arc<SharedTables>,
        warehouse: std::path::PathBuf,
    ) -> Planner {
        let state = ctx.state();
        Planner {
            ctx,
            state,
            time_zone,
            plans: HashMap::new(),
            executor,
            tables,
            warehouse,
        }
    }

    fn frame(&self, plan: LogicalPlan) -> DataFrame {
        DataFrame::new(self.state.clone(), plan)
    }

    pub(crate) fn scope<'a>(&'a self, schema: &'a DFSchema) -> Scope<'a> {
        Scope {
            schema,
            state: &self.state,
            time_zone: &self.time_zone,
            plans: &self.plans,
            lambda_variables: Default::default(),
        }
    }

    fn input<'a>(
        &'a mut self,
        input: Option<&'a Relation>,
    ) -> BoxFuture<'a, ConnectResult<LogicalPlan>> {
        Box::pin(async move {
            match input {
                Some(relation) => self.plan(relation).await,
                None => Err(SparkError::invalid_plan("a relation is missing its input")),
            }
        })
    }

    /// The logical plan of `relation`.
    pub fn plan<'a>(
        &'a mut self,
        relation: &'a Relation,
    ) -> BoxFuture<'a, ConnectResult<LogicalPlan>> {
        Box::pin(async move {
            let Some(rel_type) = &relation.rel_type else {
                return Err(SparkError::invalid_plan("a relation without a kind"));
            };
            let plan = self.plan_kind(rel_type).await?;
            Ok(plan)
        })
    }

    async fn plan_kind(&mut self, rel_type: &RelType) -> ConnectResult<LogicalPlan> {
        match rel_type {
            RelType::Read(read) => self.read(read).await,
            RelType::Project(project) => {
                let input = match project.input.as_deref() {
                    Some(input) => self.plan(input).await?,
                    None => LogicalPlanBuilder::empty(true).build()?,
                };
                self.project(input, &project.expressions)
            }
            RelType::Filter(filter) => {
                let input = self.input(filter.input.as_deref()).await?;
                let Some(condition) = filter.condition.as_ref() else {
                    return Err(SparkError::invalid_plan("a filter without a condition"));
                };
                match self.scope(input.schema()).expr(condition) {
                    Ok(condition) => {
                        Ok(self.frame(input).filter(condition)?.into_unoptimized_plan())
                    }
                    Err(e) => self.filter_below_select(input, condition, e),
                }
            }
            RelType::Join(join) => self.join(join).await,
            RelType::SetOp(set) => self.set_op(set).await,
            RelType::Sort(sort) => {
                let input = self.input(sort.input.as_deref()).await?;
                // A sort may name columns the select below it dropped; the builder adds them
                // back for the sort and removes them after.
                let widened = self.with_hidden_columns(&input)?;
                let scope = self.scope(widened.as_ref().map_or(input.schema(), |w| w.schema()));
                let order = sort
                    .order
                    .iter()
                    .map(|o| scope.sort_order(o))
                    .collect::<ConnectResult<Vec<Sort>>>()?;
                Ok(LogicalPlanBuilder::from(input).sort(order)?.build()?)
            }
            RelType::Limit(limit) => {
                let input = self.input(limit.input.as_deref()).await?;
                let n = usize::try_from(limit.limit).unwrap_or(0);
                Ok(LogicalPlanBuilder::from(input).limit(0, Some(n))?.build()?)
            }
            RelType::Offset(offset) => {
                let input = self.input(offset.input.as_deref()).await?;
                let n = usize::try_from(offset.offset).unwrap_or(0);
                Ok(LogicalPlanBuilder::from(input).limit(n, None)?.build()?)
            }
            RelType::Aggregate(aggregate) => self.aggregate(aggregate).await,
            RelType::Sql(sql) => self.sql(sql).await,
            RelType::LocalRelation(local) => self.local_relation(local),
            RelType::Range(range) => self.range(range),
            RelType::SubqueryAlias(alias) => {
                let input = self.input(alias.input.as_deref()).await?;
                Ok(LogicalPlanBuilder::from(input)
                    .alias(alias.alias.as_str())?
                    .build()?)
            }
            // Ember partitions every stage itself (DataFusion's physical planning replaces
            // a requested partitioning by the one each operator needs); the rows are the same.
            RelType::Repartition(r) => self.input(r.input.as_deref()).await,
            RelType::RepartitionByExpression(r) => self.input(r.input.as_deref()).await,
            RelType::Hint(h) => self.input(h.input.as_deref()).await,
            RelType::ToDf(to_df) => {
                let input = self.input(to_df.input.as_deref()).await?;
                let fields = input.schema().columns();
                if fields.len() != to_df.column_names.len() {
                    return Err(SparkError::analysis(
                        "INVALID_COLUMN_COUNT",
                        format!(
                            "toDF needs {} column names, got {}",
                            fields.len(),
                            to_df.column_names.len()
                        ),
                    ));
                }
                let exprs: Vec<Expr> = fields
                    .into_iter()
                    .zip(&to_df.column_names)
                    .map(|(c, name)| Expr::Column(c).alias(name))
                    .collect();
                Ok(LogicalPlanBuilder::from(input).project(exprs)?.build()?)
            }
            RelType::WithColumnsRenamed(rename) => {
                let input = self.input(rename.input.as_deref()).await?;
                let mut renames: Vec<(String, String)> = rename
                    .renames
                    .iter()
                    .map(|r| (r.col_name.clone(), r.new_col_name.clone()))
                    .collect();
                #[allow(deprecated)]
                renames.extend(
                    rename
                        .rename_columns_map
                        .iter()
                        .map(|(a, b)| (a.clone(), b.clone())),
                );
                let exprs: Vec<Expr> = input
                    .schema()
                    .iter()
                    .map(|(q, f)| {
                        let column = Expr::Column(Column::new(q.cloned(), f.name()));
                        match renames
                            .iter()
                            .find(|(from, _)| from.eq_ignore_ascii_case(f.name()))
                        {
                            Some((_, to)) => column.alias(to),
                            None => column,
                        }
                    })
                    .collect();
                Ok(LogicalPlanBuilder::from(input).project(exprs)?.build()?)
            }
            RelType::WithColumns(with) => {
                let input = self.input(with.input.as_deref()).await?;
                let scope = self.scope(input.schema());
                let mut exprs: Vec<(String, Expr)> = input
                    .schema()
                    .iter()
                    .map(|(q, f)| {
                        (
                            f.name().clone(),
                            Expr::Column(Column::new(q.cloned(), f.name())),
                        )
                    })
                    .collect();
                for alias in &with.aliases {
                    let name = alias.name.first().cloned().unwrap_or_default();
                    let value = scope.required(alias.expr.as_deref(), "withColumn")?;
                    let value = match value {
                        // `withMetadata` re-aliases a column with its metadata.
                        Expr::Alias(a) if a.name == name => *a.expr,
                        other => other,
                    };
                    let value =
                        types::alias_with_spark_metadata(value, &name, alias.metadata.as_ref());
                    match exprs
                        .iter_mut()
                        .find(|(n, _)| n.eq_ignore_ascii_case(&name))
                    {
                        Some(slot) => slot.1 = value,
                        None => exprs.push((name, value)),
                    }
                }
                let exprs: Vec<Expr> = exprs.into_iter().map(|(_, e)| e).collect();
                Ok(self.frame(input).select(exprs)?.into_unoptimized_plan())
            }
            RelType::Drop(drop) => {
                let input = self.input(drop.input.as_deref()).await?;
                let scope = self.scope(input.schema());
                let mut dropped: Vec<Column> = Vec::new();
                for e in &drop.columns {
                    if let Ok(Expr::Column(c)) = scope.expr(e) {
                        dropped.push(c);
                    }
                }
                let names: Vec<String> =
                    drop.column_names.iter().map(|n| n.to_lowercase()).collect();
                let exprs: Vec<Expr> = input
                    .schema()
                    .iter()
                    .filter(|(q, f)| {
                        let column = Column::new(q.cloned(), f.name());
                        !dropped.contains(&column) && !names.contains(&f.name().to_lowercase())
                    })
                    .map(|(q, f)| Expr::Column(Column::new(q.cloned(), f.name())))
                    .collect();
                Ok(LogicalPlanBuilder::from(input).project(exprs)?.build()?)
            }
            RelType::Deduplicate(dedup) => {
                let input = self.input(dedup.input.as_deref()).await?;
                if dedup.all_columns_as_keys.unwrap_or(false) || dedup.column_names.is_empty() {
                    return Ok(LogicalPlanBuilder::from(input).distinct()?.build()?);
                }
                let scope = self.scope(input.schema());
                let on = dedup
                    .column_names
                    .iter()
                    .map(|n| scope.column(n, None))
                    .collect::<ConnectResult<Vec<_>>>()?;
                let all: Vec<Expr> = input
                    .schema()
                    .columns()
                    .into_iter()
                    .map(Expr::Column)
                    .collect();
                Ok(self
                    .frame(input)
                    .distinct_on(on, all, None)?
                    .into_unoptimized_plan())
            }
            RelType::Sample(sample) => {
                let input = self.input(sample.input.as_deref()).await?;
                if sample.with_replacement.unwrap_or(false) {
                    return Err(SparkError::unsupported("sampling with replacement"));
                }
                let fraction = sample.upper_bound - sample.lower_bound;
                let keep = datafusion::functions::expr_fn::random().lt(lit(fraction));
                Ok(LogicalPlanBuilder::from(input).filter(keep)?.build()?)
            }
            RelType::ShowString(show) => {
                let input = self.input(show.input.as_deref()).await?;
                let text = show::show_string(self, input, show).await?;
                single_string("show_string", text)
            }
            RelType::FillNa(fill) => {
                let input = self.input(fill.input.as_deref()).await?;
                crate::na::fill(self, input, fill)
            }
            RelType::DropNa(drop) => {
                let input = self.input(drop.input.as_deref()).await?;
                crate::na::drop(self, input, drop)
            }
            RelType::Replace(replace) => {
                let input = self.input(replace.input.as_deref()).await?;
                crate::na::replace(self, input, replace)
            }
            RelType::Unpivot(unpivot) => self.unpivot(unpivot).await,
            RelType::Describe(describe) => {
                let input = self.input(describe.input.as_deref()).await?;
                crate::stats::describe(
                    self,
                    input,
                    &describe.cols,
                    &["count", "mean", "stddev", "min", "max"],
                )
                .await
            }
            RelType::Summary(summary) => {
                let input = self.input(summary.input.as_deref()).await?;
                let statistics: Vec<&str> = if summary.statistics.is_empty() {
                    vec!["count", "mean", "stddev", "min", "25%", "50%", "75%", "max"]
                } else {
                    summary.statistics.iter().map(String::as_str).collect()
                };
                crate::stats::describe(self, input, &[], &statistics).await
            }
            RelType::ToSchema(to) => {
                let input = self.input(to.input.as_deref()).await?;
                let Some(schema) = &to.schema else {
                    return Err(SparkError::invalid_plan("to_schema without a schema"));
                };
                let DataType::Struct(fields) = types::to_arrow(schema, &self.time_zone)? else {
                    return Err(SparkError::invalid_plan("to_schema needs a struct type"));
                };
                let scope = self.scope(input.schema());
                let exprs = fields
                    .iter()
                    .map(|f| {
                        let column = scope.column(f.name(), None)?;
                        Ok(
                            Expr::Cast(Cast::new(Box::new(column), f.data_type().clone()))
                                .alias(f.name()),
                        )
                    })
                    .collect::<ConnectResult<Vec<_>>>()?;
                Ok(LogicalPlanBuilder::from(input).project(exprs)?.build()?)
            }
            RelType::Catalog(catalog) => crate::catalog::plan(self, catalog).await,
            RelType::Tail(tail) => {
                let input = self.input(tail.input.as_deref()).await?;
                stat_functions::tail(self, input, tail.limit).await
            }
            RelType::Cov(cov) => {
                let input = self.input(cov.input.as_deref()).await?;
                stat_functions::pairwise(self, input, &cov.col1, &cov.col2, "cov")
            }
            RelType::Corr(corr) => {
                if corr.method.as_deref().is_some_and(|m| m != "pearson") {
                    return Err(SparkError::unsupported(
                        "correlation methods other than pearson",
                    ));
                }
                let input = self.input(corr.input.as_deref()).await?;
                stat_functions::pairwise(self, input, &corr.col1, &corr.col2, "corr")
            }
            RelType::Crosstab(crosstab) => {
                let input = self.input(crosstab.input.as_deref()).await?;
                stat_functions::crosstab(self, input, crosstab).await
            }
            RelType::FreqItems(freq) => {
                let input = self.input(freq.input.as_deref()).await?;
                stat_functions::freq_items(self, input, freq).await
            }
            RelType::ApproxQuantile(quantile) => {
                let input = self.input(quantile.input.as_deref()).await?;
                stat_functions::approx_quantile(self, input, quantile).await
            }
            RelType::SampleBy(sample) => {
                let input = self.input(sample.input.as_deref()).await?;
                stat_functions::sample_by(self, input, sample)
            }
            other => Err(SparkError::unsupported(format!(
                "the relation {}",
                relation_name(other)
            ))),
        }
    }

    /// The schema of `input` widened by the columns the select at its top dropped, if it is a
    /// select: Spark resolves filters and sorts against those too.
    fn with_hidden_columns(&self, input: &LogicalPlan) -> ConnectResult<Option<LogicalPlan>> {
        let LogicalPlan::Projection(projection) = input else {
            return Ok(None);
        };
        let visible: std::collections::HashSet<String> = input
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().to_lowercase())
            .collect();
        let hidden: Vec<Expr> = projection
            .input
            .schema()
            .columns()
            .into_iter()
            .filter(|c| !visible.contains(&c.name.to_lowercase()))
            .map(Expr::Column)
            .collect();
        if hidden.is_empty() {
            return Ok(None);
        }
        let mut exprs = projection.expr.clone();
        exprs.extend(hidden);
        Ok(Some(
            LogicalPlanBuilder::from(projection.input.as_ref().clone())
                .project(exprs)?
                .build()?,
        ))
    }

    /// `df.select("a").where(col("b") > 1)`: the filter runs before the select drops `b`.
    fn filter_below_select(
        &self,
        input: LogicalPlan,
        condition: &Expression,
        unresolved: SparkError,
    ) -> ConnectResult<LogicalPlan> {
        let Some(widened) = self.with_hidden_columns(&input)? else {
            return Err(unresolved);
        };
        let Ok(condition) = self.scope(widened.schema()).expr(condition) else {
            return Err(unresolved);
        };
        let columns: Vec<Expr> = input
            .schema()
            .columns()
            .into_iter()
            .map(Expr::Column)
            .collect();
        Ok(LogicalPlanBuilder::from(widened)
            .filter(condition)?
            .project(columns)?
            .build()?)
    }

    /// INTERSECT ALL and EXCEPT ALL with Spark's multiplicities: the n-th copy of a row on the
    /// left matches the n-th copy on the right (nulls equal).
    fn set_all(
        &self,
        left: LogicalPlan,
        right: LogicalPlan,
        join_type: JoinType,
    ) -> ConnectResult<LogicalPlan> {
        let numbered = |plan: LogicalPlan, alias: &str| -> ConnectResult<LogicalPlan> {
            let plan = LogicalPlanBuilder::from(plan).alias(alias)?.build()?;
            let columns: Vec<Expr> = plan
                .schema()
                .columns()
                .into_iter()
                .map(Expr::Column)
                .collect();
            let number = datafusion::functions_window::expr_fn::row_number()
                .partition_by(columns.clone())
                .build()?
                .alias("__copy");
            let mut all = columns;
            all.push(number);
            Ok(self.frame(plan).select(all)?.into_unoptimized_plan())
        };
        let left = numbered(left, "__left")?;
        let right = numbered(right, "__right")?;
        let left_columns = left.schema().columns();
        let right_columns = right.schema().columns();
        let output: Vec<Expr> = left_columns[..left_columns.len() - 1]
            .iter()
            .cloned()
            .map(Expr::Column)
            .collect();
        Ok(LogicalPlanBuilder::from(left)
            .join_detailed(
                right,
                join_type,
                (left_columns, right_columns),
                None,
                datafusion::common::NullEquality::NullEqualsNull,
            )?
            .project(output)?
            .build()?)
    }

    /// `select`: expressions with Spark's names, window functions, and explode.
    pub fn project(
        &mut self,
        input: LogicalPlan,
        expressions: &[Expression],
    ) -> ConnectResult<LogicalPlan> {
        let scope = self.scope(input.schema());
        let mut exprs = Vec::new();
        let mut generators = Generators::default();
        for e in expressions {
            if let Some(generator) = Generator::of(e) {
                generators.add(&scope, generator, &mut exprs)?;
                continue;
            }
            let converted = scope.exprs(std::slice::from_ref(e))?;
            if let [call] = converted.as_slice()
                && let Some(columns) = json_tuple_columns(call, &scope)?
            {
                exprs.extend(columns);
                continue;
            }
            if converted.len() == 1 {
                exprs.push(named(
                    converted.into_iter().next().unwrap_or_else(|| lit(0)),
                    e,
                    &scope,
                ));
            } else {
                exprs.extend(converted);
            }
        }
        let exprs = crate::naming::with_unique_names(exprs);
        // Aggregates in a select without groupBy aggregate the whole input, as in Spark.
        let aggregates = datafusion::logical_expr::utils::find_aggregate_exprs(exprs.iter());
        let has_window =
            !datafusion::logical_expr::utils::find_window_exprs(exprs.iter()).is_empty();
        let frame = if !aggregates.is_empty() && !has_window && generators.is_empty() {
            let aggregated = self.frame(input).aggregate(vec![], aggregates)?;
            let over_results = exprs
                .into_iter()
                .map(|e| {
                    e.transform_down(|node| match node {
                        Expr::AggregateFunction(_) => Ok(Transformed::yes(Expr::Column(
                            Column::from_name(node.schema_name().to_string()),
                        ))),
                        other => Ok(Transformed::no(other)),
                    })
                    .map(|t| t.data)
                })
                .collect::<datafusion::error::Result<Vec<_>>>()?;
            aggregated.select(over_results)?
        } else {
            self.frame(input).select(exprs)?
        };
        let frame = generators.unnest(frame)?;
        Ok(frame.into_unoptimized_plan())
    }

    async fn read(&mut self, read: &spark_connect_proto::Read) -> ConnectResult<LogicalPlan> {
        if read.is_streaming {
            return Err(SparkError::unsupported("streaming reads"));
        }
        match &read.read_type {
            Some(ReadType::NamedTable(table)) => {
                let name = crate::expr::split_identifier(&table.unparsed_identifier);
                let reference = match name.as_slice() {
                    [table] => TableReference::bare(table.clone()),
                    [schema, table] => TableReference::partial(schema.clone(), table.clone()),
                    [catalog, schema, table] => {
                        TableReference::full(catalog.clone(), schema.clone(), table.clone())
                    }
                    _ => return Err(SparkError::table_not_found(&table.unparsed_identifier)),
                };
                match self.ctx.table(reference.clone()).await {
                    Ok(frame) => Ok(frame.into_unoptimized_plan()),
                    Err(_) => Err(SparkError::table_not_found(&table.unparsed_identifier)),
                }
            }
            Some(ReadType::DataSource(source)) => crate::sources::read(self, source).await,
            None => Err(SparkError::invalid_plan("a read without a source")),
        }
    }

    async fn join(&mut self, join: &spark_connect_proto::Join) -> ConnectResult<LogicalPlan> {
        let left = self.join_side(join.left.as_deref()).await?;
        let right = self.join_side(join.right.as_deref()).await?;
        let join_type = match SparkJoin::try_from(join.join_type).unwrap_or(SparkJoin::Unspecified)
        {
            SparkJoin::Inner | SparkJoin::Unspecified => JoinType::Inner,
            SparkJoin::FullOuter => JoinType::Full,
            SparkJoin::LeftOuter => JoinType::Left,
            SparkJoin::RightOuter => JoinType::Right,
            SparkJoin::LeftAnti => JoinType::LeftAnti,
            SparkJoin::LeftSemi => JoinType::LeftSemi,
            SparkJoin::Cross => {
                return Ok(LogicalPlanBuilder::from(left).cross_join(right)?.build()?);
            }
        };
        if !join.using_columns.is_empty() {
            return self.join_using(left, right, join_type, &join.using_columns);
        }
        let Some(condition) = &join.join_condition else {
            return Ok(match join_type {
                JoinType::Inner => LogicalPlanBuilder::from(left).cross_join(right)?.build()?,
                other => LogicalPlanBuilder::from(left)
                    .join_on(right, other, vec![lit(true)])?
                    .build()?,
            });
        };
        let combined = left.schema().join(right.schema())?;
        let condition = self.scope(&combined).expr(condition)?;
        Ok(LogicalPlanBuilder::from(left)
            .join_on(right, join_type, vec![condition])?
            .build()?)
    }

    /// One side of a join, its columns qualified by its plan id so `df["col"]` can tell the
    /// sides apart (a user's alias is kept as it is).
    async fn join_side(&mut self, side: Option<&Relation>) -> ConnectResult<LogicalPlan> {
        let Some(side) = side else {
            return Err(SparkError::invalid_plan("a join is missing a side"));
        };
        let plan = self.plan(side).await?;
        let Some(id) = side.common.as_ref().and_then(|c| c.plan_id) else {
            return Ok(plan);
        };
        if let LogicalPlan::SubqueryAlias(alias) = &plan {
            self.plans.entry(id).or_insert_with(|| alias.alias.clone());
            return Ok(plan);
        }
        let names = plan
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().to_lowercase())
            .collect::<std::collections::HashSet<_>>();
        if names.len() != plan.schema().fields().len() {
            return Ok(plan);
        }
        let qualifier = format!("__df{id}");
        self.plans
            .insert(id, TableReference::bare(qualifier.clone()));
        Ok(LogicalPlanBuilder::from(plan).alias(qualifier)?.build()?)
    }

    /// `join(other, ["k"])`: keys once (coalesced for full outer joins), then the other
    /// columns of each side, as Spark shows them.
    fn join_using(
        &mut self,
        left: LogicalPlan,
        right: LogicalPlan,
        join_type: JoinType,
        keys: &[String],
    ) -> ConnectResult<LogicalPlan> {
        let left_scope = self.scope(left.schema());
        let right_scope = self.scope(right.schema());
        let mut left_keys = Vec::new();
        let mut right_keys = Vec::new();
        for key in keys {
            let Expr::Column(l) = left_scope.column(key, None)? else {
                return Err(SparkError::unresolved_column(key, &[]));
            };
            let Expr::Column(r) = right_scope.column(key, None)? else {
                return Err(SparkError::unresolved_column(key, &[]));
            };
            left_keys.push(l);
            right_keys.push(r);
        }
        let left_columns = left.schema().columns();
        let right_columns = right.schema().columns();
        let joined = LogicalPlanBuilder::from(left)
            .join(
                right,
                join_type,
                (left_keys.clone(), right_keys.clone()),
                None,
            )?
            .build()?;
        if matches!(join_type, JoinType::LeftSemi | JoinType::LeftAnti) {
            return Ok(joined);
        }
        let mut exprs = Vec::new();
        for (l, r) in left_keys.iter().zip(&right_keys) {
            let key = match join_type {
                JoinType::Full => datafusion::functions::expr_fn::coalesce(vec![
                    Expr::Column(l.clone()),
                    Expr::Column(r.clone()),
                ]),
                JoinType::Right => Expr::Column(r.clone()),
                _ => Expr::Column(l.clone()),
            };
            exprs.push(key.alias(&l.name));
        }
        exprs.extend(
            left_columns
                .into_iter()
                .filter(|c| !left_keys.contains(c))
                .map(Expr::Column),
        );
        exprs.extend(
            right_columns
                .into_iter()
                .filter(|c| !right_keys.contains(c))
                .map(Expr::Column),
        );
        Ok(LogicalPlanBuilder::from(joined).project(exprs)?.build()?)
    }

    async fn set_op(
        &mut self,
        set: &spark_connect_proto::SetOperation,
    ) -> ConnectResult<LogicalPlan> {
        let left = self.input(set.left_input.as_deref()).await?;
        let right = self.input(set.right_input.as_deref()).await?;
        let all = set.is_all.unwrap_or(false);
        match SetOpType::try_from(set.set_op_type).unwrap_or(SetOpType::Unspecified) {
            SetOpType::Union if set.by_name.unwrap_or(false) => {
                let frame = self.frame(left);
                let other = self.frame(right);
                let result = if all {
                    frame.union_by_name(other)?
                } else {
                    frame.union_by_name_distinct(other)?
                };
                Ok(result.into_unoptimized_plan())
            }
            SetOpType::Union => {
                check_same_width(&left, &right, "UNION")?;
                let builder = LogicalPlanBuilder::from(left);
                Ok(if all {
                    builder.union(right)?.build()?
                } else {
                    builder.union_distinct(right)?.build()?
                })
            }
            SetOpType::Intersect => {
                check_same_width(&left, &right, "INTERSECT")?;
                if all {
                    return self.set_all(left, right, JoinType::LeftSemi);
                }
                Ok(LogicalPlanBuilder::intersect(left, right, false)?)
            }
            SetOpType::Except => {
                check_same_width(&left, &right, "EXCEPT")?;
                if all {
                    return self.set_all(left, right, JoinType::LeftAnti);
                }
                Ok(LogicalPlanBuilder::except(left, right, false)?)
            }
            SetOpType::Unspecified => {
                Err(SparkError::invalid_plan("a set operation without a kind"))
            }
        }
    }

    async fn aggregate(
        &mut self,
        aggregate: &spark_connect_proto::Aggregate,
    ) -> ConnectResult<LogicalPlan> {
        let input = self.input(aggregate.input.as_deref()).await?;
        let scope = self.scope(input.schema());
        let groups = aggregate
            .grouping_expressions
            .iter()
            .map(|e| Ok(named(scope.expr(e)?, e, &scope)))
            .collect::<ConnectResult<Vec<_>>>()?;
        let group_type = GroupType::try_from(aggregate.group_type).unwrap_or(GroupType::Groupby);
        let aggregates = aggregate
            .aggregate_expressions
            .iter()
            .map(|e| Ok(named(scope.expr(e)?, e, &scope)))
            .collect::<ConnectResult<Vec<_>>>()?;
        let aggregates = with_grouping_columns(aggregates, &strip_aliases(groups.clone()))?;
        let group_exprs = match group_type {
            GroupType::Rollup => vec![Expr::GroupingSet(GroupingSet::Rollup(strip_aliases(
                groups.clone(),
            )))],
            GroupType::Cube => vec![Expr::GroupingSet(GroupingSet::Cube(strip_aliases(
                groups.clone(),
            )))],
            GroupType::GroupingSets => {
                let sets = aggregate
                    .grouping_sets
                    .iter()
                    .map(|set| {
                        set.grouping_set
                            .iter()
                            .map(|e| scope.expr(e))
                            .collect::<ConnectResult<Vec<_>>>()
                    })
                    .collect::<ConnectResult<Vec<_>>>()?;
                vec![Expr::GroupingSet(GroupingSet::GroupingSets(sets))]
            }
            GroupType::Pivot => {
                let Some(pivot) = &aggregate.pivot else {
                    return Err(SparkError::invalid_plan("a pivot without its column"));
                };
                let column = scope.required(pivot.col.as_ref(), "pivot")?;
                let values = if pivot.values.is_empty() {
                    self.distinct_values(&input, &column).await?
                } else {
                    pivot
                        .values
                        .iter()
                        .map(|v| literal::to_scalar(v, &self.time_zone))
                        .collect::<ConnectResult<Vec<_>>>()?
                };
                let mut pivoted = Vec::new();
                for value in &values {
                    for (e, converted) in aggregate.aggregate_expressions.iter().zip(&aggregates) {
                        let inner = match converted {
                            Expr::Alias(a) => (*a.expr).clone(),
                            other => other.clone(),
                        };
                        let Expr::AggregateFunction(_) = &inner else {
                            return Err(SparkError::analysis(
                                "PIVOT_NEEDS_AGGREGATE",
                                "pivot needs aggregate functions",
                            ));
                        };
                        let filtered = inner
                            .filter(column.clone().eq(lit(value.clone())))
                            .build()?;
                        let shown = value_name(value);
                        let name = if aggregates.len() == 1 {
                            shown
                        } else {
                            format!("{shown}_{}", spark_name(e))
                        };
                        pivoted.push(filtered.alias(name));
                    }
                }
                return Ok(self
                    .frame(input)
                    .aggregate(groups, pivoted)?
                    .into_unoptimized_plan());
            }
            _ => groups,
        };
        Ok(self
            .frame(input)
            .aggregate(group_exprs, aggregates)?
            .into_unoptimized_plan())
    }

    /// The distinct values of `column`, sorted: a pivot without listed values pivots on them.
    async fn distinct_values(
        &self,
        input: &LogicalPlan,
        column: &Expr,
    ) -> ConnectResult<Vec<ScalarValue>> {
        let frame = self
            .frame(input.clone())
            .select(vec![column.clone().alias("v")])?
            .distinct()?
            .sort(vec![datafusion::prelude::col("v").sort(true, true)])?;
        let batches = frame.collect().await?;
        let mut values = Vec::new();
        for batch in batches {
            for row in 0..batch.num_rows() {
                values.push(ScalarValue::try_from_array(batch.column(0), row)?);
            }
        }
        Ok(values)
    }

    async fn sql(&mut self, sql: &spark_connect_proto::Sql) -> ConnectResult<LogicalPlan> {
        let (text, params) = crate::sql::bind(self, sql)?;
        let text = ember_sql::rewrite_typed_literals(&text);
        let dialect = self.state.config().options().sql_parser.dialect;
        let mut statement = self.state.sql_to_statement(&text, &dialect)?;
        crate::sql_naming::name_projections(&mut statement);
        ember_sql::rewrite_spark_sql(&mut statement);
        let plan =
            ember_sql::spark_integer_literals(self.state.statement_to_plan(statement).await?)?;
        Ok(match params {
            Some(params) => plan.with_param_values(params)?,
            None => plan,
        })
    }

    fn local_relation(
        &self,
        local: &spark_connect_proto::LocalRelation,
    ) -> ConnectResult<LogicalPlan> {
        let schema = match &local.schema {
            Some(text) if !text.trim().is_empty() => {
                Some(types::parse_schema(text, &self.time_zone)?)
            }
            _ => None,
        };
        let (arrow_schema, batches) = match &local.data {
            Some(data) if !data.is_empty() => {
                let reader = datafusion::arrow::ipc::reader::StreamReader::try_new(
                    std::io::Cursor::new(data.to_vec()),
                    None,
                )?;
                let arrow_schema = reader.schema();
                let batches = reader.collect::<Result<Vec<_>, _>>()?;
                (arrow_schema, batches)
            }
            _ => (
                Arc::new(schema.clone().unwrap_or_else(Schema::empty)),
                Vec::new(),
            ),
        };
        let mut plan = LogicalPlanBuilder::scan(
            "local",
            provider_as_source(Arc::new(datafusion::datasource::MemTable::try_new(
                arrow_schema.clone(),
                vec![batches],
            )?)),
            None,
        )?
        .build()?;
        // The declared schema names and types the columns.
        // (Only when they differ: an identity projection here trips DataFusion's optimizer
        // on struct field access.)
        let differs = |schema: &Schema| {
            schema
                .fields()
                .iter()
                .zip(arrow_schema.fields())
                .any(|(want, have)| {
                    want.name() != have.name() || want.data_type() != have.data_type()
                })
        };
        if let Some(schema) = schema
            && schema.fields().len() == arrow_schema.fields().len()
            && differs(&schema)
        {
            let exprs: Vec<Expr> = plan
                .schema()
                .columns()
                .into_iter()
                .zip(schema.fields())
                .map(|(c, f)| {
                    let column = Expr::Column(c);
                    let value = if arrow_schema
                        .field_with_name(f.name())
                        .is_ok_and(|a| a.data_type() == f.data_type())
                    {
                        column
                    } else {
                        Expr::Cast(Cast::new(Box::new(column), f.data_type().clone()))
                    };
                    value.alias(f.name())
                })
                .collect();
            plan = LogicalPlanBuilder::from(plan).project(exprs)?.build()?;
        }
        Ok(plan)
    }

    /// `spark.range(start, end, step, numPartitions)`: with `numPartitions`, Spark's slices
    /// (contiguous runs of nearly equal length), one partition each.
    fn range(&self, range: &spark_connect_proto::Range) -> ConnectResult<LogicalPlan> {
        let start = range.start.unwrap_or(0);
        let step = if range.step == 0 { 1 } else { range.step };
        let slices = range.num_partitions.unwrap_or(1).max(1) as i128;
        if slices == 1 {
            return self.range_slice(start, range.end, step);
        }
        let span = i128::from(range.end) - i128::from(start);
        let step_wide = i128::from(step);
        let count = if (span > 0) == (step_wide > 0) && span != 0 {
            (span.abs() + step_wide.abs() - 1) / step_wide.abs()
        } else {
            0
        };
        let bound = |i: i128| -> i64 {
            let value = i128::from(start) + (i * count / slices) * step_wide;
            i64::try_from(value).unwrap_or(if step > 0 { i64::MAX } else { i64::MIN })
        };
        let mut plans = (0..slices).map(|i| self.range_slice(bound(i), bound(i + 1), step));
        let mut union = match plans.next() {
            Some(first) => LogicalPlanBuilder::from(first?),
            None => return self.range_slice(start, start, step),
        };
        for plan in plans {
            union = union.union(plan?)?;
        }
        Ok(union.build()?)
    }

    fn range_slice(&self, start: i64, end: i64, step: i64) -> ConnectResult<LogicalPlan> {
        let function = self
            .state
            .table_functions()
            .get("range")
            .ok_or_else(|| SparkError::unsupported("range()"))?;
        let args = [lit(start), lit(end), lit(step)];
        let provider = function.create_table_provider_with_args(
            datafusion::catalog::TableFunctionArgs::new(&args, &self.state),
        )?;
        let plan =
            LogicalPlanBuilder::scan("range", provider_as_source(provider), None)?.build()?;
        let value = plan
            .schema()
            .columns()
            .into_iter()
            .next()
            .ok_or_else(|| SparkError::unsupported("range()"))?;
        Ok(LogicalPlanBuilder::from(plan)
            .project(vec![Expr::Column(value).alias("id")])?
            .build()?)
    }

    async fn unpivot(
        &mut self,
        unpivot: &spark_connect_proto::Unpivot,
    ) -> ConnectResult<LogicalPlan> {
        let input = self.input(unpivot.input.as_deref()).await?;
        let scope = self.scope(input.schema());
        let ids = unpivot
            .ids
            .iter()
            .map(|e| Ok(named(scope.expr(e)?, e, &scope)))
            .collect::<ConnectResult<Vec<_>>>()?;
        let values: Vec<(String, Expr)> = match &unpivot.values {
            Some(values) if !values.values.is_empty() => values
                .values
                .iter()
                .map(|e| Ok((spark_name(e), scope.expr(e)?)))
                .collect::<ConnectResult<_>>()?,
            _ => {
                let id_names: Vec<String> =
                    ids.iter().map(|e| e.schema_name().to_string()).collect();
                input
                    .schema()
                    .iter()
                    .filter(|(_, f)| !id_names.iter().any(|n| n.ends_with(f.name().as_str())))
                    .map(|(q, f)| {
                        (
                            f.name().clone(),
                            Expr::Column(Column::new(q.cloned(), f.name())),
                        )
                    })
                    .collect()
            }
        };
        if values.is_empty() {
            return Err(SparkError::analysis(
                "UNPIVOT_REQUIRES_VALUE_COLUMNS",
                "[UNPIVOT_REQUIRES_VALUE_COLUMNS] At least one value column needs to be specified for UNPIVOT.",
            ));
        }
        // One common type for the values, as Spark requires.
        let types = values
            .iter()
            .map(|(_, e)| scope.type_of(e))
            .collect::<ConnectResult<Vec<_>>>()?;
        let common = types.iter().skip(1).try_fold(types[0].clone(), |acc, t| {
            datafusion::logical_expr::type_coercion::binary::comparison_coercion(&acc, t)
                .ok_or_else(|| SparkError::analysis("UNPIVOT_VALUE_DATA_TYPE_MISMATCH", "[UNPIVOT_VALUE_DATA_TYPE_MISMATCH] Unpivot value columns must share a least common type."))
        })?;
        let mut builder: Option<LogicalPlanBuilder> = None;
        for (name, value) in values {
            let mut exprs = ids.clone();
            exprs.push(lit(name).alias(&unpivot.variable_column_name));
            exprs.push(
                Expr::Cast(Cast::new(Box::new(value), common.clone()))
                    .alias(&unpivot.value_column_name),
            );
            let branch = LogicalPlanBuilder::from(input.clone())
                .project(exprs)?
                .build()?;
            builder = Some(match builder {
                None => LogicalPlanBuilder::from(branch),
                Some(b) => b.union(branch)?,
            });
        }
        Ok(builder
            .ok_or_else(|| SparkError::invalid_plan("unpivot without values"))?
            .build()?)
    }
}

fn check_same_width(left: &LogicalPlan, right: &LogicalPlan, op: &str) -> ConnectResult<()> {
    let (l, r) = (left.schema().fields().len(), right.schema().fields().len());
    if l == r {
        Ok(())
    } else {
        Err(SparkError::analysis(
            "NUM_COLUMNS_MISMATCH",
            format!(
                "[NUM_COLUMNS_MISMATCH] {op} can only be performed on inputs with the same number of columns, but the first input has {l} columns and the second input has {r} columns."
            ),
        ))
    }
}

/// `expr` named as Spark would name it, unless it is a plain column or already named; a `*`
/// among a function's arguments names the scope's columns.
pub fn named(expr: Expr, source: &Expression, scope: &Scope<'_>) -> Expr {
    match &expr {
        Expr::Column(_) | Expr::Alias(_) => expr,
        _ => {
            let name = struct_field_name(&expr, source, scope).unwrap_or_else(|| {
                crate::naming::spark_name_expanding_stars(source, &scope.column_names())
            });
            if name.is_empty() {
                expr
            } else {
                expr.alias(name)
            }
        }
    }
}

/// `json_tuple(json, 'f1', 'f2', …)` in a select list is a generator of one row with columns
/// `c0`, `c1`, …, as in Spark; `datafusion-spark`'s returns them as one struct.
fn json_tuple_columns(call: &Expr, scope: &Scope<'_>) -> ConnectResult<Option<Vec<Expr>>> {
    let Expr::ScalarFunction(function) = call else {
        return Ok(None);
    };
    if function.name() != "json_tuple" {
        return Ok(None);
    }
    let DataType::Struct(fields) = scope.type_of(call)? else {
        return Ok(None);
    };
    Ok(Some(
        fields
            .iter()
            .map(|f| {
                datafusion::functions::core::expr_fn::get_field(call.clone(), f.name().as_str())
                    .alias(f.name())
            })
            .collect(),
    ))
}

/// Spark names a struct's field `s.f` (`df.s.f`, `s.getField("f")`), where a map's value or
/// an array's element is `m[k]`; which it is shows only in the resolved expression.
fn struct_field_name(expr: &Expr, source: &Expression, scope: &Scope<'_>) -> Option<String> {
    use spark_connect_proto::expression::ExprType;
    let Some(ExprType::UnresolvedExtractValue(extract)) = &source.expr_type else {
        return None;
    };
    let Expr::ScalarFunction(call) = expr else {
        return None;
    };
    if call.name() != "get_field" {
        return None;
    }
    let child = call.args.first()?;
    if !matches!(scope.type_of(child), Ok(DataType::Struct(_))) {
        return None;
    }
    let child_name = spark_name(extract.child.as_deref()?);
    let key = spark_name(extract.extraction.as_deref()?);
    Some(format!("{child_name}.{key}"))
}

fn strip_aliases(exprs: Vec<Expr>) -> Vec<Expr> {
    exprs.into_iter().map(|e| e.unalias()).collect()
}

fn value_name(value: &ScalarValue) -> String {
    match value {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::Utf8View(Some(s))
        | ScalarValue::LargeUtf8(Some(s)) => s.clone(),
        v if v.is_null() => "null".into(),
        v => v.to_string(),
    }
}

/// A one-row, one-column relation holding `text`.
pub fn single_string(name: &str, text: String) -> ConnectResult<LogicalPlan> {
    let schema = Arc::new(Schema::new(vec![Field::new(name, DataType::Utf8, false)]));
    let column: ArrayRef = Arc::new(StringArray::from(vec![text]));
    let batch = RecordBatch::try_new(schema.clone(), vec![column])?;
    batches_plan(schema, vec![batch])
}

/// A relation over rows computed here.
pub fn batches_plan(schema: Arc<Schema>, batches: Vec<RecordBatch>) -> ConnectResult<LogicalPlan> {
    let table = datafusion::datasource::MemTable::try_new(schema, vec![batches])?;
    Ok(LogicalPlanBuilder::scan("local", provider_as_source(Arc::new(table)), None)?.build()?)
}

fn relation_name(rel: &RelType) -> String {
    let debug = format!("{rel:?}");
    let name = debug.split('(').next().unwrap_or("unknown");
    name.to_string()
}

/// `grouping()` without arguments (Spark's `grouping_id()`) over the aggregate's grouping
/// columns.
fn with_grouping_columns(aggregates: Vec<Expr>, groups: &[Expr]) -> ConnectResult<Vec<Expr>> {
    aggregates
        .into_iter()
        .map(|e| {
            Ok(e.transform_up(|node| match node {
                Expr::AggregateFunction(mut f)
                    if f.func.name() == "grouping" && f.params.args.is_empty() =>
                {
                    f.params.args = groups.to_vec();
                    Ok(Transformed::yes(Expr::AggregateFunction(f)))
                }
                other => Ok(Transformed::no(other)),
            })?
            .data)
        })
        .collect()
}
