//! `tessera demo generate`: (re)build the Zhangdian demo district under `geodata/zhangdian/`;
//! `tessera demo coverage`: a seamless synthetic coverage of any size, for benchmarks.

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
    /// Write a seamless synthetic coverage of N grids (a jittered lattice of ~500 m cells near
    /// Zibo, keys c000000…), the same for the same seed: for rerunning the benchmarks at any size.
    Coverage(CoverageArgs),
}

#[derive(Debug, clap::Args)]
struct CoverageArgs {
    /// Number of grids.
    #[arg(long, default_value_t = 100_000)]
    grids: usize,
    /// Seed of the jitter; the same seed gives the same file.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Output GeoJSON file (`-` for stdout).
    #[arg(long, short = 'o', default_value = "-")]
    out: PathBuf,
}

fn coverage(a: CoverageArgs) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    if a.grids == 0 {
        anyhow::bail!("--grids must be at least 1");
    }
    let started = std::time::Instant::now();
    let mut layer = crate::spatial::synth::Lattice::near_zibo(a.grids, a.seed).build();
    // The lattice fills whole rows; the last one is cut to the count asked for (still seamless).
    layer.grids.truncate(a.grids);
    if a.out.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut w = std::io::BufWriter::new(stdout.lock());
        layer.write_geojson(&mut w)?;
        w.flush()?;
    } else {
        let tmp = a.out.with_extension("partial");
        let mut w = std::io::BufWriter::new(
            std::fs::File::create(&tmp)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?,
        );
        layer.write_geojson(&mut w)?;
        w.flush()?;
        drop(w);
        std::fs::rename(&tmp, &a.out)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", a.out.display()))?;
    }
    eprintln!(
        "{} grids (seed {}) in {:.1} s",
        layer.grids.len(),
        a.seed,
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
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
    let g = match a.command {
        DemoCommand::Generate(g) => g,
        DemoCommand::Coverage(c) => return coverage(c),
    };
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
