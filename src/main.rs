//! The `tessera` command line: parse arguments and hand over to [`tessera::cli`].

use clap::Parser;

/// mimalloc instead of the system allocator: the service makes many small, short-lived
/// allocations per request (parsing, JSON), where glibc's malloc costs a tenth of the time
/// under load; mimalloc's per-thread heaps make it a few percent.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = tessera::cli::Cli::parse();
    tessera::cli::run(cli)
}
