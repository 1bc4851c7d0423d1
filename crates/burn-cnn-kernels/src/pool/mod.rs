//! Max pooling with this crate's kernels on flex, Burn's own elsewhere.
//!
//! What the kernel does and why (each window's maximum and its position in one pass per plane):
//! [docs/performance.md](https://github.com/alexnet-burn/alexnet-burn/blob/main/docs/performance.md#cpu-the-projects-kernels-on-flex). As in PyTorch, a NaN in a window is its maximum, and of equal
//! maxima the first in row-major order gets the gradient.
//!
//! Like [`conv`](crate::conv), the operation is a Burn backend extension ([`AlexNetPool`]):
//! [`max_pool2d`] and [`max_pool2d_layer`] take it on flex devices in floor mode for f32, Burn's
//! own pooling everywhere else.

mod backward;
mod flex;
mod kernels;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::nn::PaddingConfig2d;
use burn::nn::pool::MaxPool2d;
use burn::tensor::ops::MaxPoolOptions;
use burn::tensor::{DType, Tensor};

use crate::{KernelBackend, kernel_backend};

/// Max pooling as a backend operation, implemented on flex (and on autodiff over flex, where
/// the backward pass lives).
#[backend_extension(Flex, Autodiff)]
pub trait AlexNetPool: Backend {
    /// The max pool of `x` `[N, C, H, W]` with `options` (floor mode): `[N, C, H_out, W_out]`.
    fn alexnet_max_pool2d(x: FloatTensor<Self>, options: MaxPoolOptions<2>) -> FloatTensor<Self>;
}

/// The backward pass of [`AlexNetPool`] on one backend (not dispatched: [`AlexNetPool`] on
/// `Autodiff<B>` calls it on `B`).
pub trait PoolGrads: Backend {
    /// What a tracked forward pass keeps for its backward pass.
    type Saved: Clone + Send + core::fmt::Debug + 'static;

    /// The forward pass of a max pool whose input gradient is wanted: the output and what the
    /// backward pass needs.
    fn max_pool2d_tracked(
        x: FloatTensor<Self>,
        options: MaxPoolOptions<2>,
    ) -> (FloatTensor<Self>, Self::Saved);

    /// The gradient of the loss with respect to the input `[N, C, H, W]`, given the gradient of
    /// the output `output_grad` `[N, C, H_out, W_out]`.
    fn max_pool2d_grad(saved: Self::Saved, output_grad: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// `pool.forward(x)`, through [`max_pool2d`] unless the padding is `Same`.
///
/// `x`: `[N, C, H, W]`; returns `[N, C, H_out, W_out]`.
pub fn max_pool2d_layer(pool: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    let padding = match pool.padding {
        PaddingConfig2d::Valid => [(0, 0), (0, 0)],
        PaddingConfig2d::Explicit(top, left, bottom, right) => [(top, bottom), (left, right)],
        PaddingConfig2d::Same => return pool.forward(x),
    };
    let options = MaxPoolOptions::new(pool.kernel_size)
        .with_stride(pool.stride)
        .with_padding_pairs(padding)
        .with_dilation(pool.dilation)
        .with_ceil_mode(pool.ceil_mode);
    max_pool2d(x, options)
}

/// Burn's [`max_pool2d`](burn::tensor::module::max_pool2d), through [`AlexNetPool`] for f32
/// tensors on flex devices (with or without autodiff) in floor mode.
///
/// `x`: `[N, C, H, W]`; returns `[N, C, H_out, W_out]`.
pub fn max_pool2d(x: Tensor<4>, options: MaxPoolOptions<2>) -> Tensor<4> {
    let on_flex = kernel_backend(&x.device()) == Some(KernelBackend::Flex);
    if !on_flex || options.ceil_mode || x.dtype() != DType::F32 {
        return burn::tensor::module::max_pool2d(x, options);
    }
    Tensor::from_dispatch(<Dispatch as AlexNetPool>::alexnet_max_pool2d(
        x.into_dispatch(),
        options,
    ))
}

#[cfg(test)]
mod tests {
    use super::max_pool2d;
    use crate::flex_slices::{on_thread_pools, relative_diff};
    use burn::tensor::ops::MaxPoolOptions;
    use burn::tensor::{Device, Distribution, Int, Tensor};

    /// The pool through [`max_pool2d`] and through Burn's agree on the output and the input
    /// gradient, for input `[N, C, H, W]` `shape`.
    fn check(shape: [usize; 4], options: MaxPoolOptions<2>) {
        let device = Device::flex().autodiff();
        device.seed(11);
        let x = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device);
        let run = |ours: bool| {
            let x = x.clone().require_grad();
            let y = if ours {
                max_pool2d(x.clone(), options.clone())
            } else {
                burn::tensor::module::max_pool2d(x.clone(), options.clone())
            }; // [N, C, H_out, W_out]
            let weights = Tensor::<1, Int>::arange(0..y.shape().num_elements() as i64, &device)
                .float()
                .reshape(y.dims())
                .cos(); // [N, C, H_out, W_out]
            let grads = (y.clone() * weights).sum().backward();
            (y.inner(), x.grad(&grads).expect("input gradient"))
        };
        let ((y, dx), (y_ref, dx_ref)) = (run(true), run(false));
        let threads = rayon::current_num_threads();
        let what = format!("input {shape:?}, {options:?}, {threads} threads");
        // Without autodiff: the forward pass that keeps no positions.
        let inference = max_pool2d(x.clone().inner(), options.clone());
        let inference_ref = burn::tensor::module::max_pool2d(x.clone().inner(), options.clone());
        assert_eq!(
            relative_diff(inference, inference_ref),
            0.0,
            "inference, {what}"
        );
        assert_eq!(y.dims(), y_ref.dims(), "{what}");
        assert_eq!(relative_diff(y, y_ref), 0.0, "output, {what}");
        assert!(relative_diff(dx, dx_ref) < 1e-6, "input gradient, {what}");
    }

    /// On pools of 1 to 4 threads (planes split into tasks of at least 16).
    #[test]
    fn output_and_gradient_match_burns_max_pool() {
        on_thread_pools(|_| output_and_gradient_cases());
    }

    /// The pools the kernel is checked on, one `check` each.
    fn output_and_gradient_cases() {
        let pool = |k: usize, s: usize| MaxPoolOptions::new([k, k]).with_stride([s, s]);
        // AlexNet's three pools (3x3, stride 2), scaled down in batch and channels.
        check([2, 5, 55, 55], pool(3, 2));
        check([2, 4, 27, 27], pool(3, 2));
        check([3, 3, 13, 13], pool(3, 2));
        // Padding, asymmetric padding, a non-square kernel, unequal strides, dilation.
        check(
            [2, 3, 10, 9],
            pool(3, 2).with_padding_pairs([(1, 1), (1, 1)]),
        );
        check(
            [2, 3, 11, 8],
            pool(3, 1).with_padding_pairs([(1, 0), (0, 1)]),
        );
        let odd = MaxPoolOptions::new([2, 3])
            .with_stride([1, 2])
            .with_dilation([2, 1]);
        check([1, 2, 9, 12], odd);
        // More planes than one parallel task takes.
        check([4, 40, 7, 7], pool(2, 2));
    }

    #[test]
    fn ceil_mode_takes_burns_own_pool() {
        let options = MaxPoolOptions::new([3, 3])
            .with_stride([2, 2])
            .with_ceil_mode(true);
        check([1, 2, 8, 8], options);
    }

    #[test]
    fn a_nan_in_a_window_is_its_maximum() {
        let device = Device::flex();
        let x = Tensor::<4>::from_floats([[[[1.0, f32::NAN, 0.5, 2.0]]]], &device);
        let options = MaxPoolOptions::new([1, 2]).with_stride([1, 2]);
        let y: Vec<f32> = max_pool2d(x, options)
            .into_data()
            .try_to_vec()
            .expect("f32");
        assert!(y[0].is_nan(), "{y:?}");
        assert_eq!(y[1], 2.0);
    }
}
