//! Numerical parity with PyTorch: the fixtures in tests/fixtures were written by
//! tools/make_fixtures.py (torch 2.9.0) from reduced-width models that keep every layer of each
//! variant (grouped convolutions and LRN included). Loading their weights here must reproduce
//! PyTorch's logits and features within [`common::PARITY_TOLERANCE`] relative to the largest
//! expected value, on every CPU backend, from both the `.pth` and the `.safetensors` file.

mod common;

use alexnet::AlexNet;
use burn::tensor::{Device, Tensor};
use common::*;

fn load(variant: &str, ext: &str, device: &Device) -> AlexNet {
    let path = fixture(&format!("{variant}.{ext}"));
    fixture_config(variant)
        .init(device)
        .load_weights(&path)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn check_variant(variant: &str) {
    let inputs = read_safetensors("inputs.safetensors");
    let expected = read_safetensors(&format!("{variant}_expected.safetensors"));
    let scale = input_scale(variant);
    for (backend, device) in cpu_devices() {
        for ext in ["pth", "safetensors"] {
            let model = load(variant, ext, &device);
            for case in ["a", "b", "c"] {
                let input: Tensor<4> = tensor(&inputs[&format!("input_{case}")], &device);
                let logits = model.forward(input.mul_scalar(scale));
                let want = &expected[&format!("logits_{case}")];
                assert_eq!(logits.dims().to_vec(), want.1, "{variant} logits shape");
                let err = relative_error(&values(logits), &want.0);
                eprintln!("{variant} .{ext} {backend} logits_{case}: relative error {err:e}");
                assert!(
                    err <= PARITY_TOLERANCE,
                    "{variant} ({ext}) on {backend}, input {case}: logits differ from PyTorch by {err:e}"
                );
            }
            let input: Tensor<4> = tensor(&inputs["input_a"], &device);
            let features = model.forward_features(input.mul_scalar(scale));
            let want = &expected["features_a"];
            assert_eq!(features.dims().to_vec(), want.1, "{variant} features shape");
            let err = relative_error(&values(features), &want.0);
            assert!(
                err <= PARITY_TOLERANCE,
                "{variant} ({ext}) on {backend}: features differ from PyTorch by {err:e}"
            );
            let input: Tensor<4> = tensor(&inputs["input_a"], &device);
            let fc7 = model.forward_fc7(input.mul_scalar(scale));
            let want = &expected["fc7_a"];
            assert_eq!(fc7.dims().to_vec(), want.1, "{variant} fc7 shape");
            let err = relative_error(&values(fc7), &want.0);
            assert!(
                err <= PARITY_TOLERANCE,
                "{variant} ({ext}) on {backend}: fc7 differs from PyTorch by {err:e}"
            );
        }
    }
}

#[test]
fn standard_matches_pytorch() {
    check_variant("standard");
}

#[test]
fn paper2012_with_groups_and_lrn_matches_pytorch() {
    check_variant("paper2012");
}

#[test]
fn torchvision_matches_pytorch_from_torchvision_keys() {
    check_variant("torchvision");
}

#[test]
fn flex_and_ndarray_give_the_same_logits() {
    let inputs = read_safetensors("inputs.safetensors");
    for variant in VARIANTS {
        let outputs: Vec<Vec<f32>> = cpu_devices()
            .into_iter()
            .map(|(_, device)| {
                let model = load(variant, "safetensors", &device);
                let input: Tensor<4> = tensor(&inputs["input_b"], &device);
                values(model.forward(input.mul_scalar(input_scale(variant))))
            })
            .collect();
        let err = relative_error(&outputs[1], &outputs[0]);
        assert!(err <= 1e-5, "{variant}: ndarray and flex differ by {err:e}");
    }
}

#[test]
fn the_parity_error_is_relative_for_small_tensors_too() {
    // A bias gradient of magnitude 0.01 off by 1e-4 is 1 % off, not 1e-4.
    let err = relative_error(&[0.0101, -0.005], &[0.01, -0.005]);
    assert!((err - 1e-2).abs() < 1e-4, "{err}");
    assert!((relative_error(&[20.0, 1.0], &[10.0, 1.0]) - 1.0).abs() < 1e-6);
    // An all-zero tensor is compared at the floor's scale.
    assert!((relative_error(&[1e-8], &[0.0]) - 1e-2).abs() < 1e-6);
}
