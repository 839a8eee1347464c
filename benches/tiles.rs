//! Vector tile encoding time of the in-process encoder (what `/tiles/grids/{z}/{x}/{y}.mvt`
//! does on SQLite): candidates from the live index, clipping, snapping, protobuf.
//!
//!     cargo bench --bench tiles [-- --json]
//!
//! The layer is `TESSERA_BENCH_LAYER` (a GeoJSON file) or a synthetic coverage of
//! `TESSERA_BENCH_GRIDS` grids (default 1,000,000); the tiles are the `z/x/y` lines of
//! `TESSERA_BENCH_TILES`, or 200 seeded random tiles per zoom 8–15 over the layer. Prints per
//! zoom the median, 99th percentile and largest time; with `--json`, one JSON object per tile.
//! Without `--bench` (as `cargo test` runs it) it encodes a few tiles of a small layer once.

use geo::BoundingRect;
use std::time::Instant;
use tessera::http::{Live, tiles::grid_tile_bytes};
use tessera::spatial::synth::{Lattice, Rng};
use tessera::spatial::tile::TileId;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bench = args.iter().any(|a| a == "--bench");
    let json = args.iter().any(|a| a == "--json");
    let started = Instant::now();
    let layer = match std::env::var("TESSERA_BENCH_LAYER") {
        Ok(path) => {
            let text = std::fs::read_to_string(&path).expect("TESSERA_BENCH_LAYER is readable");
            tessera::spatial::read_layer(&text, &Default::default()).expect("a grid layer")
        }
        Err(_) => {
            let n = std::env::var("TESSERA_BENCH_GRIDS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(if bench { 1_000_000 } else { 2_000 });
            Lattice::near_zibo(n, 1).build()
        }
    };
    let live = Live::build(1, layer);
    eprintln!(
        "tiles: {} grids loaded and indexed in {:.1} s",
        live.layer.grids.len(),
        started.elapsed().as_secs_f64()
    );
    let tiles: Vec<TileId> = match std::env::var("TESSERA_BENCH_TILES") {
        Ok(path) => std::fs::read_to_string(&path)
            .expect("TESSERA_BENCH_TILES is readable")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: Vec<u32> = l
                    .trim()
                    .split('/')
                    .map(|s| s.parse().expect("z/x/y"))
                    .collect();
                TileId::new(v[0], v[1], v[2]).expect("a tile")
            })
            .collect(),
        Err(_) => random_tiles(&live, if bench { 200 } else { 3 }),
    };
    let mut by_zoom: std::collections::BTreeMap<u8, Vec<f64>> = Default::default();
    for t in &tiles {
        let t0 = Instant::now();
        let candidates = live.locator.intersecting_envelope(t.query_rect());
        let bytes = grid_tile_bytes(&live, *t, &candidates);
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        if json {
            println!(
                "{{\"z\":{},\"x\":{},\"y\":{},\"ms\":{ms:.4},\"bytes\":{},\"candidates\":{}}}",
                t.z,
                t.x,
                t.y,
                bytes.len(),
                candidates.len()
            );
        }
        if !bench {
            assert!(
                bytes.is_empty() || tessera::spatial::tile::decode(&bytes).is_ok(),
                "tile {t:?} decodes"
            );
        }
        by_zoom.entry(t.z).or_default().push(ms);
    }
    for (z, mut ms) in by_zoom {
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
        eprintln!(
            "tiles z{z}: {} tiles, median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            ms.len(),
            at(0.5),
            at(0.99),
            ms[ms.len() - 1]
        );
    }
}

/// `per_zoom` seeded random tiles at each zoom 8–15 whose area the layer's bounding box reaches.
fn random_tiles(live: &Live, per_zoom: usize) -> Vec<TileId> {
    let bbox = tessera::spatial::GridLayer::geometries(&live.layer)
        .iter()
        .filter_map(|g| g.bounding_rect())
        .reduce(|a, b| {
            geo_types::Rect::new(
                geo_types::Coord {
                    x: a.min().x.min(b.min().x),
                    y: a.min().y.min(b.min().y),
                },
                geo_types::Coord {
                    x: a.max().x.max(b.max().x),
                    y: a.max().y.max(b.max().y),
                },
            )
        })
        .expect("a layer with grids");
    let mut rng = Rng::new(7);
    let world = TileId::new(0, 0, 0).unwrap();
    let mut out = Vec::new();
    for z in 8..=15u32 {
        let n = f64::from(1u32 << z);
        for _ in 0..per_zoom {
            let c = geo_types::Coord {
                x: rng.range(bbox.min().x, bbox.max().x),
                y: rng.range(bbox.min().y, bbox.max().y),
            };
            let w = world.project(c);
            let (x, y) = ((w.x / 4096.0 * n) as u32, (w.y / 4096.0 * n) as u32);
            out.push(TileId::new(z, x, y).unwrap());
        }
    }
    out
}
