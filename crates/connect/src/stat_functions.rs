//! `df.stat`: `cov`, `corr`, `crosstab`, `freqItems`, `approxQuantile`, `sampleBy`, and
//! `df.tail`, in the shapes PySpark reads back.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, ListArray, RecordBatch, new_empty_array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema};
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{Case, Cast, Expr, LogicalPlan, LogicalPlanBuilder, col};
use datafusion::prelude::lit;
use datafusion::scalar::ScalarValue;
use futures::TryStreamExt;
use spark_connect_proto::{StatApproxQuantile, StatCrosstab, StatFreqItems, StatSampleBy};

use crate::error::{ConnectResult, SparkError};
use crate::literal;
use crate::relation::{Planner, batches_plan};

fn double(e: Expr) -> Expr {
    Expr::Cast(Cast::new(Box::new(e), DataType::Float64))
}

fn text(e: Expr) -> Expr {
    Expr::Cast(Cast::new(Box::new(e), DataType::Utf8))
}

/// Runs `plan` where the session runs queries and gathers its rows into one batch.
pub(crate) async fn collect(planner: &Planner, plan: LogicalPlan) -> ConnectResult<RecordBatch> {
    let schema = Arc::new(plan.schema().as_arrow().clone());
    let batches: Vec<RecordBatch> = planner.executor.run(plan).await?.try_collect().await?;
    Ok(concat_batches(&schema, &batches)?)
}

/// `cov` (sample covariance) or `corr` (Pearson) of two columns: one row, one double.
pub fn pairwise(
    planner: &Planner,
    input: LogicalPlan,
    col1: &str,
    col2: &str,
    statistic: &str,
) -> ConnectResult<LogicalPlan> {
    let scope = planner.scope(input.schema());
    let (a, b) = (
        double(scope.column(col1, None)?),
        double(scope.column(col2, None)?),
    );
    let value = match statistic {
        "cov" => agg::covar_samp(a, b),
        _ => agg::corr(a, b),
    };
    Ok(LogicalPlanBuilder::from(input)
        .aggregate(Vec::<Expr>::new(), vec![value.alias(statistic)])?
        .build()?)
}

/// Spark's contingency table: a row per value of `col1` (as text, first column named
/// `col1_col2`), a count column per value of `col2`, zero where a pair never occurs.
pub async fn crosstab(
    planner: &Planner,
    input: LogicalPlan,
    crosstab: &StatCrosstab,
) -> ConnectResult<LogicalPlan> {
    let scope = planner.scope(input.schema());
    let null_as_text =
        |e: Expr| datafusion::functions::expr_fn::coalesce(vec![text(e), lit("null")]);
    let first = null_as_text(scope.column(&crosstab.col1, None)?);
    let second = null_as_text(scope.column(&crosstab.col2, None)?);
    let distinct = LogicalPlanBuilder::from(input.clone())
        .project(vec![second.clone().alias("value")])?
        .distinct()?
        .sort(vec![col("value").sort(true, true)])?
        .build()?;
    let values = cast(collect(planner, distinct).await?.column(0), &DataType::Utf8)?;
    let values = values
        .as_string::<i32>()
        .iter()
        .flatten()
        .map(str::to_string)
        .collect::<Vec<_>>();
    let counts = values
        .iter()
        .map(|value| {
            let hit = Expr::Case(Case::new(
                None,
                vec![(
                    Box::new(second.clone().eq(lit(value.as_str()))),
                    Box::new(lit(1i64)),
                )],
                Some(Box::new(lit(0i64))),
            ));
            agg::sum(hit).alias(value.as_str())
        })
        .collect::<Vec<_>>();
    let key = format!("{}_{}", crosstab.col1, crosstab.col2);
    Ok(LogicalPlanBuilder::from(input)
        .aggregate(vec![first.alias(key.as_str())], counts)?
        .build()?)
}

/// Items of each column seen in more than `support` of the rows: one row, one array column
/// per input column (`col_freqItems`). Exact, so it never lists an item Spark's sketch would
/// leave out.
pub async fn freq_items(
    planner: &Planner,
    input: LogicalPlan,
    freq: &StatFreqItems,
) -> ConnectResult<LogicalPlan> {
    let support = freq.support.unwrap_or(0.01);
    if !(1e-4..=1.0).contains(&support) {
        return Err(SparkError::analysis(
            "INVALID_PARAMETER_VALUE",
            format!("support ({support}) must be between 1e-4 and 1"),
        ));
    }
    let total = LogicalPlanBuilder::from(input.clone())
        .aggregate(Vec::<Expr>::new(), vec![agg::count(lit(1)).alias("n")])?
        .build()?;
    let total = match ScalarValue::try_from_array(collect(planner, total).await?.column(0), 0)? {
        ScalarValue::Int64(Some(n)) => n as f64,
        _ => 0.0,
    };
    let scope = planner.scope(input.schema());
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for name in &freq.cols {
        let column = scope.column(name, None)?;
        let frequent = LogicalPlanBuilder::from(input.clone())
            .filter(column.clone().is_not_null())?
            .aggregate(
                vec![column.alias("item")],
                vec![agg::count(lit(1)).alias("n")],
            )?
            .filter(double(col("n")).gt(lit(support * total)))?
            .aggregate(
                Vec::<Expr>::new(),
                vec![agg::array_agg(col("item")).alias("items")],
            )?
            .build()?;
        let items = collect(planner, frequent).await?;
        let array = match items.column(0).data_type() {
            // No frequent item: an empty list, as Spark gives, not a null.
            DataType::List(item) if items.column(0).is_null(0) => Arc::new(ListArray::new(
                item.clone(),
                OffsetBuffer::from_lengths([0]),
                new_empty_array(item.data_type()),
                None,
            )),
            _ => items.column(0).clone(),
        };
        fields.push(Field::new(
            format!("{name}_freqItems"),
            array.data_type().clone(),
            true,
        ));
        arrays.push(array);
    }
    let schema = Arc::new(Schema::new(fields));
    batches_plan(schema.clone(), vec![RecordBatch::try_new(schema, arrays)?])
}

/// Quantiles of each column: one row, one column holding an array (per column) of arrays (per
/// probability). A relative error of 0 is exact, as in Spark: the value at rank
/// `ceil(p * n)`; otherwise DataFusion's t-digest answers within the error.
pub async fn approx_quantile(
    planner: &Planner,
    input: LogicalPlan,
    quantile: &StatApproxQuantile,
) -> ConnectResult<LogicalPlan> {
    if quantile.relative_error < 0.0 {
        return Err(SparkError::analysis(
            "INVALID_PARAMETER_VALUE",
            format!(
                "relativeError ({}) must be at least 0",
                quantile.relative_error
            ),
        ));
    }
    let scope = planner.scope(input.schema());
    let mut per_column: Vec<Vec<f64>> = Vec::new();
    for name in &quantile.cols {
        let column = double(scope.column(name, None)?);
        let plan = LogicalPlanBuilder::from(input.clone()).filter(
            column
                .clone()
                .is_not_null()
                .and(column.clone().eq(column.clone())),
        )?;
        let values = if quantile.relative_error == 0.0 {
            let sorted = plan
                .project(vec![column.alias("v")])?
                .sort(vec![col("v").sort(true, false)])?
                .build()?;
            let batch = collect(planner, sorted).await?;
            let values = cast(batch.column(0), &DataType::Float64)?
                .as_primitive::<Float64Type>()
                .values()
                .to_vec();
            quantile
                .probabilities
                .iter()
                .filter_map(|p| {
                    let n = values.len();
                    let rank = ((p * n as f64).ceil() as usize).clamp(1, n.max(1));
                    values.get(rank - 1).copied()
                })
                .collect()
        } else {
            let aggregates = quantile
                .probabilities
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    agg::approx_percentile_cont(column.clone().sort(true, false), lit(*p), None)
                        .alias(format!("q{i}"))
                })
                .collect::<Vec<_>>();
            let batch = collect(
                planner,
                plan.aggregate(Vec::<Expr>::new(), aggregates)?.build()?,
            )
            .await?;
            (0..batch.num_columns())
                .filter_map(|i| match ScalarValue::try_from_array(batch.column(i), 0) {
                    Ok(ScalarValue::Float64(Some(v))) => Some(v),
                    _ => None,
                })
                .collect()
        };
        per_column.push(values);
    }
    let inner_field = Arc::new(Field::new_list_field(DataType::Float64, true));
    let inner = ListArray::new(
        inner_field.clone(),
        OffsetBuffer::from_lengths(per_column.iter().map(Vec::len)),
        Arc::new(Float64Array::from(per_column.concat())),
        None,
    );
    let outer_field = Arc::new(Field::new_list_field(DataType::List(inner_field), true));
    let outer = ListArray::new(
        outer_field.clone(),
        OffsetBuffer::from_lengths([inner.len()]),
        Arc::new(inner),
        None,
    );
    let schema = Arc::new(Schema::new(vec![Field::new(
        "approx_quantile",
        DataType::List(outer_field),
        true,
    )]));
    batches_plan(
        schema.clone(),
        vec![RecordBatch::try_new(schema, vec![Arc::new(outer)])?],
    )
}

/// Stratified sampling: each row is kept with its stratum's fraction (0 for strata not named).
pub fn sample_by(
    planner: &Planner,
    input: LogicalPlan,
    sample: &StatSampleBy,
) -> ConnectResult<LogicalPlan> {
    let scope = planner.scope(input.schema());
    let stratum = scope.expr(
        sample
            .col
            .as_ref()
            .ok_or_else(|| SparkError::invalid_plan("sampleBy without a column"))?,
    )?;
    let mut branches = Vec::new();
    for fraction in &sample.fractions {
        if !(0.0..=1.0).contains(&fraction.fraction) {
            return Err(SparkError::analysis(
                "INVALID_PARAMETER_VALUE",
                format!("fraction ({}) must be between 0 and 1", fraction.fraction),
            ));
        }
        let value = fraction
            .stratum
            .as_ref()
            .ok_or_else(|| SparkError::invalid_plan("sampleBy fraction without a stratum"))?;
        let value = literal::to_scalar(value, &planner.time_zone)?;
        branches.push((
            Box::new(stratum.clone().eq(lit(value))),
            Box::new(lit(fraction.fraction)),
        ));
    }
    if branches.is_empty() {
        return Ok(LogicalPlanBuilder::from(input)
            .filter(lit(false))?
            .build()?);
    }
    let keep = Expr::Case(Case::new(None, branches, Some(Box::new(lit(0.0)))));
    let random = datafusion::functions::expr_fn::random();
    Ok(LogicalPlanBuilder::from(input)
        .filter(random.lt(keep))?
        .build()?)
}

/// The last `limit` rows, in order. The input runs now (PySpark collects a tail at once);
/// only the batches that may hold the last rows are kept while it streams.
pub async fn tail(planner: &Planner, input: LogicalPlan, limit: i32) -> ConnectResult<LogicalPlan> {
    let limit = usize::try_from(limit).map_err(|_| {
        SparkError::analysis(
            "INVALID_LIMIT_LIKE_EXPRESSION",
            format!("tail({limit}) needs a limit of at least 0"),
        )
    })?;
    let schema = Arc::new(input.schema().as_arrow().clone());
    let mut stream = planner.executor.run(input).await?;
    let mut kept: std::collections::VecDeque<RecordBatch> = Default::default();
    let mut kept_rows = 0;
    while let Some(batch) = stream.try_next().await? {
        kept_rows += batch.num_rows();
        kept.push_back(batch);
        while kept
            .front()
            .is_some_and(|first| kept_rows - first.num_rows() >= limit)
        {
            kept_rows -= kept.pop_front().map_or(0, |b| b.num_rows());
        }
    }
    let all = concat_batches(&schema, kept.iter())?;
    let start = all.num_rows().saturating_sub(limit);
    let last = all.slice(start, all.num_rows() - start);
    batches_plan(schema, vec![last])
}
