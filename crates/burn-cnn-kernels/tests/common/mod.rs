//! Helpers of the integration tests: reading safetensors fixtures into Burn tensors, a tolerant
//! comparison, and the CPU devices to run on.
#![allow(dead_code)] // each test binary uses a different subset

pub mod linear;

use std::collections::HashMap;
use std::path::PathBuf;

use burn::tensor::{Device, Tensor, TensorData};

/// Elements of the optimiser tests' large parameter (the fixture scripts' `LARGE`): more than
/// two of the fused kernels' chunks of 2^16 elements.
pub const LARGE: usize = 2 * (1 << 16) + 1234;

/// Element `i` of the large case: `((i * 7919 + salt) % 2003) / 1000 - 1`, as the fixture
/// scripts compute it.
pub fn large_input(salt: u64) -> Vec<f32> {
    (0..LARGE as u64)
        .map(|i| ((i * 7919 + salt) % 2003) as f32 / 1000.0 - 1.0)
        .collect()
}

/// Path of a file in tests/fixtures.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}

/// Every f32 tensor of a safetensors fixture, as (values, shape).
pub fn read_safetensors(name: &str) -> HashMap<String, (Vec<f32>, Vec<usize>)> {
    let path = fixture(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = safetensors::SafeTensors::deserialize(&bytes)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    file.tensors()
        .into_iter()
        .map(|(key, view)| {
            assert_eq!(view.dtype(), safetensors::Dtype::F32, "{key} is not f32");
            let values = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            (key, (values, view.shape().to_vec()))
        })
        .collect()
}

/// A fixture tensor on `device`.
pub fn tensor<const D: usize>(values: &(Vec<f32>, Vec<usize>), device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values.0.clone(), values.1.clone()), device)
}

/// The values of a tensor, on the host.
pub fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .try_into_vec::<f32>()
        .expect("f32 tensor")
}

/// Below this largest expected magnitude a tensor counts as zero: [`relative_error`] divides by
/// this floor instead, so a near-zero tensor is compared absolutely at that scale.
pub const NEAR_ZERO: f32 = 1e-6;

/// Max |a - b| / max |expected|, the expected magnitude floored at [`NEAR_ZERO`].
pub fn relative_error(actual: &[f32], expected: &[f32]) -> f32 {
    assert_eq!(actual.len(), expected.len(), "length differs");
    let scale = expected
        .iter()
        .fold(0.0f32, |m, v| m.max(v.abs()))
        .max(NEAR_ZERO);
    let diff = actual
        .iter()
        .zip(expected)
        .fold(0.0f32, |m, (a, e)| m.max((a - e).abs()));
    diff / scale
}

/// The CPU backends every test runs on: flex and ndarray, and LibTorch's CPU device with the
/// `tch` feature.
pub fn cpu_devices() -> Vec<(&'static str, Device)> {
    #[allow(unused_mut)]
    let mut devices: Vec<_> = ["flex", "ndarray"]
        .into_iter()
        .map(|name| {
            let device = alexnet_device::parse_device(name).expect("dev-dependency enables it");
            (name, device)
        })
        .collect();
    #[cfg(feature = "tch")]
    #[allow(deprecated)] // Burn marks its LibTorch backend deprecated; it is still supported.
    devices.push(("tch", Device::libtorch()));
    devices
}

/// Runs `run(threads)` on rayon thread pools of 1, 2, 3 and 4 threads: the kernels split their
/// work by `rayon::current_num_threads()`, so that each split is tested whatever the host's
/// number of cores.
pub fn on_thread_pools(run: impl Fn(usize) + Sync) {
    for threads in 1..=4 {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap_or_else(|e| panic!("a pool of {threads} threads: {e}"));
        pool.install(|| run(threads));
    }
}
