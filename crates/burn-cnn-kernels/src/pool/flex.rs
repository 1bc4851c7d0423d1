//! Max pooling on flex: the kernels of [`kernels`](super::kernels) on contiguous f32 tensors.

use std::sync::Arc;

use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::{Device, FloatTensor};
use burn::backend::{Flex, TensorMetadata};
use burn::tensor::TensorData;
use burn::tensor::ops::MaxPoolOptions;

use super::kernels::{self, Window};
use super::{AlexNetPool, PoolGrads};
use crate::flex_slices::{contiguous, elements, tensor};

impl AlexNetPool for Flex {
    fn alexnet_max_pool2d(x: FloatTensor<Self>, options: MaxPoolOptions<2>) -> FloatTensor<Self> {
        let [n, c, h, w] = [x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]];
        let window = window([h, w], &options);
        let x = contiguous(x);
        let y = kernels::forward(elements(&x), &window);
        let [ho, wo] = window.out;
        tensor(y, [n, c, ho, wo], &x)
    }
}

/// What flex's backward pass keeps: the position of each output's maximum in its input plane,
/// the geometry, the number of planes `[N, C]` and the device (not the input itself).
#[derive(Debug, Clone)]
pub struct FlexSaved {
    indices: Arc<Vec<u32>>,
    window: Window,
    planes: [usize; 2],
    device: Device<Flex>,
}

impl PoolGrads for Flex {
    type Saved = FlexSaved;

    fn max_pool2d_tracked(
        x: FloatTensor<Self>,
        options: MaxPoolOptions<2>,
    ) -> (FloatTensor<Self>, FlexSaved) {
        let [n, c, h, w] = [x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]];
        let window = window([h, w], &options);
        let x = contiguous(x);
        let (y, indices) = kernels::forward_with_indices(elements(&x), &window);
        let [ho, wo] = window.out;
        let saved = FlexSaved {
            indices: Arc::new(indices),
            window,
            planes: [n, c],
            device: TensorMetadata::device(&x),
        };
        let output = tensor(y, [n, c, ho, wo], &x);
        (output, saved)
    }

    fn max_pool2d_grad(saved: FlexSaved, output_grad: FloatTensor<Self>) -> FloatTensor<Self> {
        let FlexSaved {
            indices,
            window,
            planes: [n, c],
            device,
        } = saved;
        let dy = contiguous(output_grad);
        let dx = kernels::backward(elements(&dy), &indices, &window);
        let [h, w] = window.input;
        Flex::float_from_data(TensorData::new(dx, [n, c, h, w]), &device)
    }
}

/// The geometry of `options` over `[H, W]` planes, with PyTorch's floor output size (zero where
/// the padded input is smaller than the window).
fn window(input: [usize; 2], options: &MaxPoolOptions<2>) -> Window {
    let out = |axis: usize| {
        let (begin, end) = options.padding[axis];
        let span = options.dilation[axis] * (options.kernel_size[axis] - 1) + 1;
        let padded = input[axis] + begin + end;
        if padded < span {
            0
        } else {
            (padded - span) / options.stride[axis] + 1
        }
    };
    Window {
        input,
        kernel: options.kernel_size,
        stride: options.stride,
        dilation: options.dilation,
        pad_begin: [options.padding[0].0, options.padding[1].0],
        out: [out(0), out(1)],
    }
}
