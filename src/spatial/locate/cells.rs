//! A uniform grid of cells in front of the packed R-tree: each cell lists the leaf slots whose
//! boxes meet it, so a point query reads one short list instead of walking the tree's levels.

use super::*;

/// Cells per indexed grid, before any coarsening (measured: 2 beats 1 and 4 on jittered lattices
/// of 10⁴–10⁶ grids).
const CELLS_PER_GRID: usize = 2;
/// Cap on cell entries per grid (on average). Where grids differ much in size, a large grid
/// spans many cells; the grid of cells is coarsened (halved each way) until the entries fit.
const MAX_ENTRIES_PER_GRID: usize = 8;
/// A cell listing more slots than this is answered by the tree, which prunes them level by level.
pub(super) const MAX_CELL_SLOTS: usize = 48;

/// Cells over the extent `[x0, x1] × [y0, y1]` of all leaf boxes, row-major.
///
/// Exactness rests on one property: [`col`](Self::col) and [`row`](Self::row) are monotone
/// non-decreasing (IEEE subtraction, multiplication by a positive constant, truncation and
/// clamping all are). A box spanning `[bx0, bx1]` is registered in every column from `col(bx0)`
/// to `col(bx1)`, so for any `x` in that span `col(x)` is one of them; likewise rows. Hence a
/// point's cell lists every slot whose box contains the point.
pub(super) struct Cells {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
    inv_w: f64,
    inv_h: f64,
    cols: usize,
    rows: usize,
    /// `starts[c]..starts[c + 1]` indexes `slots` for cell `c`.
    starts: Vec<u32>,
    /// Leaf slots, in increasing order within each cell (the order the tree visits them).
    slots: Vec<u32>,
}

impl Cells {
    /// Cells over `leaves` (f64 boxes `[x0, y0, x1, y1]`, indexed by leaf slot), or `None` when
    /// there are too few leaves for cells to pay, or too many slots for `u32`.
    pub(super) fn build(leaves: &[[f64; 4]]) -> Option<Cells> {
        let n = leaves.len();
        if n < NODE_SIZE || u32::try_from(n).is_err() {
            return None;
        }
        let (x0, y0, x1, y1) = leaves.iter().fold(
            (
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ),
            |(a, b, c, d), l| (a.min(l[0]), b.min(l[1]), c.max(l[2]), d.max(l[3])),
        );
        let (w, h) = (x1 - x0, y1 - y0);
        if !(w > 0.0 && h > 0.0 && w.is_finite() && h.is_finite()) {
            return None;
        }
        let target = (n * CELLS_PER_GRID) as f64;
        let mut cols = ((target * w / h).sqrt().ceil() as usize).clamp(1, 1 << 15);
        let mut rows = ((target * h / w).sqrt().ceil() as usize).clamp(1, 1 << 15);
        loop {
            let mut cells = Cells {
                x0,
                y0,
                x1,
                y1,
                inv_w: cols as f64 / w,
                inv_h: rows as f64 / h,
                cols,
                rows,
                starts: Vec::new(),
                slots: Vec::new(),
            };
            let spans = |b: &[f64; 4]| {
                (
                    cells.col(b[0])..=cells.col(b[2]),
                    cells.row(b[1])..=cells.row(b[3]),
                )
            };
            let entries: usize = leaves
                .iter()
                .map(|b| {
                    let (c, r) = spans(b);
                    c.count() * r.count()
                })
                .sum();
            if entries > MAX_ENTRIES_PER_GRID * n && (cols > 1 || rows > 1) {
                cols = cols.div_ceil(2);
                rows = rows.div_ceil(2);
                continue;
            }
            // Counting sort of (cell, slot) pairs; slots are visited in increasing order.
            let mut starts = vec![0_u32; cols * rows + 1];
            for b in leaves {
                let (cs, rs) = spans(b);
                for r in rs {
                    for c in cs.clone() {
                        starts[r * cols + c + 1] += 1;
                    }
                }
            }
            for k in 0..cols * rows {
                starts[k + 1] += starts[k];
            }
            let mut fill = starts.clone();
            let mut slots = vec![0_u32; entries];
            for (slot, b) in leaves.iter().enumerate() {
                let (cs, rs) = spans(b);
                for r in rs {
                    for c in cs.clone() {
                        let at = &mut fill[r * cols + c];
                        slots[*at as usize] = slot as u32;
                        *at += 1;
                    }
                }
            }
            cells.starts = starts;
            cells.slots = slots;
            return Some(cells);
        }
    }

    fn col(&self, x: f64) -> usize {
        // `as usize` saturates: below `x0` gives 0.
        (((x - self.x0) * self.inv_w) as usize).min(self.cols - 1)
    }

    fn row(&self, y: f64) -> usize {
        (((y - self.y0) * self.inv_h) as usize).min(self.rows - 1)
    }

    /// The leaf slots whose boxes may contain `p`: a superset, in increasing order. Empty for a
    /// point outside every box's extent (or not finite).
    #[inline]
    pub(super) fn candidates(&self, p: Coord<f64>) -> &[u32] {
        if !(p.x >= self.x0 && p.x <= self.x1 && p.y >= self.y0 && p.y <= self.y1) {
            return &[];
        }
        let cell = self.row(p.y) * self.cols + self.col(p.x);
        let (Some(&lo), Some(&hi)) = (self.starts.get(cell), self.starts.get(cell + 1)) else {
            return &[];
        };
        self.slots.get(lo as usize..hi as usize).unwrap_or_default()
    }

    /// Bytes held on the heap.
    pub(super) fn heap_bytes(&self) -> usize {
        (self.starts.capacity() + self.slots.capacity()) * std::mem::size_of::<u32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{LineString, Polygon};

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![Polygon::new(
            LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]),
            vec![],
        )])
    }

    /// SplitMix64 in [0, 1).
    fn unit(state: &mut u64) -> f64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1_u64 << 53) as f64
    }

    fn tree_slots(l: &Locator, p: Coord<f64>) -> Vec<usize> {
        let mut out = Vec::new();
        l.tree.search(p, |s| {
            out.push(s);
            ControlFlow::Continue(())
        });
        out
    }

    fn cell_slots(l: &Locator, p: Coord<f64>) -> Vec<usize> {
        let mut out = Vec::new();
        l.search(p, |s| {
            out.push(s);
            ControlFlow::Continue(())
        });
        out
    }

    /// Boxes of very different sizes (a few spanning most of the extent, a dense cluster of tiny
    /// ones in a corner), overlapping: the cells must give exactly the tree's candidates, in the
    /// tree's order, for points anywhere, on box edges and corners included.
    #[test]
    fn cells_give_the_trees_candidates_in_its_order() {
        let mut s = 7_u64;
        let mut polys = Vec::new();
        let mut edges = Vec::new();
        for k in 0..3_000 {
            let (w, x, y) = match k % 10 {
                0 => (0.3 + unit(&mut s), unit(&mut s), unit(&mut s)),
                1..=5 => (
                    1e-4 * unit(&mut s),
                    0.01 * unit(&mut s),
                    0.01 * unit(&mut s),
                ),
                _ => (0.02 * unit(&mut s), unit(&mut s), unit(&mut s)),
            };
            let h = w * (0.5 + unit(&mut s));
            polys.push(rect(x, y, x + w, y + h));
            edges.extend([
                Coord { x, y },
                Coord { x: x + w, y: y + h },
                Coord { x, y: y + h / 2.0 },
            ]);
        }
        let l = Locator::new(&polys);
        let cells = l.cells.as_ref().expect("cells are built for 3,000 grids");
        assert!(cells.slots.len() <= MAX_ENTRIES_PER_GRID * polys.len());
        let mut points: Vec<Coord<f64>> = Vec::new();
        for k in 0..25_000 {
            let scale = if k < 20_000 { 2.4 } else { 0.011 };
            let shift = if k < 20_000 { 0.2 } else { 0.0 };
            points.push(Coord {
                x: scale * unit(&mut s) - shift,
                y: scale * unit(&mut s) - shift,
            });
        }
        let points: Vec<Coord<f64>> = points
            .into_iter()
            .chain(edges)
            .chain([
                Coord {
                    x: f64::NAN,
                    y: 0.5,
                },
                Coord {
                    x: f64::INFINITY,
                    y: 0.5,
                },
            ])
            .collect();
        let (mut from_cells, mut from_tree) = (0, 0);
        for p in points {
            assert_eq!(cell_slots(&l, p), tree_slots(&l, p), "{p:?}");
            if cells.candidates(p).len() <= MAX_CELL_SLOTS {
                from_cells += 1;
            } else {
                from_tree += 1;
            }
        }
        // Both paths were taken: the dense corner is answered by the tree.
        assert!(
            from_cells > 1_000 && from_tree > 1_000,
            "{from_cells} / {from_tree}"
        );
    }

    #[test]
    fn no_cells_for_few_or_degenerate_boxes() {
        assert!(Cells::build(&[[0.0, 0.0, 1.0, 1.0]; 3]).is_none());
        assert!(Cells::build(&[[0.0, 0.0, 0.0, 1.0]; 40]).is_none());
        let c = Cells::build(&[[0.0, 0.0, 1.0, 1.0]; 40]).expect("cells");
        assert!(c.candidates(Coord { x: 1.5, y: 0.5 }).is_empty());
        assert_eq!(c.candidates(Coord { x: 1.0, y: 1.0 }).len(), 40);
    }
}
