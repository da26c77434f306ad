//! `ember bench tpch`: each query timed on Ember's engine and, optionally, on a plain
//! DataFusion `SessionContext` with the same partitions, interleaved run by run in one process
//! so that both see the same machine state.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use ember_config::EmberConf;
use ember_sql::{EmberSession, SqlError};
use futures::TryStreamExt;

use crate::{TABLES, query, table_specs};

pub struct BenchOptions {
    pub data: PathBuf,
    pub queries: Vec<usize>,
    pub runs: usize,
    /// Ember's settings; its master decides the threads both engines get.
    pub conf: EmberConf,
    pub baseline: bool,
}

/// Median times of one query.
pub struct QueryTiming {
    pub query: usize,
    pub rows: usize,
    pub ember: Duration,
    pub baseline: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("Q{query} on {engine}: {source}")]
    Query {
        query: usize,
        engine: &'static str,
        source: SqlError,
    },
    #[error("Q{query}: Ember returned {ember} rows but DataFusion returned {baseline}")]
    Mismatch {
        query: usize,
        ember: usize,
        baseline: usize,
    },
    #[error("{0}")]
    Setup(SqlError),
}

pub async fn run(
    options: &BenchOptions,
    mut on_query: impl FnMut(&QueryTiming),
) -> Result<Vec<QueryTiming>, BenchError> {
    let threads = options.conf.master().threads();
    let mut ember = EmberSession::new(options.conf.clone()).map_err(BenchError::Setup)?;
    for spec in table_specs(&options.data) {
        ember
            .register_table(&spec)
            .await
            .map_err(BenchError::Setup)?;
    }
    let baseline = if options.baseline {
        let ctx =
            SessionContext::new_with_config(SessionConfig::new().with_target_partitions(threads));
        for (table, _) in TABLES {
            let path = options.data.join(table);
            ctx.register_parquet(
                table,
                path.to_string_lossy().as_ref(),
                ParquetReadOptions::default(),
            )
            .await
            .map_err(|e| BenchError::Setup(e.into()))?;
        }
        Some(ctx)
    } else {
        None
    };

    let mut timings = Vec::new();
    for &number in &options.queries {
        let sql = query(number).unwrap_or_default();
        let mut ember_times = Vec::new();
        let mut baseline_times = Vec::new();
        let mut rows = 0;
        for run in 0..options.runs.max(1) {
            // Alternate which engine goes first, so neither always meets warm caches.
            let baseline_first = run % 2 == 1;
            if let (true, Some(ctx)) = (baseline_first, &baseline) {
                baseline_times.push(time_datafusion(ctx, sql, number).await?.0);
            }
            let start = Instant::now();
            rows = ember
                .run_script(sql)
                .await
                .map_err(|source| BenchError::Query {
                    query: number,
                    engine: "Ember",
                    source,
                })?
                .iter()
                .map(|b| b.num_rows())
                .sum();
            ember_times.push(start.elapsed());
            if let (false, Some(ctx)) = (baseline_first, &baseline) {
                let (elapsed, baseline_rows) = time_datafusion(ctx, sql, number).await?;
                baseline_times.push(elapsed);
                if baseline_rows != rows {
                    return Err(BenchError::Mismatch {
                        query: number,
                        ember: rows,
                        baseline: baseline_rows,
                    });
                }
            }
        }
        let timing = QueryTiming {
            query: number,
            rows,
            ember: median(&mut ember_times),
            baseline: baseline.as_ref().map(|_| median(&mut baseline_times)),
        };
        on_query(&timing);
        timings.push(timing);
    }
    Ok(timings)
}

async fn time_datafusion(
    ctx: &SessionContext,
    sql: &str,
    query: usize,
) -> Result<(Duration, usize), BenchError> {
    let start = Instant::now();
    let rows = run_on_datafusion(ctx, sql)
        .await
        .map_err(|source| BenchError::Query {
            query,
            engine: "DataFusion",
            source,
        })?;
    Ok((start.elapsed(), rows))
}

/// Runs a script statement by statement the way a plain DataFusion user would, returning the
/// row count of the last query.
async fn run_on_datafusion(ctx: &SessionContext, sql: &str) -> Result<usize, SqlError> {
    let mut rows = 0;
    for statement in sql.split(';') {
        let code: String = statement
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        let first_word = code
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if first_word.is_empty() {
            continue;
        }
        let batches: Vec<_> = ctx
            .sql(&code)
            .await?
            .execute_stream()
            .await?
            .try_collect()
            .await?;
        if first_word == "select" || first_word == "with" {
            rows = batches.iter().map(|b| b.num_rows()).sum();
        }
    }
    Ok(rows)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

/// The report as an aligned table with a total row.
pub fn render(timings: &[QueryTiming]) -> String {
    let with_baseline = timings.iter().all(|t| t.baseline.is_some());
    let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
    let mut out = if with_baseline {
        format!(
            "{:<6}{:>8}{:>14}{:>18}{:>8}\n",
            "query", "rows", "ember ms", "datafusion ms", "ratio"
        )
    } else {
        format!("{:<6}{:>8}{:>14}\n", "query", "rows", "ember ms")
    };
    let mut total = Duration::ZERO;
    let mut total_baseline = Duration::ZERO;
    for t in timings {
        total += t.ember;
        match t.baseline {
            Some(b) if with_baseline => {
                total_baseline += b;
                out.push_str(&format!(
                    "{:<6}{:>8}{:>14}{:>18}{:>8.3}\n",
                    format!("Q{:02}", t.query),
                    t.rows,
                    ms(t.ember),
                    ms(b),
                    ratio(t.ember, b)
                ));
            }
            _ => out.push_str(&format!(
                "{:<6}{:>8}{:>14}\n",
                format!("Q{:02}", t.query),
                t.rows,
                ms(t.ember)
            )),
        }
    }
    if with_baseline {
        out.push_str(&format!(
            "{:<6}{:>8}{:>14}{:>18}{:>8.3}\n",
            "total",
            "",
            ms(total),
            ms(total_baseline),
            ratio(total, total_baseline)
        ));
    } else {
        out.push_str(&format!("{:<6}{:>8}{:>14}\n", "total", "", ms(total)));
    }
    out
}

fn ratio(ember: Duration, baseline: Duration) -> f64 {
    ember.as_secs_f64() / baseline.as_secs_f64().max(1e-9)
}
