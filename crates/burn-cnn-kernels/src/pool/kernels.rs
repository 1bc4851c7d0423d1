//! Max pooling on contiguous NCHW f32 slices: the forward pass with the position of each
//! window's maximum, and the backward pass that routes each output gradient to that position.
//! Planes (one channel of one sample) run in parallel.

use std::ops::Range;

use rayon::prelude::*;

/// The geometry of a 2-D max pool over `[H, W]` planes, with PyTorch's floor output size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    /// Input height and width.
    pub input: [usize; 2],
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Stride along height and width.
    pub stride: [usize; 2],
    /// Spacing between kernel taps along height and width.
    pub dilation: [usize; 2],
    /// Implicit padding (never the maximum) before the first row and column.
    pub pad_begin: [usize; 2],
    /// Output height and width.
    pub out: [usize; 2],
}

/// No tap of a window lies inside the input (only with padding larger than the kernel).
pub(crate) const NO_INDEX: u32 = u32::MAX;

/// Planes per parallel task: enough work per task at AlexNet's smallest pool (13x13 to 6x6).
const PLANES_PER_TASK: usize = 16;

impl Window {
    /// Positions of one input plane.
    pub fn input_len(&self) -> usize {
        self.input[0] * self.input[1]
    }

    /// Positions of one output plane.
    pub fn out_len(&self) -> usize {
        self.out[0] * self.out[1]
    }

    /// The kernel taps `k` along `axis` whose input index `o * stride + k * dilation - pad`
    /// lies inside the input, for output index `o`.
    fn taps(&self, axis: usize, o: usize) -> Range<usize> {
        let (start, pad) = (o * self.stride[axis], self.pad_begin[axis]);
        let dilation = self.dilation[axis];
        let first = pad.saturating_sub(start).div_ceil(dilation);
        let end = (self.input[axis] + pad)
            .saturating_sub(start)
            .div_ceil(dilation)
            .min(self.kernel[axis]);
        first..end.max(first)
    }

    /// The input index along `axis` of tap `k` of output index `o` (a tap of [`taps`](Self::taps)).
    #[inline(always)]
    fn index(&self, axis: usize, o: usize, k: usize) -> usize {
        o * self.stride[axis] + k * self.dilation[axis] - self.pad_begin[axis]
    }

    /// Each window of one plane `x`: `write(output position, maximum, its position in the
    /// plane)`. A NaN in a window is its maximum, as in PyTorch.
    #[inline(always)]
    fn plane(&self, x: &[f32], mut write: impl FnMut(usize, f32, u32)) {
        let width = self.input[1];
        let columns: Vec<Range<usize>> = (0..self.out[1]).map(|ow| self.taps(1, ow)).collect();
        for oh in 0..self.out[0] {
            let rows = self.taps(0, oh);
            for (ow, cols) in columns.iter().enumerate() {
                let (mut best, mut at) = (f32::NEG_INFINITY, NO_INDEX);
                if let (Some(kh), Some(kw)) = (rows.clone().next(), cols.clone().next()) {
                    at = (self.index(0, oh, kh) * width + self.index(1, ow, kw)) as u32;
                    best = x[at as usize];
                }
                for kh in rows.clone() {
                    let row = self.index(0, oh, kh) * width;
                    for kw in cols.clone() {
                        let i = row + self.index(1, ow, kw);
                        let v = x[i];
                        // Without branches: the comparisons are unpredictable.
                        let better = v > best || v.is_nan();
                        best = if better { v } else { best };
                        at = if better { i as u32 } else { at };
                    }
                }
                write(oh * self.out[1] + ow, best, at);
            }
        }
    }

    /// The maxima of one plane `x` into `y`, without their positions: per output row, the
    /// maximum over the window's input rows for every column first (a loop that vectorises),
    /// then over the window's columns. `rows_max` is scratch of the input width.
    fn plane_maxima(&self, x: &[f32], y: &mut [f32], rows_max: &mut [f32]) {
        let width = self.input[1];
        let columns: Vec<Range<usize>> = (0..self.out[1]).map(|ow| self.taps(1, ow)).collect();
        for (oh, y) in y.chunks_exact_mut(self.out[1]).enumerate() {
            rows_max.fill(f32::NEG_INFINITY);
            for kh in self.taps(0, oh) {
                let row = &x[self.index(0, oh, kh) * width..][..width];
                for (m, &v) in rows_max.iter_mut().zip(row) {
                    *m = nan_max(*m, v);
                }
            }
            for ((ow, cols), y) in columns.iter().enumerate().zip(y) {
                let taps = cols.clone().map(|kw| rows_max[self.index(1, ow, kw)]);
                *y = taps.fold(f32::NEG_INFINITY, nan_max);
            }
        }
    }
}

/// The larger of `a` and `b`, or a NaN if either is one (as PyTorch's max pool), without a
/// branch.
#[inline(always)]
fn nan_max(a: f32, b: f32) -> f32 {
    if b > a || b.is_nan() { b } else { a }
}

/// The output `[planes, H_out*W_out]` of input `x` `[planes, H*W]`.
pub(crate) fn forward(x: &[f32], g: &Window) -> Vec<f32> {
    let planes = x.len() / g.input_len().max(1);
    let mut y = vec![0.0f32; planes * g.out_len()];
    if g.out_len() == 0 {
        return y;
    }
    y.par_chunks_mut(g.out_len())
        .zip(x.par_chunks(g.input_len()))
        .with_min_len(PLANES_PER_TASK)
        .for_each_init(
            || vec![0.0f32; g.input[1]],
            |rows_max, (y, x)| g.plane_maxima(x, y, rows_max),
        );
    y
}

/// [`forward`], and the position of each output's maximum within its input plane.
pub(crate) fn forward_with_indices(x: &[f32], g: &Window) -> (Vec<f32>, Vec<u32>) {
    let planes = x.len() / g.input_len().max(1);
    let mut y = vec![0.0f32; planes * g.out_len()];
    let mut indices = vec![0u32; planes * g.out_len()];
    if g.out_len() == 0 {
        return (y, indices);
    }
    y.par_chunks_mut(g.out_len())
        .zip(indices.par_chunks_mut(g.out_len()))
        .zip(x.par_chunks(g.input_len()))
        .with_min_len(PLANES_PER_TASK)
        .for_each(|((y, indices), x)| {
            g.plane(x, |o, best, at| (y[o], indices[o]) = (best, at));
        });
    (y, indices)
}

/// The gradient of the input `[planes, H*W]`: each output gradient of `dy` `[planes,
/// H_out*W_out]` added at its maximum's position.
pub(crate) fn backward(dy: &[f32], indices: &[u32], g: &Window) -> Vec<f32> {
    let planes = dy.len() / g.out_len().max(1);
    let mut dx = vec![0.0f32; planes * g.input_len()];
    if g.out_len() == 0 || g.input_len() == 0 {
        return dx;
    }
    dx.par_chunks_mut(g.input_len())
        .zip(dy.par_chunks(g.out_len()))
        .zip(indices.par_chunks(g.out_len()))
        .with_min_len(PLANES_PER_TASK)
        .for_each(|((dx, dy), indices)| {
            for (&d, &i) in dy.iter().zip(indices) {
                if i != NO_INDEX {
                    dx[i as usize] += d;
                }
            }
        });
    dx
}
