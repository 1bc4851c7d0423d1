//! Matrix multiplication on slices, through the `gemm` crate that flex's own matmul uses: the one
//! module of this crate with unsafe code. Every index the kernel can touch is checked against the
//! slices' lengths, with arithmetic that cannot wrap: a view's elements when it is built
//! ([`Matrix::new`]), the destination's size in [`gemm`].
#![allow(unsafe_code)]

/// A read-only matrix view: element `(r, c)` is `data[r * row_stride + c * col_stride]`. The
/// fields are private: [`Matrix::new`] is the one way to build a view, and it refuses any view with
/// an element outside `data`, so [`gemm`] can hand the `gemm` crate the view's pointer and strides.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Matrix<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> Matrix<'a> {
    /// A `rows x cols` view of `data` with the given strides; `None` when an element would lie
    /// outside `data` (the index of the last element computed without overflow) or a stride does
    /// not fit an `isize`.
    pub fn new(
        data: &'a [f32],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Option<Self> {
        let view = Self {
            data,
            rows,
            cols,
            row_stride,
            col_stride,
        };
        view.in_bounds().then_some(view)
    }

    /// A row-major `rows x cols` matrix.
    ///
    /// # Panics
    /// If `data` holds fewer than `rows * cols` elements.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self::new(data, rows, cols, cols, 1).expect("gemm: view outside its data")
    }

    /// The transpose, as a view of the same data (the same elements, so as valid as `self`).
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Columns of the view.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Whether every element lies inside `data` and both strides fit an `isize`, with checked
    /// arithmetic (a wrapped index would pass a plain `<` test).
    fn in_bounds(&self) -> bool {
        let strides_fit =
            isize::try_from(self.row_stride).is_ok() && isize::try_from(self.col_stride).is_ok();
        if !strides_fit {
            return false;
        }
        if self.rows == 0 || self.cols == 0 {
            return true;
        }
        let last = (self.rows - 1)
            .checked_mul(self.row_stride)
            .zip((self.cols - 1).checked_mul(self.col_stride))
            .and_then(|(r, c)| r.checked_add(c));
        last.is_some_and(|last| last < self.data.len())
    }
}

/// A stride as the `gemm` crate takes it.
///
/// # Panics
/// If it does not fit an `isize` ([`Matrix::new`] refuses such views; `dst`'s stride is at most
/// its length).
fn isize_of(stride: usize) -> isize {
    isize::try_from(stride).expect("gemm: stride larger than isize::MAX")
}

/// `dst` (row-major `lhs.rows x rhs.cols`) `= lhs * rhs`, or `+= lhs * rhs` when `accumulate`;
/// on the calling thread, or on the whole rayon pool when `parallel`.
///
/// # Panics
/// If the shapes do not chain, or `dst` holds fewer than `lhs.rows * rhs.cols` elements.
pub(crate) fn gemm(
    dst: &mut [f32],
    lhs: Matrix<'_>,
    rhs: Matrix<'_>,
    accumulate: bool,
    parallel: bool,
) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert_eq!(rhs.rows, k, "gemm: inner dimensions differ");
    let len = m.checked_mul(n).filter(|&len| len <= dst.len());
    let Some(len) = len else {
        panic!("gemm: destination too small");
    };
    if len == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst[..len].fill(0.0);
        }
        return;
    }
    // SAFETY: the destination holds `m * n` elements (checked above without overflow) at row
    // stride `n` and column stride 1; `Matrix::new`, the only constructor, put every element
    // `(r, c)` of `lhs` (`m x k`) and `rhs` (`k x n`) inside its slice and its strides in
    // `isize`. The three slices do not overlap (`dst` is borrowed mutably while they are
    // borrowed), and `read_dst` is false unless the caller asked to accumulate into `dst`'s
    // initialised values.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            isize_of(n),
            accumulate,
            lhs.data.as_ptr(),
            isize_of(lhs.col_stride),
            isize_of(lhs.row_stride),
            rhs.data.as_ptr(),
            isize_of(rhs.col_stride),
            isize_of(rhs.row_stride),
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
    fn empty_products_leave_or_zero_the_destination() {
        let data: Vec<f32> = (0..12).map(|i| i as f32).collect();
        // m == 0: nothing to write.
        let mut dst = [7.0f32; 4];
        let a = Matrix::row_major(&[], 0, 3);
        gemm(&mut dst, a, Matrix::row_major(&data, 3, 4), false, true);
        assert_eq!(dst, [7.0; 4]);
        // k == 0: a sum of no terms, zero unless accumulating.
        let (a, b) = (Matrix::row_major(&[], 2, 0), Matrix::row_major(&[], 0, 2));
        gemm(&mut dst, a, b, true, false);
        assert_eq!(dst, [7.0; 4]);
        gemm(&mut dst, a, b, false, false);
        assert_eq!(dst, [0.0; 4]);
        // n == 0 with a destination of no elements.
        gemm(
            &mut [],
            Matrix::row_major(&data, 3, 4),
            Matrix::row_major(&[], 4, 0),
            false,
            true,
        );
    }

    #[test]
    fn a_view_whose_extent_overflows_is_refused() {
        let data = [0.0f32; 4];
        // (2 - 1) * usize::MAX + (2 - 1) * 2 wraps to 1 without overflow checks.
        let view = Matrix {
            data: &data,
            rows: 2,
            cols: 2,
            row_stride: usize::MAX,
            col_stride: 2,
        };
        assert!(!view.in_bounds());
        assert!(Matrix::new(&data, 2, 2, usize::MAX, 2).is_none());
        // A stride that does not fit an `isize`, even where only one row is read.
        assert!(Matrix::new(&data, 1, 2, usize::MAX, 1).is_none());
        // Broadcast views (stride 0) and views that fit exactly are accepted.
        assert!(Matrix::new(&data, 1000, 4, 0, 1).is_some());
        assert!(Matrix::new(&data, 2, 2, 2, 1).is_some());
        assert!(Matrix::new(&data, 2, 3, 2, 1).is_none());
    }

    #[test]
    #[should_panic(expected = "destination too small")]
    fn a_destination_whose_size_overflows_is_refused() {
        let mut dst = [0.0f32; 4];
        // 2^63 rows of a broadcast row times 2 columns: `m * n` wraps to 0.
        let lhs = Matrix::new(&[1.0], usize::MAX / 2 + 1, 1, 0, 0).expect("a broadcast view");
        gemm(
            &mut dst,
            lhs,
            Matrix::row_major(&[1.0, 1.0], 1, 2),
            false,
            false,
        );
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
