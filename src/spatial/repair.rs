//! Coverage repair in the spirit of JTS/GEOS `CoverageCleaner`: snap, node, rebuild faces, give
//! each overlap and each narrow gap to one grid, dissolve.
//!
//! 1. Vertices closer than the snapping distance are merged (a cluster takes its most shared
//!    vertex, boundary vertices first, then the smallest coordinate).
//! 2. The linework is noded: a vertex lying on (or within the snapping distance of) another
//!    grid's segment is inserted into that segment, and crossing segments get their crossing
//!    point; repeated until nothing changes.
//! 3. The noded edges form a planar graph whose faces are traced. Each face belongs to the grids
//!    whose polygons contain it: one owner keeps it; an overlap face goes to the owner with the
//!    longest border against the face (ties: the earlier grid); a face covered by no grid is a
//!    gap, merged into the neighbour with the longest shared border when narrower than the gap
//!    width, otherwise left and reported. With a boundary, faces outside it are dropped.
//! 4. Each grid is the dissolve of its faces, so neighbours share identical vertices.

use crate::spatial::coverage::{MIN_AREA_M2, Progress};
use crate::spatial::dissolve::{assemble, point_in_ring, trace_rings};
use crate::spatial::layer::{GridLayer, signed_area};
use crate::spatial::measure::{LocalMetric, area_m2, polygon_area_m2, width_m};
use crate::spatial::rings::{EKey, VKey, vkey as bits};
use crate::spatial::validity::{Meet, meet};
use geo::InteriorPoint;
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use rstar::{RTree, RTreeObject as _, primitives::GeomWithData, primitives::Rectangle};
use std::collections::{HashMap, HashSet};

/// Which grid an overlap goes to (JTS/GEOS `CoverageCleaner` merge strategies). Candidates are
/// the grids covering the overlap, taken in input order; a later one replaces the current
/// choice only when strictly better, so ties go to the earliest grid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MergeStrategy {
    /// The grid with the longest border against the overlap (the default).
    #[default]
    LongestBorder,
    /// The grid with the largest area assigned so far (overlaps merged earlier included).
    MaxArea,
    /// The grid with the smallest area assigned so far.
    MinArea,
    /// The earliest grid in input order.
    MinIndex,
}

impl std::str::FromStr for MergeStrategy {
    type Err = String;
    fn from_str(s: &str) -> Result<MergeStrategy, String> {
        match s {
            "longest-border" => Ok(MergeStrategy::LongestBorder),
            "max-area" => Ok(MergeStrategy::MaxArea),
            "min-area" => Ok(MergeStrategy::MinArea),
            "min-index" => Ok(MergeStrategy::MinIndex),
            other => Err(format!(
                "unknown merge strategy {other:?}: expected longest-border, max-area, min-area or min-index"
            )),
        }
    }
}

/// Options for [`repair`].
#[derive(Debug, Clone, Default)]
pub struct RepairOptions {
    /// Area the grids must cover exactly; `None` means the grids' own union.
    pub boundary: Option<MultiPolygon<f64>>,
    /// Vertices and segments closer than this many metres are snapped together.
    pub snap_m: f64,
    /// Gaps narrower than this many metres are merged into a neighbour.
    pub gap_width_m: f64,
    /// Which grid each overlap goes to.
    pub merge: MergeStrategy,
}

/// What happened to one grid.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Change {
    /// Grid key.
    pub grid: String,
    /// Area before, m².
    pub area_before_m2: f64,
    /// Area after, m².
    pub area_after_m2: f64,
    /// True when the grid lost all its area (it is left out of the output).
    pub removed: bool,
}

/// A gap too wide to merge, left for a planner.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OpenGap {
    /// Area, m².
    pub area_m2: f64,
    /// Narrowest width, m.
    pub width_m: f64,
    /// A point inside it, `[lon, lat]`.
    pub at: [f64; 2],
}

/// Output of [`repair`].
#[derive(Debug, Clone)]
pub struct Repaired {
    /// The repaired layer (same keys and properties; grids that lost all area are left out).
    pub layer: GridLayer,
    /// Grids whose area changed (by more than 1 cm² and one part in a million), in input order.
    pub changes: Vec<Change>,
    /// Gaps wider than the gap width, not filled.
    pub open_gaps: Vec<OpenGap>,
}

/// Why a repair could not be done.
#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    /// Keys must be unique so the output can be matched to the input.
    #[error(transparent)]
    Layer(#[from] crate::spatial::layer::LayerError),
    /// A tolerance is negative or not a number.
    #[error("{0} must be a finite number ≥ 0, got {1}")]
    BadTolerance(&'static str, f64),
}

type Ring = Vec<Coord<f64>>;
/// Owner of rings: grid index, or `usize::MAX` for the boundary.
const BOUNDARY: usize = usize::MAX;

/// Repairs a grid layer; see the module docs.
pub fn repair(layer: &GridLayer, opts: &RepairOptions) -> Result<Repaired, RepairError> {
    repair_with(layer, opts, &())
}

/// [`repair`] reporting its stages to `progress`.
pub fn repair_with(
    layer: &GridLayer,
    opts: &RepairOptions,
    progress: &dyn Progress,
) -> Result<Repaired, RepairError> {
    layer.ensure_unique_keys()?;
    for (name, v) in [
        ("snap distance", opts.snap_m),
        ("gap width", opts.gap_width_m),
    ] {
        if !v.is_finite() || v < 0.0 {
            return Err(RepairError::BadTolerance(name, v));
        }
    }
    let all = MultiPolygon(
        layer
            .grids
            .iter()
            .flat_map(|g| g.geometry.0.iter().cloned())
            .collect(),
    );
    let lm = LocalMetric::around(&all);

    // Rings with their owners; every polygon's rings kept in order (exterior first).
    let mut rings: Vec<(usize, usize, Ring)> = Vec::new(); // (owner, polygon serial, ring)
    let mut serial = 0;
    for (g, grid) in layer.grids.iter().enumerate() {
        for p in &grid.geometry.0 {
            for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                rings.push((g, serial, r.0.clone()));
            }
            serial += 1;
        }
    }
    if let Some(b) = &opts.boundary {
        for p in &b.0 {
            for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                rings.push((BOUNDARY, serial, r.0.clone()));
            }
            serial += 1;
        }
    }

    progress.stage("snapping vertices");
    let mut nodes = Vec::new();
    if opts.snap_m > 0.0 {
        nodes = snap_vertices(&mut rings, &lm, opts.snap_m, &[]);
    }
    progress.stage("noding edges");
    let input_vertices: HashSet<VKey> = nodes.iter().map(|&c| bits(c)).collect();
    for _ in 0..8 {
        if !node_once(&mut rings, &lm, opts.snap_m, &input_vertices) {
            break;
        }
        // Inserted points may land within the tolerance of existing vertices: snap them onto
        // those (which stay where they are), so the next pass does not chase near-duplicates.
        if opts.snap_m > 0.0 {
            nodes = snap_vertices(&mut rings, &lm, opts.snap_m, &nodes);
        }
    }
    for r in &mut rings {
        r.2.dedup();
    }

    progress.stage("building faces");
    let faces = build_faces(&rings);

    // Polygons of each owner after noding, for face ownership tests.
    let mut polys: HashMap<(usize, usize), Vec<&Ring>> = HashMap::new();
    for (owner, s, r) in &rings {
        polys.entry((*owner, *s)).or_default().push(r);
    }
    let mut poly_list: Vec<(usize, Vec<&Ring>)> = polys
        .into_iter()
        .filter(|(_, rs)| rs[0].len() >= 4)
        .map(|((o, _), rs)| (o, rs))
        .collect();
    poly_list.sort_by_key(|(o, rs)| (*o, bits(rs[0][0])));
    let tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>> = RTree::bulk_load(
        poly_list
            .iter()
            .enumerate()
            .map(|(i, (_, rs))| {
                let (lo, hi) = ring_bbox(rs[0]);
                GeomWithData::new(Rectangle::from_corners(lo, hi), i)
            })
            .collect(),
    );

    progress.stage("assigning faces");
    let n_faces = faces.polys.len();
    let mut owners: Vec<Vec<usize>> = vec![Vec::new(); n_faces];
    let mut in_boundary = vec![opts.boundary.is_none(); n_faces];
    for (f, poly) in faces.polys.iter().enumerate() {
        let Some(pt) = poly.interior_point() else {
            continue;
        };
        let p = pt.0;
        for e in tree.locate_all_at_point(&[p.x, p.y]) {
            let (owner, rs) = &poly_list[e.data];
            let inside = point_in_ring(p, rs[0]) && !rs[1..].iter().any(|h| point_in_ring(p, h));
            if inside {
                if *owner == BOUNDARY {
                    in_boundary[f] = true;
                } else if !owners[f].contains(owner) {
                    owners[f].push(*owner);
                }
            }
        }
        owners[f].sort_unstable();
    }

    const NONE: usize = usize::MAX;
    let mut assigned = vec![NONE; n_faces];
    for f in 0..n_faces {
        if in_boundary[f] && owners[f].len() == 1 {
            assigned[f] = owners[f][0];
        }
    }
    // Overlaps, by the merge strategy (areas and borders count the faces assigned so far).
    // Areas so far matter only to the area strategies: measure only for them.
    let by_area = matches!(opts.merge, MergeStrategy::MaxArea | MergeStrategy::MinArea);
    let mut assigned_area: HashMap<usize, f64> = HashMap::new();
    if by_area {
        for (f, &g) in assigned.iter().enumerate() {
            if g != NONE {
                *assigned_area.entry(g).or_default() += polygon_area_m2(&faces.polys[f]);
            }
        }
    }
    for f in 0..n_faces {
        if !in_boundary[f] || owners[f].len() < 2 {
            continue;
        }
        let area_of = |g: usize| assigned_area.get(&g).copied().unwrap_or(0.0);
        let pick = match opts.merge {
            MergeStrategy::LongestBorder => {
                pick_longest(&owners[f], &border_lengths(&faces, f, &assigned, &lm))
            }
            MergeStrategy::MinIndex => owners[f][0],
            MergeStrategy::MaxArea | MergeStrategy::MinArea => {
                let mut best = owners[f][0];
                for &c in &owners[f][1..] {
                    let better = if opts.merge == MergeStrategy::MaxArea {
                        area_of(c) > area_of(best)
                    } else {
                        area_of(c) < area_of(best)
                    };
                    if better {
                        best = c;
                    }
                }
                best
            }
        };
        assigned[f] = pick;
        if by_area {
            *assigned_area.entry(pick).or_default() += polygon_area_m2(&faces.polys[f]);
        }
    }
    // Gaps: faces inside the boundary (or inside the grids' outline) covered by nobody.
    let mut open_gaps = Vec::new();
    let mut gap_faces: Vec<usize> = (0..n_faces)
        .filter(|&f| owners[f].is_empty() && in_boundary[f])
        .collect();
    gap_faces.sort_by(|&a, &b| {
        polygon_area_m2(&faces.polys[a]).total_cmp(&polygon_area_m2(&faces.polys[b]))
    });
    for f in gap_faces {
        let poly = &faces.polys[f];
        let area = polygon_area_m2(poly);
        let width = width_m(poly, 0.005);
        if width < opts.gap_width_m || area < MIN_AREA_M2 {
            let borders = border_lengths(&faces, f, &assigned, &lm);
            let mut cands: Vec<usize> = borders.keys().copied().collect();
            cands.sort_unstable();
            if !cands.is_empty() {
                assigned[f] = pick_longest(&cands, &borders);
                continue;
            }
        }
        if area >= MIN_AREA_M2 {
            let at = poly
                .interior_point()
                .map(|p| [p.x(), p.y()])
                .unwrap_or_default();
            open_gaps.push(OpenGap {
                area_m2: area,
                width_m: width,
                at,
            });
        }
    }

    progress.stage("dissolving grids");
    let mut edges_of: Vec<Vec<(Coord<f64>, Coord<f64>)>> = vec![Vec::new(); layer.grids.len()];
    for (f, &g) in assigned.iter().enumerate() {
        if g == NONE {
            continue;
        }
        for r in std::iter::once(faces.polys[f].exterior()).chain(faces.polys[f].interiors()) {
            for w in r.0.windows(2) {
                edges_of[g].push((w[0], w[1]));
            }
        }
    }
    let mut out = GridLayer::default();
    let mut changes = Vec::new();
    for (g, grid) in layer.grids.iter().enumerate() {
        let geom = assemble(trace_rings(&edges_of[g]));
        let before = area_m2(&grid.geometry);
        let after = area_m2(&geom);
        let removed = geom.0.is_empty();
        // Geodesic areas move by ~1e-7 relative when a vertex is inserted on a straight edge;
        // that is noding, not a change.
        if (after - before).abs() > MIN_AREA_M2.max(1e-6 * before) || removed {
            changes.push(Change {
                grid: grid.key.clone(),
                area_before_m2: before,
                area_after_m2: after,
                removed,
            });
        }
        if !removed {
            let mut ng = grid.clone();
            ng.geometry = geom;
            out.grids.push(ng);
        }
    }
    Ok(Repaired {
        layer: out,
        changes,
        open_gaps,
    })
}

fn pick_longest(cands: &[usize], borders: &HashMap<usize, f64>) -> usize {
    let mut best = cands[0];
    let mut best_len = -1.0;
    for &c in cands {
        let l = borders.get(&c).copied().unwrap_or(0.0);
        if l > best_len {
            best = c;
            best_len = l;
        }
    }
    best
}

fn ring_bbox(r: &[Coord<f64>]) -> ([f64; 2], [f64; 2]) {
    let mut lo = [f64::MAX; 2];
    let mut hi = [f64::MIN; 2];
    for c in r {
        lo = [lo[0].min(c.x), lo[1].min(c.y)];
        hi = [hi[0].max(c.x), hi[1].max(c.y)];
    }
    (lo, hi)
}

/// Snaps vertices as GEOS's snapping noder does: taken in order (the vertices in `fixed` first,
/// then the rings' in input order), each vertex either becomes a node or moves onto the nearest
/// node already placed within `tol_m` metres. No vertex moves more than `tol_m`, and vertices
/// farther apart than that never merge through a chain of near neighbours. Returns the nodes,
/// which later passes keep fixed.
fn snap_vertices(
    rings: &mut [(usize, usize, Ring)],
    lm: &LocalMetric,
    tol_m: f64,
    fixed: &[Coord<f64>],
) -> Vec<Coord<f64>> {
    let cell = |c: Coord<f64>| {
        let p = lm.to_xy(c);
        ((p.x / tol_m).floor() as i64, (p.y / tol_m).floor() as i64)
    };
    let mut nodes: Vec<Coord<f64>> = Vec::new();
    let mut grid: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    let mut snapped: HashMap<VKey, Coord<f64>> = HashMap::new();
    let mut place =
        |c: Coord<f64>, nodes: &mut Vec<Coord<f64>>, grid: &mut HashMap<(i64, i64), Vec<usize>>| {
            if snapped.contains_key(&bits(c)) {
                return;
            }
            let (cx, cy) = cell(c);
            let mut best: Option<(f64, usize)> = None;
            for dx in -1..=1 {
                for dy in -1..=1 {
                    for &n in grid.get(&(cx + dx, cy + dy)).into_iter().flatten() {
                        let d = lm.distance_m(c, nodes[n]);
                        if d <= tol_m && best.is_none_or(|(bd, bn)| d < bd || (d == bd && n < bn)) {
                            best = Some((d, n));
                        }
                    }
                }
            }
            let to = match best {
                Some((_, n)) => nodes[n],
                None => {
                    grid.entry((cx, cy)).or_default().push(nodes.len());
                    nodes.push(c);
                    c
                }
            };
            snapped.insert(bits(c), to);
        };
    for &c in fixed {
        place(c, &mut nodes, &mut grid);
    }
    // The boundary is the reference: its vertices are placed before the grids'.
    for pass in [true, false] {
        for (owner, _, r) in rings.iter() {
            if (*owner == BOUNDARY) == pass {
                for &c in &r[..r.len().saturating_sub(1)] {
                    place(c, &mut nodes, &mut grid);
                }
            }
        }
    }
    for (_, _, r) in rings.iter_mut() {
        for c in r.iter_mut() {
            if let Some(&to) = snapped.get(&bits(*c)) {
                *c = to;
            }
        }
        r.dedup();
    }
    nodes
}

/// One noding pass: inserts vertices that lie on other segments and the crossing points of
/// crossing segments. As in GEOS's snapping noder, only the input's vertices (after snapping:
/// `snapped`) are also inserted into segments passing within `tol_m` of them; a computed
/// crossing point is inserted only where it lies exactly on a segment, so it never drags a
/// third grid's edge across a gap. Returns whether anything changed.
fn node_once(
    rings: &mut [(usize, usize, Ring)],
    lm: &LocalMetric,
    tol_m: f64,
    snapped: &HashSet<VKey>,
) -> bool {
    let (tol_x, tol_y) = lm.degrees(tol_m);
    let mut segs = Vec::new();
    for (ri, (_, _, r)) in rings.iter().enumerate() {
        for i in 0..r.len().saturating_sub(1) {
            let (a, b) = (r[i], r[i + 1]);
            if a != b {
                segs.push(GeomWithData::new(
                    Rectangle::from_corners(
                        [a.x.min(b.x) - tol_x, a.y.min(b.y) - tol_y],
                        [a.x.max(b.x) + tol_x, a.y.max(b.y) + tol_y],
                    ),
                    (ri, i),
                ));
            }
        }
    }
    let tree = RTree::bulk_load(segs);
    let mut inserts: HashMap<(usize, usize), Vec<Coord<f64>>> = HashMap::new();
    let seg = |ri: usize, i: usize| (rings[ri].2[i], rings[ri].2[i + 1]);
    // Vertices on or near other segments.
    for (_, _, r) in rings.iter() {
        for &v in &r[..r.len().saturating_sub(1)] {
            for e in tree.locate_all_at_point(&[v.x, v.y]) {
                let (ri, i) = e.data;
                let (a, b) = seg(ri, i);
                if v == a || v == b {
                    continue;
                }
                let on = if tol_m > 0.0 && snapped.contains(&bits(v)) {
                    // Next to an end point the vertex is snapped instead, not inserted.
                    lm.distance_m(v, a) > tol_m
                        && lm.distance_m(v, b) > tol_m
                        && dist_m(lm, v, a, b) <= tol_m
                } else {
                    matches!(meet(a, b, v, v), Meet::Touch(_))
                };
                if on {
                    inserts.entry((ri, i)).or_default().push(v);
                }
            }
        }
    }
    // Proper crossings.
    for e in tree.iter() {
        let (ri, i) = e.data;
        let (a, b) = seg(ri, i);
        for o in tree.locate_in_envelope_intersecting(&e.geom().envelope()) {
            let (rj, j) = o.data;
            if (rj, j) <= (ri, i) {
                continue;
            }
            let (c, d) = seg(rj, j);
            if let Meet::Proper(p) = meet(a, b, c, d) {
                // A crossing next to an end point is that end point touching the other
                // segment, which the vertex pass above handles.
                if tol_m > 0.0 && [a, b, c, d].iter().any(|&e| lm.distance_m(p, e) <= tol_m) {
                    continue;
                }
                if p != a && p != b {
                    inserts.entry((ri, i)).or_default().push(p);
                }
                if p != c && p != d {
                    inserts.entry((rj, j)).or_default().push(p);
                }
            }
        }
    }
    if inserts.is_empty() {
        return false;
    }
    type Inserts = Vec<(usize, Vec<Coord<f64>>)>;
    let mut by_ring: HashMap<usize, Inserts> = HashMap::new();
    for ((ri, i), pts) in inserts {
        by_ring.entry(ri).or_default().push((i, pts));
    }
    for (ri, mut list) in by_ring {
        list.sort_by_key(|(i, _)| *i);
        let old = std::mem::take(&mut rings[ri].2);
        let mut new = Vec::with_capacity(old.len() + list.len());
        let mut k = 0;
        for i in 0..old.len() {
            new.push(old[i]);
            if k < list.len() && list[k].0 == i {
                let (a, b) = (old[i], old[i + 1]);
                let mut pts = std::mem::take(&mut list[k].1);
                let t = |p: &Coord<f64>| (p.x - a.x) * (b.x - a.x) + (p.y - a.y) * (b.y - a.y);
                pts.sort_by(|p, q| t(p).total_cmp(&t(q)));
                pts.dedup();
                new.extend(pts.into_iter().filter(|p| *p != a && *p != b));
                k += 1;
            }
        }
        new.dedup();
        rings[ri].2 = new;
    }
    true
}

fn dist_m(lm: &LocalMetric, p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
    crate::spatial::predicates::segment_distance_2(lm.to_xy(p), lm.to_xy(a), lm.to_xy(b)).sqrt()
}

/// Faces of the planar graph of all noded edges.
struct Faces {
    /// Face polygons (exterior CCW, holes CW).
    polys: Vec<Polygon<f64>>,
    /// For each undirected edge, the faces on its two sides (`usize::MAX` = outside).
    edge_faces: HashMap<EKey, (usize, usize)>,
    /// Edges of each face as undirected keys with their end points.
    face_edges: Vec<Vec<EKey>>,
    coords: HashMap<VKey, Coord<f64>>,
}

fn build_faces(rings: &[(usize, usize, Ring)]) -> Faces {
    let mut coords: HashMap<VKey, Coord<f64>> = HashMap::new();
    let mut undirected: Vec<EKey> = Vec::new();
    for (_, _, r) in rings {
        for w in r.windows(2) {
            if w[0] == w[1] {
                continue;
            }
            let (a, b) = (bits(w[0]), bits(w[1]));
            coords.insert(a, w[0]);
            coords.insert(b, w[1]);
            undirected.push(if a < b { (a, b) } else { (b, a) });
        }
    }
    undirected.sort_unstable();
    undirected.dedup();
    // Half-edges: 2k = a→b, 2k+1 = b→a.
    let half = |h: usize| {
        let (a, b) = undirected[h / 2];
        if h.is_multiple_of(2) { (a, b) } else { (b, a) }
    };
    let mut out: HashMap<VKey, Vec<usize>> = HashMap::new();
    for h in 0..undirected.len() * 2 {
        out.entry(half(h).0).or_default().push(h);
    }
    let angle = |from: VKey, to: VKey| {
        let (p, q) = (coords[&from], coords[&to]);
        (q.y - p.y).atan2(q.x - p.x)
    };
    // Sort each vertex's out-edges by angle so "next clockwise" is a lookup.
    let mut order: HashMap<usize, usize> = HashMap::new(); // half-edge -> position at its tail
    for list in out.values_mut() {
        list.sort_by(|&x, &y| {
            let (a, b) = (half(x), half(y));
            angle(a.0, a.1).total_cmp(&angle(b.0, b.1))
        });
        for (k, &h) in list.iter().enumerate() {
            order.insert(h, k);
        }
    }
    let mut face_of = vec![usize::MAX; undirected.len() * 2];
    let mut cycles: Vec<(Vec<Coord<f64>>, Vec<usize>)> = Vec::new();
    for start in 0..undirected.len() * 2 {
        if face_of[start] != usize::MAX {
            continue;
        }
        let id = cycles.len();
        let mut ring = vec![coords[&half(start).0]];
        let mut hs = Vec::new();
        let mut h = start;
        loop {
            face_of[h] = id;
            hs.push(h);
            let (_, head) = half(h);
            ring.push(coords[&head]);
            // Next: the out-edge at head just clockwise from the twin (sharpest left turn).
            let twin = h ^ 1;
            let list = &out[&head];
            let k = order[&twin];
            let next = list[(k + list.len() - 1) % list.len()];
            if next == start || face_of[next] != usize::MAX {
                break;
            }
            h = next;
        }
        cycles.push((ring, hs));
    }
    // Bounded faces are counter-clockwise cycles; clockwise cycles are holes of the smallest
    // counter-clockwise cycle around them, or the outside.
    let areas: Vec<f64> = cycles.iter().map(|(r, _)| signed_area(r)).collect();
    let mut shells: Vec<usize> = (0..cycles.len()).filter(|&c| areas[c] > 0.0).collect();
    shells.sort_by(|&a, &b| areas[a].total_cmp(&areas[b]));
    let mut face_id = vec![usize::MAX; cycles.len()];
    for (k, &c) in shells.iter().enumerate() {
        face_id[c] = k;
    }
    let mut holes: Vec<Vec<LineString<f64>>> = vec![Vec::new(); shells.len()];
    for c in 0..cycles.len() {
        if areas[c] >= 0.0 {
            continue;
        }
        let probe = cycles[c].0[0];
        if let Some(k) = shells
            .iter()
            .position(|&s| point_in_ring(probe, &cycles[s].0) && !cycles[s].0.contains(&probe))
        {
            face_id[c] = k;
            holes[k].push(LineString(cycles[c].0.clone()));
        }
    }
    let polys: Vec<Polygon<f64>> = shells
        .iter()
        .zip(holes)
        .map(|(&s, hs)| Polygon::new(LineString(cycles[s].0.clone()), hs))
        .collect();
    let mut edge_faces = HashMap::new();
    let mut face_edges = vec![Vec::new(); polys.len()];
    for (k, e) in undirected.iter().enumerate() {
        let f0 = face_id[face_of[2 * k]];
        let f1 = face_id[face_of[2 * k + 1]];
        edge_faces.insert(*e, (f0, f1));
        for f in [f0, f1] {
            if f != usize::MAX {
                face_edges[f].push(*e);
            }
        }
    }
    Faces {
        polys,
        edge_faces,
        face_edges,
        coords,
    }
}

/// Length (metres) of face `f`'s border with faces assigned to each grid.
fn border_lengths(
    faces: &Faces,
    f: usize,
    assigned: &[usize],
    lm: &LocalMetric,
) -> HashMap<usize, f64> {
    let mut out: HashMap<usize, f64> = HashMap::new();
    for e in &faces.face_edges[f] {
        let (f0, f1) = faces.edge_faces[e];
        let other = if f0 == f { f1 } else { f0 };
        if other == usize::MAX || other == f || assigned[other] == usize::MAX {
            continue;
        }
        let len = lm.distance_m(faces.coords[&e.0], faces.coords[&e.1]);
        *out.entry(assigned[other]).or_default() += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spatial::coverage::{CoverageOptions, validate_coverage};
    use crate::spatial::layer::Grid;
    use geo_types::polygon;

    const D: f64 = 0.001;

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
        polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)]
    }

    fn layer(polys: Vec<Polygon<f64>>) -> GridLayer {
        GridLayer {
            grids: polys
                .into_iter()
                .enumerate()
                .map(|(i, p)| Grid {
                    key: format!("g{i}"),
                    index: i,
                    geometry: MultiPolygon(vec![p]),
                    properties: Default::default(),
                })
                .collect(),
        }
    }

    // Lattice lines computed once per index, so neighbours share bit-identical vertices.
    fn gx(i: usize) -> f64 {
        118.0 + i as f64 * D
    }
    fn gy(j: usize) -> f64 {
        36.8 + j as f64 * D
    }

    fn lattice(n: usize) -> Vec<Polygon<f64>> {
        let mut v = Vec::new();
        for i in 0..n {
            for j in 0..n {
                v.push(rect(gx(i), gy(j), gx(i + 1), gy(j + 1)));
            }
        }
        v
    }

    fn assert_seamless(l: &GridLayer) {
        let rep = validate_coverage(l, &CoverageOptions::default());
        assert!(rep.valid, "{}", rep.to_text());
    }

    #[test]
    fn clean_layer_is_unchanged_in_area() {
        let out = repair(&layer(lattice(3)), &RepairOptions::default()).unwrap();
        assert!(out.changes.is_empty(), "{:?}", out.changes);
        assert_seamless(&out.layer);
    }

    #[test]
    fn overlap_goes_to_one_grid_and_t_junctions_are_noded() {
        let mut cells = lattice(3);
        cells[0] = rect(gx(0), gy(0), 118.0 + 1.25 * D, gy(1));
        let out = repair(&layer(cells), &RepairOptions::default()).unwrap();
        assert_seamless(&out.layer);
        assert_eq!(out.layer.grids.len(), 9);
        assert_eq!(out.changes.len(), 1, "{:?}", out.changes);
    }

    #[test]
    fn narrow_gap_is_merged_wide_gap_is_left() {
        let mut cells = lattice(3);
        cells[4] = rect(gx(1), gy(1), 118.0 + 1.9 * D, gy(2)); // 0.1 D ≈ 9 m gap
        let l = layer(cells.clone());
        let out = repair(
            &l,
            &RepairOptions {
                gap_width_m: 20.0,
                ..Default::default()
            },
        )
        .unwrap();
        assert_seamless(&out.layer);
        assert!(out.open_gaps.is_empty());
        let narrow = repair(
            &l,
            &RepairOptions {
                gap_width_m: 5.0,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(narrow.open_gaps.len(), 1);
    }

    #[test]
    fn snapping_moves_no_vertex_further_than_the_distance() {
        // Three grids whose corners near (gx(1), gy(1)) lie 0.6 S apart in a row: a chain of
        // near neighbours spanning 1.2 S. No vertex may move more than S.
        let lm = LocalMetric::new(gx(1), gy(1));
        let s_m = 1.0;
        let (dx, _) = lm.degrees(0.6 * s_m);
        let corner = |k: f64| Coord {
            x: gx(1) + k * dx,
            y: gy(1),
        };
        let tri = |a: Coord<f64>, b: Coord<f64>, c: Coord<f64>| {
            Polygon::new(LineString(vec![a, b, c, a]), vec![])
        };
        let south = Coord { x: gx(1), y: gy(0) };
        let north = Coord { x: gx(1), y: gy(2) };
        let polys = vec![
            tri(corner(0.0), south, Coord { x: gx(2), y: gy(1) }),
            tri(corner(1.0), Coord { x: gx(0), y: gy(1) }, south),
            tri(corner(2.0), north, Coord { x: gx(0), y: gy(1) }),
        ];
        let before: Vec<Coord<f64>> = (0..3).map(|k| corner(k as f64)).collect();
        let out = repair(
            &layer(polys),
            &RepairOptions {
                snap_m: s_m,
                ..Default::default()
            },
        )
        .unwrap();
        for (g, start) in out.layer.grids.iter().zip(&before) {
            // The grid's vertex nearest its original corner moved at most S.
            let moved = g.geometry.0[0]
                .exterior()
                .0
                .iter()
                .map(|c| lm.distance_m(*c, *start))
                .fold(f64::INFINITY, f64::min);
            assert!(moved <= s_m * (1.0 + 1e-9), "{}: moved {moved} m", g.key);
        }
    }

    #[test]
    fn snapping_closes_near_misses() {
        let mut cells = lattice(2);
        let e = 1e-7; // ≈ 1 cm
        cells[0] = rect(gx(0), gy(0), gx(1) - e, gy(1));
        let out = repair(
            &layer(cells),
            &RepairOptions {
                snap_m: 0.05,
                ..Default::default()
            },
        )
        .unwrap();
        assert_seamless(&out.layer);
    }

    #[test]
    fn duplicate_grid_is_removed_and_reported() {
        let mut cells = lattice(2);
        cells.push(cells[0].clone());
        let out = repair(&layer(cells), &RepairOptions::default()).unwrap();
        assert_seamless(&out.layer);
        assert!(out.changes.iter().any(|c| c.removed && c.grid == "g4"));
    }
}
