//! The SGD step on LibTorch: PyTorch's own in-place operations on the parameter, its gradient and
//! its momentum buffer, as `torch.optim.SGD` runs them, allocating nothing but the momentum
//! buffer of the first step.
#![allow(deprecated)] // Burn marks its LibTorch backend deprecated; it is still supported.

use burn::backend::LibTorch;
use burn::backend::libtorch::TchTensor;
use burn::tensor::Tensor;
use tch::Tensor as Torch;

use super::Step;

/// The step of `param` with `grad` (and the momentum buffer `velocity` when `momentum`), in place
/// on each tensor that nothing else holds (as when the optimiser owns the model); a tensor held
/// elsewhere is copied first, so that its holder sees no change.
pub(super) fn step<const D: usize>(
    param: Tensor<D>,
    grad: Tensor<D>,
    velocity: Option<Tensor<D>>,
    step: Step,
    momentum: bool,
) -> (Tensor<D>, Option<Tensor<D>>) {
    let (mut p, mut g) = (owned(param), owned(grad));
    let v = velocity.filter(|_| momentum).map(owned);
    let scalar = |s: f32| Torch::scalar_tensor(f64::from(s), (p.tensor.kind(), p.tensor.device()));
    if step.weight_decay != 0.0 {
        let _ = g.tensor.addcmul_(&p.tensor, &scalar(step.weight_decay)); // d = g + wd * p
    }
    let v = momentum.then(|| match v {
        Some(mut v) if !step.first => {
            let _ = v.tensor.g_mul_scalar_(f64::from(step.momentum));
            let _ = v.tensor.addcmul_(&g.tensor, &scalar(1.0 - step.dampening));
            v
        }
        // The first step: the buffer starts as a copy of `d`, as in PyTorch.
        _ => TchTensor::new(g.tensor.copy()),
    });
    let update = match &v {
        Some(v) if step.nesterov => {
            let _ = g.tensor.addcmul_(&v.tensor, &scalar(step.momentum)); // d + momentum * v
            &g.tensor
        }
        Some(v) => &v.tensor,
        None => &g.tensor,
    };
    let _ = p.tensor.addcmul_(update, &scalar(-step.lr));
    (wrap(p), v.map(wrap))
}

/// The LibTorch primitive of a tensor on LibTorch (the caller checked the device), copied if
/// something else holds its storage.
fn owned<const D: usize>(tensor: Tensor<D>) -> TchTensor {
    let tensor = tensor
        .try_into_primitive::<LibTorch>()
        .expect("the device was checked to be LibTorch");
    if tensor.can_mut() {
        tensor
    } else {
        TchTensor::new(tensor.tensor.copy())
    }
}

fn wrap<const D: usize>(tensor: TchTensor) -> Tensor<D> {
    Tensor::from_primitive::<LibTorch>(tensor)
}
