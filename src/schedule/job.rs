//! The job that keeps every series' sessions stored up to the horizon.
//! Every instance runs it; a lease in the database lets one instance work at
//! a time, and a crashed holder's lease simply expires.

use std::time::Duration;

use chrono::Utc;

use super::queries;
use super::service::{self, Context};
use crate::audit::{self, AuditEntry};
use crate::config::ScheduleSettings;
use crate::db::{DbConnection, Pool, write_tx};
use crate::error::AppError;

pub const LEASE: &str = "extend_sessions";
const LEASE_MINUTES: i64 = 10;

/// Extends every series that falls short of the horizon. `None` when another
/// instance holds the lease; otherwise the number of sessions added.
pub fn extend_all(
    conn: &mut DbConnection,
    settings: &ScheduleSettings,
    holder: &str,
) -> Result<Option<usize>, AppError> {
    let until = Utc::now().naive_utc() + chrono::Duration::minutes(LEASE_MINUTES);
    if !queries::claim_lease(conn, LEASE, holder, until)? {
        return Ok(None);
    }
    let result = extend_claimed(conn, settings);
    queries::release_lease(conn, LEASE, holder)?;
    result.map(Some)
}

fn extend_claimed(conn: &mut DbConnection, settings: &ScheduleSettings) -> Result<usize, AppError> {
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
                audit::record(
                    conn,
                    AuditEntry {
                        organisation_id: row.organisation_id,
                        actor_id: None,
                        action: "series.extend",
                        entity: "series",
                        entity_id: row.id.to_string(),
                        summary: format!("{} sessions added up to {through}", report.added.len()),
                    },
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

/// Closes tickets resolved more than `days` ago, under its own lease.
pub fn close_resolved_tickets(
    conn: &mut DbConnection,
    days: i64,
    holder: &str,
) -> Result<Option<usize>, AppError> {
    const TICKET_LEASE: &str = "close_tickets";
    let until = Utc::now().naive_utc() + chrono::Duration::minutes(LEASE_MINUTES);
    if !queries::claim_lease(conn, TICKET_LEASE, holder, until)? {
        return Ok(None);
    }
    let cutoff = Utc::now().naive_utc() - chrono::Duration::days(days);
    let result = write_tx(conn, |conn| {
        Ok::<_, AppError>(crate::tickets::queries::close_resolved_before(conn, cutoff)?.len())
    });
    queries::release_lease(conn, TICKET_LEASE, holder)?;
    result.map(Some)
}

/// Forgets idempotency keys older than a week, login failures older than a
/// day and known login clients unseen for a year (longer than any sensible
/// `known_client_days`). Plain deletes: safe on every instance at once.
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

/// Runs the jobs now and then every `extend_interval_secs`, until the process ends.
pub fn spawn(pool: Pool, settings: ScheduleSettings, ticket_close_days: i64) {
    if settings.extend_interval_secs == 0 {
        return;
    }
    let holder = uuid::Uuid::new_v4().to_string();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_secs(settings.extend_interval_secs));
        loop {
            ticker.tick().await;
            let (pool, settings, holder) = (pool.clone(), settings.clone(), holder.clone());
            let run = tokio::task::spawn_blocking(move || {
                let mut conn = pool.get().map_err(AppError::PoolExhausted)?;
                if let Err(e) = housekeeping(&mut conn) {
                    tracing::warn!(error = %e, "housekeeping failed");
                }
                if let Err(e) = close_resolved_tickets(&mut conn, ticket_close_days, &holder) {
                    tracing::warn!(error = %e, "closing resolved tickets failed");
                }
                extend_all(&mut conn, &settings, &holder)
            })
            .await;
            match run {
                Ok(Ok(Some(added))) if added > 0 => tracing::info!(added, "series extended"),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "extending series failed"),
                Err(e) => tracing::error!(error = %e, "extending series panicked"),
            }
        }
    });
}
