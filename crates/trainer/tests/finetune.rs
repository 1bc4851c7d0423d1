//! Fine-tuning end to end: `trainer train --weights FILE --num-classes N` on a folder dataset
//! loads a torchvision-layout `.pth` whose head has another class count, swaps the head, trains,
//! and with `--freeze-features` leaves conv1-conv5 exactly as they were in the file.
//!
//! The weights file is the predict fixture (torchvision's layout at 1/16 width, 10 classes, from
//! tools/make_predict_fixtures.py); the dataset is 3 classes of the data crate's image fixtures.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use alexnet::{AlexNet, AlexNetConfig};
use burn::tensor::{Device, Tensor};

const WIDTH: &str = "0.0625";

fn pth() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/predict/model.pth")
}

/// `DIR/{train,val}/{a,b,c}/*`: three classes of two images each, from the data crate's fixtures.
fn three_class_folder(root: &Path) {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../alexnet-data/tests/fixtures");
    for split in ["train", "val"] {
        for class in ["a", "b", "c"] {
            let dir = root.join(split).join(class);
            std::fs::create_dir_all(&dir).expect("mkdir");
            for name in ["rgb.jpg", "rgb.png"] {
                std::fs::copy(fixtures.join(name), dir.join(name)).expect("copy fixture");
            }
        }
    }
}

fn finetune(data: &Path, run: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(["train", "--arch", "torchvision", "--width", WIDTH])
        .args(["--num-classes", "3", "--dataset", "folder", "--data-dir"])
        .arg(data)
        .arg("--weights")
        .arg(pth())
        .args([
            "--epochs",
            "1",
            "-b",
            "3",
            "--image-size",
            "64",
            "--aug",
            "none",
        ])
        // No weight decay: a layer that changed did so because gradient reached it.
        .args([
            "--opt", "adamw", "--lr", "1e-3", "--wd", "0", "--device", "flex",
        ])
        .arg("--output-dir")
        .arg(run)
        .args(extra)
        .env_remove("BURN_DEVICE")
        .env_remove("ALEXNET_DATA_DIR")
        .output()
        .expect("trainer runs")
}

fn load(file: &Path, num_classes: usize) -> AlexNet {
    let device: Device = alexnet_device::parse_device("flex").expect("flex");
    let config = AlexNetConfig::torchvision()
        .with_width(WIDTH.parse().expect("width"))
        .with_num_classes(num_classes);
    config
        .init(&device)
        .load_weights(file)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("f32 values")
}

/// (weight, bias) of every layer, in order conv1..conv5, fc6, fc7, fc8.
fn layers(m: &AlexNet) -> Vec<(&'static str, Vec<f32>, Vec<f32>)> {
    let bias = |b: Option<Vec<f32>>| b.expect("layer has a bias");
    let convs = [
        ("conv1", &m.conv1),
        ("conv2", &m.conv2),
        ("conv3", &m.conv3),
        ("conv4", &m.conv4),
        ("conv5", &m.conv5),
    ]
    .map(|(name, c)| {
        let b = c.bias.as_ref().map(|b| values(b.val()));
        (name, values(c.weight.val()), bias(b))
    });
    let fcs = [("fc6", &m.fc6), ("fc7", &m.fc7), ("fc8", &m.fc8)].map(|(name, l)| {
        let b = l.bias.as_ref().map(|b| values(b.val()));
        (name, values(l.weight.val()), bias(b))
    });
    convs.into_iter().chain(fcs).collect()
}

#[test]
fn weights_with_another_head_are_fine_tuned_and_frozen_convolutions_stay_put() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    three_class_folder(&data);
    let file = layers(&load(&pth(), 10));

    for freeze in [true, false] {
        let run = dir.path().join(format!("run-freeze-{freeze}"));
        let extra: &[&str] = if freeze { &["--freeze-features"] } else { &[] };
        let out = finetune(&data, &run, extra);
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{log}");
        assert!(log.contains("fc8 starts fresh for 3 classes"), "{log}");

        let tuned = load(&run.join("model.bpk"), 3);
        assert_eq!(tuned.num_classes(), 3);
        for ((name, w, b), (_, w0, b0)) in layers(&tuned).iter().zip(&file) {
            let unchanged = w == w0 && b == b0;
            match *name {
                // Only the head has another shape; it was re-initialised and trained.
                "fc8" => assert_eq!((w.len(), b.len()), (3 * w0.len() / 10, 3), "{name}"),
                // Frozen layers are bit for bit the file's; every other layer was trained.
                conv if conv.starts_with("conv") => {
                    assert_eq!(unchanged, freeze, "{name} with freeze={freeze}")
                }
                fc => assert!(!unchanged, "{fc} was trained (freeze={freeze})"),
            }
        }
    }
}
