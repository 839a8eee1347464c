//! Point location (placeholder until the locator lands).
use geo_types::{Coord, MultiPolygon};
/// Locator.
pub struct Locator {
    polys: Vec<MultiPolygon<f64>>,
}
/// A hit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub index: usize,
    pub snapped_m: Option<f64>,
}
impl Locator {
    /// New.
    pub fn new(polygons: &[MultiPolygon<f64>]) -> Locator {
        Locator {
            polys: polygons.to_vec(),
        }
    }
    /// Locate.
    pub fn locate(&self, p: Coord<f64>) -> Option<usize> {
        use geo::Intersects;
        self.polys.iter().position(|m| m.intersects(&p))
    }
    /// Locate or snap.
    pub fn locate_or_snap(&self, p: Coord<f64>, _snap_m: f64) -> Option<Hit> {
        self.locate(p).map(|index| Hit {
            index,
            snapped_m: None,
        })
    }
    /// Len.
    pub fn len(&self) -> usize {
        self.polys.len()
    }
    /// Empty.
    pub fn is_empty(&self) -> bool {
        self.polys.is_empty()
    }
}
