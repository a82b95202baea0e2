//! Rules of a single session shared by the schedule's handlers and by the
//! features that act on sessions (bookings cancels a session with its
//! bookings): the session as answered, "still scheduled", cancelling.

use super::queries::{self, SessionChanges, SessionListRow};
use super::service::Context;
use super::types::{Session, SessionRow};
use crate::audit;
use crate::db::{DbConnection, SessionId};
use crate::error::{AppError, AppResult};

/// Turns rows into answers with their instructors: one more query per page.
pub fn answers(
    conn: &mut DbConnection,
    ctx: &Context,
    rows: Vec<SessionListRow>,
) -> AppResult<Vec<Session>> {
    let ids: Vec<SessionId> = rows.iter().map(|r| r.0.id).collect();
    let mut instructors = queries::instructors_of(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (course, venue) = queries::refs(&row);
            let teachers = instructors
                .remove(&row.0.id.to_string())
                .unwrap_or_default();
            Session::new(row.0, course, venue, teachers, &ctx.tz)
        })
        .collect())
}

pub fn one(conn: &mut DbConnection, ctx: &Context, id: SessionId) -> AppResult<Session> {
    let row = queries::session_with_names(conn, ctx.organisation, id)?
        .ok_or_else(|| AppError::not_found("session"))?;
    answers(conn, ctx, vec![row])?
        .pop()
        .ok_or_else(|| AppError::not_found("session"))
}

pub fn audit(
    conn: &mut DbConnection,
    ctx: &Context,
    action: &str,
    id: SessionId,
    summary: String,
) -> AppResult<()> {
    audit::write(
        conn,
        ctx.organisation,
        ctx.actor,
        action,
        "session",
        id,
        summary,
    )?;
    Ok(())
}

/// The session, if it is still scheduled (409 `invalid_state` otherwise).
pub fn scheduled(conn: &mut DbConnection, ctx: &Context, id: SessionId) -> AppResult<SessionRow> {
    let row = queries::find_session(conn, ctx.organisation, id)?
        .ok_or_else(|| AppError::not_found("session"))?;
    if row.status != "scheduled" {
        return Err(AppError::conflict(
            "invalid_state",
            format!("the session is {}", row.status),
        ));
    }
    Ok(row)
}

/// Marks a scheduled session cancelled, with its reason, and records it.
pub fn mark_cancelled(
    conn: &mut DbConnection,
    ctx: &Context,
    id: SessionId,
    reason: &str,
    bookings_cancelled: usize,
) -> AppResult<()> {
    queries::update_session(
        conn,
        id,
        SessionChanges {
            status: Some("cancelled".into()),
            cancel_reason: Some(Some(reason.to_owned())),
            ..Default::default()
        },
    )?;
    audit(
        conn,
        ctx,
        "session.cancel",
        id,
        format!("cancelled: {reason}; {bookings_cancelled} booking(s) cancelled"),
    )
}
