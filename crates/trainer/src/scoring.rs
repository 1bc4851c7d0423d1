//! The one ranking rule of `eval`, `predict` and the accuracy `train` reports: PyTorch's
//! `argmax` / `topk`. Classes are ordered by decreasing score and, among equal scores, by
//! increasing index (so a row of equal scores predicts class 0); a row holding a NaN or an
//! infinity ranks nothing, and is a miss wherever it is scored.

use std::cmp::Ordering;

/// The `k` best classes of `row` (fewer when the row is shorter), best first; `None` when the
/// row holds a NaN or an infinity.
pub fn top_k(row: &[f32], k: usize) -> Option<Vec<usize>> {
    if !row.iter().all(|v| v.is_finite()) {
        return None;
    }
    // Finite values compare totally; -0.0 equals 0.0, as in PyTorch.
    let order = |&a: &usize, &b: &usize| {
        row[b]
            .partial_cmp(&row[a])
            .unwrap_or(Ordering::Equal)
            .then(a.cmp(&b))
    };
    let mut classes: Vec<usize> = (0..row.len()).collect();
    let k = k.min(row.len());
    if k < classes.len() && k > 0 {
        classes.select_nth_unstable_by(k - 1, order);
    }
    classes.truncate(k);
    classes.sort_by(order);
    Some(classes)
}

/// Rows that every place applying the rule is tested on, with what the rule makes of them.
#[cfg(test)]
pub mod fixture {
    /// Output rows over 4 classes: ties (a dead network's zeros, -0.0 against 0.0), a NaN and
    /// an infinity.
    pub const ROWS: [[f32; 4]; 7] = [
        [0.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0],
        [f32::NAN, 0.0, 0.0, 0.0],
        [1.0, f32::INFINITY, 0.0, 0.0],
        [0.1, 0.7, 0.7, 0.2],
        [-0.0, 0.0, -1.0, -1.0],
    ];
    /// The label of each row.
    pub const LABELS: [usize; 7] = [0, 1, 3, 0, 1, 2, 1];
    /// Each row's top-2 classes (`None`: non-finite).
    pub const TOP2: [Option<[usize; 2]>; 7] = [
        Some([0, 1]),
        Some([0, 1]),
        Some([0, 1]),
        None,
        None,
        Some([1, 2]),
        Some([0, 1]),
    ];
    /// Top-1 hits over the rows (row 0).
    pub const TOP1_HITS: usize = 1;
    /// Top-2 hits over the rows (rows 0, 1, 5, 6).
    pub const TOP2_HITS: usize = 4;
    /// Rows holding a NaN or an infinity.
    pub const NON_FINITE: usize = 2;
}

#[cfg(test)]
mod tests {
    use super::fixture::{ROWS, TOP2};
    use super::top_k;

    #[test]
    fn ties_go_to_the_lowest_index_and_non_finite_rows_rank_nothing() {
        for (row, want) in ROWS.iter().zip(TOP2) {
            assert_eq!(top_k(row, 2), want.map(Vec::from), "{row:?}");
        }
    }

    #[test]
    fn the_whole_order_is_sorted_and_k_is_capped_at_the_row() {
        let row = [0.5, 2.0, 0.5, -1.0, 2.0];
        assert_eq!(top_k(&row, 9), Some(vec![1, 4, 0, 2, 3]));
        assert_eq!(top_k(&row, 3), Some(vec![1, 4, 0]));
        assert_eq!(top_k(&row, 0), Some(vec![]));
    }
}
