//! The architecture facts of DESIGN.md: layer shapes, parameter counts, minimum input sizes,
//! the paper's initialisation, torchvision's full-size state-dict shapes, and the head swap.

mod common;

use alexnet::{AlexNetConfig, InputError};
use burn::config::Config;
use burn::module::Module;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use common::*;

fn flex() -> Device {
    alexnet_device::parse_device("flex").expect("flex is a dev-dependency feature")
}

#[test]
fn standard_layer_shapes_at_227_follow_the_spec() {
    let device = flex();
    let m = AlexNetConfig::standard().init(&device);
    let x = Tensor::<4>::ones([1, 3, 227, 227], &device);
    let mut shapes = Vec::new();
    let x = relu(m.conv1.forward(x));
    shapes.push(x.dims());
    let x = m.pool.forward(x);
    shapes.push(x.dims());
    let x = relu(m.conv2.forward(x));
    shapes.push(x.dims());
    let x = m.pool.forward(x);
    shapes.push(x.dims());
    let x = relu(m.conv3.forward(x));
    shapes.push(x.dims());
    let x = relu(m.conv4.forward(x));
    shapes.push(x.dims());
    let x = relu(m.conv5.forward(x));
    shapes.push(x.dims());
    let x = m.pool.forward(x);
    shapes.push(x.dims());
    assert_eq!(
        shapes,
        [
            [1, 96, 55, 55],
            [1, 96, 27, 27],
            [1, 256, 27, 27],
            [1, 256, 13, 13],
            [1, 384, 13, 13],
            [1, 384, 13, 13],
            [1, 256, 13, 13],
            [1, 256, 6, 6],
        ]
    );
    let features = m.forward_features(Tensor::<4>::ones([1, 3, 227, 227], &device));
    assert_eq!(features.dims(), [1, 256, 6, 6]);
    let logits = m.forward(Tensor::<4>::ones([2, 3, 227, 227], &device));
    assert_eq!(logits.dims(), [2, 1000]);
}

#[test]
fn parameter_counts_match_the_published_networks() {
    let device = flex();
    assert_eq!(
        AlexNetConfig::standard().init(&device).num_params(),
        62_378_344
    );
    assert_eq!(
        AlexNetConfig::paper2012().init(&device).num_params(),
        60_965_224
    );
    assert_eq!(
        AlexNetConfig::torchvision().init(&device).num_params(),
        61_100_840
    );
}

#[test]
fn minimum_input_sizes_are_67_and_63() {
    assert_eq!(AlexNetConfig::standard().min_input_size(), 67);
    assert_eq!(AlexNetConfig::paper2012().min_input_size(), 67);
    assert_eq!(AlexNetConfig::torchvision().min_input_size(), 63);
}

#[test]
fn every_input_down_to_the_minimum_gives_6x6_features() {
    let device = flex();
    for variant in VARIANTS {
        let config = fixture_config(variant);
        let model = config.init(&device);
        let min = config.min_input_size();
        for (h, w) in [
            (min, min),
            (min, 2 * min + 1),
            (config.image_size, config.image_size),
            (300, 256),
        ] {
            let features = model.forward_features(Tensor::<4>::zeros([1, 3, h, w], &device));
            assert_eq!(features.dims(), [1, 16, 6, 6], "{variant} at {h}x{w}");
        }
    }
}

#[test]
fn too_small_or_non_rgb_input_is_a_clear_error() {
    let device = flex();
    let model = fixture_config("standard").init(&device);
    let err = model
        .try_forward(Tensor::<4>::zeros([1, 3, 66, 100], &device))
        .expect_err("must be rejected");
    assert_eq!(
        err,
        InputError::TooSmall {
            height: 66,
            width: 100,
            min: 67
        }
    );
    assert!(err.to_string().contains("minimum is 67x67"), "{err}");
    let err = model
        .try_forward(Tensor::<4>::zeros([1, 1, 227, 227], &device))
        .expect_err("must be rejected");
    assert!(matches!(err, InputError::Channels { .. }));

    let torchvision = fixture_config("torchvision").init(&device);
    assert!(
        torchvision
            .try_forward(Tensor::<4>::zeros([1, 3, 63, 63], &device))
            .is_ok()
    );
    assert!(
        torchvision
            .try_forward(Tensor::<4>::zeros([1, 3, 62, 63], &device))
            .is_err()
    );
}

#[test]
#[should_panic(expected = "too small for this AlexNet")]
fn forward_panics_with_the_message_on_too_small_input() {
    let device = flex();
    let model = fixture_config("standard").init(&device);
    let _ = model.forward(Tensor::<4>::zeros([1, 3, 64, 64], &device));
}

#[test]
fn paper2012_initialisation_is_the_papers() {
    let device = flex();
    let model = AlexNetConfig::paper2012().init(&device);
    let bias = |b: &Option<burn::module::Param<Tensor<1>>>| values(b.as_ref().expect("bias").val());
    let all = |v: Vec<f32>, x: f32| v.iter().all(|&b| b == x);
    assert!(all(bias(&model.conv1.bias), 0.0));
    assert!(all(bias(&model.conv2.bias), 1.0));
    assert!(all(bias(&model.conv3.bias), 0.0));
    assert!(all(bias(&model.conv4.bias), 1.0));
    assert!(all(bias(&model.conv5.bias), 1.0));
    assert!(all(bias(&model.fc6.bias), 1.0));
    assert!(all(bias(&model.fc7.bias), 1.0));
    assert!(all(bias(&model.fc8.bias), 0.0));
    for (name, w) in [
        ("conv1", values(model.conv1.weight.val())),
        ("conv3", values(model.conv3.weight.val())),
        ("fc6", values(model.fc6.weight.val())),
    ] {
        let n = w.len() as f64;
        let mean = w.iter().map(|&v| v as f64).sum::<f64>() / n;
        let std = (w.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!(mean.abs() < 1e-3, "{name} mean {mean}");
        assert!((std - 0.01).abs() < 5e-4, "{name} std {std}");
    }
    // The groups halve the input channels of conv2, conv4 and conv5.
    assert_eq!(model.conv2.weight.dims(), [256, 48, 5, 5]);
    assert_eq!(model.conv4.weight.dims(), [384, 192, 3, 3]);
    assert_eq!(model.conv5.weight.dims(), [256, 192, 3, 3]);
    assert!(model.lrn.is_some());
}

#[test]
fn torchvision_variant_has_torchvisions_full_size_shapes() {
    // torchvision_shapes.json is the real torchvision.models.alexnet() state dict's key -> shape.
    let json = std::fs::read_to_string(fixture("torchvision_shapes.json")).expect("fixture");
    let torchvision: std::collections::BTreeMap<String, Vec<usize>> =
        serde_json::from_str(&json).expect("valid JSON");
    let model = AlexNetConfig::torchvision().init(&flex());
    let ours = model.parameter_shapes();
    assert_eq!(ours.len(), torchvision.len());
    let rename = [
        ("features.0.", "conv1."),
        ("features.3.", "conv2."),
        ("features.6.", "conv3."),
        ("features.8.", "conv4."),
        ("features.10.", "conv5."),
        ("classifier.1.", "fc6."),
        ("classifier.4.", "fc7."),
        ("classifier.6.", "fc8."),
    ];
    for (key, shape) in torchvision {
        let (from, to) = rename
            .iter()
            .find(|(from, _)| key.starts_with(from))
            .expect("known key");
        let burn_key = key.replacen(from, to, 1);
        let mut burn_shape = shape.clone();
        if burn_key.starts_with("fc") && burn_key.ends_with("weight") {
            burn_shape.reverse(); // Linear: PyTorch [out, in], Burn [in, out]
        }
        let found = ours
            .iter()
            .find(|(k, _)| *k == burn_key)
            .map(|(_, s)| s.clone());
        assert_eq!(found, Some(burn_shape), "{key} -> {burn_key}");
    }
}

#[test]
fn with_classes_swaps_only_the_head() {
    let device = flex();
    let model = fixture_config("standard").init(&device);
    let fc7_before = values(model.fc7.weight.val());
    let conv1_before = values(model.conv1.weight.val());
    let model = model.with_classes(3, &device);
    assert_eq!(model.num_classes(), 3);
    assert_eq!(model.fc8.weight.dims(), [32, 3]);
    assert_eq!(values(model.fc7.weight.val()), fc7_before);
    assert_eq!(values(model.conv1.weight.val()), conv1_before);
    let logits = model.forward(Tensor::<4>::zeros([2, 3, 99, 99], &device));
    assert_eq!(logits.dims(), [2, 3]);
}

#[test]
fn width_factor_scales_channels_and_keeps_groups_divisible() {
    let config = AlexNetConfig::paper2012().with_width(0.1);
    assert_eq!(config.channels, [10, 26, 38, 38, 26]);
    assert_eq!(config.hidden, 410);
    assert!(config.channels.iter().all(|c| c % 2 == 0));
    assert_eq!(
        AlexNetConfig::standard().with_width(1.0),
        AlexNetConfig::standard()
    );
}

#[test]
fn config_round_trips_through_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.json");
    let config = AlexNetConfig::paper2012().with_num_classes(10);
    config.save(&path).expect("save");
    assert_eq!(AlexNetConfig::load(&path).expect("load"), config);
}
