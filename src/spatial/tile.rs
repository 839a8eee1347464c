//! Mapbox Vector Tiles (MVT 2.1) of grids and points, for maps at any scale.
//!
//! A tile `z/x/y` is a square of the Web Mercator (EPSG:3857) plane in the XYZ scheme (x from
//! the antimeridian eastwards, y from the north). Geometries are projected into tile
//! coordinates (`EXTENT` units across, y down), clipped to the tile grown by `BUFFER` units on
//! each side, snapped to integers, and rings that collapse to no area are dropped — the same
//! steps, extent and buffer as PostGIS's `ST_AsMVTGeom(geom, ST_TileEnvelope(z, x, y), 4096,
//! 64, true)`, so that both backends give the same features. Exterior rings are written
//! clockwise and holes counter-clockwise in tile coordinates, as the specification requires
//! (section 4.3.4.4). The protobuf messages are those of `geozero::mvt`.
//!
//! Source: Mapbox Vector Tile Specification 2.1, <https://github.com/mapbox/vector-tile-spec>.

use geo_types::{Coord, MultiPolygon, Rect};
use geozero::mvt::{Message, TagsBuilder, TileValue, tile};

/// Tile coordinate units across a tile (the specification's and PostGIS's default).
pub const EXTENT: u32 = 4096;
/// Units a geometry is kept beyond each tile edge before clipping (PostGIS's `buffer`; enough
/// for a renderer to draw outlines across tile seams).
pub const BUFFER: u32 = 64;
/// Deepest zoom served (about 2 cm per tile unit at the equator).
pub const MAX_ZOOM: u8 = 24;
/// Latitude limit of Web Mercator, degrees (atan(sinh(π))).
const MAX_LAT: f64 = 85.051_128_779_806_59;

/// A tile address `z/x/y` (XYZ scheme: y = 0 is the northernmost row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileId {
    /// Zoom, 0..=`MAX_ZOOM`.
    pub z: u8,
    /// Column, 0..2^z.
    pub x: u32,
    /// Row, 0..2^z.
    pub y: u32,
}

/// A tile address that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    /// Zoom beyond `MAX_ZOOM`.
    #[error("zoom {0} is beyond the deepest zoom served ({MAX_ZOOM})")]
    Zoom(u32),
    /// Column or row outside 0..2^z.
    #[error("tile {x}/{y} does not exist at zoom {z}: columns and rows run from 0 to {max}")]
    Position {
        /// Zoom.
        z: u32,
        /// Column asked for.
        x: u32,
        /// Row asked for.
        y: u32,
        /// 2^z − 1.
        max: u64,
    },
}

impl TileId {
    /// The tile `z/x/y`, checked.
    ///
    /// # Errors
    /// [`TileError`] when `z > MAX_ZOOM` or `x`, `y` ≥ 2^z.
    pub fn new(z: u32, x: u32, y: u32) -> Result<TileId, TileError> {
        if z > u32::from(MAX_ZOOM) {
            return Err(TileError::Zoom(z));
        }
        let n = 1u64 << z;
        if u64::from(x) >= n || u64::from(y) >= n {
            return Err(TileError::Position {
                z,
                x,
                y,
                max: n - 1,
            });
        }
        Ok(TileId { z: z as u8, x, y })
    }

    /// Tiles across the world at this zoom (2^z).
    fn span(&self) -> f64 {
        (1u64 << self.z) as f64
    }

    /// `c` (lon/lat degrees) in this tile's coordinates: units of `EXTENT` per tile, origin at
    /// the tile's north-west corner, y down. Latitudes beyond Web Mercator's ±85.05° are
    /// clamped.
    pub fn project(&self, c: Coord<f64>) -> Coord<f64> {
        let n = self.span();
        let wx = (c.x + 180.0) / 360.0 * n;
        let lat = c.y.clamp(-MAX_LAT, MAX_LAT).to_radians();
        let wy = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
        let e = f64::from(EXTENT);
        Coord {
            x: (wx - f64::from(self.x)) * e,
            y: (wy - f64::from(self.y)) * e,
        }
    }

    /// The lon/lat rectangle of the tile grown by `BUFFER` units on each side: what an index
    /// query must return candidates for.
    pub fn query_rect(&self) -> Rect<f64> {
        let n = self.span();
        let b = f64::from(BUFFER) / f64::from(EXTENT);
        let lon = |wx: f64| wx / n * 360.0 - 180.0;
        let lat = |wy: f64| {
            (std::f64::consts::PI * (1.0 - 2.0 * wy / n))
                .sinh()
                .atan()
                .to_degrees()
        };
        let (x0, x1) = (f64::from(self.x) - b, f64::from(self.x) + 1.0 + b);
        let (y0, y1) = (f64::from(self.y) - b, f64::from(self.y) + 1.0 + b);
        Rect::new(
            Coord {
                x: lon(x0),
                y: lat(y1),
            },
            Coord {
                x: lon(x1),
                y: lat(y0),
            },
        )
    }
}

/// One layer of a tile being written: features are added one by one; what falls outside the
/// buffered tile, or collapses below one unit, is left out.
pub struct LayerBuilder {
    tile: TileId,
    name: String,
    features: Vec<tile::Feature>,
    tags: TagsBuilder,
}

impl LayerBuilder {
    /// An empty layer called `name` for `tile`.
    pub fn new(tile: TileId, name: &str) -> LayerBuilder {
        LayerBuilder {
            tile,
            name: name.to_owned(),
            features: Vec::new(),
            tags: TagsBuilder::new(),
        }
    }

    /// Features added so far.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// Whether no feature was kept.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// Adds a (multi)polygon in lon/lat degrees with its `tags`; returns whether anything of it
    /// is left in the tile.
    pub fn polygon(&mut self, geometry: &MultiPolygon<f64>, tags: &[(&str, TileValue)]) -> bool {
        let mut commands = Vec::new();
        let mut cursor = (0i32, 0i32);
        let lo = -f64::from(BUFFER);
        let hi = f64::from(EXTENT + BUFFER);
        for polygon in &geometry.0 {
            let Some(shell) = self.ring(polygon.exterior(), lo, hi, true) else {
                continue;
            };
            encode_ring(&shell, &mut cursor, &mut commands);
            for hole in polygon.interiors() {
                if let Some(hole) = self.ring(hole, lo, hi, false) {
                    encode_ring(&hole, &mut cursor, &mut commands);
                }
            }
        }
        if commands.is_empty() {
            return false;
        }
        self.push(tile::GeomType::Polygon, commands, tags);
        true
    }

    /// Adds a point in lon/lat degrees with its `tags`; returns whether it is in the buffered
    /// tile.
    pub fn point(&mut self, p: Coord<f64>, tags: &[(&str, TileValue)]) -> bool {
        let t = self.tile.project(p);
        let (lo, hi) = (-f64::from(BUFFER), f64::from(EXTENT + BUFFER));
        if !(lo..=hi).contains(&t.x) || !(lo..=hi).contains(&t.y) {
            return false;
        }
        let (x, y) = (t.x.round() as i32, t.y.round() as i32);
        let commands = vec![command(MOVE_TO, 1), zigzag(x), zigzag(y)];
        self.push(tile::GeomType::Point, commands, tags);
        true
    }

    fn push(&mut self, kind: tile::GeomType, geometry: Vec<u32>, tags: &[(&str, TileValue)]) {
        let mut encoded = Vec::with_capacity(tags.len() * 2);
        for (k, v) in tags {
            let (ki, vi) = self.tags.insert_ref(k, v.clone());
            encoded.extend([ki, vi]);
        }
        self.features.push(tile::Feature {
            id: None,
            tags: encoded,
            r#type: Some(kind as i32),
            geometry,
        });
    }

    /// One ring projected, clipped to [lo, hi]², snapped to integers and closed implicitly;
    /// `None` when it has no area left. Oriented clockwise in tile coordinates (y down) when
    /// `shell`, counter-clockwise otherwise.
    fn ring(
        &self,
        ring: &geo_types::LineString<f64>,
        lo: f64,
        hi: f64,
        shell: bool,
    ) -> Option<Vec<(i32, i32)>> {
        let mut pts: Vec<Coord<f64>> = ring.0.iter().map(|&c| self.tile.project(c)).collect();
        if pts.len() > 1 && pts.first() == pts.last() {
            pts.pop();
        }
        let inside = pts
            .iter()
            .all(|p| p.x >= lo && p.x <= hi && p.y >= lo && p.y <= hi);
        if !inside {
            pts = clip(&pts, lo, hi);
        }
        let mut out: Vec<(i32, i32)> = Vec::with_capacity(pts.len());
        for p in pts {
            let q = (p.x.round() as i32, p.y.round() as i32);
            if out.last() != Some(&q) {
                out.push(q);
            }
        }
        while out.len() > 1 && out.first() == out.last() {
            out.pop();
        }
        if out.len() < 3 {
            return None;
        }
        // Shoelace in tile coordinates: positive = clockwise on screen (y down).
        let twice: i64 = (0..out.len())
            .map(|i| {
                let (a, b) = (out[i], out[(i + 1) % out.len()]);
                i64::from(a.0) * i64::from(b.1) - i64::from(b.0) * i64::from(a.1)
            })
            .sum();
        if twice == 0 {
            return None;
        }
        if (twice > 0) != shell {
            out.reverse();
        }
        Some(out)
    }

    /// The finished layer (`None` when no feature was kept: empty layers are not written).
    fn finish(self) -> Option<tile::Layer> {
        if self.features.is_empty() {
            return None;
        }
        let (keys, values) = self.tags.into_tags();
        Some(tile::Layer {
            version: 2,
            name: self.name,
            features: self.features,
            keys,
            values: values.into_iter().map(Into::into).collect(),
            extent: Some(EXTENT),
        })
    }
}

/// The encoded tile of `layers` (empty layers left out; a tile with no feature is 0 bytes).
pub fn encode(layers: impl IntoIterator<Item = LayerBuilder>) -> Vec<u8> {
    let tile = geozero::mvt::Tile {
        layers: layers
            .into_iter()
            .filter_map(LayerBuilder::finish)
            .collect(),
    };
    tile.encode_to_vec()
}

/// A decoded feature: its layer, geometry type, tags as text and the area its rings enclose in
/// tile units² (shells positive, holes negative; 0 for points).
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedFeature {
    /// Layer name.
    pub layer: String,
    /// `Point`, `LineString` or `Polygon`.
    pub kind: &'static str,
    /// Tags as `(key, value as text)`.
    pub tags: Vec<(String, String)>,
    /// Signed area in tile units² (polygons), from the decoded rings.
    pub area: f64,
    /// The first position of the geometry, in tile units.
    pub first: (i32, i32),
}

impl DecodedFeature {
    /// The value of tag `key`, if present.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads an encoded tile back into its features (for checks and comparisons).
///
/// # Errors
/// A message naming what is malformed: not a vector tile, a tag or command out of range.
pub fn decode(bytes: &[u8]) -> Result<Vec<DecodedFeature>, String> {
    let tile = geozero::mvt::Tile::decode(bytes).map_err(|e| format!("not a vector tile: {e}"))?;
    let mut out = Vec::new();
    for layer in tile.layers {
        for f in &layer.features {
            let mut tags = Vec::new();
            for pair in f.tags.chunks(2) {
                let [k, v] = pair else {
                    return Err(format!("layer {}: odd number of tag indices", layer.name));
                };
                let key = layer.keys.get(*k as usize).ok_or("tag key out of range")?;
                let value = layer
                    .values
                    .get(*v as usize)
                    .ok_or("tag value out of range")?;
                tags.push((key.clone(), value_text(value)));
            }
            let kind = match f.r#type {
                Some(1) => "Point",
                Some(2) => "LineString",
                Some(3) => "Polygon",
                other => return Err(format!("unknown geometry type {other:?}")),
            };
            let (area, first) = decode_geometry(&f.geometry)?;
            out.push(DecodedFeature {
                layer: layer.name.clone(),
                kind,
                tags,
                area,
                first,
            });
        }
    }
    Ok(out)
}

fn value_text(v: &tile::Value) -> String {
    if let Some(s) = &v.string_value {
        s.clone()
    } else if let Some(x) = v.double_value {
        x.to_string()
    } else if let Some(x) = v.float_value {
        x.to_string()
    } else if let Some(x) = v.int_value {
        x.to_string()
    } else if let Some(x) = v.uint_value {
        x.to_string()
    } else if let Some(x) = v.sint_value {
        x.to_string()
    } else if let Some(x) = v.bool_value {
        x.to_string()
    } else {
        String::new()
    }
}

const MOVE_TO: u32 = 1;
const LINE_TO: u32 = 2;
const CLOSE_PATH: u32 = 7;

fn command(id: u32, count: u32) -> u32 {
    (id & 0x7) | (count << 3)
}

fn zigzag(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

fn unzigzag(v: u32) -> i32 {
    ((v >> 1) as i32) ^ -((v & 1) as i32)
}

/// MoveTo the first point, LineTo the rest, ClosePath; positions relative to `cursor`.
fn encode_ring(ring: &[(i32, i32)], cursor: &mut (i32, i32), out: &mut Vec<u32>) {
    let mut delta = |p: (i32, i32), out: &mut Vec<u32>| {
        out.push(zigzag(p.0 - cursor.0));
        out.push(zigzag(p.1 - cursor.1));
        *cursor = p;
    };
    out.push(command(MOVE_TO, 1));
    delta(ring[0], out);
    out.push(command(LINE_TO, (ring.len() - 1) as u32));
    for &p in &ring[1..] {
        delta(p, out);
    }
    out.push(command(CLOSE_PATH, 1));
}

/// Area enclosed by the decoded rings (tile units², signed) and the first position.
fn decode_geometry(cmds: &[u32]) -> Result<(f64, (i32, i32)), String> {
    let (mut i, mut cur, mut area) = (0usize, (0i32, 0i32), 0f64);
    let mut ring: Vec<(i32, i32)> = Vec::new();
    let mut first = None;
    while i < cmds.len() {
        let (id, count) = (cmds[i] & 0x7, cmds[i] >> 3);
        i += 1;
        match id {
            MOVE_TO | LINE_TO => {
                for _ in 0..count {
                    let (Some(&dx), Some(&dy)) = (cmds.get(i), cmds.get(i + 1)) else {
                        return Err("geometry ends inside a command".into());
                    };
                    i += 2;
                    cur = (cur.0 + unzigzag(dx), cur.1 + unzigzag(dy));
                    if id == MOVE_TO {
                        ring.clear();
                    }
                    ring.push(cur);
                    first.get_or_insert(cur);
                }
            }
            CLOSE_PATH => {
                area += (0..ring.len())
                    .map(|k| {
                        let (a, b) = (ring[k], ring[(k + 1) % ring.len()]);
                        f64::from(a.0) * f64::from(b.1) - f64::from(b.0) * f64::from(a.1)
                    })
                    .sum::<f64>()
                    / 2.0;
            }
            other => return Err(format!("unknown command {other}")),
        }
    }
    Ok((area, first.unwrap_or_default()))
}

/// Sutherland–Hodgman clipping of a closed ring (without its closing point) to the square
/// [lo, hi]²: exact for a convex clip region; a concave ring may keep zero-width spans along
/// the square's edges, which cover no area.
fn clip(ring: &[Coord<f64>], lo: f64, hi: f64) -> Vec<Coord<f64>> {
    // (axis, bound, keep-below)
    let edges = [(0, lo, false), (0, hi, true), (1, lo, false), (1, hi, true)];
    let mut pts = ring.to_vec();
    for (axis, bound, below) in edges {
        if pts.is_empty() {
            break;
        }
        let get = |c: &Coord<f64>| if axis == 0 { c.x } else { c.y };
        let keep = |c: &Coord<f64>| {
            if below {
                get(c) <= bound
            } else {
                get(c) >= bound
            }
        };
        let cross = |a: &Coord<f64>, b: &Coord<f64>| {
            let t = (bound - get(a)) / (get(b) - get(a));
            if axis == 0 {
                Coord {
                    x: bound,
                    y: a.y + t * (b.y - a.y),
                }
            } else {
                Coord {
                    x: a.x + t * (b.x - a.x),
                    y: bound,
                }
            }
        };
        let mut out = Vec::with_capacity(pts.len() + 4);
        for k in 0..pts.len() {
            let (a, b) = (&pts[(k + pts.len() - 1) % pts.len()], &pts[k]);
            match (keep(a), keep(b)) {
                (true, true) => out.push(*b),
                (true, false) => out.push(cross(a, b)),
                (false, true) => {
                    out.push(cross(a, b));
                    out.push(*b);
                }
                (false, false) => {}
            }
        }
        pts = out;
    }
    pts
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{LineString, Polygon};

    fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
        MultiPolygon(vec![Polygon::new(
            LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]),
            vec![],
        )])
    }

    #[test]
    fn tile_addresses_are_checked() {
        assert!(TileId::new(0, 0, 0).is_ok());
        assert_eq!(TileId::new(25, 0, 0), Err(TileError::Zoom(25)));
        assert!(matches!(
            TileId::new(3, 8, 0),
            Err(TileError::Position { max: 7, .. })
        ));
    }

    #[test]
    fn projection_matches_web_mercator_tiles() {
        // Zibo (118.05° E, 36.81° N) lies in tile 12/3391/1596 (XYZ).
        let t = TileId::new(12, 3391, 1596).unwrap();
        let p = t.project(Coord {
            x: 118.05,
            y: 36.81,
        });
        assert!(
            (0.0..4096.0).contains(&p.x) && (0.0..4096.0).contains(&p.y),
            "{p:?}"
        );
        let r = t.query_rect();
        assert!(r.min().x < 118.05 && 118.05 < r.max().x);
        assert!(r.min().y < 36.81 && 36.81 < r.max().y);
        // the world tile: (0, 0) maps to its centre
        let w = TileId::new(0, 0, 0)
            .unwrap()
            .project(Coord { x: 0.0, y: 0.0 });
        assert!((w.x - 2048.0).abs() < 1e-9 && (w.y - 2048.0).abs() < 1e-9);
    }

    #[test]
    fn polygons_are_clipped_to_the_buffered_tile_and_oriented() {
        let t = TileId::new(0, 0, 0).unwrap();
        let mut layer = LayerBuilder::new(t, "grids");
        // a square covering the east half of the world and beyond the antimeridian
        assert!(layer.polygon(
            &square(0.0, -60.0, 200.0, 60.0),
            &[("code", TileValue::Str("A".into()))]
        ));
        // a square far smaller than a unit collapses
        assert!(!layer.polygon(&square(10.0, 10.0, 10.000_01, 10.000_01), &[]));
        let f = decode(&encode([layer])).unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].tag("code"), Some("A"));
        // clipped at x = 4096 + 64: width 2048 + 64 units
        let p = t.project(Coord { x: 0.0, y: 60.0 });
        let q = t.project(Coord { x: 0.0, y: -60.0 });
        let height = (q.y.round() - p.y.round()).abs();
        assert!(
            (f[0].area - (2048.0 + 64.0) * height).abs() < 1e-6,
            "{}",
            f[0].area
        );
        assert!(f[0].area > 0.0, "shells are clockwise on screen");
    }

    #[test]
    fn holes_stay_holes_and_points_outside_are_left_out() {
        let t = TileId::new(0, 0, 0).unwrap();
        let mut layer = LayerBuilder::new(t, "grids");
        let mut mp = square(-90.0, -45.0, 90.0, 45.0);
        mp.0[0].interiors_push(LineString::from(vec![
            (-45.0, -20.0),
            (-45.0, 20.0),
            (45.0, 20.0),
            (45.0, -20.0),
            (-45.0, -20.0),
        ]));
        assert!(layer.polygon(&mp, &[]));
        let mut points = LayerBuilder::new(t, "cases");
        assert!(points.point(Coord { x: 118.0, y: 36.8 }, &[("n", TileValue::Int(3))]));
        let ft = decode(&encode([layer, points])).unwrap();
        assert_eq!(ft.len(), 2);
        let outer = square(-90.0, -45.0, 90.0, 45.0);
        let mut only_shell = LayerBuilder::new(t, "x");
        only_shell.polygon(&outer, &[]);
        let shell_area = decode(&encode([only_shell])).unwrap()[0].area;
        assert!(ft[0].area > 0.0 && ft[0].area < shell_area);
        assert_eq!(ft[1].kind, "Point");
        assert_eq!(ft[1].tag("n"), Some("3"));
        let z10 = TileId::new(10, 0, 0).unwrap();
        let mut far = LayerBuilder::new(z10, "cases");
        assert!(!far.point(Coord { x: 118.0, y: 36.8 }, &[]));
        assert!(encode([far]).is_empty(), "a tile with no feature is empty");
    }
}
