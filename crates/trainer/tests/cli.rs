//! End to end: the `trainer` binary on tiny synthetic and folder datasets (a narrow AlexNet at
//! 67 px so each run takes seconds): it learns and writes every artefact, `eval` reproduces the
//! run's accuracy, a kill -9 is resumed, bad files are counted, usage errors exit 2, and a
//! diverging run stops with a clear message.

use std::path::{Path, PathBuf};

use serde_json::Value;

mod common;

use common::{LEARN, TINY_MODEL, csv_epochs, kill_after_epoch_2, stderr, summary, train, trainer};

/// The tiny model on flex.
fn tiny() -> Vec<&'static str> {
    [TINY_MODEL, &["--device", "flex"]].concat()
}

#[test]
fn a_tiny_synthetic_run_learns_writes_every_artefact_and_eval_reproduces_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("run");
    let data = [
        "--epochs",
        "4",
        "--synthetic-train",
        "1200",
        "--synthetic-val",
        "200",
    ];
    let out = train(
        dir.path(),
        &run,
        &[tiny(), LEARN.to_vec(), data.to_vec()].concat(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("run directory:"), "{stdout}");
    assert!(stderr(&out).contains("epoch 4/4"), "{}", stderr(&out));
    check_artefacts(&run);

    let s = summary(&run);
    let top1 = s["top1"].as_f64().expect("top1");
    let top5 = s["top5"].as_f64().expect("top5");
    assert!((0.0..=1.0).contains(&top1) && (0.0..=1.0).contains(&top5));
    assert!(top1 > 0.25, "no better than chance (0.1): top-1 {top1}");
    assert!(top5 >= top1);
    assert_eq!(s["epochs"], 4);
    assert_eq!(s["skipped_files"], 0);
    assert!(s["seconds"].as_f64().expect("seconds") > 0.0);
    assert_eq!(
        PathBuf::from(s["model"].as_str().expect("model")),
        run.join("model.bpk")
    );

    check_eval_reproduces(dir.path(), &run, top1, top5);
}

/// The files a finished 4-epoch run leaves, and what `config.json` and `model.bpk` say.
fn check_artefacts(run: &Path) {
    for file in [
        "config.json",
        "metrics.csv",
        "metrics.png",
        "model.bpk",
        "summary.json",
        "checkpoint/model-4.bpk",
        "checkpoint/optim-4.bpk",
        "checkpoint/scheduler-4.bpk",
    ] {
        assert!(run.join(file).is_file(), "missing {file}");
    }
    // older checkpoints are pruned
    assert!(!run.join("checkpoint/model-1.bpk").exists());
    let png = std::fs::read(run.join("metrics.png")).expect("png");
    assert_eq!(&png[1..4], b"PNG");
    assert_eq!(csv_epochs(run), [1, 2, 3, 4]);
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).expect("config"))
            .expect("json");
    assert_eq!(config["image_size"], 67);
    assert_eq!(config["num_classes"], 10);
    assert_eq!(config["classes"][0], "disk");
    // The model file says what it holds: the variant, width, input size and class names.
    let info = alexnet::WeightsInfo::read(run.join("model.bpk")).expect("metadata");
    assert_eq!(info.config.image_size, 67);
    assert_eq!(info.config.num_classes, 10);
    assert_eq!(info.config.channels, [24, 64, 96, 96, 64]);
    let classes = info.classes.expect("class names");
    assert_eq!(classes.len(), 10);
    assert_eq!(classes[0], "disk");
}

/// `eval` of the run's model gives the run's own accuracy; the ten-crop average learns too.
fn check_eval_reproduces(cwd: &Path, run: &Path, top1: f64, top5: f64) {
    let out = trainer(cwd)
        .args(["eval", "--json", "--device", "flex", "--run"])
        .arg(run)
        .output()
        .expect("eval runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let eval: Value = serde_json::from_slice(&out.stdout).expect("eval --json");
    assert_eq!(eval["images"], 200);
    assert!(
        (eval["top1"].as_f64().expect("top1") - top1).abs() < 1e-9,
        "eval {} vs run {top1}",
        eval["top1"]
    );
    assert!((eval["top5"].as_f64().expect("top5") - top5).abs() < 1e-9);
    assert_eq!(eval["non_finite"], 0);

    let out = trainer(cwd)
        .args(["eval", "--ten-crop", "--json", "--device", "flex", "--run"])
        .arg(run)
        .output()
        .expect("eval runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let ten: Value = serde_json::from_slice(&out.stdout).expect("eval --json");
    assert_eq!(ten["ten_crop"], true);
    assert!(ten["top1"].as_f64().expect("top1") > 0.25);
}

#[test]
fn a_run_killed_with_sigkill_resumes_from_its_last_checkpoint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("run");
    // The step schedule does not depend on the epoch count, so a resume may change it.
    let args = [
        "--lr-scheduler",
        "step",
        "--epochs",
        "5",
        "--synthetic-train",
        "600",
        "--synthetic-val",
        "64",
    ];
    kill_after_epoch_2(dir.path(), &run, &[tiny(), args.to_vec()].concat());

    // Resumed with nothing left to train, the run's model is the restored state itself (with
    // `--epochs 1`, a resume that started afresh would train one epoch and differ).
    train(dir.path(), &run, &["--resume", "--epochs", "1"]);
    let from = summary(&run)["resumed_from"]
        .as_u64()
        .expect("resumed_from");
    let restored = bpk_tensors(&run.join("model.bpk"));
    let saved = bpk_tensors(&run.join(format!("checkpoint/model-{from}.bpk")));
    assert_eq!(restored.len(), 16, "{:?}", restored.keys());
    assert_eq!(
        restored, saved,
        "the resumed parameters are not epoch {from}'s"
    );
    let optim_before = adam_steps(&run.join(format!("checkpoint/optim-{from}.bpk")));

    let out = train(dir.path(), &run, &["--resume", "--epochs", "5"]);
    let log = stderr(&out);
    let s = summary(&run);
    let from = s["resumed_from"].as_u64().expect("resumed_from");
    assert!((2..5).contains(&from), "resumed from {from}");
    assert!(
        log.contains(&format!(
            "resuming {} from the checkpoint of epoch {from}",
            run.display()
        )),
        "{log}"
    );
    assert_eq!(csv_epochs(&run), [1, 2, 3, 4, 5]);
    assert_eq!(s["epochs"], 5);
    assert!(run.join("model.bpk").is_file());
    // AdamW counts its steps: restored, the count goes on from the checkpoint's.
    let steps_per_epoch = 600usize.div_ceil(32);
    assert_eq!(optim_before, from as usize * steps_per_epoch);
    assert_eq!(
        adam_steps(&run.join("checkpoint/optim-5.bpk")),
        5 * steps_per_epoch,
        "the optimiser state was not restored"
    );
}

/// Every tensor of a burnpack file, by name, as raw bytes.
fn bpk_tensors(path: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    common::bpk_tensors(path)
        .into_iter()
        .map(|(name, t)| (name, t.to_bytes().expect("bytes").to_vec()))
        .collect()
}

/// The step count of an AdamW checkpoint (the same for every parameter).
fn adam_steps(path: &Path) -> usize {
    let reader = burn::store::burn_pack::Reader::from_file_exact(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let times: Vec<u64> = reader
        .scalars()
        .iter()
        .filter(|(k, _)| k.ends_with("time"))
        .map(|(k, v)| match v {
            burn::store::burn_pack::Scalar::UInt(t) => *t,
            other => panic!("{k}: {other:?}"),
        })
        .collect();
    assert_eq!(times.len(), 16, "one step count per parameter");
    assert!(times.iter().all(|&t| t == times[0]), "{times:?}");
    times[0] as usize
}

fn put(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../alexnet-data/tests/fixtures")
            .join(name),
    )
    .expect("fixture")
}

#[test]
fn a_folder_with_bad_files_trains_and_reports_the_skips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let good = [
        "rgb.jpg",
        "rgb.png",
        "grey.png",
        "cmyk.jpg",
        "png_named.JPEG",
        "rgba.png",
    ];
    for split in ["train", "val"] {
        for class in ["cats", "dogs"] {
            for (i, name) in good.iter().enumerate() {
                let ext = Path::new(name).extension().expect("ext").to_string_lossy();
                put(&data, &format!("{split}/{class}/{i}.{ext}"), &fixture(name));
            }
        }
    }
    put(&data, "train/cats/broken.jpg", &fixture("truncated.jpg"));
    put(
        &data,
        "train/dogs/error-page.jpg",
        &fixture("not_an_image.jpg"),
    );
    put(&data, "val/dogs/empty.png", b"");
    let run = dir.path().join("run");
    let out = trainer(dir.path())
        .args(tiny())
        .args(["--dataset", "folder", "--epochs", "2", "--data-dir"])
        .arg(&data)
        .arg("--output-dir")
        .arg(&run)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("skipped 3 unreadable files"),
        "{}",
        stderr(&out)
    );
    assert_eq!(summary(&run)["skipped_files"], 3);
    let listed = std::fs::read_to_string(run.join("skipped.txt")).expect("skipped.txt");
    for name in ["broken.jpg", "error-page.jpg", "empty.png"] {
        assert!(listed.contains(name), "{listed}");
    }
}

#[test]
fn usage_errors_exit_2_with_one_line_naming_the_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    let empty = empty.to_string_lossy().into_owned();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--dataset", "mnist"], "mnist"),
        (vec!["--dataset", "folder"], "--data-dir"),
        (
            vec!["--dataset", "folder", "--data-dir", "/nonexistent/x"],
            "/nonexistent/x",
        ),
        (
            vec!["--dataset", "folder", "--data-dir", &empty],
            "is empty",
        ),
        (vec!["--device", "cuda"], "--features cuda"),
        (vec!["--device", "quantum"], "unknown device"),
        (vec!["--image-size", "40"], "minimum 67"),
        (vec!["--lr=-1"], "--lr"),
        (vec!["--aug", "mixup"], "mixup"),
        (vec!["--resume"], "no run"),
        (
            vec!["--weights", "/nonexistent/w.bpk"],
            "/nonexistent/w.bpk",
        ),
    ];
    for (args, needle) in cases {
        let out = trainer(dir.path()).args(&args).output().expect("runs");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    assert!(
        !dir.path().join("runs").exists()
            || std::fs::read_dir(dir.path().join("runs"))
                .expect("runs dir")
                .all(|e| !e.expect("entry").path().join("config.json").exists()),
        "a rejected run must not leave a run directory"
    );
}

#[test]
fn a_diverging_run_stops_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("run");
    let out = trainer(dir.path())
        .args(tiny())
        .args([
            "--opt",
            "sgd",
            "--lr",
            "1e12",
            "--epochs",
            "2",
            "--synthetic-train",
            "320",
            "--synthetic-val",
            "32",
            "--output-dir",
        ])
        .arg(&run)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("loss became"), "{}", stderr(&out));
    assert!(!run.join("model.bpk").exists());
}

#[test]
fn a_resume_refuses_flags_that_change_what_its_checkpoint_and_schedule_mean() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("run");
    let data = ["--synthetic-train", "64", "--synthetic-val", "32"];
    train(
        dir.path(),
        &run,
        &[tiny(), data.to_vec(), vec!["--epochs", "1"]].concat(),
    );
    let files = |run: &Path| {
        ["config.json", "metrics.csv"].map(|f| std::fs::read(run.join(f)).expect("run file"))
    };
    let before = files(&run);
    // Each change, and what the refusal names: the flag, the run's value and the new one.
    let cases: [(&[&str], [&str; 3]); 10] = [
        (&["-b", "16"], ["--batch-size", "32", "16"]),
        (&["--width", "0.5"], ["--width", "0.25", "0.5"]),
        (&["--num-classes", "12"], ["--num-classes", "10", "12"]),
        (&["--image-size", "71"], ["--image-size", "67", "71"]),
        (
            &["--arch", "torchvision"],
            ["--arch", "standard", "torchvision"],
        ),
        (&["--opt", "sgd"], ["--opt", "adamw", "sgd"]),
        (&["--wd", "0.01"], ["--wd", "0.0001", "0.01"]),
        // The synthetic set's seed draws its images: another would swap the validation set.
        (&["--seed", "5"], ["--seed", "0", "5"]),
        (
            &["--synthetic-train", "96"],
            ["--synthetic-train", "64", "96"],
        ),
        (
            &["--synthetic-draw", "fixed"],
            ["--synthetic-draw", "fresh", "fixed"],
        ),
    ];
    for (flags, needles) in cases {
        let out = trainer(dir.path())
            .arg("--resume")
            .args(flags)
            .arg("--output-dir")
            .arg(&run)
            .output()
            .expect("runs");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {err}");
        for needle in needles {
            assert!(err.contains(needle), "{flags:?}: no {needle} in {err}");
        }
        assert_eq!(files(&run), before, "{flags:?} changed the run");
    }
}

#[test]
fn a_run_refused_for_its_weights_leaves_its_directory_free_for_the_corrected_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let args = [tiny(), vec!["--epochs", "1", "--synthetic-train", "64"]].concat();
    let good_run = dir.path().join("good");
    train(dir.path(), &good_run, &args);
    let garbage = dir.path().join("garbage.bpk");
    std::fs::write(&garbage, b"not a weights file").expect("write");
    let run = dir.path().join("run");
    let out = trainer(dir.path())
        .args(&args)
        .arg("--weights")
        .arg(&garbage)
        .arg("--output-dir")
        .arg(&run)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("garbage.bpk"), "{}", stderr(&out));
    let good = good_run.join("model.bpk").to_string_lossy().into_owned();
    train(dir.path(), &run, &[args, vec!["--weights", &good]].concat());
}

#[test]
fn an_sgd_run_resumed_after_epoch_1_trains_as_an_uninterrupted_one() {
    // A warm-up that spans the resume and a step every epoch: the resumed epochs' learning rates
    // follow from the restored step count, and their updates from the restored momentum. Without
    // dropout (whose masks come from the device's generator, seeded once per process) the two
    // runs must agree bit for bit.
    let args = [
        "--opt",
        "sgd",
        "--lr",
        "0.02",
        "--momentum",
        "0.9",
        "--lr-scheduler",
        "step",
        "--lr-step-size",
        "1",
        "--lr-gamma",
        "0.5",
        "--warmup-epochs",
        "2",
        "--synthetic-train",
        "320",
        "--synthetic-val",
        "64",
    ];
    let mut base = [tiny(), args.to_vec()].concat();
    let dropout = base
        .iter()
        .position(|&a| a == "--dropout")
        .expect("--dropout");
    base[dropout + 1] = "0";
    let dir = tempfile::tempdir().expect("tempdir");
    let whole = dir.path().join("whole");
    let split = dir.path().join("split");
    train(
        dir.path(),
        &whole,
        &[base.clone(), vec!["--epochs", "3"]].concat(),
    );
    train(dir.path(), &split, &[base, vec!["--epochs", "1"]].concat());
    train(dir.path(), &split, &["--resume", "--epochs", "3"]);

    assert_eq!(csv_column(&split, "lr"), csv_column(&whole, "lr"));
    assert_eq!(
        csv_column(&split, "train_loss"),
        csv_column(&whole, "train_loss")
    );
    // The momentum buffers after the first resumed epoch and after the last (keyed by each
    // process's own parameter ids, so compared as sets of values), and the final weights.
    for file in ["checkpoint/optim-2.bpk", "checkpoint/optim-3.bpk"] {
        let (a, b) = (bpk_values(&whole.join(file)), bpk_values(&split.join(file)));
        assert_eq!(a.len(), 16, "{file}: one momentum buffer per parameter");
        assert!(a == b, "{file}: the momentum differs after the resume");
    }
    let (a, b) = (
        bpk_tensors(&whole.join("model.bpk")),
        bpk_tensors(&split.join("model.bpk")),
    );
    assert_eq!(a.len(), 16);
    assert!(a == b, "the weights differ after the resume");
}

/// The tensors of a burnpack file as raw bytes, sorted (their names left out).
fn bpk_values(path: &Path) -> Vec<Vec<u8>> {
    let mut values: Vec<Vec<u8>> = bpk_tensors(path).into_values().collect();
    values.sort();
    values
}

/// One column of a run's `metrics.csv`, as written.
fn csv_column(run: &Path, column: &str) -> Vec<String> {
    let text = std::fs::read_to_string(run.join("metrics.csv")).expect("metrics.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let i = header
        .iter()
        .position(|&c| c == column)
        .unwrap_or_else(|| panic!("no column {column} in {header:?}"));
    lines
        .map(|l| l.split(',').nth(i).expect("cell").to_string())
        .collect()
}
