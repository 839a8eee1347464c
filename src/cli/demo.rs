//! `tessera demo generate`: (re)build the Zhangdian demo district under `geodata/zhangdian/`.

use crate::demo;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `tessera demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: DemoCommand,
}

#[derive(Debug, clap::Subcommand)]
enum DemoCommand {
    /// Generate the demo district deterministically from the real outline and names.
    Generate(GenerateArgs),
}

#[derive(Debug, clap::Args)]
struct GenerateArgs {
    /// Seed for every random choice; the same seed gives byte-identical files.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Output folder.
    #[arg(long, default_value = "geodata/zhangdian")]
    out: PathBuf,
    /// Folder with the real source data (outline, official names).
    #[arg(long, default_value = "../shared/geodata-src")]
    source: PathBuf,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let DemoCommand::Generate(g) = a.command;
    let started = std::time::Instant::now();
    eprintln!("reading sources from {}", g.source.display());
    let src = demo::read_sources(&g.source)?;
    eprintln!(
        "generating {} grids in {} communities of {} streets/towns (seed {})",
        demo::GRIDS,
        src.villages.len(),
        src.towns.len(),
        g.seed
    );
    let district = demo::generate_district(&src, g.seed)?;
    for (name, text) in demo::geometry_files(&district) {
        demo::write_file(&g.out, name, &text)?;
        eprintln!("wrote {}", g.out.join(name).display());
    }
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}
