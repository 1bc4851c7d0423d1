//! Max pooling where windows tie, as they do after a ReLU: `burn_cnn_kernels::pool::max_pool2d`
//! against PyTorch (tests/fixtures/pool_ties.safetensors, written by tools/make_pool_fixtures.py)
//! and against Burn's own max pool, on flex. PyTorch routes a window's gradient to the first of
//! its maxima in row-major order; with AlexNet's overlapping windows (3x3, stride 2) a position
//! then collects the gradients of every window it is first in.

mod common;

use burn::tensor::ops::MaxPoolOptions;
use burn::tensor::{Device, Tensor};
use burn_cnn_kernels::pool::max_pool2d;
use common::{on_thread_pools, read_safetensors, relative_error, tensor, values};

/// Output and input gradient of a 3x3, stride-2 max pool of `x` for the output gradient `dy`,
/// through the project's kernel (`ours`) or Burn's max pool.
fn pool(x: &Tensor<4>, dy: &Tensor<4>, ours: bool) -> (Vec<f32>, Vec<f32>) {
    let options = MaxPoolOptions::new([3, 3]).with_stride([2, 2]);
    let x = x.clone().require_grad();
    let y = if ours {
        max_pool2d(x.clone(), options)
    } else {
        burn::tensor::module::max_pool2d(x.clone(), options)
    }; // [N, C, H_out, W_out]
    let grads = (y.clone() * dy.clone()).sum().backward();
    let dx = x.grad(&grads).expect("input gradient"); // [N, C, H, W]
    (values(y), values(dx))
}

#[test]
fn tied_windows_send_the_gradient_to_their_first_maximum_as_pytorch_does() {
    let fixture = read_safetensors("pool_ties.safetensors");
    let device = Device::flex().autodiff();
    on_thread_pools(|threads| {
        for case in ["13x13", "27x27"] {
            let what = format!("{case}, {threads} threads");
            let x: Tensor<4> = tensor(&fixture[&format!("{case}/x")], &device);
            let dy: Tensor<4> = tensor(&fixture[&format!("{case}/dy")], &device);
            let (y, dx) = pool(&x, &dy, true);
            assert_eq!(y, fixture[&format!("{case}/y")].0, "{what}: output");
            // Sums of a few gradients, in another order than PyTorch's at most.
            let err = relative_error(&dx, &fixture[&format!("{case}/dx")].0);
            assert!(
                err <= 1e-6,
                "{what}: input gradient against PyTorch, {err:e}"
            );
            let (_, dx_burn) = pool(&x, &dy, false);
            let err = relative_error(&dx, &dx_burn);
            assert!(
                err <= 1e-6,
                "{what}: input gradient against Burn's, {err:e}"
            );
        }
    });
}
