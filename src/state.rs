//! What every handler shares: the pool, the settings and the token keys.

use std::sync::Arc;

use actix_web::web;

use crate::auth::jwt::JwtKeys;
use crate::config::Settings;
use std::time::Duration;

use crate::db::{Backend, DbConnection, Pool};
use crate::error::{AppError, AppResult};

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub settings: Arc<Settings>,
    pub jwt: Arc<JwtKeys>,
    /// Runs after a series edit stored new sessions (enrolments keep their
    /// promise); set by `startup` so the schedule need not know bookings.
    pub on_sessions_added: crate::schedule::service::SessionsAdded,
    /// Runs after a session moved (its residents are told); set by `startup`.
    pub on_session_moved: crate::schedule::service::SessionMoved,
    /// Availability list pages kept for a moment (`schedule.list_cache_ms`).
    pub list_cache: Arc<crate::schedule::list_cache::ListCache>,
    /// Bookings of one session sharing a commit (`bookings::group`).
    pub booking_groups: Arc<crate::bookings::group::Groups>,
    /// One permit per pooled connection: requests wait for a connection
    /// here, as futures, instead of as blocking threads parked on the
    /// pool's lock (a burst of a thousand made a thousand such threads).
    pub db_slots: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// Runs blocking database work on the blocking thread pool with a pooled
    /// connection. A pool that cannot give a connection is a 503, not a panic.
    pub async fn db<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let wait = Duration::from_millis(self.settings.database.acquire_timeout_ms);
        let slot = crate::metrics::waiting_for_connection(tokio::time::timeout(
            wait,
            self.db_slots.clone().acquire_owned(),
        ))
        .await
        .map_err(|_| AppError::Busy)?
        .map_err(|_| AppError::Busy)?;
        let work = web::block(move || {
            let _slot = slot;
            let mut conn = pool.get().map_err(AppError::PoolExhausted)?;
            f(&mut conn)
        });
        let deadline = self.settings.database.request_timeout_ms;
        let done = if deadline > 0 && self.is_postgres() {
            // A PostgreSQL that stops answering must not hold the request:
            // libpq's timeouts cover a broken network, this covers the rest.
            // The blocking work may still finish later; 503 promises nothing
            // either way, and retries are safe through idempotency keys.
            tokio::time::timeout(Duration::from_millis(deadline), work)
                .await
                .map_err(|_| AppError::DatabaseTimeout)?
        } else {
            work.await
        };
        done.map_err(|e| AppError::Internal(anyhow::anyhow!("blocking task failed: {e}")))?
    }

    /// `db` with the work inside one write transaction (`db::write_tx`):
    /// what every handler that changes something runs.
    pub async fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.db(move |conn| crate::db::write_tx(conn, f)).await
    }

    pub fn is_postgres(&self) -> bool {
        Backend::from_url(&self.settings.database.url) == Backend::Postgres
    }
}

/// Runs CPU-heavy work (password hashing) off the async threads.
pub async fn blocking<T, F>(f: F) -> AppResult<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    web::block(f)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking task failed: {e}")))
}
