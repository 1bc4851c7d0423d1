//! The convolution on LibTorch: PyTorch's own forward pass, recorded by LibTorch's autograd so
//! that the backward pass is PyTorch's native one (`aten::convolution_backward`: oneDNN on the
//! CPU, cuDNN on CUDA), all three gradients in one call. Burn's LibTorch backend computes the
//! input gradient as a transposed convolution and the weight gradient as another convolution.
//!
//! The recorded graph stays inside this module: the output handed to Burn is detached from it,
//! and the backward pass feeds Burn's output gradient into the graph as the gradient of the dot
//! product `<output, output_grad>` (whose gradient with respect to `output` is `output_grad`).
#![allow(deprecated)] // Burn marks its LibTorch backend deprecated; it is still supported.

use burn::backend::LibTorch;
use burn::backend::libtorch::TchTensor;
use burn::tensor::ops::ConvOptions;
use tch::Tensor;

use super::{AlexNetConv, ConvGrads};

/// LibTorch's forward pass is already PyTorch's: the extension only changes the backward pass.
impl AlexNetConv for LibTorch {}

/// What LibTorch's backward pass keeps of the forward pass: the output still attached to
/// LibTorch's graph, the leaves the gradients are taken for, and Burn's handles on the inputs.
pub struct TchSaved {
    /// The output, with its `grad_fn`.
    output: Tensor,
    /// `[x, weight, bias]` as autograd leaves sharing Burn's storage; `None` where no gradient
    /// is wanted.
    leaves: [Option<Tensor>; 3],
    /// Burn's handles on `x` and `weight`: while they are held, Burn writes into neither in
    /// place, so the values LibTorch saved for the backward pass stay as they were.
    _inputs: [TchTensor; 2],
}

impl Clone for TchSaved {
    fn clone(&self) -> Self {
        Self {
            output: self.output.shallow_clone(),
            leaves: self
                .leaves
                .each_ref()
                .map(|leaf| leaf.as_ref().map(Tensor::shallow_clone)),
            _inputs: self._inputs.clone(),
        }
    }
}

impl core::fmt::Debug for TchSaved {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TchSaved")
            .field("output", &self.output.size())
            .finish_non_exhaustive()
    }
}

impl ConvGrads for LibTorch {
    type Saved = TchSaved;

    fn conv2d_tracked(
        x: TchTensor,
        weight: TchTensor,
        bias: TchTensor,
        options: ConvOptions<2>,
        wants: [bool; 3],
    ) -> (TchTensor, TchSaved) {
        let leaf = |t: &TchTensor, want: bool| t.tensor.detach().set_requires_grad(want);
        let [want_x, want_weight, want_bias] = wants;
        let [lx, lw, lb] = [
            leaf(&x, want_x),
            leaf(&weight, want_weight),
            leaf(&bias, want_bias),
        ];
        let output = forward(&lx, &lw, &lb, &options); // [N, C_out, H_out, W_out]
        let result = TchTensor::new(output.detach());
        let saved = TchSaved {
            output,
            leaves: [
                want_x.then_some(lx),
                want_weight.then_some(lw),
                want_bias.then_some(lb),
            ],
            _inputs: [x, weight],
        };
        (result, saved)
    }

    fn conv2d_grads(
        saved: TchSaved,
        output_grad: TchTensor,
        _wants: [bool; 3],
    ) -> [Option<TchTensor>; 3] {
        let inputs: Vec<&Tensor> = saved.leaves.iter().flatten().collect();
        if inputs.is_empty() {
            return [None, None, None];
        }
        let root = saved
            .output
            .reshape([-1])
            .dot(&output_grad.tensor.reshape([-1])); // scalar
        let mut grads = Tensor::run_backward(&[root], &inputs, false, false).into_iter();
        saved
            .leaves
            .map(|leaf| leaf.and_then(|_| grads.next()).map(TchTensor::new))
    }
}

/// `conv2d` of the leaves under LibTorch's autograd; asymmetric padding is a differentiable
/// pad of `x` first, as Burn's LibTorch backend does it.
fn forward(x: &Tensor, weight: &Tensor, bias: &Tensor, options: &ConvOptions<2>) -> Tensor {
    let [(top, bottom), (left, right)] = options.padding;
    let stride = options.stride.map(|s| s as i64);
    let dilation = options.dilation.map(|d| d as i64);
    let groups = options.groups as i64;
    if top == bottom && left == right {
        let padding = [top as i64, left as i64];
        return x.conv2d(weight, Some(bias), stride, padding, dilation, groups);
    }
    let padded = x.constant_pad_nd([left as i64, right as i64, top as i64, bottom as i64]);
    padded.conv2d(weight, Some(bias), stride, [0, 0], dilation, groups)
}
