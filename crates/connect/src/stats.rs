//! `df.describe()` and `df.summary()`: statistics per column, as strings, one row per
//! statistic, in Spark's layout.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::display::ArrayFormatter;
use datafusion::common::Column;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{Cast, Expr, LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::lit;

use crate::error::{ConnectResult, SparkError};
use crate::relation::{Planner, batches_plan};

pub async fn describe(
    planner: &Planner,
    input: LogicalPlan,
    columns: &[String],
    statistics: &[&str],
) -> ConnectResult<LogicalPlan> {
    let chosen: Vec<(Column, DataType)> = input
        .schema()
        .iter()
        .filter(|(_, f)| {
            if columns.is_empty() {
                f.data_type().is_numeric()
                    || matches!(
                        f.data_type(),
                        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
                    )
            } else {
                columns.iter().any(|c| c.eq_ignore_ascii_case(f.name()))
            }
        })
        .map(|(q, f)| (Column::new(q.cloned(), f.name()), f.data_type().clone()))
        .collect();
    let mut aggregates = Vec::new();
    for (i, (column, data_type)) in chosen.iter().enumerate() {
        let e = Expr::Column(column.clone());
        let numeric = data_type.is_numeric();
        let as_double = Expr::Cast(Cast::new(Box::new(e.clone()), DataType::Float64));
        for (j, statistic) in statistics.iter().enumerate() {
            let value = match *statistic {
                "count" => agg::count(e.clone()),
                "mean" if numeric => agg::avg(as_double.clone()),
                "stddev" if numeric => agg::stddev(as_double.clone()),
                "min" => agg::min(e.clone()),
                "max" => agg::max(e.clone()),
                p if p.ends_with('%') && numeric => {
                    let fraction: f64 = p.trim_end_matches('%').parse::<f64>().map_err(|_| {
                        SparkError::analysis(
                            "INVALID_STATISTIC",
                            format!("`{p}` is not a statistic"),
                        )
                    })? / 100.0;
                    agg::approx_percentile_cont(
                        as_double.clone().sort(true, false),
                        lit(fraction),
                        None,
                    )
                }
                "mean" | "stddev" => lit(datafusion::scalar::ScalarValue::Utf8(None)),
                p if p.ends_with('%') => lit(datafusion::scalar::ScalarValue::Utf8(None)),
                other => {
                    return Err(SparkError::analysis(
                        "INVALID_STATISTIC",
                        format!("`{other}` is not a statistic summary() knows"),
                    ));
                }
            };
            aggregates.push(
                Expr::Cast(Cast::new(Box::new(value), DataType::Utf8)).alias(format!("s{i}_{j}")),
            );
        }
    }
    let plan = LogicalPlanBuilder::from(input)
        .aggregate(Vec::<Expr>::new(), aggregates)?
        .build()?;
    let batch = crate::stat_functions::collect(planner, plan).await?;
    let options = crate::show::format_options();
    let mut values: Vec<String> = Vec::new();
    if batch.num_rows() > 0 {
        for column in batch.columns() {
            let formatter = ArrayFormatter::try_new(column.as_ref(), &options)?;
            values.push(if column.is_null(0) {
                String::new()
            } else {
                formatter.value(0).to_string()
            });
        }
    }
    let mut fields = vec![Field::new("summary", DataType::Utf8, true)];
    fields.extend(
        chosen
            .iter()
            .map(|(c, _)| Field::new(&c.name, DataType::Utf8, true)),
    );
    let schema = Arc::new(Schema::new(fields));
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(StringArray::from(statistics.to_vec()))];
    for i in 0..chosen.len() {
        let column: Vec<Option<String>> = (0..statistics.len())
            .map(|j| {
                values
                    .get(i * statistics.len() + j)
                    .filter(|v| !v.is_empty())
                    .cloned()
            })
            .collect();
        arrays.push(Arc::new(StringArray::from(column)));
    }
    batches_plan(schema.clone(), vec![RecordBatch::try_new(schema, arrays)?])
}
