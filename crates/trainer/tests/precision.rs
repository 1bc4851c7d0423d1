//! `--precision` on the CPU: a mixed-precision run (f32 weights, bf16 convolutions and fully
//! connected layers on flex) learns and records its precision; a precision the backend lacks is
//! a usage error.

mod common;

use common::{LEARN, TINY_MODEL, stderr, summary, train, trainer};

#[test]
fn a_mixed_precision_run_learns_and_records_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("run");
    let flags = ["--device", "flex", "--precision", "mixed", "--epochs", "4"];
    let data = ["--synthetic-train", "1200", "--synthetic-val", "200"];
    train(
        dir.path(),
        &run,
        &[TINY_MODEL, LEARN, &flags, &data].concat(),
    );
    let s = summary(&run);
    assert_eq!(s["precision"], "mixed");
    let top1 = s["top1"].as_f64().expect("top1");
    assert!(top1 > 0.25, "no better than chance (0.1): top-1 {top1}");
    let config = std::fs::read_to_string(run.join("config.json")).expect("config.json");
    assert!(config.contains(r#""precision": "mixed""#), "{config}");
    // The weights stay f32: the model file loads and predicts as any f32 model.
    let info = alexnet::WeightsInfo::read(run.join("model.bpk")).expect("metadata");
    assert_eq!(info.config.num_classes, 10);
}

#[test]
fn a_precision_the_backend_lacks_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (precision, message) in [
        ("bf16", "--precision bf16 is not available on ndarray"),
        (
            "mixed",
            "--precision mixed computes in BF16, which ndarray does not support",
        ),
    ] {
        let out = trainer(dir.path())
            .args(
                [
                    TINY_MODEL,
                    &["--device", "ndarray", "--precision", precision],
                ]
                .concat(),
            )
            .args([
                "--epochs",
                "1",
                "--synthetic-train",
                "64",
                "--synthetic-val",
                "32",
            ])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(message), "{}", stderr(&out));
    }
}

#[test]
fn two_replicas_on_one_device_take_a_precision_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("run");
    let flags = [
        "--devices",
        "flex,flex",
        "--precision",
        "bf16",
        "--epochs",
        "1",
    ];
    let data = ["--synthetic-train", "128", "--synthetic-val", "32"];
    train(
        dir.path(),
        &run,
        &[TINY_MODEL, LEARN, &flags, &data].concat(),
    );
    assert_eq!(summary(&run)["precision"], "bf16");
}
