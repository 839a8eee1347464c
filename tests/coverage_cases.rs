//! Coverages that were misread in the field, each a whole kind, with the right answer computed
//! independently (GEOS 3.14 and pyproj for the files in `tests/data/cases/`, the `geo` crate's
//! geodesic area for the constructed ones).

use geo::{Contains, GeodesicArea, InteriorPoint};
use geo_types::{Coord, LineString, MultiPolygon, Polygon, coord};
use std::path::PathBuf;
use std::process::Command;
use tessera::spatial::coverage::{CoverageOptions, CoverageReport, validate_coverage};
use tessera::spatial::layer::{Grid, GridLayer, KeySource, read_layer};
use tessera::spatial::repair::{RepairOptions, repair};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(name)
}

fn validate(layer: &GridLayer) -> CoverageReport {
    validate_coverage(layer, &CoverageOptions::default())
}

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got / want - 1.0).abs() <= rel
}

/// `tessera validate FILE --format json`: the exit code and the report.
fn validate_file(path: &PathBuf) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("validate")
        .arg(path)
        .args(["--format", "json"])
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

#[test]
fn a_hole_touching_its_shell_is_a_gap() {
    let (code, report) = validate_file(&data("tests/data/cases/hole-touching-shell.geojson"));
    assert_eq!(code, 1, "{report}");
    let gaps = report["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{report}");
    // GEOS + pyproj: 19,807.06 m².
    assert!(close(gaps[0]["area_m2"].as_f64().unwrap(), 19_807.06, 0.01));
    assert_eq!(gaps[0]["neighbours"], serde_json::json!(["G"]));
}

#[test]
fn every_grid_along_a_gap_is_its_neighbour() {
    let (code, report) = validate_file(&data("tests/data/cases/gap-neighbours.geojson"));
    assert_eq!(code, 1, "{report}");
    let gaps = report["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{report}");
    assert!(close(gaps[0]["area_m2"].as_f64().unwrap(), 60_620.0, 0.01));
    assert_eq!(gaps[0]["neighbours"], serde_json::json!(["G2", "G6"]));
}

/// Lon/lat of a point given in units of 0.001° from (118.0, 36.8).
fn at(x: f64, y: f64) -> Coord<f64> {
    coord! { x: 118.0 + x * 0.001, y: 36.8 + y * 0.001 }
}

fn grid(key: &str, index: usize, pts: &[(f64, f64)]) -> Grid {
    let ring: Vec<Coord<f64>> = pts.iter().map(|&(x, y)| at(x, y)).collect();
    Grid {
        key: key.into(),
        index,
        geometry: MultiPolygon(vec![Polygon::new(LineString(ring), vec![])]),
        properties: Default::default(),
    }
}

#[test]
fn a_gap_touching_the_rim_at_a_point_is_found_and_filled() {
    // Three grids around a triangle whose apex (2, 0) is on the coverage's outer edge.
    let layer = GridLayer {
        grids: vec![
            grid(
                "A",
                0,
                &[(0., 0.), (2., 0.), (1., 1.), (1., 4.), (0., 4.), (0., 0.)],
            ),
            grid(
                "B",
                1,
                &[(2., 0.), (4., 0.), (4., 4.), (3., 4.), (3., 1.), (2., 0.)],
            ),
            grid("C", 2, &[(1., 1.), (3., 1.), (3., 4.), (1., 4.), (1., 1.)]),
        ],
    };
    let triangle = Polygon::new(
        LineString(vec![at(2., 0.), at(3., 1.), at(1., 1.), at(2., 0.)]),
        vec![],
    );
    let want = triangle.geodesic_area_unsigned();
    let report = validate(&layer);
    assert!(!report.valid);
    assert_eq!(report.gaps.len(), 1, "{}", report.to_text());
    assert!(
        close(report.gaps[0].area_m2, want, 0.001),
        "{}",
        report.gaps[0].area_m2
    );
    assert_eq!(report.gaps[0].neighbours, ["A", "B", "C"]);
    assert!(report.invalid_edges.is_empty() && report.overlaps.is_empty());
    // Repair fills exactly that gap (it is narrower than 200 m) and then validates.
    let fixed = repair(
        &layer,
        &RepairOptions {
            boundary: None,
            snap_m: 0.0,
            gap_width_m: 200.0,
            ..Default::default()
        },
    )
    .unwrap();
    let after = validate(&fixed.layer);
    assert!(after.valid, "{}", after.to_text());
    let area = |l: &GridLayer| -> f64 {
        l.grids
            .iter()
            .map(|g| g.geometry.geodesic_area_unsigned())
            .sum()
    };
    assert!(close(area(&fixed.layer) - area(&layer), want, 0.001));
}

/// The demo district with one rim grid given a triangular hole whose apex is a vertex of the
/// district's outline: a hole touching its shell at a point, on the coverage's rim.
#[test]
fn a_pinched_hole_on_the_rim_of_a_real_layer_is_found() {
    let text = std::fs::read_to_string(data("geodata/zhangdian/grids.geojson")).unwrap();
    let mut layer = read_layer(&text, &KeySource::Default).unwrap();
    let clean = validate(&layer);
    assert!(clean.valid);
    let outline: Vec<Coord<f64>> = tessera::spatial::coverage::union(&layer.geometries()).0[0]
        .exterior()
        .0
        .clone();
    let mut chosen = None;
    'grids: for (i, g) in layer.grids.iter().enumerate() {
        let poly = &g.geometry.0[0];
        let Some(inside) = poly.interior_point() else {
            continue;
        };
        for &v in &poly.exterior().0 {
            if !outline.contains(&v) {
                continue;
            }
            let towards = |turn: f64| {
                let (dx, dy) = (inside.x() - v.x, inside.y() - v.y);
                let (s, c) = turn.sin_cos();
                coord! { x: v.x + 0.3 * (dx * c - dy * s), y: v.y + 0.3 * (dx * s + dy * c) }
            };
            let tri = Polygon::new(
                LineString(vec![v, towards(-0.15), towards(0.15), v]),
                vec![],
            );
            if poly.contains(&tri) {
                chosen = Some((i, tri));
                break 'grids;
            }
        }
    }
    let (i, tri) = chosen.expect("a rim grid with room for a triangle");
    let want = tri.geodesic_area_unsigned();
    let mut hole = tri.exterior().clone();
    hole.0.reverse();
    let p = &mut layer.grids[i].geometry.0[0];
    *p = Polygon::new(p.exterior().clone(), vec![hole]);
    let report = validate(&layer);
    assert_eq!(report.gaps.len(), 1, "{}", report.to_text());
    assert!(
        close(report.gaps[0].area_m2, want, 0.01),
        "{} vs {want}",
        report.gaps[0].area_m2
    );
    assert_eq!(report.gaps[0].neighbours, [layer.grids[i].key.clone()]);
    assert!(
        report.invalid_geometry.is_empty() && report.invalid_edges.is_empty(),
        "{}",
        report.to_text()
    );
}

fn write_temp(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn empty_members_are_reported_and_the_rest_validated() {
    let dir = tempfile::tempdir().unwrap();
    // Two overlapping squares among a null geometry, POLYGON EMPTY and MultiPolygon [].
    let square = |x0: f64| {
        format!(
            r#"{{"type":"Polygon","coordinates":[[[{x0},36.8],[{x1},36.8],[{x1},36.801],[{x0},36.801],[{x0},36.8]]]}}"#,
            x1 = x0 + 0.001
        )
    };
    let text = format!(
        r#"{{"type":"FeatureCollection","features":[
        {{"type":"Feature","properties":{{"code":"A"}},"geometry":{a}}},
        {{"type":"Feature","properties":{{"code":"N"}},"geometry":null}},
        {{"type":"Feature","properties":{{"code":"E"}},"geometry":{{"type":"Polygon","coordinates":[]}}}},
        {{"type":"Feature","properties":{{"code":"M"}},"geometry":{{"type":"MultiPolygon","coordinates":[]}}}},
        {{"type":"Feature","properties":{{"code":"B"}},"geometry":{b}}}]}}"#,
        a = square(118.0),
        b = square(118.0005)
    );
    let (code, report) = validate_file(&write_temp(&dir, "empty.geojson", &text));
    assert_eq!(code, 1, "{report}");
    assert_eq!(
        report["empty_geometry"],
        serde_json::json!([{"grid": "N", "index": 1}, {"grid": "E", "index": 2}, {"grid": "M", "index": 3}])
    );
    assert_eq!(report["summary"]["empty_geometry"], 3);
    // The other grids are still validated: A and B overlap by half a square.
    assert_eq!(
        report["overlaps"][0]["grids"],
        serde_json::json!(["A", "B"])
    );
    // Locate skips the empty grids; repair leaves them out, saying why.
    let layer_path = dir.path().join("empty.geojson");
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["repair", layer_path.to_str().unwrap(), "-o"])
        .arg(dir.path().join("out.geojson"))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("N,0.00,0.00,+0.00,removed (no area"), "{log}");
}

#[test]
fn a_collapsed_ring_is_invalid_but_breaks_no_neighbour_edge() {
    // GEOS: the line-like grid is invalid; its neighbour's edges are all valid.
    let dir = tempfile::tempdir().unwrap();
    let text = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"code":"L"},"geometry":{"type":"Polygon","coordinates":[[[1,9],[5,9],[5,9],[1,9]]]}},
        {"type":"Feature","properties":{"code":"S"},"geometry":{"type":"Polygon","coordinates":[[[9,9],[9,5],[5,5],[5,9],[9,9]]]}}]}"#;
    let (code, report) = validate_file(&write_temp(&dir, "collapsed.geojson", text));
    assert_eq!(code, 1);
    assert_eq!(report["invalid_geometry"][0]["grid"], "L", "{report}");
    assert_eq!(report["invalid_edges"], serde_json::json!([]), "{report}");
    assert_eq!(report["overlaps"], serde_json::json!([]));
    assert_eq!(report["gaps"], serde_json::json!([]));
}

fn tessera(args: &[&str], stdin: Option<&str>) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

#[test]
fn numeric_grid_codes_keep_every_digit() {
    // Two codes that differ only in the last digit and do not fit in 64 bits: as floating
    // point they would be the same number.
    let dir = tempfile::tempdir().unwrap();
    let text = r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"code":37030300100100100101},"geometry":{"type":"Polygon","coordinates":[[[118.0,36.8],[118.001,36.8],[118.001,36.801],[118.0,36.801],[118.0,36.8]]]}},
        {"type":"Feature","properties":{"code":37030300100100100102},"geometry":{"type":"Polygon","coordinates":[[[118.001,36.8],[118.002,36.8],[118.002,36.801],[118.001,36.801],[118.001,36.8]]]}},
        {"type":"Feature","id":37030300100100100103,"properties":{},"geometry":{"type":"Polygon","coordinates":[[[118.002,36.8],[118.003,36.8],[118.003,36.801],[118.002,36.801],[118.002,36.8]]]}}]}"#;
    let path = write_temp(&dir, "numeric.geojson", text);
    let p = path.to_str().unwrap();
    let (code, report) = validate_file(&path);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["duplicate_keys"], serde_json::json!([]));
    let out = tessera(&["locate", p], Some("118.0015,36.8005\n118.0025,36.8005\n"));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "lon,lat,grid\n118.0015,36.8005,37030300100100100102\n118.0025,36.8005,37030300100100100103\n"
    );
    let repaired = dir.path().join("out.geojson");
    let out = tessera(&["repair", p, "-o", repaired.to_str().unwrap()], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&repaired).unwrap();
    for code in [
        "37030300100100100101",
        "37030300100100100102",
        "37030300100100100103",
    ] {
        assert!(written.contains(code), "{code} lost in {written}");
    }
}

#[test]
fn an_empty_collection_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_temp(
        &dir,
        "none.geojson",
        r#"{"type":"FeatureCollection","features":[]}"#,
    );
    for cmd in ["validate", "repair", "locate"] {
        let mut args = vec![cmd, path.to_str().unwrap()];
        if cmd == "repair" {
            args.extend(["-o", "/dev/null"]);
        }
        let out = tessera(&args, Some(""));
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("the layer has no grids"), "{cmd}: {err}");
    }
}

#[test]
fn a_thin_sliver_has_the_area_geos_gives_it() {
    // An overlap 3 mm thick along a 707 m diagonal: GEOS 3.14 (projected to metres) 1.0595 m².
    // Each edge's integral is taken by quadrature, so the two long, nearly equal edges cancel
    // exactly; a chord approximation was off by 85 %.
    let (code, report) = validate_file(&data("tests/data/cases/thin-overlap.geojson"));
    assert_eq!(code, 1);
    let overlaps = report["overlaps"].as_array().unwrap();
    assert_eq!(overlaps.len(), 1, "{report}");
    assert!(
        close(overlaps[0]["area_m2"].as_f64().unwrap(), 1.0595, 0.001),
        "{report}"
    );
}

#[test]
fn with_a_boundary_every_grid_along_a_gap_is_its_neighbour() {
    // The overlay's gap ring merges collinear edges, so grids share only part of one gap edge;
    // GEOS 3.14: the gap is bordered by A, B and C (80–200 m each).
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("validate")
        .arg(data("tests/data/cases/rim-gap.geojson"))
        .arg("--boundary")
        .arg(data("tests/data/cases/rim-gap.boundary.geojson"))
        .args(["--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let gaps = report["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{report}");
    assert_eq!(gaps[0]["neighbours"], serde_json::json!(["A", "B", "C"]));
}

#[test]
fn a_gap_edge_of_millimetres_on_a_long_grid_edge_makes_that_grid_a_neighbour() {
    // A sliver between the frame and two grids: one of its edges, 6.6 mm long, ends at a
    // computed crossing point on g000003's 800 m edge. GEOS 3.14: the sliver (1.79 m²) is
    // bordered by g000003 and g000005.
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("validate")
        .arg(data("tests/data/cases/short-gap-edge.geojson"))
        .arg("--boundary")
        .arg(data("tests/data/cases/short-gap-edge.boundary.geojson"))
        .args(["--format", "json", "--gap-width-m", "0.5"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let gaps = report["gaps"].as_array().unwrap();
    let sliver = gaps
        .iter()
        .find(|g| close(g["area_m2"].as_f64().unwrap(), 1.79, 0.01))
        .unwrap_or_else(|| panic!("no 1.79 m² gap: {report}"));
    assert_eq!(sliver["sliver"], true, "{report}");
    assert_eq!(
        sliver["neighbours"],
        serde_json::json!(["g000003", "g000005"]),
        "{report}"
    );
}

#[test]
fn a_crossing_point_near_a_third_grid_does_not_snap_it_across_a_gap() {
    // Two overlaps and, between them, a gap 0.43 m wide and 35 m long whose corner is the
    // crossing of g000003's and g000007's edges, 0.43 m from g000002's edge. GEOS 3.14
    // `coverage_clean(snapping_distance=0.5, gap_width=0)` snaps only input vertices onto
    // nearby segments, so the gap stays open (7.83 m²) and g000002 keeps its edge.
    let text = std::fs::read_to_string(data("tests/data/cases/crossing-by-a-gap.geojson")).unwrap();
    let layer = read_layer(&text, &KeySource::Default).unwrap();
    let fixed = repair(
        &layer,
        &RepairOptions {
            boundary: None,
            snap_m: 0.5,
            gap_width_m: 0.0,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(fixed.open_gaps.len(), 1, "{:?}", fixed.open_gaps);
    assert!(
        close(fixed.open_gaps[0].area_m2, 7.83, 0.01),
        "{:?}",
        fixed.open_gaps
    );
    let after = validate(&fixed.layer);
    assert_eq!(after.gaps.len(), 1, "{}", after.to_text());
    assert!(after.overlaps.is_empty(), "{}", after.to_text());
}

#[test]
fn a_gap_edge_of_a_fifth_of_a_millimetre_still_borders_its_grid() {
    // A 340 m² sliver between g000003 and g000004 whose top edge runs 0.19 mm along
    // g000000's bottom edge. GEOS 3.14: the sliver is bordered by g000000, g000003, g000004.
    let (_, report) = validate_file(&data("tests/data/cases/sub-millimetre-gap-edge.geojson"));
    let gaps = report["gaps"].as_array().unwrap();
    let sliver = gaps
        .iter()
        .find(|g| close(g["area_m2"].as_f64().unwrap(), 340.4, 0.01))
        .unwrap_or_else(|| panic!("no 340 m² gap: {report}"));
    assert_eq!(
        sliver["neighbours"],
        serde_json::json!(["g000000", "g000003", "g000004"]),
        "{report}"
    );
}

#[test]
fn a_courtyard_enclosed_by_grids_touching_at_two_corners_is_a_gap() {
    // A covers the left column and the top of a 3 × 3 block, B the right column and the
    // bottom; they touch only at (1, 1) and (2, 2), so their union is two polygons and the
    // centre square is enclosed by both without being a hole of either. It is a gap (validate
    // and repair agree): 1 × 1 units, bordered by A and B.
    let a = [
        (0., 1.),
        (1., 1.),
        (1., 2.),
        (2., 2.),
        (2., 3.),
        (0., 3.),
        (0., 1.),
    ];
    let b = [
        (1., 0.),
        (3., 0.),
        (3., 2.),
        (2., 2.),
        (2., 1.),
        (1., 1.),
        (1., 0.),
    ];
    let layer = GridLayer {
        grids: vec![grid("A", 0, &a), grid("B", 1, &b)],
    };
    let courtyard = Polygon::new(
        LineString(vec![
            at(1., 1.),
            at(2., 1.),
            at(2., 2.),
            at(1., 2.),
            at(1., 1.),
        ]),
        vec![],
    );
    let want = courtyard.geodesic_area_unsigned();
    let report = validate(&layer);
    assert!(!report.valid);
    assert_eq!(report.gaps.len(), 1, "{}", report.to_text());
    assert!(close(report.gaps[0].area_m2, want, 0.001));
    assert_eq!(report.gaps[0].neighbours, ["A", "B"]);
    // Repair wider than the courtyard fills it; narrower leaves it open, as the same gap.
    let opts = |w: f64| RepairOptions {
        boundary: None,
        snap_m: 0.0,
        gap_width_m: w,
        ..Default::default()
    };
    let open = repair(&layer, &opts(10.0)).unwrap();
    assert_eq!(open.open_gaps.len(), 1);
    assert!(close(open.open_gaps[0].area_m2, want, 0.001));
    let fixed = repair(&layer, &opts(200.0)).unwrap();
    assert!(fixed.open_gaps.is_empty());
    assert!(validate(&fixed.layer).valid);
}

#[test]
fn a_gap_touching_the_middle_of_a_long_rim_edge_is_found() {
    // The union's left edge is one segment whose midpoint is the apex of a 0.1 m wide
    // triangular gap (the apex is a vertex of the grids, not of the union). GEOS 3.14: three
    // gaps, among them 12.96 m² bordered by g000001, g000002 and g000003.
    let (code, report) = validate_file(&data("tests/data/cases/apex-mid-rim-edge.geojson"));
    assert_eq!(code, 1);
    let gaps = report["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 3, "{report}");
    let apex = gaps
        .iter()
        .find(|g| close(g["area_m2"].as_f64().unwrap(), 12.963, 0.01))
        .unwrap_or_else(|| panic!("no 12.96 m² gap: {report}"));
    assert_eq!(
        apex["neighbours"],
        serde_json::json!(["g000001", "g000002", "g000003"]),
        "{report}"
    );
}
