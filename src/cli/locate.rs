//! `tessera locate`: the grid of each point, CSV in and out, in input order.

use super::LayerArgs;
use crate::spatial::crs::{Crs, to_wgs84};
use crate::spatial::{Hit, Locator};
use geo_types::Coord;
use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `tessera locate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    layer: LayerArgs,
    /// Points as CSV `lon,lat` per line (header optional); `-` or absent for stdin.
    #[arg(long, value_name = "FILE")]
    points: Option<PathBuf>,
    /// Coordinate system of the points (converted to WGS84 before locating).
    #[arg(long, default_value = "wgs84")]
    crs: Crs,
    /// A point in no grid but within this many metres of one gets the nearest (column snapped_m).
    #[arg(long, value_name = "D", default_value_t = 0.0)]
    snap_m: f64,
    /// Print `located N points in S seconds` on stderr (time inside the process, I/O excluded).
    #[arg(long)]
    stats: bool,
}

struct Point<'a> {
    lon_text: &'a str,
    lat_text: &'a str,
    at: Coord<f64>,
}

fn parse(text: &str) -> anyhow::Result<Vec<Point<'_>>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut parts = line.split(',');
        let (Some(lon_text), Some(lat_text)) = (parts.next(), parts.next()) else {
            anyhow::bail!("points line {}: expected lon,lat, got {line:?}", n + 1);
        };
        let (lon_text, lat_text) = (lon_text.trim(), lat_text.trim());
        let (lon, lat) = match (lon_text.parse::<f64>(), lat_text.parse::<f64>()) {
            (Ok(lon), Ok(lat)) => (lon, lat),
            _ if n == 0 && out.is_empty() => continue, // header
            _ => anyhow::bail!("points line {}: {line:?} is not two numbers lon,lat", n + 1),
        };
        if !(lon.is_finite()
            && lat.is_finite()
            && (-180.0..=180.0).contains(&lon)
            && (-90.0..=90.0).contains(&lat))
        {
            anyhow::bail!("points line {}: {lon},{lat} is not a valid lon,lat", n + 1);
        }
        out.push(Point {
            lon_text,
            lat_text,
            at: Coord { x: lon, y: lat },
        });
    }
    Ok(out)
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    if !a.snap_m.is_finite() || a.snap_m < 0.0 {
        anyhow::bail!("--snap-m must be a number ≥ 0, got {}", a.snap_m);
    }
    let layer = a.layer.read()?;
    layer.ensure_unique_keys()?;
    let mut text = String::new();
    match a.points.as_deref() {
        None => std::io::stdin().lock().read_to_string(&mut text)?,
        Some(p) if p.as_os_str() == "-" => std::io::stdin().lock().read_to_string(&mut text)?,
        Some(p) => std::fs::File::open(p)
            .and_then(|mut f| f.read_to_string(&mut text))
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?,
    };
    let points = parse(&text)?;
    let locator = Locator::new(&layer.geometries());

    // Points are converted to WGS84 on intake (the original text is what is echoed back).
    let wgs84: Vec<Coord<f64>> = points
        .iter()
        .map(|p| {
            let (x, y) = to_wgs84(a.crs, p.at.x, p.at.y);
            Coord { x, y }
        })
        .collect();

    let started = std::time::Instant::now();
    let hits: Vec<Option<Hit>> = if a.snap_m > 0.0 {
        wgs84
            .iter()
            .map(|&p| locator.locate_or_snap(p, a.snap_m))
            .collect()
    } else {
        wgs84
            .iter()
            .map(|&p| {
                locator.locate(p).map(|index| Hit {
                    index,
                    snapped_m: None,
                })
            })
            .collect()
    };
    let secs = started.elapsed().as_secs_f64();

    let stdout = std::io::stdout();
    let mut w = BufWriter::with_capacity(1 << 16, stdout.lock());
    let snap_col = a.snap_m > 0.0;
    writeln!(
        w,
        "lon,lat,grid{}",
        if snap_col { ",snapped_m" } else { "" }
    )?;
    for (p, h) in points.iter().zip(&hits) {
        let key = h.map(|h| layer.grids[h.index].key.as_str()).unwrap_or("");
        write!(w, "{},{},{}", p.lon_text, p.lat_text, csv_field(key))?;
        if snap_col {
            match h.and_then(|h| h.snapped_m) {
                Some(d) => write!(w, ",{d:.2}")?,
                None => write!(w, ",")?,
            }
        }
        w.write_all(b"\n")?;
    }
    w.flush()?;
    if a.stats {
        eprintln!("located {} points in {secs:.6} seconds", points.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}
