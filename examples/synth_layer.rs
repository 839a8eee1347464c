//! Writes a seamless synthetic grid layer (jittered lattice near Zibo) as GeoJSON on stdout.
//!
//! `cargo run --release --example synth_layer -- 100000 42 > /tmp/cells.geojson`

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1500);
    let seed: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(42);
    let layer = tessera::spatial::synth::Lattice::near_zibo(n, seed).build();
    println!("{}", layer.to_geojson());
}
