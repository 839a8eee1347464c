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
    #[arg(long, default_value = "geodata/sources")]
    source: PathBuf,
    /// China's holiday calendar (date,kind,name).
    #[arg(long, default_value = "geodata/sources/calendar/cn-2026.csv")]
    calendar: PathBuf,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let DemoCommand::Generate(g) = a.command;
    let started = std::time::Instant::now();
    eprintln!(
        "generating {} grids from {} (seed {})",
        demo::GRIDS,
        g.source.display(),
        g.seed
    );
    let (district, files) = demo::generate_all(&g.source, &g.calendar, g.seed)?;
    eprintln!(
        "{} streets/towns, {} communities/villages, {} grids",
        district.streets.len(),
        district.communities.len(),
        district.grids.len()
    );
    for (name, text) in &files {
        demo::write_file(&g.out, name, text)?;
        eprintln!("wrote {}", g.out.join(name).display());
    }
    eprintln!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}
