//! Criterion benchmarks of the hot paths: point location and coverage validation on a
//! 1,500-grid and a 100,000-grid synthetic coverage (jittered lattice, 5–9 vertices per grid).
//!
//! `cargo bench --bench spatial`; the comparison with shapely/GEOS is `scripts/compare.py`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use geo_types::Coord;
use std::hint::black_box;
use tessera::spatial::Locator;
use tessera::spatial::coverage::{CoverageOptions, validate_coverage};
use tessera::spatial::synth::{Lattice, Rng};

fn points(layer: &tessera::spatial::GridLayer, n: usize, seed: u64) -> Vec<Coord<f64>> {
    use geo::BoundingRect;
    let all = geo_types::MultiPolygon(
        layer
            .grids
            .iter()
            .flat_map(|g| g.geometry.0.iter().cloned())
            .collect(),
    );
    let r = all.bounding_rect().expect("non-empty layer");
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| Coord {
            x: rng.range(r.min().x, r.max().x),
            y: rng.range(r.min().y, r.max().y),
        })
        .collect()
}

fn bench_locate(c: &mut Criterion) {
    let mut g = c.benchmark_group("locate");
    for n in [1_500usize, 100_000] {
        let layer = Lattice::near_zibo(n, 1).build();
        let locator = Locator::new(&layer.geometries());
        let pts = points(&layer, 100_000, 2);
        g.throughput(Throughput::Elements(pts.len() as u64));
        g.bench_with_input(BenchmarkId::new("points", n), &pts, |b, pts| {
            b.iter(|| {
                let mut found = 0usize;
                for &p in pts {
                    found += usize::from(locator.locate(black_box(p)).is_some());
                }
                found
            })
        });
        g.bench_with_input(BenchmarkId::new("build", n), &layer, |b, layer| {
            let geoms = layer.geometries();
            b.iter(|| Locator::new(black_box(&geoms)))
        });
    }
    g.finish();
}

fn bench_validate(c: &mut Criterion) {
    let mut g = c.benchmark_group("validate");
    g.sample_size(10);
    for n in [1_500usize, 100_000] {
        let layer = Lattice::near_zibo(n, 1).build();
        g.throughput(Throughput::Elements(layer.grids.len() as u64));
        g.bench_with_input(BenchmarkId::new("grids", n), &layer, |b, layer| {
            b.iter(|| validate_coverage(black_box(layer), &CoverageOptions::default()).valid)
        });
    }
    g.finish();
}

criterion_group!(benches, bench_locate, bench_validate);
criterion_main!(benches);
