//! Dissolving polygons that share edges exactly: cancel each edge that occurs in both directions
//! and trace the rest into rings.
//!
//! This is how the union of a seamless coverage (and a repaired grid made of several faces) is
//! built without a general overlay: interior edges cancel, the remaining directed edges form
//! closed rings with the interior on their left. At a vertex where several rings meet (two grids
//! touching at a corner across a gap) the tracer takes the sharpest left turn, so rings separate
//! at such pinch points instead of crossing.

use crate::spatial::predicates::orient;
use crate::spatial::rings::{EKey, VKey, vkey as bits};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use std::collections::HashMap;

/// Traces directed edges (interior on the left) into closed rings. Edges that occur in both
/// directions cancel first. Rings are returned closed; counter-clockwise rings are exteriors,
/// clockwise rings are holes.
pub fn trace_rings(edges: &[(Coord<f64>, Coord<f64>)]) -> Vec<LineString<f64>> {
    // Cancel opposite pairs (and count multiplicity of equal directed edges).
    let mut count: HashMap<EKey, i32> = HashMap::with_capacity(edges.len());
    let mut coord_of: HashMap<VKey, Coord<f64>> = HashMap::with_capacity(edges.len());
    for &(p, q) in edges {
        if p == q {
            continue;
        }
        let (a, b) = (bits(p), bits(q));
        coord_of.insert(a, p);
        coord_of.insert(b, q);
        if let Some(n) = count.get_mut(&(b, a)).filter(|n| **n > 0) {
            *n -= 1;
        } else {
            *count.entry((a, b)).or_default() += 1;
        }
    }
    // Deterministic order: sort the surviving edges.
    let mut live: Vec<EKey> = Vec::new();
    for (&e, &n) in &count {
        for _ in 0..n {
            live.push(e);
        }
    }
    live.sort_unstable();
    let mut out_edges: HashMap<VKey, Vec<usize>> = HashMap::with_capacity(live.len());
    for (i, e) in live.iter().enumerate() {
        out_edges.entry(e.0).or_default().push(i);
    }
    let mut used = vec![false; live.len()];
    let mut rings = Vec::new();
    for start in 0..live.len() {
        if used[start] {
            continue;
        }
        let mut ring = vec![coord_of[&live[start].0]];
        let mut cur = start;
        loop {
            used[cur] = true;
            let (tail, head) = live[cur];
            ring.push(coord_of[&head]);
            let cands = &out_edges[&head];
            let next = if cands.len() == 1 {
                cands[0]
            } else {
                // Sharpest left turn: the first out-edge clockwise from the way back.
                let h = coord_of[&head];
                let back = coord_of[&tail];
                let back_angle = (back.y - h.y).atan2(back.x - h.x);
                let mut best: Option<(f64, usize)> = None;
                for &c in cands {
                    if used[c] && c != start {
                        continue;
                    }
                    let to = coord_of[&live[c].1];
                    let a = (to.y - h.y).atan2(to.x - h.x);
                    let mut cw = back_angle - a;
                    while cw <= 0.0 {
                        cw += std::f64::consts::TAU;
                    }
                    while cw > std::f64::consts::TAU {
                        cw -= std::f64::consts::TAU;
                    }
                    if best.is_none_or(|(b, _)| cw < b) {
                        best = Some((cw, c));
                    }
                }
                match best {
                    Some((_, c)) => c,
                    None => break,
                }
            };
            if next == start {
                break;
            }
            if used[next] {
                break;
            }
            cur = next;
        }
        if ring.len() >= 4 && ring.first() == ring.last() {
            rings.extend(split_pinched(&ring).into_iter().map(LineString));
        }
    }
    rings
}

/// Splits a closed ring that passes through a vertex more than once into simple closed rings,
/// one per loop, keeping the direction of travel. This is the OGC normal form: a hole that
/// touches its shell (or another hole) at one point is a ring of its own, never folded into
/// the shell. Loops of fewer than three distinct vertices (spikes) are dropped.
///
/// ```
/// use geo_types::coord;
/// use tessera::spatial::dissolve::split_pinched;
/// // A shell that dips into a triangle touching it at (0, 2): shell and hole come apart.
/// let c = |x: f64, y: f64| coord! { x: x, y: y };
/// let ring = [c(0., 0.), c(4., 0.), c(4., 4.), c(0., 4.), c(0., 2.),
///             c(2., 3.), c(2., 1.), c(0., 2.), c(0., 0.)];
/// let parts = split_pinched(&ring);
/// assert_eq!(parts.len(), 2);
/// assert_eq!(parts[0], [c(0., 2.), c(2., 3.), c(2., 1.), c(0., 2.)]);
/// assert_eq!(parts[1], [c(0., 0.), c(4., 0.), c(4., 4.), c(0., 4.), c(0., 2.), c(0., 0.)]);
/// ```
pub fn split_pinched(ring: &[Coord<f64>]) -> Vec<Vec<Coord<f64>>> {
    let mut out = Vec::new();
    if ring.len() < 2 {
        return out;
    }
    // Walk the open ring; when a vertex repeats, cut the loop since its last visit.
    let mut path: Vec<Coord<f64>> = Vec::with_capacity(ring.len());
    let mut at: HashMap<VKey, usize> = HashMap::with_capacity(ring.len());
    for &c in &ring[..ring.len() - 1] {
        if let Some(&i) = at.get(&bits(c)) {
            let mut lp: Vec<Coord<f64>> = path.split_off(i);
            for q in &lp[1..] {
                at.remove(&bits(*q));
            }
            lp.push(c);
            if lp.len() >= 4 {
                out.push(lp);
            }
            path.push(c);
        } else {
            at.insert(bits(c), path.len());
            path.push(c);
        }
    }
    let first = ring[0];
    // Close what is left (the ring's own start vertex closes it).
    if let Some(&i) = at.get(&bits(first)) {
        let mut lp: Vec<Coord<f64>> = path.split_off(i);
        lp.push(first);
        let head = path;
        // Anything before the start's position cannot exist: the start is at index 0.
        debug_assert!(head.is_empty());
        if lp.len() >= 4 {
            out.push(lp);
        }
    }
    out
}

/// A MultiPolygon in OGC normal form: every ring split at the vertices it passes more than once
/// ([`split_pinched`]) and reassembled, so a hole touching its shell at a point is a hole and
/// shells touching at a point are separate polygons. Input rings may run either way.
pub fn normalize(mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    use crate::spatial::layer::signed_area;
    let mut rings = Vec::new();
    let mut add = |ring: &LineString<f64>, ccw: bool| {
        let mut r = ring.0.clone();
        if (signed_area(&r) > 0.0) != ccw {
            r.reverse();
        }
        // Loops of a counter-clockwise exterior that run clockwise are pinched-off holes, and
        // loops of a clockwise hole that run counter-clockwise are islands: the sign decides.
        rings.extend(split_pinched(&r).into_iter().map(LineString));
    };
    for p in &mp.0 {
        add(p.exterior(), true);
        for h in p.interiors() {
            add(h, false);
        }
    }
    assemble(rings)
}

/// Assembles traced rings into polygons: each clockwise ring becomes a hole of the smallest
/// counter-clockwise ring containing it. Zero-area rings are dropped.
pub fn assemble(rings: Vec<LineString<f64>>) -> MultiPolygon<f64> {
    let mut shells: Vec<(f64, LineString<f64>, Vec<LineString<f64>>)> = Vec::new();
    let mut holes = Vec::new();
    for r in rings {
        let a = crate::spatial::layer::signed_area(&r.0);
        if a > 0.0 {
            shells.push((a, r, Vec::new()));
        } else if a < 0.0 {
            holes.push(r);
        }
    }
    shells.sort_by(|a, b| a.0.total_cmp(&b.0));
    for h in holes {
        if let Some(s) = shells.iter_mut().find(|s| ring_inside(&h.0, &s.1.0)) {
            s.2.push(h);
        }
    }
    MultiPolygon(
        shells
            .into_iter()
            .map(|(_, s, hs)| Polygon::new(s, hs))
            .collect(),
    )
}

/// Whether ring `inner`, which does not cross `outer` (they may touch at points), lies inside
/// it: judged at the midpoint of the first edge of `inner` that is not on `outer` (a ring
/// touching another at one point may touch it at exactly such a midpoint). A ring lying
/// wholly on `outer` is not inside.
fn ring_inside(inner: &[Coord<f64>], outer: &[Coord<f64>]) -> bool {
    inner
        .windows(2)
        .map(|w| Coord {
            x: (w[0].x + w[1].x) / 2.0,
            y: (w[0].y + w[1].y) / 2.0,
        })
        .find(|&m| !point_on_ring(m, outer))
        .is_some_and(|m| point_in_ring(m, outer))
}

/// Whether `p` lies exactly on one of the ring's segments (robust orientation test).
fn point_on_ring(p: Coord<f64>, ring: &[Coord<f64>]) -> bool {
    ring.windows(2).any(|w| {
        let (a, b) = (w[0], w[1]);
        p.x >= a.x.min(b.x)
            && p.x <= a.x.max(b.x)
            && p.y >= a.y.min(b.y)
            && p.y <= a.y.max(b.y)
            && orient(a, b, p) == 0.0
    })
}

/// Even-odd point-in-ring test (points on the ring give an arbitrary answer).
pub fn point_in_ring(p: Coord<f64>, ring: &[Coord<f64>]) -> bool {
    let mut inside = false;
    for w in ring.windows(2) {
        let (a, b) = (w[0], w[1]);
        if (a.y > p.y) != (b.y > p.y) {
            let o = orient(a, b, p);
            if (b.y > a.y && o > 0.0) || (b.y < a.y && o < 0.0) {
                inside = !inside;
            }
        }
    }
    inside
}

/// Dissolves polygons whose shared edges are identical into their union.
pub fn dissolve<'a>(polys: impl IntoIterator<Item = &'a Polygon<f64>>) -> MultiPolygon<f64> {
    let mut edges = Vec::new();
    for p in polys {
        for r in std::iter::once(p.exterior()).chain(p.interiors()) {
            for w in r.0.windows(2) {
                edges.push((w[0], w[1]));
            }
        }
    }
    assemble(trace_rings(&edges))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Area;
    use geo_types::polygon;

    #[test]
    fn a_ring_touching_another_at_its_edge_midpoint_is_not_inside_it() {
        use geo_types::coord;
        // The outline of the complement (clockwise, a square) and a gap (counter-clockwise,
        // a triangle) whose apex is the midpoint of the square's left edge.
        let c = |x: f64, y: f64| coord! { x: x, y: y };
        let outline = LineString(vec![c(0., 0.), c(0., 4.), c(4., 4.), c(4., 0.), c(0., 0.)]);
        let gap = LineString(vec![c(0., 2.), c(2., 2.), c(2., 3.), c(0., 2.)]);
        let mp = assemble(vec![gap.clone(), outline.clone()]);
        assert_eq!(mp.0.len(), 1);
        assert!(mp.0[0].interiors().is_empty(), "{mp:?}");
        // A real hole of the triangle is still found.
        let shell = LineString(vec![c(0., 0.), c(8., 0.), c(8., 8.), c(0., 8.), c(0., 0.)]);
        let mp = assemble(vec![shell, outline]);
        assert_eq!(mp.0[0].interiors().len(), 1);
    }

    fn sq(x: f64, y: f64) -> Polygon<f64> {
        polygon![(x: x, y: y), (x: x + 1.0, y: y), (x: x + 1.0, y: y + 1.0), (x: x, y: y + 1.0), (x: x, y: y)]
    }

    #[test]
    fn ring_of_squares_around_a_hole() {
        // 3x3 block with the centre missing: one shell, one hole.
        let polys: Vec<_> = (0..3)
            .flat_map(|i| (0..3).map(move |j| (i, j)))
            .filter(|&(i, j)| (i, j) != (1, 1))
            .map(|(i, j)| sq(i as f64, j as f64))
            .collect();
        let u = dissolve(&polys);
        assert_eq!(u.0.len(), 1);
        assert_eq!(u.0[0].interiors().len(), 1);
        assert_eq!(u.unsigned_area(), 8.0);
    }

    #[test]
    fn corner_touching_squares_stay_separate() {
        let u = dissolve(&[sq(0.0, 0.0), sq(1.0, 1.0)]);
        assert_eq!(u.0.len(), 2);
        assert!(u.0.iter().all(|p| p.exterior().0.len() == 5));
    }

    #[test]
    fn island_in_hole_is_its_own_shell() {
        // 5x5 block, ring of 3x3 missing except the centre square.
        let polys: Vec<_> = (0..5)
            .flat_map(|i| (0..5).map(move |j| (i, j)))
            .filter(|&(i, j)| {
                let ring = (1..=3).contains(&i) && (1..=3).contains(&j) && (i, j) != (2, 2);
                !ring
            })
            .map(|(i, j)| sq(i as f64, j as f64))
            .collect();
        let u = dissolve(&polys);
        assert_eq!(u.0.len(), 2);
        assert_eq!(u.unsigned_area(), 17.0);
    }
}
