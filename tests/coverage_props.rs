//! Property tests: random seamless tessellations with one injected fault (moved vertex opening a
//! gap or an overlap, duplicated grid, deleted grid) are reported with the right grid keys and
//! areas (±1 %), and repair always returns a seamless layer; a hole pinched against its shell at
//! a shared corner or on the rim is one gap of its area, in no grid.

use geo_types::{Coord, LineString, MultiPolygon};
use proptest::prelude::*;
use std::collections::BTreeSet;
use tessera::spatial::coverage::{CoverageOptions, validate_coverage};
use tessera::spatial::layer::GridLayer;
use tessera::spatial::measure::area_m2;
use tessera::spatial::repair::{RepairOptions, repair};
use tessera::spatial::synth::Lattice;

fn lattice(cols: usize, rows: usize, seed: u64) -> GridLayer {
    Lattice {
        cols,
        rows,
        origin: Coord { x: 118.0, y: 36.75 },
        cell: Coord {
            x: 0.0056,
            y: 0.0045,
        },
        seed,
    }
    .build()
}

fn exterior(l: &GridLayer, g: usize) -> &Vec<Coord<f64>> {
    &l.grids[g].geometry.0[0].exterior().0
}

/// An interior cell (not on the frame), chosen by `pick`.
fn interior_cell(cols: usize, rows: usize, pick: usize) -> usize {
    let (i, j) = (1 + pick % (cols - 2), 1 + (pick / 7) % (rows - 2));
    j * cols + i
}

/// Cells having `v` as a vertex and sharing a segment ending at `v` with cell `k`.
fn edge_neighbours_at(l: &GridLayer, k: usize, v: Coord<f64>) -> BTreeSet<usize> {
    let ring = exterior(l, k);
    let segs_k: Vec<(Coord<f64>, Coord<f64>)> = ring
        .windows(2)
        .filter(|w| w[0] == v || w[1] == v)
        .map(|w| (w[0], w[1]))
        .collect();
    (0..l.grids.len())
        .filter(|&g| {
            g == k
                || exterior(l, g).windows(2).any(|w| {
                    segs_k
                        .iter()
                        .any(|&(a, b)| (w[0] == b && w[1] == a) || (w[0] == a && w[1] == b))
                })
        })
        .collect()
}

/// Moves grid `k`'s first corner (ring position 0, also the closing point) by the fraction `f`
/// of the way to the ring's vertex centroid, in that grid only: inwards for `f > 0` (a gap
/// opens), outwards for `f < 0` (it overlaps its neighbours).
fn move_corner(l: &mut GridLayer, k: usize, f: f64) {
    let ring = exterior(l, k).clone();
    let v = ring[0];
    let n = (ring.len() - 1) as f64;
    let c = ring[..ring.len() - 1]
        .iter()
        .fold(Coord::<f64>::zero(), |s, p| Coord {
            x: s.x + p.x / n,
            y: s.y + p.y / n,
        });
    let moved = Coord {
        x: v.x + f * (c.x - v.x),
        y: v.y + f * (c.y - v.y),
    };
    l.grids[k].geometry.0[0].exterior_mut(|e| {
        let last = e.0.len() - 1;
        e.0[0] = moved;
        e.0[last] = moved;
    });
}

fn cells_with_vertex(l: &GridLayer, v: Coord<f64>) -> BTreeSet<usize> {
    (0..l.grids.len())
        .filter(|&g| exterior(l, g).contains(&v))
        .collect()
}

fn keys(l: &GridLayer, ids: &BTreeSet<usize>) -> BTreeSet<String> {
    ids.iter().map(|&g| l.grids[g].key.clone()).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 0.01 * b.abs().max(1e-9)
}

fn assert_repairs(l: &GridLayer) {
    let out = repair(
        l,
        &RepairOptions {
            gap_width_m: 1000.0,
            ..Default::default()
        },
    )
    .expect("repair");
    let rep = validate_coverage(&out.layer, &CoverageOptions::default());
    assert!(
        rep.valid,
        "repaired layer is not seamless:\n{}",
        rep.to_text()
    );
}

/// A triangle with apex `v`, reaching the fraction `f` of the way to the ring's vertex centroid
/// of grid `k`, opened by ±0.2 rad; its ring runs clockwise (a hole).
fn pinched_triangle(l: &GridLayer, k: usize, v: Coord<f64>, f: f64) -> LineString<f64> {
    let ring = exterior(l, k);
    let n = (ring.len() - 1) as f64;
    let c = ring[..ring.len() - 1]
        .iter()
        .fold(Coord::<f64>::zero(), |s, p| Coord {
            x: s.x + p.x / n,
            y: s.y + p.y / n,
        });
    let arm = |turn: f64| {
        let (dx, dy) = (f * (c.x - v.x), f * (c.y - v.y));
        let (sn, cs) = turn.sin_cos();
        Coord {
            x: v.x + dx * cs - dy * sn,
            y: v.y + dx * sn + dy * cs,
        }
    };
    // v → left arm → right arm is counter-clockwise; reversed for a hole.
    LineString(vec![v, arm(-0.2), arm(0.2), v])
}

/// Gives grid `k` a hole whose apex touches its own shell at the shell vertex `v` (OGC-valid),
/// and returns the hole's geodesic area (m², from the `geo` crate); `None` when the triangle
/// would not fit inside the grid (a sharp corner).
fn pinch_hole(l: &mut GridLayer, k: usize, v: Coord<f64>, f: f64) -> Option<f64> {
    use geo::{Contains, GeodesicArea};
    let tri = pinched_triangle(l, k, v, f);
    let tri_poly = geo_types::Polygon::new(tri.clone(), vec![]);
    if !l.grids[k].geometry.0[0].contains(&tri_poly) {
        return None;
    }
    let area = tri_poly.geodesic_area_unsigned();
    let mut hole = tri;
    hole.0.reverse();
    let p = &mut l.grids[k].geometry.0[0];
    *p = geo_types::Polygon::new(p.exterior().clone(), vec![hole]);
    Some(area)
}

fn assert_one_gap_around(l: &GridLayer, k: usize, want_m2: f64) -> Result<(), TestCaseError> {
    let rep = validate_coverage(l, &CoverageOptions::default());
    prop_assert!(!rep.valid);
    prop_assert!(
        rep.invalid_geometry.is_empty() && rep.invalid_edges.is_empty() && rep.overlaps.is_empty(),
        "{}",
        rep.to_text()
    );
    prop_assert_eq!(rep.gaps.len(), 1, "{}", rep.to_text());
    prop_assert!(
        close(rep.gaps[0].area_m2, want_m2),
        "gap {} vs {}",
        rep.gaps[0].area_m2,
        want_m2
    );
    prop_assert_eq!(&rep.gaps[0].neighbours, &vec![l.grids[k].key.clone()]);
    // Every point well inside the hole is in no grid.
    let tri = &l.grids[k].geometry.0[0].interiors()[0].0;
    let inside = Coord {
        x: (tri[0].x + tri[1].x + tri[2].x) / 3.0,
        y: (tri[0].y + tri[1].y + tri[2].y) / 3.0,
    };
    prop_assert_eq!(
        tessera::spatial::Locator::new(&l.geometries()).locate(inside),
        None
    );
    assert_repairs(l);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn moved_vertex_inward_opens_a_gap(seed in 0u64..1000, pick in 0usize..1000, f in 0.1f64..0.4) {
        let (cols, rows) = (8, 7);
        let mut l = lattice(cols, rows, seed);
        let k = interior_cell(cols, rows, pick);
        let before = area_m2(&l.grids[k].geometry);
        let v = exterior(&l, k)[0];
        let expected_bad = keys(&l, &edge_neighbours_at(&l, k, v));
        let around = keys(&l, &cells_with_vertex(&l, v));
        move_corner(&mut l, k, f);
        let after = area_m2(&l.grids[k].geometry);
        let rep = validate_coverage(&l, &CoverageOptions::default());
        prop_assert!(!rep.valid);
        // As in JTS/GEOS with gap width 0, a gap alone makes no edge invalid.
        prop_assert!(rep.invalid_edges.is_empty(), "{}", rep.to_text());
        prop_assert!(rep.overlaps.is_empty(), "{}", rep.to_text());
        prop_assert_eq!(rep.gaps.len(), 1, "{}", rep.to_text());
        let gap = &rep.gaps[0];
        prop_assert!(close(gap.area_m2, before - after), "gap {} vs {}", gap.area_m2, before - after);
        let nb: BTreeSet<String> = gap.neighbours.iter().cloned().collect();
        prop_assert!(nb.is_superset(&expected_bad) && nb.is_subset(&around), "{:?}", nb);
        assert_repairs(&l);
    }

    #[test]
    fn moved_vertex_outward_overlaps_neighbours(seed in 0u64..1000, pick in 0usize..1000, f in 0.05f64..0.15) {
        let (cols, rows) = (8, 7);
        let mut l = lattice(cols, rows, seed);
        let k = interior_cell(cols, rows, pick);
        let before = area_m2(&l.grids[k].geometry);
        let v = exterior(&l, k)[0];
        let around = keys(&l, &cells_with_vertex(&l, v));
        move_corner(&mut l, k, -f);
        let after = area_m2(&l.grids[k].geometry);
        let rep = validate_coverage(&l, &CoverageOptions::default());
        prop_assert!(!rep.overlaps.is_empty(), "{}", rep.to_text());
        let total: f64 = rep.overlaps.iter().map(|o| o.area_m2).sum();
        prop_assert!(close(total, after - before), "overlap {} vs {}", total, after - before);
        let k_key = l.grids[k].key.clone();
        for o in &rep.overlaps {
            prop_assert!(o.grids.contains(&k_key));
            prop_assert!(around.contains(&o.grids[0]) && around.contains(&o.grids[1]));
        }
        let bad: BTreeSet<String> = rep.invalid_edges.iter().map(|e| e.grid.clone()).collect();
        prop_assert!(bad.contains(&k_key) && bad.is_subset(&around), "{:?}", bad);
        prop_assert!(rep.gaps.is_empty(), "{}", rep.to_text());
        assert_repairs(&l);
    }

    #[test]
    fn hole_pinched_at_a_shared_corner_is_a_gap(seed in 0u64..1000, pick in 0usize..1000, f in 0.2f64..0.6) {
        let (cols, rows) = (8, 7);
        let mut l = lattice(cols, rows, seed);
        let k = interior_cell(cols, rows, pick);
        let v = exterior(&l, k)[0];
        let want = pinch_hole(&mut l, k, v, f);
        prop_assume!(want.is_some());
        assert_one_gap_around(&l, k, want.unwrap_or_default())?;
    }

    #[test]
    fn gap_touching_the_rim_at_a_point_is_a_gap(seed in 0u64..1000, pick in 0usize..1000, f in 0.2f64..0.6) {
        // A bottom-row cell: its south edge is the coverage's rim. Put a vertex in its middle
        // (no neighbour shares that edge) and pinch a hole there.
        let (cols, rows) = (8, 7);
        let mut l = lattice(cols, rows, seed);
        let k = pick % cols;
        let ring = exterior(&l, k).clone();
        let south = (0..ring.len() - 1)
            .min_by(|&a, &b| (ring[a].y + ring[a + 1].y).total_cmp(&(ring[b].y + ring[b + 1].y)))
            .unwrap();
        let m = Coord { x: (ring[south].x + ring[south + 1].x) / 2.0, y: (ring[south].y + ring[south + 1].y) / 2.0 };
        l.grids[k].geometry.0[0].exterior_mut(|e| e.0.insert(south + 1, m));
        let want = pinch_hole(&mut l, k, m, f);
        prop_assume!(want.is_some());
        assert_one_gap_around(&l, k, want.unwrap_or_default())?;
    }

    #[test]
    fn deleted_grid_is_a_gap_of_its_area(seed in 0u64..1000, pick in 0usize..1000) {
        let (cols, rows) = (7, 6);
        let mut l = lattice(cols, rows, seed);
        let k = interior_cell(cols, rows, pick);
        let removed = l.grids.remove(k);
        let rep = validate_coverage(&l, &CoverageOptions::default());
        prop_assert!(rep.invalid_edges.is_empty() && rep.overlaps.is_empty());
        prop_assert_eq!(rep.gaps.len(), 1);
        prop_assert!(close(rep.gaps[0].area_m2, area_m2(&removed.geometry)));
        // Every grid sharing an edge with the deleted one borders the gap.
        let ring = &removed.geometry.0[0].exterior().0;
        for g in &l.grids {
            let shares = g.geometry.0[0].exterior().0.windows(2).any(|w| ring.windows(2).any(|r| r[0] == w[1] && r[1] == w[0]));
            if shares {
                prop_assert!(rep.gaps[0].neighbours.contains(&g.key));
            }
        }
        assert_repairs(&l);
    }

    #[test]
    fn duplicated_grid_overlaps_its_original(seed in 0u64..1000, pick in 0usize..1000) {
        let (cols, rows) = (7, 6);
        let mut l = lattice(cols, rows, seed);
        let k = interior_cell(cols, rows, pick);
        let mut dup = l.grids[k].clone();
        dup.key = "dup".into();
        dup.index = l.grids.len();
        l.grids.push(dup);
        let rep = validate_coverage(&l, &CoverageOptions::default());
        prop_assert_eq!(rep.overlaps.len(), 1);
        prop_assert_eq!(&rep.overlaps[0].grids, &[l.grids[k].key.clone(), "dup".to_string()]);
        prop_assert!(close(rep.overlaps[0].area_m2, area_m2(&l.grids[k].geometry)));
        let bad: BTreeSet<String> = rep.invalid_edges.iter().map(|e| e.grid.clone()).collect();
        prop_assert!(bad.contains("dup") && bad.contains(&l.grids[k].key));
        assert_repairs(&l);
    }
}

#[test]
fn seamless_lattices_validate_clean() {
    for seed in 0..20 {
        let l = lattice(9, 8, seed);
        let rep = validate_coverage(&l, &CoverageOptions::default());
        assert!(rep.valid, "seed {seed}: {}", rep.to_text());
        let u: MultiPolygon<f64> =
            MultiPolygon(l.grids.iter().flat_map(|g| g.geometry.0.clone()).collect());
        assert!(area_m2(&u) > 0.0);
    }
}

// The parsers of outside input (the same as the fuzz targets in fuzz/): whatever they are
// given, they answer a value or an error, never a panic; and what they accept is sane.

/// JSON-ish text: valid JSON of the shapes the parsers look for, or such text cut short or
/// spliced with noise.
fn jsonish() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<f64>().prop_map(|x| if x.is_finite() {
            x.to_string()
        } else {
            "1e400".into()
        }),
        "[a-zA-Z_0-9 ]{0,12}".prop_map(|s| format!("{s:?}")),
        Just(r#""Feature""#.to_string()),
        Just(r#""Polygon""#.to_string()),
        Just(r#""MultiPolygon""#.to_string()),
        Just(r#""FeatureCollection""#.to_string()),
    ];
    let value = leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("type"),
                        Just("features"),
                        Just("geometry"),
                        Just("coordinates"),
                        Just("properties"),
                        Just("code"),
                        Just("id"),
                        Just("channel"),
                        Just("category"),
                        Just("description"),
                        Just("lon"),
                        Just("lat"),
                        Just("crs"),
                        Just("contact"),
                        Just("address"),
                        Just("external_ticket")
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| format!(
                "{{{}}}",
                kv.iter()
                    .map(|(k, v)| format!("\"{k}\":{v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            )),
        ]
    });
    (value, any::<u16>(), "[\\x00-\\x7f]{0,4}").prop_map(|(v, cut, noise)| match cut % 4 {
        0 => v,
        1 => v.chars().take(usize::from(cut) % (v.len() + 1)).collect(),
        2 => format!("{noise}{v}"),
        _ => {
            let at = usize::from(cut) % (v.len() + 1);
            let at = (0..=at).rev().find(|&i| v.is_char_boundary(i)).unwrap_or(0);
            format!("{}{noise}{}", &v[..at], &v[at..])
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn layer_import_never_panics(text in jsonish()) {
        use tessera::spatial::layer::{KeySource, read_layer};
        if let Ok(layer) = read_layer(&text, &KeySource::Default) {
            for g in &layer.grids {
                for p in &g.geometry.0 {
                    prop_assert!(p.exterior().0.iter().all(|c| c.x.is_finite() && c.y.is_finite()));
                }
            }
        }
    }

    #[test]
    fn case_json_never_panics_and_accepts_only_real_pins(text in jsonish()) {
        if let Ok(req) = tessera::http::cases::read_report(text.as_bytes()) {
            if let (Some(lon), Some(lat)) = (req.lon, req.lat) {
                prop_assert!(lon.abs() <= 180.0 && lat.abs() <= 90.0);
            }
            prop_assert!(!req.description.trim().is_empty());
        }
    }

    #[test]
    fn open311_forms_never_panic(
        pairs in prop::collection::vec(
            (prop_oneof![
                prop::sample::select(vec!["service_code", "lat", "long", "attribute[crs]",
                    "description", "phone", "address_string"]).prop_map(str::to_string),
                "[a-z%&=]{0,6}"
            ],
             "[\\x00-\\x7f%&=+]{0,16}"),
            0..8),
        raw in "[\\x00-\\xff]{0,40}",
    ) {
        use tessera::http::open311::{case_request, read_form};
        let form: String = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
        for body in [form.as_bytes(), raw.as_bytes()] {
            if let Ok(fields) = read_form(body)
                && let Ok(req) = case_request(&fields)
            {
                prop_assert!(req.lat.is_none_or(f64::is_finite) && req.lon.is_none_or(f64::is_finite));
                let _ = tessera::http::cases::check_report(&req);
            }
        }
    }

    #[test]
    fn csv_points_never_panic_and_read_back_what_was_written(
        pts in prop::collection::vec((-180.0f64..=180.0, -90.0f64..=90.0), 0..20),
        noise in "[\\x00-\\x7f]{0,30}",
    ) {
        use tessera::cli::points::read_points;
        let text: String = pts.iter().map(|(x, y)| format!("{x},{y}\n")).collect();
        let read = read_points(&format!("lon,lat\n{text}")).unwrap();
        prop_assert_eq!(read.at.len(), pts.len());
        for (c, (x, y)) in read.at.iter().zip(&pts) {
            prop_assert_eq!((c.x, c.y), (*x, *y));
        }
        let _ = read_points(&format!("{text}{noise}"));
        let _ = read_points(&noise);
    }
}

/// The fuzzers' corpus (`fuzz/corpus/`) replayed through the same parsers: every input the
/// fuzzers kept is a regression test.
#[test]
fn the_fuzz_corpus_replays_without_a_panic() {
    use tessera::spatial::layer::{KeySource, read_layer};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut n = 0;
    for target in ["layer_geojson", "case_json", "open311_form", "points_csv"] {
        for entry in std::fs::read_dir(root.join(target)).unwrap() {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            n += 1;
            match target {
                "layer_geojson" => {
                    if let Ok(layer) =
                        read_layer(&String::from_utf8_lossy(&data), &KeySource::Default)
                        && layer.grids.len() <= 32
                    {
                        let _ = validate_coverage(&layer, &CoverageOptions::default());
                    }
                }
                "case_json" => {
                    let _ = tessera::http::cases::read_report(&data);
                }
                "open311_form" => {
                    if let Ok(f) = tessera::http::open311::read_form(&data)
                        && let Ok(r) = tessera::http::open311::case_request(&f)
                    {
                        let _ = tessera::http::cases::check_report(&r);
                    }
                }
                _ => {
                    let _ = tessera::cli::points::read_points(&String::from_utf8_lossy(&data));
                }
            }
        }
    }
    assert!(n > 100, "the corpus is there ({n} inputs)");
}
