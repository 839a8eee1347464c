//! `tessera validate`: is the grid layer seamless?

use super::{LayerArgs, progress::Stages, read_boundary};
use crate::spatial::coverage::{CoverageOptions, validate_coverage_with};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `tessera validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    layer: LayerArgs,
    /// Area the grids must cover exactly (GeoJSON polygon, feature or collection); default: the
    /// grids' own union, so only holes inside it count as gaps.
    #[arg(long, value_name = "FILE")]
    boundary: Option<PathBuf>,
    /// Gaps narrower than this many metres are also reported as slivers.
    #[arg(long, value_name = "W", default_value_t = 0.0)]
    gap_width_m: f64,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Print `validated N grids in S seconds` on stderr (time inside the process, I/O excluded).
    #[arg(long)]
    stats: bool,
}

/// Report formats.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// JSON report with GeoJSON geometry for every problem.
    Json,
    /// A readable summary.
    Text,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    if !a.gap_width_m.is_finite() || a.gap_width_m < 0.0 {
        anyhow::bail!("--gap-width-m must be a number ≥ 0, got {}", a.gap_width_m);
    }
    let layer = a.layer.read()?;
    let boundary = a.boundary.as_deref().map(read_boundary).transpose()?;
    let opts = CoverageOptions {
        boundary,
        gap_width_m: a.gap_width_m,
    };
    let started = std::time::Instant::now();
    let report = {
        let stages = Stages::new();
        validate_coverage_with(&layer, &opts, &stages)
    };
    let secs = started.elapsed().as_secs_f64();
    let text = match a.format {
        Format::Json => serde_json::to_string(&report)? + "\n",
        Format::Text => report.to_text(),
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    if a.stats {
        eprintln!("validated {} grids in {secs:.6} seconds", report.grids);
    }
    Ok(if report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
