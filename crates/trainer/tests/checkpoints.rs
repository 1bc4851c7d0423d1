//! A run's intermediate checkpoints (`checkpoint/model-N.bpk`) are model files like the final
//! `model.bpk`: `eval --weights` and `predict --weights` read them.

use serde_json::Value;

mod common;

use common::{LEARN, TINY_MODEL, stderr, train, trainer};

#[test]
fn eval_and_predict_read_an_intermediate_checkpoint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("run");
    let data = [
        "--device",
        "flex",
        "--epochs",
        "2",
        "--synthetic-train",
        "64",
        "--synthetic-val",
        "32",
    ];
    train(dir.path(), &run, &[TINY_MODEL, LEARN, &data].concat());
    let checkpoint = run.join("checkpoint/model-1.bpk");
    assert!(checkpoint.is_file(), "no epoch-1 checkpoint");

    let out = trainer(dir.path())
        .args(["eval", "--json", "--device", "flex", "--weights"])
        .arg(&checkpoint)
        .output()
        .expect("eval runs");
    assert!(out.status.success(), "eval: {}", stderr(&out));
    let eval: Value = serde_json::from_slice(&out.stdout).expect("eval --json");
    assert_eq!(eval["images"], 32);

    let image =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/predict/square.png");
    let out = trainer(dir.path())
        .args([
            "predict",
            "--json",
            "--device",
            "flex",
            "--topk",
            "3",
            "--weights",
        ])
        .arg(&checkpoint)
        .arg(&image)
        .output()
        .expect("predict runs");
    assert!(out.status.success(), "predict: {}", stderr(&out));
    let predictions: Value = serde_json::from_slice(&out.stdout).expect("predict --json");
    let top = predictions[0]["top_k"].as_array().expect("top_k");
    assert_eq!(top.len(), 3);
    // The run's class names come with the checkpoint, not `class i`.
    let config: Value = serde_json::from_str(
        &std::fs::read_to_string(run.join("config.json")).expect("config.json"),
    )
    .expect("JSON");
    let classes = config["classes"].as_array().expect("classes");
    for class in top {
        let index = class["index"].as_u64().expect("index") as usize;
        assert_eq!(class["label"], classes[index]);
    }
}
