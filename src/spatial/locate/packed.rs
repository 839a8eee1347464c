//! The static packed R-tree behind point location: sort-tile-recursive leaf order, 16 children
//! per node, `f32` boxes rounded outwards, whole nodes tested with SIMD comparisons.

use super::*;

/// Orders boxes for packing: vertical slices by centre x, each sorted by centre y, so that runs of
/// [`NODE_SIZE`] boxes form compact tiles (Leutenegger et al., "STR", 1997). Ties are broken by
/// polygon index, so the order depends only on the input.
pub(super) fn sort_tile_recursive(boxes: &mut [([f64; 4], usize)]) {
    let leaves = boxes.len().div_ceil(NODE_SIZE);
    let slices = (leaves as f64).sqrt().ceil().max(1.0) as usize;
    boxes.sort_unstable_by(|a, b| {
        (a.0[0] + a.0[2])
            .total_cmp(&(b.0[0] + b.0[2]))
            .then(a.1.cmp(&b.1))
    });
    for slice in boxes.chunks_mut(slices * NODE_SIZE) {
        slice.sort_unstable_by(|a, b| {
            (a.0[1] + a.0[3])
                .total_cmp(&(b.0[1] + b.0[3]))
                .then(a.1.cmp(&b.1))
        });
    }
}

/// A static R-tree packed bottom-up from boxes in a given order: leaf slot `i` is box `i`, and
/// each run of [`NODE_SIZE`] boxes gets a parent. Every level is padded to a multiple of
/// [`NODE_SIZE`] with empty boxes, so the children of slot `s` of one level are exactly node `s`
/// of the level below, and a query tests a whole node with straight-line SIMD code.
///
/// Boxes are stored as `f32` offsets from `origin`, the lower bounds rounded down and the upper
/// bounds up. Because rounding is monotone, a point inside an `f64` box is inside its `f32` box,
/// so the tree can report extra candidates (by under a metre) but never misses one.
pub(super) struct PackedRTree {
    pub(super) origin: [f64; 2],
    /// All levels' nodes, root first.
    pub(super) nodes: Vec<Node>,
    /// Index in `nodes` of each level's first node, root level first; the last level holds the
    /// leaf boxes.
    pub(super) level_starts: Vec<usize>,
}

/// [`NODE_SIZE`] boxes, coordinates grouped so that a node fills whole cache lines and SIMD
/// registers.
#[derive(Clone)]
#[repr(C, align(64))]
pub(super) struct Node {
    pub(super) min_x: [f32; NODE_SIZE],
    pub(super) min_y: [f32; NODE_SIZE],
    pub(super) max_x: [f32; NODE_SIZE],
    pub(super) max_y: [f32; NODE_SIZE],
}

impl Node {
    /// Bit `k` set iff box `k` contains `q`: four SSE comparisons per four boxes, no branches.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    #[inline]
    pub(super) fn hits(&self, q: [f32; 2]) -> u32 {
        use std::arch::x86_64::{
            _mm_and_ps, _mm_cmpge_ps, _mm_cmple_ps, _mm_movemask_ps, _mm_set1_ps, _mm_setr_ps,
        };
        let mut mask = 0_u32;
        // SAFETY: these intrinsics only read their by-value arguments; their one requirement is
        // SSE2, which the `cfg` above guarantees is enabled for the whole build.
        unsafe {
            let (qx, qy) = (_mm_set1_ps(q[0]), _mm_set1_ps(q[1]));
            for g in 0..NODE_SIZE / 4 {
                let lanes = |a: &[f32; NODE_SIZE]| {
                    _mm_setr_ps(a[4 * g], a[4 * g + 1], a[4 * g + 2], a[4 * g + 3])
                };
                let inside = _mm_and_ps(
                    _mm_and_ps(
                        _mm_cmpge_ps(qx, lanes(&self.min_x)),
                        _mm_cmple_ps(qx, lanes(&self.max_x)),
                    ),
                    _mm_and_ps(
                        _mm_cmpge_ps(qy, lanes(&self.min_y)),
                        _mm_cmple_ps(qy, lanes(&self.max_y)),
                    ),
                );
                mask |= (_mm_movemask_ps(inside) as u32) << (4 * g);
            }
        }
        mask
    }

    /// Bit `k` set iff box `k` contains `q`.
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    #[inline]
    pub(super) fn hits(&self, q: [f32; 2]) -> u32 {
        self.hits_portable(q)
    }

    /// Portable [`hits`](Self::hits); on x86-64 about 15 % slower per query, as LLVM
    /// vectorizes it only partially.
    #[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
    #[inline]
    pub(super) fn hits_portable(&self, q: [f32; 2]) -> u32 {
        let mut mask = 0_u32;
        for k in 0..NODE_SIZE {
            let inside = (q[0] >= self.min_x[k])
                & (q[0] <= self.max_x[k])
                & (q[1] >= self.min_y[k])
                & (q[1] <= self.max_y[k]);
            mask |= u32::from(inside) << k;
        }
        mask
    }
}

impl PackedRTree {
    pub(super) fn new(leaves: &[[f64; 4]]) -> PackedRTree {
        const EMPTY: [f64; 4] = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        let union = |boxes: &[[f64; 4]]| {
            boxes.iter().fold(EMPTY, |a, b| {
                [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ]
            })
        };
        let mut levels: Vec<Vec<[f64; 4]>> = Vec::new();
        let mut level = leaves.to_vec();
        while !level.is_empty() {
            level.resize(level.len().next_multiple_of(NODE_SIZE), EMPTY);
            let parents: Vec<[f64; 4]> = level.chunks(NODE_SIZE).map(union).collect();
            levels.push(level);
            level = if parents.len() > 1 {
                parents
            } else {
                Vec::new()
            };
        }
        levels.reverse();
        let root = levels.first().map_or(EMPTY, |l| union(l));
        let origin = if root[0] <= root[2] {
            [(root[0] + root[2]) / 2.0, (root[1] + root[3]) / 2.0]
        } else {
            [0.0; 2]
        };
        let mut nodes = Vec::new();
        let mut level_starts = Vec::new();
        for level in &levels {
            level_starts.push(nodes.len());
            for boxes in level.chunks(NODE_SIZE) {
                let mut node = Node {
                    min_x: [f32::INFINITY; NODE_SIZE],
                    min_y: [f32::INFINITY; NODE_SIZE],
                    max_x: [f32::NEG_INFINITY; NODE_SIZE],
                    max_y: [f32::NEG_INFINITY; NODE_SIZE],
                };
                for (k, b) in boxes.iter().enumerate() {
                    [node.min_x[k], node.min_y[k], node.max_x[k], node.max_y[k]] =
                        outward(origin, b);
                }
                nodes.push(node);
            }
        }
        PackedRTree {
            origin,
            nodes,
            level_starts,
        }
    }

    /// Calls `visit` with the leaf slot of every box that may contain `p`, until it breaks.
    pub(super) fn search(&self, p: Coord<f64>, mut visit: impl FnMut(usize) -> ControlFlow<()>) {
        // Same monotone rounding as the boxes: p inside an f64 box stays inside its f32 box.
        let q = self.offset(p);
        let _ = self.search_node(0, 0, q, &mut visit);
    }

    /// `p` as the `f32` offset from the origin that [`search`](Self::search) tests against the
    /// boxes.
    #[inline]
    pub(super) fn offset(&self, p: Coord<f64>) -> [f32; 2] {
        [(p.x - self.origin[0]) as f32, (p.y - self.origin[1]) as f32]
    }

    /// An `f64` box `[min_x, min_y, max_x, max_y]` as the tree stores it: `f32` offsets from the
    /// origin, rounded outwards.
    pub(super) fn f32_box(&self, b: &[f64; 4]) -> [f32; 4] {
        outward(self.origin, b)
    }

    pub(super) fn search_node(
        &self,
        depth: usize,
        node: usize,
        q: [f32; 2],
        visit: &mut impl FnMut(usize) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let Some(n) = self
            .level_starts
            .get(depth)
            .and_then(|&start| self.nodes.get(start + node))
        else {
            return ControlFlow::Continue(());
        };
        let is_leaf_level = depth + 1 == self.level_starts.len();
        let mut hits = n.hits(q);
        while hits != 0 {
            let slot = node * NODE_SIZE + hits.trailing_zeros() as usize;
            hits &= hits - 1;
            if is_leaf_level {
                visit(slot)?;
            } else {
                self.search_node(depth + 1, slot, q, visit)?;
            }
        }
        ControlFlow::Continue(())
    }
}

/// Box `b` as `f32` offsets from `origin`, the lower bounds rounded down and the upper up.
fn outward(origin: [f64; 2], b: &[f64; 4]) -> [f32; 4] {
    [
        round_down(b[0] - origin[0]),
        round_down(b[1] - origin[1]),
        round_up(b[2] - origin[0]),
        round_up(b[3] - origin[1]),
    ]
}

/// The largest `f32` not above `v`.
pub(super) fn round_down(v: f64) -> f32 {
    let r = v as f32;
    if f64::from(r) > v { r.next_down() } else { r }
}

/// The smallest `f32` not below `v`.
pub(super) fn round_up(v: f64) -> f32 {
    let r = v as f32;
    if f64::from(r) < v { r.next_up() } else { r }
}
