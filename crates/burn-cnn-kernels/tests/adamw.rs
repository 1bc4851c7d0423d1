//! `burn_cnn_kernels::optim::AdamW` against `torch.optim.AdamW` (tests/fixtures/adamw.safetensors,
//! written by tools/make_adamw_fixtures.py from the inputs of sgd.safetensors): 20 steps of a
//! `Linear(5, 6)`'s weight and bias, compared after every step, on flex (the fused kernel) and
//! ndarray (Burn's AdamW), on thread pools of 1 to 4 threads; three steps of a parameter larger
//! than two of the fused kernel's chunks; the fused step against Burn's own AdamW; and resuming
//! from each other's checkpoints.

mod common;

use burn::optim::{ModuleOptimizer, Optimizer};
use burn::tensor::{Device, Tensor, TensorData};
use burn_cnn_kernels::optim::{AdamWConfig, AdamWConfigError};
use common::linear::{Fixture, apply, check, layer, row};
use common::{
    LARGE, cpu_devices, large_input, on_thread_pools, read_safetensors, relative_error, values,
};

/// Largest error against PyTorch, relative to the largest expected value, after any step.
const TOLERANCE: f32 = 2e-6;

/// The configurations of the fixture script.
fn configs() -> [(&'static str, AdamWConfig); 2] {
    [
        ("default-run", AdamWConfig::new().with_weight_decay(1e-4)),
        (
            "strong-decay",
            AdamWConfig::new()
                .with_betas(0.8, 0.99)
                .with_epsilon(1e-8)
                .with_weight_decay(0.05),
        ),
    ]
}

/// The inputs (sgd.safetensors) and PyTorch's parameters (adamw.safetensors) in one map.
fn fixture() -> Fixture {
    let mut fixture = read_safetensors("sgd.safetensors");
    fixture.extend(read_safetensors("adamw.safetensors"));
    fixture
}

#[test]
fn twenty_steps_match_torch_optim_adamw_on_every_cpu_backend() {
    let fixture = fixture();
    on_thread_pools(|_| {
        for (backend, device) in cpu_devices() {
            for (name, config) in configs() {
                let mut optim = config.init().expect("valid");
                let mut linear = layer(&fixture, &device);
                for step in 0..20 {
                    linear = apply(&fixture, &mut optim, linear, step, &device);
                    check(&fixture, name, &linear, step, backend, TOLERANCE);
                }
            }
        }
    });
}

#[test]
fn a_parameter_of_more_than_two_chunks_matches_torch_optim_adamw_on_pools_of_1_to_4_threads() {
    let fixture = fixture();
    let index: Vec<usize> = fixture["large/index"]
        .0
        .iter()
        .map(|&i| i as usize)
        .collect();
    let sampled = |v: &[f32]| index.iter().map(|&i| v[i]).collect::<Vec<f32>>();
    let grads: Vec<Vec<f32>> = (1..=3).map(|s| large_input(101 * s)).collect();
    let from = |v: &[f32], device: &Device| {
        Tensor::<1>::from_data(TensorData::new(v.to_vec(), [LARGE]), device)
    };
    on_thread_pools(|threads| {
        for (backend, device) in cpu_devices() {
            for (name, config) in configs() {
                // `held`: something else holds the parameter during each step (the fused
                // kernel then writes into the gradient's buffer).
                for held in [false, true] {
                    let adamw = config.build().expect("valid");
                    let (mut param, mut state) = (from(&large_input(0), &device), None);
                    for (step, grad) in grads.iter().enumerate() {
                        let holder = held.then(|| param.clone());
                        let lr = f64::from(fixture["large/lr"].0[step]);
                        (param, state) = adamw.step(lr, param, from(grad, &device), state);
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

/// Burn's own AdamW with the "default-run" configuration.
fn burns_adamw() -> ModuleOptimizer {
    burn::optim::AdamWConfig::new()
        .with_weight_decay(1e-4)
        .init()
}

#[test]
fn the_fused_step_matches_burns_own_adamw_on_flex() {
    let fixture = fixture();
    let device = alexnet_device::parse_device("flex").expect("flex");
    let mut ours = configs()[0].1.init().expect("valid");
    let mut burns = burns_adamw();
    let (mut a, mut b) = (layer(&fixture, &device), layer(&fixture, &device));
    for step in 0..20 {
        a = apply(&fixture, &mut ours, a, step, &device);
        b = apply(&fixture, &mut burns, b, step, &device);
        let err = relative_error(&values(a.weight.val()), &values(b.weight.val()));
        assert!(err <= 1e-6, "step {step}: error {err:e}");
    }
}

/// Ten "default-run" steps with `first`, its record saved and loaded into `second`, ten more
/// steps with `second`: the weight against PyTorch's after the last step, on every CPU backend.
fn check_resume_across(
    first: impl Fn() -> ModuleOptimizer,
    second: impl Fn() -> ModuleOptimizer,
    what: &str,
) {
    let fixture = fixture();
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
        let got = values(linear.weight.val());
        let want = values(row::<2>(&fixture, "default-run/weight", 19, &device));
        let err = relative_error(&got, &want);
        assert!(
            err <= 1e-5,
            "{what}, {backend}: error {err:e} (lost moments or step count are ~1e-2)"
        );
    }
}

#[test]
fn burns_own_adamw_checkpoint_resumes_with_its_moments() {
    let ours = || configs()[0].1.init().expect("valid");
    check_resume_across(burns_adamw, ours, "Burn's AdamW, then ours");
}

#[test]
fn burns_own_adamw_resumes_our_checkpoint_with_its_moments() {
    let ours = || configs()[0].1.init().expect("valid");
    check_resume_across(ours, burns_adamw, "our AdamW, then Burn's");
}

#[test]
fn a_configuration_torch_would_refuse_is_refused() {
    for (config, name) in [
        (AdamWConfig::new().with_betas(1.0, 0.999), "beta_1"),
        (AdamWConfig::new().with_betas(0.9, -0.1), "beta_2"),
        (AdamWConfig::new().with_epsilon(f64::NAN), "epsilon"),
        (AdamWConfig::new().with_weight_decay(-1.0), "weight decay"),
    ] {
        match config.build() {
            Err(AdamWConfigError::OutOfRange { name: got, .. }) => assert_eq!(got, name),
            Ok(_) => panic!("{name}: accepted"),
        }
    }
}
