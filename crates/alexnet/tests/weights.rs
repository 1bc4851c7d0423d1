//! Saving and loading: round trips are bit-identical, and every kind of wrong file is a
//! documented [`WeightsError`] naming the file and tensor, never a panic.

mod common;

use std::path::Path;

use alexnet::{AlexNet, AlexNetConfig, AlexNetInit, ConfigSource, WeightsError, WeightsInfo};
use burn::tensor::{Device, Tensor};
use common::*;

fn flex() -> Device {
    alexnet_device::parse_device("flex").expect("flex is a dev-dependency feature")
}

fn logits(model: &AlexNet, device: &Device) -> Vec<f32> {
    let inputs = read_safetensors("inputs.safetensors");
    let input: Tensor<4> = tensor(&inputs["input_b"], device);
    values(model.forward(input))
}

/// Copies a safetensors fixture, letting `edit` drop or add tensors on the way.
fn edited_copy(src: &str, dst: &Path, edit: impl FnOnce(&mut Vec<(String, Vec<usize>, Vec<u8>)>)) {
    let bytes = std::fs::read(fixture(src)).expect("fixture");
    let file = safetensors::SafeTensors::deserialize(&bytes).expect("safetensors");
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = file
        .tensors()
        .into_iter()
        .map(|(k, v)| (k, v.shape().to_vec(), v.data().to_vec()))
        .collect();
    edit(&mut tensors);
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
        .iter()
        .map(|(k, shape, data)| {
            let view =
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), data)
                    .expect("view");
            (k.clone(), view)
        })
        .collect();
    safetensors::serialize_to_file(views, None, dst).expect("write");
}

#[test]
fn save_then_load_gives_bit_identical_logits() {
    let device = flex();
    let dir = tempfile::tempdir().expect("tempdir");
    for variant in VARIANTS {
        let model = fixture_config(variant).init(&device);
        let before = logits(&model, &device);
        for ext in ["bpk", "safetensors"] {
            let path = dir.path().join(format!("{variant}.{ext}"));
            model.save_weights(&path).expect("save");
            let loaded = fixture_config(variant)
                .init(&device)
                .load_weights(&path)
                .expect("load");
            assert_eq!(logits(&loaded, &device), before, "{variant} via .{ext}");
        }
    }
    // Only the finished files are left: no temporary files.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 6, "{names:?}");
}

#[test]
fn safetensors_written_here_use_pytorch_layout() {
    let device = flex();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("model.safetensors");
    fixture_config("standard")
        .init(&device)
        .save_weights(&path)
        .expect("save");
    let bytes = std::fs::read(&path).expect("read");
    let file = safetensors::SafeTensors::deserialize(&bytes).expect("safetensors");
    // PyTorch's nn.Linear(576, 32).weight is [32, 576].
    assert_eq!(file.tensor("fc6.weight").expect("fc6").shape(), [32, 576]);
    assert_eq!(
        file.tensor("conv2.weight").expect("conv2").shape(),
        [16, 8, 5, 5]
    );
}

#[test]
fn a_file_for_another_variant_names_the_tensor_and_both_shapes() {
    let device = flex();
    let err = fixture_config("standard")
        .init(&device)
        .load_weights(fixture("paper2012.safetensors"))
        .expect_err("must be rejected");
    match &err {
        WeightsError::ShapeMismatch {
            tensor,
            expected,
            found,
            ..
        } => {
            assert!(tensor.starts_with("conv"), "{tensor}");
            assert_ne!(expected, found);
        }
        other => panic!("expected a shape mismatch, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("paper2012.safetensors") && message.contains("expects"),
        "{message}"
    );
}

#[test]
fn a_file_for_another_class_count_names_fc8() {
    let device = flex();
    let err = fixture_config("torchvision")
        .with_num_classes(1000)
        .init(&device)
        .load_weights(fixture("torchvision.pth"))
        .expect_err("must be rejected");
    match err {
        WeightsError::ShapeMismatch {
            tensor,
            expected,
            found,
            ..
        } => {
            assert!(tensor.starts_with("fc8."), "{tensor}");
            assert!(
                expected.contains(&1000) && found.contains(&10),
                "{expected:?} {found:?}"
            );
        }
        other => panic!("expected a shape mismatch, got {other:?}"),
    }
}

#[test]
fn a_missing_tensor_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("missing.safetensors");
    edited_copy("standard.safetensors", &path, |t| {
        t.retain(|(k, _, _)| k != "conv3.bias")
    });
    let err = fixture_config("standard")
        .init(&flex())
        .load_weights(&path)
        .expect_err("must be rejected");
    match &err {
        WeightsError::MissingTensor {
            tensor, expected, ..
        } => {
            assert_eq!(tensor, "conv3.bias");
            assert_eq!(expected, &[24]);
        }
        other => panic!("expected a missing tensor, got {other:?}"),
    }
    assert!(err.to_string().contains("conv3.bias"));
}

#[test]
fn an_extra_tensor_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("extra.safetensors");
    edited_copy("standard.safetensors", &path, |t| {
        t.push(("fc9.weight".into(), vec![2], vec![0; 8]));
    });
    let err = fixture_config("standard")
        .init(&flex())
        .load_weights(&path)
        .expect_err("must be rejected");
    assert!(
        matches!(&err, WeightsError::UnexpectedTensor { tensor, .. } if tensor == "fc9.weight"),
        "{err:?}"
    );
}

#[test]
fn truncated_files_are_unreadable_errors() {
    let device = flex();
    let dir = tempfile::tempdir().expect("tempdir");
    let saved = dir.path().join("full.bpk");
    fixture_config("standard")
        .init(&device)
        .save_weights(&saved)
        .expect("save");
    for (name, source) in [
        ("cut.pth", fixture("standard.pth")),
        ("cut.safetensors", fixture("standard.safetensors")),
        ("cut.bpk", saved),
    ] {
        let bytes = std::fs::read(&source).expect("read");
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("write");
        let err = fixture_config("standard")
            .init(&device)
            .load_weights(&path)
            .expect_err("must be rejected");
        assert!(
            matches!(err, WeightsError::Unreadable { .. }),
            "{name}: expected Unreadable, got {err:?}"
        );
        assert!(err.to_string().contains(name), "{err}");
    }
}

#[test]
fn garbage_with_a_weights_extension_is_unreadable() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["junk.pth", "junk.safetensors", "junk.bpk"] {
        let path = dir.path().join(name);
        std::fs::write(&path, b"this is not a weights file").expect("write");
        let err = fixture_config("standard")
            .init(&flex())
            .load_weights(&path)
            .expect_err("must be rejected");
        assert!(
            matches!(err, WeightsError::Unreadable { .. }),
            "{name}: {err:?}"
        );
    }
}

#[test]
fn unknown_extension_missing_file_and_pth_output_are_errors() {
    let device = flex();
    let model = fixture_config("standard").init(&device);
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(matches!(
        model.save_weights(dir.path().join("model.onnx")),
        Err(WeightsError::UnknownFormat { .. })
    ));
    assert!(matches!(
        model.save_weights(dir.path().join("model.pth")),
        Err(WeightsError::ReadOnlyFormat { .. })
    ));
    assert!(matches!(
        fixture_config("standard")
            .init(&device)
            .load_weights(dir.path().join("absent.bpk")),
        Err(WeightsError::NotFound { .. })
    ));
    assert!(matches!(
        model.save_weights(dir.path().join("no-such-dir").join("model.bpk")),
        Err(WeightsError::Write { .. })
    ));
}

#[test]
fn from_file_rebuilds_every_variant_from_the_file_alone() {
    let device = flex();
    let dir = tempfile::tempdir().expect("tempdir");
    let configs = [
        AlexNetConfig::standard()
            .with_width(0.125)
            .with_num_classes(7),
        AlexNetConfig::paper2012()
            .with_width(0.0625)
            .with_num_classes(3),
        AlexNetConfig::torchvision()
            .with_width(0.25)
            .with_num_classes(12)
            .with_dropout(0.2)
            .with_init(AlexNetInit::Kaiming)
            .with_image_size(99),
    ];
    let classes: Vec<String> = (0..3).map(|i| format!("kind {i}")).collect();
    for config in configs {
        let model = config.init(&device);
        let before = logits(&model, &device);
        for ext in ["bpk", "safetensors"] {
            let path = dir.path().join(format!("model.{ext}"));
            model.save_weights(&path).expect("save");
            let info = WeightsInfo::read(&path).expect("info");
            assert_eq!(info.config, config, ".{ext}");
            assert_eq!(info.source, ConfigSource::Metadata);
            assert_eq!(info.classes, None);
            let loaded = AlexNet::from_file(&path, &device).expect("from_file");
            assert_eq!(loaded.config, config);
            assert_eq!(logits(&loaded, &device), before, "{config:?} via .{ext}");
        }
        if config.num_classes == 3 {
            let path = dir.path().join("named.bpk");
            model
                .save_weights_with_classes(&path, &classes)
                .expect("save");
            let info = WeightsInfo::read(&path).expect("info");
            assert_eq!(info.classes.as_deref(), Some(classes.as_slice()));
        }
    }
}

#[test]
fn from_file_reads_a_torchvision_state_dict_by_its_shapes() {
    let device = flex();
    let path = fixture("torchvision.pth");
    let info = WeightsInfo::read(&path).expect("info");
    assert_eq!(info.source, ConfigSource::TorchvisionShapes);
    assert_eq!(info.config, fixture_config("torchvision"));
    let model = AlexNet::from_file(&path, &device).expect("from_file");
    let want = fixture_config("torchvision")
        .init(&device)
        .load_weights(&path)
        .expect("load");
    assert_eq!(logits(&model, &device), logits(&want, &device));
}

#[test]
fn a_file_without_metadata_or_torchvision_keys_asks_for_a_config() {
    let device = flex();
    // Written before weight files carried metadata: this crate's key names, no config.
    for name in ["standard.safetensors", "paper2012.pth"] {
        let err = AlexNet::from_file(fixture(name), &device).expect_err("unrecognised");
        assert!(
            matches!(err, WeightsError::Unrecognised { .. }),
            "{name}: {err}"
        );
        assert!(err.to_string().contains("AlexNetConfig"), "{err}");
    }
    // It still loads when the config is given.
    fixture_config("standard")
        .init(&device)
        .load_weights(fixture("standard.safetensors"))
        .expect("loads with a config");
}
