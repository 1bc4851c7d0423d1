//! `trainer export` end to end: the ONNX file of a trained run and of a torchvision-layout
//! `.pth`, run by tract (a Rust ONNX runtime), gives the top-5 classes and probabilities that
//! `trainer predict` gives for the same photos; its metadata holds the run's class names; usage
//! errors exit with code 2 and write nothing.

mod common;

use std::path::{Path, PathBuf};

use alexnet_data::AugmentConfig;
use alexnet_data::rng::Rng;
use common::{LEARN, TINY_MODEL, stderr, train, trainer};
use serde_json::Value;
use tract_onnx::prelude::{Framework, InferenceModelExt, Tensor, tvec};

/// Largest difference between a probability from the ONNX file and `trainer predict`'s.
const TOLERANCE: f64 = 1e-5;

fn samples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/samples");
    ["astronaut.jpg", "chelsea.jpg", "coffee.jpg", "rocket.jpg"]
        .iter()
        .map(|f| dir.join(f))
        .collect()
}

fn temp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

/// `trainer export` with `model` flags to `out`; panics unless it succeeds.
fn export(cwd: &Path, model: &[&str], out: &Path) {
    let result = trainer(cwd)
        .arg("export")
        .args(model)
        .arg("-o")
        .arg(out)
        .output()
        .expect("runs");
    assert!(result.status.success(), "{}", stderr(&result));
}

/// `trainer predict --json` with `model` flags on the sample photos, per image the top-5
/// (index, probability) pairs.
fn predict(cwd: &Path, model: &[&str]) -> Vec<Vec<(usize, f64)>> {
    let out = trainer(cwd)
        .arg("predict")
        .args(model)
        .arg("--json")
        .args(samples())
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let images = json.as_array().expect("an array");
    images
        .iter()
        .map(|p| {
            p["top_k"]
                .as_array()
                .expect("top_k")
                .iter()
                .map(|c| {
                    let index = c["index"].as_u64().expect("index") as usize;
                    (index, c["prob"].as_f64().expect("prob"))
                })
                .collect()
        })
        .collect()
}

/// The ONNX file run by tract on the sample photos after the eval transform for `size`
/// (`resize`: the shorter side first), per image the top-5 (index, softmax probability).
fn onnx_top5(file: &Path, size: u32, resize: u32) -> Vec<Vec<(usize, f64)>> {
    let transform = AugmentConfig::eval_with(resize, size);
    let photos = samples();
    let mut pixels = Vec::new();
    for photo in &photos {
        let image = alexnet_data::decode_file(photo).expect("sample photo");
        pixels.extend(transform.apply(&image, &mut Rng::for_item(0, 0, 0)));
    }
    let s = size as usize;
    let input =
        tract_onnx::prelude::tract_ndarray::Array4::from_shape_vec((photos.len(), 3, s, s), pixels)
            .expect("shape");
    let model = tract_onnx::onnx()
        .model_for_path(file)
        .expect("tract reads the file")
        .into_optimized()
        .expect("optimises")
        .into_runnable()
        .expect("runnable");
    let out = model.run(tvec!(Tensor::from(input).into())).expect("runs");
    let logits = out[0].to_array_view::<f32>().expect("f32");
    logits
        .outer_iter()
        .map(|row| {
            let max = row.iter().fold(f32::MIN, |m, &v| m.max(v));
            let exp: Vec<f64> = row.iter().map(|&v| f64::from(v - max).exp()).collect();
            let sum: f64 = exp.iter().sum();
            let mut ranked: Vec<(usize, f64)> = exp.iter().map(|e| e / sum).enumerate().collect();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            ranked.truncate(5.min(ranked.len()));
            ranked
        })
        .collect()
}

fn assert_same_top5(onnx: &[Vec<(usize, f64)>], predict: &[Vec<(usize, f64)>]) {
    assert_eq!(onnx.len(), predict.len());
    for (image, (o, p)) in onnx.iter().zip(predict).enumerate() {
        let classes = |v: &[(usize, f64)]| v.iter().map(|c| c.0).collect::<Vec<_>>();
        assert_eq!(classes(o), classes(p), "image {image}: top-5 classes");
        for (a, b) in o.iter().zip(p) {
            assert!(
                (a.1 - b.1).abs() <= TOLERANCE,
                "image {image}: {} vs {}",
                a.1,
                b.1
            );
        }
    }
}

/// The predict tests' torchvision-layout state dict (1/16 width, 10 classes).
fn fixture_weights() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/predict/model.pth");
    path.to_str().expect("utf-8 path").to_owned()
}

/// The flags that load `weights` as that fixture's variant.
fn torchvision_flags(weights: &str) -> [&str; 8] {
    [
        "--weights",
        weights,
        "--arch",
        "torchvision",
        "--width",
        "0.0625",
        "--num-classes",
        "10",
    ]
}

#[test]
fn exported_torchvision_weights_give_predicts_top5() {
    // A torchvision state dict (the layout of `--pretrained`'s file) at 1/16 width, 10 classes.
    let dir = temp("export-torchvision");
    let weights = fixture_weights();
    let flags = torchvision_flags(&weights);
    let file = dir.join("model.onnx");
    export(&dir, &flags, &file);
    assert_same_top5(&onnx_top5(&file, 224, 256), &predict(&dir, &flags));
}

#[test]
fn exported_run_gives_predicts_top5_and_keeps_its_class_names() {
    let dir = temp("export-run");
    let data = [
        "--epochs",
        "1",
        "--synthetic-train",
        "128",
        "--synthetic-val",
        "32",
    ];
    train(&dir, &dir.join("run"), &[TINY_MODEL, LEARN, &data].concat());
    let flags = ["--run", "run"];
    let file = dir.join("model.onnx");
    export(&dir, &flags, &file);
    assert_same_top5(&onnx_top5(&file, 67, 77), &predict(&dir, &flags));

    let proto = tract_onnx::onnx()
        .proto_model_for_path(&file)
        .expect("parses");
    let classes = proto
        .metadata_props
        .iter()
        .find(|p| p.key == "alexnet.classes")
        .map(|p| p.value.clone())
        .expect("class names in the metadata");
    let config: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("run/config.json")).expect("config"),
    )
    .expect("JSON");
    let names: Vec<String> = serde_json::from_str(&classes).expect("JSON array");
    assert_eq!(serde_json::json!(names), config["classes"]);
}

#[test]
fn usage_errors_exit_2_and_write_nothing() {
    let dir = temp("export-errors");
    let weights = fixture_weights();
    let tv = torchvision_flags(&weights);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec![], "needs --pretrained, --weights FILE or --run DIR"),
        (vec!["--weights", "missing.bpk"], "no such weights file"),
        ([&tv[..], &["--image-size", "40"]].concat(), "too small"),
        (vec!["--weights", &weights, "--arch", "standard"], ""),
    ];
    for (flags, message) in cases {
        let out = trainer(&dir)
            .arg("export")
            .args(&flags)
            .args(["-o", "model.onnx"])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(message),
            "{flags:?}: {}",
            stderr(&out)
        );
        assert!(!dir.join("model.onnx").exists(), "{flags:?} wrote a file");
    }
    let out = trainer(&dir)
        .arg("export")
        .args(tv)
        .args(["-o", "no/such/dir/model.onnx"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no/such/dir/model.onnx"),
        "{}",
        stderr(&out)
    );
}
