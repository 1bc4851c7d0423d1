//! The convolution on flex: for ungrouped f32 convolutions, the forward pass and both gradients
//! of [`kernels`](super::kernels) (im2col and one matrix multiplication per group of samples).
//! Other convolutions run flex's own.

use burn::backend::ops::ModuleOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Flex, TensorMetadata};
use burn::tensor::DType;
use burn::tensor::ops::ConvOptions;

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

/// What flex's backward pass keeps of the forward pass: its inputs and options.
#[derive(Debug, Clone)]
pub struct FlexSaved {
    x: FloatTensor<Flex>,
    weight: FloatTensor<Flex>,
    bias: FloatTensor<Flex>,
    options: ConvOptions<2>,
}

impl ConvGrads for Flex {
    type Saved = FlexSaved;

    fn conv2d_tracked(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
        _wants: [bool; 3],
    ) -> (FloatTensor<Self>, FlexSaved) {
        let output = Self::alexnet_conv2d(x.clone(), weight.clone(), bias.clone(), options.clone());
        let saved = FlexSaved {
            x,
            weight,
            bias,
            options,
        };
        (output, saved)
    }

    fn conv2d_grads(
        saved: FlexSaved,
        output_grad: FloatTensor<Self>,
        wants: [bool; 3],
    ) -> [Option<FloatTensor<Self>>; 3] {
        let FlexSaved {
            x,
            weight,
            bias,
            options,
        } = saved;
        let [want_x, want_weight, want_bias] = wants;
        let db =
            want_bias.then(|| Flex::conv2d_bias_backward(x.clone(), bias, output_grad.clone()));
        let Some(g) = geometry(&x, &weight, &options, &[&output_grad]) else {
            let dx = want_x.then(|| {
                Flex::conv2d_x_backward(
                    x.clone(),
                    weight.clone(),
                    output_grad.clone(),
                    options.clone(),
                )
            });
            let dw =
                want_weight.then(|| Flex::conv2d_weight_backward(x, weight, output_grad, options));
            return [dx, dw, db];
        };
        let (x, weight, dy) = (contiguous(x), contiguous(weight), contiguous(output_grad));
        let c_out = weight.shape()[0];
        let dx = want_x.then(|| {
            let dx = kernels::input_grad(elements(&dy), elements(&weight), c_out, &g);
            tensor(dx, [x.shape()[0], g.c, g.h, g.w], &x) // [N, C_in, H, W]
        });
        let dw = want_weight.then(|| {
            let dw = kernels::weight_grad(elements(&x), elements(&dy), c_out, &g);
            tensor(dw, [c_out, g.c, g.kernel[0], g.kernel[1]], &x) // [C_out, C_in, K_h, K_w]
        });
        [dx, dw, db]
    }
}

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
