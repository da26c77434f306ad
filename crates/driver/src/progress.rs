//! Spark-style console progress, one line per running stage on stderr:
//! `[Stage 3:=========>          (12 + 2) / 40]` — finished tasks, running tasks, total.

use std::sync::OnceLock;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

fn bars() -> &'static MultiProgress {
    static BARS: OnceLock<MultiProgress> = OnceLock::new();
    BARS.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
}

pub(crate) struct StageProgress {
    bar: Option<ProgressBar>,
    tasks: usize,
}

impl StageProgress {
    /// With `enabled` false (stderr not a terminal), nothing is ever drawn.
    pub fn new(stage: u32, tasks: usize, enabled: bool) -> StageProgress {
        StageProgress {
            bar: enabled.then(|| Self::bar(stage, tasks)),
            tasks,
        }
    }

    fn bar(stage: u32, tasks: usize) -> ProgressBar {
        let bar = ProgressBar::hidden().with_prefix(stage.to_string());
        bar.set_length(tasks as u64);
        bar.set_style(
            ProgressStyle::with_template("[Stage {prefix}:{bar:40} ({pos} + {msg}) / {len}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar
    }

    pub fn update(&mut self, done: usize, running: usize) {
        let Some(bar) = &self.bar else { return };
        if bar.is_hidden() && done < self.tasks {
            // Added to the screen only once the stage has started.
            let added = bars().add(bar.clone());
            self.bar = Some(added);
        }
        if let Some(bar) = &self.bar {
            bar.set_position(done as u64);
            bar.set_message(running.to_string());
            if done >= self.tasks {
                bar.finish_and_clear();
            }
        }
    }
}

impl Drop for StageProgress {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
            bars().remove(&bar);
        }
    }
}
