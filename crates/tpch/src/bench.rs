//! `ember bench tpch`: each query timed on Ember (on whatever master its session has) and,
//! optionally, on a baseline — a plain DataFusion `SessionContext` with the same partitions, or
//! Ember's own in-process engine — interleaved run by run in one process so that both see the
//! same machine state.

use std::path::Path;
use std::time::{Duration, Instant};

use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use ember_sql::{EmberSession, SqlError};
use futures::TryStreamExt;

use crate::{TABLES, query, table_specs};

pub struct BenchOptions {
    pub queries: Vec<usize>,
    pub runs: usize,
}

/// What Ember is compared with.
pub enum Baseline {
    /// A plain DataFusion session: what Ember adds or costs over the engine it is built on.
    DataFusion(SessionContext),
    /// Ember's in-process engine: what distribution costs.
    Local(Box<EmberSession>),
}

impl Baseline {
    /// A plain DataFusion session over the data in `dir` with `threads` partitions.
    pub async fn datafusion(dir: &Path, threads: usize) -> Result<Baseline, SqlError> {
        let ctx =
            SessionContext::new_with_config(SessionConfig::new().with_target_partitions(threads));
        for (table, _) in TABLES {
            let path = dir.join(table);
            ctx.register_parquet(
                table,
                path.to_string_lossy().as_ref(),
                ParquetReadOptions::default(),
            )
            .await?;
        }
        Ok(Baseline::DataFusion(ctx))
    }

    pub fn name(&self) -> &'static str {
        match self {
            Baseline::DataFusion(_) => "datafusion",
            Baseline::Local(_) => "local",
        }
    }

    async fn run(&mut self, sql: &str) -> Result<usize, SqlError> {
        match self {
            Baseline::DataFusion(ctx) => run_on_datafusion(ctx, sql).await,
            Baseline::Local(session) => Ok(session
                .run_script(sql)
                .await?
                .iter()
                .map(|b| b.num_rows())
                .sum()),
        }
    }
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
    #[error("Q{query}: Ember returned {ember} rows but the baseline returned {baseline}")]
    Mismatch {
        query: usize,
        ember: usize,
        baseline: usize,
    },
}

/// Registers the TPC-H tables written by `generate` in `dir`.
pub async fn register_tables(session: &EmberSession, dir: &Path) -> Result<(), SqlError> {
    for spec in table_specs(dir) {
        session.register_table(&spec).await?;
    }
    Ok(())
}

pub async fn run(
    options: &BenchOptions,
    ember: &mut EmberSession,
    mut baseline: Option<Baseline>,
    mut on_query: impl FnMut(&QueryTiming),
) -> Result<Vec<QueryTiming>, BenchError> {
    let mut timings = Vec::new();
    for &number in &options.queries {
        let sql = query(number).unwrap_or_default();
        let mut ember_times = Vec::new();
        let mut baseline_times = Vec::new();
        let mut rows = 0;
        for run in 0..options.runs.max(1) {
            // Alternate which engine goes first, so neither always meets warm caches.
            let baseline_first = run % 2 == 1;
            if let (true, Some(engine)) = (baseline_first, baseline.as_mut()) {
                baseline_times.push(time_baseline(engine, sql, number).await?.0);
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
            if let (false, Some(engine)) = (baseline_first, baseline.as_mut()) {
                let (elapsed, baseline_rows) = time_baseline(engine, sql, number).await?;
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

async fn time_baseline(
    engine: &mut Baseline,
    sql: &str,
    query: usize,
) -> Result<(Duration, usize), BenchError> {
    let start = Instant::now();
    let rows = engine.run(sql).await.map_err(|source| BenchError::Query {
        query,
        engine: engine.name(),
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
pub fn render(timings: &[QueryTiming], baseline_name: &str) -> String {
    let with_baseline = timings.iter().all(|t| t.baseline.is_some());
    let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
    let mut out = if with_baseline {
        format!(
            "{:<6}{:>8}{:>14}{:>18}{:>8}\n",
            "query",
            "rows",
            "ember ms",
            format!("{baseline_name} ms"),
            "ratio"
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
