//! A run's per-epoch metrics: the rows of `metrics.csv`, read, rewritten and appended to.

use std::io::Write;
use std::path::Path;

/// One epoch of `metrics.csv`. Accuracies are fractions in [0, 1].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpochRow {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training top-1 (on augmented images, dropout on).
    pub train_top1: f64,
    /// Validation loss.
    pub val_loss: f64,
    /// Validation top-1.
    pub val_top1: f64,
    /// Validation top-5 (top-k with k = min(5, classes)).
    pub val_top5: f64,
    /// Mean learning rate over the epoch's optimiser steps.
    pub lr: f64,
    /// Training images per second.
    pub images_per_sec: f64,
    /// Wall time of the epoch (train + validation).
    pub seconds: f64,
}

/// The CSV header.
pub const CSV_HEADER: &str =
    "epoch,train_loss,train_top1,val_loss,val_top1,val_top5,lr,images_per_sec,seconds";

impl EpochRow {
    fn to_csv(&self) -> String {
        format!(
            "{},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6e},{:.2},{:.2}",
            self.epoch,
            self.train_loss,
            self.train_top1,
            self.val_loss,
            self.val_top1,
            self.val_top5,
            self.lr,
            self.images_per_sec,
            self.seconds
        )
    }

    fn from_csv(line: &str) -> Option<Self> {
        let f: Vec<&str> = line.split(',').collect();
        let num = |i: usize| f.get(i)?.trim().parse::<f64>().ok();
        Some(Self {
            epoch: f.first()?.trim().parse().ok()?,
            train_loss: num(1)?,
            train_top1: num(2)?,
            val_loss: num(3)?,
            val_top1: num(4)?,
            val_top5: num(5)?,
            lr: num(6)?,
            images_per_sec: num(7)?,
            seconds: num(8)?,
        })
    }
}

/// Reads the rows of a `metrics.csv` (missing file: none).
pub fn read_csv(path: &Path) -> Vec<EpochRow> {
    std::fs::read_to_string(path)
        .map(|text| {
            text.lines()
                .skip(1)
                .filter_map(EpochRow::from_csv)
                .collect()
        })
        .unwrap_or_default()
}

/// Rewrites `metrics.csv` with `rows` (on resume: the epochs up to the checkpoint), atomically
/// ([`alexnet::atomic`]): a crash leaves the old rows or the new ones, never a truncated file.
pub fn write_csv(path: &Path, rows: &[EpochRow]) -> std::io::Result<()> {
    let mut text = String::from(CSV_HEADER);
    text.push('\n');
    for row in rows {
        text.push_str(&row.to_csv());
        text.push('\n');
    }
    alexnet::atomic::write(path, text)
}

/// Appends `row` to `metrics.csv` (with the header when the file is new) and syncs it.
pub fn append_csv(path: &Path, row: &EpochRow) -> std::io::Result<()> {
    let new = !path.exists();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    if new {
        writeln!(file, "{CSV_HEADER}")?;
    }
    writeln!(file, "{}", row.to_csv())?;
    file.sync_data()
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn row(epoch: usize) -> EpochRow {
        EpochRow {
            epoch,
            train_loss: 2.0 / epoch as f64,
            ..EpochRow::default()
        }
    }

    #[test]
    fn rewriting_replaces_the_file_and_never_changes_the_old_one_in_place() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("metrics.csv");
        for epoch in 1..=3 {
            append_csv(&path, &row(epoch)).expect("append");
        }
        let before = std::fs::read_to_string(&path).expect("read");
        // A reader that opened the file before the rewrite (or a crash during it) must see
        // the complete old rows, never a truncated file.
        let mut reader = std::fs::File::open(&path).expect("open");
        write_csv(&path, &[row(1)]).expect("rewrite");
        let mut seen = String::new();
        reader.read_to_string(&mut seen).expect("read old");
        assert_eq!(seen, before, "the old file was truncated in place");
        assert_eq!(read_csv(&path), [row(1)]);
    }
}
