//! The weight gradient on flex: the input unrolled into columns and one matrix multiplication
//! per group of samples with the output gradient, as PyTorch's CPU backend computes it.

use burn::backend::Flex;
use burn::backend::TensorMetadata;
use burn::backend::ops::{FloatTensorOps, ModuleOps};
use burn::backend::tensor::FloatTensor;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{DType, Shape, TensorData};

use super::ConvWeightGrad;
use super::im2col::Im2col;

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
