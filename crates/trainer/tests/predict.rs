//! `trainer predict` end to end: PyTorch parity of the probabilities on a torchvision-structured
//! model (fixtures from tools/make_predict_fixtures.py), and the documented errors for missing,
//! truncated and wrong-variant weights files and unreadable images.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/predict")
}

fn predict(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .arg("predict")
        .args(args)
        .env_remove("BURN_DEVICE")
        .output()
        .expect("trainer runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The fixture model's flags: torchvision's layout at 1/16 width with 10 classes.
fn model_flags(weights: &Path) -> Vec<String> {
    flags_for("torchvision", weights)
}

/// `weights` read as variant `arch` at the fixture's width and class count.
fn flags_for(arch: &str, weights: &Path) -> Vec<String> {
    [
        "--arch",
        arch,
        "--width",
        "0.0625",
        "--num-classes",
        "10",
        "--device",
        "flex",
        "--weights",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([weights.to_string_lossy().into_owned()])
    .collect()
}

/// Largest allowed difference between our probabilities and PyTorch's. Measured (2026-11-28,
/// flex): 4.2e-7 on the 256x256 image (no resampling: crop and normalisation only) and 3.2e-4 on
/// the 400x300 one (our antialiased bilinear resize differs from PIL's by at most 1/255 per
/// value, see alexnet-data's eval_golden test).
const TOLERANCE_NO_RESAMPLING: f64 = 1e-5;
const TOLERANCE_RESAMPLED: f64 = 1e-3;

#[test]
fn probabilities_match_pytorch_after_the_eval_transform() {
    assert_matches_pytorch(model_flags(&fixtures().join("model.pth")));
}

#[test]
fn a_torchvision_state_dict_is_recognised_without_arch() {
    // No --arch, --width or --num-classes: the file's shapes say what it holds.
    let weights = fixtures().join("model.pth");
    let flags = ["--device", "flex", "--weights", &weights.to_string_lossy()];
    assert_matches_pytorch(flags.iter().map(|s| s.to_string()).collect());
}

/// `predict` with `args` reproduces PyTorch's probabilities on the two fixture images.
fn assert_matches_pytorch(mut args: Vec<String>) {
    let dir = fixtures();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json")).expect("expected.json"),
    )
    .expect("json");
    args.extend(["--topk".into(), "10".into(), "--json".into()]);
    for name in ["square.png", "wide.png"] {
        args.push(dir.join(name).to_string_lossy().into_owned());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = predict(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let got: Value = serde_json::from_str(&text(&out.stdout)).expect("predict --json is JSON");
    let got = got.as_array().expect("an array");
    assert_eq!(got.len(), 2);
    for (entry, (name, tolerance)) in got.iter().zip([
        ("square.png", TOLERANCE_NO_RESAMPLING),
        ("wide.png", TOLERANCE_RESAMPLED),
    ]) {
        assert!(entry["image"].as_str().expect("image").ends_with(name));
        let classes = entry["top_k"].as_array().expect("classes");
        assert_eq!(classes.len(), 10, "--topk 10 lists every class");
        let want = &expected[name];
        let want_top5: Vec<u64> = want["top5"]
            .as_array()
            .expect("top5")
            .iter()
            .map(|v| v.as_u64().expect("index"))
            .collect();
        let got_top5: Vec<u64> = classes[..5]
            .iter()
            .map(|c| c["index"].as_u64().expect("index"))
            .collect();
        assert_eq!(got_top5, want_top5, "{name}: top-5 order");
        let mut worst = 0.0f64;
        for c in classes {
            let index = c["index"].as_u64().expect("index") as usize;
            let prob = c["prob"].as_f64().expect("prob");
            let torch = want["probs"][index].as_f64().expect("prob");
            worst = worst.max((prob - torch).abs());
            assert_eq!(c["label"], format!("class {index}"));
        }
        eprintln!("{name}: max |p - p_torch| = {worst:.2e}");
        assert!(worst <= tolerance, "{name}: {worst:e} > {tolerance:e}");
    }
}

#[test]
fn text_output_lists_the_top_classes_per_image() {
    let dir = fixtures();
    let mut args = model_flags(&dir.join("model.pth"));
    args.push(dir.join("square.png").to_string_lossy().into_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = predict(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 6, "the image, then 5 classes:\n{stdout}");
    assert!(lines[0].ends_with("square.png"));
    assert!(
        lines[1].contains('%') && lines[1].contains("class "),
        "{stdout}"
    );
}

#[test]
fn bad_weights_files_are_usage_errors_with_the_file_named() {
    let dir = fixtures();
    let tmp = tempfile::tempdir().expect("tempdir");
    let image = dir.join("square.png");
    let image = image.to_str().expect("utf-8");

    let missing = tmp.path().join("nope.pth");
    let truncated = tmp.path().join("truncated.pth");
    let bytes = std::fs::read(dir.join("model.pth")).expect("fixture");
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).expect("write");

    for (file, want) in [
        (&missing, "no such weights file"),
        (&truncated, "cannot read weights"),
    ] {
        let mut args = model_flags(file);
        args.push(image.into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = predict(&args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(want), "{err}");
        assert!(err.contains(&*file.to_string_lossy()), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }

    // The fixture file is torchvision's layout; as the `standard` variant its conv1 differs.
    let mut args = flags_for("standard", &dir.join("model.pth"));
    args.push(image.into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = predict(&args);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("has shape") && err.contains("conv1.weight"),
        "{err}"
    );
}

#[test]
fn an_unreadable_image_is_reported_and_the_others_are_still_classified() {
    let dir = fixtures();
    let tmp = tempfile::tempdir().expect("tempdir");
    let broken = tmp.path().join("broken.jpg");
    std::fs::write(&broken, b"not a jpeg").expect("write");
    let mut args = model_flags(&dir.join("model.pth"));
    args.push("--json".into());
    args.push(broken.to_string_lossy().into_owned());
    args.push(dir.join("square.png").to_string_lossy().into_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = predict(&args);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let got: Value = serde_json::from_str(&text(&out.stdout)).expect("JSON even so");
    assert!(got[0]["error"].as_str().is_some_and(|e| !e.is_empty()));
    assert_eq!(got[1]["top_k"].as_array().map(Vec::len), Some(5));
    assert!(text(&out.stderr).contains("1 of 2 images could not be classified"));
}

#[test]
fn pretrained_weights_are_taken_from_torch_hubs_cache() {
    // torch hub's copy is used as it is, without a download: here a stand-in of the right name
    // (the 1/16-width fixture), which then does not fit torchvision's full-width network.
    let torch_home = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let hub = torch_home.path().join("hub/checkpoints");
    std::fs::create_dir_all(&hub).expect("mkdir");
    let file = hub.join("alexnet-owt-7be5be79.pth");
    std::fs::copy(fixtures().join("model.pth"), &file).expect("copy");
    let image = fixtures().join("square.png");
    let out = Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(["predict", "--pretrained", "--device", "flex"])
        .arg(&image)
        .env("TORCH_HOME", torch_home.path())
        .env("ALEXNET_CACHE_DIR", cache.path())
        .output()
        .expect("trainer runs");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&*file.to_string_lossy()), "{err}");
    assert!(err.contains("has shape"), "{err}");
    assert!(
        std::fs::read_dir(cache.path())
            .expect("cache")
            .next()
            .is_none()
    );
}
