//! Database access shared by every feature: the connection type that spans
//! SQLite and PostgreSQL, the pool, write transactions and migrations.

mod ids;
pub mod locks;
pub mod schema;
pub mod text_enum;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use ids::{
    AccountId, AuthSessionId, BookingId, ClosureId, CourseEnrolmentId, CourseId, DeviceId,
    EnrolmentConflictId, EnrolmentId, LoanId, OrganisationId, PaymentId, ProgrammeId, ResidentId,
    SeriesId, SessionId, TicketId, VenueId,
};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection type for both databases: every query in the crate is
/// written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// The database back-end a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn from_url(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// Builds connections for r2d2 and keeps the real connection error, which the
/// derived `MultiConnection::establish` would hide.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: String,
    backend: Backend,
    busy_timeout_ms: u32,
}

impl ConnectionManager {
    pub fn new(url: &str, busy_timeout_ms: u32) -> Self {
        let backend = Backend::from_url(url);
        let url = match backend {
            Backend::Sqlite => url.strip_prefix("sqlite://").unwrap_or(url).to_owned(),
            Backend::Postgres => url.to_owned(),
        };
        Self {
            url,
            backend,
            busy_timeout_ms,
        }
    }

    fn connect(&self) -> ConnectionResult<DbConnection> {
        match self.backend {
            Backend::Postgres => PgConnection::establish(&self.url).map(DbConnection::Pg),
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.url)?;
                // WAL lets readers proceed while one writer writes; the busy
                // timeout makes a second writer wait instead of failing.
                // busy_timeout first: switching to WAL takes a lock that
                // connections opened at the same moment compete for.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                    self.busy_timeout_ms
                ))
                .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        ConnectionManager::connect(self).map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    /// Whether a connection coming back to the pool must be dropped: it
    /// is still inside a transaction (work that panicked), or a query on
    /// this thread just failed as a lost connection does. Connections are
    /// not pinged on every check-out (that is a round trip per request, see
    /// docs/benchmarks.md); a dead one fails one request with 503 and is
    /// dropped here, and idle ones are replaced after `pool_idle_timeout_secs`.
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        type Tm = <DbConnection as Connection>::TransactionManager;
        let saw_broken = BROKEN.with(|b| b.replace(false));
        let in_transaction = !matches!(
            Tm::transaction_manager_status_mut(conn).transaction_depth(),
            Ok(None)
        );
        saw_broken || in_transaction
    }
}

thread_local! {
    /// A query on this thread failed as a lost connection does.
    static BROKEN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks the connection in use on this thread as lost (see `has_broken`).
pub fn note_broken_connection() {
    BROKEN.with(|b| b.set(true));
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConn = PooledConnection<ConnectionManager>;

/// Network and statement limits for PostgreSQL connections, so a database
/// that stops answering fails requests within seconds instead of hanging.
#[derive(Debug, Clone, Copy)]
pub struct PgTimeouts {
    pub connect_timeout_secs: u32,
    pub statement_timeout_ms: u32,
    pub tcp_user_timeout_ms: u32,
}

/// Adds libpq's timeout and keepalive parameters to a PostgreSQL URL; a
/// parameter the URL already sets is left as it is.
pub fn with_pg_timeouts(url: &str, t: PgTimeouts) -> String {
    let params = [
        ("connect_timeout", t.connect_timeout_secs.to_string()),
        ("keepalives", "1".to_owned()),
        ("keepalives_idle", "10".to_owned()),
        ("keepalives_interval", "2".to_owned()),
        ("keepalives_count", "3".to_owned()),
        ("tcp_user_timeout", t.tcp_user_timeout_ms.to_string()),
        (
            "options",
            format!("-c%20statement_timeout%3D{}", t.statement_timeout_ms),
        ),
    ];
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    let present: Vec<&str> = query
        .split('&')
        .filter_map(|kv| kv.split('=').next())
        .collect();
    let mut out = url.to_owned();
    for (name, value) in params {
        if present.contains(&name) {
            continue;
        }
        out.push(if out.contains('?') { '&' } else { '?' });
        out.push_str(&format!("{name}={value}"));
    }
    out
}

/// Opens the pool with the settings' limits (PostgreSQL timeouts included).
pub fn connect_pool_from(settings: &crate::config::DatabaseSettings) -> anyhow::Result<Pool> {
    let url = match Backend::from_url(&settings.url) {
        Backend::Postgres => with_pg_timeouts(
            &settings.url,
            PgTimeouts {
                connect_timeout_secs: settings.connect_timeout_secs,
                statement_timeout_ms: settings.statement_timeout_ms,
                tcp_user_timeout_ms: settings.tcp_user_timeout_ms,
            },
        ),
        Backend::Sqlite => settings.url.clone(),
    };
    let manager = ConnectionManager::new(&url, settings.sqlite_busy_timeout_ms);
    prepare_sqlite_dir(&manager)?;
    Ok(r2d2::Pool::builder()
        .max_size(settings.pool_size)
        .min_idle(Some(settings.pool_min_idle.min(settings.pool_size)))
        .test_on_check_out(false)
        .idle_timeout(Some(Duration::from_secs(
            settings.pool_idle_timeout_secs.max(1),
        )))
        .connection_timeout(Duration::from_millis(settings.acquire_timeout_ms))
        .build(manager)?)
}

fn prepare_sqlite_dir(manager: &ConnectionManager) -> anyhow::Result<()> {
    if manager.backend == Backend::Sqlite
        && let Some(parent) = std::path::Path::new(&manager.url).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)?;
    }
    Ok(())
}

/// Opens the pool; for SQLite the parent directory of the file is created.
pub fn connect_pool(
    url: &str,
    max_size: u32,
    acquire_timeout: Duration,
    busy_timeout_ms: u32,
) -> anyhow::Result<Pool> {
    let manager = ConnectionManager::new(url, busy_timeout_ms);
    prepare_sqlite_dir(&manager)?;
    // No idle minimum: connections are opened when asked for, never in the
    // background — a short-lived command must not exit while a pool thread
    // is still connecting (libpq's TLS clean-up at exit then crashes).
    let pool = r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(0))
        .connection_timeout(acquire_timeout)
        .build(manager)?;
    Ok(pool)
}

/// Applies every pending migration of the live back-end.
pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<usize> {
    let applied = match conn {
        DbConnection::Pg(c) => c
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?
            .len(),
        DbConnection::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?
            .len(),
    };
    Ok(applied)
}

/// The migrations not yet applied, by name, in the order they would run.
pub fn pending_migrations(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let names = match conn {
        DbConnection::Pg(c) => c
            .pending_migrations(POSTGRES_MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .iter()
            .map(|m| m.name().to_string())
            .collect(),
        DbConnection::Sqlite(c) => c
            .pending_migrations(SQLITE_MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .iter()
            .map(|m| m.name().to_string())
            .collect(),
    };
    Ok(names)
}

/// How many migrations the database has applied (0: a new database).
pub fn applied_migration_count(conn: &mut DbConnection) -> anyhow::Result<usize> {
    let n = match conn {
        DbConnection::Pg(c) => c.applied_migrations().map(|m| m.len()),
        DbConnection::Sqlite(c) => c.applied_migrations().map(|m| m.len()),
    };
    n.map_err(|e| anyhow::anyhow!("{e}"))
}

/// Reverts the newest migration (tests of upgrades).
pub fn revert_last_migration(conn: &mut DbConnection) -> anyhow::Result<()> {
    match conn {
        DbConnection::Pg(c) => c.revert_last_migration(POSTGRES_MIGRATIONS).map(|_| ()),
        DbConnection::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS).map(|_| ()),
    }
    .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Reverts every migration and applies them again: proves each `down.sql`
/// undoes its `up.sql`.
pub fn redo_all_migrations(conn: &mut DbConnection) -> anyhow::Result<()> {
    let revert = |e| anyhow::anyhow!("revert failed: {e}");
    let apply = |e| anyhow::anyhow!("migration failed: {e}");
    match conn {
        DbConnection::Pg(c) => {
            c.revert_all_migrations(POSTGRES_MIGRATIONS)
                .map_err(revert)?;
            c.run_pending_migrations(POSTGRES_MIGRATIONS)
                .map_err(apply)?;
        }
        DbConnection::Sqlite(c) => {
            c.revert_all_migrations(SQLITE_MIGRATIONS).map_err(revert)?;
            c.run_pending_migrations(SQLITE_MIGRATIONS).map_err(apply)?;
        }
    }
    Ok(())
}

diesel::define_sql_function! {
    /// SQL `lower()`, for case-insensitive search on both databases.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Escapes `%`, `_` and `\` so user text matches literally in LIKE (with
/// `.escape('\\')`).
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The writer lock of one SQLite database file in this process.
fn sqlite_writer(inner: &mut SqliteConnection) -> QueryResult<Arc<Mutex<()>>> {
    #[derive(diesel::QueryableByName)]
    struct File {
        #[diesel(sql_type = diesel::sql_types::Text)]
        file: String,
    }
    static WRITERS: OnceLock<Mutex<HashMap<String, Arc<Mutex<()>>>>> = OnceLock::new();
    let file = diesel::sql_query("SELECT file FROM pragma_database_list WHERE name = 'main'")
        .get_result::<File>(inner)
        .map(|f| f.file)
        .unwrap_or_default();
    let mut writers = WRITERS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    Ok(writers.entry(file).or_default().clone())
}

static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many write transactions this process has committed. Read it before
/// reading what a cache keeps: an answer is fresh for this process while
/// the count is the same (`schedule::list_cache`).
pub fn writes_committed() -> u64 {
    WRITES.load(std::sync::atomic::Ordering::Acquire)
}

/// Runs `f` in a write transaction. On PostgreSQL it is a plain
/// transaction. On SQLite, which has one writer at a time, the writers of
/// this process first queue on an in-process lock per database file, then
/// start with `BEGIN IMMEDIATE` (so a transaction that reads before it
/// writes cannot fail with "database is locked" half-way): they wait their
/// turn on a mutex instead of polling and sleeping in SQLite's busy handler,
/// which is what made SQLite's p99 under load a second (docs/benchmarks.md).
/// The busy timeout still covers other processes (the CLI). Nested calls
/// become savepoints.
pub fn write_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    type Tm = <DbConnection as Connection>::TransactionManager;
    let top_level = Tm::transaction_manager_status_mut(conn)
        .transaction_depth()
        .map_err(E::from)?
        .is_none();
    let writer = match conn {
        DbConnection::Sqlite(inner) if top_level => Some(sqlite_writer(inner)?),
        _ => None,
    };
    let _turn = writer
        .as_ref()
        .map(|w| w.lock().unwrap_or_else(|e| e.into_inner()));
    match conn {
        DbConnection::Sqlite(inner) if top_level => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?
        }
        _ => Tm::begin_transaction(conn)?,
    }
    match f(conn) {
        Ok(value) => {
            if let Err(commit_err) = Tm::commit_transaction(conn) {
                // A failed commit leaves the transaction open; roll it back so
                // the pooled connection is clean for its next user.
                let _ = Tm::rollback_transaction(conn);
                return Err(commit_err.into());
            }
            if top_level {
                WRITES.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
            }
            Ok(value)
        }
        Err(err) => {
            Tm::rollback_transaction(conn)?;
            Err(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: PgTimeouts = PgTimeouts {
        connect_timeout_secs: 3,
        statement_timeout_ms: 5000,
        tcp_user_timeout_ms: 4000,
    };

    #[test]
    fn timeouts_are_added_to_a_plain_url() {
        assert_eq!(
            with_pg_timeouts("postgres://u@h/db", T),
            "postgres://u@h/db?connect_timeout=3&keepalives=1&keepalives_idle=10&keepalives_interval=2\
             &keepalives_count=3&tcp_user_timeout=4000&options=-c%20statement_timeout%3D5000"
        );
    }

    #[test]
    fn parameters_the_url_sets_are_kept() {
        let url = with_pg_timeouts("postgres://u@h/db?sslmode=require&connect_timeout=10", T);
        assert!(
            url.starts_with("postgres://u@h/db?sslmode=require&connect_timeout=10&keepalives=1")
        );
        assert_eq!(url.matches("connect_timeout").count(), 1);
    }
}
