//! `burn_cnn_kernels::optim::Sgd` against `torch.optim.SGD` (tests/fixtures/sgd.safetensors,
//! written by tools/make_sgd_fixtures.py): 20 steps of a `Linear(5, 6)`'s weight and bias with
//! given gradients and learning rates, compared after every step, on flex (the fused kernel) and
//! ndarray (tensor operations), on thread pools of 1 to 4 threads; and three steps of a parameter
//! larger than two of the fused kernel's parallel chunks. Also: resuming from a saved record
//! (ours, and Burn's own SGD's in either direction), a parameter that something else still holds,
//! and the update happening in the parameter's own buffer.

mod common;

use burn::nn::Linear;
use burn::optim::{ModuleOptimizer, Optimizer};
use burn::tensor::{Device, Tensor, TensorData};
use burn_cnn_kernels::optim::{SgdConfig, SgdConfigError};
use common::linear::{Fixture, apply, check, layer, row};
use common::{
    LARGE, cpu_devices, large_input, on_thread_pools, read_safetensors, relative_error, values,
};

/// Largest error against PyTorch, relative to the largest expected value, after any step.
const TOLERANCE: f32 = 1e-6;

/// The configurations of the fixture script.
fn configs() -> [(&'static str, SgdConfig); 4] {
    let sgd = SgdConfig::new();
    [
        ("paper", sgd.with_momentum(0.9).with_weight_decay(5e-4)),
        (
            "nesterov",
            sgd.with_momentum(0.9)
                .with_nesterov(true)
                .with_weight_decay(1e-2),
        ),
        ("dampening", sgd.with_momentum(0.8).with_dampening(0.3)),
        ("plain", sgd.with_weight_decay(1e-3)),
    ]
}

#[test]
fn twenty_steps_match_torch_optim_sgd_on_every_cpu_backend() {
    let fixture = read_safetensors("sgd.safetensors");
    on_thread_pools(|_| twenty_steps(&fixture));
}

/// [`twenty_steps_match_torch_optim_sgd_on_every_cpu_backend`] on the current thread pool.
fn twenty_steps(fixture: &Fixture) {
    for (backend, device) in cpu_devices() {
        for (name, config) in configs() {
            let mut optim = config.init().expect("valid");
            let mut linear = layer(fixture, &device);
            for step in 0..20 {
                linear = apply(fixture, &mut optim, linear, step, &device);
                check(fixture, name, &linear, step, backend, TOLERANCE);
            }
        }
    }
}

#[test]
fn a_parameter_of_more_than_two_chunks_matches_torch_optim_sgd_on_pools_of_1_to_4_threads() {
    let fixture = read_safetensors("sgd.safetensors");
    let index: Vec<usize> = fixture["large/index"]
        .0
        .iter()
        .map(|&i| i as usize)
        .collect();
    let sampled = |v: &[f32]| index.iter().map(|&i| v[i]).collect::<Vec<f32>>();
    let grads: Vec<Vec<f32>> = (1..=3).map(|s| large_input(101 * s)).collect();
    assert_eq!(sampled(&large_input(0)), fixture["large/param0"].0);
    for (step, grad) in grads.iter().enumerate() {
        assert_eq!(sampled(grad), fixture[&format!("large/grad{step}")].0);
    }
    let from = |v: &[f32], device: &Device| {
        Tensor::<1>::from_data(TensorData::new(v.to_vec(), [LARGE]), device)
    };
    on_thread_pools(|threads| {
        for (backend, device) in cpu_devices() {
            for (name, config) in configs() {
                if !["paper", "plain"].contains(&name) {
                    continue;
                }
                // `held`: something else holds the parameter during each step (the fused
                // kernel then writes into the gradient's buffer).
                for held in [false, true] {
                    let sgd = config.build().expect("valid");
                    let (mut param, mut state) = (from(&large_input(0), &device), None);
                    for (step, grad) in grads.iter().enumerate() {
                        let holder = held.then(|| param.clone());
                        let lr = f64::from(fixture["large/lr"].0[step]);
                        (param, state) = sgd.step(lr, param, from(grad, &device), state);
                        drop(holder);
                    }
                    let want = &fixture[&format!("large/{name}")].0;
                    let err = relative_error(&sampled(&values(param)), want);
                    let what = format!("{backend} {name}, held {held}, {threads} threads");
                    assert!(err <= TOLERANCE, "{what}: error {err:e}");
                }
            }
        }
    });
}

#[test]
fn a_run_resumed_from_the_optimiser_record_goes_on_as_if_uninterrupted() {
    let fixture = read_safetensors("sgd.safetensors");
    let dir = tempfile::tempdir().expect("tempdir");
    for (backend, device) in cpu_devices() {
        for (name, config) in configs() {
            let mut optim = config.init().expect("valid");
            let mut linear = layer(&fixture, &device);
            for step in 0..10 {
                linear = apply(&fixture, &mut optim, linear, step, &device);
            }
            let path = dir.path().join(format!("{backend}-{name}.bpk"));
            optim.save(&path).expect("saves");
            let mut optim = config.init().expect("valid").load(&path).expect("loads");
            for step in 10..20 {
                linear = apply(&fixture, &mut optim, linear, step, &device);
                check(
                    &fixture,
                    name,
                    &linear,
                    step,
                    &format!("{backend} resumed"),
                    TOLERANCE,
                );
            }
        }
    }
}

/// Burn's own SGD with the "paper" configuration (momentum 0.9, no dampening, weight decay 5e-4).
fn burns_paper_sgd() -> ModuleOptimizer {
    use burn::optim::SgdConfig as BurnSgd;
    use burn::optim::decay::WeightDecayConfig;
    use burn::optim::momentum::MomentumConfig;

    BurnSgd::new()
        .with_momentum(Some(
            MomentumConfig::new().with_momentum(0.9).with_dampening(0.0),
        ))
        .with_weight_decay(Some(WeightDecayConfig::new(5e-4)))
        .init()
}

/// Ten "paper" steps with `first`, its record saved and loaded into `second`, ten more steps with
/// `second`: the weight against PyTorch's after the last step, on every CPU backend.
fn check_resume_across(
    first: impl Fn() -> ModuleOptimizer,
    second: impl Fn() -> ModuleOptimizer,
    what: &str,
) {
    let fixture = read_safetensors("sgd.safetensors");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("optim.bpk");
    for (backend, device) in cpu_devices() {
        let mut optim = first();
        let mut linear = layer(&fixture, &device);
        for step in 0..10 {
            linear = apply(&fixture, &mut optim, linear, step, &device);
        }
        optim.save(&path).expect("saves");
        let mut optim = second().load(&path).expect("loads");
        for step in 10..20 {
            linear = apply(&fixture, &mut optim, linear, step, &device);
        }
        // Burn's SGD computes the same steps with another rounding order.
        let got = values(linear.weight.val());
        let want = values(row::<2>(&fixture, "paper/weight", 19, &device));
        let err = relative_error(&got, &want);
        assert!(
            err <= 1e-5,
            "{what}, {backend}: error {err:e} (a lost momentum buffer is ~1e-2)"
        );
    }
}

#[test]
fn burns_own_sgd_checkpoint_resumes_with_its_momentum() {
    let ours = || configs()[0].1.init().expect("valid");
    check_resume_across(burns_paper_sgd, ours, "Burn's SGD, then ours");
}

#[test]
fn burns_own_sgd_resumes_our_checkpoint_with_its_momentum() {
    let ours = || configs()[0].1.init().expect("valid");
    check_resume_across(ours, burns_paper_sgd, "our SGD, then Burn's");
}

#[test]
fn a_parameter_that_something_else_holds_gets_the_same_update() {
    let fixture = read_safetensors("sgd.safetensors");
    for (backend, device) in cpu_devices() {
        let (name, config) = configs()[0];
        let mut optim = config.init().expect("valid");
        let mut linear = layer(&fixture, &device);
        for step in 0..20 {
            let held = linear.clone(); // as burn-train's learner holds its model during a step
            let before = values(held.weight.val());
            linear = apply(&fixture, &mut optim, linear, step, &device);
            check(&fixture, name, &linear, step, backend, TOLERANCE);
            assert_eq!(
                values(held.weight.val()),
                before,
                "{backend}: the held copy changed"
            );
        }
    }
}

#[test]
fn on_flex_the_parameter_is_updated_in_its_own_buffer() {
    use burn::backend::Flex;

    let fixture = read_safetensors("sgd.safetensors");
    let device = alexnet_device::parse_device("flex").expect("flex");
    let address = |linear: &Linear| {
        let primitive = linear
            .weight
            .val()
            .inner()
            .try_into_primitive::<Flex>()
            .expect("a flex tensor");
        primitive.bytes().as_ptr() as usize
    };
    let mut optim = configs()[0].1.init().expect("valid");
    let mut linear = layer(&fixture, &device);
    linear = apply(&fixture, &mut optim, linear, 0, &device);
    let first = address(&linear);
    for step in 1..20 {
        linear = apply(&fixture, &mut optim, linear, step, &device);
        assert_eq!(address(&linear), first, "step {step} moved the parameter");
    }
}

#[test]
fn configurations_torch_refuses_are_errors() {
    let sgd = SgdConfig::new();
    assert_eq!(
        sgd.with_nesterov(true).validate(),
        Err(SgdConfigError::Nesterov)
    );
    assert_eq!(
        sgd.with_momentum(0.9)
            .with_dampening(0.1)
            .with_nesterov(true)
            .validate(),
        Err(SgdConfigError::Nesterov)
    );
    assert!(matches!(
        sgd.with_weight_decay(-1.0).init(),
        Err(SgdConfigError::OutOfRange {
            name: "weight decay",
            ..
        })
    ));
    assert!(sgd.with_momentum(f64::NAN).build().is_err());
}
