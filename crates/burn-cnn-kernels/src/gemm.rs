//! Matrix multiplication on slices, through the `gemm` crate that flex's own matmul uses: the one
//! module of this crate with unsafe code. The safe wrapper checks every index the kernel can
//! touch against the slices' lengths before the call.
#![allow(unsafe_code)]

/// A read-only matrix view: element `(r, c)` is `data[r * row_stride + c * col_stride]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Matrix<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> Matrix<'a> {
    /// A row-major `rows x cols` matrix.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose, as a view of the same data.
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Whether every element lies inside `data`.
    fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride
                < self.data.len()
    }
}

/// `dst` (row-major `lhs.rows x rhs.cols`) `= lhs * rhs`, or `+= lhs * rhs` when `accumulate`;
/// on the calling thread, or on the whole rayon pool when `parallel`.
///
/// # Panics
/// If the shapes do not chain, or a matrix does not fit its slice.
pub(crate) fn gemm(
    dst: &mut [f32],
    lhs: Matrix<'_>,
    rhs: Matrix<'_>,
    accumulate: bool,
    parallel: bool,
) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert_eq!(rhs.rows, k, "gemm: inner dimensions differ");
    assert!(dst.len() >= m * n, "gemm: destination too small");
    assert!(
        lhs.in_bounds() && rhs.in_bounds(),
        "gemm: view outside its data"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(0.0);
        }
        return;
    }
    // SAFETY: the destination holds `m * n` elements at row stride `n` and column stride 1; the
    // asserts above put every element `(r, c)` of `lhs` (`m x k`) and `rhs` (`k x n`) inside its
    // slice. The three slices do not overlap (`dst` is borrowed mutably while they are
    // borrowed), and `read_dst` is false unless the caller asked to accumulate into `dst`'s
    // initialised values.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            if parallel {
                gemm::Parallelism::Rayon(0)
            } else {
                gemm::Parallelism::None
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::{Matrix, gemm};

    /// The product by definition.
    fn naive(lhs: Matrix<'_>, rhs: Matrix<'_>) -> Vec<f32> {
        let at = |m: &Matrix<'_>, r: usize, c: usize| m.data[r * m.row_stride + c * m.col_stride];
        let mut out = vec![0.0; lhs.rows * rhs.cols];
        for r in 0..lhs.rows {
            for c in 0..rhs.cols {
                out[r * rhs.cols + c] =
                    (0..lhs.cols).map(|i| at(&lhs, r, i) * at(&rhs, i, c)).sum();
            }
        }
        out
    }

    #[test]
    fn products_of_row_major_and_transposed_views_match_the_definition() {
        let data: Vec<f32> = (0..7 * 13).map(|i| ((i * 37 % 17) as f32) - 8.0).collect();
        for (m, k, n) in [(1, 1, 1), (3, 5, 7), (7, 13, 2), (5, 1, 9)] {
            let a = Matrix::row_major(&data[..m * k], m, k);
            let b = Matrix::row_major(&data[..k * n], k, n);
            let bt = Matrix::row_major(&data[..n * k], n, k).t();
            for rhs in [b, bt] {
                let want = naive(a, rhs);
                let mut got = vec![f32::NAN; m * n];
                gemm(&mut got, a, rhs, false, false);
                assert_eq!(got, want, "{m}x{k}x{n}");
                gemm(&mut got, a, rhs, true, true);
                let twice: Vec<f32> = want.iter().map(|v| 2.0 * v).collect();
                assert_eq!(got, twice, "{m}x{k}x{n} accumulated");
            }
        }
    }

    #[test]
    #[should_panic(expected = "view outside its data")]
    fn a_view_larger_than_its_slice_is_refused() {
        let data = [1.0f32; 6];
        let mut dst = [0.0f32; 9];
        gemm(
            &mut dst,
            Matrix::row_major(&data, 3, 3),
            Matrix::row_major(&data, 3, 3),
            false,
            false,
        );
    }
}
