//! The `tessera` binary end to end: exit codes, report shapes, CSV in and out, error messages.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use tessera::spatial::synth::Lattice;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

fn lattice_file(dir: &Path, n: usize) -> PathBuf {
    let layer = Lattice::near_zibo(n, 3).build();
    write(dir, "grids.geojson", &layer.to_geojson().to_string())
}

#[test]
fn validate_seamless_layer_exits_0_with_json_report() {
    let dir = tempfile::tempdir().unwrap();
    let grids = lattice_file(dir.path(), 100);
    let out = run(
        &[
            "validate",
            grids.to_str().unwrap(),
            "--format",
            "json",
            "--stats",
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["grids"], 100);
    for k in [
        "invalid_geometry",
        "overlaps",
        "gaps",
        "invalid_edges",
        "outside_boundary",
        "duplicate_keys",
    ] {
        assert_eq!(v[k], serde_json::json!([]), "{k}");
        assert_eq!(v["summary"][k], 0, "{k}");
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("validated 100 grids in "), "{err}");
}

#[test]
fn validate_reports_problems_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let mut layer = Lattice::near_zibo(25, 3).build();
    layer.grids.remove(12); // an interior cell: a gap
    let mut dup = layer.grids[0].clone();
    dup.properties.insert("code".into(), "c000001".into());
    layer.grids.push(dup); // duplicate key and a full overlap with c000000
    let grids = write(dir.path(), "g.geojson", &layer.to_geojson().to_string());
    let out = run(
        &["validate", grids.to_str().unwrap(), "--format", "json"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["summary"]["gaps"], 1);
    assert_eq!(v["summary"]["overlaps"], 1);
    assert_eq!(v["duplicate_keys"], serde_json::json!(["c000001"]));
    assert_eq!(v["gaps"][0]["geometry"]["type"], "Polygon");
    assert!(v["gaps"][0]["area_m2"].as_f64().unwrap() > 1000.0);
    let text = run(&["validate", grids.to_str().unwrap()], None);
    let t = String::from_utf8_lossy(&text.stdout);
    assert!(t.contains("NOT seamless") && t.contains("gap"), "{t}");
}

#[test]
fn unreadable_input_exits_2_naming_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.geojson",
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"A-1"},
           "geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}]}"#,
    );
    let out = run(&["validate", bad.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("feature 0 (A-1)") && err.contains("LineString"),
        "{err}"
    );
    let missing = run(&["validate", "/nonexistent/grids.geojson"], None);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read"));
}

#[test]
fn repair_output_validates() {
    let dir = tempfile::tempdir().unwrap();
    let mut layer = Lattice::near_zibo(36, 5).build();
    // Nudge a shared corner of one grid only: a gap opens beside it.
    let ring = &mut layer.grids[14].geometry.0[0];
    ring.exterior_mut(|e| {
        let last = e.0.len() - 1;
        e.0[0].x += 0.0004;
        e.0[last] = e.0[0];
    });
    let grids = write(dir.path(), "g.geojson", &layer.to_geojson().to_string());
    let out_path = dir.path().join("clean.geojson");
    let out = run(
        &[
            "repair",
            grids.to_str().unwrap(),
            "-o",
            out_path.to_str().unwrap(),
            "--gap-width-m",
            "100",
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("grid,area_before_m2") && log.contains("changed"),
        "{log}"
    );
    let v = run(&["validate", out_path.to_str().unwrap()], None);
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );
    let text = std::fs::read_to_string(&out_path).unwrap();
    let fc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(fc["features"].as_array().unwrap().len(), 36);
}

#[test]
fn locate_csv_in_order_with_header_and_stats() {
    let dir = tempfile::tempdir().unwrap();
    let grids = lattice_file(dir.path(), 100);
    let layer = Lattice::near_zibo(100, 3).build();
    // The first grid's south-west corner region, a point far away, and the last grid.
    let c0 = layer.grids[0].geometry.0[0].exterior().0[0];
    let inside = format!("{},{}", c0.x + 0.001, c0.y + 0.001);
    let csv = format!("lon,lat\n{inside}\n100.0,10.0\n");
    let out = run(&["locate", grids.to_str().unwrap(), "--stats"], Some(&csv));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "lon,lat,grid");
    assert_eq!(lines[1], format!("{inside},c000000"));
    assert_eq!(lines[2], "100.0,10.0,");
    let stats = String::from_utf8_lossy(&out.stderr);
    let stats: Vec<&str> = stats.lines().collect();
    assert!(stats[0].starts_with("read 100 grids in "), "{stats:?}");
    assert!(
        stats[1].starts_with("indexed 100 grids in ") && stats[1].ends_with(" bytes)"),
        "{stats:?}"
    );
    assert!(
        stats[2].starts_with("located 2 points in ") && stats[2].ends_with(" on 1 thread"),
        "{stats:?}"
    );

    // A large batch on every core, in blocks: the same answers as one core, in input order.
    let mut rng = tessera::spatial::synth::Rng::new(9);
    let mut big = String::from("lon,lat\n");
    for _ in 0..150_000 {
        big.push_str(&format!(
            "{:.6},{:.6}\n",
            rng.range(117.92, 117.99),
            rng.range(36.70, 36.76)
        ));
    }
    let one = run(
        &["locate", grids.to_str().unwrap(), "--threads", "1"],
        Some(&big),
    );
    let two = run(
        &[
            "locate",
            grids.to_str().unwrap(),
            "--threads",
            "2",
            "--stats",
        ],
        Some(&big),
    );
    assert_eq!(one.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&two.stderr).contains("on 2 threads"));
    assert_eq!(one.stdout, two.stdout);
    let found = String::from_utf8_lossy(&one.stdout)
        .lines()
        .filter(|l| !l.ends_with(','))
        .count();
    assert!(found > 75_000, "{found} of 150,000 points found a grid");
    let zero = run(
        &["locate", grids.to_str().unwrap(), "--threads", "0"],
        Some(&csv),
    );
    assert_eq!(zero.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&zero.stderr).contains("--threads must be at least 1"));
}

#[test]
fn locate_snaps_within_distance_and_rejects_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let grids = lattice_file(dir.path(), 100);
    let layer = Lattice::near_zibo(100, 3).build();
    let c0 = layer.grids[0].geometry.0[0].exterior().0[0];
    // ≈ 45 m south of the layer's south edge.
    let p = format!("{},{}", c0.x + 0.001, c0.y - 0.0004);
    let out = run(
        &["locate", grids.to_str().unwrap(), "--snap-m", "100"],
        Some(&format!("{p}\n")),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let row: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(row[2], "c000000");
    let d: f64 = row[3].parse().unwrap();
    assert!((40.0..50.0).contains(&d), "{d}");
    let none = run(
        &["locate", grids.to_str().unwrap(), "--snap-m", "10"],
        Some(&format!("{p}\n")),
    );
    assert!(String::from_utf8_lossy(&none.stdout).contains(&format!("{p},,")));
    let bad = run(
        &["locate", grids.to_str().unwrap()],
        Some("118.0,36.8\n118.0;36.8\n"),
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("line 2"));
}

/// A Feature with a lon/lat rectangle as its Polygon (counter-clockwise) and `code` as its key.
fn rect_feature(code: &str, (west, south, east, north): (f64, f64, f64, f64)) -> serde_json::Value {
    serde_json::json!({
        "type": "Feature",
        "properties": {"code": code},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]],
        },
    })
}

fn collection(features: Vec<serde_json::Value>) -> String {
    serde_json::json!({"type": "FeatureCollection", "features": features}).to_string()
}

/// The geodesic area (WGS84 ellipsoid, Karney's algorithm in the `geo` crate) of a lon/lat
/// rectangle, in m²: an independent reference for tessera's own area computation.
fn geodesic_rect_area_m2((west, south, east, north): (f64, f64, f64, f64)) -> f64 {
    use geo::GeodesicArea;
    geo::Rect::new(
        geo::coord! { x: west, y: south },
        geo::coord! { x: east, y: north },
    )
    .to_polygon()
    .geodesic_area_unsigned()
}

fn assert_area(got: &serde_json::Value, expected_m2: f64, what: &str) {
    let got = got
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: area_m2 {got}"));
    assert!(
        ((got - expected_m2) / expected_m2).abs() < 1e-3,
        "{what}: area_m2 {got}, geodesic {expected_m2}"
    );
}

/// The CSV rows of `tessera locate` after the header, split into fields.
fn locate_rows(out: &Output) -> Vec<Vec<String>> {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("lon,lat,grid"), "{text}");
    lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

#[test]
fn locate_converts_gcj02_and_bd09_pins() {
    let dir = tempfile::tempdir().unwrap();
    // ≈ 100 m squares (half-size 0.0005°) centred on WGS84 points that have published GCJ-02 or
    // BD-09 equivalents. The GCJ-02 offset there is ≈ 500 m, far larger than the squares.
    const H: f64 = 0.0005;
    let centres = [
        ("SH", 121.527_210_6, 31.177_427_6),
        ("BJ", 116.404, 39.915),
        ("HT", 122.993_955_97, 44.998_040_71),
    ];
    let features = centres
        .iter()
        .map(|&(code, lon, lat)| rect_feature(code, (lon - H, lat - H, lon + H, lat + H)))
        .collect();
    let grids = write(dir.path(), "pins.geojson", &collection(features));
    let grids = grids.to_str().unwrap();

    // GCJ-02 from googollee/eviltransform go/transform_test.go
    // (commit 03ba58d92dfda57f8a1635f3805483c8fc10bd77) for SH, and from wandergis/coordtransform
    // README.md (commit 606c6f3b57b6f1d60458793fea39928d2b11b637) for BJ.
    let gcj02 = [
        ("121.531541859215", "31.17530398364597", "SH"),
        ("116.41024449916938", "39.91640428150164", "BJ"),
    ];
    // BD-09 from dromara/hutool CoordinateUtilTest.java wgs84toBd09Test2
    // (commit 1bca825fff331619b3dff8de33fbb03e58c34d60) for HT, and from
    // wyxloading/coordtransform-rs tests/tests.rs test_wgs84_to_bd09
    // (commit 9438edce227741f0432e5fd2623caa61151a4da9) for BJ.
    let bd09 = [
        ("123.00636516028885", "45.00636909189589", "HT"),
        ("116.41662724378733", "39.922699552216216", "BJ"),
    ];
    let csv = |points: &[(&str, &str, &str)]| {
        let mut s = String::from("lon,lat\n");
        for (lon, lat, _) in points {
            s += &format!("{lon},{lat}\n");
        }
        s
    };

    for (crs, points) in [("gcj02", &gcj02), ("bd09", &bd09)] {
        let rows = locate_rows(&run(&["locate", grids, "--crs", crs], Some(&csv(points))));
        assert_eq!(rows.len(), points.len(), "--crs {crs}");
        for (row, (lon, lat, grid)) in rows.iter().zip(points.iter()) {
            // The input text comes back unchanged, with the grid of the converted point.
            assert_eq!(row, &[*lon, *lat, *grid], "--crs {crs}");
        }
        // Taken as WGS84, the same coordinates are hundreds of metres from every square.
        let rows = locate_rows(&run(&["locate", grids], Some(&csv(points))));
        assert_eq!(rows.len(), points.len(), "{crs} points as WGS84");
        for (row, (lon, lat, _)) in rows.iter().zip(points.iter()) {
            assert_eq!(row, &[*lon, *lat, ""], "{crs} points as WGS84");
        }
    }
}

#[test]
fn validate_against_a_boundary_reports_gaps_and_parts_outside() {
    let dir = tempfile::tempdir().unwrap();
    // A 2×2 lattice of 0.01° cells: lon 118.00–118.02, lat 36.80–36.82.
    let (w, m, e) = (118.00, 118.01, 118.02);
    let (s, c, n) = (36.80, 36.81, 36.82);
    let cells = [
        ("SW", (w, s, m, c)),
        ("SE", (m, s, e, c)),
        ("NW", (w, c, m, n)),
        ("NE", (m, c, e, n)),
    ];
    let grids = write(
        dir.path(),
        "grids.geojson",
        &collection(
            cells
                .iter()
                .map(|&(code, r)| rect_feature(code, r))
                .collect(),
        ),
    );
    let validate = |name: &str, boundary: (f64, f64, f64, f64)| {
        let b = write(
            dir.path(),
            name,
            &collection(vec![rect_feature("district", boundary)]),
        );
        let out = run(
            &[
                "validate",
                grids.to_str().unwrap(),
                "--boundary",
                b.to_str().unwrap(),
                "--format",
                "json",
            ],
            None,
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|err| {
            panic!("{name}: {err}: {}", String::from_utf8_lossy(&out.stderr))
        });
        (out.status.code(), v)
    };
    let empty = serde_json::json!([]);

    // A boundary one column of cells wider (east to 118.03): the strip 118.02–118.03 is a gap.
    let (code, v) = validate("wider.geojson", (w, s, 118.03, n));
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["valid"], false);
    assert_eq!(v["summary"]["gaps"], 1, "{v}");
    let gaps = v["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{v}");
    assert_eq!(gaps[0]["geometry"]["type"], "Polygon");
    assert_area(
        &gaps[0]["area_m2"],
        geodesic_rect_area_m2((e, s, 118.03, n)),
        "gap",
    );
    let mut neighbours: Vec<&str> = gaps[0]["neighbours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    neighbours.sort_unstable();
    assert_eq!(neighbours, ["NE", "SE"]);
    for k in [
        "outside_boundary",
        "overlaps",
        "invalid_edges",
        "invalid_geometry",
    ] {
        assert_eq!(v[k], empty, "{k}");
    }

    // A boundary ending at lon 118.015: the western cells lie inside it; each eastern cell sticks
    // out by its eastern half, 118.015–118.02. Nothing of the boundary is uncovered.
    let (code, v) = validate("narrower.geojson", (w, s, 118.015, n));
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(v["valid"], false);
    assert_eq!(v["summary"]["outside_boundary"], 2, "{v}");
    let mut outside: Vec<&serde_json::Value> =
        v["outside_boundary"].as_array().unwrap().iter().collect();
    outside.sort_by_key(|o| o["grid"].as_str().unwrap().to_owned());
    let grids_outside: Vec<&str> = outside
        .iter()
        .map(|o| o["grid"].as_str().unwrap())
        .collect();
    assert_eq!(grids_outside, ["NE", "SE"]);
    assert_area(
        &outside[0]["area_m2"],
        geodesic_rect_area_m2((118.015, c, e, n)),
        "NE outside",
    );
    assert_area(
        &outside[1]["area_m2"],
        geodesic_rect_area_m2((118.015, s, e, c)),
        "SE outside",
    );
    for k in ["gaps", "overlaps", "invalid_edges", "invalid_geometry"] {
        assert_eq!(v[k], empty, "{k}");
    }

    // The lattice's own outline: seamless.
    let (code, v) = validate("outline.geojson", (w, s, e, n));
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["valid"], true);
    for k in [
        "invalid_geometry",
        "overlaps",
        "gaps",
        "invalid_edges",
        "outside_boundary",
        "duplicate_keys",
    ] {
        assert_eq!(v[k], empty, "{k}");
    }
}

#[test]
fn locate_reads_csv_by_its_header_and_refuses_ragged_rows() {
    let dir = tempfile::tempdir().unwrap();
    let grids = write(
        dir.path(),
        "g.geojson",
        &collection(vec![
            rect_feature("W", (118.0, 36.8, 118.001, 36.801)),
            rect_feature("E", (118.001, 36.8, 118.002, 36.801)),
        ]),
    );
    let grids = grids.to_str().unwrap();
    // Named columns in another order, a quoted field with a comma: every column comes back.
    let out = run(
        &["locate", grids],
        Some(
            "name,lat,lon\n\"west, inside\",36.8005,118.0005\neast,36.8005,118.0015\nnowhere,36.9,118.5\n",
        ),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "name,lat,lon,grid\n\"west, inside\",36.8005,118.0005,W\neast,36.8005,118.0015,E\nnowhere,36.9,118.5,\n"
    );
    for header in ["latitude,longitude", "y,x", "LAT,LNG"] {
        let out = run(
            &["locate", grids],
            Some(&format!("{header}\n36.8005,118.0015\n")),
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            text.lines().nth(1),
            Some("36.8005,118.0015,E"),
            "{header}: {text}"
        );
    }
    // Comma decimals give four fields where the header has two: refused, naming the line,
    // never read as other numbers.
    let bad = run(
        &["locate", grids],
        Some("lon,lat\n118.0005,36.8005\n118,0005,36,8005\n"),
    );
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("line 3") && err.contains("4 fields"), "{err}");
    assert!(bad.stdout.is_empty());
    let bad = run(&["locate", grids], Some("118.0005,36.8005\n118.0005\n"));
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("line 2"));
}

#[test]
fn demo_coverage_writes_n_seamless_grids_the_same_for_the_same_seed() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.geojson");
    for (file, seed) in [(&a, "7"), (&dir.path().join("b.geojson"), "7")] {
        let out = bin()
            .args(["demo", "coverage", "--grids", "1234", "--seed", seed, "-o"])
            .arg(file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("1234 grids"));
    }
    let text = std::fs::read_to_string(&a).unwrap();
    assert_eq!(
        text,
        std::fs::read_to_string(dir.path().join("b.geojson")).unwrap()
    );
    let layer = tessera::spatial::read_layer(&text, &Default::default()).unwrap();
    assert_eq!(layer.grids.len(), 1234);
    let out = bin().args(["validate"]).arg(&a).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let zero = bin()
        .args(["demo", "coverage", "--grids", "0"])
        .output()
        .unwrap();
    assert!(!zero.status.success());
}

/// `--district` / `TESSERA_DISTRICT` reach the store: a malformed code stops `serve` and
/// `user add` before any database is opened or created, naming the code.
#[test]
fn a_malformed_district_is_refused_before_a_database_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let by_env = bin()
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir", data])
        .env("TESSERA_DISTRICT", "3703")
        .output()
        .unwrap();
    let by_flag = run(
        &[
            "user",
            "add",
            "li",
            "--role",
            "dispatcher",
            "--data-dir",
            data,
            "--district",
            "37030x",
        ],
        None,
    );
    for (out, code) in [(by_env, "3703"), (by_flag, "37030x")] {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert!(
            err.contains(&format!("{code:?}")) && err.contains("six-digit"),
            "{err}"
        );
    }
    assert!(!dir.path().join("data/tessera.db").exists());
}
