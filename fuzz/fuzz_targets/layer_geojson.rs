//! A grid layer upload (GeoJSON FeatureCollection): read, and when small enough to be quick,
//! validated as a coverage. Neither may panic, whatever the bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tessera::spatial::layer::{KeySource, read_layer};
use tessera::spatial::{CoverageOptions, validate_coverage};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(layer) = read_layer(text, &KeySource::Default) else {
        return;
    };
    let vertices: usize = layer
        .grids
        .iter()
        .flat_map(|g| g.geometry.0.iter())
        .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
        .sum();
    if layer.grids.len() <= 32 && vertices <= 2_000 {
        let _ = validate_coverage(&layer, &CoverageOptions::default());
    }
});
