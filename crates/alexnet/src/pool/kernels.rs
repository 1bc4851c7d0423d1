//! Max pooling on contiguous NCHW f32 slices: the forward pass with the position of each
//! window's maximum, and the backward pass that routes each output gradient to that position.
//! Planes (one channel of one sample) run in parallel.

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

    /// The input positions along one axis of the window at output position `o`: `(tap, index)`
    /// for each tap inside the input.
    fn taps(&self, axis: usize, o: usize) -> impl Iterator<Item = usize> + '_ {
        let start = o * self.stride[axis];
        (0..self.kernel[axis])
            .map(move |k| (start + k * self.dilation[axis]).wrapping_sub(self.pad_begin[axis]))
            .filter(move |&i| i < self.input[axis])
    }

    /// Each window of one plane `x`: `write(output position, maximum, its position in the
    /// plane)`. A NaN in a window is its maximum, as in PyTorch.
    #[inline(always)]
    fn plane(&self, x: &[f32], mut write: impl FnMut(usize, f32, u32)) {
        let width = self.input[1];
        for oh in 0..self.out[0] {
            for ow in 0..self.out[1] {
                let (mut best, mut at) = (f32::NEG_INFINITY, NO_INDEX);
                for ih in self.taps(0, oh) {
                    for iw in self.taps(1, ow) {
                        let i = ih * width + iw;
                        let v = x[i];
                        if v > best || v.is_nan() || at == NO_INDEX {
                            (best, at) = (v, i as u32);
                        }
                    }
                }
                write(oh * self.out[1] + ow, best, at);
            }
        }
    }
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
        .for_each(|(y, x)| g.plane(x, |o, best, _| y[o] = best));
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
