//! What the end-to-end tests of the `trainer` binary share.

#![allow(dead_code)] // each test file uses its own part

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The `trainer` binary, run in `cwd`, without the environment that would change a run.
pub fn trainer(cwd: &Path) -> Command {
    // Cargo builds the binary for integration tests and names it here.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trainer"));
    cmd.current_dir(cwd)
        .env_remove("ALEXNET_DATA_DIR")
        .env_remove("BURN_DEVICE")
        .env_remove("RUST_LOG");
    cmd
}

/// The optimiser of the tiny runs.
pub const LEARN: &[&str] = &["--opt", "adamw", "--lr", "1e-3"];

/// A narrow model on small images: fast, and still the full AlexNet layer stack (no device).
pub const TINY_MODEL: &[&str] = &[
    "--width",
    "0.25",
    "--image-size",
    "67",
    "-b",
    "32",
    "--dropout",
    "0.1",
    "--aug",
    "none",
];

/// Runs `trainer` in `cwd` with `args`, writing the run to `run`; panics unless it succeeds.
pub fn train(cwd: &Path, run: &Path, args: &[&str]) -> Output {
    let out = trainer(cwd)
        .args(args)
        .arg("--output-dir")
        .arg(run)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    out
}

/// A run's `summary.json`.
pub fn summary(run: &Path) -> Value {
    let text = std::fs::read_to_string(run.join("summary.json")).expect("summary.json");
    serde_json::from_str(&text).expect("summary.json is JSON")
}

/// The epochs `metrics.csv` lists.
pub fn csv_epochs(run: &Path) -> Vec<usize> {
    std::fs::read_to_string(run.join("metrics.csv"))
        .expect("metrics.csv")
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().expect("epoch").parse().expect("number"))
        .collect()
}

/// A finished process's standard error.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Starts a run with `args` and kills it with SIGKILL once epoch 2's checkpoint is saved.
pub fn kill_after_epoch_2(cwd: &Path, run: &Path, args: &[&str]) {
    let mut child = trainer(cwd)
        .args(args)
        .arg("--output-dir")
        .arg(run)
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("starts");
    let deadline = Instant::now() + Duration::from_secs(600);
    let epoch2_saved = || {
        ["model", "optim", "scheduler"]
            .iter()
            .all(|kind| run.join(format!("checkpoint/{kind}-2.bpk")).exists())
    };
    while !epoch2_saved() {
        assert!(Instant::now() < deadline, "no checkpoint after 10 minutes");
        assert!(
            child.try_wait().expect("wait").is_none(),
            "finished too soon"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    assert!(!run.join("summary.json").exists(), "killed before the end");
}

/// Every tensor of a burnpack file, by name.
pub fn bpk_tensors(
    path: &Path,
) -> std::collections::BTreeMap<String, burn::store::burn_pack::Tensor> {
    let reader = burn::store::burn_pack::Reader::from_file_exact(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let tensors = reader.into_tensors().expect("tensors");
    tensors.into_iter().map(|t| (t.name.clone(), t)).collect()
}
