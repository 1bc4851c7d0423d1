//! The forward pass and the input gradient of an ungrouped f32 convolution on contiguous NCHW
//! slices: per sample, the input unrolled into columns and one matrix multiplication (and, for
//! the gradient, the columns folded back). Samples run in parallel, one buffer per task; a batch
//! smaller than the thread pool runs its samples in turn with a multi-threaded product instead.

use rayon::prelude::*;

use super::im2col::Im2col;
use crate::gemm::{Matrix, gemm};

/// `[N, C_out, H_out*W_out]` output of input `x` `[N, C, H, W]`, `weight` `[C_out, C*K_h*K_w]`
/// and `bias` `[C_out]`.
pub(super) fn forward(x: &[f32], weight: &[f32], bias: &[f32], g: &Im2col) -> Vec<f32> {
    let (rows, positions) = (g.rows(), g.positions());
    let c_out = bias.len();
    let w = Matrix::row_major(weight, c_out, rows);
    per_sample(
        x,
        g.c * g.h * g.w,
        c_out * positions,
        rows * positions,
        |x, y, cols, threads| {
            g.sample_columns_into(x, cols);
            for (row, &b) in y.chunks_exact_mut(positions).zip(bias) {
                row.fill(b);
            }
            gemm(
                y,
                w,
                Matrix::row_major(cols, rows, positions),
                true,
                threads,
            );
        },
    )
}

/// `[N, C, H, W]` gradient of the input, given the output gradient `dy` `[N, C_out,
/// H_out*W_out]` and `weight` `[C_out, C*K_h*K_w]`.
pub(super) fn input_grad(dy: &[f32], weight: &[f32], c_out: usize, g: &Im2col) -> Vec<f32> {
    let (rows, positions) = (g.rows(), g.positions());
    let wt = Matrix::row_major(weight, c_out, rows).t(); // [C*K_h*K_w, C_out]
    per_sample(
        dy,
        c_out * positions,
        g.c * g.h * g.w,
        rows * positions,
        |dy, dx, cols, threads| {
            gemm(
                cols,
                wt,
                Matrix::row_major(dy, c_out, positions),
                false,
                threads,
            );
            dx.fill(0.0);
            g.add_columns_into(cols, dx);
        },
    )
}

/// Runs `sample(input, output, scratch, parallel_gemm)` for every sample of `input` (`in_len`
/// values each) and its part of a new output (`out_len` each), with a scratch buffer of
/// `scratch_len` per task.
fn per_sample(
    input: &[f32],
    in_len: usize,
    out_len: usize,
    scratch_len: usize,
    sample: impl Fn(&[f32], &mut [f32], &mut [f32], bool) + Sync,
) -> Vec<f32> {
    let n = input.len().checked_div(in_len).unwrap_or(0);
    let mut output = vec![0.0f32; n * out_len];
    if n == 0 || out_len == 0 {
        return output;
    }
    let threads = rayon::current_num_threads();
    if n < threads {
        let mut scratch = vec![0.0f32; scratch_len];
        for (x, y) in input
            .chunks_exact(in_len)
            .zip(output.chunks_exact_mut(out_len))
        {
            sample(x, y, &mut scratch, true);
        }
        return output;
    }
    let per_task = n.div_ceil(threads);
    output
        .par_chunks_mut(per_task * out_len)
        .zip(input.par_chunks(per_task * in_len))
        .for_each(|(ys, xs)| {
            let mut scratch = vec![0.0f32; scratch_len];
            for (x, y) in xs.chunks_exact(in_len).zip(ys.chunks_exact_mut(out_len)) {
                sample(x, y, &mut scratch, false);
            }
        });
    output
}
