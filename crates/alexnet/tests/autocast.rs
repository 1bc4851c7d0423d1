//! Mixed precision (`AlexNet::with_autocast`) on flex, with the PyTorch fixture's weights and
//! input (so every run computes the same numbers): the convolutions and fully connected layers
//! compute in bf16, the output and the gradients are f32, and both stay close to the f32
//! model's. bf16 keeps 8 bits of mantissa (a relative rounding of 2^-9 per value). The
//! gradients of the convolutions and fc6 move further than that: a rounded activation can change
//! which input a max pool picks or which side of zero a ReLU input falls, and the gradient
//! follows it, so they are compared by direction (cosine). Tolerances leave about 2.5x the
//! measured errors.

mod common;

use alexnet::AlexNet;
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{DType, Device, FloatDType, Gradients, Int, Tensor};
use common::*;

/// Largest relative error of the logits (measured: 7.7e-3).
const FORWARD_TOLERANCE: f32 = 2e-2;
/// Largest `||g - g_f32|| / ||g_f32||` of fc7's and fc8's gradients (measured: 5.1e-3).
const HEAD_GRADIENT_TOLERANCE: f32 = 1.5e-2;
/// Smallest cosine between a gradient and the f32 model's (measured: 0.964, conv1's weight).
const MIN_GRADIENT_COSINE: f32 = 0.91;

fn input(device: &Device) -> Tensor<4> {
    let inputs = read_safetensors("inputs.safetensors");
    tensor::<4>(&inputs["input_b"], device) * input_scale("standard")
}

/// The PyTorch fixture's weights, without dropout.
fn model(device: &Device) -> AlexNet {
    fixture_config("standard")
        .with_dropout(0.0)
        .init(device)
        .load_weights(fixture("standard.safetensors"))
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn autocast_computes_in_bf16_and_returns_f32() {
    let device = alexnet_device::parse_device("flex").expect("flex");
    let model = model(&device);
    let expected = values(model.forward(input(&device)));
    let mixed = model.with_autocast(Some(FloatDType::BF16));
    let output = mixed.forward(input(&device));
    assert_eq!(output.dtype(), DType::F32);
    let actual = values(output);
    let error = relative_error(&actual, &expected);
    assert!(error > 0.0, "no layer computed in bf16");
    assert!(error <= FORWARD_TOLERANCE, "{error}");
}

/// Every parameter's gradient, by parameter id.
struct Grads<'a> {
    grads: &'a Gradients,
    found: Vec<(String, DType, Vec<f32>)>,
}

impl ModuleVisitor for Grads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let grad = param
            .val()
            .grad(self.grads)
            .expect("every parameter has a gradient");
        self.found
            .push((format!("{:?}", param.id), grad.dtype(), values(grad)));
    }
}

fn gradients(model: &AlexNet, device: &Device) -> Vec<(String, DType, Vec<f32>)> {
    let targets = Tensor::<1, Int>::from_ints([1, 7], device);
    let logits = model.forward(input(device));
    let loss = burn::nn::loss::CrossEntropyLossConfig::new()
        .init(device)
        .forward(logits, targets);
    let grads = loss.backward();
    let mut visitor = Grads {
        grads: &grads,
        found: Vec::new(),
    };
    model.visit(&mut visitor);
    visitor.found
}

#[test]
fn autocast_gradients_reach_the_f32_weights_in_f32() {
    let device = alexnet_device::parse_device("flex")
        .expect("flex")
        .autodiff();
    let model = model(&device);
    let expected = gradients(&model, &device);
    // Autocast to f32 is the same arithmetic through Burn's operations: the casts route the
    // gradients to the weights unchanged.
    let same = gradients(&model.clone().with_autocast(Some(FloatDType::F32)), &device);
    for ((id, _, grad), (_, _, reference)) in same.iter().zip(&expected) {
        assert!(relative_error(grad, reference) <= 1e-5, "{id}");
    }
    let actual = gradients(&model.with_autocast(Some(FloatDType::BF16)), &device);
    assert_eq!(actual.len(), 16);
    assert!(
        actual.iter().zip(&expected).any(|(a, e)| a.2 != e.2),
        "no gradient went through bf16"
    );
    for (i, ((id, dtype, grad), (_, _, reference))) in actual.iter().zip(&expected).enumerate() {
        assert_eq!(*dtype, DType::F32, "{id}");
        let cosine = cosine(grad, reference);
        assert!(cosine >= MIN_GRADIENT_COSINE, "{id}: cosine {cosine}");
        // Parameters 12..16 are fc7's and fc8's weights and biases.
        if i >= 12 {
            let error = l2_error(grad, reference);
            assert!(error <= HEAD_GRADIENT_TOLERANCE, "{id}: {error}");
        }
    }
}

/// The cosine of the angle between two vectors.
fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

/// ||actual - expected|| / ||expected||.
fn l2_error(actual: &[f32], expected: &[f32]) -> f32 {
    let norm = |v: &mut dyn Iterator<Item = f32>| v.map(|x| x * x).sum::<f32>().sqrt();
    let diff = norm(&mut actual.iter().zip(expected).map(|(a, e)| a - e));
    diff / norm(&mut expected.iter().copied())
}
