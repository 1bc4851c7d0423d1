//! A convolution whose weight gradient is one matrix multiplication on Burn's flex backend.
//!
//! Burn 0.22.1's flex backend has no kernel for the weight gradient of a convolution, and Burn's
//! generic formulation (a second convolution with the output gradient as its kernel) is slow on
//! it (docs/performance.md). Here the weight gradient is computed the way PyTorch's CPU backend
//! does: the input unrolled into columns (im2col, `[C_in*K_h*K_w, N*H_out*W_out]`) and one
//! matrix multiplication with the output gradient.
//!
//! The operation is a Burn backend extension (`#[backend_extension]`, Burn's supported way to add
//! an operation with its own backward pass). [`conv2d`] and [`conv2d_layer`] take it on flex
//! devices and Burn's own convolution everywhere else, so the model stays one definition for
//! every backend.
//! The forward pass, the input gradient and the bias gradient are flex's own; only the weight
//! gradient differs, and only for ungrouped f32 convolutions (others take Burn's generic path).

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::ops::{FloatTensorOps, ModuleOps};
use burn::backend::tensor::FloatTensor;
use burn::backend::{
    Autodiff, Backend, Dispatch, DispatchDevice, Flex, TensorMetadata, backend_extension,
};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{DType, Shape, Tensor, TensorData};
use rayon::prelude::*;
use std::ops::Range;

/// The convolution as a backend operation, implemented on flex (and on autodiff over flex, where
/// the backward pass lives).
#[backend_extension(Flex, Autodiff)]
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

/// The weight gradient of a convolution on one backend (not dispatched: the backward pass of
/// [`AlexNetConv`] on `Autodiff<B>` calls it on `B`).
pub trait ConvWeightGrad: Backend {
    /// The gradient of the loss with respect to `weight`, `[C_out, C_in / groups, K_h, K_w]`,
    /// given the layer's input `x` and the gradient of its output `output_grad`.
    fn conv2d_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;
}

impl AlexNetConv for Flex {}

impl ConvWeightGrad for Flex {
    fn conv2d_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        if options.groups != 1 || x.dtype() != DType::F32 || output_grad.dtype() != DType::F32 {
            return Flex::conv2d_weight_backward(x, weight, output_grad, options);
        }
        let device = TensorMetadata::device(&x);
        let dims = x.shape();
        let [n, c, h, w] = [dims[0], dims[1], dims[2], dims[3]];
        let dims = weight.shape();
        let [c_out, kh, kw] = [dims[0], dims[2], dims[3]];
        let dims = output_grad.shape();
        let [ho, wo] = [dims[2], dims[3]];
        let geometry = Im2col {
            c,
            h,
            w,
            kernel: [kh, kw],
            out: [ho, wo],
            stride: options.stride,
            dilation: options.dilation,
            pad_begin: [options.padding[0].0, options.padding[1].0],
        };
        let x = x.to_contiguous();
        let Some(input) = x.as_slice::<f32>() else {
            return Flex::conv2d_weight_backward(x, weight, output_grad, options);
        };
        // A few samples at a time, so that the columns stay within COLUMN_BUDGET: the buffer is
        // then reused from the allocator's heap instead of being freshly mapped (and zeroed by
        // the kernel) for every layer.
        let rows = c * kh * kw;
        if n * rows * ho * wo == 0 {
            // No sample, no tap or no output position: nothing to sum, a zero gradient.
            return Flex::float_zeros(weight.shape(), &device, DType::F32.into());
        }
        let chunk = (COLUMN_BUDGET / (rows * ho * wo)).clamp(1, n);
        // The weight gradient's share of samples `start..start + chunk` (or to the end).
        let part = |start: usize| {
            let len = chunk.min(n - start);
            let positions = len * ho * wo;
            let cols = geometry.columns(input, start..start + len); // [C_in*K_h*K_w, len*H_out*W_out]
            let cols = Flex::float_from_data(TensorData::new(cols, [rows, positions]), &device);
            let cols = Flex::float_transpose(cols); // [len*H_out*W_out, C_in*K_h*K_w], a view
            let grad = output_grad.narrow(0, start, len); // [len, C_out, H_out, W_out]
            let grad = Flex::float_permute(grad, &[1, 0, 2, 3]); // [C_out, len, H_out, W_out]
            let grad = Flex::float_reshape(grad, Shape::new([c_out, positions])); // [C_out, len*H_out*W_out]
            Flex::float_matmul(grad, cols) // [C_out, C_in*K_h*K_w]
        };
        let dw = (chunk..n)
            .step_by(chunk)
            .fold(part(0), |sum, start| Flex::float_add(sum, part(start))); // [C_out, C_in*K_h*K_w]
        Flex::float_reshape(dw, Shape::new([c_out, c, kh, kw])) // [C_out, C_in, K_h, K_w]
    }
}

/// The most `f32`s the weight gradient unrolls at once (16 MiB): small enough that glibc's
/// allocator serves it from its heap rather than a fresh mapping, large enough for an efficient
/// matrix multiplication (at least one sample's columns are always unrolled together).
const COLUMN_BUDGET: usize = 4 << 20;

/// The geometry of an ungrouped 2-d convolution, for unrolling its input into columns.
struct Im2col {
    c: usize,
    h: usize,
    w: usize,
    kernel: [usize; 2],
    out: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
    /// Padding before the first row and the first column (the padding after them only changes
    /// the output size, which `out` already holds).
    pad_begin: [usize; 2],
}

impl Im2col {
    /// The samples `batch` of `input` `[N, C, H, W]` (contiguous) unrolled into
    /// `[C*K_h*K_w, len*H_out*W_out]`: row `(c, i, j)` holds, for every output position, the
    /// input pixel that kernel tap `(i, j)` of channel `c` multiplies (zero in the padding).
    fn columns(&self, input: &[f32], batch: Range<usize>) -> Vec<f32> {
        let [kh, kw] = self.kernel;
        let [ho, wo] = self.out;
        let (h, w) = (self.h, self.w);
        let positions = batch.len() * ho * wo;
        let mut cols = vec![0.0f32; self.c * kh * kw * positions];
        cols.par_chunks_mut(positions)
            .enumerate()
            .for_each(|(row, out)| {
                let (ch, tap) = (row / (kh * kw), row % (kh * kw));
                let (i, j) = (tap / kw, tap % kw);
                // The output columns whose input column `ox * stride + j * dilation - pad` lies
                // inside the image: `lo..hi`.
                let offset_x = (j * self.dilation[1]) as isize - self.pad_begin[1] as isize;
                let (lo, hi) = valid_range(offset_x, self.stride[1], w, wo);
                let offset_y = (i * self.dilation[0]) as isize - self.pad_begin[0] as isize;
                for (sample, b) in batch.clone().enumerate() {
                    let plane = &input[(b * self.c + ch) * h * w..][..h * w];
                    for oy in 0..ho {
                        let iy = (oy * self.stride[0]) as isize + offset_y;
                        if iy < 0 || iy >= h as isize || lo >= hi {
                            continue; // padding: the row stays zero
                        }
                        let src = &plane[iy as usize * w..][..w];
                        let dst = &mut out[(sample * ho + oy) * wo..][..wo];
                        let first = (lo * self.stride[1]) as isize + offset_x;
                        let first = first as usize; // >= 0 by `valid_range`
                        if self.stride[1] == 1 {
                            dst[lo..hi].copy_from_slice(&src[first..first + (hi - lo)]);
                        } else {
                            for (k, d) in dst[lo..hi].iter_mut().enumerate() {
                                *d = src[first + k * self.stride[1]];
                            }
                        }
                    }
                }
            });
        cols
    }
}

/// The range `lo..hi` of output indices `o < out` whose input index `o * stride + offset` lies in
/// `0..size`.
fn valid_range(offset: isize, stride: usize, size: usize, out: usize) -> (usize, usize) {
    let stride = stride as isize;
    // Smallest o with o * stride + offset >= 0.
    let lo = if offset >= 0 {
        0
    } else {
        ((-offset + stride - 1) / stride) as usize
    };
    // Largest o with o * stride + offset <= size - 1, plus one.
    let last = size as isize - 1 - offset;
    let hi = if last < 0 {
        0
    } else {
        (last / stride + 1) as usize
    };
    (lo.min(out), hi.min(out).max(lo.min(out)))
}

impl<B, C> AlexNetConv for Autodiff<B, C>
where
    B: Backend + AlexNetConv + ConvWeightGrad,
    C: CheckpointStrategy,
{
    fn alexnet_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct ConvBackward;

        impl<B: Backend + ConvWeightGrad> Backward<B, 3> for ConvBackward {
            /// The forward pass's input, weight and bias, and its options.
            type State = (
                FloatTensor<B>,
                FloatTensor<B>,
                FloatTensor<B>,
                ConvOptions<2>,
            );

            fn backward(
                self,
                ops: Ops<Self::State, 3>,
                grads: &mut Gradients,
                _checkpointer: &mut Checkpointer,
            ) {
                let [node_x, node_weight, node_bias] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let (x, weight, bias, options) = ops.state;

                if let Some(node) = node_x {
                    let dx = B::conv2d_x_backward(
                        x.clone(),
                        weight.clone(),
                        grad.clone(),
                        options.clone(),
                    );
                    grads.register::<B>(node.id, dx);
                }
                if let Some(node) = node_weight {
                    let dw = B::conv2d_weight_grad(x.clone(), weight, grad.clone(), options);
                    grads.register::<B>(node.id, dw);
                }
                if let Some(node) = node_bias {
                    grads.register::<B>(node.id, B::conv2d_bias_backward(x, bias, grad));
                }
            }
        }

        match ConvBackward
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (x, weight, bias) = (
                    x.primitive().clone(),
                    weight.primitive().clone(),
                    bias.primitive().clone(),
                );
                let output =
                    B::alexnet_conv2d(x.clone(), weight.clone(), bias.clone(), options.clone());
                prep.finish((x, weight, bias, options), output)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::alexnet_conv2d(
                x.into_primitive(),
                weight.into_primitive(),
                bias.into_primitive(),
                options,
            )),
        }
    }
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
/// lives on a flex device (with or without autodiff), Burn's own convolution otherwise.
///
/// `x`: `[N, C_in, H, W]`, `weight`: `[C_out, C_in / groups, K_h, K_w]`, `bias`: `[C_out]`;
/// returns `[N, C_out, H_out, W_out]`.
pub fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Tensor<1>,
    options: ConvOptions<2>,
) -> Tensor<4> {
    let device = x.device().inner();
    if !matches!(device.as_dispatch(), DispatchDevice::Flex(_)) {
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
    use super::{conv2d_layer, valid_range};
    use burn::nn::PaddingConfig2d;
    use burn::nn::conv::{Conv2d, Conv2dConfig};
    use burn::tensor::{Device, Distribution, Int, Tensor};

    #[test]
    fn valid_range_matches_a_scan() {
        for offset in -4isize..5 {
            for stride in 1..4 {
                for size in 1..8 {
                    for out in 0..8 {
                        let inside: Vec<usize> = (0..out)
                            .filter(|&o| {
                                let i = (o * stride) as isize + offset;
                                i >= 0 && i < size as isize
                            })
                            .collect();
                        let (lo, hi) = valid_range(offset, stride, size, out);
                        assert_eq!(
                            (lo..hi).collect::<Vec<_>>(),
                            inside,
                            "offset {offset} stride {stride} size {size} out {out}"
                        );
                    }
                }
            }
        }
    }

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

    /// Largest difference relative to the largest magnitude of `expected`.
    fn relative_diff<const D: usize>(actual: Tensor<D>, expected: Tensor<D>) -> f32 {
        let scale: f32 = expected.clone().abs().max().into_scalar();
        let diff: f32 = (actual - expected).abs().max().into_scalar();
        diff / scale.max(f32::MIN_POSITIVE)
    }

    /// The layer through [`conv2d`] (flex's forward, the im2col weight gradient) and through
    /// Burn's `Conv2d::forward` agree on the output and on all three gradients.
    fn check(case: Case) {
        let Case(batch, channels, kernel, stride, padding, dilation, groups, size) = case;
        let device = Device::flex().autodiff();
        device.seed(7);
        let (t, l, b, r) = padding;
        let conv: Conv2d = Conv2dConfig::new(channels, kernel)
            .with_stride(stride)
            .with_padding(PaddingConfig2d::Explicit(t, l, b, r))
            .with_dilation(dilation)
            .with_groups(groups)
            .init(&device);
        let shape = [batch, channels[0], size[0], size[1]];
        let x = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &device);

        let run = |ours: bool| {
            let x = x.clone().require_grad();
            let y = if ours {
                conv2d_layer(&conv, x.clone())
            } else {
                conv.forward(x.clone())
            }; // [batch, C_out, H_out, W_out]
            // A loss whose output gradient is not uniform: sum of y * (index-dependent weights).
            let weights = Tensor::<1, Int>::arange(0..y.shape().num_elements() as i64, &device)
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
            "channels {:?} kernel {:?} stride {:?} padding {:?} dilation {:?} groups {}",
            channels, kernel, stride, padding, dilation, groups
        );
        assert_eq!(y.dims(), y_ref.dims(), "{what}");
        assert!(relative_diff(y, y_ref) < 1e-5, "output, {what}");
        assert!(relative_diff(dx, dx_ref) < 1e-5, "input gradient, {what}");
        let d = relative_diff(dw, dw_ref);
        assert!(d < 1e-5, "weight gradient differs by {d:e}, {what}");
        assert!(relative_diff(db, db_ref) < 1e-5, "bias gradient, {what}");
    }

    #[test]
    fn gradients_match_burns_convolution() {
        // Batch, channels, kernel, stride, padding (top, left, bottom, right), dilation, groups,
        // input; one layer a line.
        #[rustfmt::skip]
        let cases = [
            // conv1's shape, scaled down: 11x11, stride 4, no padding.
            Case(2, [3, 8], [11, 11], [4, 4], (0, 0, 0, 0), [1, 1], 1, [31, 31]),
            // conv2: 5x5, padding 2.
            Case(2, [6, 10], [5, 5], [1, 1], (2, 2, 2, 2), [1, 1], 1, [9, 9]),
            // Asymmetric padding, a non-square kernel and input, unequal strides, dilation.
            Case(2, [4, 5], [3, 2], [2, 3], (1, 0, 2, 1), [2, 1], 1, [12, 10]),
            // Grouped (paper2012's conv2/4/5): Burn's generic weight gradient.
            Case(2, [4, 6], [3, 3], [1, 1], (1, 1, 1, 1), [1, 1], 2, [7, 7]),
            // conv1 at full size: each sample's columns are 363 x 3025 floats (1.1 M), so the
            // 4 M budget unrolls 3 samples and then the last 2, and the parts are summed.
            Case(5, [3, 8], [11, 11], [4, 4], (0, 0, 0, 0), [1, 1], 1, [227, 227]),
        ];
        for case in cases {
            check(case);
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
