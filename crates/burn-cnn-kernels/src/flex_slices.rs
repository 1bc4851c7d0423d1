//! flex tensors as f32 slices, for the project's kernels on flex (and the comparison their
//! tests use).

use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Flex, TensorMetadata};
use burn::tensor::TensorData;

/// The tensor itself when its elements are contiguous, a contiguous copy otherwise.
pub(crate) fn contiguous(tensor: FloatTensor<Flex>) -> FloatTensor<Flex> {
    if tensor.is_contiguous() {
        tensor
    } else {
        tensor.to_contiguous()
    }
}

/// The elements of a contiguous f32 tensor (the callers check the type and call
/// [`contiguous`] first).
pub(crate) fn elements(tensor: &FloatTensor<Flex>) -> &[f32] {
    tensor.as_slice::<f32>().expect("a contiguous f32 tensor")
}

/// Elements per parallel task of the fused optimiser steps: large enough that a task's overhead
/// is noise next to its memory traffic, small enough that fc6's 38 M elements keep both cores
/// busy.
#[cfg(feature = "optim")]
pub(crate) const OPTIM_CHUNK: usize = 1 << 16;

/// The flex primitive of a tensor whose device the caller checked to be flex.
#[cfg(feature = "optim")]
pub(crate) fn flex_primitive<const D: usize>(tensor: burn::tensor::Tensor<D>) -> FloatTensor<Flex> {
    tensor
        .try_into_primitive::<Flex>()
        .expect("the device was checked to be flex")
}

/// The elements of a contiguous f32 tensor, writable (copied first if the storage is shared).
#[cfg(feature = "optim")]
pub(crate) fn elements_mut(tensor: &mut FloatTensor<Flex>) -> &mut [f32] {
    let (start, end) = tensor
        .layout()
        .contiguous_offsets()
        .expect("a contiguous tensor");
    &mut tensor.storage_mut::<f32>()[start..end]
}

/// A tensor of `values` and `shape` on `like`'s device.
pub(crate) fn tensor<const D: usize>(
    values: Vec<f32>,
    shape: [usize; D],
    like: &FloatTensor<Flex>,
) -> FloatTensor<Flex> {
    Flex::float_from_data(
        TensorData::new(values, shape),
        &TensorMetadata::device(like),
    )
}

/// Largest difference relative to the largest magnitude of `expected`: how the kernels' unit
/// tests compare them with Burn's own operations.
#[cfg(test)]
pub(crate) fn relative_diff<const D: usize>(
    actual: burn::tensor::Tensor<D>,
    expected: burn::tensor::Tensor<D>,
) -> f32 {
    let scale: f32 = expected.clone().abs().max().into_scalar();
    let diff: f32 = (actual - expected).abs().max().into_scalar();
    diff / scale.max(f32::MIN_POSITIVE)
}

/// Runs `run(threads)` on rayon thread pools of 1, 2, 3 and 4 threads: the kernels split their
/// work by `rayon::current_num_threads()`, so that the unit tests reach each split (one task,
/// tasks of several samples or planes, a batch smaller than the pool) whatever the host's number
/// of cores.
#[cfg(test)]
pub(crate) fn on_thread_pools(run: impl Fn(usize) + Sync) {
    for threads in 1..=4 {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap_or_else(|e| panic!("a pool of {threads} threads: {e}"));
        pool.install(|| run(threads));
    }
}
