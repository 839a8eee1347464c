//! Metric measures of lon/lat geometry: geodesic areas (m²), lengths (m), and the narrowest width
//! of a polygon (twice its maximum inscribed circle radius), never in degrees.
//!
//! GeoJSON edges are straight lines in lon/lat (RFC 7946), not geodesics, so areas are computed
//! for exactly that shape: on the WGS84 ellipsoid through the authalic (equal-area) latitude,
//! with long edges subdivided. (A geodesic area would bow long east–west edges by centimetres,
//! which matters for thin slivers.) Widths and short distances use a local projection around the
//! geometry: x and y scaled by the ellipsoid's radii of curvature at the reference latitude,
//! accurate to well under 0.1 % over a few kilometres.

use crate::spatial::predicates::segment_distance_2;
use geo_types::{Coord, MultiPolygon, Polygon};
use std::collections::BinaryHeap;

/// WGS84 semi-major axis, metres (NIMA TR8350.2).
pub const WGS84_A: f64 = 6_378_137.0;
/// WGS84 first eccentricity squared (from the flattening 1/298.257223563).
pub const WGS84_E2: f64 = 0.006_694_379_990_141_316;

/// Area of a (multi)polygon in square metres on the WGS84 ellipsoid, holes subtracted, edges
/// straight in lon/lat.
pub fn area_m2(geom: &MultiPolygon<f64>) -> f64 {
    geom.0.iter().map(polygon_area_m2).sum()
}

/// Area of a polygon in square metres (see [`area_m2`]).
///
/// ```
/// use geo_types::polygon;
/// // One degree square at the equator: about 12,309 km².
/// let p = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0), (x: 0.0, y: 0.0)];
/// let a = tessera::spatial::measure::polygon_area_m2(&p);
/// assert!((a / 1e6 - 12_308.8).abs() < 1.0, "{a}");
/// ```
pub fn polygon_area_m2(p: &Polygon<f64>) -> f64 {
    let ext = ring_area_m2(&p.exterior().0).abs();
    let holes: f64 = p.interiors().iter().map(|r| ring_area_m2(&r.0).abs()).sum();
    (ext - holes).max(0.0)
}

/// Authalic function q(φ) of the ellipsoid: the area element is (a²/2)·dλ·dq.
fn authalic_q(lat_deg: f64) -> f64 {
    let e = WGS84_E2.sqrt();
    let s = lat_deg.to_radians().sin();
    let es = e * s;
    (1.0 - WGS84_E2) * (s / (1.0 - es * es) - (1.0 / (2.0 * e)) * ((1.0 - es) / (1.0 + es)).ln())
}

/// Gauss–Legendre nodes and weights on [0, 1] (4 points: exact for polynomials of degree 7).
const GAUSS_4: [(f64, f64); 4] = [
    (0.069_431_844_202_973_71, 0.173_927_422_568_726_93),
    (0.330_009_478_207_571_87, 0.326_072_577_431_273_07),
    (0.669_990_521_792_428_1, 0.326_072_577_431_273_07),
    (0.930_568_155_797_026_3, 0.173_927_422_568_726_93),
];

/// Signed area (m², counter-clockwise positive) of a closed lon/lat ring.
///
/// By Green's theorem the area is −(a²/2)·∮ q dλ. Along an edge straight in lon/lat, λ is
/// linear in the edge parameter and q follows the latitude, so each edge's ∫ q dλ is Δλ times
/// the mean of q over the edge, taken by 4-point Gauss–Legendre quadrature on pieces spanning
/// at most 0.05° of latitude: the error is far below a square millimetre even for a long edge,
/// and the two nearly equal edges of a thin sliver are integrated alike, so their difference
/// (the sliver) is exact too.
fn ring_area_m2(ring: &[Coord<f64>]) -> f64 {
    const STEP_DEG: f64 = 0.05;
    if ring.len() < 4 {
        return 0.0;
    }
    let mut sum = 0.0;
    for w in ring.windows(2) {
        let (a, b) = (w[0], w[1]);
        let dx = (b.x - a.x).to_radians();
        if dx == 0.0 {
            continue;
        }
        let n = ((b.y - a.y).abs() / STEP_DEG).ceil().max(1.0) as usize;
        let mut mean_q = 0.0;
        for k in 0..n {
            for (t, wt) in GAUSS_4 {
                let s = (k as f64 + t) / n as f64;
                mean_q += wt * authalic_q(a.y + s * (b.y - a.y));
            }
        }
        sum -= dx * mean_q / n as f64;
    }
    sum * WGS84_A * WGS84_A / 2.0
}

/// A local metric projection: metres east and north of a reference point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalMetric {
    /// Reference longitude, degrees.
    pub lon0: f64,
    /// Reference latitude, degrees.
    pub lat0: f64,
    /// Metres per degree of longitude at the reference latitude.
    pub m_per_deg_lon: f64,
    /// Metres per degree of latitude at the reference latitude.
    pub m_per_deg_lat: f64,
}

impl LocalMetric {
    /// Projection centred on `(lon0, lat0)` degrees.
    pub fn new(lon0: f64, lat0: f64) -> LocalMetric {
        let phi = lat0.to_radians();
        let s = phi.sin();
        let w = (1.0 - WGS84_E2 * s * s).sqrt();
        let n = WGS84_A / w; // prime vertical radius
        let m = WGS84_A * (1.0 - WGS84_E2) / (w * w * w); // meridional radius
        let rad = std::f64::consts::PI / 180.0;
        LocalMetric {
            lon0,
            lat0,
            m_per_deg_lon: n * phi.cos().abs() * rad,
            m_per_deg_lat: m * rad,
        }
    }

    /// Projection centred on a geometry's bounding box.
    pub fn around(geom: &MultiPolygon<f64>) -> LocalMetric {
        use geo::BoundingRect;
        match geom.bounding_rect() {
            Some(r) => LocalMetric::new(r.center().x, r.center().y),
            None => LocalMetric::new(0.0, 0.0),
        }
    }

    /// Metres east/north of the reference point.
    #[inline]
    pub fn to_xy(&self, c: Coord<f64>) -> Coord<f64> {
        Coord {
            x: (c.x - self.lon0) * self.m_per_deg_lon,
            y: (c.y - self.lat0) * self.m_per_deg_lat,
        }
    }

    /// Lon/lat of a point given in metres east/north of the reference point.
    #[inline]
    pub fn to_lonlat(&self, p: Coord<f64>) -> Coord<f64> {
        Coord {
            x: self.lon0 + p.x / self.m_per_deg_lon,
            y: self.lat0 + p.y / self.m_per_deg_lat,
        }
    }

    /// Distance in metres between two lon/lat points (good for short distances).
    #[inline]
    pub fn distance_m(&self, a: Coord<f64>, b: Coord<f64>) -> f64 {
        let dx = (a.x - b.x) * self.m_per_deg_lon;
        let dy = (a.y - b.y) * self.m_per_deg_lat;
        dx.hypot(dy)
    }

    /// Degrees of longitude and latitude spanning `m` metres at the reference latitude.
    pub fn degrees(&self, m: f64) -> (f64, f64) {
        (m / self.m_per_deg_lon, m / self.m_per_deg_lat)
    }
}

/// Narrowest width of a polygon in metres: twice the radius of its maximum inscribed circle,
/// found by the polylabel cell-subdivision search to within `precision_m` metres.
///
/// ```
/// use geo_types::polygon;
/// // A 0.001° × 0.0001° strip near 36.8° N is about 11 m wide.
/// let p = polygon![(x: 118.0, y: 36.8), (x: 118.001, y: 36.8), (x: 118.001, y: 36.8001), (x: 118.0, y: 36.8001), (x: 118.0, y: 36.8)];
/// let w = tessera::spatial::measure::width_m(&p, 0.01);
/// assert!((w - 11.09).abs() < 0.05, "{w}");
/// ```
pub fn width_m(poly: &Polygon<f64>, precision_m: f64) -> f64 {
    let mp = MultiPolygon(vec![poly.clone()]);
    let lm = LocalMetric::around(&mp);
    let rings: Vec<Vec<Coord<f64>>> = std::iter::once(poly.exterior())
        .chain(poly.interiors())
        .map(|r| r.0.iter().map(|&c| lm.to_xy(c)).collect())
        .collect();
    2.0 * inscribed_radius(&rings, precision_m.max(1e-6))
}

/// Signed distance from `p` to the polygon boundary: positive inside, negative outside.
fn signed_dist(p: Coord<f64>, rings: &[Vec<Coord<f64>>]) -> f64 {
    let mut inside = false;
    let mut best = f64::INFINITY;
    for r in rings {
        for w in r.windows(2) {
            let (a, b) = (w[0], w[1]);
            if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
                inside = !inside;
            }
            best = best.min(segment_distance_2(p, a, b));
        }
    }
    let d = best.sqrt();
    if inside { d } else { -d }
}

#[derive(PartialEq)]
struct Cell {
    x: f64,
    y: f64,
    h: f64,
    d: f64,
    max: f64,
}
impl Eq for Cell {}
impl PartialOrd for Cell {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Cell {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.max.total_cmp(&o.max)
    }
}

fn cell(x: f64, y: f64, h: f64, rings: &[Vec<Coord<f64>>]) -> Cell {
    let d = signed_dist(Coord { x, y }, rings);
    Cell {
        x,
        y,
        h,
        d,
        max: d + h * std::f64::consts::SQRT_2,
    }
}

/// Maximum inscribed circle radius of planar rings (polylabel).
fn inscribed_radius(rings: &[Vec<Coord<f64>>], precision: f64) -> f64 {
    let ext = &rings[0];
    let (mut minx, mut miny, mut maxx, mut maxy) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for c in ext {
        minx = minx.min(c.x);
        miny = miny.min(c.y);
        maxx = maxx.max(c.x);
        maxy = maxy.max(c.y);
    }
    let (w, h) = (maxx - minx, maxy - miny);
    let size = w.min(h);
    if size.is_nan() || size <= 0.0 {
        return 0.0;
    }
    let half = size / 2.0;
    let mut heap = BinaryHeap::new();
    let mut x = minx;
    while x < maxx {
        let mut y = miny;
        while y < maxy {
            heap.push(cell(x + half, y + half, half, rings));
            y += size;
        }
        x += size;
    }
    // Start from the centroid of the exterior vertices and the bbox centre.
    let mut best = cell(minx + w / 2.0, miny + h / 2.0, 0.0, rings);
    let n = ext.len().saturating_sub(1).max(1) as f64;
    let (cx, cy) = ext
        .iter()
        .skip(1)
        .fold((0.0, 0.0), |(sx, sy), c| (sx + c.x / n, sy + c.y / n));
    let c = cell(cx, cy, 0.0, rings);
    if c.d > best.d {
        best = c;
    }
    let mut steps = 0usize;
    while let Some(c) = heap.pop() {
        if c.d > best.d {
            best = Cell { ..c };
        }
        if c.max - best.d <= precision || steps > 200_000 {
            continue;
        }
        steps += 1;
        let h2 = c.h / 2.0;
        for (dx, dy) in [(-h2, -h2), (h2, -h2), (-h2, h2), (h2, h2)] {
            heap.push(cell(c.x + dx, c.y + dy, h2, rings));
        }
    }
    best.d.max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::polygon;

    #[test]
    fn square_kilometre_near_zibo() {
        let lm = LocalMetric::new(118.05, 36.8);
        let (dlon, dlat) = lm.degrees(1000.0);
        let (x, y) = (118.05, 36.8);
        let p = MultiPolygon(vec![polygon![
            (x: x, y: y), (x: x + dlon, y: y), (x: x + dlon, y: y + dlat), (x: x, y: y + dlat), (x: x, y: y)
        ]]);
        let a = area_m2(&p);
        assert!((a - 1.0e6).abs() < 1.0e6 * 1e-3, "{a}");
        let w = width_m(&p.0[0], 0.01);
        assert!((w - 1000.0).abs() < 1.0, "{w}");
    }

    #[test]
    fn width_of_l_shape_is_set_by_its_elbow() {
        // Arms 10 m wide and 100 m long; the widest circle sits in the elbow, radius
        // 10 / (1 + 1/sqrt 2) m.
        let lm = LocalMetric::new(118.0, 36.8);
        let (dx, dy) = lm.degrees(1.0);
        let pt = |x: f64, y: f64| Coord {
            x: 118.0 + x * dx,
            y: 36.8 + y * dy,
        };
        let ring = vec![
            pt(0.0, 0.0),
            pt(100.0, 0.0),
            pt(100.0, 10.0),
            pt(10.0, 10.0),
            pt(10.0, 100.0),
            pt(0.0, 100.0),
            pt(0.0, 0.0),
        ];
        let w = width_m(&Polygon::new(geo_types::LineString(ring), vec![]), 0.01);
        let expected = 20.0 / (1.0 + std::f64::consts::FRAC_1_SQRT_2);
        assert!((w - expected).abs() < 0.2, "{w}");
    }
}
