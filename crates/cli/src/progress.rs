//! A spinner on stderr for queries that run longer than a second: elapsed time and rows so far.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const SHOW_AFTER: Duration = Duration::from_secs(1);

/// Shows progress while alive; clears it on drop, before any result is printed.
pub struct QueryProgress {
    rows: Arc<AtomicU64>,
    bar: Arc<Mutex<Option<ProgressBar>>>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl QueryProgress {
    /// Must be called inside the runtime. With `enabled` false nothing is ever drawn.
    pub fn start(enabled: bool) -> QueryProgress {
        let rows = Arc::new(AtomicU64::new(0));
        let bar: Arc<Mutex<Option<ProgressBar>>> = Arc::new(Mutex::new(None));
        let ticker = enabled.then(|| {
            let (rows, bar) = (rows.clone(), bar.clone());
            tokio::spawn(async move {
                tokio::time::sleep(SHOW_AFTER).await;
                let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
                    .with_elapsed(SHOW_AFTER);
                spinner.set_style(
                    ProgressStyle::with_template("{spinner} running query  {elapsed}  {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                if let Ok(mut slot) = bar.lock() {
                    *slot = Some(spinner.clone());
                }
                loop {
                    spinner.set_message(format!("{} rows", rows.load(Ordering::Relaxed)));
                    spinner.tick();
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        });
        QueryProgress { rows, bar, ticker }
    }

    /// Counts the rows that pass through `stream`.
    pub fn track(&self, stream: SendableRecordBatchStream) -> SendableRecordBatchStream {
        let rows = self.rows.clone();
        let schema = stream.schema();
        let counted = stream.inspect(move |batch| {
            if let Ok(batch) = batch {
                rows.fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
            }
        });
        Box::pin(RecordBatchStreamAdapter::new(schema, counted))
    }
}

impl Drop for QueryProgress {
    fn drop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
        }
        if let Ok(mut slot) = self.bar.lock()
            && let Some(bar) = slot.take()
        {
            bar.finish_and_clear();
        }
    }
}
