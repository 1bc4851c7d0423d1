//! The end of a training run: the final model file, `skipped.txt`, `summary.json` and the
//! summary printed for the user.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;

use super::launch::Trained;
use super::parallel::Mode;
use super::run_dir::write_json_atomic;
use super::setup::{Loaders, Setup};
use crate::output::metrics::EpochRow;

/// `summary.json`.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// Final validation top-1, a fraction in [0, 1].
    pub top1: f64,
    /// Final validation top-5 (top-k, k = min(5, classes)).
    pub top5: f64,
    /// Final validation loss.
    pub val_loss: f64,
    /// Final training loss.
    pub train_loss: f64,
    /// Epochs completed.
    pub epochs: usize,
    /// Distinct files that could not be decoded (and were skipped).
    pub skipped_files: usize,
    /// The final model.
    pub model: PathBuf,
    /// Wall time of this invocation (a resumed run counts from its restart).
    pub seconds: f64,
    /// Mean training throughput over the epochs of this invocation.
    pub images_per_sec: f64,
    /// Backend that trained it.
    pub device: String,
    /// Every training device (one entry without `--devices`).
    pub devices: Vec<String>,
    /// Float precision (`fp32`, `bf16`, `f16`, `mixed`).
    pub precision: &'static str,
    /// Images per step on each device.
    pub batch_size: usize,
    /// Images per step over all devices.
    pub global_batch_size: usize,
    /// Training images processed per epoch over all devices: the training split's size, less
    /// undecodable files, plus the repeated images that give every device a share of a last
    /// step smaller than the device count.
    pub images_per_epoch: usize,
    /// Epoch the run resumed from (0: it did not).
    pub resumed_from: usize,
    /// The run directory.
    pub run_dir: PathBuf,
}

/// Writes the final model, `skipped.txt` and `summary.json`, and prints the summary.
pub(crate) fn finish(
    setup: &Setup,
    trained: &Trained,
    loaders: &Loaders,
    started: Instant,
) -> Result<()> {
    let (model, rows) = (&trained.model, &trained.rows);
    let run_dir = &setup.run_dir;
    let model_path = run_dir.join("model.bpk");
    model
        .save_weights_with_classes(&model_path, &setup.config.classes)
        .with_context(|| format!("cannot write the final model {}", model_path.display()))?;
    let skipped = write_skipped(setup, loaders)?;
    let last = rows.last().cloned().unwrap_or_default();
    let this_run: Vec<&EpochRow> = rows
        .iter()
        .filter(|r| r.epoch >= setup.first_epoch())
        .collect();
    let summary = Summary {
        top1: last.val_top1,
        top5: last.val_top5,
        val_loss: last.val_loss,
        train_loss: last.train_loss,
        epochs: last.epoch,
        skipped_files: skipped,
        model: model_path,
        seconds: started.elapsed().as_secs_f64(),
        images_per_sec: if this_run.is_empty() {
            0.0
        } else {
            this_run.iter().map(|r| r.images_per_sec).sum::<f64>() / this_run.len() as f64
        },
        device: setup.backend.clone(),
        devices: setup.devices.names.clone(),
        precision: setup.config.precision.name(),
        batch_size: setup.config.data.batch_size,
        global_batch_size: setup.config.data.batch_size * setup.devices.replicas(),
        images_per_epoch: images_per_epoch(setup, trained, loaders),
        resumed_from: setup.resume_from.unwrap_or(0),
        run_dir: run_dir.clone(),
    };
    write_json_atomic(&run_dir.join("summary.json"), &summary)?;
    println!(
        "done: {} epochs, val top-1 {:.2}%, top-5 {:.2}%, {} skipped files, {}",
        summary.epochs,
        summary.top1 * 100.0,
        summary.top5 * 100.0,
        summary.skipped_files,
        crate::output::renderer::format_duration(summary.seconds)
    );
    println!("model: {}", summary.model.display());
    println!("run directory: {}", run_dir.display());
    Ok(())
}

/// The training images of an epoch over every device: counted during the last epoch, or, under
/// DDP (whose progress is one worker's count times the devices) or when no epoch ran, the
/// sharding's count.
fn images_per_epoch(setup: &Setup, trained: &Trained, loaders: &Loaders) -> usize {
    match (setup.devices.mode, trained.epoch_images) {
        (Mode::Ddp, _) | (_, None) => loaders.train.images_per_epoch(),
        (_, Some(counted)) => counted,
    }
}

/// Lists the files no loader could decode in `skipped.txt`; returns how many there were.
fn write_skipped(setup: &Setup, loaders: &Loaders) -> Result<usize> {
    let mut skipped = loaders.train.skipped();
    skipped.extend(loaders.val.skipped());
    skipped.sort();
    skipped.dedup();
    if !skipped.is_empty() {
        let path = setup.run_dir.join("skipped.txt");
        let text: String = skipped.iter().map(|s| format!("{s}\n")).collect();
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        log::warn!(
            "skipped {} unreadable files, see {}",
            skipped.len(),
            path.display()
        );
    }
    Ok(skipped.len())
}
