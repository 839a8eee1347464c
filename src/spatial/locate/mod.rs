//! Pin-to-grid location: which grid of a coverage owns a WGS84 point.
//!
//! A [`Locator`] is built once from the grid polygons and then answers point queries from any
//! number of threads. Two R-trees index the polygons' envelopes:
//!
//! - a static packed R-tree for point location: sort-tile-recursive leaf order, 16 children per
//!   node, boxes stored as `f32` offsets rounded outwards (so it may report a candidate that is
//!   off by under a metre, but never misses one), a whole node tested with a few SIMD
//!   comparisons. On a jittered lattice its walk costs about 80 ns per point at 1,500 grids and
//!   150 ns at 100,000, against about 180 ns and 400 ns for `rstar`'s tree, whose
//!   pointer-linked nodes dominated the cost of a query;
//! - in front of it, a uniform grid of about two cells per grid, each listing the leaf slots
//!   whose boxes meet it (`cells.rs`): a point reads its cell's short list instead of walking
//!   the tree's levels. Where grids differ much in size the cells are coarsened, and a cell that
//!   still lists more than 48 slots is answered by the tree;
//! - a packed Hilbert R-tree of the `f64` envelopes (`static_aabb2d_index`, a port of flatbush)
//!   for the nearest-neighbour search behind snapping and for envelope queries; it builds in a
//!   quarter of the time of `rstar`'s bulk load.
//!
//! Candidates go through an exact point-in-polygon test: every side-of-edge decision that plain
//! comparisons cannot settle is made with the adaptive-precision predicate `robust::orient2d`,
//! so the answer is exact for the given `f64` coordinates. Grids with more than 64 edges also get
//! a y-band edge index, so a smooth 5,000-vertex outline costs about as much as a small grid.
//! Each grid's rings are stored as one contiguous vertex chain, in tree order.
//!
//! Points on a boundary shared by several grids go to exactly one of them; the rule is documented
//! on [`Locator::locate`].

mod cells;
mod packed;
mod pip;

use crate::spatial::measure::LocalMetric;
use crate::spatial::predicates::orient;
use crate::spatial::predicates::segment_distance_2;
use cells::*;
use packed::*;
use pip::*;
use std::fmt;
use std::ops::{ControlFlow, Range};

use geo_types::{Coord, MultiPolygon};
use static_aabb2d_index::{Control, StaticAABB2DIndex, StaticAABB2DIndexBuilder};

/// Polygons with more edges than this get a y-band edge index, so that a point-in-polygon test
/// looks at a handful of edges instead of all of them.
const BANDED_MIN_EDGES: usize = 64;
/// Target average number of edges registered per band.
const EDGES_PER_BAND: usize = 4;
/// Cap on band entries per edge (on average); polygons with many tall edges get fewer bands.
const MAX_BAND_ENTRIES_PER_EDGE: usize = 16;
/// Children per node of the packed R-tree. 16 measured faster than 8 or 32.
const NODE_SIZE: usize = 16;

/// The grid a point was assigned to by [`Locator::locate_or_snap`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Index of the grid in the slice given to [`Locator::new`].
    pub index: usize,
    /// `None` when the point lies in the grid; `Some(d)` when it lies in no grid and was snapped
    /// to this one, `d` being its distance to the grid's boundary in metres.
    pub snapped_m: Option<f64>,
}

/// An index answering "which grid owns this point" over a fixed set of grid polygons.
///
/// Immutable once built and `Send + Sync`: share it behind an `Arc`.
///
/// ```
/// use geo_types::{Coord, MultiPolygon, polygon};
/// use tessera::spatial::locate::Locator;
///
/// let west = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)];
/// let east = polygon![(x: 1.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0), (x: 1.0, y: 1.0)];
/// let locator = Locator::new(&[MultiPolygon(vec![west]), MultiPolygon(vec![east])]);
/// assert_eq!(locator.locate(Coord { x: 0.5, y: 0.5 }), Some(0));
/// // On the shared edge: the grid to the east owns it.
/// assert_eq!(locator.locate(Coord { x: 1.0, y: 0.5 }), Some(1));
/// assert_eq!(locator.locate(Coord { x: 3.0, y: 0.5 }), None);
/// ```
pub struct Locator {
    /// Envelope index for point location.
    tree: PackedRTree,
    /// Uniform cells in front of `tree`, listing the leaf slots that meet each cell.
    cells: Option<Cells>,
    /// Per leaf slot of `tree`, what a point query reads about that candidate.
    leaves: Vec<Leaf>,
    /// Envelope index for nearest-grid search; item `s` is leaf slot `s`.
    nearest: StaticAABB2DIndex<f64>,
    /// Per input polygon, in input order.
    grids: Vec<Grid>,
    /// Every indexed grid's vertex chain (see [`flatten`]), back to back in leaf order.
    coords: Vec<Coord<f64>>,
    /// Ranges into `coords` of each real ring (closed), for distances.
    rings: Vec<Range<usize>>,
}

/// What a point query reads about one candidate grid, in half a cache line: its box (the same
/// `f32` box, from the same origin, as the tree's leaf level holds), its vertex chain and its
/// index. The tree's nodes hold each coordinate in a separate cache line; a query that comes
/// from a cell reads this instead.
#[derive(Clone, Copy)]
#[repr(C, align(32))]
struct Leaf {
    /// `[min_x, min_y, max_x, max_y]` as `f32` offsets from `PackedRTree::origin`, rounded
    /// outwards.
    bbox: [f32; 4],
    /// The grid's vertex chain is `coords[chain_start..chain_start + chain_len]`.
    chain_start: usize,
    chain_len: u32,
    /// Index of the grid in the input.
    grid: u32,
}

impl Leaf {
    /// A slot that no point is in.
    const EMPTY: Leaf = Leaf {
        bbox: [
            f32::INFINITY,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
        ],
        chain_start: 0,
        chain_len: 0,
        grid: u32::MAX,
    };

    /// Whether the box contains `q` (offsets from the tree's origin, as `f32`).
    #[inline]
    fn contains(&self, q: [f32; 2]) -> bool {
        let b = &self.bbox;
        (q[0] >= b[0]) & (q[0] <= b[2]) & (q[1] >= b[1]) & (q[1] <= b[3])
    }
}

/// What is kept per input polygon.
struct Grid {
    /// Range into `Locator::rings`; empty for a polygon that is not indexed.
    rings: Range<usize>,
    /// Edge index for grids with more than [`BANDED_MIN_EDGES`] edges.
    /// Boxed: most grids have none, and a bare `Option<Bands>` would cost every grid 64 bytes.
    bands: Option<Box<Bands>>,
}

impl Locator {
    /// Bytes the index holds on the heap: the packed tree and its cells, the vertex chains, the
    /// edge bands and the nearest-grid tree. Input polygons are not counted: the index keeps
    /// its own copy of what it needs.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::{size_of, size_of_val};
        fn vec<T>(v: &Vec<T>) -> usize {
            v.capacity() * size_of::<T>()
        }
        let bands: usize = self
            .grids
            .iter()
            .filter_map(|g| g.bands.as_ref())
            .map(|b| size_of::<Bands>() + vec(&b.starts) + vec(&b.edges))
            .sum();
        let nearest = size_of_val(self.nearest.all_boxes())
            + size_of_val(self.nearest.all_box_indices())
            + size_of_val(self.nearest.level_bounds());
        vec(&self.tree.nodes)
            + self.cells.as_ref().map_or(0, Cells::heap_bytes)
            + vec(&self.tree.level_starts)
            + vec(&self.leaves)
            + vec(&self.grids)
            + vec(&self.coords)
            + vec(&self.rings)
            + bands
            + nearest
    }

    /// Bulk-loads an R-tree over the polygons' envelopes and prepares each polygon for fast
    /// point-in-polygon tests. Coordinates are WGS84 lon/lat degrees (any planar coordinates work
    /// for [`locate`](Self::locate); snapping distances assume degrees).
    ///
    /// Index `i` in the results refers to `polygons[i]`. Polygons may have holes and several
    /// parts, and ring orientation does not matter (parity is even-odd over all rings). A polygon
    /// that is empty or has a non-finite coordinate is never returned.
    pub fn new(polygons: &[MultiPolygon<f64>]) -> Locator {
        let mut boxes: Vec<([f64; 4], usize)> = polygons
            .iter()
            .enumerate()
            .filter_map(|(index, polygon)| Some((envelope(polygon)?, index)))
            .collect();
        sort_tile_recursive(&mut boxes);

        let mut grids: Vec<Grid> = polygons
            .iter()
            .map(|_| Grid {
                rings: 0..0,
                bands: None,
            })
            .collect();
        let mut coords = Vec::new();
        let mut rings = Vec::new();
        let leaf_boxes: Vec<[f64; 4]> = boxes.iter().map(|(b, _)| *b).collect();
        let tree = PackedRTree::new(&leaf_boxes);
        let mut leaves = Vec::with_capacity(boxes.len());
        for &(b, index) in &boxes {
            // Slot `s` of `leaves` must be slot `s` of the tree: a grid that cannot be indexed
            // keeps its slot with an empty box.
            let (Some(polygon), Some(grid), Ok(grid_u32)) = (
                polygons.get(index),
                grids.get_mut(index),
                u32::try_from(index),
            ) else {
                leaves.push(Leaf::EMPTY);
                continue;
            };
            let first_ring = rings.len();
            let start = coords.len();
            flatten(polygon, &mut coords, &mut rings);
            grid.rings = first_ring..rings.len();
            grid.bands = Bands::build(&coords[start..]).map(Box::new);
            leaves.push(match u32::try_from(coords.len() - start) {
                Ok(chain_len) => Leaf {
                    bbox: tree.f32_box(&b),
                    chain_start: start,
                    chain_len,
                    grid: grid_u32,
                },
                // Over four billion vertices in one grid.
                Err(_) => Leaf::EMPTY,
            });
        }
        let mut nearest = StaticAABB2DIndexBuilder::new(leaf_boxes.len());
        for &[x0, y0, x1, y1] in &leaf_boxes {
            nearest.add(x0, y0, x1, y1);
        }
        Locator {
            tree,
            cells: Cells::build(&leaf_boxes),
            leaves,
            // Fails only if the count announced differs from the boxes added, or a coordinate
            // does not convert to f64: neither can happen here.
            nearest: nearest.build().expect("one f64 box per leaf"),
            grids,
            coords,
            rings,
        }
    }

    /// Number of polygons given to [`new`](Self::new), including any that can never be returned.
    pub fn len(&self) -> usize {
        self.grids.len()
    }

    /// Whether the locator was built from no polygons.
    pub fn is_empty(&self) -> bool {
        self.grids.is_empty()
    }

    /// Index of the grid owning the point `p` (lon/lat WGS84 degrees), or `None` when no grid
    /// owns it.
    ///
    /// **Boundary rule.** A point on an edge or vertex shared by several grids belongs to exactly
    /// one of them: the grid that contains `p + (δ, ε)` for infinitesimal `0 < ε ≪ δ`, that is
    /// *the grid immediately east of the point, just north of due east*. Each polygon is tested
    /// with the half-open crossing-number rule: edge `(a, b)` counts iff
    /// `(a.y > p.y) != (b.y > p.y)` and `p` lies strictly west of it (exactly: `orient2d(a, b, p)`
    /// is positive for an upward edge, negative for a downward one); a point exactly on an edge's
    /// line never counts that edge. So in a seamless coverage a point on a vertical edge goes to
    /// the grid on its east, a point on a horizontal edge to the grid on its north, a shared vertex
    /// to the grid whose corner there contains the direction just north of east. A point that
    /// rule leaves without an owner but that lies exactly on a grid's boundary (the coverage's
    /// own east or north edge) belongs to the lowest-index grid whose boundary it is on, so every
    /// point of the closed coverage has exactly one grid.
    ///
    /// If polygons overlap (not a valid coverage), a point in the overlap gets one of them,
    /// deterministically for a given input but otherwise unspecified. Non-finite points get `None`.
    pub fn locate(&self, p: Coord<f64>) -> Option<usize> {
        let mut found = None;
        self.search(p, |slot| {
            if self.leaf_contains(slot, p) {
                found = self.leaf_grid(slot);
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        if found.is_none() {
            // Rare: outside every grid, or on the coverage's own east/north edge.
            self.search(p, |slot| {
                if let Some(g) = self.leaf_grid(slot)
                    && found.is_none_or(|f| g < f)
                    && self.on_boundary(g, p)
                {
                    found = Some(g);
                }
                ControlFlow::Continue(())
            });
        }
        found
    }

    /// [`locate`](Self::locate) for many points, answers in input order. Large batches are
    /// visited in Z-order (Morton order of a 65,536 × 65,536 grid over the points' bounding box),
    /// so that consecutive points walk the same tree nodes and polygons while they are in cache;
    /// the answers are exactly those of `locate`.
    pub fn locate_many(&self, points: &[Coord<f64>]) -> Vec<Option<usize>> {
        const ORDERED_FROM: usize = 4_096;
        if points.len() < ORDERED_FROM {
            return points.iter().map(|&p| self.locate(p)).collect();
        }
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for p in points.iter().filter(|p| p.x.is_finite() && p.y.is_finite()) {
            (x0, y0, x1, y1) = (x0.min(p.x), y0.min(p.y), x1.max(p.x), y1.max(p.y));
        }
        let sx = 65_535.0 / (x1 - x0).max(f64::MIN_POSITIVE);
        let sy = 65_535.0 / (y1 - y0).max(f64::MIN_POSITIVE);
        let mut order: Vec<(u32, u32)> = points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                // Non-finite points sort anywhere (saturating casts); `locate` answers None.
                let cx = ((p.x - x0) * sx) as u32;
                let cy = ((p.y - y0) * sy) as u32;
                (
                    crate::spatial::rings::morton_spread(cx)
                        | (crate::spatial::rings::morton_spread(cy) << 1),
                    i as u32,
                )
            })
            .collect();
        crate::spatial::rings::radix_sort(&mut order);
        // In Z-order the points and answers are read and written at scattered places. Gathering
        // a run of points first (independent loads the processor overlaps) and scattering its
        // answers after, instead of one load per locate, keeps those misses off the locate path.
        const RUN: usize = 64;
        let mut out = vec![None; points.len()];
        let mut run_points = [Coord { x: 0.0, y: 0.0 }; RUN];
        let mut run_answers = [None; RUN];
        for run in order.chunks(RUN) {
            for (slot, &(_, i)) in run_points.iter_mut().zip(run) {
                *slot = points.get(i as usize).copied().unwrap_or(*slot);
            }
            for (answer, &p) in run_answers.iter_mut().zip(&run_points[..run.len()]) {
                *answer = self.locate(p);
            }
            for (&(_, i), &answer) in run.iter().zip(&run_answers) {
                if let Some(o) = out.get_mut(i as usize) {
                    *o = answer;
                }
            }
        }
        out
    }

    /// Calls `visit` with the leaf slot of every grid whose box may contain `p`, in slot order,
    /// until it breaks: from `p`'s cell when it lists few slots, else from the tree.
    #[inline]
    fn search(&self, p: Coord<f64>, mut visit: impl FnMut(usize) -> ControlFlow<()>) {
        if let Some(cells) = &self.cells {
            let slots = cells.candidates(p);
            if slots.len() <= MAX_CELL_SLOTS {
                let q = self.tree.offset(p);
                for &slot in slots {
                    let slot = slot as usize;
                    if self.leaves.get(slot).is_some_and(|l| l.contains(q))
                        && visit(slot).is_break()
                    {
                        return;
                    }
                }
                return;
            }
        }
        self.tree.search(p, visit);
    }

    /// Whether `p` lies exactly on a ring of grid `index` (exact orientation test).
    fn on_boundary(&self, index: usize, p: Coord<f64>) -> bool {
        let Some(grid) = self.grids.get(index) else {
            return false;
        };
        self.rings
            .get(grid.rings.clone())
            .unwrap_or_default()
            .iter()
            .flat_map(|ring| self.coords.get(ring.clone()).unwrap_or_default().windows(2))
            .any(|w| {
                let (a, b) = (w[0], w[1]);
                p.x >= a.x.min(b.x)
                    && p.x <= a.x.max(b.x)
                    && p.y >= a.y.min(b.y)
                    && p.y <= a.y.max(b.y)
                    && orient(a, b, p) == 0.0
            })
    }

    /// Like [`locate`](Self::locate), but a point that no grid owns and that lies within `snap_m`
    /// metres of a grid's boundary is assigned to the nearest such grid (ties: lowest index),
    /// with the distance reported in [`Hit::snapped_m`].
    ///
    /// Distances use a local equirectangular projection centred on `p`, scaled by the WGS84
    /// radii of curvature at `p`'s latitude (metres per degree: `N·cos φ·π/180` east,
    /// `M·π/180` north). Within a few kilometres of `p` this is accurate to about 0.1 % or
    /// better; it does not handle the antimeridian. A negative or NaN `snap_m` disables snapping.
    pub fn locate_or_snap(&self, p: Coord<f64>, snap_m: f64) -> Option<Hit> {
        if let Some(index) = self.locate(p) {
            return Some(Hit {
                index,
                snapped_m: None,
            });
        }
        if snap_m.is_nan() || snap_m < 0.0 || !p.x.is_finite() || !p.y.is_finite() {
            return None;
        }
        let scale = LocalMetric::new(p.x, p.y);
        // Envelope distances come in degrees; this turns them into a lower bound in metres.
        let min_metres_per_degree = scale.m_per_deg_lon.min(scale.m_per_deg_lat);
        let mut best: Option<(f64, usize)> = None;
        let mut visit = |slot: usize, d2: f64| {
            let limit = best.map_or(snap_m, |(d, _)| d);
            // Envelopes come in increasing distance: once the next one is farther than the best
            // grid so far (or than snap_m), no later grid can win. The bound is shrunk slightly
            // so that rounding cannot cut off an exact tie.
            if d2.sqrt() * min_metres_per_degree * (1.0 - 1e-9) > limit {
                return Control::Break(());
            }
            let Some(index) = self.leaf_grid(slot) else {
                return Control::Continue;
            };
            let d = self.boundary_distance_m(index, p, scale);
            let better = match best {
                None => d <= snap_m,
                Some((bd, bi)) => d < bd || (d == bd && index < bi),
            };
            if better {
                best = Some((d, index));
            }
            Control::Continue
        };
        self.nearest.visit_neighbors(p.x, p.y, &mut visit);
        best.map(|(d, index)| Hit {
            index,
            snapped_m: Some(d),
        })
    }

    /// Indices (ascending) of the polygons whose envelope intersects `rect` (edges touching
    /// count), from the R-tree: a superset of the polygons intersecting `rect`, for an exact
    /// test after.
    pub fn intersecting_envelope(&self, rect: geo_types::Rect<f64>) -> Vec<usize> {
        let (lo, hi) = (rect.min(), rect.max());
        let mut out: Vec<usize> = self
            .nearest
            .query_iter(lo.x, lo.y, hi.x, hi.y)
            .filter_map(|slot| self.leaf_grid(slot))
            .collect();
        out.sort_unstable();
        out
    }

    /// The grid in leaf slot `slot`, if that slot holds one.
    #[inline]
    fn leaf_grid(&self, slot: usize) -> Option<usize> {
        self.leaves
            .get(slot)
            .filter(|l| l.grid != Leaf::EMPTY.grid)
            .map(|l| l.grid as usize)
    }

    /// Whether the grid in leaf slot `slot` owns `p` under the half-open rule.
    #[inline]
    fn leaf_contains(&self, slot: usize, p: Coord<f64>) -> bool {
        let Some(leaf) = self.leaves.get(slot) else {
            return false;
        };
        let start = leaf.chain_start;
        let Some(chain) = self.coords.get(start..start + leaf.chain_len as usize) else {
            return false;
        };
        if chain.len() <= BANDED_MIN_EDGES + 1 {
            return chain_contains(chain, p);
        }
        let bands = self
            .grids
            .get(leaf.grid as usize)
            .and_then(|g| g.bands.as_ref());
        match bands {
            Some(bands) => bands.contains(p),
            None => chain_contains(chain, p),
        }
    }

    /// Distance in metres from `p` to the boundary of grid `index`.
    fn boundary_distance_m(&self, index: usize, p: Coord<f64>, scale: LocalMetric) -> f64 {
        let Some(grid) = self.grids.get(index) else {
            return f64::INFINITY;
        };
        let project = |c: Coord<f64>| scale.to_xy(c);
        let origin = project(p);
        let mut best2 = f64::INFINITY;
        for ring in self.rings.get(grid.rings.clone()).unwrap_or_default() {
            for w in self.coords.get(ring.clone()).unwrap_or_default().windows(2) {
                best2 = best2.min(segment_distance_2(origin, project(w[0]), project(w[1])));
            }
        }
        best2.sqrt()
    }

    /// Whether grid `index` owns `p`, testing every edge of every ring (no index). For tests.
    #[cfg(test)]
    fn grid_contains_brute(&self, index: usize, p: Coord<f64>) -> bool {
        let Some(grid) = self.grids.get(index) else {
            return false;
        };
        self.rings[grid.rings.clone()].iter().fold(false, |acc, r| {
            acc ^ chain_contains(&self.coords[r.clone()], p)
        })
    }
}

impl fmt::Debug for Locator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Locator")
            .field("grids", &self.grids.len())
            .field("indexed", &self.leaves.len())
            .field("vertices", &self.coords.len())
            .finish_non_exhaustive()
    }
}

/// The envelope `[min_x, min_y, max_x, max_y]` of a polygon, or `None` if it has no coordinates
/// or a non-finite one.
fn envelope(polygon: &MultiPolygon<f64>) -> Option<[f64; 4]> {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for p in polygon
        .0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|r| &r.0)
    {
        if !(p.x.is_finite() && p.y.is_finite()) {
            return None;
        }
        b = [b[0].min(p.x), b[1].min(p.y), b[2].max(p.x), b[3].max(p.y)];
    }
    (b[0] <= b[2]).then_some(b)
}

/// Appends a polygon's rings to `coords` as one vertex chain whose edges have the same crossing
/// parity as the rings, and records each ring's range in `rings`.
///
/// Every ring is written closed. Between rings the chain needs a connecting edge; each ring after
/// the first is entered from the chain's first vertex and left back to it, so every connecting
/// edge is traversed once in each direction. The half-open rule counts an edge and its reverse
/// alike, so each pair cancels and the chain's parity is the rings' combined even-odd parity,
/// which for valid input is the polygon.
fn flatten(
    polygon: &MultiPolygon<f64>,
    coords: &mut Vec<Coord<f64>>,
    rings: &mut Vec<Range<usize>>,
) {
    let mut anchor: Option<Coord<f64>> = None;
    for ring in polygon
        .0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
    {
        let (Some(&first), Some(&last)) = (ring.0.first(), ring.0.last()) else {
            continue;
        };
        let start = coords.len();
        coords.extend_from_slice(&ring.0);
        if first != last {
            coords.push(first);
        }
        rings.push(start..coords.len());
        match anchor {
            None => anchor = Some(first),
            Some(a) => coords.push(a),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Contains;
    use geo_types::{LineString, Point, Polygon, coord, wkt};
    use proptest::prelude::*;

    fn mp(p: Polygon<f64>) -> MultiPolygon<f64> {
        MultiPolygon(vec![p])
    }

    fn c(x: f64, y: f64) -> Coord<f64> {
        coord! { x: x, y: y }
    }

    /// SplitMix64, so lattices are reproducible from a seed.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        /// Uniform integer in `-r..=r`.
        fn jitter(&mut self, r: u64) -> f64 {
            (self.next() % (2 * r + 1)) as f64 - r as f64
        }
    }

    /// A seamless coverage of `[0, 16·nx] × [0, 16·ny]`: a lattice of 16-unit cells whose
    /// interior vertices are moved by up to ±3 units (so every quad stays convex), all
    /// coordinates integers. Cell `(i, j)` is polygon `j·nx + i`; with `split`, each quad is cut
    /// along a diagonal into two triangles (`2·(j·nx + i)` and `+1`). With `dense`, every edge
    /// gets 31 extra vertices at multiples of 1/32 of its length, so every polygon takes the
    /// banded path.
    struct Lattice {
        nx: usize,
        ny: usize,
        /// The polygons as given to the locator.
        polygons: Vec<MultiPolygon<f64>>,
        /// The same polygons without the densifying vertices, for the geo oracle.
        plain: Vec<MultiPolygon<f64>>,
    }

    const CELL: f64 = 16.0;

    impl Lattice {
        fn new(nx: usize, ny: usize, seed: u64, jitter: u64, split: bool, dense: bool) -> Lattice {
            let mut rng = Rng(seed);
            let mut v = vec![vec![c(0.0, 0.0); ny + 1]; nx + 1];
            for (i, column) in v.iter_mut().enumerate() {
                for (j, vertex) in column.iter_mut().enumerate() {
                    let (mut x, mut y) = (i as f64 * CELL, j as f64 * CELL);
                    if i > 0 && i < nx {
                        x += rng.jitter(jitter);
                    }
                    if j > 0 && j < ny {
                        y += rng.jitter(jitter);
                    }
                    *vertex = c(x, y);
                }
            }
            let ring = |corners: &[Coord<f64>], steps: usize| -> MultiPolygon<f64> {
                let mut pts = Vec::new();
                for k in 0..corners.len() {
                    let (a, b) = (corners[k], corners[(k + 1) % corners.len()]);
                    for s in 0..steps {
                        pts.push(a + (b - a) * (s as f64 / steps as f64));
                    }
                }
                mp(Polygon::new(LineString(pts), vec![]))
            };
            let mut plain = Vec::new();
            for j in 0..ny {
                for i in 0..nx {
                    let (a, b, cc, d) = (v[i][j], v[i + 1][j], v[i + 1][j + 1], v[i][j + 1]);
                    if split {
                        plain.push(vec![a, b, cc]);
                        plain.push(vec![a, cc, d]);
                    } else {
                        plain.push(vec![a, b, cc, d]);
                    }
                }
            }
            let polygons = plain
                .iter()
                .map(|corners| ring(corners, if dense { 32 } else { 1 }))
                .collect();
            let plain = plain.iter().map(|corners| ring(corners, 1)).collect();
            Lattice {
                nx,
                ny,
                polygons,
                plain,
            }
        }

        fn max(&self) -> Coord<f64> {
            c(self.nx as f64 * CELL, self.ny as f64 * CELL)
        }

        /// Every corner and every point at a multiple of 1/16 along every edge: all exactly on the
        /// boundary, since coordinates are integers and these are multiples of 1/16.
        fn boundary_points(&self) -> Vec<Coord<f64>> {
            let mut out = Vec::new();
            for polygon in &self.plain {
                for w in polygon.0[0].exterior().0.windows(2) {
                    for k in 0..16 {
                        out.push(w[0] + (w[1] - w[0]) * (k as f64 / 16.0));
                    }
                }
            }
            out
        }
    }

    /// The owner predicted by the boundary rule: the polygon that contains `p + (δ, ε)`, found
    /// with geo's `Contains`. δ = 1e-4 is far below the 1/(16·23) minimum distance between a
    /// 1/16-lattice point and a segment not through it, and ε·|slope| ≪ δ.
    fn expected_owner(polygons: &[MultiPolygon<f64>], p: Coord<f64>) -> Option<usize> {
        let q = Point::new(p.x + 1e-4, p.y + 1e-9);
        let owners: Vec<usize> = (0..polygons.len())
            .filter(|&i| polygons[i].contains(&q))
            .collect();
        assert!(owners.len() <= 1, "{q:?} in {owners:?}");
        // Nobody east: a point on a grid's boundary goes to the lowest such grid.
        owners.first().copied().or_else(|| {
            (0..polygons.len()).find(|&i| geo::Intersects::intersects(&polygons[i], &Point(p)))
        })
    }

    fn owners_brute(locator: &Locator, p: Coord<f64>) -> Vec<usize> {
        let inside: Vec<usize> = (0..locator.len())
            .filter(|&i| locator.grid_contains_brute(i, p))
            .collect();
        if !inside.is_empty() {
            return inside;
        }
        (0..locator.len())
            .find(|&i| locator.on_boundary(i, p))
            .into_iter()
            .collect()
    }

    #[test]
    fn locate_many_answers_as_locate_in_input_order() {
        let layer = crate::spatial::synth::Lattice::near_zibo(400, 4).build();
        let locator = Locator::new(&layer.geometries());
        let mut rng = crate::spatial::synth::Rng::new(11);
        // Inside and around the coverage, plus shared vertices and non-finite points.
        let mut pts: Vec<Coord<f64>> = (0..20_000)
            .map(|_| Coord {
                x: rng.range(117.90, 118.06),
                y: rng.range(36.69, 36.81),
            })
            .collect();
        pts.extend(
            layer.grids[..50]
                .iter()
                .map(|g| g.geometry.0[0].exterior().0[0]),
        );
        pts.push(Coord {
            x: f64::NAN,
            y: 36.7,
        });
        pts.push(Coord {
            x: f64::INFINITY,
            y: 36.7,
        });
        let one: Vec<Option<usize>> = pts.iter().map(|&p| locator.locate(p)).collect();
        assert_eq!(locator.locate_many(&pts), one);
        assert_eq!(locator.locate_many(&pts[..100]), one[..100]);
        assert!(one.iter().filter(|h| h.is_some()).count() > 10_000);
    }

    #[test]
    fn square_lattice_boundary_goes_east_then_north() {
        let lattice = Lattice::new(3, 3, 0, 0, false, false);
        let locator = Locator::new(&lattice.polygons);
        let cell = |i: usize, j: usize| Some(j * 3 + i);
        // Shared vertical edge x = 16: the grid to the east.
        assert_eq!(locator.locate(c(16.0, 8.0)), cell(1, 0));
        // Shared horizontal edge y = 16: the grid to the north.
        assert_eq!(locator.locate(c(8.0, 16.0)), cell(0, 1));
        // Shared vertex (16, 16): the north-east grid.
        assert_eq!(locator.locate(c(16.0, 16.0)), cell(1, 1));
        assert_eq!(locator.locate(c(32.0, 32.0)), cell(2, 2));
        // Coverage boundary: west and south edges are owned, east and north are not.
        assert_eq!(locator.locate(c(0.0, 0.0)), cell(0, 0));
        assert_eq!(locator.locate(c(0.0, 40.0)), cell(0, 2));
        assert_eq!(locator.locate(c(40.0, 0.0)), cell(2, 0));
        // The coverage's own east and north edges: the grid whose edge it is.
        assert_eq!(locator.locate(c(48.0, 8.0)), cell(2, 0));
        assert_eq!(locator.locate(c(8.0, 48.0)), cell(0, 2));
        assert_eq!(locator.locate(c(48.0, 48.0)), cell(2, 2));
        assert_eq!(locator.locate(c(48.0 + 1e-9, 8.0)), None);
        assert_eq!(locator.locate(c(-1.0, 8.0)), None);
        assert_eq!(locator.locate(c(f64::NAN, 8.0)), None);
    }

    #[test]
    fn diagonal_edge_goes_to_the_side_just_north_of_east() {
        // Two triangles sharing the diagonal (0,0)-(16,16) and one sharing (16,0)-(0,16).
        let lower = mp(wkt! { POLYGON((0.0 0.0, 16.0 0.0, 16.0 16.0, 0.0 0.0)) });
        let upper = mp(wkt! { POLYGON((0.0 0.0, 16.0 16.0, 0.0 16.0, 0.0 0.0)) });
        let locator = Locator::new(&[lower.clone(), upper.clone()]);
        // East of a point on y = x is below the line: the lower triangle.
        assert_eq!(locator.locate(c(8.0, 8.0)), Some(0));
        assert_eq!(locator.locate(c(0.0, 0.0)), Some(0));
        let left = mp(wkt! { POLYGON((0.0 0.0, 16.0 0.0, 0.0 16.0, 0.0 0.0)) });
        let right = mp(wkt! { POLYGON((16.0 0.0, 16.0 16.0, 0.0 16.0, 16.0 0.0)) });
        let locator = Locator::new(&[left, right]);
        // East of a point on x + y = 16 is above the line: the right triangle.
        assert_eq!(locator.locate(c(8.0, 8.0)), Some(1));
        // Outer corners nobody owns under the nudge: the lowest grid whose boundary has them.
        assert_eq!(locator.locate(c(0.0, 16.0)), Some(0));
        assert_eq!(locator.locate(c(16.0, 0.0)), Some(0));
        assert_eq!(locator.locate(c(0.0, 8.0)), Some(0));
    }

    #[test]
    fn holes_and_multiple_parts() {
        let ring_with_hole = wkt! {
            MULTIPOLYGON(
                ((0.0 0.0, 10.0 0.0, 10.0 10.0, 0.0 10.0, 0.0 0.0),
                 (3.0 3.0, 3.0 7.0, 7.0 7.0, 7.0 3.0, 3.0 3.0)),
                ((20.0 0.0, 30.0 0.0, 30.0 10.0, 20.0 0.0))
            )
        };
        let locator = Locator::new(std::slice::from_ref(&ring_with_hole));
        assert_eq!(locator.locate(c(1.0, 1.0)), Some(0));
        assert_eq!(locator.locate(c(5.0, 5.0)), None, "in the hole");
        assert_eq!(locator.locate(c(28.0, 2.0)), Some(0), "second part");
        assert_eq!(locator.locate(c(15.0, 5.0)), None, "between the parts");
        // The hole filled by a second grid: its boundary follows the same rule.
        let plug = mp(wkt! { POLYGON((3.0 3.0, 7.0 3.0, 7.0 7.0, 3.0 7.0, 3.0 3.0)) });
        let locator = Locator::new(&[ring_with_hole, plug]);
        assert_eq!(locator.locate(c(5.0, 5.0)), Some(1));
        assert_eq!(
            locator.locate(c(3.0, 5.0)),
            Some(1),
            "west edge of the hole: plug is east"
        );
        assert_eq!(
            locator.locate(c(7.0, 5.0)),
            Some(0),
            "east edge of the hole: ring is east"
        );
        assert_eq!(
            locator.locate(c(5.0, 3.0)),
            Some(1),
            "south edge: plug is north"
        );
        assert_eq!(
            locator.locate(c(5.0, 7.0)),
            Some(0),
            "north edge: ring is north"
        );
        assert_eq!(locator.locate(c(7.0, 7.0)), Some(0));
        assert_eq!(locator.locate(c(3.0, 3.0)), Some(1));
    }

    #[test]
    fn orientation_does_not_matter_and_bad_polygons_are_skipped() {
        let cw = mp(wkt! { POLYGON((0.0 0.0, 0.0 1.0, 1.0 1.0, 1.0 0.0, 0.0 0.0)) });
        let nan = mp(wkt! { POLYGON((2.0 0.0, 3.0 0.0, 3.0 1.0, 2.0 0.0)) });
        let nan = MultiPolygon(vec![Polygon::new(
            LineString(
                nan.0[0]
                    .exterior()
                    .0
                    .iter()
                    .map(|&p| if p.x == 3.0 { c(f64::NAN, p.y) } else { p })
                    .collect(),
            ),
            vec![],
        )]);
        let open_ring = MultiPolygon(vec![Polygon::new(
            LineString(vec![c(4.0, 0.0), c(5.0, 0.0), c(5.0, 1.0)]),
            vec![],
        )]);
        let locator = Locator::new(&[cw, MultiPolygon(vec![]), nan, open_ring]);
        assert_eq!(locator.len(), 4);
        assert!(!locator.is_empty());
        assert_eq!(locator.locate(c(0.5, 0.5)), Some(0));
        assert_eq!(locator.locate(c(2.2, 0.1)), None);
        assert_eq!(
            locator.locate(c(4.9, 0.5)),
            Some(3),
            "Polygon::new closes rings"
        );
        let empty = Locator::new(&[]);
        assert!(empty.is_empty());
        assert_eq!(empty.locate(c(0.0, 0.0)), None);
        assert_eq!(empty.locate_or_snap(c(0.0, 0.0), 1e9), None);
    }

    #[test]
    fn large_polygon_uses_bands_and_stays_exact() {
        // A 5,000-vertex star with a 200-vertex hole, plus a grid filling the hole.
        let star: Vec<Coord<f64>> = (0..5000)
            .map(|k| {
                let t = k as f64 / 5000.0 * std::f64::consts::TAU;
                let r = if k % 2 == 0 { 100.0 } else { 90.0 };
                c(r * t.cos(), r * t.sin())
            })
            .collect();
        let hole: Vec<Coord<f64>> = (0..200)
            .map(|k| (k as f64 / 200.0 * std::f64::consts::TAU).sin_cos())
            .map(|(s, co)| c(20.0 * co, 20.0 * s))
            .collect();
        let big = MultiPolygon(vec![Polygon::new(
            LineString(star.clone()),
            vec![LineString(hole.clone())],
        )]);
        let plug = MultiPolygon(vec![Polygon::new(LineString(hole.clone()), vec![])]);
        let polygons = [big, plug];
        let locator = Locator::new(&polygons);
        assert!(locator.grids[0].bands.is_some() && locator.grids[1].bands.is_some());
        let mut rng = Rng(7);
        let mut points: Vec<Coord<f64>> = (0..20_000)
            .map(|_| {
                c(
                    (rng.next() % 2_200_001) as f64 / 1e4 - 110.0,
                    (rng.next() % 2_200_001) as f64 / 1e4 - 110.0,
                )
            })
            .collect();
        points.extend(star.iter().chain(&hole));
        for p in points {
            let brute = owners_brute(&locator, p);
            assert!(brute.len() <= 1, "{p:?}: {brute:?}");
            assert_eq!(locator.locate(p), brute.first().copied(), "{p:?}");
            let geo_owners: Vec<usize> = (0..2)
                .filter(|&i| polygons[i].contains(&Point(p)))
                .collect();
            if geo_owners.len() == 1 {
                assert_eq!(brute, geo_owners, "{p:?}");
            }
        }
    }

    #[test]
    fn snapping() {
        // Two 0.001° squares near Zhangdian, 0.002° apart in longitude.
        let a =
            mp(wkt! { POLYGON((118.000 36.800, 118.001 36.800, 118.001 36.801, 118.000 36.801)) });
        let b =
            mp(wkt! { POLYGON((118.003 36.800, 118.004 36.800, 118.004 36.801, 118.003 36.801)) });
        let east_m_per_deg = LocalMetric::new(0.0, 36.8005).m_per_deg_lon;
        assert!((east_m_per_deg - 89_260.0).abs() < 50.0, "{east_m_per_deg}");
        let locator = Locator::new(&[a, b]);
        let inside = locator.locate_or_snap(c(118.0005, 36.8005), 100.0);
        assert_eq!(
            inside,
            Some(Hit {
                index: 0,
                snapped_m: None
            })
        );
        let near = locator
            .locate_or_snap(c(118.0015, 36.8005), 100.0)
            .expect("snapped");
        assert_eq!(near.index, 0);
        let d = near.snapped_m.expect("distance");
        assert!((d - 0.0005 * east_m_per_deg).abs() < 1e-6, "{d}");
        assert_eq!(
            locator.locate_or_snap(c(118.0015, 36.8005), 40.0),
            None,
            "beyond snap_m"
        );
        assert_eq!(locator.locate_or_snap(c(118.0015, 36.8005), -1.0), None);
        assert_eq!(locator.locate_or_snap(c(118.0015, 36.8005), f64::NAN), None);
        // Nearer to b.
        assert_eq!(
            locator
                .locate_or_snap(c(118.0025, 36.8005), 100.0)
                .map(|h| h.index),
            Some(1)
        );
        // An exact tie (both distances are 0.5° of latitude, exactly): the lowest index wins,
        // whichever grid that is.
        let south = mp(wkt! { POLYGON((0.0 0.0, 1.0 0.0, 1.0 1.0, 0.0 1.0, 0.0 0.0)) });
        let north = mp(wkt! { POLYGON((0.0 2.0, 1.0 2.0, 1.0 3.0, 0.0 3.0, 0.0 2.0)) });
        let tie = c(0.5, 1.5);
        for (polygons, expected) in [([south.clone(), north.clone()], 0), ([north, south], 0)] {
            let hit = Locator::new(&polygons)
                .locate_or_snap(tie, 1e6)
                .expect("tie");
            assert_eq!(hit.index, expected);
            let d = hit.snapped_m.expect("distance");
            assert!(
                (d - 0.5 * LocalMetric::new(0.0, 1.5).m_per_deg_lat).abs() < 1e-6,
                "{d}"
            );
        }
        // A point on the coverage's own east edge belongs to the grid whose edge it is on.
        let edge = locator.locate_or_snap(c(118.001, 36.8005), 0.0);
        assert_eq!(
            edge,
            Some(Hit {
                index: 0,
                snapped_m: None
            })
        );
        assert_eq!(locator.locate(c(118.001, 36.8005)), Some(0));
        assert_eq!(locator.locate(c(118.0010001, 36.8005)), None);
    }

    #[test]
    fn metre_scale_matches_wgs84() {
        let equator = LocalMetric::new(0.0, 0.0);
        assert!(
            (equator.m_per_deg_lon - 111_319.49).abs() < 0.01
                && (equator.m_per_deg_lat - 110_574.27).abs() < 0.01
        );
        let mid = LocalMetric::new(0.0, 45.0);
        assert!(
            (mid.m_per_deg_lat - 111_131.78).abs() < 0.01
                && (mid.m_per_deg_lon - 78_846.84).abs() < 0.01
        );
    }

    #[test]
    fn locator_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Locator>();
    }

    fn check_lattice(lattice: &Lattice, random: &[(f64, f64)]) {
        let locator = Locator::new(&lattice.polygons);
        let max = lattice.max();
        for &(u, v) in random {
            let p = c(u * max.x, v * max.y);
            let owner = locator.locate(p);
            assert_eq!(
                owners_brute(&locator, p),
                owner.into_iter().collect::<Vec<_>>(),
                "{p:?}"
            );
            assert!(
                owner.is_some() || p.x == max.x || p.y == max.y,
                "{p:?} has no owner"
            );
            let geo_owners: Vec<usize> = (0..lattice.plain.len())
                .filter(|&i| lattice.plain[i].contains(&Point(p)))
                .collect();
            // geo's `contains` excludes boundaries: where it finds exactly one, p is interior.
            if geo_owners.len() == 1 {
                assert_eq!(owner, Some(geo_owners[0]), "{p:?}");
            }
        }
        for p in lattice.boundary_points() {
            let owner = locator.locate(p);
            let brute = owners_brute(&locator, p);
            assert_eq!(brute, owner.into_iter().collect::<Vec<_>>(), "{p:?}");
            // Every point of the closed coverage has an owner, outer edges included.
            assert!(owner.is_some() && p.x <= max.x && p.y <= max.y, "{p:?}");
            assert_eq!(owner, expected_owner(&lattice.plain, p), "{p:?}");
        }
    }

    #[test]
    fn jittered_lattices_follow_the_rule() {
        for (split, dense) in [(false, false), (true, false), (false, true), (true, true)] {
            let lattice = Lattice::new(6, 5, 42, 3, split, dense);
            let random: Vec<(f64, f64)> = (0..2000)
                .map(|k| {
                    (
                        (k % 50) as f64 / 50.0 + 0.003,
                        (k / 50) as f64 / 40.0 + 0.001,
                    )
                })
                .collect();
            check_lattice(&lattice, &random);
        }
    }

    #[test]
    fn deep_tree_agrees_with_brute_force() {
        // 1,600 grids: three tree levels, many leaf nodes, f32 boxes far from the origin.
        let lattice = Lattice::new(40, 40, 9, 3, false, false);
        let shifted: Vec<MultiPolygon<f64>> = lattice
            .polygons
            .iter()
            .map(|mp| {
                MultiPolygon(vec![Polygon::new(
                    LineString(
                        mp.0[0]
                            .exterior()
                            .0
                            .iter()
                            .map(|&c| c + c_shift())
                            .collect(),
                    ),
                    vec![],
                )])
            })
            .collect();
        let locator = Locator::new(&shifted);
        assert_eq!(locator.tree.level_starts.len(), 3);
        let mut rng = Rng(11);
        let mut points: Vec<Coord<f64>> = (0..3000)
            .map(|_| {
                c(
                    (rng.next() % 64_001) as f64 / 100.0,
                    (rng.next() % 64_001) as f64 / 100.0,
                )
            })
            .collect();
        points.extend(lattice.boundary_points().into_iter().step_by(7));
        for p in points {
            let q = p + c_shift();
            let brute = owners_brute(&locator, q);
            assert!(brute.len() <= 1, "{q:?}: {brute:?}");
            assert_eq!(locator.locate(q), brute.first().copied(), "{q:?}");
            assert_eq!(brute.is_empty(), p.x > 640.0 || p.y > 640.0, "{q:?}");
        }
    }

    /// Moves test lattices to a lon/lat-like place, where f32 offsets matter.
    fn c_shift() -> Coord<f64> {
        c(117_000.0, 36_000.0)
    }

    #[test]
    fn f32_boxes_are_conservative() {
        let mut rng = Rng(5);
        for _ in 0..100_000 {
            let v = f64::from_bits(rng.next());
            if !v.is_finite() {
                continue;
            }
            let (lo, hi) = (round_down(v), round_up(v));
            assert!(f64::from(lo) <= v && v <= f64::from(hi), "{v:e}");
            // A coordinate inside [v, v] stays inside after the query's own rounding.
            assert!(lo <= v as f32 && v as f32 <= hi, "{v:e}");
        }
    }

    #[test]
    fn node_hits_match_portable() {
        let mut rng = Rng(3);
        let mut small = || (rng.next() % 9) as f32 - 4.0;
        for _ in 0..2000 {
            let mut node = Node {
                min_x: [f32::INFINITY; NODE_SIZE],
                min_y: [f32::INFINITY; NODE_SIZE],
                max_x: [f32::NEG_INFINITY; NODE_SIZE],
                max_y: [f32::NEG_INFINITY; NODE_SIZE],
            };
            for k in 0..NODE_SIZE - 3 {
                let (a, b, cc, d) = (small(), small(), small(), small());
                (node.min_x[k], node.max_x[k], node.min_y[k], node.max_y[k]) =
                    (a.min(b), a.max(b), cc.min(d), cc.max(d));
            }
            for q in [
                [small(), small()],
                [small(), small()],
                [f32::NAN, 0.0],
                [f32::INFINITY, 0.0],
            ] {
                let expected: u32 = (0..NODE_SIZE)
                    .filter(|&k| {
                        node.min_x[k] <= q[0]
                            && q[0] <= node.max_x[k]
                            && node.min_y[k] <= q[1]
                            && q[1] <= node.max_y[k]
                    })
                    .map(|k| 1 << k)
                    .sum();
                assert_eq!(node.hits(q), expected);
                assert_eq!(node.hits_portable(q), expected);
            }
        }
    }

    #[test]
    fn snapping_matches_brute_force() {
        // A 10×10 lattice near Zhangdian (16 units = 0.0016°) with every third grid missing.
        let lattice = Lattice::new(10, 10, 21, 3, false, false);
        let to_lonlat = |p: Coord<f64>| c(118.0 + p.x * 1e-4, 36.8 + p.y * 1e-4);
        let polygons: Vec<MultiPolygon<f64>> = lattice
            .polygons
            .iter()
            .enumerate()
            .map(|(i, mp)| {
                if i % 3 == 0 {
                    MultiPolygon(vec![])
                } else {
                    MultiPolygon(vec![Polygon::new(
                        LineString(mp.0[0].exterior().0.iter().map(|&p| to_lonlat(p)).collect()),
                        vec![],
                    )])
                }
            })
            .collect();
        let locator = Locator::new(&polygons);
        let mut rng = Rng(17);
        let mut snapped = 0;
        for _ in 0..3000 {
            let p = to_lonlat(c(
                (rng.next() % 20_001) as f64 / 100.0 - 20.0,
                (rng.next() % 20_001) as f64 / 100.0 - 20.0,
            ));
            let snap_m = 150.0;
            let hit = locator.locate_or_snap(p, snap_m);
            if let Some(index) = locator.locate(p) {
                assert_eq!(
                    hit,
                    Some(Hit {
                        index,
                        snapped_m: None
                    })
                );
                continue;
            }
            let scale = LocalMetric::new(p.x, p.y);
            let best = (0..polygons.len())
                .filter(|&i| !polygons[i].0.is_empty())
                .map(|i| (locator.boundary_distance_m(i, p, scale), i))
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
                .filter(|&(d, _)| d <= snap_m);
            assert_eq!(
                hit,
                best.map(|(d, index)| Hit {
                    index,
                    snapped_m: Some(d)
                }),
                "{p:?}"
            );
            snapped += usize::from(hit.is_some());
        }
        assert!(snapped > 300, "only {snapped} points were snapped");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn random_lattices_agree_with_brute_force(
            nx in 1_usize..7,
            ny in 1_usize..7,
            seed in any::<u64>(),
            split in any::<bool>(),
            dense in any::<bool>(),
            random in proptest::collection::vec((0.0_f64..=1.0, 0.0_f64..=1.0), 1..100),
        ) {
            check_lattice(&Lattice::new(nx, ny, seed, 3, split, dense), &random);
        }
    }
}
