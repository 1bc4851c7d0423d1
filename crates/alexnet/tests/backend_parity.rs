//! Cross-backend parity: on every backend compiled into this test (flex and ndarray always; tch,
//! wgpu, vulkan, cuda when `alexnet-device`'s feature is on), the same weights and input give
//! PyTorch's logits within [`common::PARITY_TOLERANCE`] and PyTorch's gradients of the
//! cross-entropy loss within [`GRAD_TOLERANCE`], both relative to the largest expected value of
//! each tensor. Goldens: tests/fixtures/grads.safetensors from tools/make_grad_fixtures.py.
//!
//! `ALEXNET_PARITY_DEVICES=flex,tch,wgpu` (device specs, comma-separated) restricts or extends
//! the list, e.g. to `tch-cuda` on a GPU machine.

mod common;

use alexnet::AlexNet;
use burn::module::Param;
use burn::nn::Linear;
use burn::nn::conv::Conv2d;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::{Device, Gradients, Int, Tensor, TensorData};
use common::*;

/// Relative tolerance of the gradient checks: max |burn - torch| / max |torch| per tensor.
const GRAD_TOLERANCE: f32 = 1e-3;

/// The labels tools/make_grad_fixtures.py used for input_b's two images.
const LABELS: [i64; 2] = [3, 7];

fn devices() -> Vec<(String, Device)> {
    let specs: Vec<String> = match std::env::var("ALEXNET_PARITY_DEVICES") {
        Ok(list) if !list.trim().is_empty() => {
            list.split(',').map(|s| s.trim().to_string()).collect()
        }
        _ => alexnet_device::compiled_backends()
            .into_iter()
            .map(|b| b.name().to_string())
            .collect(),
    };
    specs
        .into_iter()
        .map(|spec| {
            let device = alexnet_device::parse_device(&spec).unwrap_or_else(|e| panic!("{e}"));
            (spec, device)
        })
        .collect()
}

fn grad<const D: usize>(param: &Param<Tensor<D>>, grads: &Gradients, name: &str) -> Tensor<D> {
    param
        .val()
        .grad(grads)
        .unwrap_or_else(|| panic!("{name}: no gradient"))
}

/// Every parameter's gradient under PyTorch's layout and the crate's names (`fc6.weight`, ...).
fn gradients(model: &AlexNet, grads: &Gradients) -> Vec<(String, Vec<f32>)> {
    let mut out = Vec::new();
    let convs: [(&str, &Conv2d); 5] = [
        ("conv1", &model.conv1),
        ("conv2", &model.conv2),
        ("conv3", &model.conv3),
        ("conv4", &model.conv4),
        ("conv5", &model.conv5),
    ];
    for (name, conv) in convs {
        let w = format!("{name}.weight");
        out.push((w.clone(), values(grad(&conv.weight, grads, &w))));
        let bias = conv.bias.as_ref().expect("conv bias");
        let b = format!("{name}.bias");
        out.push((b.clone(), values(grad(bias, grads, &b))));
    }
    let fcs: [(&str, &Linear); 3] = [
        ("fc6", &model.fc6),
        ("fc7", &model.fc7),
        ("fc8", &model.fc8),
    ];
    for (name, fc) in fcs {
        let w = format!("{name}.weight");
        // Burn stores Linear weights as [in, out]; PyTorch as [out, in].
        out.push((w.clone(), values(grad(&fc.weight, grads, &w).transpose())));
        let bias = fc.bias.as_ref().expect("linear bias");
        let b = format!("{name}.bias");
        out.push((b.clone(), values(grad(bias, grads, &b))));
    }
    out
}

#[test]
fn every_backend_matches_pytorch_logits_and_gradients() {
    let inputs = read_safetensors("inputs.safetensors");
    let golden = read_safetensors("grads.safetensors");
    let mut failures = Vec::new();
    for (spec, device) in devices() {
        let ad = device.autodiff();
        for variant in VARIANTS {
            let model: AlexNet = fixture_config(variant)
                .with_dropout(0.0)
                .init(&ad)
                .load_weights(fixture(&format!("{variant}.safetensors")))
                .unwrap_or_else(|e| panic!("{e}"));
            let input: Tensor<4> = tensor(&inputs["input_b"], &ad);
            let logits = model.forward(input.mul_scalar(input_scale(variant))); // [2, 10]
            let targets = Tensor::<1, Int>::from_data(TensorData::new(LABELS.to_vec(), [2]), &ad);
            let loss = CrossEntropyLossConfig::new()
                .init(&ad)
                .forward(logits.clone(), targets); // [1]
            let grads = loss.backward();

            let mut worst = (String::new(), 0.0f32);
            let mut check = |what: String, got: &[f32], tolerance: f32| {
                let want = &golden[&format!("{variant}/{what}")].0;
                let err = relative_error(got, want);
                if err > tolerance {
                    failures.push(format!(
                        "{spec} {variant} {what}: relative error {err:e} > {tolerance:e}"
                    ));
                }
                err
            };
            let logit_err = check("logits".into(), &values(logits), PARITY_TOLERANCE);
            let loss_err = check("loss".into(), &values(loss), PARITY_TOLERANCE);
            for (name, got) in gradients(&model, &grads) {
                let err = check(name.clone(), &got, GRAD_TOLERANCE);
                if err >= worst.1 {
                    worst = (name, err);
                }
            }
            eprintln!(
                "{spec:>8} {variant:<11} logits {logit_err:.1e}  loss {loss_err:.1e}  \
                 worst gradient {:.1e} ({})",
                worst.1, worst.0
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
