//! `tessera locate`: the grid of each point, CSV in and out, in input order.

use super::LayerArgs;
use crate::spatial::crs::{Crs, to_wgs84};
use crate::spatial::{Hit, Locator};
use geo_types::Coord;
use std::io::{BufWriter, Read};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `tessera locate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    layer: LayerArgs,
    /// Points as CSV: `lon,lat` per row, or any columns under a header naming lon/lng/longitude/x
    /// and lat/latitude/y (written back with `grid` added); `-` or absent for stdin.
    #[arg(long, value_name = "FILE")]
    points: Option<PathBuf>,
    /// Coordinate system of the points (converted to WGS84 before locating).
    #[arg(long, default_value = "wgs84")]
    crs: Crs,
    /// A point in no grid but within this many metres of one gets the nearest (column snapped_m).
    #[arg(long, value_name = "D", default_value_t = 0.0)]
    snap_m: f64,
    /// Threads for locating (default: every core; batches under 50,000 points use one).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Print timings on stderr: `read N grids in S seconds`, `indexed N grids in S seconds
    /// (B bytes)`, `located N points in S seconds on T threads` (time inside the process; the
    /// last excludes reading and writing).
    #[arg(long)]
    stats: bool,
}

/// Points below which locating stays on one thread (spawning costs more than it saves).
const PARALLEL_FROM: usize = 50_000;

/// Fewest points located as one Z-ordered block.
const MIN_BLOCK: usize = 65_536;

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    if !a.snap_m.is_finite() || a.snap_m < 0.0 {
        anyhow::bail!("--snap-m must be a number ≥ 0, got {}", a.snap_m);
    }
    if a.threads == Some(0) {
        anyhow::bail!("--threads must be at least 1");
    }
    let read_started = std::time::Instant::now();
    let layer = a.layer.read()?;
    layer.ensure_unique_keys()?;
    if a.stats {
        eprintln!(
            "read {} grids in {:.6} seconds",
            layer.grids.len(),
            read_started.elapsed().as_secs_f64()
        );
    }
    let mut text = String::new();
    match a.points.as_deref() {
        None => std::io::stdin().lock().read_to_string(&mut text)?,
        Some(p) if p.as_os_str() == "-" => std::io::stdin().lock().read_to_string(&mut text)?,
        Some(p) => std::fs::File::open(p)
            .and_then(|mut f| f.read_to_string(&mut text))
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?,
    };
    let points = super::points::read_points(&text)?;
    let index_started = std::time::Instant::now();
    let locator = Locator::new(&layer.geometries());
    if a.stats {
        eprintln!(
            "indexed {} grids in {:.6} seconds ({} bytes)",
            layer.grids.len(),
            index_started.elapsed().as_secs_f64(),
            locator.heap_bytes()
        );
    }

    // Points are converted to WGS84 on intake (the original text is what is echoed back).
    let wgs84: Vec<Coord<f64>> = points
        .at
        .iter()
        .map(|p| {
            let (x, y) = to_wgs84(a.crs, p.x, p.y);
            Coord { x, y }
        })
        .collect();

    let threads = match a.threads {
        _ if wgs84.len() < PARALLEL_FROM => 1,
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let one = |p: Coord<f64>| -> Option<Hit> {
        if a.snap_m > 0.0 {
            locator.locate_or_snap(p, a.snap_m)
        } else {
            locator.locate(p).map(|index| Hit {
                index,
                snapped_m: None,
            })
        }
    };
    // Z-ordered in blocks: a block's points walk the index in order. Large layers (whose index
    // outgrows the caches) gain from large blocks; small ones from sorts that stay in cache.
    let block = (2 * layer.grids.len()).max(MIN_BLOCK);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let started = std::time::Instant::now();
    let hits: Vec<Option<Hit>> = if a.snap_m > 0.0 {
        if threads == 1 {
            wgs84.iter().map(|&p| one(p)).collect()
        } else {
            use rayon::prelude::*;
            pool.install(|| {
                wgs84
                    .par_chunks(4096)
                    .flat_map_iter(|c| c.iter().map(|&p| one(p)))
                    .collect()
            })
        }
    } else {
        let hit = |index| Hit {
            index,
            snapped_m: None,
        };
        // Answers go straight into one vector of the final size (a growing one would copy
        // every answer again at each doubling).
        let mut hits = Vec::with_capacity(wgs84.len());
        if threads == 1 {
            for c in wgs84.chunks(block) {
                hits.extend(locator.locate_many(c).into_iter().map(|i| i.map(hit)));
            }
        } else {
            use rayon::prelude::*;
            let blocks: Vec<Vec<Option<usize>>> = pool.install(|| {
                wgs84
                    .par_chunks(block.min(wgs84.len().div_ceil(threads)))
                    .map(|c| locator.locate_many(c))
                    .collect()
            });
            for b in blocks {
                hits.extend(b.into_iter().map(|i| i.map(hit)));
            }
        }
        hits
    };
    let secs = started.elapsed().as_secs_f64();

    let stdout = std::io::stdout();
    let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, stdout.lock()));
    let snap_col = a.snap_m > 0.0;
    let mut header = points.header.clone();
    header.push("grid".into());
    if snap_col {
        header.push("snapped_m".into());
    }
    w.write_record(&header)?;
    for (row, h) in points.rows.iter().zip(&hits) {
        let key = h.map(|h| layer.grids[h.index].key.as_str()).unwrap_or("");
        let mut out: Vec<&str> = row.iter().map(String::as_str).collect();
        out.push(key);
        let snapped = h.and_then(|h| h.snapped_m).map(|d| format!("{d:.2}"));
        if snap_col {
            out.push(snapped.as_deref().unwrap_or(""));
        }
        w.write_record(&out)?;
    }
    w.flush()?;
    if a.stats {
        eprintln!(
            "located {} points in {secs:.6} seconds on {threads} thread{}",
            points.at.len(),
            if threads == 1 { "" } else { "s" }
        );
    }
    Ok(ExitCode::SUCCESS)
}
