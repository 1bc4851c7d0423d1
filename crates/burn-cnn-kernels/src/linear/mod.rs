//! The fully connected layer with this crate's kernels on flex, Burn's own elsewhere.
//!
//! What the kernel does and why (`y = x W + b` and the gradients of the tracked tensors as f32
//! matrix multiplications on flex): [docs/performance.md](https://github.com/alexnet-burn/alexnet-burn/blob/main/docs/performance.md#cpu-the-projects-kernels-on-flex).
//!
//! Like [`conv`](crate::conv), the operation is a Burn backend extension ([`AlexNetLinear`]):
//! [`linear`] and [`linear_layer`] take it on flex devices, Burn's own `Linear` everywhere else.

mod backward;
mod flex;

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::nn::Linear;
use burn::tensor::{Shape, Tensor};

use crate::{KernelBackend, kernel_backend};

/// The layer as a backend operation, implemented on flex (and on autodiff over flex, where the
/// backward pass lives).
#[backend_extension(Flex, Autodiff)]
pub trait AlexNetLinear: Backend {
    /// `x` `[N, in]` times `weight` `[in, out]` plus `bias` `[out]`: `[N, out]`. Burn's
    /// operations unless overridden.
    fn alexnet_linear(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        burn_linear::<Self>(x, weight, bias)
    }
}

/// The gradients of the layer on one backend (not dispatched: the backward pass of
/// [`AlexNetLinear`] on `Autodiff<B>` calls them on `B`).
pub trait LinearGrads: Backend {
    /// `[dx, dweight, dbias]` of `x` `[N, in]` and `weight` `[in, out]`, given the gradient of
    /// the output `output_grad` `[N, out]`: each one only where `wants` is true (the tensor is
    /// tracked), `None` elsewhere. Burn's operations unless overridden.
    fn linear_grads(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        wants: [bool; 3],
    ) -> [Option<FloatTensor<Self>>; 3] {
        burn_linear_grads::<Self>(x, weight, output_grad, wants)
    }
}

/// `x W + b` as Burn's tensor operations on `B`.
fn burn_linear<B: Backend>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    bias: FloatTensor<B>,
) -> FloatTensor<B> {
    let out = weight.shape()[1];
    let y = B::float_matmul(x, weight); // [N, out]
    B::float_add(y, B::float_reshape(bias, Shape::new([1, out])))
}

/// `[dx, dweight, dbias]` (those in `wants`) as Burn's tensor operations on `B`.
fn burn_linear_grads<B: Backend>(
    x: FloatTensor<B>,
    weight: FloatTensor<B>,
    output_grad: FloatTensor<B>,
    wants: [bool; 3],
) -> [Option<FloatTensor<B>>; 3] {
    let [want_x, want_weight, want_bias] = wants;
    let dx = want_x.then(|| B::float_matmul(output_grad.clone(), B::float_transpose(weight))); // [N, in]
    let dw = want_weight.then(|| B::float_matmul(B::float_transpose(x), output_grad.clone())); // [in, out]
    let db = want_bias.then(|| {
        let db = B::float_sum_dim(output_grad, 0); // [1, out]
        let out = db.shape()[1];
        B::float_reshape(db, Shape::new([out]))
    });
    [dx, dw, db]
}

/// `layer.forward(x)`, through [`linear`] when the layer has a bias (all of AlexNet's),
/// [`Linear::forward`] otherwise.
///
/// `x`: `[N, in]`; returns `[N, out]`.
pub fn linear_layer(layer: &Linear, x: Tensor<2>) -> Tensor<2> {
    match &layer.bias {
        Some(bias) => linear(x, layer.weight.val(), bias.val()),
        None => layer.forward(x),
    }
}

/// `x W + b` through [`AlexNetLinear`] when `x` lives on a flex device (with or without
/// autodiff), Burn's [`linear`](burn::tensor::module::linear) otherwise.
///
/// `x`: `[N, in]`, `weight`: `[in, out]`, `bias`: `[out]`; returns `[N, out]`.
pub fn linear(x: Tensor<2>, weight: Tensor<2>, bias: Tensor<1>) -> Tensor<2> {
    if kernel_backend(&x.device()) != Some(KernelBackend::Flex) {
        return burn::tensor::module::linear(x, weight, Some(bias));
    }
    Tensor::from_dispatch(<Dispatch as AlexNetLinear>::alexnet_linear(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
    ))
}

#[cfg(test)]
mod tests {
    use super::linear_layer;
    use crate::flex_slices::relative_diff;
    use burn::nn::{Linear, LinearConfig};
    use burn::tensor::{Device, Distribution, Int, Tensor};

    /// Output and gradients of the layer through [`linear_layer`] and through `Linear::forward`.
    fn run(layer: &Linear, x: &Tensor<2>, ours: bool) -> [Tensor<2>; 4] {
        let x = x.clone().require_grad();
        let y = if ours {
            linear_layer(layer, x.clone())
        } else {
            layer.forward(x.clone())
        }; // [N, out]
        let device = y.device();
        let weights = Tensor::<1, Int>::arange(0..y.shape().num_elements() as i64, &device)
            .float()
            .reshape(y.dims())
            .sin(); // [N, out]: an output gradient that is not uniform
        let grads = (y.clone() * weights).sum().backward();
        let dx = x.grad(&grads).expect("input gradient");
        let dw = layer.weight.val().grad(&grads).expect("weight gradient");
        let db = layer
            .bias
            .as_ref()
            .expect("bias")
            .val()
            .grad(&grads)
            .expect("bias gradient");
        [y.inner(), dx, dw, db.unsqueeze()]
    }

    #[test]
    fn values_and_gradients_match_burns_linear() {
        let device = Device::flex().autodiff();
        device.seed(11);
        for (n, d_in, d_out) in [(1, 5, 3), (3, 17, 9), (16, 64, 10)] {
            let layer: Linear = LinearConfig::new(d_in, d_out).init(&device);
            let x = Tensor::<2>::random([n, d_in], Distribution::Normal(0.0, 1.0), &device);
            let ours = run(&layer, &x, true);
            let burns = run(&layer, &x, false);
            for (what, (a, b)) in ["output", "dx", "dw", "db"]
                .iter()
                .zip(ours.into_iter().zip(burns))
            {
                let d = relative_diff(a, b);
                assert!(d < 1e-6, "{what} of {n}x{d_in}->{d_out} differs by {d:e}");
            }
        }
    }

    /// `[dx, dweight, dbias]` computed on this thread by the backward pass of `loss`.
    fn computed_by(loss: impl FnOnce() -> Tensor<1>) -> ([usize; 3], burn::tensor::Gradients) {
        let before = super::flex::COMPUTED.with(|c| c.get());
        let grads = loss().backward();
        let after = super::flex::COMPUTED.with(|c| c.get());
        (std::array::from_fn(|i| after[i] - before[i]), grads)
    }

    #[test]
    fn only_the_gradients_of_tracked_tensors_are_computed() {
        let device = Device::flex().autodiff();
        device.seed(13);
        let layer: Linear = LinearConfig::new(6, 4).init(&device);
        let x = Tensor::<2>::random([3, 6], Distribution::Normal(0.0, 1.0), &device);
        // An input that is not tracked (frozen features): no input gradient.
        let (computed, grads) = computed_by(|| linear_layer(&layer, x.clone()).sum());
        assert_eq!(computed, [0, 1, 1], "untracked input");
        let dw = layer.weight.val().grad(&grads).expect("weight gradient");
        let x_t = x.clone().inner().transpose(); // [in, N]
        let ones = Tensor::<2>::ones([3, 4], &x_t.device()); // d(sum)/dy
        assert!(relative_diff(dw, x_t.matmul(ones)) < 1e-6);
        // A frozen layer with a tracked input: the input gradient alone.
        let frozen = burn::module::Module::no_grad(layer.clone());
        let (computed, _) = computed_by(|| linear_layer(&frozen, x.clone().require_grad()).sum());
        assert_eq!(computed, [1, 0, 0], "frozen layer");
        // Everything tracked: all three.
        let (computed, _) = computed_by(|| linear_layer(&layer, x.require_grad()).sum());
        assert_eq!(computed, [1, 1, 1], "all tracked");
    }

    #[test]
    fn inference_on_flex_matches_burns_linear() {
        let device = Device::flex();
        device.seed(5);
        let layer: Linear = LinearConfig::new(7, 4).init(&device);
        let x = Tensor::<2>::random([2, 7], Distribution::Normal(0.0, 1.0), &device);
        assert!(relative_diff(linear_layer(&layer, x.clone()), layer.forward(x)) < 1e-6);
    }
}
