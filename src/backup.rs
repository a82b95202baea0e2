//! Backups of the embedded SQLite database (PostgreSQL: `pg_dump`, see
//! docs/operations.md).
//!
//! - `backup_to` takes a consistent copy of a live database with `VACUUM
//!   INTO` (one read transaction: every transaction committed before it
//!   started is in the copy, none after; writers go on meanwhile in WAL).
//! - `restore_from` puts a copy back, refusing while a server runs on the
//!   file (each server holds a shared lock on `<file>.lock` for its life,
//!   `ServerLock`; a restore needs it exclusively) and keeping the replaced
//!   file aside.
//! - The `nightly_backups` job writes `madoguchi-<time>.db` into
//!   `backup.dir` every `backup.interval_hours` and keeps the newest
//!   `backup.keep`.
//! - Before migrations are applied to an existing file, a copy is taken
//!   (`before_migrations`).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::Utc;
use diesel::prelude::*;

/// The file of a SQLite database URL (`sqlite://` stripped); `None` for
/// PostgreSQL.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return None;
    }
    Some(PathBuf::from(url.strip_prefix("sqlite://").unwrap_or(url)))
}

fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

fn flock(file: &File, exclusive: bool) -> bool {
    use std::os::fd::AsRawFd;
    let op = if exclusive {
        libc::LOCK_EX
    } else {
        libc::LOCK_SH
    } | libc::LOCK_NB;
    // SAFETY: flock on a descriptor we own; no memory is passed.
    unsafe { libc::flock(file.as_raw_fd(), op) == 0 }
}

/// Held by a running server: a shared lock on `<db>.lock`, released when
/// the process ends (whatever the way it ends).
pub struct ServerLock(#[allow(dead_code)] File);

impl ServerLock {
    pub fn take(db: &Path) -> anyhow::Result<ServerLock> {
        if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let path = lock_path(db);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        if !flock(&file, false) {
            bail!(
                "{} is being restored: start the server again when it is done",
                db.display()
            );
        }
        Ok(ServerLock(file))
    }
}

fn open(db: &Path) -> anyhow::Result<SqliteConnection> {
    let mut conn = SqliteConnection::establish(&db.to_string_lossy())
        .with_context(|| format!("cannot open {}", db.display()))?;
    diesel::sql_query("PRAGMA busy_timeout = 10000").execute(&mut conn)?;
    Ok(conn)
}

fn quoted(path: &Path) -> String {
    format!("'{}'", path.to_string_lossy().replace('\'', "''"))
}

/// A consistent copy of the live database `db` into the new file `to`.
pub fn backup_to(db: &Path, to: &Path) -> anyhow::Result<()> {
    if to.exists() {
        bail!("{} exists already: name a new file", to.display());
    }
    if !db.exists() {
        bail!("{} does not exist", db.display());
    }
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut conn = open(db)?;
    diesel::sql_query(format!("VACUUM INTO {}", quoted(to)))
        .execute(&mut conn)
        .with_context(|| format!("backup into {} failed", to.display()))?;
    Ok(())
}

/// Checks that `file` is a sound madoguchi database: SQLite's integrity
/// check passes and it has the migrations table.
fn check_database(file: &Path) -> anyhow::Result<()> {
    #[derive(QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = open(file)?;
    let check: Check = diesel::sql_query("PRAGMA integrity_check")
        .get_result(&mut conn)
        .with_context(|| format!("{} is not a SQLite database", file.display()))?;
    if check.integrity_check != "ok" {
        bail!("{} is damaged: {}", file.display(), check.integrity_check);
    }
    let tables: Count = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '__diesel_schema_migrations'",
    )
    .get_result(&mut conn)?;
    if tables.n == 0 {
        bail!("{} is not a madoguchi database", file.display());
    }
    Ok(())
}

/// Puts the copy `from` in place of `db`. Refuses while a server runs on
/// `db`; the replaced file (with its WAL) is kept aside as
/// `<db>.replaced-<time>`, whose path is returned.
pub fn restore_from(db: &Path, from: &Path) -> anyhow::Result<Option<PathBuf>> {
    check_database(from)?;
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path(db))?;
    if !flock(&lock, true) {
        bail!(
            "a madoguchi server is running on {}: stop it first (systemctl stop madoguchi)",
            db.display()
        );
    }
    let stamp = Utc::now().format("%Y%m%d-%H%M%S");
    let mut aside = None;
    if db.exists() {
        // Fold the WAL into the file first, so the file kept aside is whole.
        if let Ok(mut conn) = open(db) {
            let _ = diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut conn);
        }
        let mut name = db.as_os_str().to_owned();
        name.push(format!(".replaced-{stamp}"));
        let kept = PathBuf::from(name);
        std::fs::rename(db, &kept)?;
        aside = Some(kept);
    }
    for suffix in ["-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
    let mut partial = db.as_os_str().to_owned();
    partial.push(".restoring");
    let partial = PathBuf::from(partial);
    std::fs::copy(from, &partial)?;
    std::fs::rename(&partial, db)?;
    drop(lock);
    Ok(aside)
}

/// Backups of the folder, oldest first.
fn backups_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("madoguchi-") && n.ends_with(".db"))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Takes one backup into `dir` and keeps the newest `keep`.
pub fn rotate(db: &Path, dir: &Path, keep: usize) -> anyhow::Result<PathBuf> {
    let to = dir.join(format!(
        "madoguchi-{}.db",
        Utc::now().format("%Y%m%d-%H%M%S%.3f")
    ));
    backup_to(db, &to)?;
    let files = backups_in(dir);
    let surplus = files.len().saturating_sub(keep.max(1));
    for old in &files[..surplus] {
        std::fs::remove_file(old)?;
    }
    Ok(to)
}

/// Before migrations change an existing SQLite file: a copy into
/// `dir/before-migrations-<time>.db`. `None` when there is nothing to keep.
pub fn before_migrations(db: &Path, dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    if std::fs::metadata(db).map_or(true, |m| m.len() == 0) {
        return Ok(None);
    }
    let to = dir.join(format!(
        "before-migrations-{}.db",
        Utc::now().format("%Y%m%d-%H%M%S%.3f")
    ));
    backup_to(db, &to)?;
    Ok(Some(to))
}

/// The job: a backup every `interval_hours` into `dir`, the newest `keep`
/// kept. SQLite only; its lease makes one instance do it.
pub fn job(db: Option<PathBuf>, settings: &crate::config::BackupSettings) -> crate::jobs::Job {
    let dir = PathBuf::from(&settings.dir);
    let keep = settings.keep;
    crate::jobs::Job {
        name: "nightly_backups",
        every: match db {
            Some(_) => Duration::from_secs(settings.interval_hours * 3600),
            None => Duration::ZERO,
        },
        run: Box::new(move |_conn| {
            let Some(db) = &db else { return Ok(0) };
            let file = rotate(db, &dir, keep).map_err(crate::error::AppError::Internal)?;
            tracing::info!(file = %file.display(), "backup written");
            Ok(1)
        }),
    }
}
