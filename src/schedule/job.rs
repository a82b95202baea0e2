//! The job that keeps every series' sessions stored up to the horizon. The
//! jobs loop (`crate::jobs`) runs it on one instance at a time.

use std::time::Duration;

use chrono::Utc;

use super::queries;
use super::service::{self, Context, SessionsAdded};
use crate::config::ScheduleSettings;
use crate::db::{DbConnection, write_tx};
use crate::error::AppError;
use crate::jobs::{self, Job};

pub const LEASE: &str = "extend_sessions";

/// Extends every series that falls short of the horizon. `None` when another
/// instance holds the lease; otherwise the number of sessions added.
pub fn extend_all(
    conn: &mut DbConnection,
    settings: &ScheduleSettings,
    hooks: Hooks,
    holder: &str,
) -> Result<Option<usize>, AppError> {
    jobs::run_once(conn, &job(settings, hooks), holder)
}

/// What the layers above add to the sessions the job stores.
#[derive(Debug, Clone, Copy)]
pub struct Hooks {
    pub loaner_turnaround_minutes: i64,
    pub on_sessions_added: SessionsAdded,
}

/// The job as the jobs loop runs it.
pub fn job(settings: &ScheduleSettings, hooks: Hooks) -> Job {
    let settings = settings.clone();
    Job {
        name: LEASE,
        every: Duration::from_secs(settings.extend_interval_secs),
        run: Box::new(move |conn| extend_claimed(conn, &settings, hooks)),
    }
}

fn extend_claimed(
    conn: &mut DbConnection,
    settings: &ScheduleSettings,
    hooks: Hooks,
) -> Result<usize, AppError> {
    // Timezones differ by organisation; a day of slack covers them all.
    let latest_end =
        Utc::now().date_naive() + chrono::Duration::days(i64::from(settings.horizon_days) + 1);
    let candidates = queries::series_to_extend(conn, latest_end)?;
    let mut added = 0;
    for candidate in candidates {
        let outcome = write_tx(conn, |conn| {
            let ctx = Context {
                organisation: candidate.organisation_id,
                actor: None,
                tz: crate::calendar::timezone(conn, candidate.organisation_id)?,
                horizon_days: settings.horizon_days,
                max_sessions: settings.max_sessions_per_series,
                loaner_turnaround_minutes: hooks.loaner_turnaround_minutes,
                on_sessions_added: hooks.on_sessions_added,
                on_session_moved: service::nobody_to_tell,
            };
            // Re-read inside the transaction: an edit may have run meanwhile.
            let Some(mut row) =
                queries::find_series(conn, candidate.organisation_id, candidate.id)?
            else {
                return Ok(0);
            };
            let through = ctx.horizon_end();
            if row.materialized_until >= through {
                return Ok(0);
            }
            let exceptions = queries::exception_dates(conn, row.id)?;
            let instructors = queries::series_instructor_ids(conn, row.id)?;
            let report =
                service::sync_series(conn, &ctx, &mut row, &exceptions, &instructors, through)?;
            if !report.added.is_empty() {
                crate::audit::record(
                    conn,
                    crate::audit::Actor::system(row.organisation_id),
                    "series.extend",
                    "series",
                    row.id.to_string(),
                    format!("{} sessions added up to {through}", report.added.len()),
                )?;
            }
            Ok::<_, AppError>(report.added.len())
        });
        match outcome {
            Ok(n) => added += n,
            // One broken series must not stop the others.
            Err(e) => {
                tracing::warn!(series_id = %candidate.id, error = %e, "could not extend series")
            }
        }
    }
    Ok(added)
}
