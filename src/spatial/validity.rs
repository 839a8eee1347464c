//! OGC validity of one grid's geometry, reported with a location rather than fixed silently.
//!
//! Checked: rings with fewer than 3 distinct points, zero-area rings, spikes (a ring that turns
//! back on itself), self-intersections, rings of a polygon that cross or share a stretch of
//! boundary, holes outside their exterior or inside another hole, and parts of a MultiPolygon
//! that overlap. Touching at single points is allowed, as in OGC.

use crate::spatial::layer::signed_area;
use crate::spatial::predicates::orient;
use geo_types::{Coord, MultiPolygon};

/// One validity problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// What is wrong, naming the ring(s) involved.
    pub reason: String,
    /// Where, lon/lat degrees.
    pub location: Coord<f64>,
}

/// Most problems reported per grid (the first ones found, in ring order).
pub const MAX_PROBLEMS: usize = 8;

/// How two segments meet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Meet {
    /// Not at all.
    Disjoint,
    /// They cross at a point interior to both.
    Proper(Coord<f64>),
    /// They touch at one point that is an end point of at least one.
    Touch(Coord<f64>),
    /// They are collinear and share a stretch of positive length starting here.
    Overlap(Coord<f64>),
}

#[inline]
fn within_box(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> bool {
    p.x >= a.x.min(b.x) && p.x <= a.x.max(b.x) && p.y >= a.y.min(b.y) && p.y <= a.y.max(b.y)
}

/// Exact classification of how segments a–b and c–d meet (intersection points of proper
/// crossings are rounded).
pub fn meet(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>, d: Coord<f64>) -> Meet {
    if a.x.max(b.x) < c.x.min(d.x)
        || c.x.max(d.x) < a.x.min(b.x)
        || a.y.max(b.y) < c.y.min(d.y)
        || c.y.max(d.y) < a.y.min(b.y)
    {
        return Meet::Disjoint;
    }
    let (o1, o2, o3, o4) = (
        orient(a, b, c),
        orient(a, b, d),
        orient(c, d, a),
        orient(c, d, b),
    );
    if o1 == 0.0 && o2 == 0.0 {
        // Collinear: overlap of positive length?
        let on: Vec<Coord<f64>> = [c, d]
            .into_iter()
            .filter(|&p| within_box(p, a, b))
            .chain([a, b].into_iter().filter(|&p| within_box(p, c, d)))
            .collect();
        let mut distinct = on.clone();
        distinct.sort_by(|p, q| p.x.total_cmp(&q.x).then(p.y.total_cmp(&q.y)));
        distinct.dedup();
        return match distinct.len() {
            0 => Meet::Disjoint,
            1 => Meet::Touch(distinct[0]),
            _ => Meet::Overlap(distinct[0]),
        };
    }
    if o1 * o2 < 0.0 && o3 * o4 < 0.0 {
        return Meet::Proper(intersection_point(a, b, c, d));
    }
    for (o, p, s0, s1) in [(o1, c, a, b), (o2, d, a, b), (o3, a, c, d), (o4, b, c, d)] {
        if o == 0.0 && within_box(p, s0, s1) {
            return Meet::Touch(p);
        }
    }
    Meet::Disjoint
}

/// Intersection point of the lines through a–b and c–d (rounded; callers know they cross).
pub fn intersection_point(
    a: Coord<f64>,
    b: Coord<f64>,
    c: Coord<f64>,
    d: Coord<f64>,
) -> Coord<f64> {
    let (rx, ry) = (b.x - a.x, b.y - a.y);
    let (sx, sy) = (d.x - c.x, d.y - c.y);
    let den = rx * sy - ry * sx;
    if den == 0.0 {
        return a;
    }
    let t = ((c.x - a.x) * sy - (c.y - a.y) * sx) / den;
    let t = t.clamp(0.0, 1.0);
    Coord {
        x: a.x + t * rx,
        y: a.y + t * ry,
    }
}

#[derive(Clone, Copy)]
struct Seg {
    /// The sweep's sort key, `min(a.x, b.x)`.
    x0: f64,
    poly: usize,
    ring: usize,
    i: usize,
    n: usize,
    a: Coord<f64>,
    b: Coord<f64>,
}

/// Working memory for [`check_with`], reused from one grid to the next so that checking a
/// large layer does not allocate per grid.
#[derive(Default)]
pub struct CheckScratch {
    segs: Vec<Seg>,
    pts: Vec<Coord<f64>>,
}

/// Whether two consecutive segments of a ring can share more than their common vertex: only
/// when the three points are collinear (a spike turns back; a straight run is harmless). A
/// single orientation test instead of [`meet`]'s four, for the pair every vertex forms.
#[inline]
fn adjacent_may_overlap(s: &Seg, t: &Seg) -> bool {
    let (u, v, w) = if s.b == t.a {
        (s.a, s.b, t.b)
    } else if s.a == t.b {
        (s.b, s.a, t.a)
    } else {
        return true;
    };
    orient(u, v, w) == 0.0
}

/// A segment's bounding box `[min x, max x, min y, max y]`.
#[inline]
fn seg_box(s: &Seg) -> [f64; 4] {
    [
        s.a.x.min(s.b.x),
        s.a.x.max(s.b.x),
        s.a.y.min(s.b.y),
        s.a.y.max(s.b.y),
    ]
}

fn ring_name(poly: usize, ring: usize, multi: bool) -> String {
    let r = if ring == 0 {
        "exterior ring".to_string()
    } else {
        format!("hole {}", ring - 1)
    };
    if multi {
        format!("polygon {poly} {r}")
    } else {
        r
    }
}

/// Checks a grid's geometry; an empty vector means valid.
pub fn check(mp: &MultiPolygon<f64>) -> Vec<Problem> {
    check_with(mp, &mut CheckScratch::default())
}

/// [`check`] with working memory that the caller keeps across grids.
pub fn check_with(mp: &MultiPolygon<f64>, scratch: &mut CheckScratch) -> Vec<Problem> {
    let mut out = Vec::new();
    let multi = mp.0.len() > 1;
    let CheckScratch { segs, pts } = scratch;
    segs.clear();
    for (pi, poly) in mp.0.iter().enumerate() {
        for (ri, ring) in std::iter::once(poly.exterior())
            .chain(poly.interiors())
            .enumerate()
        {
            pts.clear();
            pts.extend_from_slice(&ring.0);
            pts.dedup();
            let name = ring_name(pi, ri, multi);
            let start = pts.first().copied().unwrap_or(Coord::zero());
            if pts.len() < 4 {
                out.push(Problem {
                    reason: format!("{name} has fewer than 3 distinct points"),
                    location: start,
                });
                continue;
            }
            if signed_area(pts) == 0.0 && all_collinear(pts) {
                out.push(Problem {
                    reason: format!("{name} has zero area"),
                    location: start,
                });
                continue;
            }
            let n = pts.len() - 1;
            for i in 0..n {
                segs.push(Seg {
                    x0: pts[i].x.min(pts[i + 1].x),
                    poly: pi,
                    ring: ri,
                    i,
                    n,
                    a: pts[i],
                    b: pts[i + 1],
                });
            }
        }
    }
    if !out.is_empty() {
        return out;
    }
    // Sweep along x: segments ordered by their least x (ties in ring order: they were pushed
    // in ring order and the sort is stable), each compared with the following ones until they
    // start beyond its greatest x, and only where their y ranges meet too.
    segs.sort_by(|s, t| s.x0.total_cmp(&t.x0));
    let mut seen = std::collections::HashSet::new();
    'outer: for (k, s) in segs.iter().enumerate() {
        let [_, maxx, miny, maxy] = seg_box(s);
        for t in &segs[k + 1..] {
            let tb = seg_box(t);
            if tb[0] > maxx {
                break;
            }
            if tb[2] > maxy || tb[3] < miny {
                continue;
            }
            if s.poly == t.poly
                && s.ring == t.ring
                && (s.i.abs_diff(t.i) == 1 || s.i.abs_diff(t.i) == s.n - 1)
                && !adjacent_may_overlap(s, t)
            {
                // Neighbours along a ring that turn (not back on themselves) only touch.
                continue;
            }
            let m = meet(s.a, s.b, t.a, t.b);
            if m == Meet::Disjoint {
                continue;
            }
            let same_ring = s.poly == t.poly && s.ring == t.ring;
            let adjacent = same_ring && (s.i.abs_diff(t.i) == 1 || s.i.abs_diff(t.i) == s.n - 1);
            let (kind, at) = match m {
                Meet::Disjoint => continue,
                Meet::Overlap(p) if adjacent => ("spike", p),
                Meet::Touch(_) if adjacent => continue,
                Meet::Proper(p) | Meet::Touch(p) | Meet::Overlap(p) if same_ring => ("self", p),
                Meet::Touch(_) => continue,
                Meet::Proper(p) | Meet::Overlap(p) => ("cross", p),
            };
            let (lo, hi) = if (s.poly, s.ring) <= (t.poly, t.ring) {
                (s, t)
            } else {
                (t, s)
            };
            if !seen.insert((kind, lo.poly, lo.ring, hi.poly, hi.ring)) {
                continue;
            }
            let reason = match kind {
                "spike" => format!(
                    "{} has a spike (turns back on itself)",
                    ring_name(s.poly, s.ring, multi)
                ),
                "self" => format!("{} self-intersects", ring_name(s.poly, s.ring, multi)),
                _ if lo.poly != hi.poly => format!(
                    "polygons {} and {} of the multipolygon overlap or share an edge",
                    lo.poly, hi.poly
                ),
                _ => format!(
                    "{} and {} cross or share an edge",
                    ring_name(lo.poly, lo.ring, multi),
                    ring_name(hi.poly, hi.ring, multi)
                ),
            };
            out.push(Problem {
                reason,
                location: at,
            });
            if out.len() >= MAX_PROBLEMS {
                break 'outer;
            }
        }
    }
    if !out.is_empty() {
        return out;
    }
    // No crossings: containment decides the rest.
    for (pi, poly) in mp.0.iter().enumerate() {
        let shell = &poly.exterior().0;
        for (hi, hole) in poly.interiors().iter().enumerate() {
            if let Some(p) = vertex_off(&hole.0, shell)
                && !crate::spatial::dissolve::point_in_ring(p, shell)
            {
                out.push(Problem {
                    reason: format!(
                        "{} lies outside the exterior ring",
                        ring_name(pi, hi + 1, multi)
                    ),
                    location: p,
                });
            }
            for (hj, other) in poly.interiors().iter().enumerate() {
                if hi != hj
                    && let Some(p) = vertex_off(&hole.0, &other.0)
                    && crate::spatial::dissolve::point_in_ring(p, &other.0)
                {
                    out.push(Problem {
                        reason: format!(
                            "{} lies inside {}",
                            ring_name(pi, hi + 1, multi),
                            ring_name(pi, hj + 1, multi)
                        ),
                        location: p,
                    });
                }
            }
        }
        for (pj, other) in mp.0.iter().enumerate() {
            if pi == pj {
                continue;
            }
            if let Some(p) = vertex_off(&poly.exterior().0, &other.exterior().0) {
                let in_other = crate::spatial::dissolve::point_in_ring(p, &other.exterior().0)
                    && !other
                        .interiors()
                        .iter()
                        .any(|h| crate::spatial::dissolve::point_in_ring(p, &h.0));
                if in_other {
                    out.push(Problem {
                        reason: format!("polygons {pi} and {pj} of the multipolygon overlap"),
                        location: p,
                    });
                }
            }
        }
    }
    out.truncate(MAX_PROBLEMS);
    out
}

fn all_collinear(pts: &[Coord<f64>]) -> bool {
    let a = pts[0];
    match pts.iter().find(|&&p| p != a) {
        None => true,
        Some(&b) => pts.iter().all(|&p| orient(a, b, p) == 0.0),
    }
}

/// A vertex of `ring` that is not on `other` (exactly), if any.
fn vertex_off(ring: &[Coord<f64>], other: &[Coord<f64>]) -> Option<Coord<f64>> {
    ring.iter().copied().find(|&p| {
        !other
            .windows(2)
            .any(|w| orient(w[0], w[1], p) == 0.0 && within_box(p, w[0], w[1]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{LineString, Polygon};

    fn poly(ext: &[(f64, f64)], holes: &[&[(f64, f64)]]) -> MultiPolygon<f64> {
        let ls = |r: &[(f64, f64)]| LineString(r.iter().map(|&(x, y)| Coord { x, y }).collect());
        MultiPolygon(vec![Polygon::new(
            ls(ext),
            holes.iter().map(|h| ls(h)).collect(),
        )])
    }

    #[test]
    fn valid_square_with_hole() {
        let p = poly(
            &[(0., 0.), (4., 0.), (4., 4.), (0., 4.), (0., 0.)],
            &[&[(1., 1.), (1., 2.), (2., 2.), (2., 1.), (1., 1.)]],
        );
        assert!(check(&p).is_empty());
    }

    #[test]
    fn reused_scratch_gives_the_answers_of_a_fresh_one() {
        // A grid's leftover segments or points must never leak into the next grid's check.
        let grids = [
            poly(&[(0., 0.), (2., 2.), (2., 0.), (0., 2.), (0., 0.)], &[]),
            poly(&[(0., 0.), (4., 0.), (4., 4.), (0., 4.), (0., 0.)], &[]),
            poly(&[(5., 5.), (6., 5.), (6., 5.), (5., 5.)], &[]),
            poly(
                &[(0., 0.), (4., 0.), (4., 4.), (0., 4.), (0., 0.)],
                &[&[(1., 1.), (3., 3.), (3., 1.), (1., 3.), (1., 1.)]],
            ),
            poly(&[(10., 10.), (11., 10.), (11., 11.), (10., 10.)], &[]),
        ];
        let mut scratch = CheckScratch::default();
        for g in grids.iter().chain(grids.iter().rev()) {
            assert_eq!(check_with(g, &mut scratch), check(g));
        }
        assert!(check(&grids[1]).is_empty() && check(&grids[4]).is_empty());
        assert!(!check(&grids[0]).is_empty() && !check(&grids[3]).is_empty());
    }

    #[test]
    fn bowtie_self_intersects_at_the_crossing() {
        let p = poly(&[(0., 0.), (2., 2.), (2., 0.), (0., 2.), (0., 0.)], &[]);
        let probs = check(&p);
        assert_eq!(probs.len(), 1);
        assert!(probs[0].reason.contains("self-intersects"));
        assert_eq!(probs[0].location, Coord { x: 1.0, y: 1.0 });
    }

    #[test]
    fn spike_zero_area_and_too_few_points() {
        let spike = poly(
            &[
                (0., 0.),
                (2., 0.),
                (2., 2.),
                (2., 3.),
                (2., 2.),
                (0., 2.),
                (0., 0.),
            ],
            &[],
        );
        assert!(
            check(&spike).iter().any(|p| p.reason.contains("spike")),
            "{:?}",
            check(&spike)
        );
        let flat = poly(&[(0., 0.), (1., 0.), (2., 0.), (0., 0.)], &[]);
        assert!(check(&flat)[0].reason.contains("zero area"));
        let few = poly(&[(0., 0.), (1., 0.), (1., 0.), (0., 0.)], &[]);
        assert!(check(&few)[0].reason.contains("fewer than 3"));
    }

    #[test]
    fn hole_outside_and_crossing_rings() {
        let outside = poly(
            &[(0., 0.), (4., 0.), (4., 4.), (0., 4.), (0., 0.)],
            &[&[(5., 5.), (5., 6.), (6., 6.), (6., 5.), (5., 5.)]],
        );
        let r = check(&outside);
        assert!(r[0].reason.contains("hole 0 lies outside"), "{r:?}");
        assert_eq!(r[0].location, Coord { x: 5.0, y: 5.0 });
        let crossing = poly(
            &[(0., 0.), (4., 0.), (4., 4.), (0., 4.), (0., 0.)],
            &[&[(3., 1.), (3., 2.), (5., 2.), (5., 1.), (3., 1.)]],
        );
        assert!(check(&crossing)[0].reason.contains("cross"));
    }

    #[test]
    fn touching_hole_is_allowed() {
        let p = poly(
            &[(0., 0.), (4., 0.), (4., 4.), (0., 4.), (0., 0.)],
            &[&[(0., 2.), (1., 3.), (1., 1.), (0., 2.)]],
        );
        assert!(check(&p).is_empty(), "{:?}", check(&p));
    }
}
