//! `tessera repair`: make a grid layer seamless (snap, node, resolve overlaps and narrow gaps).

use super::{LayerArgs, progress::Stages, read_boundary};
use crate::spatial::repair::{MergeStrategy, RepairOptions, repair_with};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `tessera repair`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    layer: LayerArgs,
    /// Where to write the repaired layer (GeoJSON FeatureCollection; `-` for stdout).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: PathBuf,
    /// Area the grids must cover exactly; parts outside it are cut off, gaps inside it filled.
    #[arg(long, value_name = "FILE")]
    boundary: Option<PathBuf>,
    /// Snap vertices and edges closer than this many metres.
    #[arg(long, value_name = "S", default_value_t = 0.0)]
    snap_m: f64,
    /// Merge gaps narrower than this many metres into the neighbour with the longest border.
    #[arg(long, value_name = "W", default_value_t = 0.0)]
    gap_width_m: f64,
    /// Which grid an overlap goes to: longest-border (the grid with the longest border against
    /// it), max-area, min-area (the grid with the largest/smallest area so far) or min-index
    /// (the earliest grid).
    #[arg(long, value_name = "STRATEGY", default_value = "longest-border")]
    merge: MergeStrategy,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let layer = a.layer.read()?;
    let boundary = a.boundary.as_deref().map(read_boundary).transpose()?;
    let opts = RepairOptions {
        boundary,
        snap_m: a.snap_m,
        gap_width_m: a.gap_width_m,
        merge: a.merge,
    };
    let out = {
        let stages = Stages::new();
        repair_with(&layer, &opts, &stages)?
    };
    let text = serde_json::to_string(&out.layer.to_geojson())?;
    if a.output.as_os_str() == "-" {
        writeln!(std::io::stdout().lock(), "{text}")?;
    } else {
        let tmp = a.output.with_extension("tmp");
        std::fs::write(&tmp, text + "\n")
            .and_then(|_| std::fs::rename(&tmp, &a.output))
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", a.output.display()))?;
    }
    let mut err = std::io::stderr().lock();
    writeln!(err, "grid,area_before_m2,area_after_m2,change_m2")?;
    for c in &out.changes {
        writeln!(
            err,
            "{},{:.2},{:.2},{:+.2}{}",
            c.grid,
            c.area_before_m2 + 0.0,
            c.area_after_m2 + 0.0,
            c.area_after_m2 - c.area_before_m2 + 0.0,
            match (c.removed, c.area_before_m2 > 0.0) {
                (false, _) => "",
                (true, true) => ",removed (fully covered by other grids)",
                (true, false) => ",removed (no area: empty or collapsed geometry)",
            }
        )?;
    }
    writeln!(
        err,
        "repaired {} grids: {} changed, {} removed",
        layer.grids.len(),
        out.changes.len(),
        out.changes.iter().filter(|c| c.removed).count()
    )?;
    for g in &out.open_gaps {
        writeln!(
            err,
            "gap left open: {:.1} m², {:.2} m wide, at {:.7},{:.7} (wider than --gap-width-m)",
            g.area_m2, g.width_m, g.at[0], g.at[1]
        )?;
    }
    Ok(if out.open_gaps.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
