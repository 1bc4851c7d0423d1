//! 2-D convolution with this crate's kernels on flex and LibTorch, Burn's own elsewhere.
//!
//! What the kernels do and why (im2col and one matrix multiplication per group of samples on flex
//! for ungrouped f32 convolutions, PyTorch's native backward pass on LibTorch with the `tch`
//! feature): [docs/performance.md](https://github.com/alexnet-burn/alexnet-burn/blob/main/docs/performance.md#cpu-the-projects-kernels-on-flex).
//!
//! The operation is a Burn backend extension ([`AlexNetConv`]). [`conv2d`] and [`conv2d_layer`]
//! take it on the devices [`kernel_backend`] accepts and Burn's own
//! convolution everywhere else, so a model stays one definition for every backend.

mod backward;
mod flex;
mod im2col;
mod kernels;
#[cfg(feature = "tch")]
mod tch;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::Tensor;
use burn::tensor::ops::ConvOptions;

use crate::kernel_backend;

/// The convolution as a backend operation, implemented on flex and LibTorch (and on autodiff over
/// them, where the backward pass lives).
#[backend_extension(Flex, LibTorch: cfg(feature = "tch"), Autodiff)]
pub trait AlexNetConv: Backend {
    /// `conv2d(x, weight, bias, options)`: `x` `[N, C_in, H, W]`, `weight`
    /// `[C_out, C_in / groups, K_h, K_w]`, `bias` `[C_out]`; returns `[N, C_out, H_out, W_out]`.
    /// The backend's own convolution, except on `Autodiff`, whose backward pass differs.
    fn alexnet_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::conv2d(x, weight, Some(bias), options)
    }
}

/// The backward pass of a convolution on one backend (not dispatched: [`AlexNetConv`] on
/// `Autodiff<B>` calls it on `B`). The forward pass keeps what the gradients need in
/// [`Saved`](ConvGrads::Saved), and [`conv2d_grads`](ConvGrads::conv2d_grads) computes the
/// gradients that were asked for in one call, so that a backend can compute them together.
pub trait ConvGrads: Backend {
    /// What a tracked forward pass keeps for its backward pass.
    type Saved: Clone + Send + core::fmt::Debug + 'static;

    /// The forward pass of a convolution whose gradients with respect to `[x, weight, bias]`
    /// are wanted where `wants` is true: the output `[N, C_out, H_out, W_out]` and what the
    /// backward pass needs.
    fn conv2d_tracked(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
        wants: [bool; 3],
    ) -> (FloatTensor<Self>, Self::Saved);

    /// The gradients of the loss with respect to `[x, weight, bias]` (those in `wants`), given
    /// the gradient of the output `output_grad` `[N, C_out, H_out, W_out]`.
    fn conv2d_grads(
        saved: Self::Saved,
        output_grad: FloatTensor<Self>,
        wants: [bool; 3],
    ) -> [Option<FloatTensor<Self>>; 3];
}

/// `conv.forward(x)`, through [`conv2d`] when the layer has a bias and explicit padding (all of
/// AlexNet's convolutions), [`Conv2d::forward`] otherwise.
///
/// `x`: `[N, C_in, H, W]`; returns `[N, C_out, H_out, W_out]`.
pub fn conv2d_layer(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let (Some(bias), PaddingConfig2d::Explicit(top, left, bottom, right)) =
        (conv.bias.as_ref(), &conv.padding)
    else {
        return conv.forward(x);
    };
    let options = ConvOptions::new_with_padding(
        conv.stride,
        [(*top, *bottom), (*left, *right)],
        conv.dilation,
        conv.groups,
    );
    conv2d(x, conv.weight.val(), bias.val(), options)
}

/// Burn's [`conv2d`](burn::tensor::module::conv2d) with a bias, through [`AlexNetConv`] when `x`
/// lives on a flex device, or a LibTorch device with the `tch` feature (with or without autodiff),
/// Burn's own convolution otherwise.
///
/// `x`: `[N, C_in, H, W]`, `weight`: `[C_out, C_in / groups, K_h, K_w]`, `bias`: `[C_out]`;
/// returns `[N, C_out, H_out, W_out]`.
pub fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Tensor<1>,
    options: ConvOptions<2>,
) -> Tensor<4> {
    if kernel_backend(&x.device()).is_none() {
        return burn::tensor::module::conv2d(x, weight, Some(bias), options);
    }
    Tensor::from_dispatch(<Dispatch as AlexNetConv>::alexnet_conv2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        options,
    ))
}

#[cfg(test)]
mod tests {
    use super::conv2d_layer;
    use crate::flex_slices::{on_thread_pools, relative_diff};
    use burn::nn::PaddingConfig2d;
    use burn::nn::conv::{Conv2d, Conv2dConfig};
    use burn::tensor::{Device, Distribution, Int, Tensor};

    /// One convolution layer to compare: batch, channels `[in, out]`, kernel, stride, padding
    /// `(top, left, bottom, right)`, dilation, groups, input side.
    #[derive(Clone, Copy)]
    struct Case(
        usize,
        [usize; 2],
        [usize; 2],
        [usize; 2],
        (usize, usize, usize, usize),
        [usize; 2],
        usize,
        [usize; 2],
    );

    /// The layer through [`conv2d`] (the project's kernels) and through Burn's
    /// `Conv2d::forward` agree on the output and on all three gradients, on `device` (an
    /// autodiff device).
    fn check(case: Case, device: &Device) {
        let Case(batch, channels, kernel, stride, padding, dilation, groups, size) = case;
        device.seed(7);
        let (t, l, b, r) = padding;
        let conv: Conv2d = Conv2dConfig::new(channels, kernel)
            .with_stride(stride)
            .with_padding(PaddingConfig2d::Explicit(t, l, b, r))
            .with_dilation(dilation)
            .with_groups(groups)
            .init(device);
        let shape = [batch, channels[0], size[0], size[1]];
        let x = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), device);

        let run = |ours: bool| {
            let x = x.clone().require_grad();
            let y = if ours {
                conv2d_layer(&conv, x.clone())
            } else {
                conv.forward(x.clone())
            }; // [batch, C_out, H_out, W_out]
            // A loss whose output gradient is not uniform: sum of y * (index-dependent weights).
            let weights = Tensor::<1, Int>::arange(0..y.shape().num_elements() as i64, device)
                .float()
                .reshape(y.dims())
                .sin(); // [batch, C_out, H_out, W_out]
            let grads = (y.clone() * weights).sum().backward();
            let dx = x.grad(&grads).expect("input gradient");
            let dw = conv.weight.val().grad(&grads).expect("weight gradient");
            let db = conv
                .bias
                .as_ref()
                .expect("bias")
                .val()
                .grad(&grads)
                .expect("bias gradient");
            (y.inner(), dx, dw, db)
        };
        let (y, dx, dw, db) = run(true);
        let (y_ref, dx_ref, dw_ref, db_ref) = run(false);
        let what = format!(
            "channels {:?} kernel {:?} stride {:?} padding {:?} dilation {:?} groups {}, {} threads",
            channels,
            kernel,
            stride,
            padding,
            dilation,
            groups,
            rayon::current_num_threads()
        );
        assert_eq!(y.dims(), y_ref.dims(), "{what}");
        assert!(relative_diff(y, y_ref) < 1e-5, "output, {what}");
        assert!(relative_diff(dx, dx_ref) < 1e-5, "input gradient, {what}");
        let d = relative_diff(dw, dw_ref);
        assert!(d < 1e-5, "weight gradient differs by {d:e}, {what}");
        // The bias gradient sums N*H_out*W_out terms of either sign to values ~10x smaller than
        // the largest terms; LibTorch sums them in another order than Burn (1.4e-5 measured).
        let d = relative_diff(db, db_ref);
        assert!(d < 5e-5, "bias gradient differs by {d:e}, {what}");
    }

    /// The layers the kernels are checked on. Batch, channels, kernel, stride, padding (top,
    /// left, bottom, right), dilation, groups, input; one layer a line.
    #[rustfmt::skip]
    fn cases() -> [Case; 9] {
        [
            // conv1's shape, scaled down: 11x11, stride 4, no padding.
            Case(2, [3, 8], [11, 11], [4, 4], (0, 0, 0, 0), [1, 1], 1, [31, 31]),
            // conv2: 5x5, padding 2.
            Case(2, [6, 10], [5, 5], [1, 1], (2, 2, 2, 2), [1, 1], 1, [9, 9]),
            // Asymmetric padding, a non-square kernel and input, unequal strides, dilation.
            Case(2, [4, 5], [3, 2], [2, 3], (1, 0, 2, 1), [2, 1], 1, [12, 10]),
            // One sample (a batch smaller than the thread pool: one sample at a time, each
            // product on every thread), and three (an uneven split between the threads).
            Case(1, [5, 7], [3, 3], [1, 1], (1, 1, 1, 1), [1, 1], 1, [13, 11]),
            Case(3, [4, 6], [5, 3], [2, 1], (2, 1, 2, 1), [1, 2], 1, [15, 14]),
            // Grouped (paper2012's conv2/4/5): flex's own convolution and Burn's generic weight
            // gradient.
            Case(2, [4, 6], [3, 3], [1, 1], (1, 1, 1, 1), [1, 1], 2, [7, 7]),
            // conv1 at full size (3025 positions: one sample a product), 3 and 2 samples a
            // task, whose weight gradients are summed.
            Case(5, [3, 8], [11, 11], [4, 4], (0, 0, 0, 0), [1, 1], 1, [227, 227]),
            // 36 positions: samples go into the products in groups (of 5 and 4 here).
            Case(9, [4, 6], [3, 3], [1, 1], (1, 1, 1, 1), [1, 1], 1, [6, 6]),
            // conv3-5's 13x13 (169 positions: groups of 4 samples), several groups a task and
            // a partial one, as in a batch of 128.
            Case(9, [4, 6], [3, 3], [1, 1], (1, 1, 1, 1), [1, 1], 1, [13, 13]),
        ]
    }

    /// On pools of 1 to 4 threads: with the batches of [`cases`], whole batches in one task,
    /// tasks of one or several samples (and groups), and batches smaller than the pool.
    #[test]
    fn gradients_match_burns_convolution() {
        on_thread_pools(|_| {
            for case in cases() {
                check(case, &Device::flex().autodiff());
            }
        });
    }

    /// On LibTorch, PyTorch's native backward pass against Burn's (a transposed convolution
    /// and a weight-gradient convolution), grouped and asymmetric padding included.
    #[cfg(feature = "tch")]
    #[test]
    #[allow(deprecated)] // Burn marks its LibTorch backend deprecated; it is still supported.
    fn on_libtorch_gradients_match_burns_convolution() {
        assert!(
            crate::kernel_backend(&Device::libtorch()).is_some(),
            "LibTorch takes the extension"
        );
        for case in cases() {
            check(case, &Device::libtorch().autodiff());
        }
    }

    #[test]
    fn inference_on_flex_matches_burns_convolution() {
        let device = Device::flex();
        device.seed(3);
        let conv: Conv2d = Conv2dConfig::new([3, 4], [3, 3])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .init(&device);
        let x = Tensor::<4>::random([2, 3, 8, 8], Distribution::Normal(0.0, 1.0), &device);
        let y = conv2d_layer(&conv, x.clone()); // [2, 4, 8, 8]
        let y_ref = conv.forward(x); // [2, 4, 8, 8]
        assert!(relative_diff(y, y_ref) < 1e-6);
    }
}
