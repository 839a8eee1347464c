//! `tessera backup` and `tessera restore`: the embedded SQLite database copied while the
//! service runs, and a copy put back in place (see `store::backup`).

use super::accounts::DbArgs;
use crate::store::backup::{Summary, backup, restore, sqlite_path};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `tessera backup`.
#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The backup file to write (replaced when it exists; written beside it first, checked,
    /// synced, then renamed into place).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    #[command(flatten)]
    db: DbArgs,
}

/// Arguments of `tessera restore`.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The backup file to restore (checked before anything is changed).
    #[arg(long, value_name = "FILE")]
    from: PathBuf,
    /// Put it in place of an existing database (the service stopped); the old file is kept
    /// beside it as `tessera.db.before-restore`.
    #[arg(long)]
    replace: bool,
    #[command(flatten)]
    db: DbArgs,
}

fn say(what: &str, s: &Summary) {
    eprintln!(
        "{what}: {} cases, {} case events, {} layer versions, {:.1} MB",
        s.cases,
        s.events,
        s.layers,
        s.bytes as f64 / 1e6
    );
}

/// `tessera backup --out FILE`.
pub fn run_backup(a: BackupArgs) -> anyhow::Result<ExitCode> {
    super::accounts::runtime()?.block_on(async {
        // The database must exist: a backup never creates one.
        let path = sqlite_path(a.db.database_url.as_deref(), &a.db.data_dir)?;
        if !path.exists() {
            anyhow::bail!("there is no database at {} to back up", path.display());
        }
        let store = super::accounts::open(&a.db).await?;
        let s = backup(&store, &a.out).await?;
        store.close().await;
        say(&format!("backed up into {}", a.out.display()), &s);
        eprintln!(
            "case media are files under {}; copy that folder too (files are only ever added)",
            a.db.data_dir.join("media").display()
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// `tessera restore --from FILE [--replace]`.
pub fn run_restore(a: RestoreArgs) -> anyhow::Result<ExitCode> {
    super::accounts::runtime()?.block_on(async {
        let target = sqlite_path(a.db.database_url.as_deref(), &a.db.data_dir)?;
        let s = restore(&a.from, &target, a.replace).await?;
        say(
            &format!("restored {} from {}", target.display(), a.from.display()),
            &s,
        );
        Ok(ExitCode::SUCCESS)
    })
}
