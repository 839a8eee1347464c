//! The planar primitives every geometry module shares, so that each decision is made one way
//! everywhere: the exact orientation predicate and the point–segment distance. Coordinates are
//! whatever plane the caller works in (lon/lat degrees, or metres of a
//! [`LocalMetric`](super::measure::LocalMetric)).

use geo_types::Coord;

/// Twice the signed area of triangle `abc`: positive when `c` lies left of the directed line
/// `a → b` (counter-clockwise), negative when right, and exactly zero only when the three points
/// are collinear. Exact for any finite `f64` input (Shewchuk's adaptive-precision predicate, as
/// implemented by the `robust` crate); the magnitude is approximate, the sign is not.
///
/// ```
/// use geo_types::coord;
/// use tessera::spatial::predicates::orient;
/// assert!(orient(coord! { x: 0., y: 0. }, coord! { x: 1., y: 0. }, coord! { x: 0.5, y: 1. }) > 0.0);
/// // Collinear to the last bit, although 0.1 + 0.2 != 0.3 in floating point.
/// assert_eq!(orient(coord! { x: 0., y: 0. }, coord! { x: 0.1, y: 0.1 }, coord! { x: 0.3, y: 0.3 }), 0.0);
/// ```
#[inline]
pub fn orient(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> f64 {
    robust::orient2d(
        robust::Coord { x: a.x, y: a.y },
        robust::Coord { x: b.x, y: b.y },
        robust::Coord { x: c.x, y: c.y },
    )
}

/// Squared distance from point `p` to the closed segment `ab` (to `a` when `a == b`), in the
/// square of the coordinates' unit.
///
/// ```
/// use geo_types::coord;
/// use tessera::spatial::predicates::segment_distance_2;
/// let (a, b) = (coord! { x: 0., y: 0. }, coord! { x: 4., y: 0. });
/// assert_eq!(segment_distance_2(coord! { x: 2., y: 3. }, a, b), 9.0); // above the middle
/// assert_eq!(segment_distance_2(coord! { x: 7., y: 4. }, a, b), 25.0); // beyond b
/// ```
#[inline]
pub fn segment_distance_2(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p.x - a.x) * dx + (p.y - a.y) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (qx, qy) = (a.x + t * dx - p.x, a.y + t * dy - p.y);
    qx * qx + qy * qy
}
