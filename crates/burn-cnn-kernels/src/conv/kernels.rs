//! The forward pass and the gradients of an ungrouped f32 convolution on contiguous NCHW slices:
//! the input unrolled into columns (im2col) and one matrix multiplication per group of samples
//! (and, for the input gradient, the columns folded back). A group holds enough samples for the
//! product to have [`MIN_COLUMNS`] columns, so that the layers with small outputs (13x13) do not
//! repack the weights for every sample. The batch is split between the threads, one set of
//! buffers per task; a batch smaller than the thread pool runs its groups in turn with a
//! multi-threaded product instead.

use std::ops::Range;

use rayon::prelude::*;

use super::im2col::Im2col;
use crate::gemm::{Matrix, gemm};

/// The fewest columns (output positions over the group's samples) a product gets, when the
/// batch has enough samples.
const MIN_COLUMNS: usize = 512;

/// Samples per group for `positions` output positions per sample.
fn group_len(positions: usize) -> usize {
    MIN_COLUMNS.div_ceil(positions.max(1))
}

/// `[N, C_out, H_out*W_out]` output of input `x` `[N, C, H, W]`, `weight` `[C_out, C*K_h*K_w]`
/// and `bias` `[C_out]`.
pub(super) fn forward(x: &[f32], weight: &[f32], bias: &[f32], g: &Im2col) -> Vec<f32> {
    let (rows, positions) = (g.rows(), g.positions());
    let c_out = bias.len();
    let w = Matrix::row_major(weight, c_out, rows);
    let n = x.len().checked_div(g.c * g.h * g.w).unwrap_or(0);
    let k = group_len(positions);
    let scratch = (rows + c_out) * k * positions;
    per_group(
        n,
        c_out * positions,
        k,
        scratch,
        |samples, y, scratch, threads| {
            let width = samples.len() * positions;
            let (cols, product) = scratch.split_at_mut(rows * width);
            g.columns_into(x, samples.clone(), cols);
            let cols = Matrix::row_major(cols, rows, width);
            // One sample: the product is the output itself.
            if samples.len() == 1 {
                return product_with_bias(y, w, cols, bias, threads);
            }
            let product = &mut product[..c_out * width];
            product_with_bias(product, w, cols, bias, threads);
            ungroup(product, y, c_out, positions);
        },
    )
}

/// `[N, C, H, W]` gradient of the input, given the output gradient `dy` `[N, C_out,
/// H_out*W_out]` and `weight` `[C_out, C*K_h*K_w]`.
pub(super) fn input_grad(dy: &[f32], weight: &[f32], c_out: usize, g: &Im2col) -> Vec<f32> {
    let (rows, positions) = (g.rows(), g.positions());
    let wt = Matrix::row_major(weight, c_out, rows).t(); // [C*K_h*K_w, C_out]
    let n = dy.len().checked_div(c_out * positions).unwrap_or(0);
    let k = group_len(positions);
    let scratch = (rows + c_out) * k * positions;
    let sample_len = g.c * g.h * g.w;
    per_group(
        n,
        sample_len,
        k,
        scratch,
        |samples, dx, scratch, threads| {
            let width = samples.len() * positions;
            let (cols, grouped) = scratch.split_at_mut(rows * width);
            let dy = &dy[samples.start * c_out * positions..][..c_out * width];
            let dy = grouped_view(dy, grouped, c_out, positions);
            gemm(
                cols,
                wt,
                Matrix::row_major(dy, c_out, width),
                false,
                threads,
            ); // [C*K_h*K_w, len*H_out*W_out]
            dx.fill(0.0);
            for (s, dx) in dx.chunks_exact_mut(sample_len).enumerate() {
                g.add_columns_into(&cols[s * positions..], width, dx);
            }
        },
    )
}

/// `[C_out, C*K_h*K_w]` gradient of the weight, given the input `x` `[N, C, H, W]` and the
/// output gradient `dy` `[N, C_out, H_out*W_out]`: the sum over the samples of `dy` times the
/// transposed columns. Each task sums its samples into a buffer of its own; the buffers are
/// added at the end.
pub(super) fn weight_grad(x: &[f32], dy: &[f32], c_out: usize, g: &Im2col) -> Vec<f32> {
    let (rows, positions) = (g.rows(), g.positions());
    let n = x.len().checked_div(g.c * g.h * g.w).unwrap_or(0);
    let k = group_len(positions);
    // The gradient over `samples`, with the product on every thread when `threads`.
    let part = |samples: Range<usize>, threads: bool| {
        let mut dw = vec![0.0f32; c_out * rows];
        let mut cols = vec![0.0f32; rows * k * positions];
        let mut grouped = vec![0.0f32; c_out * k * positions];
        for start in samples.clone().step_by(k) {
            let group_samples = start..(start + k).min(samples.end);
            let width = group_samples.len() * positions;
            g.columns_into(x, group_samples.clone(), &mut cols);
            let dy = &dy[start * c_out * positions..][..c_out * width];
            let lhs = Matrix::row_major(
                grouped_view(dy, &mut grouped, c_out, positions),
                c_out,
                width,
            );
            let rhs = Matrix::row_major(&cols[..rows * width], rows, width).t();
            gemm(&mut dw, lhs, rhs, true, threads); // [C_out, C*K_h*K_w]
        }
        dw
    };
    let threads = rayon::current_num_threads();
    if n < threads {
        return part(0..n, true);
    }
    let per_task = n.div_ceil(threads);
    (0..n)
        .step_by(per_task)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|start| part(start..(start + per_task).min(n), false))
        .reduce_with(|mut sum, part| {
            sum.iter_mut().zip(&part).for_each(|(s, p)| *s += p);
            sum
        })
        .unwrap_or_else(|| vec![0.0f32; c_out * rows])
}

/// `out` `[C_out, width]` = `w` `[C_out, rows]` times `cols` `[rows, width]`, plus `bias` on
/// every column.
fn product_with_bias(
    out: &mut [f32],
    w: Matrix<'_>,
    cols: Matrix<'_>,
    bias: &[f32],
    threads: bool,
) {
    for (row, &b) in out.chunks_exact_mut(cols.cols()).zip(bias) {
        row.fill(b);
    }
    gemm(out, w, cols, true, threads);
}

/// `[len, C, P]` (sample-major, as NCHW stores it) into `[C, len*P]` (channel-major, as the
/// product wants it).
fn group(samples: &[f32], grouped: &mut [f32], channels: usize, positions: usize) {
    for (s, sample) in samples.chunks_exact(channels * positions).enumerate() {
        let width = grouped.len() / channels;
        for (c, src) in sample.chunks_exact(positions).enumerate() {
            grouped[c * width + s * positions..][..positions].copy_from_slice(src);
        }
    }
}

/// `samples` `[len, C, P]` as `[C, len*P]`: the slice itself for one sample, otherwise grouped
/// into the front of `scratch`.
fn grouped_view<'a>(
    samples: &'a [f32],
    scratch: &'a mut [f32],
    channels: usize,
    positions: usize,
) -> &'a [f32] {
    if samples.len() == channels * positions {
        return samples;
    }
    let grouped = &mut scratch[..samples.len()];
    group(samples, grouped, channels, positions);
    grouped
}

/// The inverse of [`group`]: `[C, len*P]` back into `[len, C, P]`.
fn ungroup(grouped: &[f32], samples: &mut [f32], channels: usize, positions: usize) {
    let width = grouped.len() / channels;
    for (s, sample) in samples.chunks_exact_mut(channels * positions).enumerate() {
        for (c, dst) in sample.chunks_exact_mut(positions).enumerate() {
            dst.copy_from_slice(&grouped[c * width + s * positions..][..positions]);
        }
    }
}

/// Runs `run(samples, output, scratch, parallel_gemm)` for groups of at most `group` of the `n`
/// samples, each with its part of a new output (`out_len` per sample) and a scratch buffer of
/// `scratch_len` per task.
fn per_group(
    n: usize,
    out_len: usize,
    group: usize,
    scratch_len: usize,
    run: impl Fn(Range<usize>, &mut [f32], &mut [f32], bool) + Sync,
) -> Vec<f32> {
    let mut output = vec![0.0f32; n * out_len];
    if n == 0 || out_len == 0 {
        return output;
    }
    let threads = rayon::current_num_threads();
    // Samples `first..` into `ys` (their outputs), in groups.
    let task = |first: usize, ys: &mut [f32], parallel: bool| {
        let mut scratch = vec![0.0f32; scratch_len];
        for (g, ys) in ys.chunks_mut(group * out_len).enumerate() {
            let start = first + g * group;
            run(
                start..start + ys.len() / out_len,
                ys,
                &mut scratch,
                parallel,
            );
        }
    };
    if n < threads {
        task(0, &mut output, true);
        return output;
    }
    let per_task = n.div_ceil(threads);
    output
        .par_chunks_mut(per_task * out_len)
        .enumerate()
        .for_each(|(t, ys)| task(t * per_task, ys, false));
    output
}
