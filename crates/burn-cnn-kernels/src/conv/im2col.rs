//! Unrolling a convolution's input into columns (im2col).

use std::ops::Range;

/// The geometry of an ungrouped 2-d convolution, for unrolling its input into columns.
pub(super) struct Im2col {
    pub(super) c: usize,
    pub(super) h: usize,
    pub(super) w: usize,
    pub(super) kernel: [usize; 2],
    pub(super) out: [usize; 2],
    pub(super) stride: [usize; 2],
    pub(super) dilation: [usize; 2],
    /// Padding before the first row and the first column (the padding after them only changes
    /// the output size, which `out` already holds).
    pub(super) pad_begin: [usize; 2],
}

impl Im2col {
    /// Rows of the unrolled input: one per channel and kernel tap.
    pub(super) fn rows(&self) -> usize {
        self.c * self.kernel[0] * self.kernel[1]
    }

    /// Output positions of one sample.
    pub(super) fn positions(&self) -> usize {
        self.out[0] * self.out[1]
    }

    /// The samples `batch` of `input` `[N, C, H, W]` (contiguous) unrolled into the first
    /// `C*K_h*K_w * len*H_out*W_out` elements of `out`, as `[C*K_h*K_w, len*H_out*W_out]`: row
    /// `(c, i, j)` holds, for every sample and output position, the input pixel that kernel tap
    /// `(i, j)` of channel `c` multiplies (zero in the padding). Every element is written, so
    /// `out` can be reused.
    pub(super) fn columns_into(&self, input: &[f32], batch: Range<usize>, out: &mut [f32]) {
        let sample_len = self.c * self.h * self.w;
        let positions = self.positions();
        let width = batch.len() * positions;
        for (row, out) in out.chunks_exact_mut(width).take(self.rows()).enumerate() {
            for (sample, b) in batch.clone().enumerate() {
                let x = &input[b * sample_len..][..sample_len];
                self.row_into(x, row, &mut out[sample * positions..][..positions]);
            }
        }
    }

    /// Row `row` = `(c, i, j)` of one sample's columns: for every output position, the input
    /// pixel of `x` `[C, H, W]` that kernel tap `(i, j)` of channel `c` multiplies, 0 in the
    /// padding.
    fn row_into(&self, x: &[f32], row: usize, out: &mut [f32]) {
        let [kh, kw] = self.kernel;
        let wo = self.out[1];
        let (h, w) = (self.h, self.w);
        let (ch, tap) = (row / (kh * kw), row % (kh * kw));
        let (i, j) = (tap / kw, tap % kw);
        // The output columns whose input column `ox * stride + j * dilation - pad` lies inside
        // the image: `lo..hi`.
        let offset_x = (j * self.dilation[1]) as isize - self.pad_begin[1] as isize;
        let (lo, hi) = valid_range(offset_x, self.stride[1], w, wo);
        let offset_y = (i * self.dilation[0]) as isize - self.pad_begin[0] as isize;
        let plane = &x[ch * h * w..][..h * w];
        for (oy, dst) in out.chunks_exact_mut(wo).enumerate() {
            let iy = (oy * self.stride[0]) as isize + offset_y;
            if iy < 0 || iy >= h as isize || lo >= hi {
                dst.fill(0.0); // padding
                continue;
            }
            dst[..lo].fill(0.0);
            dst[hi..].fill(0.0);
            let src = &plane[iy as usize * w..][..w];
            let first = ((lo * self.stride[1]) as isize + offset_x) as usize; // >= 0 by `valid_range`
            if self.stride[1] == 1 {
                dst[lo..hi].copy_from_slice(&src[first..first + (hi - lo)]);
            } else {
                let taps = src[first..].iter().step_by(self.stride[1]);
                for (d, s) in dst[lo..hi].iter_mut().zip(taps) {
                    *d = *s;
                }
            }
        }
    }

    /// The inverse of [`columns_into`](Self::columns_into) for one sample's gradients (col2im):
    /// every element of the sample's columns `[C*K_h*K_w, H_out*W_out]` (row `r` at
    /// `cols[r * row_stride..]`) added to the pixel of `dx` `[C, H, W]` it was read from. `dx`
    /// must start at zero.
    pub(super) fn add_columns_into(&self, cols: &[f32], row_stride: usize, dx: &mut [f32]) {
        let [kh, kw] = self.kernel;
        let [ho, wo] = self.out;
        let (h, w) = (self.h, self.w);
        for row in 0..self.rows() {
            let src = &cols[row * row_stride..][..ho * wo];
            let (ch, tap) = (row / (kh * kw), row % (kh * kw));
            let (i, j) = (tap / kw, tap % kw);
            let offset_x = (j * self.dilation[1]) as isize - self.pad_begin[1] as isize;
            let (lo, hi) = valid_range(offset_x, self.stride[1], w, wo);
            let offset_y = (i * self.dilation[0]) as isize - self.pad_begin[0] as isize;
            let plane = &mut dx[ch * h * w..][..h * w];
            for (oy, src) in src.chunks_exact(wo).enumerate() {
                let iy = (oy * self.stride[0]) as isize + offset_y;
                if iy < 0 || iy >= h as isize || lo >= hi {
                    continue;
                }
                let dst = &mut plane[iy as usize * w..][..w];
                let first = ((lo * self.stride[1]) as isize + offset_x) as usize;
                if self.stride[1] == 1 {
                    for (d, s) in dst[first..first + (hi - lo)].iter_mut().zip(&src[lo..hi]) {
                        *d += s;
                    }
                } else {
                    let taps = dst[first..].iter_mut().step_by(self.stride[1]);
                    for (d, s) in taps.zip(&src[lo..hi]) {
                        *d += s;
                    }
                }
            }
        }
    }
}

/// The range `lo..hi` of output indices `o < out` whose input index `o * stride + offset` lies in
/// `0..size`.
fn valid_range(offset: isize, stride: usize, size: usize, out: usize) -> (usize, usize) {
    let stride = stride as isize;
    // Smallest o with o * stride + offset >= 0.
    let lo = if offset >= 0 {
        0
    } else {
        ((-offset + stride - 1) / stride) as usize
    };
    // Largest o with o * stride + offset <= size - 1, plus one.
    let last = size as isize - 1 - offset;
    let hi = if last < 0 {
        0
    } else {
        (last / stride + 1) as usize
    };
    (lo.min(out), hi.min(out).max(lo.min(out)))
}

#[cfg(test)]
mod tests {
    use super::valid_range;

    #[test]
    fn valid_range_matches_a_scan() {
        for offset in -4isize..5 {
            for stride in 1..4 {
                for size in 1..8 {
                    for out in 0..8 {
                        let inside: Vec<usize> = (0..out)
                            .filter(|&o| {
                                let i = (o * stride) as isize + offset;
                                i >= 0 && i < size as isize
                            })
                            .collect();
                        let (lo, hi) = valid_range(offset, stride, size, out);
                        assert_eq!(
                            (lo..hi).collect::<Vec<_>>(),
                            inside,
                            "offset {offset} stride {stride} size {size} out {out}"
                        );
                    }
                }
            }
        }
    }
}
