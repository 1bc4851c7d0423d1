//! The convolution on flex: for ungrouped f32 convolutions, the forward pass and the input
//! gradient of [`kernels`](super::kernels) (per sample: im2col and one matrix multiplication),
//! and a weight gradient that is one matrix multiplication per group of samples, as PyTorch's CPU
//! backend computes it. Other convolutions run flex's own.

use burn::backend::ops::{FloatTensorOps, ModuleOps};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Flex, TensorMetadata};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{DType, Shape, TensorData};

use super::im2col::Im2col;
use super::{AlexNetConv, ConvGrads, kernels};
use crate::flex_slices::{contiguous, elements, tensor};

impl AlexNetConv for Flex {
    fn alexnet_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        let Some(g) = geometry(&x, &weight, &options, &[&bias]) else {
            return Flex::conv2d(x, weight, Some(bias), options);
        };
        let (x, weight, bias) = (contiguous(x), contiguous(weight), contiguous(bias));
        let y = kernels::forward(elements(&x), elements(&weight), elements(&bias), &g);
        let shape = [x.shape()[0], bias.shape()[0], g.out[0], g.out[1]];
        tensor(y, shape, &x)
    }
}

impl ConvGrads for Flex {
    fn conv2d_input_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        let Some(g) = geometry(&x, &weight, &options, &[&output_grad]) else {
            return Flex::conv2d_x_backward(x, weight, output_grad, options);
        };
        let (weight, dy) = (contiguous(weight), contiguous(output_grad));
        let dx = kernels::input_grad(elements(&dy), elements(&weight), weight.shape()[0], &g);
        let [n, c, h, w] = [x.shape()[0], g.c, g.h, g.w];
        tensor(dx, [n, c, h, w], &x)
    }

    fn conv2d_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        let Some(geometry) = geometry(&x, &weight, &options, &[&output_grad]) else {
            return Flex::conv2d_weight_backward(x, weight, output_grad, options);
        };
        let device = TensorMetadata::device(&x);
        let n = x.shape()[0];
        let [c, kh, kw] = [geometry.c, geometry.kernel[0], geometry.kernel[1]];
        let c_out = weight.shape()[0];
        let [ho, wo] = geometry.out;
        let x = contiguous(x);
        let input = elements(&x);
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

/// The im2col geometry of an ungrouped f32 convolution of `x` `[N, C, H, W]` by `weight`
/// `[C_out, C, K_h, K_w]` (with the other f32 tensors `others`); `None` for anything else.
fn geometry(
    x: &FloatTensor<Flex>,
    weight: &FloatTensor<Flex>,
    options: &ConvOptions<2>,
    others: &[&FloatTensor<Flex>],
) -> Option<Im2col> {
    let f32s = [x, weight]
        .iter()
        .chain(others)
        .all(|t| t.dtype() == DType::F32);
    let (xs, ws) = (x.shape(), weight.shape());
    if options.groups != 1 || !f32s || xs.num_dims() != 4 || ws[1] != xs[1] {
        return None;
    }
    let out = |axis: usize| {
        let (size, kernel) = (xs[2 + axis], ws[2 + axis]);
        let (begin, end) = options.padding[axis];
        let span = options.dilation[axis] * (kernel - 1) + 1;
        let padded = size + begin + end;
        (padded >= span).then(|| (padded - span) / options.stride[axis] + 1)
    };
    Some(Im2col {
        c: xs[1],
        h: xs[2],
        w: xs[3],
        kernel: [ws[2], ws[3]],
        out: [out(0)?, out(1)?],
        stride: options.stride,
        dilation: options.dilation,
        pad_begin: [options.padding[0].0, options.padding[1].0],
    })
}
