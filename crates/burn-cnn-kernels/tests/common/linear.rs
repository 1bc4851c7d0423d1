//! The optimiser fixtures' layer: a `Linear(5, 6)` whose weight and bias start from the
//! fixture's values, the fixture's gradients and learning rates step by step, and the comparison
//! with the fixture's parameters after each step.

use std::collections::HashMap;

use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};

use super::{relative_error, tensor, values};

/// A fixture file's tensors, as (values, shape).
pub type Fixture = HashMap<String, (Vec<f32>, Vec<usize>)>;

/// The fixture's layer at its starting values, on `device` with autodiff (as a model in
/// training: Burn's module optimiser updates autodiff parameters).
pub fn layer(fixture: &Fixture, device: &Device) -> Linear {
    let device = device.clone().autodiff();
    let mut linear = LinearConfig::new(5, 6).init(&device);
    linear.weight = Param::from_tensor(tensor(&fixture["weight0"], &device));
    linear.bias = Some(Param::from_tensor(tensor(&fixture["bias0"], &device)));
    linear
}

/// Row `step` of a `[20, ...]` fixture tensor.
pub fn row<const D: usize>(
    fixture: &Fixture,
    key: &str,
    step: usize,
    device: &Device,
) -> Tensor<D> {
    let (data, shape) = &fixture[key];
    let len: usize = shape[1..].iter().product();
    let part = (data[step * len..][..len].to_vec(), shape[1..].to_vec());
    tensor(&part, device)
}

/// Step `step` of the fixture: its gradients (on `device`, without autodiff, as `backward`
/// gives them), then `optim.step` at its learning rate.
pub fn apply(
    fixture: &Fixture,
    optim: &mut ModuleOptimizer,
    linear: Linear,
    step: usize,
    device: &Device,
) -> Linear {
    let mut grads = GradientsParams::new();
    grads.register(
        linear.weight.id,
        row::<2>(fixture, "grad_weight", step, device),
    );
    let bias = linear.bias.as_ref().expect("bias").id;
    grads.register(bias, row::<1>(fixture, "grad_bias", step, device));
    let lr = f64::from(fixture["lr"].0[step]);
    optim.step(lr, linear, grads)
}

/// The layer's values against the fixture's after `step`.
pub fn check(
    fixture: &Fixture,
    name: &str,
    linear: &Linear,
    step: usize,
    context: &str,
    tolerance: f32,
) {
    let device = linear.weight.val().device();
    let bias = linear.bias.as_ref().expect("bias").val();
    for (key, got, want) in [
        (
            "weight",
            values(linear.weight.val()),
            values(row::<2>(fixture, &format!("{name}/weight"), step, &device)),
        ),
        (
            "bias",
            values(bias),
            values(row::<1>(fixture, &format!("{name}/bias"), step, &device)),
        ),
    ] {
        let err = relative_error(&got, &want);
        assert!(
            err <= tolerance,
            "{context} {name} {key} step {step}: error {err:e}"
        );
    }
}
