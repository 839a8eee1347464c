//! The `tessera` command line, one file per subcommand.
//!
//! Exit codes: 0 success (for `validate`, a seamless layer), 1 problems found, 2 unreadable
//! input or bad arguments.

mod accounts;
mod backup;
mod demo;
mod locate;
pub mod points;
mod progress;
mod repair;
mod serve;
mod validate;

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// tessera — seamless grid maps and pin-to-grid routing for grid-based city governance.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check that a grid layer is seamless: no overlaps, no gaps, matching edges, valid geometry.
    Validate(validate::Args),
    /// Snap, node and clean a grid layer so it becomes seamless.
    Repair(repair::Args),
    /// Find the grid of each point (CSV lon,lat in, CSV lon,lat,grid out).
    Locate(locate::Args),
    /// The Zhangdian demo district (generate its data).
    Demo(demo::Args),
    /// Run the service (embedded SQLite by default; the demo district is seeded on first start).
    Serve(serve::Args),
    /// Staff accounts (add).
    User(accounts::UserArgs),
    /// API keys for integrations (create).
    #[command(name = "api-key")]
    ApiKey(accounts::KeyArgs),
    /// Copy the embedded database while the service runs (SQLite's online backup API).
    Backup(backup::BackupArgs),
    /// Put a backup in place of the embedded database (the service stopped).
    Restore(backup::RestoreArgs),
}

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Validate(a) => validate::run(a),
        Command::Repair(a) => repair::run(a),
        Command::Locate(a) => locate::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Serve(a) => serve::run(a),
        Command::User(a) => accounts::run_user(a),
        Command::ApiKey(a) => accounts::run_key(a),
        Command::Backup(a) => backup::run_backup(a),
        Command::Restore(a) => backup::run_restore(a),
    };
    match result {
        Ok(code) => code,
        // A reader that stopped early (`| head`) is not an error worth a message.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Options shared by commands that read a grid layer.
#[derive(Debug, clap::Args)]
pub struct LayerArgs {
    /// Grid layer: a GeoJSON FeatureCollection of Polygon/MultiPolygon features.
    #[arg(value_name = "GRIDS")]
    pub grids: PathBuf,
    /// Property holding each grid's key (default: `code`, else the Feature id, else the index).
    #[arg(long, value_name = "NAME")]
    pub id_property: Option<String>,
}

impl LayerArgs {
    /// Reads and parses the layer, with the file name in any error.
    pub fn read(&self) -> anyhow::Result<crate::spatial::GridLayer> {
        let text = read_text(&self.grids)?;
        let keys = match &self.id_property {
            Some(p) => crate::spatial::layer::KeySource::Property(p.clone()),
            None => Default::default(),
        };
        crate::spatial::read_layer(&text, &keys)
            .map_err(|e| anyhow::anyhow!("{}: {e}", self.grids.display()))
    }
}

/// Reads a boundary file, with its name in any error.
pub fn read_boundary(path: &Path) -> anyhow::Result<geo_types::MultiPolygon<f64>> {
    let text = read_text(path)?;
    let mut b = crate::spatial::layer::read_boundary(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if b.0.is_empty() {
        anyhow::bail!("{}: the boundary has no polygons", path.display());
    }
    b.0.retain(|p| !p.exterior().0.is_empty());
    Ok(b)
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
}
