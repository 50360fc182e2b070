//! Optimal gated assignment of tracks (rows) to detections (columns), as ByteTrack's
//! `lap.lapjv(cost, extend_cost=True, cost_limit=max_cost)`: minimise the matched costs plus
//! `max_cost / 2` for every row and every column left unmatched, so a pair is matched only when that
//! beats leaving both alone, and never through a forbidden (gated) entry. Solved exactly with
//! `pathfinding`'s Kuhn–Munkres on a zero-padded square matrix, costs scaled to integers.
//!
//! The problem splits over the connected components of the allowed pairs (an unmatched row or
//! column costs the same whatever else happens), so each component is solved on its own: 50 objects
//! spread over a frame are 50 one-by-one problems, not one 100×100 Hungarian run.

use pathfinding::prelude::{kuhn_munkres, Matrix};

/// Costs are scaled to integers with this resolution (1e-6 of a unit cost: IoU-based costs are in 0..1).
const SCALE: f64 = 1e6;

/// Row-major costs of `rows` tracks × `cols` detections; non-finite entries are forbidden.
pub struct CostMatrix {
    pub rows: usize,
    pub cols: usize,
    pub costs: Vec<f32>,
}

impl CostMatrix {
    /// A matrix with every pair forbidden.
    pub fn forbidden(rows: usize, cols: usize) -> CostMatrix {
        CostMatrix {
            rows,
            cols,
            costs: vec![f32::INFINITY; rows * cols],
        }
    }

    pub fn at(&self, r: usize, c: usize) -> f32 {
        self.costs[r * self.cols + c]
    }

    pub fn set(&mut self, r: usize, c: usize, cost: f32) {
        self.costs[r * self.cols + c] = cost;
    }
}

/// The pairs chosen, and the rows and columns left unmatched (each in increasing order).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Assignment {
    pub matches: Vec<(usize, usize)>,
    pub unmatched_rows: Vec<usize>,
    pub unmatched_cols: Vec<usize>,
}

/// The optimal assignment; pairs with a cost above `max_cost` (or not finite) are never matched.
pub fn assign(m: &CostMatrix, max_cost: f32) -> Assignment {
    let allowed = |r: usize, c: usize| {
        let v = m.at(r, c);
        v.is_finite() && v <= max_cost
    };
    let mut sets = DisjointSets::new(m.rows + m.cols);
    for r in 0..m.rows {
        for c in 0..m.cols {
            if allowed(r, c) {
                sets.union(r, m.rows + c);
            }
        }
    }
    let mut components: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
    let mut slot = vec![usize::MAX; m.rows + m.cols];
    for node in 0..m.rows + m.cols {
        let root = sets.find(node);
        if slot[root] == usize::MAX {
            slot[root] = components.len();
            components.push((Vec::new(), Vec::new()));
        }
        let comp = &mut components[slot[root]];
        if node < m.rows {
            comp.0.push(node);
        } else {
            comp.1.push(node - m.rows);
        }
    }
    let mut matches = Vec::new();
    for (rows, cols) in &components {
        match (rows.len(), cols.len()) {
            (0, _) | (_, 0) => {}
            (1, 1) => matches.push((rows[0], cols[0])),
            _ => solve_component(m, rows, cols, max_cost, &mut matches),
        }
    }
    matches.sort_unstable();
    let mut row_used = vec![false; m.rows];
    let mut col_used = vec![false; m.cols];
    for &(r, c) in &matches {
        row_used[r] = true;
        col_used[c] = true;
    }
    Assignment {
        matches,
        unmatched_rows: (0..m.rows).filter(|&r| !row_used[r]).collect(),
        unmatched_cols: (0..m.cols).filter(|&c| !col_used[c]).collect(),
    }
}

/// lap's (r+c)×(r+c) extension costs Σ matched c + (max_cost / 2)·(unmatched rows + columns)
/// = const − Σ matched (max_cost − c). So the same optimum is the maximum-weight matching with weights
/// `max_cost − c` ≥ 0 on allowed pairs and 0 elsewhere, on the max(r, c) square (zero-padded): a
/// zero-weight pair changes nothing and is read back as unmatched. Kuhn–Munkres runs on n = max(r, c)
/// instead of r + c, 8× less work for a square problem.
fn solve_component(
    m: &CostMatrix,
    rows: &[usize],
    cols: &[usize],
    max_cost: f32,
    out: &mut Vec<(usize, usize)>,
) {
    let (nr, nc) = (rows.len(), cols.len());
    let allowed = |i: usize, j: usize| {
        let v = m.at(rows[i], cols[j]);
        (v.is_finite() && v <= max_cost).then_some(v)
    };
    let n = nr.max(nc);
    let mut w = Matrix::new(n, n, 0i64);
    for i in 0..nr {
        for j in 0..nc {
            if let Some(v) = allowed(i, j) {
                w[(i, j)] = ((max_cost as f64 - v as f64) * SCALE).round() as i64;
            }
        }
    }
    let (_, assigned) = kuhn_munkres(&w);
    for (i, &j) in assigned.iter().enumerate().take(nr) {
        if j < nc && allowed(i, j).is_some() {
            out.push((rows[i], cols[j]));
        }
    }
}

/// Union–find with path halving, over rows then columns.
struct DisjointSets(Vec<usize>);

impl DisjointSets {
    fn new(n: usize) -> DisjointSets {
        DisjointSets((0..n).collect())
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.0[ra.max(rb)] = ra.min(rb);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: &[&[f32]]) -> CostMatrix {
        CostMatrix {
            rows: rows.len(),
            cols: rows[0].len(),
            costs: rows.iter().flat_map(|r| r.iter().copied()).collect(),
        }
    }

    /// Exhaustive reference: every partial matching through allowed pairs, lap's objective.
    fn brute_force(m: &CostMatrix, max_cost: f32) -> f64 {
        fn go(m: &CostMatrix, max_cost: f32, r: usize, used: &mut Vec<bool>) -> f64 {
            if r == m.rows {
                return used.iter().filter(|u| !**u).count() as f64 * max_cost as f64 / 2.0;
            }
            let mut best = max_cost as f64 / 2.0 + go(m, max_cost, r + 1, used);
            for c in 0..m.cols {
                let v = m.at(r, c);
                if !used[c] && v.is_finite() && v <= max_cost {
                    used[c] = true;
                    best = best.min(v as f64 + go(m, max_cost, r + 1, used));
                    used[c] = false;
                }
            }
            best
        }
        go(m, max_cost, 0, &mut vec![false; m.cols])
    }

    fn objective(m: &CostMatrix, a: &Assignment, max_cost: f32) -> f64 {
        let matched: f64 = a.matches.iter().map(|&(r, c)| m.at(r, c) as f64).sum();
        matched + (a.unmatched_rows.len() + a.unmatched_cols.len()) as f64 * max_cost as f64 / 2.0
    }

    #[test]
    fn prefers_the_global_optimum_to_greedy() {
        // Greedy takes (0,0) at 0.1 and then must pair 1 with 1 at 0.9; optimal is 0.3 + 0.3.
        let m = matrix(&[&[0.1, 0.3], &[0.3, 0.9]]);
        let a = assign(&m, 1.0);
        assert_eq!(a.matches, vec![(0, 1), (1, 0)]);
    }

    #[test]
    fn gated_pairs_are_never_matched() {
        let inf = f32::INFINITY;
        let m = matrix(&[&[inf, 0.2, inf], &[0.95, inf, inf]]);
        let a = assign(&m, 0.8);
        assert_eq!(a.matches, vec![(0, 1)]);
        assert_eq!(a.unmatched_rows, vec![1]);
        assert_eq!(a.unmatched_cols, vec![0, 2]);
    }

    #[test]
    fn leaves_a_poor_pair_unmatched_when_that_is_cheaper() {
        // (0,0) + nothing for row 1 / col 1 = 0.1 + 0.8 beats (0,1) + (1,0) = 1.5.
        let inf = f32::INFINITY;
        let m = matrix(&[&[0.1, 0.75], &[0.75, inf]]);
        assert_eq!(assign(&m, 0.8).matches, vec![(0, 0)]);
    }

    #[test]
    fn matches_brute_force_on_pseudo_random_matrices() {
        let mut seed = 12345u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as f32 / (1u64 << 31) as f32
        };
        for case in 0..300 {
            let (rows, cols) = (1 + case % 5, 1 + (case / 5) % 6);
            let costs = (0..rows * cols)
                .map(|_| {
                    if next() < 0.3 {
                        f32::INFINITY
                    } else {
                        next() * 1.2
                    }
                })
                .collect();
            let m = CostMatrix { rows, cols, costs };
            let a = assign(&m, 0.8);
            let (got, want) = (objective(&m, &a, 0.8), brute_force(&m, 0.8));
            assert!((got - want).abs() < 1e-4, "case {case}: {got} vs {want}");
        }
    }

    #[test]
    fn empty_sides() {
        let a = assign(&CostMatrix::forbidden(0, 3), 0.8);
        assert_eq!(a.unmatched_cols, vec![0, 1, 2]);
        let a = assign(&CostMatrix::forbidden(2, 0), 0.8);
        assert_eq!(a.unmatched_rows, vec![0, 1]);
    }
}
