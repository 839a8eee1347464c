//! The `tessera` command line: parse arguments and hand over to [`tessera::cli`].

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = tessera::cli::Cli::parse();
    tessera::cli::run(cli)
}
