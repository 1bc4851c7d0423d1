//! Data-parallel training on the CPU: `--devices flex,flex` runs two replicas (Burn's
//! multi-device strategy, the same code path as several GPUs without collectives). The run
//! learns, writes every artefact, records its devices and global batch, processes each
//! training image once per epoch, resumes after a kill -9, and survives the unreadable files
//! one device survives. One SGD step on two replicas gives the weights of one step on one
//! device with the global batch.

use std::path::Path;

use serde_json::Value;

mod common;

use common::{LEARN, TINY_MODEL, csv_epochs, kill_after_epoch_2, stderr, summary, train, trainer};

/// A folder dataset of two classes: `good` readable PNGs per class and split, and `bad`
/// training files of garbage bytes named `.jpg`.
fn folder_with_unreadable_files(root: &Path, good: usize, bad: usize) {
    for split in ["train", "val"] {
        for (label, class) in ["dark", "light"].into_iter().enumerate() {
            let dir = root.join(split).join(class);
            std::fs::create_dir_all(&dir).expect("mkdir");
            for i in 0..good {
                let shade = (label * 200 + i * 5) as u8;
                image::RgbImage::from_pixel(40, 40, image::Rgb([shade; 3]))
                    .save(dir.join(format!("{i}.png")))
                    .expect("png");
            }
        }
    }
    for i in 0..bad {
        let class = ["dark", "light"][i % 2];
        let file = root
            .join("train")
            .join(class)
            .join(format!("broken-{i}.jpg"));
        std::fs::write(file, b"<html>not an image</html>").expect("write");
    }
}

/// Two flex replicas of the tiny model, 32 images each per step.
fn two_replicas() -> Vec<&'static str> {
    [TINY_MODEL, &["--devices", "flex,flex"], LEARN].concat()
}

fn config(run: &Path) -> Value {
    let text = std::fs::read_to_string(run.join("config.json")).expect("config.json");
    serde_json::from_str(&text).expect("config.json is JSON")
}

#[test]
fn two_cpu_replicas_survive_the_unreadable_files_one_device_survives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    // 50 unreadable files of 52: never 100 (the cap) in a row on one device, nor in a replica's
    // share on two.
    folder_with_unreadable_files(&data, 1, 50);
    let model = [
        "--width",
        "0.25",
        "--image-size",
        "67",
        "--aug",
        "none",
        "-b",
        "2",
    ];
    let flags = ["--dataset", "folder", "--epochs", "1", "--data-dir"];
    let data = data.to_str().expect("utf-8 path");
    for devices in [["--device", "flex"], ["--devices", "flex,flex"]] {
        let run = dir.path().join(devices[1]);
        let args = [&model, LEARN, &devices, &flags, &[data]].concat();
        train(dir.path(), &run, &args);
        let s = summary(&run);
        assert_eq!(s["skipped_files"], 50, "{}", devices[1]);
    }
}

#[test]
fn two_cpu_replicas_learn_and_record_their_devices() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("run");
    let data = [
        "--epochs",
        "8",
        "--synthetic-train",
        "1200",
        "--synthetic-val",
        "200",
    ];
    let out = train(dir.path(), &run, &[two_replicas(), data.to_vec()].concat());
    assert!(
        stderr(&out).contains("with flex,flex (replicas, 64 images per step)"),
        "{}",
        stderr(&out)
    );
    for file in [
        "model.bpk",
        "metrics.png",
        "checkpoint/model-8.bpk",
        "checkpoint/optim-8.bpk",
    ] {
        assert!(run.join(file).is_file(), "missing {file}");
    }
    assert_eq!(csv_epochs(&run), (1..=8).collect::<Vec<_>>());
    let s = summary(&run);
    assert_eq!(s["devices"], serde_json::json!(["flex", "flex"]));
    assert_eq!(
        (s["batch_size"].as_u64(), s["global_batch_size"].as_u64()),
        (Some(32), Some(64))
    );
    assert_eq!(
        s["images_per_epoch"], 1200,
        "each training image once per epoch"
    );
    let top1 = s["top1"].as_f64().expect("top1");
    assert!(top1 > 0.25, "no better than chance (0.1): top-1 {top1}");
    let c = config(&run);
    assert_eq!(c["devices"], serde_json::json!(["flex", "flex"]));
    assert_eq!(c["global_batch_size"], 64);
}

#[test]
fn two_cpu_replicas_resume_after_a_kill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("run");
    let data = ["--synthetic-train", "600", "--synthetic-val", "64"];
    let args = [two_replicas(), data.to_vec(), vec!["--epochs", "4"]].concat();
    kill_after_epoch_2(dir.path(), &run, &args);

    let out = trainer(dir.path())
        .args(["--resume", "--devices", "flex", "--output-dir"])
        .arg(&run)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot change the number of devices"),
        "{}",
        stderr(&out)
    );

    train(dir.path(), &run, &["--resume"]);
    let s = summary(&run);
    let from = s["resumed_from"].as_u64().expect("resumed_from");
    assert!((2..4).contains(&from), "resumed from {from}");
    assert_eq!(csv_epochs(&run), [1, 2, 3, 4]);
    assert_eq!(s["devices"], serde_json::json!(["flex", "flex"]));
    assert_eq!(s["images_per_epoch"], 600);
}

#[test]
fn two_cpu_replicas_stop_on_a_diverging_loss_and_follow_the_plateau_schedule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("diverging");
    let data = ["--synthetic-train", "320", "--synthetic-val", "32"];
    let out = trainer(dir.path())
        .args([TINY_MODEL, &["--devices", "flex,flex"], &data].concat())
        .args([
            "--opt",
            "sgd",
            "--lr",
            "1e12",
            "--epochs",
            "2",
            "--output-dir",
        ])
        .arg(&run)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("loss became"), "{}", stderr(&out));
    assert!(!run.join("model.bpk").exists());

    // Patience 0 and an lr too small to move a weight: every epoch after the first has the same
    // validation loss, so the learning rate drops by 10 after each.
    let run = dir.path().join("plateau");
    let flags = ["--opt", "sgd", "--lr", "1e-30", "--lr-scheduler", "plateau"];
    let schedule = ["--plateau-patience", "0", "--epochs", "3"];
    let replicas = ["--devices", "flex,flex"];
    let out = train(
        dir.path(),
        &run,
        &[TINY_MODEL, &replicas, &data, &flags, &schedule].concat(),
    );
    let log = stderr(&out);
    assert!(
        log.contains("learning rate x1e-1") && log.contains("learning rate x1e-2"),
        "{log}"
    );
    assert_eq!(csv_epochs(&run), [1, 2, 3]);
}

/// Every tensor of a burnpack file, by name, as f32 values.
fn weights(path: &Path) -> std::collections::BTreeMap<String, Vec<f32>> {
    common::bpk_tensors(path)
        .into_iter()
        .map(|(name, t)| {
            let data = burn::store::bridge::to_data(&t).expect("data");
            (name, data.iter::<f32>().collect())
        })
        .collect()
}

#[test]
fn one_sgd_step_on_two_replicas_of_8_equals_one_step_on_one_device_of_16() {
    let dir = tempfile::tempdir().expect("tempdir");
    // One global batch of all 16 images: the order within it does not change its mean gradient.
    let common = [
        "--width",
        "0.25",
        "--image-size",
        "67",
        "--dropout",
        "0",
        "--aug",
        "none",
        "--opt",
        "sgd",
        "--lr",
        "0.1",
        "--epochs",
        "1",
        "--synthetic-train",
        "16",
        "--synthetic-val",
        "8",
    ];
    let one = dir.path().join("one");
    train(
        dir.path(),
        &one,
        &[&common[..], &["--device", "flex", "-b", "16"]].concat(),
    );
    let two = dir.path().join("two");
    train(
        dir.path(),
        &two,
        &[&common[..], &["--devices", "flex,flex", "-b", "8"]].concat(),
    );
    // The same seed with a learning rate too small to move a weight: the initial weights.
    let start = dir.path().join("start");
    let still = [&common[..], &["--device", "flex", "-b", "16"]].concat();
    let still: Vec<&str> = still
        .iter()
        .map(|&a| if a == "0.1" { "1e-30" } else { a })
        .collect();
    train(dir.path(), &start, &still);
    let file = "checkpoint/model-1.bpk";
    let (one, two) = (weights(&one.join(file)), weights(&two.join(file)));
    // The step moved every tensor by at least ten times the tolerance the two runs are held to.
    for (name, before) in weights(&start.join(file)) {
        let moved = before
            .iter()
            .zip(&one[&name])
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(moved > 1e-4, "{name}: one step moved it by only {moved}");
    }
    assert_eq!(
        one.keys().collect::<Vec<_>>(),
        two.keys().collect::<Vec<_>>()
    );
    assert_eq!(one.len(), 16, "weight and bias of 8 layers");
    for (name, a) in &one {
        let b = &two[name];
        assert_eq!(a.len(), b.len(), "{name}");
        let worst = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(worst <= 1e-5, "{name}: weights differ by up to {worst}");
    }
}
