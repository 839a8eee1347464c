//! A planner's edits to a grid layer, applied in order to make a new version: replace a grid's
//! boundary, add or remove a grid, merge grids, split a grid along a line.
//!
//! Edits keep the coverage's shared edges matched where they can: a merge dissolves the edges
//! the grids share (coverage union, [`super::coverage::union`]); a split cuts a grid along the
//! planner's line and inserts the two points where the line crosses the boundary into every
//! neighbour whose edge they cut, so the neighbours' edges still match (JTS's coverage rule:
//! shared edges have the same vertices). What an edit cannot guarantee — a redrawn boundary
//! that no longer meets its neighbour — is for validation and repair to find.

use super::coverage::{CoverageReport, union};
use super::layer::{Grid, GridLayer};
use super::measure::area_m2;
use geo::orient::{Direction, Orient};
use geo::{Contains, Intersects};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::{Map, Value};

/// One edit.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Give grid `grid` a new boundary (properties kept).
    Replace {
        /// Grid key.
        grid: String,
        /// The new boundary, WGS 84.
        geometry: MultiPolygon<f64>,
    },
    /// Add a grid.
    Add {
        /// Its key (grid code).
        grid: String,
        /// Its boundary, WGS 84.
        geometry: MultiPolygon<f64>,
        /// Its properties (name, community, street, …).
        properties: Map<String, Value>,
    },
    /// Remove a grid.
    Remove {
        /// Grid key.
        grid: String,
    },
    /// Merge grids into the first one: the union of their boundaries, the first grid's
    /// properties, with `population` and `households` summed.
    Merge {
        /// Grid keys, at least two; the first one is kept.
        grids: Vec<String>,
    },
    /// Cut a grid in two along a line that crosses its outer boundary exactly twice. The part
    /// left of the line's direction keeps `codes[0]`, the other gets `codes[1]`; both keep
    /// the grid's properties, `population` and `households` shared by area.
    Split {
        /// Grid key.
        grid: String,
        /// The cut, WGS 84; it may start and end outside the grid.
        line: LineString<f64>,
        /// Keys of the two parts.
        codes: [String; 2],
    },
}

/// Why an edit cannot be applied (each names the edit, 1-based, and the grid).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EditError {
    /// No grid with this key.
    #[error("edit {0}: no grid {1:?} in the layer")]
    UnknownGrid(usize, String),
    /// The key is taken.
    #[error("edit {0}: grid code {1:?} is already used")]
    KeyTaken(usize, String),
    /// Grids to merge that do not form one piece.
    #[error("edit {0}: grids {1} do not share an edge, so they cannot be merged into one grid")]
    NotAdjacent(usize, String),
    /// A merge of fewer than two grids.
    #[error("edit {0}: a merge needs at least two grids")]
    MergeNeedsTwo(usize),
    /// A split of a grid made of several polygons.
    #[error("edit {0}: grid {1:?} has {2} parts; split works on a grid of one polygon")]
    SplitMultiPart(usize, String, usize),
    /// A split line that does not cross the boundary twice.
    #[error(
        "edit {0}: the split line crosses the boundary of grid {1:?} {2} time(s); draw it across the grid, crossing its outer boundary exactly twice"
    )]
    SplitCrossings(usize, String, usize),
    /// A split line through a hole.
    #[error("edit {0}: the split line crosses a hole of grid {1:?}")]
    SplitThroughHole(usize, String),
    /// A geometry with no area.
    #[error("edit {0}: the boundary of grid {1:?} has no area")]
    Empty(usize, String),
}

impl EditError {
    /// The 1-based number of the edit that failed.
    pub fn edit(&self) -> usize {
        match self {
            EditError::UnknownGrid(n, _)
            | EditError::KeyTaken(n, _)
            | EditError::NotAdjacent(n, _)
            | EditError::MergeNeedsTwo(n)
            | EditError::SplitMultiPart(n, _, _)
            | EditError::SplitCrossings(n, _, _)
            | EditError::SplitThroughHole(n, _)
            | EditError::Empty(n, _) => *n,
        }
    }
}

/// What a local check of edits found (see [`check_local`]).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct LocalCheck {
    /// Keys of the grids checked after the edits: the edited grids and every grid whose
    /// bounding box reaches theirs.
    pub checked: Vec<String>,
    /// Keys of the grids the edits added or reshaped.
    pub changed: Vec<String>,
    /// Keys of the grids the edits removed.
    pub removed: Vec<String>,
    /// The validation of the checked grids: invalid geometry, overlaps and unmatched edges
    /// among them, and the gaps the edited grids border.
    pub report: CoverageReport,
}

/// Validates `edits` to `layer` where they act, without copying or validating the whole layer:
/// the grids the edits name or reach (by bounding box, from `index`, the layer's locator) and
/// their neighbours are edited and validated on their own, and a gap of that patch counts only
/// if an edited grid borders it and no grid outside the patch covers it. Costs grow with the
/// size of the edit, not of the layer (well under a millisecond for one grid of a 100,000-grid
/// layer). The whole layer's validation, when the edits are saved, remains the reference.
///
/// `by_key` maps each key of `layer` to its index.
///
/// # Errors
/// As [`apply`]: the first edit that cannot be applied, numbered from 1.
pub fn check_local(
    layer: &GridLayer,
    index: &super::Locator,
    by_key: &std::collections::HashMap<String, usize>,
    edits: &[Edit],
) -> Result<LocalCheck, EditError> {
    use super::coverage::{CoverageOptions, validate_coverage};
    use geo::BoundingRect;
    let mut rects: Vec<geo_types::Rect<f64>> = Vec::new();
    // Where the edits act: the grids they name (a name not in the layer is left for `apply`
    // to report, in the edits' order) and the geometry they bring.
    let named = |key: &str, rects: &mut Vec<geo_types::Rect<f64>>| {
        if let Some(&i) = by_key.get(key) {
            rects.extend(layer.grids[i].geometry.bounding_rect());
        }
    };
    let mut fresh: Vec<(usize, &str)> = Vec::new();
    for (k, edit) in edits.iter().enumerate() {
        let n = k + 1;
        match edit {
            Edit::Replace { grid, geometry } => {
                named(grid, &mut rects);
                rects.extend(geometry.bounding_rect());
            }
            Edit::Add { grid, geometry, .. } => {
                fresh.push((n, grid));
                rects.extend(geometry.bounding_rect());
            }
            Edit::Remove { grid } => named(grid, &mut rects),
            Edit::Merge { grids } => {
                for g in grids {
                    named(g, &mut rects);
                }
            }
            Edit::Split { grid, line, codes } => {
                named(grid, &mut rects);
                rects.extend(line.bounding_rect());
                fresh.extend(codes.iter().map(|c| (n, c.as_str())));
            }
        }
    }
    let mut patch: Vec<usize> = rects
        .iter()
        .flat_map(|r| index.intersecting_envelope(*r))
        .collect();
    patch.sort_unstable();
    patch.dedup();
    let in_patch = |i: usize| patch.binary_search(&i).is_ok();
    // A new key must be free in the whole layer, not only in the patch.
    for (n, key) in &fresh {
        if by_key.get(*key).is_some_and(|&i| !in_patch(i)) {
            return Err(EditError::KeyTaken(*n, (*key).to_owned()));
        }
    }
    let before = GridLayer {
        grids: patch.iter().map(|&i| layer.grids[i].clone()).collect(),
    };
    let after = apply(&before, edits)?;
    let old: std::collections::HashMap<&str, &Grid> =
        before.grids.iter().map(|g| (g.key.as_str(), g)).collect();
    let changed: Vec<String> = after
        .grids
        .iter()
        .filter(|g| {
            old.get(g.key.as_str())
                .is_none_or(|o| o.geometry != g.geometry)
        })
        .map(|g| g.key.clone())
        .collect();
    let kept: std::collections::HashSet<&str> =
        after.grids.iter().map(|g| g.key.as_str()).collect();
    let removed: Vec<String> = before
        .grids
        .iter()
        .filter(|g| !kept.contains(g.key.as_str()))
        .map(|g| g.key.clone())
        .collect();
    let mut report = validate_coverage(&after, &CoverageOptions::default());
    // The patch's own holes include the grids left outside it: keep the gaps an edit borders
    // and no grid outside the patch fills.
    let touched: std::collections::HashSet<&str> =
        changed.iter().chain(&removed).map(String::as_str).collect();
    report.gaps.retain(|gap| {
        let borders =
            gap.neighbours.iter().any(|k| touched.contains(k.as_str())) || !removed.is_empty();
        let inside = MultiPolygon::<f64>::try_from(gap.geometry.value.clone())
            .ok()
            .and_then(|g| geo::InteriorPoint::interior_point(&g));
        borders && inside.is_none_or(|p| index.locate(p.0).is_none_or(&in_patch))
    });
    report.summary.gaps = report.gaps.len();
    report.summary.slivers = report.gaps.iter().filter(|g| g.sliver).count();
    report.valid = report.empty_geometry.is_empty()
        && report.invalid_geometry.is_empty()
        && report.overlaps.is_empty()
        && report.gaps.is_empty()
        && report.invalid_edges.is_empty()
        && report.duplicate_keys.is_empty();
    Ok(LocalCheck {
        checked: after.grids.iter().map(|g| g.key.clone()).collect(),
        changed,
        removed,
        report,
    })
}

/// Applies `edits` in order to a copy of `layer`.
pub fn apply(layer: &GridLayer, edits: &[Edit]) -> Result<GridLayer, EditError> {
    let mut out = layer.clone();
    for (k, edit) in edits.iter().enumerate() {
        apply_one(&mut out, k + 1, edit)?;
    }
    for (i, g) in out.grids.iter_mut().enumerate() {
        g.index = i;
    }
    Ok(out)
}

fn position(layer: &GridLayer, n: usize, key: &str) -> Result<usize, EditError> {
    layer
        .grids
        .iter()
        .position(|g| g.key == key)
        .ok_or_else(|| EditError::UnknownGrid(n, key.to_string()))
}

fn free(layer: &GridLayer, n: usize, key: &str, except: Option<&str>) -> Result<(), EditError> {
    if Some(key) != except && layer.grids.iter().any(|g| g.key == key) {
        return Err(EditError::KeyTaken(n, key.to_string()));
    }
    Ok(())
}

fn non_empty(n: usize, key: &str, g: &MultiPolygon<f64>) -> Result<(), EditError> {
    if area_m2(g) <= 0.0 {
        return Err(EditError::Empty(n, key.to_string()));
    }
    Ok(())
}

fn apply_one(layer: &mut GridLayer, n: usize, edit: &Edit) -> Result<(), EditError> {
    match edit {
        Edit::Replace { grid, geometry } => {
            let i = position(layer, n, grid)?;
            non_empty(n, grid, geometry)?;
            layer.grids[i].geometry = geometry.orient(Direction::Default);
        }
        Edit::Add {
            grid,
            geometry,
            properties,
        } => {
            free(layer, n, grid, None)?;
            non_empty(n, grid, geometry)?;
            let mut properties = properties.clone();
            properties.insert("code".into(), Value::String(grid.clone()));
            layer.grids.push(Grid {
                key: grid.clone(),
                index: layer.grids.len(),
                geometry: geometry.orient(Direction::Default),
                properties,
            });
        }
        Edit::Remove { grid } => {
            let i = position(layer, n, grid)?;
            layer.grids.remove(i);
        }
        Edit::Merge { grids } => merge(layer, n, grids)?,
        Edit::Split { grid, line, codes } => split(layer, n, grid, line, codes)?,
    }
    Ok(())
}

/// Adds the numeric property `name` of `from` to `into`'s.
fn add_count(into: &mut Map<String, Value>, from: &Map<String, Value>, name: &str) {
    let (Some(a), Some(b)) = (
        into.get(name).and_then(Value::as_f64),
        from.get(name).and_then(Value::as_f64),
    ) else {
        return;
    };
    into.insert(name.into(), number(a + b));
}

fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9e15 {
        Value::from(x as i64)
    } else {
        Value::from(x)
    }
}

fn merge(layer: &mut GridLayer, n: usize, keys: &[String]) -> Result<(), EditError> {
    if keys.len() < 2 {
        return Err(EditError::MergeNeedsTwo(n));
    }
    let mut idx = Vec::with_capacity(keys.len());
    for k in keys {
        let i = position(layer, n, k)?;
        if !idx.contains(&i) {
            idx.push(i);
        }
    }
    let geoms: Vec<MultiPolygon<f64>> = idx
        .iter()
        .map(|&i| layer.grids[i].geometry.clone())
        .collect();
    let merged = union(&geoms);
    let parts_before: usize = geoms.iter().map(|g| g.0.len()).sum();
    // Grids that touch along an edge dissolve into fewer pieces than they had.
    if merged.0.len() >= parts_before || merged.0.is_empty() {
        return Err(EditError::NotAdjacent(n, keys.join(", ")));
    }
    let mut props = layer.grids[idx[0]].properties.clone();
    for &i in &idx[1..] {
        for name in ["population", "households"] {
            add_count(&mut props, &layer.grids[i].properties, name);
        }
    }
    let keep = idx[0];
    layer.grids[keep].geometry = merged.orient(Direction::Default);
    layer.grids[keep].properties = props;
    let mut gone: Vec<usize> = idx[1..].to_vec();
    gone.sort_unstable_by(|a, b| b.cmp(a));
    for i in gone {
        layer.grids.remove(i);
    }
    Ok(())
}

/// Where the line crosses the ring: ring segment, line segment, the point, and its position
/// along the line (segment index + fraction).
#[derive(Debug, Clone, Copy)]
struct Crossing {
    /// Position along the ring: segment index + fraction.
    ring_pos: f64,
    ring_seg: usize,
    at: Coord<f64>,
    along: f64,
    line_seg: usize,
}

fn cross(p: Coord<f64>, q: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> Option<(f64, f64)> {
    let r = q - p;
    let s = b - a;
    let den = r.x * s.y - r.y * s.x;
    if den == 0.0 {
        return None;
    }
    let d = a - p;
    let t = (d.x * s.y - d.y * s.x) / den;
    let u = (d.x * r.y - d.y * r.x) / den;
    ((0.0..=1.0).contains(&t) && (0.0..=1.0).contains(&u)).then_some((t, u))
}

fn split(
    layer: &mut GridLayer,
    n: usize,
    key: &str,
    line: &LineString<f64>,
    codes: &[String; 2],
) -> Result<(), EditError> {
    let i = position(layer, n, key)?;
    for c in codes {
        free(layer, n, c, Some(key))?;
    }
    let grid = &layer.grids[i];
    if grid.geometry.0.len() != 1 {
        return Err(EditError::SplitMultiPart(
            n,
            key.to_string(),
            grid.geometry.0.len(),
        ));
    }
    let poly = &grid.geometry.0[0];
    let ring: Vec<Coord<f64>> = poly.exterior().0.clone();
    let line_pts = &line.0;
    let mut found: Vec<Crossing> = Vec::new();
    for (ls, w) in line_pts.windows(2).enumerate() {
        for (rs, r) in ring.windows(2).enumerate() {
            if let Some((t, u)) = cross(w[0], w[1], r[0], r[1]) {
                let at = if u == 0.0 {
                    r[0]
                } else if u == 1.0 {
                    r[1]
                } else {
                    w[0] + (w[1] - w[0]) * t
                };
                let along = ls as f64 + t;
                // A crossing exactly at a ring vertex is seen from both of its segments.
                if found
                    .iter()
                    .any(|c| c.at == at && (c.along - along).abs() < 1e-12)
                {
                    continue;
                }
                let (seg, u) = if u == 1.0 {
                    ((rs + 1) % (ring.len() - 1), 0.0)
                } else {
                    (rs, u)
                };
                found.push(Crossing {
                    ring_pos: seg as f64 + u,
                    ring_seg: seg,
                    at,
                    along,
                    line_seg: ls,
                });
            }
        }
    }
    if found.len() != 2 {
        return Err(EditError::SplitCrossings(n, key.to_string(), found.len()));
    }
    found.sort_by(|a, b| a.along.total_cmp(&b.along));
    let (a, b) = (found[0], found[1]);
    let cut: Vec<Coord<f64>> = std::iter::once(a.at)
        .chain(line_pts[a.line_seg + 1..=b.line_seg].iter().copied())
        .chain(std::iter::once(b.at))
        .collect();
    let cut_line = LineString::from(cut.clone());
    if poly.interiors().iter().any(|h| h.intersects(&cut_line)) {
        return Err(EditError::SplitThroughHole(n, key.to_string()));
    }
    let m = ring.len() - 1; // distinct vertices
    // The ring's vertices strictly after position `from` and before `to`, going forward.
    let between = |from: f64, to: f64| -> Vec<Coord<f64>> {
        let to = if to > from { to } else { to + m as f64 };
        let mut k = from.floor() as usize + 1;
        let mut v = Vec::new();
        while (k as f64) < to {
            v.push(ring[k % m]);
            k += 1;
        }
        v
    };
    // Part one: A, the ring from A to B, B, then back along the cut to A.
    let mut one = vec![a.at];
    one.extend(between(a.ring_pos, b.ring_pos));
    one.push(b.at);
    one.extend(cut.iter().rev().skip(1));
    // Part two: B, the ring from B to A, A, then along the cut to B.
    let mut two = vec![b.at];
    two.extend(between(b.ring_pos, a.ring_pos));
    two.push(a.at);
    two.extend(cut.iter().skip(1));
    let clean = |mut v: Vec<Coord<f64>>| {
        v.dedup();
        LineString::from(v)
    };
    let mut parts = [
        Polygon::new(clean(one), vec![]),
        Polygon::new(clean(two), vec![]),
    ];
    for h in poly.interiors() {
        let probe = h.0[0];
        let k = usize::from(!parts[0].contains(&probe));
        let (ext, mut holes) = parts[k].clone().into_inner();
        holes.push(h.clone());
        parts[k] = Polygon::new(ext, holes);
    }
    let parts = parts.map(|p| MultiPolygon::new(vec![p]).orient(Direction::Default));
    for (p, c) in parts.iter().zip(codes) {
        non_empty(n, c, p)?;
    }
    // The part on the left of the line's direction keeps codes[0].
    let left = {
        let d = cut[1] - cut[0];
        let mid = cut[0] + d * 0.5;
        let normal = Coord { x: -d.y, y: d.x } * 1e-9;
        parts[0].contains(&(mid + normal))
    };
    let [p0, p1] = parts;
    let (first, second) = if left { (p0, p1) } else { (p1, p0) };
    let total = area_m2(&first) + area_m2(&second);
    let share = area_m2(&first) / total;
    let old = layer.grids.remove(i);
    // The neighbours get the crossing points where they cut a shared edge.
    for c in [a, b] {
        let (s0, s1) = (ring[c.ring_seg], ring[(c.ring_seg + 1) % m]);
        if c.at == s0 || c.at == s1 {
            continue;
        }
        for g in &mut layer.grids {
            for p in &mut g.geometry.0 {
                insert_on_edge(p, s0, s1, c.at);
            }
        }
    }
    let make = |code: &String, geometry: MultiPolygon<f64>, share: f64| {
        let mut properties = old.properties.clone();
        properties.insert("code".into(), Value::String(code.clone()));
        for name in ["population", "households"] {
            if let Some(x) = old.properties.get(name).and_then(Value::as_f64) {
                properties.insert(name.into(), number((x * share).round()));
            }
        }
        Grid {
            key: code.clone(),
            index: 0,
            geometry,
            properties,
        }
    };
    let g1 = make(&codes[0], first, share);
    let g2 = make(&codes[1], second, 1.0 - share);
    layer.grids.insert(i, g2);
    layer.grids.insert(i, g1);
    Ok(())
}

/// Inserts `at` into every ring edge of `p` that runs between `s0` and `s1` (either way).
fn insert_on_edge(p: &mut Polygon<f64>, s0: Coord<f64>, s1: Coord<f64>, at: Coord<f64>) {
    let fix = |ls: &mut LineString<f64>| {
        let mut k = 0;
        while k + 1 < ls.0.len() {
            let (u, v) = (ls.0[k], ls.0[k + 1]);
            if (u == s0 && v == s1) || (u == s1 && v == s0) {
                ls.0.insert(k + 1, at);
                k += 1;
            }
            k += 1;
        }
    };
    p.exterior_mut(fix);
    p.interiors_mut(|hs| hs.iter_mut().for_each(fix));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spatial::coverage::{CoverageOptions, validate_coverage};
    use geo_types::polygon;

    fn grid(key: &str, p: Polygon<f64>, population: i64) -> Grid {
        let mut properties = Map::new();
        properties.insert("population".into(), Value::from(population));
        Grid {
            key: key.into(),
            index: 0,
            geometry: MultiPolygon::new(vec![p]),
            properties,
        }
    }

    /// Two unit squares side by side, A (0..1) and B (1..2), in degrees near the equator.
    fn two() -> GridLayer {
        GridLayer {
            grids: vec![
                grid(
                    "A",
                    polygon![(x: 0.0, y: 0.0), (x: 0.01, y: 0.0), (x: 0.01, y: 0.01), (x: 0.0, y: 0.01)],
                    100,
                ),
                grid(
                    "B",
                    polygon![(x: 0.01, y: 0.0), (x: 0.02, y: 0.0), (x: 0.02, y: 0.01), (x: 0.01, y: 0.01)],
                    50,
                ),
            ],
        }
    }

    fn seamless(l: &GridLayer) -> bool {
        validate_coverage(l, &CoverageOptions::default()).valid
    }

    #[test]
    fn merge_dissolves_the_shared_edge_and_sums_counts() {
        let l = apply(
            &two(),
            &[Edit::Merge {
                grids: vec!["A".into(), "B".into()],
            }],
        )
        .unwrap();
        assert_eq!(l.grids.len(), 1);
        assert_eq!(l.grids[0].key, "A");
        assert_eq!(l.grids[0].geometry.0.len(), 1);
        assert_eq!(l.grids[0].geometry.0[0].interiors().len(), 0);
        assert_eq!(l.grids[0].properties["population"], 150);
        let area = area_m2(&l.grids[0].geometry);
        let before: f64 = two().grids.iter().map(|g| area_m2(&g.geometry)).sum();
        assert!((area - before).abs() < 1e-6 * before, "{area} vs {before}");
    }

    #[test]
    fn merge_refuses_grids_apart() {
        let mut l = two();
        l.grids[1].geometry = MultiPolygon::new(vec![
            polygon![(x: 0.05, y: 0.0), (x: 0.06, y: 0.0), (x: 0.06, y: 0.01), (x: 0.05, y: 0.01)],
        ]);
        let e = apply(
            &l,
            &[Edit::Merge {
                grids: vec!["A".into(), "B".into()],
            }],
        )
        .unwrap_err();
        assert!(matches!(e, EditError::NotAdjacent(1, _)), "{e}");
    }

    #[test]
    fn split_cuts_in_two_and_keeps_the_neighbour_matched() {
        // A horizontal cut through A at y = 0.004, entering at x = 0 and leaving through the
        // edge A shares with B.
        let line = LineString::from(vec![(-0.001, 0.004), (0.011, 0.004)]);
        let l = apply(
            &two(),
            &[Edit::Split {
                grid: "A".into(),
                line,
                codes: ["A1".into(), "A2".into()],
            }],
        )
        .unwrap();
        let keys: Vec<&str> = l.grids.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, ["A1", "A2", "B"]);
        // Left of an eastward line is north: A1 is the upper part (60 % of the area).
        let (a1, a2) = (area_m2(&l.grids[0].geometry), area_m2(&l.grids[1].geometry));
        assert!((a1 / (a1 + a2) - 0.6).abs() < 1e-6, "{a1} {a2}");
        assert_eq!(l.grids[0].properties["population"], 60);
        assert_eq!(l.grids[1].properties["population"], 40);
        // B got the crossing point on its edge, so the coverage is still seamless.
        assert_eq!(l.grids[2].geometry.0[0].exterior().0.len(), 6);
        assert!(
            seamless(&l),
            "{:?}",
            validate_coverage(&l, &CoverageOptions::default())
        );
        assert!(seamless(&two()));
    }

    #[test]
    fn a_cut_in_and_out_through_one_edge_takes_out_a_notch() {
        let line = LineString::from(vec![
            (0.002, -0.001),
            (0.002, 0.005),
            (0.006, 0.005),
            (0.006, -0.001),
        ]);
        let l = apply(
            &two(),
            &[Edit::Split {
                grid: "A".into(),
                line,
                codes: ["A1".into(), "A2".into()],
            }],
        )
        .unwrap();
        let areas: Vec<f64> = l.grids[..2].iter().map(|g| area_m2(&g.geometry)).collect();
        let whole = area_m2(&two().grids[0].geometry);
        let small = areas[0].min(areas[1]);
        assert!((small / whole - 0.2).abs() < 1e-6, "{areas:?}");
        assert!(((areas[0] + areas[1]) / whole - 1.0).abs() < 1e-9);
        assert!(seamless(&l));
    }

    #[test]
    fn split_needs_two_crossings() {
        let line = LineString::from(vec![(0.002, 0.004), (0.005, 0.004)]);
        let e = apply(
            &two(),
            &[Edit::Split {
                grid: "A".into(),
                line,
                codes: ["A1".into(), "A2".into()],
            }],
        )
        .unwrap_err();
        assert_eq!(e, EditError::SplitCrossings(1, "A".into(), 0));
    }

    #[test]
    fn replace_add_remove_and_taken_codes() {
        let sq = MultiPolygon::new(vec![
            polygon![(x: 0.02, y: 0.0), (x: 0.03, y: 0.0), (x: 0.03, y: 0.01), (x: 0.02, y: 0.01)],
        ]);
        let l = apply(
            &two(),
            &[
                Edit::Add {
                    grid: "C".into(),
                    geometry: sq.clone(),
                    properties: Map::new(),
                },
                Edit::Remove { grid: "A".into() },
            ],
        )
        .unwrap();
        assert_eq!(l.grids.len(), 2);
        assert_eq!(l.grids[1].properties["code"], "C");
        assert!(seamless(&l));
        let e = apply(
            &two(),
            &[Edit::Add {
                grid: "B".into(),
                geometry: sq,
                properties: Map::new(),
            }],
        )
        .unwrap_err();
        assert_eq!(e, EditError::KeyTaken(1, "B".into()));
        let e = apply(&two(), &[Edit::Remove { grid: "Z".into() }]).unwrap_err();
        assert_eq!(e.to_string(), "edit 1: no grid \"Z\" in the layer");
    }

    /// The problems of a report, comparable across a local and a whole-layer validation.
    type Problems = (
        Vec<[String; 2]>,
        Vec<(Vec<String>, i64)>,
        Vec<String>,
        Vec<String>,
    );

    fn problems(r: &CoverageReport) -> Problems {
        let mut overlaps: Vec<[String; 2]> = r.overlaps.iter().map(|o| o.grids.clone()).collect();
        overlaps.sort();
        let mut gaps: Vec<(Vec<String>, i64)> = r
            .gaps
            .iter()
            .map(|g| {
                let mut n = g.neighbours.clone();
                n.sort();
                (n, g.area_m2.round() as i64)
            })
            .collect();
        gaps.sort();
        let mut edges: Vec<String> = r.invalid_edges.iter().map(|e| e.grid.clone()).collect();
        edges.sort();
        let mut bad: Vec<String> = r.invalid_geometry.iter().map(|e| e.grid.clone()).collect();
        bad.sort();
        (overlaps, gaps, edges, bad)
    }

    fn scaled(g: &Grid, f: f64) -> MultiPolygon<f64> {
        use geo::{Centroid, Scale};
        let c = g.geometry.centroid().unwrap();
        g.geometry.scale_around_point(f, f, c)
    }

    /// A 900-grid lattice with its locator and key index, as `check_local` takes them.
    fn indexed_lattice(
        seed: u64,
    ) -> (
        GridLayer,
        crate::spatial::Locator,
        std::collections::HashMap<String, usize>,
    ) {
        let layer = crate::spatial::synth::Lattice::near_zibo(900, seed).build();
        let index = crate::spatial::Locator::new(&layer.geometries());
        let by_key = layer
            .grids
            .iter()
            .enumerate()
            .map(|(i, g)| (g.key.clone(), i))
            .collect();
        (layer, index, by_key)
    }

    #[test]
    fn a_local_check_finds_what_the_whole_layer_validation_finds() {
        let (layer, index, by_key) = indexed_lattice(7);
        let g = &layer.grids[31 * 10 + 12];
        let far = layer.grids[5].key.clone();
        let cases: Vec<(&str, Vec<Edit>)> = vec![
            (
                "unchanged",
                vec![Edit::Replace {
                    grid: g.key.clone(),
                    geometry: g.geometry.clone(),
                }],
            ),
            (
                "shrunk",
                vec![Edit::Replace {
                    grid: g.key.clone(),
                    geometry: scaled(g, 0.8),
                }],
            ),
            (
                "grown",
                vec![Edit::Replace {
                    grid: g.key.clone(),
                    geometry: scaled(g, 1.3),
                }],
            ),
            (
                "removed",
                vec![Edit::Remove {
                    grid: g.key.clone(),
                }],
            ),
            (
                "merged",
                vec![Edit::Merge {
                    grids: vec![g.key.clone(), layer.grids[31 * 10 + 13].key.clone()],
                }],
            ),
            (
                "removed and added back",
                vec![
                    Edit::Remove {
                        grid: g.key.clone(),
                    },
                    Edit::Add {
                        grid: "new".into(),
                        geometry: g.geometry.clone(),
                        properties: Map::new(),
                    },
                ],
            ),
        ];
        for (what, edits) in cases {
            let local = check_local(&layer, &index, &by_key, &edits).unwrap();
            let whole =
                validate_coverage(&apply(&layer, &edits).unwrap(), &CoverageOptions::default());
            assert_eq!(problems(&local.report), problems(&whole), "{what}");
            assert_eq!(local.report.valid, whole.valid, "{what}");
            assert!(
                local.checked.len() < 30,
                "{what}: {} grids checked",
                local.checked.len()
            );
            match what {
                "unchanged" => assert!(local.changed.is_empty() && local.report.valid),
                "shrunk" => assert_eq!(local.report.gaps.len(), 1),
                "grown" => assert!(local.report.overlaps.len() >= 4),
                "removed" => assert_eq!(local.removed, vec![g.key.clone()]),
                _ => {}
            }
        }
        // A new code must be free in the whole layer, not only where the edit acts.
        let taken = vec![Edit::Add {
            grid: far.clone(),
            geometry: scaled(g, 0.1),
            properties: Map::new(),
        }];
        assert_eq!(
            check_local(&layer, &index, &by_key, &taken).unwrap_err(),
            EditError::KeyTaken(1, far)
        );
        let unknown = vec![Edit::Remove {
            grid: "nope".into(),
        }];
        assert_eq!(
            check_local(&layer, &index, &by_key, &unknown).unwrap_err(),
            EditError::UnknownGrid(1, "nope".into())
        );
    }

    #[test]
    fn moving_one_shared_vertex_is_flagged_locally() {
        let (layer, index, by_key) = indexed_lattice(1);
        // A vertex moved on the coverage's edge may only notch it; inside, it is a fault.
        let mut faults = 0;
        for g in layer.grids.iter().step_by(37) {
            let mut geometry = g.geometry.clone();
            geometry.0[0].exterior_mut(|r| {
                r.0[1].x += 2e-5;
                r.0[1].y += 2e-5;
            });
            let edits = vec![Edit::Replace {
                grid: g.key.clone(),
                geometry,
            }];
            let local = check_local(&layer, &index, &by_key, &edits).unwrap();
            let whole =
                validate_coverage(&apply(&layer, &edits).unwrap(), &CoverageOptions::default());
            assert_eq!(local.report.valid, whole.valid, "{}", g.key);
            faults += usize::from(!whole.valid);
            assert_eq!(problems(&local.report), problems(&whole), "{}", g.key);
        }
        assert!(faults > 15, "{faults} of 25 moves flagged");
    }
}
