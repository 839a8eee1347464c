//! What publishing a draft grid layer would change for the people the grids serve: open cases
//! whose grid changes, households in area that moves to another grid (by area share), and grid
//! workers whose grid is removed or reshaped. Pure: the caller passes both layers, the open
//! cases and a way to find a grid's worker.

use crate::spatial::diff::{GridChangeKind, grid_changes};
use crate::spatial::{GridLayer, Locator};
use geo_types::Coord;
use serde::Serialize;

/// An open case and where it is (WGS84 lon/lat).
#[derive(Debug, Clone, PartialEq)]
pub struct OpenCase {
    /// Case id.
    pub id: String,
    /// Its location.
    pub location: Coord<f64>,
}

/// A grid worker, as the impact names them.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WorkerRef {
    /// Worker id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// An open case that would change grid.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CaseMove {
    /// Case id.
    pub case: String,
    /// Its grid in the published layer (`None`: outside every grid).
    pub from: Option<String>,
    /// Its grid in the draft.
    pub to: Option<String>,
}

/// A published grid the draft removes or reshapes.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GridImpact {
    /// Grid key.
    pub grid: String,
    /// Removed or reshaped.
    pub change: GridChangeKind,
    /// Share of its area (0–1) that moves to other grids.
    pub area_share_moving: f64,
    /// Its households (`properties.households`) times that share, rounded.
    pub households_moving: f64,
}

/// A worker whose grid is removed or reshaped.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WorkerImpact {
    /// Worker id.
    pub worker: String,
    /// Name.
    pub name: String,
    /// Their grid.
    pub grid: String,
    /// What happens to it.
    pub change: GridChangeKind,
}

/// The impact of a draft against the published layer.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LayerImpact {
    /// Open cases whose grid changes.
    pub open_cases: Vec<CaseMove>,
    /// Households in area that moves, summed over grids (each grid's households × its moving
    /// area share), rounded.
    pub households_moving: f64,
    /// Published grids removed or reshaped.
    pub grids: Vec<GridImpact>,
    /// Their full-time workers.
    pub workers: Vec<WorkerImpact>,
}

/// The impact of publishing `draft` over `published` (indexed by `published_index`).
/// Households are assumed spread evenly over a grid's area.
pub fn layer_impact(
    published: &GridLayer,
    published_index: &Locator,
    draft: &GridLayer,
    open_cases: &[OpenCase],
    grid_worker: impl Fn(&str) -> Option<WorkerRef>,
) -> LayerImpact {
    let draft_index = Locator::new(&draft.geometries());
    let key_at = |index: &Locator, layer: &GridLayer, p: Coord<f64>| {
        index.locate(p).map(|i| layer.grids[i].key.clone())
    };
    let open_cases = open_cases
        .iter()
        .filter_map(|c| {
            let from = key_at(published_index, published, c.location);
            let to = key_at(&draft_index, draft, c.location);
            (from != to).then(|| CaseMove {
                case: c.id.clone(),
                from,
                to,
            })
        })
        .collect();
    let mut grids = Vec::new();
    let mut workers = Vec::new();
    let mut households_moving = 0.0;
    for change in grid_changes(published, draft) {
        let households = change
            .grid
            .properties
            .get("households")
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(0.0);
        let moving = households * change.area_share_moving;
        households_moving += moving;
        grids.push(GridImpact {
            grid: change.grid.key.clone(),
            change: change.change,
            area_share_moving: change.area_share_moving,
            households_moving: moving.round(),
        });
        if let Some(w) = grid_worker(&change.grid.key) {
            workers.push(WorkerImpact {
                worker: w.id,
                name: w.name,
                grid: change.grid.key.clone(),
                change: change.change,
            });
        }
    }
    LayerImpact {
        open_cases,
        households_moving: households_moving.round(),
        grids,
        workers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spatial::layer::{KeySource, read_layer};

    fn layer(cells: &[(&str, f64, [f64; 2])]) -> GridLayer {
        let features: Vec<String> = cells
            .iter()
            .map(|(k, hh, [x0, x1])| {
                format!(
                    r#"{{"type":"Feature","properties":{{"code":"{k}","households":{hh}}},"geometry":{{"type":"Polygon","coordinates":[[[{x0},36.8],[{x1},36.8],[{x1},36.801],[{x0},36.801],[{x0},36.8]]]}}}}"#
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
    fn households_move_by_area_share_and_cases_follow_their_grid() {
        let published = layer(&[
            ("A", 400.0, [118.0, 118.004]),
            ("B", 100.0, [118.004, 118.008]),
        ]);
        // A gives its east quarter to B.
        let draft = layer(&[
            ("A", 400.0, [118.0, 118.003]),
            ("B", 100.0, [118.003, 118.008]),
        ]);
        let index = Locator::new(&published.geometries());
        let at = |x: f64| Coord { x, y: 36.8005 };
        let cases = [
            OpenCase {
                id: "k1".into(),
                location: at(118.0035),
            }, // in the quarter that moves
            OpenCase {
                id: "k2".into(),
                location: at(118.001),
            }, // stays in A
            OpenCase {
                id: "k3".into(),
                location: at(118.02),
            }, // outside both
        ];
        let impact = layer_impact(&published, &index, &draft, &cases, |g| {
            (g == "A").then(|| WorkerRef {
                id: "wA".into(),
                name: "甲".into(),
            })
        });
        assert_eq!(
            impact.open_cases,
            [CaseMove {
                case: "k1".into(),
                from: Some("A".into()),
                to: Some("B".into())
            }]
        );
        assert_eq!(impact.grids.len(), 2);
        assert!((impact.grids[0].area_share_moving - 0.25).abs() < 1e-6);
        assert_eq!(impact.grids[0].households_moving, 100.0);
        assert_eq!(impact.grids[1].households_moving, 0.0);
        assert_eq!(impact.households_moving, 100.0);
        assert_eq!(impact.workers.len(), 1);
        assert_eq!(impact.workers[0].change, GridChangeKind::Reshaped);
    }
}
