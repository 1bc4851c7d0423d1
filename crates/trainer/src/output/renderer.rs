//! What the user sees during training and what lands in `metrics.csv`: a renderer that collects
//! each epoch's final metric values, appends a CSV row, redraws the plot, and prints one line per
//! epoch (loss, top-1, top-5, lr, images/s, ETA). On a terminal it also drives Burn's TUI.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::train::LearnerSummary;
use burn::train::logger::{EvaluationProgressLogger, TrainingProgressLogger};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining,
};

use super::metrics::{EpochRow, append_csv};

/// The renderer handed to burn-train.
pub struct RunRenderer {
    tui: Option<Box<dyn MetricsRenderer>>,
    names: HashMap<MetricId, String>,
    train: HashMap<String, f64>,
    valid: HashMap<String, f64>,
    csv: PathBuf,
    plot: PathBuf,
    rows: Arc<Mutex<Vec<EpochRow>>>,
    total_epochs: usize,
    first_epoch: usize,
    started: Instant,
    epoch_started: Instant,
    split: String,
    split_started: Instant,
    split_total: usize,
    train_items: usize,
    train_seconds: f64,
    last_progress: Instant,
    epoch_images: Arc<AtomicUsize>,
}

impl RunRenderer {
    /// A renderer for epochs `first_epoch..=total_epochs`, appending to `csv` and sharing the
    /// rows (earlier ones included) through `rows`.
    pub fn new(
        tui: Option<Box<dyn MetricsRenderer>>,
        run_dir: &Path,
        rows: Arc<Mutex<Vec<EpochRow>>>,
        first_epoch: usize,
        total_epochs: usize,
    ) -> Self {
        let now = Instant::now();
        Self {
            tui,
            names: HashMap::new(),
            train: HashMap::new(),
            valid: HashMap::new(),
            csv: run_dir.join("metrics.csv"),
            plot: run_dir.join("metrics.png"),
            rows,
            total_epochs,
            first_epoch,
            started: now,
            epoch_started: now,
            split: String::new(),
            split_started: now,
            split_total: 0,
            train_items: 0,
            train_seconds: 0.0,
            last_progress: now,
            epoch_images: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The training images of the last finished epoch, over every device (0 before the first).
    pub fn epoch_images(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.epoch_images)
    }

    fn record(&mut self, state: &MetricState, valid: bool) {
        if let MetricState::Numeric(entry, Some(NumericEntry::Final(value))) = state
            && let Some(name) = self.names.get(&entry.metric_id)
        {
            let map = if valid {
                &mut self.valid
            } else {
                &mut self.train
            };
            map.insert(name.clone(), *value);
        }
    }

    fn finish_epoch(&mut self, epoch: usize) {
        self.epoch_images.store(self.train_items, Ordering::Relaxed);
        let pick = |map: &HashMap<String, f64>, prefix: &str| {
            map.iter()
                .find(|(name, _)| name.starts_with(prefix))
                .map_or(f64::NAN, |(_, v)| *v)
        };
        let row = EpochRow {
            epoch,
            train_loss: pick(&self.train, "Loss"),
            train_top1: pick(&self.train, "Accuracy") / 100.0,
            val_loss: pick(&self.valid, "Loss"),
            val_top1: pick(&self.valid, "Accuracy") / 100.0,
            val_top5: pick(&self.valid, "Top-K") / 100.0,
            lr: pick(&self.train, "Learning Rate"),
            images_per_sec: self.train_items as f64 / self.train_seconds.max(1e-9),
            seconds: self.epoch_started.elapsed().as_secs_f64(),
        };
        let done = (epoch + 1).saturating_sub(self.first_epoch).max(1);
        let eta = self.started.elapsed().as_secs_f64() / done as f64
            * self.total_epochs.saturating_sub(epoch) as f64;
        log::info!(
            "epoch {epoch}/{}  train loss {:.4} top-1 {:.1}%  val loss {:.4} top-1 {:.1}% top-5 {:.1}%  lr {:.2e}  {:.1} img/s  eta {}",
            self.total_epochs,
            row.train_loss,
            row.train_top1 * 100.0,
            row.val_loss,
            row.val_top1 * 100.0,
            row.val_top5 * 100.0,
            row.lr,
            row.images_per_sec,
            format_duration(eta)
        );
        let mut rows = self.rows.lock().unwrap_or_else(|p| p.into_inner());
        rows.retain(|r| r.epoch < epoch);
        rows.push(row.clone());
        if let Err(e) = append_csv(&self.csv, &row) {
            log::warn!("cannot write {}: {e}", self.csv.display());
        }
        if let Err(e) = super::plot::draw(&self.plot, &rows) {
            log::warn!("cannot draw {}: {e}", self.plot.display());
        }
        self.train.clear();
        self.valid.clear();
        self.epoch_started = Instant::now();
    }
}

/// `1h02m`, `3m05s`, `42s`.
pub fn format_duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s:02}s"),
        (h, m, _) => format!("{h}h{m:02}m"),
    }
}

impl MetricsRendererTraining for RunRenderer {
    fn update_train(&mut self, state: MetricState) {
        self.record(&state, false);
        if let Some(tui) = &mut self.tui {
            tui.update_train(state);
        }
    }

    fn update_valid(&mut self, state: MetricState) {
        self.record(&state, true);
        if let Some(tui) = &mut self.tui {
            tui.update_valid(state);
        }
    }

    fn on_train_end(
        &mut self,
        summary: Option<LearnerSummary>,
    ) -> Result<(), Box<dyn core::error::Error>> {
        match &mut self.tui {
            Some(tui) => tui.on_train_end(summary),
            None => Ok(()),
        }
    }
}

impl MetricsRendererEvaluation for RunRenderer {
    fn update_test(&mut self, name: EvaluationName, state: MetricState) {
        if let Some(tui) = &mut self.tui {
            tui.update_test(name, state);
        }
    }
}

impl TrainingProgressLogger for RunRenderer {
    fn start(
        &mut self,
        total_epochs: usize,
        starting_epoch: usize,
        total_items: Option<usize>,
        label: Option<&str>,
    ) {
        if let Some(tui) = &mut self.tui {
            tui.start(total_epochs, starting_epoch, total_items, label);
        }
    }

    fn update_epoch(&mut self, epoch: usize) {
        self.finish_epoch(epoch);
        if let Some(tui) = &mut self.tui {
            tui.update_epoch(epoch);
        }
    }

    fn start_split(&mut self, split: &str, total_items: usize) {
        self.split = split.to_owned();
        self.split_total = total_items;
        self.split_started = Instant::now();
        if let Some(tui) = &mut self.tui {
            tui.start_split(split, total_items);
        }
    }

    fn update_split(&mut self, items_processed: usize) {
        if self.split == "train" {
            self.train_items = items_processed;
        }
        if self.tui.is_none() && self.last_progress.elapsed().as_secs() >= 30 {
            self.last_progress = Instant::now();
            log::info!(
                "  {} {items_processed}/{} images",
                self.split,
                self.split_total
            );
        }
        if let Some(tui) = &mut self.tui {
            tui.update_split(items_processed);
        }
    }

    fn end_split(&mut self) {
        if self.split == "train" {
            self.train_seconds = self.split_started.elapsed().as_secs_f64();
        }
        if let Some(tui) = &mut self.tui {
            tui.end_split();
        }
    }

    fn end(&mut self) {
        if let Some(tui) = &mut self.tui {
            TrainingProgressLogger::end(tui.as_mut());
        }
    }

    fn log_event_training(&mut self, event: String) {
        match &mut self.tui {
            Some(tui) => tui.log_event_training(event),
            None => log::debug!("{event}"),
        }
    }
}

impl EvaluationProgressLogger for RunRenderer {
    fn start_global_progress(&mut self, total_tests: usize) {
        if let Some(tui) = &mut self.tui {
            tui.start_global_progress(total_tests);
        }
    }

    fn start_test(&mut self, name: &str, total_items: usize) {
        if let Some(tui) = &mut self.tui {
            tui.start_test(name, total_items);
        }
    }

    fn update_test_progress(&mut self, items_processed: usize) {
        if let Some(tui) = &mut self.tui {
            tui.update_test_progress(items_processed);
        }
    }

    fn end_test(&mut self) {
        if let Some(tui) = &mut self.tui {
            tui.end_test();
        }
    }

    fn end_global_progress(&mut self) {
        if let Some(tui) = &mut self.tui {
            tui.end_global_progress();
        }
    }

    fn log_event_evaluation(&mut self, event: String) {
        if let Some(tui) = &mut self.tui {
            tui.log_event_evaluation(event);
        }
    }
}

impl MetricsRenderer for RunRenderer {
    fn manual_close(&mut self) {
        if let Some(tui) = &mut self.tui {
            tui.manual_close();
        }
    }

    fn register_metric(&mut self, definition: MetricDefinition) {
        self.names
            .insert(definition.metric_id.clone(), definition.name.to_string());
        if let Some(tui) = &mut self.tui {
            tui.register_metric(definition);
        }
    }
}
