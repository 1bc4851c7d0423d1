//! `trainer eval --data-dir` on another folder: it scores a folder whose classes are the model's
//! (same names, same order), and refuses any other with a usage error naming the first
//! difference, since a missing or renamed class shifts every label.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{LEARN, TINY_MODEL, stderr, train, trainer};

/// `ROOT/{train,val}/<class>/*`: two fixture images per class, from the data crate's fixtures.
fn folder(root: &Path, classes: &[&str]) -> PathBuf {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../alexnet-data/tests/fixtures");
    for split in ["train", "val"] {
        for class in classes {
            let dir = root.join(split).join(class);
            std::fs::create_dir_all(&dir).expect("mkdir");
            for name in ["rgb.jpg", "rgb.png"] {
                std::fs::copy(fixtures.join(name), dir.join(name)).expect("copy fixture");
            }
        }
    }
    root.to_path_buf()
}

/// A one-epoch run of the tiny model on a folder of classes `a`, `b`, `c`.
fn abc_run(dir: &Path) -> PathBuf {
    let data = folder(&dir.join("abc"), &["a", "b", "c"]);
    let run = dir.join("run");
    let data_args = ["--dataset", "folder", "--epochs", "1", "--device", "flex"];
    let mut args = [TINY_MODEL, LEARN, &data_args[..]].concat();
    let data = data.to_string_lossy().into_owned();
    args.extend(["--data-dir", data.as_str()]);
    train(dir, &run, &args);
    run
}

/// `trainer eval --run RUN --data-dir DATA --json` on flex.
fn eval(cwd: &Path, run: &Path, data: &Path) -> Output {
    trainer(cwd)
        .args(["eval", "--json", "--device", "flex", "--run"])
        .arg(run)
        .arg("--data-dir")
        .arg(data)
        .output()
        .expect("eval runs")
}

#[test]
fn eval_scores_another_folder_only_when_its_classes_are_the_model_s() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = abc_run(dir.path());

    let same = folder(&dir.path().join("same"), &["a", "b", "c"]);
    let out = eval(dir.path(), &run, &same);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("eval --json");
    assert_eq!(report["images"], 6);

    let cases: [(&str, &[&str], &str); 4] = [
        (
            "renamed",
            &["a", "bee", "c"],
            "class 1: the model has `b`, the dataset has `bee`",
        ),
        (
            "missing_middle",
            &["a", "c"],
            "class 1: the model has `b`, the dataset has `c`",
        ),
        (
            "missing_last",
            &["a", "b"],
            "class 2: the model has `c`, the dataset has none",
        ),
        (
            "extra",
            &["a", "b", "c", "d"],
            "class 3: the model has none, the dataset has `d`",
        ),
    ];
    for (name, classes, needle) in cases {
        let other = folder(&dir.path().join(name), classes);
        let out = eval(dir.path(), &run, &other);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(needle), "{name}: {err}");
        assert!(out.stdout.is_empty(), "{name}: printed a score");
    }
}
