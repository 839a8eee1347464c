//! Flat ring storage and exact segment matching, shared by coverage validation, union and repair.
//!
//! All rings of a layer are stored in one coordinate array (closed rings, consecutive repeated
//! points dropped). A segment is named by the index of its first coordinate. Two grids share an
//! edge correctly when the same segment (bit-identical end points) occurs in the other grid in
//! the opposite direction — the rule of JTS/GEOS `CoverageValidator`. Matching is done by sorting
//! 32-bit segment keys (a Morton code of the midpoint and a hash) and confirming equal keys
//! coordinate by coordinate.

use geo_types::{Coord, MultiPolygon, Rect};
use rayon::prelude::*;
use std::ops::Range;

/// A coordinate as its exact bit pattern (x, y), for hashing and exact comparison.
pub type VKey = (u64, u64);
/// A segment as the bit patterns of its two end points.
pub type EKey = (VKey, VKey);

/// The exact key of a coordinate (`-0.0` must already be normalized to `0.0`).
#[inline]
pub fn vkey(c: Coord<f64>) -> VKey {
    (c.x.to_bits(), c.y.to_bits())
}

/// One ring in [`FlatRings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ring {
    /// First coordinate index.
    pub start: u32,
    /// One past the last coordinate index (the last coordinate repeats the first).
    pub end: u32,
    /// Grid (feature) index.
    pub grid: u32,
    /// Polygon within the grid's MultiPolygon.
    pub polygon: u32,
    /// True for holes (clockwise), false for exteriors (counter-clockwise).
    pub hole: bool,
}

/// Every ring of a set of multipolygons in one array.
#[derive(Debug, Clone, Default)]
pub struct FlatRings {
    /// All coordinates, ring after ring.
    pub coords: Vec<Coord<f64>>,
    /// Rings, grid after grid.
    pub rings: Vec<Ring>,
    /// For each grid, its range of ring indices.
    pub grid_rings: Vec<Range<u32>>,
    /// For each grid, its bounding box (degenerate at the origin for an empty grid).
    pub grid_env: Vec<Rect<f64>>,
    /// For each coordinate, the ring it belongs to.
    pub ring_of: Vec<u32>,
}

/// What the matching pass found for one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegState {
    /// Not a segment (the last coordinate of a ring).
    None,
    /// Occurs once: on the coverage boundary, or mismatched (decided later).
    Unmatched,
    /// Occurs in the opposite direction elsewhere, and nowhere else in the same direction: a
    /// correct shared edge (as seen from this grid).
    Matched,
    /// Occurs elsewhere in the same direction: two grids on the same side of it.
    Invalid,
}

/// Whether a closed ring has fewer than three distinct consecutive points (a line or a point).
pub fn collapsed(ring: &[Coord<f64>]) -> bool {
    let mut distinct = 0;
    let mut prev: Option<Coord<f64>> = None;
    for &c in ring.iter().take(ring.len().saturating_sub(1)) {
        if prev != Some(c) {
            distinct += 1;
            prev = Some(c);
        }
    }
    // A trailing run equal to the first point is the same point.
    if distinct > 1 && ring.first() == prev.as_ref() {
        distinct -= 1;
    }
    distinct < 3
}

impl FlatRings {
    /// Flattens the geometries (rings must already be oriented: exteriors CCW, holes CW).
    pub fn new<'a>(geoms: impl IntoIterator<Item = &'a MultiPolygon<f64>>) -> FlatRings {
        let geoms: Vec<&MultiPolygon<f64>> = geoms.into_iter().collect();
        let total: usize = geoms
            .iter()
            .flat_map(|m| m.0.iter())
            .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
            .sum();
        let mut f = FlatRings {
            coords: Vec::with_capacity(total),
            ring_of: Vec::with_capacity(total),
            ..Default::default()
        };
        for (g, mp) in geoms.iter().enumerate() {
            let first_ring = f.rings.len() as u32;
            let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
            for (pi, poly) in mp.0.iter().enumerate() {
                for (ri, ring) in std::iter::once(poly.exterior())
                    .chain(poly.interiors())
                    .enumerate()
                {
                    // A ring collapsed to fewer than three distinct points bounds nothing:
                    // like JTS, its edges take no part in matching (validity reports it), and
                    // a collapsed exterior takes its holes with it.
                    if collapsed(&ring.0) {
                        if ri == 0 {
                            break;
                        }
                        continue;
                    }
                    let start = f.coords.len() as u32;
                    let ring_id = f.rings.len() as u32;
                    let mut last: Option<Coord<f64>> = None;
                    for &c in &ring.0 {
                        if last == Some(c) {
                            continue;
                        }
                        last = Some(c);
                        f.coords.push(c);
                        f.ring_of.push(ring_id);
                        (x0, y0, x1, y1) = (x0.min(c.x), y0.min(c.y), x1.max(c.x), y1.max(c.y));
                    }
                    f.rings.push(Ring {
                        start,
                        end: f.coords.len() as u32,
                        grid: g as u32,
                        polygon: pi as u32,
                        hole: ri > 0,
                    });
                }
            }
            f.grid_rings.push(first_ring..f.rings.len() as u32);
            f.grid_env.push(if x0 <= x1 {
                Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 })
            } else {
                Rect::new(Coord::zero(), Coord::zero())
            });
        }
        f
    }

    /// Number of grids.
    pub fn grids(&self) -> usize {
        self.grid_rings.len()
    }

    /// The ring of grid `g`, as ring structs.
    pub fn rings_of(&self, g: usize) -> &[Ring] {
        let r = &self.grid_rings[g];
        &self.rings[r.start as usize..r.end as usize]
    }

    /// Segment indices (first-coordinate indices) of a ring.
    pub fn segments(ring: &Ring) -> Range<usize> {
        ring.start as usize
            ..(ring.end as usize)
                .saturating_sub(1)
                .max(ring.start as usize)
    }

    /// End points of segment `i`.
    #[inline]
    pub fn seg(&self, i: usize) -> (Coord<f64>, Coord<f64>) {
        (self.coords[i], self.coords[i + 1])
    }

    /// Grid owning coordinate/segment `i`.
    #[inline]
    pub fn grid_of(&self, i: usize) -> usize {
        self.rings[self.ring_of[i] as usize].grid as usize
    }
}

/// Result of [`match_segments`].
#[derive(Debug, Clone)]
pub struct SegmentMatch {
    /// State of each segment, indexed like [`FlatRings::coords`].
    pub state: Vec<SegState>,
    /// For matched segments, the index of the partner segment; `u32::MAX` otherwise.
    pub partner: Vec<u32>,
}

#[inline]
fn key_bits(c: Coord<f64>) -> (u64, u64) {
    (c.x.to_bits(), c.y.to_bits())
}

/// Canonical (undirected) form of a segment and whether it was given in canonical direction.
#[inline]
fn canonical(p: Coord<f64>, q: Coord<f64>) -> ((u64, u64, u64, u64), bool) {
    let (a, b) = (key_bits(p), key_bits(q));
    if a <= b {
        ((a.0, a.1, b.0, b.1), true)
    } else {
        ((b.0, b.1, a.0, a.1), false)
    }
}

/// Twelve bits of hash of a canonical segment: its four coordinate words folded with rotations
/// (so that swapping coordinates changes the result) and one multiplication, whose top bits
/// depend on every input bit. Only spreads equal-cell segments over keys; equality is decided
/// by the coordinates.
#[inline]
fn hash12(k: (u64, u64, u64, u64)) -> u32 {
    let folded = k.0 ^ k.1.rotate_left(16) ^ k.2.rotate_left(32) ^ k.3.rotate_left(48);
    (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 52) as u32
}

/// Spreads the low 16 bits of `v` to the even bits of a 32-bit word: one coordinate of a
/// Morton (Z-order) code, the other shifted left by one.
#[inline]
pub(crate) fn morton_spread(v: u32) -> u32 {
    let mut x = v & 0xffff;
    x = (x | (x << 8)) & 0x00ff_00ff;
    x = (x | (x << 4)) & 0x0f0f_0f0f;
    x = (x | (x << 2)) & 0x3333_3333;
    (x | (x << 1)) & 0x5555_5555
}

/// Sort key of segments: the Morton code of a segment's midpoint on a 1024 × 1024 lattice over
/// the layer's extent (the high 20 bits), then 12 bits of a hash of its exact end points.
///
/// Equal segments get equal keys, and segments near each other sort near each other, so the
/// pass over the sorted keys reads coordinates and writes states close to where they are
/// stored. Unequal segments sharing a key are told apart by their coordinates.
struct SegKey {
    x0: f64,
    y0: f64,
    sx: f64,
    sy: f64,
}

impl SegKey {
    fn new(envs: &[Rect<f64>]) -> Self {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for e in envs {
            x0 = x0.min(e.min().x);
            y0 = y0.min(e.min().y);
            x1 = x1.max(e.max().x);
            y1 = y1.max(e.max().y);
        }
        let scale = |lo: f64, hi: f64| {
            if hi > lo && (hi - lo).is_finite() {
                1023.0 / (hi - lo)
            } else {
                0.0
            }
        };
        SegKey {
            x0,
            y0,
            sx: scale(x0, x1),
            sy: scale(y0, y1),
        }
    }

    #[inline]
    fn key(&self, k: (u64, u64, u64, u64)) -> u32 {
        let (ax, ay, bx, by) = (
            f64::from_bits(k.0),
            f64::from_bits(k.1),
            f64::from_bits(k.2),
            f64::from_bits(k.3),
        );
        // `as u32` saturates (and maps NaN to 0), so any coordinate gives a lattice cell.
        let cx = (((ax + bx) * 0.5 - self.x0) * self.sx) as u32;
        let cy = (((ay + by) * 0.5 - self.y0) * self.sy) as u32;
        // Cells are 0..=1023 (10 bits a side), so the code fits 20 bits.
        let cell = morton_spread(cx.min(1023)) | (morton_spread(cy.min(1023)) << 1);
        (cell << 12) | hash12(k)
    }
}

/// Sorts `(key, index)` entries by key, then index: LSD radix sort over four 8-bit digits
/// (the four histograms counted in one read; each stable counting pass writes to at most 256
/// places, which stay in cache: measured faster than three 11-bit passes), then the runs of
/// equal keys by index. Several times faster than a comparison sort for the millions of
/// segments of a large layer (or points of a batch to locate); the order is the same as
/// `sort_unstable` would give.
pub(crate) fn radix_sort(entries: &mut Vec<(u32, u32)>) {
    if entries.len() < 4_096 || u32::try_from(entries.len()).is_err() {
        entries.sort_unstable();
        return;
    }
    let mut buf = vec![(0u32, 0u32); entries.len()];
    // The digits' histograms in one read of the entries (`u32` counts: entries are indexed by
    // `u32`).
    let mut histograms = [[0u32; 1 << 8]; 4];
    for e in entries.iter() {
        for (pass, h) in histograms.iter_mut().enumerate() {
            h[((e.0 >> (pass * 8)) & 0xff) as usize] += 1;
        }
    }
    for (pass, counts) in histograms.iter_mut().enumerate() {
        let shift = pass * 8;
        let mut sum = 0;
        for c in counts.iter_mut() {
            let n = *c;
            *c = sum;
            sum += n;
        }
        for e in entries.iter() {
            let d = ((e.0 >> shift) & 0xff) as usize;
            buf[counts[d] as usize] = *e;
            counts[d] += 1;
        }
        std::mem::swap(entries, &mut buf);
    }
    // Equal keys (a shared segment's two sides, or neighbours sharing a key) ordered by segment.
    for run in entries.chunk_by_mut(|a, b| a.0 == b.0) {
        if run.len() > 1 {
            run.sort_unstable();
        }
    }
}

/// Finds every segment's partner: matched (shared correctly), unmatched or invalid.
pub fn match_segments(f: &FlatRings) -> SegmentMatch {
    let n = f.coords.len();
    let sk = SegKey::new(&f.grid_env);
    // (key, segment index with the direction in the top bit)
    // Segment `i` runs from coordinate `i` to `i + 1` of the same ring; a ring's last
    // coordinate starts none.
    let entry = |i: usize| {
        let (p, q) = f.seg(i);
        let (k, fwd) = canonical(p, q);
        (sk.key(k), i as u32 | if fwd { 0 } else { 1 << 31 })
    };
    let starts_segment = |&(_, w): &(usize, &[u32])| w[0] == w[1];
    let mut entries: Vec<(u32, u32)> = Vec::with_capacity(n);
    if rayon::current_num_threads() == 1 {
        // Straight into the vector: rayon's unindexed collect would gather pieces and copy.
        let segments = f.ring_of.windows(2).enumerate().filter(starts_segment);
        entries.extend(segments.map(|(i, _)| entry(i)));
    } else {
        let windows = f.ring_of.par_windows(2).enumerate().with_min_len(1 << 14);
        entries.par_extend(windows.filter(starts_segment).map(|(i, _)| entry(i)));
    }
    radix_sort(&mut entries);

    let mut state = vec![SegState::None; n];
    let mut partner = vec![u32::MAX; n];
    for r in &f.rings {
        for i in FlatRings::segments(r) {
            state[i] = SegState::Unmatched;
        }
    }
    let idx = |e: u32| (e & !(1 << 31)) as usize;
    let fwd = |e: u32| e & (1 << 31) == 0;
    let mut run: Vec<((u64, u64, u64, u64), u32)> = Vec::new();
    for same_key in entries.chunk_by(|a, b| a.0 == b.0) {
        if let [(_, a), (_, b)] = *same_key {
            // The common case, a segment shared by two rings: no grouping needed.
            let (pa, qa) = f.seg(idx(a));
            let (pb, qb) = f.seg(idx(b));
            if canonical(pa, qa).0 == canonical(pb, qb).0 {
                if fwd(a) == fwd(b) {
                    state[idx(a)] = SegState::Invalid;
                    state[idx(b)] = SegState::Invalid;
                } else {
                    state[idx(a)] = SegState::Matched;
                    state[idx(b)] = SegState::Matched;
                    partner[idx(a)] = idx(b) as u32;
                    partner[idx(b)] = idx(a) as u32;
                }
            }
        } else if same_key.len() > 2 {
            // Group the run by exact segment: sorted by (segment, entry), so each group keeps
            // the order of its entries and a long run costs n log n, not n².
            run.clear();
            run.extend(same_key.iter().map(|&(_, e)| {
                let (p, q) = f.seg(idx(e));
                (canonical(p, q).0, e)
            }));
            run.sort_unstable_by_key(|&(k, e)| (k, idx(e)));
            for group in run.chunk_by(|a, b| a.0 == b.0) {
                // As in JTS: another occurrence in the same direction makes a segment
                // invalid (two grids on the same side of it); otherwise any occurrence in the
                // opposite direction matches it. So a grid next to a duplicated pair keeps
                // its edges matched, and only the duplicates are flagged.
                if group.len() > 1 {
                    let first = |dir: bool| group.iter().map(|g| g.1).find(|&e| fwd(e) == dir);
                    let n_fwd = group.iter().filter(|g| fwd(g.1)).count();
                    let n_rev = group.len() - n_fwd;
                    for &(_, e) in group {
                        let (same, opp) = if fwd(e) {
                            (n_fwd, n_rev)
                        } else {
                            (n_rev, n_fwd)
                        };
                        if same > 1 {
                            state[idx(e)] = SegState::Invalid;
                        } else if opp > 0 {
                            state[idx(e)] = SegState::Matched;
                            if let Some(p) = first(!fwd(e)) {
                                partner[idx(e)] = idx(p) as u32;
                            }
                        }
                    }
                }
            }
        }
    }
    SegmentMatch { state, partner }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    fn sq(x: f64, y: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![polygon![
            (x: x, y: y), (x: x + 1.0, y: y), (x: x + 1.0, y: y + 1.0), (x: x, y: y + 1.0), (x: x, y: y)
        ]])
    }

    #[test]
    fn shared_edges_match_and_outer_edges_do_not() {
        let f = FlatRings::new(&[sq(0.0, 0.0), sq(1.0, 0.0)]);
        let m = match_segments(&f);
        let matched = m.state.iter().filter(|s| **s == SegState::Matched).count();
        let unmatched = m
            .state
            .iter()
            .filter(|s| **s == SegState::Unmatched)
            .count();
        assert_eq!((matched, unmatched), (2, 6));
        for (i, s) in m.state.iter().enumerate() {
            if *s == SegState::Matched {
                assert_ne!(f.grid_of(i), f.grid_of(m.partner[i] as usize));
            }
        }
    }

    #[test]
    fn duplicated_grids_are_invalid() {
        let f = FlatRings::new(&[sq(0.0, 0.0), sq(0.0, 0.0)]);
        let m = match_segments(&f);
        assert_eq!(
            m.state.iter().filter(|s| **s == SegState::Invalid).count(),
            8
        );
    }

    #[test]
    fn repeated_points_are_dropped() {
        let mp = MultiPolygon(vec![polygon![
            (x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)
        ]]);
        let f = FlatRings::new(&[mp]);
        assert_eq!(f.coords.len(), 4);
    }

    #[test]
    fn segments_crowded_into_one_key_cell_still_match() {
        // A far-away grid stretches the key lattice so that the whole 40 × 40 block of
        // squares falls into one cell: every key then differs only by its hash bits, runs
        // are long, and the matching must be the same as without the outlier.
        let block: Vec<MultiPolygon<f64>> = (0..1600)
            .map(|i| sq((i % 40) as f64, (i / 40) as f64))
            .collect();
        let counts = |m: &SegmentMatch| {
            let c = |s: SegState| m.state.iter().filter(|x| **x == s).count();
            (
                c(SegState::Matched),
                c(SegState::Unmatched),
                c(SegState::Invalid),
            )
        };
        let alone = match_segments(&FlatRings::new(&block));
        let mut with_outlier = block.clone();
        with_outlier.push(sq(1.0e7, 1.0e7));
        let f = FlatRings::new(&with_outlier);
        let m = match_segments(&f);
        let (matched, unmatched, invalid) = counts(&m);
        assert_eq!(counts(&alone), (2 * 40 * 39 * 2, 4 * 40, 0));
        assert_eq!(
            (matched, unmatched, invalid),
            (2 * 40 * 39 * 2, 4 * 40 + 4, 0)
        );
        for (i, s) in m.state.iter().enumerate() {
            if *s == SegState::Matched {
                let j = m.partner[i] as usize;
                assert_eq!(m.partner[j] as usize, i);
                assert_eq!(f.seg(i), (f.seg(j).1, f.seg(j).0));
            }
        }
    }

    #[test]
    fn radix_sort_orders_as_a_comparison_sort() {
        let mut rng = crate::spatial::synth::Rng::new(5);
        let mut v: Vec<(u32, u32)> = (0..20_000)
            .map(|i| {
                (
                    ((rng.next_u64() % 5_000).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32,
                    (i * 7919 % 20_000) as u32,
                )
            })
            .collect();
        let mut w = v.clone();
        radix_sort(&mut v);
        w.sort_unstable();
        assert_eq!(v, w);
    }
}
