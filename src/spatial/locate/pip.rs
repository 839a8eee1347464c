//! Exact point-in-polygon for the locator: the half-open crossing test with a filtered
//! orientation predicate, and y-bands of edges for grids with many vertices.

use super::*;
use crate::spatial::predicates::orient;

/// Horizontal bands over a grid's y-range, each listing the edges whose y-range meets it.
pub(super) struct Bands {
    pub(super) y0: f64,
    pub(super) inv_height: f64,
    /// `starts[k]..starts[k + 1]` indexes `edges` for band `k`.
    pub(super) starts: Vec<usize>,
    /// The edges' end points, copied so that a query reads one contiguous run.
    pub(super) edges: Vec<[Coord<f64>; 2]>,
}

impl Bands {
    /// Band of a y coordinate. Monotone non-decreasing in `y` (IEEE subtraction, multiplication by
    /// a positive constant and truncation are all monotone), which is what makes the index exact:
    /// an edge spanning `[y_lo, y_hi]` is registered in every band from `band(y_lo)` to
    /// `band(y_hi)`, so it is found for any `y` in that span.
    pub(super) fn band(&self, y: f64, count: usize) -> usize {
        // `as usize` saturates: negative and NaN give 0.
        (((y - self.y0) * self.inv_height) as usize).min(count.saturating_sub(1))
    }

    /// Builds bands for a vertex chain, or `None` for a short chain.
    pub(super) fn build(chain: &[Coord<f64>]) -> Option<Bands> {
        let edge_count = chain.len().saturating_sub(1);
        if edge_count <= BANDED_MIN_EDGES {
            return None;
        }
        let (y0, y1) = chain
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), c| {
                (lo.min(c.y), hi.max(c.y))
            });
        if y1.partial_cmp(&y0) != Some(std::cmp::Ordering::Greater) {
            return None;
        }
        let mut count = (edge_count / EDGES_PER_BAND).max(1);
        loop {
            let bands = Bands {
                y0,
                inv_height: count as f64 / (y1 - y0),
                starts: Vec::new(),
                edges: Vec::new(),
            };
            let spans: Vec<Range<usize>> = chain
                .windows(2)
                .map(|w| {
                    // Horizontal edges never cross the ray; leave them out.
                    if w[0].y == w[1].y {
                        0..0
                    } else {
                        bands.band(w[0].y.min(w[1].y), count)
                            ..bands.band(w[0].y.max(w[1].y), count) + 1
                    }
                })
                .collect();
            let entries: usize = spans.iter().map(ExactSizeIterator::len).sum();
            if entries > MAX_BAND_ENTRIES_PER_EDGE * edge_count && count > 1 {
                count /= 2;
                continue;
            }
            // Counting sort of (band, edge) pairs.
            let mut starts = vec![0_usize; count + 1];
            for span in &spans {
                for k in span.clone() {
                    starts[k + 1] += 1;
                }
            }
            for k in 0..count {
                starts[k + 1] += starts[k];
            }
            let mut fill = starts.clone();
            let mut edges = vec![[Coord { x: 0.0, y: 0.0 }; 2]; entries];
            for (w, span) in chain.windows(2).zip(&spans) {
                for k in span.clone() {
                    edges[fill[k]] = [w[0], w[1]];
                    fill[k] += 1;
                }
            }
            return Some(Bands {
                starts,
                edges,
                ..bands
            });
        }
    }

    /// Crossing parity of `p` over the edges in its band.
    pub(super) fn contains(&self, p: Coord<f64>) -> bool {
        let k = self.band(p.y, self.starts.len().saturating_sub(1));
        let (Some(&lo), Some(&hi)) = (self.starts.get(k), self.starts.get(k + 1)) else {
            return false;
        };
        let mut inside = false;
        for &[a, b] in self.edges.get(lo..hi).unwrap_or_default() {
            inside ^= crosses(a, b, p);
        }
        inside
    }
}

/// Relative error bound of the floating-point orientation determinant, as in `robust::orient2d`
/// (Shewchuk's bound as refined by Ozaki et al.): when `|det|` exceeds it, `det`'s sign is exact.
pub(super) const ORIENT_ERR_BOUND: f64 = 3.330_669_062_177_372_2e-16;

/// Whether edge `(a, b)` crosses the ray from `p` towards +x, under the half-open rule.
///
/// Branch-free on the common path: the determinant is computed for every edge (cheaper than
/// mispredicted branches), and `robust::orient2d` is called only for a straddling edge whose
/// determinant is too close to zero for its sign to be trusted. The result is exactly that of
/// `robust::orient2d`, whose fast path is this same computation.
#[inline(always)]
pub(super) fn crosses(a: Coord<f64>, b: Coord<f64>, p: Coord<f64>) -> bool {
    let b_above = b.y > p.y;
    if (a.y > p.y) == b_above {
        return false;
    }
    let left = (a.x - p.x) * (b.y - p.y);
    let right = (a.y - p.y) * (b.x - p.x);
    let mut det = left - right;
    if det.abs() <= ORIENT_ERR_BOUND * (left + right).abs() {
        det = orient(a, b, p);
    }
    // Upward edge: p must be strictly left of it (det > 0); downward: strictly right (det < 0).
    (det != 0.0) & ((det > 0.0) == b_above)
}

/// Crossing parity of a vertex chain (consecutive vertices form the edges).
#[inline]
pub(super) fn chain_contains(chain: &[Coord<f64>], p: Coord<f64>) -> bool {
    let mut inside = false;
    for (a, b) in chain.iter().zip(chain.iter().skip(1)) {
        inside ^= crosses(*a, *b, p);
    }
    inside
}
