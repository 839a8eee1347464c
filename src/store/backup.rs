//! Backups of the embedded database while the service runs, and restoring one.
//!
//! SQLite: [`backup`] copies the live database with SQLite's online backup API
//! (`sqlite3_backup_*`, all pages in one step under one read transaction, so the copy is a
//! consistent snapshot while writers go on in the write-ahead log), into a temporary file that
//! is checked (`PRAGMA integrity_check`), synced and renamed into place. [`restore`] checks a
//! backup the same way and puts it in place of a database that is not running.
//!
//! PostgreSQL: use the server's own tools (documented in the README): `pg_dump --format=custom`
//! and `pg_restore`; tessera does not run them.

use super::{Store, StoreError};
use sqlx::Connection;
use sqlx::sqlite::SqliteConnectOptions;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// What a backup or restore holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Size of the database file, bytes.
    pub bytes: u64,
    /// Cases in it.
    pub cases: i64,
    /// Case events in it.
    pub events: i64,
    /// Grid layer versions in it.
    pub layers: i64,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Unsupported(format!("{what} {}: {e}", path.display()))
}

/// The PostgreSQL answer: tessera leaves its backups to `pg_dump`.
fn postgres_note() -> StoreError {
    StoreError::Unsupported(
        "a PostgreSQL database is backed up with its own tools: \
         pg_dump --format=custom --file=tessera.dump DATABASE_URL, and restored with \
         pg_restore --clean --if-exists --dbname=DATABASE_URL tessera.dump (see the README)"
            .into(),
    )
}

/// Checks the SQLite file at `path` is whole and is a tessera database; counts what it holds.
pub async fn inspect(path: &Path) -> Result<Summary, StoreError> {
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .create_if_missing(false);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await?;
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await?;
    if check != "ok" {
        return Err(StoreError::Corrupt(format!(
            "{} fails SQLite's integrity check: {check}",
            path.display()
        )));
    }
    let mut count = async |sql: &'static str| -> Result<i64, StoreError> {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&mut conn)
            .await
            .map_err(|e| {
                StoreError::Corrupt(format!(
                    "{} is not a tessera database ({e})",
                    path.display()
                ))
            })
    };
    let cases = count("SELECT count(*) FROM case_record").await?;
    let events = count("SELECT count(*) FROM case_event").await?;
    let layers = count("SELECT count(*) FROM layer").await?;
    conn.close().await?;
    let bytes = std::fs::metadata(path)
        .map_err(|e| io("cannot read", path, e))?
        .len();
    Ok(Summary {
        bytes,
        cases,
        events,
        layers,
    })
}

/// A file beside `target` to write before renaming it into place.
fn temporary(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".partial-{}", std::process::id()));
    target.with_file_name(name)
}

/// Copies the live database into `out` (replacing it), checked and synced.
pub async fn backup(store: &Store, out: &Path) -> Result<Summary, StoreError> {
    let Store::Sqlite(s) = store else {
        return Err(postgres_note());
    };
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io("cannot create", dir, e))?;
    }
    let partial = temporary(out);
    let _ = std::fs::remove_file(&partial);
    let result = copy_pages(s, &partial).await;
    if let Err(e) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    let summary = match inspect(&partial).await {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("cannot sync", &partial, e))?;
    std::fs::rename(&partial, out).map_err(|e| io("cannot write", out, e))?;
    Ok(summary)
}

/// The backup API proper: all pages of `main` into a new file at `dest`.
async fn copy_pages(s: &super::sqlite::SqliteStore, dest: &Path) -> Result<(), StoreError> {
    use libsqlite3_sys as ffi;
    let dest_c = std::ffi::CString::new(dest.to_string_lossy().as_bytes())
        .map_err(|_| StoreError::Unsupported(format!("bad path {}", dest.display())))?;
    let mut conn = s.pool().acquire().await?;
    let mut handle = conn.lock_handle().await?;
    let src = handle.as_raw_handle().as_ptr();
    // SAFETY: `src` is a live connection held locked for the whole copy; `dst` is opened,
    // used and closed here; every pointer passed is valid for the call.
    unsafe {
        let mut dst: *mut ffi::sqlite3 = std::ptr::null_mut();
        let rc = ffi::sqlite3_open_v2(
            dest_c.as_ptr(),
            &mut dst,
            ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE,
            std::ptr::null(),
        );
        if rc != ffi::SQLITE_OK {
            ffi::sqlite3_close(dst);
            return Err(StoreError::Unsupported(format!(
                "cannot create {} (SQLite error {rc})",
                dest.display()
            )));
        }
        let main = c"main";
        let b = ffi::sqlite3_backup_init(dst, main.as_ptr(), src, main.as_ptr());
        if b.is_null() {
            let code = ffi::sqlite3_errcode(dst);
            ffi::sqlite3_close(dst);
            return Err(StoreError::Unsupported(format!(
                "cannot start the backup into {} (SQLite error {code})",
                dest.display()
            )));
        }
        let mut rc;
        let mut waits = 0;
        loop {
            rc = ffi::sqlite3_backup_step(b, -1);
            if (rc == ffi::SQLITE_BUSY || rc == ffi::SQLITE_LOCKED) && waits < 200 {
                waits += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
                continue;
            }
            break;
        }
        ffi::sqlite3_backup_finish(b);
        let closed = ffi::sqlite3_close(dst);
        if rc != ffi::SQLITE_DONE {
            return Err(StoreError::Unsupported(format!(
                "the backup into {} failed (SQLite error {rc})",
                dest.display()
            )));
        }
        if closed != ffi::SQLITE_OK {
            return Err(StoreError::Unsupported(format!(
                "cannot close {} (SQLite error {closed})",
                dest.display()
            )));
        }
    }
    Ok(())
}

/// Puts the backup `from` in place as the database at `target` (`DATA_DIR/tessera.db` or a
/// `sqlite:PATH`). Refuses when `target` exists unless `replace`; then the old file is kept
/// beside it as `…before-restore`. The service must not be running on `target`.
pub async fn restore(from: &Path, target: &Path, replace: bool) -> Result<Summary, StoreError> {
    let summary = inspect(from).await?;
    if target.exists() && !replace {
        return Err(StoreError::Unsupported(format!(
            "{} already exists; stop the service and restore with --replace to put the backup \
             in its place (the old file is kept beside it)",
            target.display()
        )));
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io("cannot create", dir, e))?;
    }
    let partial = temporary(target);
    std::fs::copy(from, &partial).map_err(|e| io("cannot write", &partial, e))?;
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("cannot sync", &partial, e))?;
    if target.exists() {
        let mut old = target.as_os_str().to_os_string();
        old.push(".before-restore");
        std::fs::rename(target, &old).map_err(|e| io("cannot move aside", target, e))?;
    }
    // The old database's write-ahead log belongs to the old file.
    for ext in ["-wal", "-shm"] {
        let mut side = target.as_os_str().to_os_string();
        side.push(ext);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
    std::fs::rename(&partial, target).map_err(|e| io("cannot write", target, e))?;
    Ok(summary)
}

/// The SQLite file a `--database-url`/`--data-dir` pair names, or the PostgreSQL note.
pub fn sqlite_path(url: Option<&str>, data_dir: &Path) -> Result<PathBuf, StoreError> {
    match url {
        None => Ok(data_dir.join("tessera.db")),
        Some(u) if u.starts_with("sqlite:") => {
            let opts = SqliteConnectOptions::from_str(u)?;
            Ok(opts.get_filename().to_path_buf())
        }
        Some(_) => Err(postgres_note()),
    }
}
