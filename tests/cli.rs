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
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("located 2 points in "));
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
