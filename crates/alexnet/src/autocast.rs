//! Mixed precision, as `torch.autocast` does it for the layers that dominate AlexNet's time:
//! each convolution and fully connected layer casts its input, weight and bias to a lower
//! precision (bf16 or f16), computes there, and casts its output back to the input's type.
//! Everything else (ReLU, LRN, pooling, dropout, the loss) and the parameters stay in f32. The
//! casts are differentiable, so the gradients reach the f32 weights in f32, and an f32
//! optimiser updates them: no f32 master copy is needed because the weights never leave f32.
//!
//! Enable it with [`AlexNet::with_autocast`](crate::AlexNet::with_autocast). The layers run
//! Burn's own convolution and matrix product in the lower precision (this crate's f32 CPU
//! kernels are for f32).

use burn::nn::conv::Conv2d;
use burn::nn::{Linear, PaddingConfig2d};
use burn::tensor::module::conv2d as burn_conv2d;
use burn::tensor::module::linear as burn_linear;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{FloatDType, Tensor};

/// `conv.forward(x)` computed in `dtype`; the output has `x`'s type.
///
/// `x`: `[N, C_in, H, W]`; returns `[N, C_out, H_out, W_out]`.
pub(crate) fn conv2d(conv: &Conv2d, x: Tensor<4>, dtype: FloatDType) -> Tensor<4> {
    let PaddingConfig2d::Explicit(top, left, bottom, right) = conv.padding else {
        // AlexNetConfig builds explicit padding only; another layer keeps its own precision.
        return conv.forward(x);
    };
    let back = x.dtype();
    let options = ConvOptions::new_with_padding(
        conv.stride,
        [(top, bottom), (left, right)],
        conv.dilation,
        conv.groups,
    );
    let weight = conv.weight.val().cast(dtype);
    let bias = conv.bias.as_ref().map(|b| b.val().cast(dtype));
    burn_conv2d(x.cast(dtype), weight, bias, options).cast(back) // [N, C_out, H_out, W_out]
}

/// `layer.forward(x)` computed in `dtype`; the output has `x`'s type.
///
/// `x`: `[N, in]`; returns `[N, out]`.
pub(crate) fn linear(layer: &Linear, x: Tensor<2>, dtype: FloatDType) -> Tensor<2> {
    let back = x.dtype();
    let weight = layer.weight.val().cast(dtype);
    let bias = layer.bias.as_ref().map(|b| b.val().cast(dtype));
    burn_linear(x.cast(dtype), weight, bias).cast(back) // [N, out]
}
