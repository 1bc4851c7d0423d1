//! Training-mode behaviour on an autodiff device: finite gradients for every parameter, dropout
//! only while training, deterministic inference.

mod common;

use alexnet::AlexNet;
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Gradients;
use burn::tensor::{Device, Tensor};
use common::*;

/// Visits every parameter and records whether its gradient exists and is finite.
struct GradCheck<'a> {
    grads: &'a Gradients,
    checked: usize,
    problems: Vec<String>,
}

impl ModuleVisitor for GradCheck<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.checked += 1;
        match param.val().grad(self.grads) {
            None => self.problems.push(format!("{:?}: no gradient", param.id)),
            Some(grad) => {
                let grad = values(grad);
                if !grad.iter().all(|g| g.is_finite()) {
                    self.problems
                        .push(format!("{:?}: non-finite gradient", param.id));
                }
                if grad.iter().all(|&g| g == 0.0) {
                    self.problems
                        .push(format!("{:?}: gradient is all zeros", param.id));
                }
            }
        }
    }
}

fn input(device: &Device) -> Tensor<4> {
    let inputs = read_safetensors("inputs.safetensors");
    tensor(&inputs["input_b"], device)
}

#[test]
fn every_parameter_gets_a_finite_gradient() {
    for (backend, device) in cpu_devices() {
        let ad = device.autodiff();
        for variant in VARIANTS {
            let model: AlexNet = fixture_config(variant)
                .init(&ad)
                .load_weights(fixture(&format!("{variant}.safetensors")))
                .expect("fixture");
            let loss = model
                .forward(input(&ad).mul_scalar(input_scale(variant)))
                .powi_scalar(2)
                .mean();
            let grads = loss.backward();
            let mut check = GradCheck {
                grads: &grads,
                checked: 0,
                problems: Vec::new(),
            };
            model.visit(&mut check);
            assert_eq!(check.checked, 16, "{variant}: 8 weights and 8 biases");
            assert!(
                check.problems.is_empty(),
                "{variant} on {backend}: {:?}",
                check.problems
            );
        }
    }
}

#[test]
fn dropout_is_active_only_while_training() {
    let device = alexnet_device::parse_device("flex").expect("flex");
    let ad = device.clone().autodiff();
    let model = fixture_config("standard").init(&ad);
    let x = input(&ad);
    let a = values(model.forward(x.clone()));
    let b = values(model.forward(x.clone()));
    assert_ne!(a, b, "training forward passes draw different dropout masks");

    let valid = model.valid();
    let x = input(&device);
    let c = values(valid.forward(x.clone()));
    let d = values(valid.forward(x));
    assert_eq!(c, d, "valid() is deterministic");

    // The same weights on a plain device never drop anything either.
    let plain = fixture_config("standard")
        .init(&device)
        .load_weights(fixture("standard.safetensors"))
        .expect("fixture");
    let e = values(plain.forward(input(&device)));
    let f = values(plain.forward(input(&device)));
    assert_eq!(e, f);
}

#[test]
fn valid_model_equals_the_training_model_without_dropout() {
    let device = alexnet_device::parse_device("flex").expect("flex");
    let ad = device.clone().autodiff();
    let model = fixture_config("paper2012").with_dropout(0.0).init(&ad);
    let train = values(model.forward(input(&ad)));
    let valid = values(model.valid().forward(input(&device)));
    assert!(relative_error(&valid, &train) <= 1e-6);
}

#[cfg(feature = "train")]
#[test]
fn train_step_returns_loss_and_gradients() {
    use alexnet::ImageBatch;
    use burn::tensor::Int;
    use burn::train::{InferenceStep, TrainStep};

    let device = alexnet_device::parse_device("flex").expect("flex");
    let ad = device.clone().autodiff();
    let model = fixture_config("torchvision").init(&ad);
    let targets = Tensor::<1, Int>::from_ints([1, 7], &ad);
    let batch = ImageBatch::new(input(&ad), targets.clone());
    let output = TrainStep::step(&model, batch);
    let loss = values(output.item.loss.clone());
    assert!(loss[0].is_finite() && loss[0] > 0.0, "{loss:?}");
    assert_eq!(output.item.output.dims(), [2, 10]);

    let valid = model.valid();
    let batch = ImageBatch::new(input(&device), Tensor::<1, Int>::from_ints([1, 7], &device));
    let eval = InferenceStep::step(&valid, batch);
    assert_eq!(eval.output.dims(), [2, 10]);
}

/// `loss_scale` scales the gradients of the training step, not the loss it reports.
#[cfg(feature = "train")]
#[test]
fn a_batch_loss_scale_scales_the_gradients_only() {
    use alexnet::ImageBatch;
    use burn::tensor::Int;
    use burn::train::TrainStep;

    let ad = alexnet_device::parse_device("flex")
        .expect("flex")
        .autodiff();
    let model = fixture_config("standard").with_dropout(0.0).init(&ad);
    let targets = Tensor::<1, Int>::from_ints([1, 7], &ad);
    let step = |scale: f32| {
        let batch = ImageBatch::new(input(&ad), targets.clone()).with_loss_scale(scale);
        let mut output = TrainStep::step(&model, batch);
        let grad = output
            .grads
            .remove::<2>(model.fc8.weight.id)
            .expect("fc8 weight gradient");
        (values(output.item.loss), values(grad))
    };
    let (loss, grad) = step(1.0);
    let (half_loss, half_grad) = step(0.5);
    assert_eq!(loss, half_loss, "the reported loss is not scaled");
    let halved: Vec<f32> = grad.iter().map(|g| g * 0.5).collect();
    assert!(relative_error(&half_grad, &halved) <= 1e-6);
    assert!(grad.iter().any(|g| *g != 0.0));
}
