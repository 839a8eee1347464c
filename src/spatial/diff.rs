//! Comparing two versions of a grid layer, grid by grid (matched by key): which grids were
//! added, removed or reshaped, with their areas, and what share of each published grid's area
//! a draft would hand to other grids.

use crate::spatial::layer::{Grid, GridLayer};
use crate::spatial::measure::area_m2;
use geo::BooleanOps;
use serde::Serialize;
use std::collections::HashMap;

/// A grid and its area.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GridArea {
    /// Grid key (code).
    pub grid: String,
    /// Area, m² (WGS84 ellipsoid, see [`area_m2`]).
    pub area_m2: f64,
}

/// A grid whose geometry differs between the versions.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Reshaped {
    /// Grid key (code).
    pub grid: String,
    /// Area in the first version, m².
    pub area_before_m2: f64,
    /// Area in the second version, m².
    pub area_after_m2: f64,
}

/// What changed from one layer version to another.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LayerDiff {
    /// Grids only in the second version, in its order.
    pub added: Vec<GridArea>,
    /// Grids only in the first version, in its order.
    pub removed: Vec<GridArea>,
    /// Grids in both whose geometry differs (coordinate for coordinate), in the first's order.
    pub reshaped: Vec<Reshaped>,
}

fn by_key(layer: &GridLayer) -> HashMap<&str, &Grid> {
    layer.grids.iter().map(|g| (g.key.as_str(), g)).collect()
}

/// The grids added, removed and reshaped from `from` to `to`, matched by key.
///
/// ```
/// use tessera::spatial::{diff::diff_layers, layer::{KeySource, read_layer}};
/// let square = |code: &str, x: f64| format!(
///     r#"{{"type":"Feature","properties":{{"code":"{code}"}},"geometry":{{"type":"Polygon","coordinates":[[[{x},0],[{x1},0],[{x1},0.001],[{x},0.001],[{x},0]]]}}}}"#,
///     x1 = x + 0.001);
/// let fc = |fs: &[String]| format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, fs.join(","));
/// let a = read_layer(&fc(&[square("A", 0.0), square("B", 0.001)]), &KeySource::Default).unwrap();
/// let b = read_layer(&fc(&[square("B", 0.001), square("C", 0.002)]), &KeySource::Default).unwrap();
/// let d = diff_layers(&a, &b);
/// assert_eq!((d.added[0].grid.as_str(), d.removed[0].grid.as_str()), ("C", "A"));
/// assert!((d.removed[0].area_m2 - 12_309.0).abs() < 5.0); // 0.001° square at the equator
/// assert!(d.reshaped.is_empty());
/// ```
pub fn diff_layers(from: &GridLayer, to: &GridLayer) -> LayerDiff {
    let (ka, kb) = (by_key(from), by_key(to));
    let area = |g: &Grid| area_m2(&g.geometry);
    LayerDiff {
        added: to
            .grids
            .iter()
            .filter(|g| !ka.contains_key(g.key.as_str()))
            .map(|g| GridArea {
                grid: g.key.clone(),
                area_m2: area(g),
            })
            .collect(),
        removed: from
            .grids
            .iter()
            .filter(|g| !kb.contains_key(g.key.as_str()))
            .map(|g| GridArea {
                grid: g.key.clone(),
                area_m2: area(g),
            })
            .collect(),
        reshaped: from
            .grids
            .iter()
            .filter_map(|g| {
                let h = kb.get(g.key.as_str())?;
                (h.geometry != g.geometry).then(|| Reshaped {
                    grid: g.key.clone(),
                    area_before_m2: area(g),
                    area_after_m2: area(h),
                })
            })
            .collect(),
    }
}

/// How a published grid changes under a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GridChangeKind {
    /// The draft has no grid with this key.
    Removed,
    /// The draft's grid with this key has another geometry.
    Reshaped,
}

/// A published grid that a draft removes or reshapes.
#[derive(Debug, Clone, PartialEq)]
pub struct GridChange<'a> {
    /// The published grid.
    pub grid: &'a Grid,
    /// Removed or reshaped.
    pub change: GridChangeKind,
    /// Share of the published grid's area (0–1) that the draft gives to other grids (or
    /// leaves uncovered): 1 for a removed grid, `1 − area(old ∩ new) / area(old)` for a
    /// reshaped one.
    pub area_share_moving: f64,
}

/// The published grids that `draft` removes or reshapes, in `published`'s order.
pub fn grid_changes<'a>(published: &'a GridLayer, draft: &GridLayer) -> Vec<GridChange<'a>> {
    let in_draft = by_key(draft);
    published
        .grids
        .iter()
        .filter_map(|g| {
            let (change, share) = match in_draft.get(g.key.as_str()) {
                None => (GridChangeKind::Removed, 1.0),
                Some(d) if d.geometry != g.geometry => {
                    let before = area_m2(&g.geometry);
                    let kept = area_m2(&g.geometry.intersection(&d.geometry));
                    let share = if before > 0.0 {
                        (1.0 - kept / before).clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    (GridChangeKind::Reshaped, share)
                }
                Some(_) => return None,
            };
            Some(GridChange {
                grid: g,
                change,
                area_share_moving: share,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spatial::layer::{KeySource, read_layer};

    fn layer(cells: &[(&str, [f64; 4])]) -> GridLayer {
        let features: Vec<String> = cells
            .iter()
            .map(|(k, [x0, y0, x1, y1])| {
                format!(
                    r#"{{"type":"Feature","properties":{{"code":"{k}"}},"geometry":{{"type":"Polygon","coordinates":[[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]]]}}}}"#
                )
            })
            .collect();
        read_layer(
            &format!(
                r#"{{"type":"FeatureCollection","features":[{}]}}"#,
                features.join(",")
            ),
            &KeySource::Default,
        )
        .unwrap()
    }

    #[test]
    fn a_moved_border_hands_over_its_share() {
        // A and B side by side; the draft moves their border a quarter of A's width west.
        let published = layer(&[
            ("A", [118.0, 36.8, 118.004, 36.801]),
            ("B", [118.004, 36.8, 118.008, 36.801]),
            ("C", [118.008, 36.8, 118.012, 36.801]),
        ]);
        let draft = layer(&[
            ("A", [118.0, 36.8, 118.003, 36.801]),
            ("B", [118.003, 36.8, 118.008, 36.801]),
        ]);
        let changes = grid_changes(&published, &draft);
        let got: Vec<(&str, GridChangeKind, f64)> = changes
            .iter()
            .map(|c| (c.grid.key.as_str(), c.change, c.area_share_moving))
            .collect();
        assert_eq!(got.len(), 3);
        assert_eq!((got[0].0, got[0].1), ("A", GridChangeKind::Reshaped));
        assert!((got[0].2 - 0.25).abs() < 1e-6, "{got:?}");
        // B grows: nothing of it moves away.
        assert_eq!((got[1].0, got[1].1), ("B", GridChangeKind::Reshaped));
        assert!(got[1].2.abs() < 1e-6, "{got:?}");
        assert_eq!(got[2], ("C", GridChangeKind::Removed, 1.0));
        let d = diff_layers(&published, &draft);
        assert!(d.added.is_empty());
        assert_eq!(d.removed.len(), 1);
        assert_eq!(d.reshaped.len(), 2);
        let a = &d.reshaped[0];
        assert!((a.area_after_m2 / a.area_before_m2 - 0.75).abs() < 1e-6);
    }
}
