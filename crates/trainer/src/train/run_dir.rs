//! A run's directory: choosing it (a new one, or the run `--resume` continues), its newest
//! complete checkpoint, and atomic JSON writes.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::cli::TrainArgs;
use crate::cli::usage;
use crate::config::{TrainConfig, dataset_name, load_run_config};

/// The run directory (created later, once everything is validated) and, for `--resume`, its
/// saved configuration.
pub fn prepare_run_dir(args: &TrainArgs) -> Result<(PathBuf, Option<TrainConfig>)> {
    if args.resume {
        let dir = match &args.output_dir {
            Some(dir) => dir.clone(),
            None => newest_run(Path::new("runs")).ok_or_else(|| {
                usage("--resume: no run in runs/ to resume; pass --output-dir DIR")
            })?,
        };
        let config_path = dir.join("config.json");
        if !config_path.is_file() {
            return Err(usage(format!(
                "--resume: {} is not a run directory (no config.json)",
                dir.display()
            )));
        }
        let saved = load_run_config(&config_path).map_err(|e| usage(format!("--resume: {e:#}")))?;
        return Ok((dir, Some(saved)));
    }
    let dir = match &args.output_dir {
        Some(dir) => dir.clone(),
        None => {
            let dataset = args.data.dataset.map_or("synthetic", dataset_name);
            let arch = args.model.arch.map_or("standard", |a| a.name());
            PathBuf::from("runs").join(format!("{dataset}-{arch}-{}", utc_stamp()))
        }
    };
    if dir.join("config.json").exists() {
        let how = match last_complete_checkpoint(&dir) {
            Some(_) => "pass --resume to continue it",
            None => "it has no checkpoint yet: pass --resume to start it again with these flags",
        };
        return Err(usage(format!(
            "{} already holds a run; {how}, or choose another --output-dir",
            dir.display()
        )));
    }
    Ok((dir, None))
}

/// The run under `root` whose config.json is newest.
fn newest_run(root: &Path) -> Option<PathBuf> {
    std::fs::read_dir(root)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let config = e.path().join("config.json");
            let modified = config.metadata().ok()?.modified().ok()?;
            Some((modified, e.path()))
        })
        .max()
        .map(|(_, path)| path)
}

/// The newest epoch whose model, optimiser and scheduler checkpoints are all on disk (burn
/// writes each file to a temporary name and renames it, so a present file is complete).
pub fn last_complete_checkpoint(run_dir: &Path) -> Option<usize> {
    let dir = run_dir.join("checkpoint");
    let mut epochs: Vec<usize> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix("model-")?
                .strip_suffix(".bpk")?
                .parse()
                .ok()
        })
        .collect();
    epochs.sort_unstable_by(|a, b| b.cmp(a));
    epochs.into_iter().find(|epoch| {
        ["model", "optim", "scheduler"].iter().all(|kind| {
            dir.join(format!("{kind}-{epoch}.bpk"))
                .metadata()
                .is_ok_and(|m| m.len() > 0)
        })
    })
}

/// Writes `value` as pretty JSON to `path`, atomically ([`alexnet::atomic`]).
pub fn write_json_atomic(path: &Path, value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)? + "\n";
    alexnet::atomic::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// `20261127-213000` (UTC), for default run names.
fn utc_stamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}
