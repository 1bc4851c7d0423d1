//! The layer on flex: f32 matrix multiplications into buffers of their own, on every thread.

use burn::backend::tensor::FloatTensor;
use burn::backend::{Flex, TensorMetadata};
use burn::tensor::DType;

use super::{AlexNetLinear, LinearGrads, burn_linear, burn_linear_grads};
use crate::flex_slices::{contiguous, elements, tensor};
use crate::gemm::{Matrix, gemm};

impl AlexNetLinear for Flex {
    fn alexnet_linear(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let Some([n, d_in, d_out]) = dims(&x, &weight, &bias) else {
            return burn_linear::<Flex>(x, weight, bias);
        };
        let (x, weight, bias) = (contiguous(x), contiguous(weight), contiguous(bias));
        let mut y = Vec::with_capacity(n * d_out);
        for _ in 0..n {
            y.extend_from_slice(elements(&bias)); // [N, out], every row the bias
        }
        let x_m = Matrix::row_major(elements(&x), n, d_in);
        gemm(
            &mut y,
            x_m,
            Matrix::row_major(elements(&weight), d_in, d_out),
            true,
            true,
        );
        tensor(y, [n, d_out], &x)
    }
}

#[cfg(test)]
thread_local! {
    /// How many of `[dx, dweight, dbias]` the flex backward pass computed on this thread: the unit
    /// tests check that it skips the gradients nobody asked for.
    pub(super) static COMPUTED: std::cell::Cell<[usize; 3]> = const { std::cell::Cell::new([0; 3]) };
}

/// Counts one computation of gradient `which` (0: dx, 1: dweight, 2: dbias), in unit tests only.
fn count(which: usize) {
    #[cfg(test)]
    COMPUTED.with(|c| {
        let mut counts = c.get();
        counts[which] += 1;
        c.set(counts);
    });
    #[cfg(not(test))]
    let _ = which;
}

impl LinearGrads for Flex {
    fn linear_grads(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        wants: [bool; 3],
    ) -> [Option<FloatTensor<Self>>; 3] {
        let Some([n, d_in, d_out]) = dims(&x, &weight, &output_grad) else {
            return burn_linear_grads::<Flex>(x, weight, output_grad, wants);
        };
        let [want_x, want_weight, want_bias] = wants;
        let dy = contiguous(output_grad);
        let dy_m = Matrix::row_major(elements(&dy), n, d_out);
        let dx = want_x.then(|| {
            count(0);
            let mut dx = vec![0.0f32; n * d_in];
            let weight = contiguous(weight);
            let w_t = Matrix::row_major(elements(&weight), d_in, d_out).t(); // [out, in]
            gemm(&mut dx, dy_m, w_t, false, true); // [N, in]
            tensor(dx, [n, d_in], &dy)
        });
        let dw = want_weight.then(|| {
            count(1);
            let mut dw = vec![0.0f32; d_in * d_out];
            let x = contiguous(x);
            let x_t = Matrix::row_major(elements(&x), n, d_in).t(); // [in, N]
            gemm(&mut dw, x_t, dy_m, false, true); // [in, out]
            tensor(dw, [d_in, d_out], &dy)
        });
        let db = want_bias.then(|| {
            count(2);
            let mut db = vec![0.0f32; d_out];
            for row in elements(&dy).chunks_exact(d_out) {
                for (sum, g) in db.iter_mut().zip(row) {
                    *sum += g;
                }
            }
            tensor(db, [d_out], &dy)
        });
        [dx, dw, db]
    }
}

/// `[N, in, out]` of f32 `x` `[N, in]` and `weight` `[in, out]` with an f32 `other` of `out`
/// columns (the bias `[out]` or the output gradient `[N, out]`); `None` for anything else, which
/// runs Burn's operations.
fn dims(
    x: &FloatTensor<Flex>,
    weight: &FloatTensor<Flex>,
    other: &FloatTensor<Flex>,
) -> Option<[usize; 3]> {
    let f32s = [x, weight, other].iter().all(|t| t.dtype() == DType::F32);
    let (xs, ws, os) = (x.shape(), weight.shape(), other.shape());
    let ok = f32s && xs.num_dims() == 2 && ws.num_dims() == 2 && xs[1] == ws[0];
    let columns = os.num_dims() >= 1 && os[os.num_dims() - 1] == ws[1];
    (ok && columns).then(|| [xs[0], ws[0], ws[1]])
}
