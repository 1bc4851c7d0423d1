//! Pretrained-weights metadata and the fine-tuning load: the bundled ImageNet class names, the
//! `AlexNetWeights` facts, and `load_backbone` keeping every layer but a re-initialised head.

mod common;

use alexnet::{AlexNet, AlexNetConfig, AlexNetWeights, WeightsError, imagenet_classes};
use burn::module::Module;
use burn::nn::Linear;
use burn::nn::conv::Conv2d;
use burn::tensor::Device;
use common::*;

fn flex() -> Device {
    alexnet_device::parse_device("flex").expect("flex is a dev-dependency feature")
}

#[test]
fn imagenet_class_names_are_torchvisions_1000_in_wordnet_order() {
    let classes = imagenet_classes();
    assert_eq!(classes.len(), 1000);
    assert_eq!(classes[0], "tench");
    assert_eq!(classes[1], "goldfish");
    assert_eq!(classes[281], "tabby");
    assert_eq!(classes[999], "toilet tissue");
    assert!(classes.iter().all(|c| !c.is_empty() && c.trim() == *c));
}

#[test]
fn imagenet1k_v1_describes_torchvisions_file() {
    let w = AlexNetWeights::ImageNet1kV1;
    assert_eq!(AlexNetWeights::DEFAULT, w);
    assert_eq!(w.name(), "IMAGENET1K_V1");
    assert!(w.url().ends_with(w.file_name()));
    assert!(w.file_name().contains(w.sha256_prefix()));
    assert_eq!((w.acc1(), w.acc5()), (56.522, 79.066));
    assert_eq!(w.categories().len(), 1000);
    let t = w.transforms();
    assert_eq!((t.resize_size, t.crop_size), (256, 224));
    // The parameter count is the one of the network the file fits.
    let model: AlexNet = w.config().init(&flex());
    assert_eq!(model.num_params(), w.num_params());
    assert_eq!(w.config(), AlexNetConfig::torchvision());
    for name in ["IMAGENET1K_V1", "imagenet1k-v1", "DEFAULT"] {
        assert_eq!(name.parse::<AlexNetWeights>(), Ok(w), "{name}");
    }
    assert!("IMAGENET1K_V2".parse::<AlexNetWeights>().is_err());
}

/// Every value of one named parameter (`conv1.weight`, ...).
fn param(model: &AlexNet, name: &str) -> Vec<f32> {
    let (layer, kind) = name.split_once('.').expect("layer.kind");
    let weight = kind == "weight";
    let conv = |c: &Conv2d| {
        if weight {
            values(c.weight.val())
        } else {
            values(c.bias.as_ref().expect("bias").val())
        }
    };
    let fc = |l: &Linear| {
        if weight {
            values(l.weight.val())
        } else {
            values(l.bias.as_ref().expect("bias").val())
        }
    };
    match layer {
        "conv1" => conv(&model.conv1),
        "conv2" => conv(&model.conv2),
        "conv3" => conv(&model.conv3),
        "conv4" => conv(&model.conv4),
        "conv5" => conv(&model.conv5),
        "fc6" => fc(&model.fc6),
        "fc7" => fc(&model.fc7),
        "fc8" => fc(&model.fc8),
        other => panic!("no layer {other}"),
    }
}

#[test]
fn load_backbone_keeps_every_layer_but_the_head_for_a_new_class_count() {
    let device = flex();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("imagenet.safetensors");
    let imagenet: AlexNet = fixture_config("torchvision")
        .with_num_classes(1000)
        .init(&device);
    imagenet.save_weights(&file).expect("save");

    let fresh: AlexNet = fixture_config("torchvision")
        .with_num_classes(7)
        .init(&device);
    let head_before = (param(&fresh, "fc8.weight"), param(&fresh, "fc8.bias"));
    // The strict load refuses the 1000-class head ...
    let strict = fixture_config("torchvision")
        .with_num_classes(7)
        .init(&device)
        .load_weights(&file);
    assert!(
        matches!(&strict, Err(WeightsError::ShapeMismatch { tensor, .. }) if tensor.starts_with("fc8.")),
        "{:?}",
        strict.err()
    );
    // ... the backbone load takes everything else and leaves the new head as initialised.
    let tuned = fresh.load_backbone(&file).expect("backbone");
    assert_eq!(tuned.num_classes(), 7);
    for layer in ["conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7"] {
        for kind in ["weight", "bias"] {
            let name = format!("{layer}.{kind}");
            assert_eq!(
                param(&tuned, &name),
                param(&imagenet, &name),
                "{name} loaded"
            );
        }
    }
    assert_eq!(
        (param(&tuned, "fc8.weight"), param(&tuned, "fc8.bias")),
        head_before,
        "the head keeps its fresh initialisation"
    );
}

#[test]
fn load_backbone_still_refuses_another_variant() {
    let device = flex();
    let err = fixture_config("standard")
        .init(&device)
        .load_backbone(fixture("torchvision.safetensors"))
        .expect_err("torchvision weights do not fit the standard variant");
    assert!(
        matches!(&err, WeightsError::ShapeMismatch { tensor, .. } if tensor.starts_with("conv")),
        "{err}"
    );
}
