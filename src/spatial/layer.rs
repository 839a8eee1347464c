//! Reading and writing a grid layer: a GeoJSON FeatureCollection (RFC 7946) of Polygon and
//! MultiPolygon features, one per grid.
//!
//! A grid's key is `properties.code` when present, else the Feature `id`, else its 0-based index;
//! a caller may name another property. Structural problems (not JSON, wrong types, open rings,
//! coordinates out of range) are errors naming the feature; geometric validity (self-intersection
//! and the like) is left to [`crate::spatial::validity`], which reports it per grid.
//!
//! Rings are stored normalized: exteriors counter-clockwise, holes clockwise, so that a polygon's
//! interior is always on the left of its rings. Many Chinese sources are clockwise; both are read.

use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;

/// One grid (网格): its key, its position in the input, its polygon and its other properties.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Stable key (grid code) used in every report.
    pub key: String,
    /// 0-based position of the feature in the input collection.
    pub index: usize,
    /// Geometry in WGS84 lon/lat degrees, exteriors counter-clockwise, holes clockwise.
    pub geometry: MultiPolygon<f64>,
    /// The feature's properties, kept as read (name, kind, community, households, …).
    pub properties: Map<String, Value>,
}

impl Grid {
    /// The grid as a GeoJSON Feature (its key in `properties.code` unless the properties
    /// already carry one).
    pub fn to_feature(&self) -> Value {
        let mut props = self.properties.clone();
        props
            .entry("code")
            .or_insert_with(|| Value::String(self.key.clone()));
        let geometry = geojson::Geometry::from(&self.geometry);
        serde_json::json!({
            "type": "Feature",
            "properties": props,
            "geometry": geometry,
        })
    }
}

/// A grid layer as read from a FeatureCollection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GridLayer {
    /// Grids in input order.
    pub grids: Vec<Grid>,
}

/// Where a grid's key comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum KeySource {
    /// `properties.code`, else the Feature `id`, else the 0-based index.
    #[default]
    Default,
    /// A named property (`--id-property NAME`); a feature without it is an error.
    Property(String),
}

/// What is wrong with one feature.
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureProblem {
    /// The feature is not a JSON object with `"type": "Feature"`.
    NotAFeature,
    /// A boundary with no geometry, or only empty ones.
    MissingGeometry,
    /// A geometry type other than Polygon or MultiPolygon.
    UnsupportedGeometry(String),
    /// `coordinates` does not have the nesting the geometry type needs.
    MalformedCoordinates(String),
    /// A ring's first and last positions differ.
    RingNotClosed {
        /// Which ring.
        ring: RingRef,
        /// First position.
        first: [f64; 2],
        /// Last position.
        last: [f64; 2],
    },
    /// A ring has fewer than 4 positions.
    TooFewPositions {
        /// Which ring.
        ring: RingRef,
        /// How many it has.
        count: usize,
    },
    /// A coordinate is NaN or infinite, or lon/lat is out of range.
    BadCoordinate {
        /// Which ring.
        ring: RingRef,
        /// Position within the ring.
        position: usize,
        /// Why it is bad.
        reason: String,
    },
    /// The key property named by `--id-property` is missing or not a string/number.
    MissingKey(String),
}

/// A ring within a feature: polygon number (0 for a Polygon) and ring number (0 = exterior).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingRef {
    /// Polygon within a MultiPolygon (0 for a Polygon).
    pub polygon: usize,
    /// Ring within the polygon; 0 is the exterior, 1.. are holes.
    pub ring: usize,
}

impl fmt::Display for RingRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let role = if self.ring == 0 {
            "exterior ring".to_string()
        } else {
            format!("hole {}", self.ring - 1)
        };
        if self.polygon == 0 {
            write!(f, "{role}")
        } else {
            write!(f, "polygon {} {role}", self.polygon)
        }
    }
}

impl fmt::Display for FeatureProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAFeature => write!(f, "is not a GeoJSON Feature object"),
            Self::MissingGeometry => write!(f, "has no geometry (the boundary is empty)"),
            Self::UnsupportedGeometry(t) => write!(
                f,
                "has geometry type {t}; only Polygon and MultiPolygon grids are supported"
            ),
            Self::MalformedCoordinates(why) => write!(f, "has malformed coordinates: {why}"),
            Self::RingNotClosed { ring, first, last } => write!(
                f,
                "{ring} is not closed: first position {},{} differs from last {},{}",
                first[0], first[1], last[0], last[1]
            ),
            Self::TooFewPositions { ring, count } => write!(
                f,
                "{ring} has {count} positions; a closed ring needs at least 4"
            ),
            Self::BadCoordinate {
                ring,
                position,
                reason,
            } => write!(f, "{ring} position {position}: {reason}"),
            Self::MissingKey(name) => write!(f, "has no string or number property {name:?}"),
        }
    }
}

/// Why a layer could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    /// The text is not JSON.
    #[error("not valid JSON: {0}")]
    NotJson(#[from] serde_json::Error),
    /// The JSON is not a FeatureCollection.
    #[error("expected a GeoJSON FeatureCollection, found {0}")]
    NotFeatureCollection(String),
    /// One feature is unusable.
    #[error("feature {index}{}: {problem}", key.as_ref().map(|k| format!(" ({k})")).unwrap_or_default())]
    Feature {
        /// 0-based feature index.
        index: usize,
        /// The feature's key, when it could be read.
        key: Option<String>,
        /// What is wrong.
        problem: FeatureProblem,
    },
    /// The FeatureCollection has no features.
    #[error("the layer has no grids: its FeatureCollection has an empty features array")]
    NoGrids,
    /// Several features share a key (only where keys must be unique).
    #[error("duplicate grid keys: {}", .0.join(", "))]
    DuplicateKeys(Vec<String>),
}

impl GridLayer {
    /// Keys that occur more than once, each listed once, in order of first repeat.
    pub fn duplicate_keys(&self) -> Vec<String> {
        use std::hash::BuildHasher;
        // (32-bit hash of the key, grid index), radix-sorted: equal keys end up next to each
        // other, in grid order, without a hash table's random reads over every key.
        let hasher = foldhash::fast::FixedState::with_seed(0x7465_7373);
        let mut entries: Vec<(u32, u32)> = self
            .grids
            .iter()
            .enumerate()
            .map(|(i, g)| ((hasher.hash_one(g.key.as_str()) >> 32) as u32, i as u32))
            .collect();
        crate::spatial::rings::radix_sort(&mut entries);
        // The grid at which each key is seen the second time, in grid order.
        let mut second: Vec<u32> = Vec::new();
        // A run shares a hash; its keys are told apart exactly (runs are short).
        for run in entries.chunk_by(|a, b| a.0 == b.0) {
            for (k, &(_, g)) in run.iter().enumerate() {
                let key = &self.grids[g as usize].key;
                let before = run[..k]
                    .iter()
                    .filter(|&&(_, h)| self.grids[h as usize].key == *key)
                    .count();
                if before == 1 {
                    second.push(g);
                }
            }
        }
        second.sort_unstable();
        second
            .into_iter()
            .map(|g| self.grids[g as usize].key.clone())
            .collect()
    }

    /// Errors with [`LayerError::DuplicateKeys`] unless every key is unique.
    pub fn ensure_unique_keys(&self) -> Result<(), LayerError> {
        let dups = self.duplicate_keys();
        if dups.is_empty() {
            Ok(())
        } else {
            Err(LayerError::DuplicateKeys(dups))
        }
    }

    /// The grids' geometries, in order.
    pub fn geometries(&self) -> Vec<MultiPolygon<f64>> {
        self.grids.iter().map(|g| g.geometry.clone()).collect()
    }

    /// Writes the layer as a FeatureCollection (keys in `properties.code` unless the properties
    /// already carry one).
    pub fn to_geojson(&self) -> Value {
        let features: Vec<Value> = self.grids.iter().map(Grid::to_feature).collect();
        serde_json::json!({"type": "FeatureCollection", "features": features})
    }

    /// Writes the layer as a FeatureCollection to `out` one feature at a time (the same text as
    /// [`GridLayer::to_geojson`], without holding it all in memory: for layers of 10⁶ grids).
    pub fn write_geojson(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        out.write_all(br#"{"type":"FeatureCollection","features":["#)?;
        for (i, g) in self.grids.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            serde_json::to_writer(&mut *out, &g.to_feature())?;
        }
        out.write_all(b"]}\n")
    }
}

/// Reads a grid layer from GeoJSON text. See the module docs for the rules.
///
/// ```
/// let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature",
///   "properties":{"code":"A"},"geometry":{"type":"Polygon",
///   "coordinates":[[[0,0],[0,1],[1,1],[1,0],[0,0]]]}}]}"#;
/// let layer = tessera::spatial::read_layer(text, &Default::default()).unwrap();
/// assert_eq!(layer.grids[0].key, "A");
/// ```
pub fn read_layer(text: &str, keys: &KeySource) -> Result<GridLayer, LayerError> {
    let root: Value = serde_json::from_str(text)?;
    let mut layer = read_layer_value(&root, keys)?;
    keep_numeric_keys_exact(text, &root, keys, &mut layer)?;
    Ok(layer)
}

/// Grid codes written as JSON numbers too long for 64-bit integers (`37030300100100100101`)
/// are parsed as floating point and would lose digits (two codes could even become equal).
/// When a key is such a number, its exact text is taken from the source instead, and the
/// property is kept as that text.
fn keep_numeric_keys_exact(
    text: &str,
    root: &Value,
    keys: &KeySource,
    layer: &mut GridLayer,
) -> Result<(), LayerError> {
    use serde_json::value::RawValue;
    let field = match keys {
        KeySource::Default => "code",
        KeySource::Property(name) => name.as_str(),
    };
    let inexact = |v: Option<&Value>| v.is_some_and(|v| v.as_number().is_some_and(|n| n.is_f64()));
    let features = root["features"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let any = features.iter().any(|f| {
        inexact(f["properties"].get(field))
            || (matches!(keys, KeySource::Default) && inexact(f.get("id")))
    });
    if !any {
        return Ok(());
    }
    #[derive(serde::Deserialize)]
    struct RawFeature<'a> {
        #[serde(borrow, default)]
        id: Option<&'a RawValue>,
        #[serde(borrow, default)]
        properties: Option<HashMap<String, &'a RawValue>>,
    }
    #[derive(serde::Deserialize)]
    struct RawCollection<'a> {
        #[serde(borrow)]
        features: Vec<RawFeature<'a>>,
    }
    let raw: RawCollection<'_> = serde_json::from_str(text)?;
    let number_text = |r: Option<&RawValue>| {
        r.map(|r| r.get().trim())
            .filter(|t| t.starts_with(|c: char| c == '-' || c.is_ascii_digit()))
            .map(str::to_string)
    };
    for (grid, rf) in layer.grids.iter_mut().zip(&raw.features) {
        let from_property = rf.properties.as_ref().and_then(|p| p.get(field)).copied();
        if let Some(t) = number_text(from_property) {
            if grid.properties.get(field).is_some_and(|v| v.is_f64()) {
                grid.key = t.clone();
                grid.properties.insert(field.to_string(), Value::String(t));
            }
        } else if matches!(keys, KeySource::Default)
            && !grid
                .properties
                .get(field)
                .is_some_and(|v| v.is_string() || v.is_number())
            && let Some(t) = number_text(rf.id)
        {
            grid.key = t;
        }
    }
    Ok(())
}

/// Like [`read_layer`] for already-parsed JSON.
pub fn read_layer_value(root: &Value, keys: &KeySource) -> Result<GridLayer, LayerError> {
    let kind = root.get("type").and_then(Value::as_str);
    if kind != Some("FeatureCollection") {
        return Err(LayerError::NotFeatureCollection(describe(root)));
    }
    let features = root
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            LayerError::NotFeatureCollection("a FeatureCollection without a features array".into())
        })?;
    if features.is_empty() {
        return Err(LayerError::NoGrids);
    }
    let mut grids = Vec::with_capacity(features.len());
    for (index, feature) in features.iter().enumerate() {
        grids.push(read_feature(index, feature, keys)?);
    }
    Ok(GridLayer { grids })
}

fn describe(v: &Value) -> String {
    match v.get("type").and_then(Value::as_str) {
        Some(t) => format!("an object of type {t:?}"),
        None => match v {
            Value::Object(_) => "an object without \"type\"".into(),
            Value::Array(_) => "an array".into(),
            _ => format!("a JSON {}", json_kind(v)),
        },
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn key_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn read_feature(index: usize, feature: &Value, keys: &KeySource) -> Result<Grid, LayerError> {
    let fail = |key: Option<String>, problem| LayerError::Feature {
        index,
        key,
        problem,
    };
    if feature.get("type").and_then(Value::as_str) != Some("Feature") {
        return Err(fail(None, FeatureProblem::NotAFeature));
    }
    let properties = match feature.get("properties") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    let key = match keys {
        KeySource::Default => properties
            .get("code")
            .and_then(key_text)
            .or_else(|| feature.get("id").and_then(key_text))
            .unwrap_or_else(|| index.to_string()),
        KeySource::Property(name) => properties
            .get(name)
            .and_then(key_text)
            .ok_or_else(|| fail(None, FeatureProblem::MissingKey(name.clone())))?,
    };
    // A null geometry (as QGIS writes for a feature without one) is an empty grid: it covers
    // nothing, and validation reports it as `empty_geometry`.
    let geometry = match feature.get("geometry") {
        None | Some(Value::Null) => MultiPolygon(Vec::new()),
        Some(g) => read_geometry(g).map_err(|p| fail(Some(key.clone()), p))?,
    };
    Ok(Grid {
        key,
        index,
        geometry,
        properties,
    })
}

/// Reads a Polygon or MultiPolygon GeoJSON geometry object into a normalized MultiPolygon.
/// Empty geometries (`"coordinates": []`, `POLYGON EMPTY`) read as an empty MultiPolygon, and
/// the empty parts of a MultiPolygon are left out.
pub fn read_geometry(geometry: &Value) -> Result<MultiPolygon<f64>, FeatureProblem> {
    let gtype = geometry
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("(none)");
    let coords = geometry.get("coordinates");
    match gtype {
        "Polygon" => {
            let c = coords.ok_or_else(|| malformed("no coordinates member"))?;
            if c.as_array().is_some_and(Vec::is_empty) {
                return Ok(MultiPolygon(Vec::new()));
            }
            Ok(MultiPolygon(vec![read_polygon(c, 0)?]))
        }
        "MultiPolygon" => {
            let parts = coords.and_then(Value::as_array).ok_or_else(|| {
                malformed("MultiPolygon coordinates must be an array of polygons")
            })?;
            let polys = parts
                .iter()
                .enumerate()
                .filter(|(_, p)| !p.as_array().is_some_and(Vec::is_empty))
                .map(|(i, p)| read_polygon(p, i))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(MultiPolygon(polys))
        }
        other => Err(FeatureProblem::UnsupportedGeometry(other.to_string())),
    }
}

fn malformed(why: &str) -> FeatureProblem {
    FeatureProblem::MalformedCoordinates(why.to_string())
}

fn read_polygon(v: &Value, polygon: usize) -> Result<Polygon<f64>, FeatureProblem> {
    let rings = v
        .as_array()
        .ok_or_else(|| malformed("a polygon must be an array of rings"))?;
    if rings.is_empty() {
        return Err(malformed("a polygon has no rings"));
    }
    let mut out = Vec::with_capacity(rings.len());
    for (ring, r) in rings.iter().enumerate() {
        let at = RingRef { polygon, ring };
        let mut line = read_ring(r, at)?;
        // Exterior counter-clockwise, holes clockwise: interior on the left.
        let ccw = signed_area(&line.0) > 0.0;
        if (ring == 0) != ccw {
            line.0.reverse();
        }
        out.push(line);
    }
    let exterior = out.remove(0);
    Ok(Polygon::new(exterior, out))
}

fn read_ring(v: &Value, at: RingRef) -> Result<LineString<f64>, FeatureProblem> {
    let positions = v
        .as_array()
        .ok_or_else(|| malformed(&format!("{at} must be an array of positions")))?;
    let mut coords = Vec::with_capacity(positions.len());
    for (position, p) in positions.iter().enumerate() {
        let bad = |reason: String| FeatureProblem::BadCoordinate {
            ring: at,
            position,
            reason,
        };
        let arr = p
            .as_array()
            .filter(|a| a.len() >= 2)
            .ok_or_else(|| bad("a position must be an array of at least 2 numbers".into()))?;
        let lon = arr[0].as_f64().ok_or_else(|| {
            bad(format!(
                "longitude is a {}, not a number",
                json_kind(&arr[0])
            ))
        })?;
        let lat = arr[1].as_f64().ok_or_else(|| {
            bad(format!(
                "latitude is a {}, not a number",
                json_kind(&arr[1])
            ))
        })?;
        if !lon.is_finite() || !lat.is_finite() {
            return Err(bad(format!("non-finite coordinate {lon},{lat}")));
        }
        if !(-180.0..=180.0).contains(&lon) {
            return Err(bad(format!("longitude {lon} is outside -180..180")));
        }
        if !(-90.0..=90.0).contains(&lat) {
            return Err(bad(format!("latitude {lat} is outside -90..90")));
        }
        // -0.0 and 0.0 are the same point; keep one bit pattern so exact matching works.
        coords.push(Coord {
            x: lon + 0.0,
            y: lat + 0.0,
        });
    }
    if coords.len() < 4 {
        return Err(FeatureProblem::TooFewPositions {
            ring: at,
            count: coords.len(),
        });
    }
    let (first, last) = (coords[0], coords[coords.len() - 1]);
    if first != last {
        return Err(FeatureProblem::RingNotClosed {
            ring: at,
            first: [first.x, first.y],
            last: [last.x, last.y],
        });
    }
    Ok(LineString(coords))
}

/// Reads a boundary: a Polygon or MultiPolygon geometry, a Feature, or a FeatureCollection
/// (all its polygons together). Extra members (such as a bare geometry's `properties`) are ignored.
pub fn read_boundary(text: &str) -> Result<MultiPolygon<f64>, LayerError> {
    let root: Value = serde_json::from_str(text)?;
    let fail = |index, problem| LayerError::Feature {
        index,
        key: None,
        problem,
    };
    let boundary = match root.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => {
            let layer = read_layer_value(&root, &KeySource::Default)?;
            Ok(MultiPolygon(
                layer.grids.into_iter().flat_map(|g| g.geometry.0).collect(),
            ))
        }
        Some("Feature") => match root.get("geometry") {
            Some(g) if !g.is_null() => read_geometry(g).map_err(|p| fail(0, p)),
            _ => Err(fail(0, FeatureProblem::MissingGeometry)),
        },
        Some("Polygon" | "MultiPolygon") => read_geometry(&root).map_err(|p| fail(0, p)),
        _ => Err(LayerError::NotFeatureCollection(format!(
            "{} (a boundary must be a Polygon, MultiPolygon, Feature or FeatureCollection)",
            describe(&root)
        ))),
    }?;
    if boundary.0.is_empty() {
        return Err(fail(0, FeatureProblem::MissingGeometry));
    }
    Ok(boundary)
}

/// Twice the signed area of a closed ring in coordinate units (positive = counter-clockwise).
pub fn signed_area(ring: &[Coord<f64>]) -> f64 {
    ring.windows(2)
        .map(|w| (w[0].x - w[1].x) * (w[0].y + w[1].y))
        .sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fc(features: &str) -> String {
        format!(r#"{{"type":"FeatureCollection","features":[{features}]}}"#)
    }
    const SQ_CW: &str = r#"{"type":"Polygon","coordinates":[[[0,0],[0,1],[1,1],[1,0],[0,0]]]}"#;

    #[test]
    fn keys_come_from_code_then_id_then_index() {
        let text = fc(&format!(
            r#"{{"type":"Feature","properties":{{"code":"C1","name":"n"}},"geometry":{SQ_CW}}},
               {{"type":"Feature","id":7,"properties":{{}},"geometry":{SQ_CW}}},
               {{"type":"Feature","properties":null,"geometry":{SQ_CW}}}"#
        ));
        let layer = read_layer(&text, &KeySource::Default).unwrap();
        let keys: Vec<_> = layer.grids.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, ["C1", "7", "2"]);
        assert_eq!(layer.grids[0].properties["name"], "n");
        let by_name = read_layer(&text, &KeySource::Property("name".into()));
        assert!(matches!(by_name, Err(LayerError::Feature { index: 1, .. })));
    }

    #[test]
    fn clockwise_exteriors_are_normalized() {
        let text = fc(&format!(r#"{{"type":"Feature","geometry":{SQ_CW}}}"#));
        let layer = read_layer(&text, &KeySource::Default).unwrap();
        assert!(signed_area(&layer.grids[0].geometry.0[0].exterior().0) > 0.0);
    }

    fn err(text: &str) -> String {
        read_layer(text, &KeySource::Default)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn bad_input_names_the_feature_and_problem() {
        assert!(err("{").starts_with("not valid JSON"));
        assert!(err(r#"{"type":"Feature"}"#).contains("FeatureCollection"));
        let open = fc(
            r#"{"type":"Feature","properties":{"code":"X"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[0,1],[1,1],[1,0],[0,0.5]]]}}"#,
        );
        let e = err(&open);
        assert!(
            e.contains("feature 0 (X)") && e.contains("not closed"),
            "{e}"
        );
        let short = fc(
            r#"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[0,1],[0,0]]]}}"#,
        );
        assert!(err(&short).contains("3 positions"));
        let range = fc(
            r#"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[0,91],[1,1],[0,0]]]}}"#,
        );
        assert!(err(&range).contains("latitude 91 is outside"));
        let point = fc(r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[0,0]}}"#);
        assert!(err(&point).contains("geometry type Point"));
        let text_coord = fc(
            r#"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],["a",1],[1,1],[0,0]]]}}"#,
        );
        assert!(err(&text_coord).contains("position 1"));
        // A null geometry is an empty grid, reported by validation, not a reading error.
        let nogeom = fc(r#"{"type":"Feature","geometry":null}"#);
        let layer = read_layer(&nogeom, &KeySource::Default).unwrap();
        assert!(layer.grids[0].geometry.0.is_empty());
        assert!(
            read_boundary(&nogeom)
                .unwrap_err()
                .to_string()
                .contains("has no geometry")
        );
    }

    #[test]
    fn duplicate_keys_of_a_large_layer_as_a_hash_table_finds_them() {
        // 20,000 grids with keys drawn from 15,000 (many repeated, some three times or more):
        // the sorted pass lists exactly the keys a hash table finds repeated, in the order of
        // their first repeat.
        let mut rng = crate::spatial::synth::Rng::new(11);
        let layer = GridLayer {
            grids: (0..20_000)
                .map(|index| Grid {
                    key: format!("3703030{:08}", rng.next_u64() % 15_000),
                    index,
                    geometry: MultiPolygon(vec![]),
                    properties: Map::new(),
                })
                .collect(),
        };
        let mut seen = std::collections::HashMap::new();
        let mut expected = Vec::new();
        for g in &layer.grids {
            let n = seen.entry(g.key.as_str()).or_insert(0);
            *n += 1;
            if *n == 2 {
                expected.push(g.key.clone());
            }
        }
        assert!(expected.len() > 1_000);
        assert_eq!(layer.duplicate_keys(), expected);
    }

    #[test]
    fn duplicate_keys_are_listed_once() {
        let f = format!(r#"{{"type":"Feature","properties":{{"code":"A"}},"geometry":{SQ_CW}}}"#);
        let text = fc(&[f.as_str(), f.as_str(), f.as_str()].join(","));
        let layer = read_layer(&text, &KeySource::Default).unwrap();
        assert_eq!(layer.duplicate_keys(), ["A"]);
        assert!(layer.ensure_unique_keys().is_err());
    }
}
