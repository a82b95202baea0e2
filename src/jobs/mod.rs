//! Background jobs: the loop every instance runs, the lease that lets one
//! instance at a time do a job's work, and the list of jobs. Each job is
//! owned by its feature (`schedule::job` extends series, `tickets::jobs`
//! closes resolved tickets); housekeeping of shared tables lives here.
//!
//! Adding a job: write `fn job(...) -> Job` next to the feature it serves
//! (a name that is also its lease, an interval, and the work), add it to
//! `startup::jobs` (the one list, like the routes), and give its interval a
//! configuration key. See
//! docs/architecture.md, "How to add a job".

pub mod lease;

use std::time::Duration;

use chrono::Utc;

use crate::db::{DbConnection, Pool};
use crate::error::AppError;

/// How long a claimed lease lasts: longer than any job's run.
const LEASE_MINUTES: i64 = 10;

/// The work a job does once it holds its lease: the number of things done.
pub type Work = Box<dyn Fn(&mut DbConnection) -> Result<usize, AppError> + Send + Sync>;

/// One background job.
pub struct Job {
    /// Its name in logs, and the name of its lease.
    pub name: &'static str,
    /// How often each instance tries it; zero turns it off.
    pub every: Duration,
    pub run: Work,
}

/// Runs the job if this holder wins its lease: `None` when another instance
/// holds it, otherwise what the job did. The lease is released either way.
pub fn run_once(
    conn: &mut DbConnection,
    job: &Job,
    holder: &str,
) -> Result<Option<usize>, AppError> {
    lease::ensure(conn, job.name)?;
    let until = Utc::now().naive_utc() + chrono::Duration::minutes(LEASE_MINUTES);
    if !lease::claim(conn, job.name, holder, until)? {
        return Ok(None);
    }
    let result = (job.run)(conn);
    lease::release(conn, job.name, holder)?;
    result.map(Some)
}

/// The job loops of this instance, so that a shutdown can stop them.
pub struct Running {
    stop: tokio::sync::watch::Sender<bool>,
    loops: Vec<tokio::task::JoinHandle<()>>,
    pool: Pool,
    holder: String,
}

/// How a shutdown left the jobs.
#[derive(Debug, PartialEq, Eq)]
pub enum Stopped {
    /// No job was running, or every running one finished (and released its
    /// lease) within the grace period.
    Finished,
    /// A job still ran when the grace period ended: this instance gave up
    /// its leases so another instance can take the work at once instead of
    /// waiting for them to run out. What the job had not committed is rolled
    /// back with its connection.
    GaveUp,
}

impl Running {
    /// Starts no new run, waits up to `grace` for a running job to finish,
    /// and otherwise gives up this instance's leases.
    pub async fn stop(self, grace: Duration) -> Stopped {
        let _ = self.stop.send(true);
        let all = async {
            for running in self.loops {
                let _ = running.await;
            }
        };
        if tokio::time::timeout(grace, all).await.is_ok() {
            return Stopped::Finished;
        }
        let (pool, holder) = (self.pool, self.holder);
        let released = tokio::task::spawn_blocking(move || -> Result<usize, AppError> {
            let mut conn = pool.get().map_err(AppError::PoolExhausted)?;
            Ok(lease::release_all(&mut conn, &holder)?)
        })
        .await;
        match released {
            Ok(Ok(n)) => {
                tracing::warn!(leases = n, "a job was still running: its lease is given up")
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "a job was still running and its lease could not be given up: it runs out by itself")
            }
            Err(e) => tracing::error!(error = %e, "giving up the leases panicked"),
        }
        Stopped::GaveUp
    }
}

/// Starts one loop per job (each at its own interval) until `Running::stop`.
/// Nothing starts when `jobs.enabled` is off.
pub fn spawn(pool: Pool, enabled: bool, jobs: Vec<Job>) -> Running {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let holder = uuid::Uuid::new_v4().to_string();
    let mut loops = Vec::new();
    for job in jobs {
        if !enabled || job.every.is_zero() {
            continue;
        }
        let (pool, holder) = (pool.clone(), holder.clone());
        let mut stopped = stopped.clone();
        let job = std::sync::Arc::new(job);
        loops.push(tokio::spawn(async move {
            let mut ticker = tokio::time::interval(job.every);
            loop {
                tokio::select! {
                    biased;
                    _ = stopped.wait_for(|stop| *stop) => break,
                    _ = ticker.tick() => {}
                }
                let (pool, holder, this) = (pool.clone(), holder.clone(), job.clone());
                // Once started, a run is not cancelled: the shutdown waits
                // for it (or gives up its lease).
                let run = tokio::task::spawn_blocking(move || {
                    let mut conn = pool.get().map_err(AppError::PoolExhausted)?;
                    run_once(&mut conn, &this, &holder)
                })
                .await;
                crate::metrics::observe_job(
                    job.name,
                    match &run {
                        Ok(Ok(Some(_))) => "ok",
                        Ok(Ok(None)) => "skipped",
                        _ => "failed",
                    },
                );
                match run {
                    Ok(Ok(Some(done))) if done > 0 => {
                        tracing::info!(job = job.name, done, "job ran")
                    }
                    Ok(Ok(Some(_))) => tracing::debug!(job = job.name, "job ran, nothing to do"),
                    Ok(Ok(None)) => {
                        tracing::debug!(job = job.name, "another instance holds the lease")
                    }
                    Ok(Err(e)) => tracing::warn!(job = job.name, error = %e, "job failed"),
                    Err(e) => tracing::error!(job = job.name, error = %e, "job panicked"),
                }
            }
        }));
    }
    Running {
        stop,
        loops,
        pool,
        holder,
    }
}

pub const HOUSEKEEPING_LEASE: &str = "housekeeping";

/// Housekeeping of shared tables (idempotency keys, login failures).
pub fn housekeeping_job(interval_secs: u64) -> Job {
    Job {
        name: HOUSEKEEPING_LEASE,
        every: Duration::from_secs(interval_secs),
        run: Box::new(|conn| housekeeping(conn).map(|(keys, failures)| keys + failures)),
    }
}

/// Forgets idempotency keys older than a week, login failures older than a
/// day and known login clients unseen for a year (longer than any sensible
/// `known_client_days`). Plain deletes: safe on every instance at once, run
/// under a lease all the same so the work is done once.
pub fn housekeeping(conn: &mut DbConnection) -> Result<(usize, usize), AppError> {
    use crate::db::schema::{idempotency_keys, login_failures};
    use diesel::prelude::*;
    let now = Utc::now().naive_utc();
    let keys = diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::created_at.lt(now - chrono::Duration::days(7))),
    )
    .execute(conn)?;
    let failures = diesel::delete(
        login_failures::table.filter(login_failures::failed_at.lt(now - chrono::Duration::days(1))),
    )
    .execute(conn)?;
    diesel::delete(crate::db::schema::known_login_clients::table.filter(
        crate::db::schema::known_login_clients::last_login_at.lt(now - chrono::Duration::days(366)),
    ))
    .execute(conn)?;
    Ok((keys, failures))
}
