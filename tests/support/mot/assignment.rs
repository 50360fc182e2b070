//! Exact linear assignment (Hungarian algorithm with potentials, O(n²m)) on `f64` costs, and the per-frame
//! "as many pairs as possible, then the least distance" matching motmetrics builds on top of its LAP solver.

/// Pairs every row with a distinct column (or every column with a distinct row, whichever side is smaller) at the
/// least total cost. `cost` is row-major `rows × cols` and finite. Returns (row, column) pairs sorted by row.
pub(super) fn min_cost_assignment(cost: &[f64], rows: usize, cols: usize) -> Vec<(usize, usize)> {
    if rows == 0 || cols == 0 {
        return Vec::new();
    }
    if rows <= cols {
        hungarian(|r, c| cost[r * cols + c], rows, cols)
            .into_iter()
            .enumerate()
            .collect()
    } else {
        let mut pairs: Vec<(usize, usize)> = hungarian(|c, r| cost[r * cols + c], cols, rows)
            .into_iter()
            .enumerate()
            .map(|(c, r)| (r, c))
            .collect();
        pairs.sort_unstable();
        pairs
    }
}

/// Matches rows to columns over the edges that exist (`Some(cost)`): the most pairs possible, then the least total
/// cost among those. motmetrics gets this objective by giving missing edges the cost
/// `2·min(rows, cols)·(max|cost| + 1) + 1` before solving and dropping them afterwards; we do the same, so only
/// exactly equal totals could resolve differently from its solver (scipy).
pub(super) fn max_matching_min_cost(
    costs: &[Option<f64>],
    rows: usize,
    cols: usize,
) -> Vec<(usize, usize)> {
    let Some(max_abs) = costs.iter().flatten().map(|c| c.abs()).reduce(f64::max) else {
        return Vec::new();
    };
    let prohibitive = 2.0 * rows.min(cols) as f64 * (max_abs + 1.0) + 1.0;
    let dense: Vec<f64> = costs.iter().map(|c| c.unwrap_or(prohibitive)).collect();
    min_cost_assignment(&dense, rows, cols)
        .into_iter()
        .filter(|&(r, c)| costs[r * cols + c].is_some())
        .collect()
}

/// Shortest-augmenting-path Hungarian algorithm (rows ≤ cols); returns the column of each row. Index 0 of the
/// potential and path arrays is the virtual start column, hence the 1-based indices.
fn hungarian(cost: impl Fn(usize, usize) -> f64, rows: usize, cols: usize) -> Vec<usize> {
    let mut u = vec![0.0f64; rows + 1];
    let mut v = vec![0.0f64; cols + 1];
    let mut row_of = vec![0usize; cols + 1];
    let mut way = vec![0usize; cols + 1];
    for row in 1..=rows {
        row_of[0] = row;
        let mut col0 = 0;
        let mut min_slack = vec![f64::INFINITY; cols + 1];
        let mut used = vec![false; cols + 1];
        loop {
            used[col0] = true;
            let r0 = row_of[col0];
            let (mut delta, mut col1) = (f64::INFINITY, 0);
            for col in 1..=cols {
                if used[col] {
                    continue;
                }
                let slack = cost(r0 - 1, col - 1) - u[r0] - v[col];
                if slack < min_slack[col] {
                    min_slack[col] = slack;
                    way[col] = col0;
                }
                if min_slack[col] < delta {
                    delta = min_slack[col];
                    col1 = col;
                }
            }
            for col in 0..=cols {
                if used[col] {
                    u[row_of[col]] += delta;
                    v[col] -= delta;
                } else {
                    min_slack[col] -= delta;
                }
            }
            col0 = col1;
            if row_of[col0] == 0 {
                break;
            }
        }
        while col0 != 0 {
            let prev = way[col0];
            row_of[col0] = row_of[prev];
            col0 = prev;
        }
    }
    let mut col_of = vec![0usize; rows];
    for col in 1..=cols {
        if row_of[col] != 0 {
            col_of[row_of[col] - 1] = col - 1;
        }
    }
    col_of
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every assignment of rows to distinct columns, for checking the solver on small matrices.
    fn brute_force(cost: &[f64], rows: usize, cols: usize) -> f64 {
        fn go(cost: &[f64], rows: usize, cols: usize, row: usize, used: &mut Vec<bool>) -> f64 {
            if row == rows {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            for col in 0..cols {
                if !used[col] {
                    used[col] = true;
                    best = best.min(cost[row * cols + col] + go(cost, rows, cols, row + 1, used));
                    used[col] = false;
                }
            }
            best
        }
        go(cost, rows, cols, 0, &mut vec![false; cols])
    }

    #[test]
    fn hungarian_matches_brute_force_on_pseudo_random_matrices() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for (rows, cols) in [(1, 1), (2, 3), (3, 3), (4, 6), (5, 5), (3, 5)] {
            for _ in 0..20 {
                let cost: Vec<f64> = (0..rows * cols)
                    .map(|_| (next() * 10.0).round() - 3.0)
                    .collect();
                let pairs = min_cost_assignment(&cost, rows, cols);
                assert_eq!(pairs.len(), rows);
                let total: f64 = pairs.iter().map(|&(r, c)| cost[r * cols + c]).sum();
                assert_eq!(
                    total,
                    brute_force(&cost, rows, cols),
                    "{rows}x{cols} {cost:?}"
                );
                let transposed: Vec<f64> = (0..cols * rows)
                    .map(|i| cost[(i % rows) * cols + i / rows])
                    .collect();
                let pairs_t = min_cost_assignment(&transposed, cols, rows);
                let total_t: f64 = pairs_t.iter().map(|&(r, c)| transposed[r * rows + c]).sum();
                assert_eq!(total_t, total);
            }
        }
    }

    #[test]
    fn more_pairs_beat_a_cheaper_single_pair() {
        // Row 0 could take column 0 alone at cost 0.1, but then row 1 has nothing: two pairs win.
        let costs = [Some(0.1), Some(0.4), Some(0.45), None];
        assert_eq!(max_matching_min_cost(&costs, 2, 2), vec![(0, 1), (1, 0)]);
        assert!(max_matching_min_cost(&[None, None], 1, 2).is_empty());
    }
}
