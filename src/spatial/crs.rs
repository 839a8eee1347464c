//! Chinese coordinate systems (placeholder until the converter lands).
use std::str::FromStr;
/// Coordinate reference system of an input point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Crs {
    #[default]
    Wgs84,
    Gcj02,
    Bd09,
}
/// Unknown CRS name.
#[derive(Debug, thiserror::Error)]
#[error("unknown crs {0:?}: expected wgs84, gcj02 or bd09")]
pub struct UnknownCrs(pub String);
impl FromStr for Crs {
    type Err = UnknownCrs;
    fn from_str(s: &str) -> Result<Self, UnknownCrs> {
        match s.to_ascii_lowercase().as_str() {
            "wgs84" => Ok(Crs::Wgs84),
            "gcj02" => Ok(Crs::Gcj02),
            "bd09" => Ok(Crs::Bd09),
            _ => Err(UnknownCrs(s.into())),
        }
    }
}
/// Converts to WGS84.
pub fn to_wgs84(_crs: Crs, lon: f64, lat: f64) -> (f64, f64) {
    (lon, lat)
}
